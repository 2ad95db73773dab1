# -*- coding: utf-8 -*-
# The one place where the xvf.xen modules run the xvf binary and read what it prints.
#
# Every xvf command that changes the host prints, with --json, exactly one object on standard output,
# whether it succeeded or was refused:
#   {"changed", "dry_run", "steps": [{"what", "target", "status", "detail", "content"?, "failure"?}],
#    "warnings", "messages", "error": null | {"kind", "message", "exit_code"}}
# The read-only commands (list, show, assignable list) print their own document with --json and, on
# failure, nothing on standard output and one "xvf: ..." line on standard error.
#
# Nothing here decides what xvf would do: device names, specs and host configs are passed to xvf as
# the user gave them, and the modules only compare what xvf reports.
#
# What the user gives never becomes an xvf option: positional values (devices, files, counts) follow a
# `--`, and option values are glued to their option (`--dom=NAME`), so a device named `--dry-run` is a
# device xvf does not know, not a dry run reported as a change on every run.
#
# A module's result is logged by Ansible and its callbacks: it carries no file's contents except in
# diff mode, and there the values of the xl.cfg keys that are passwords are masked.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re


def xvf_argument_spec(**options):
    """The options every xvf.xen module takes (root, xvf), plus the module's own."""
    spec = dict(
        root=dict(type='path', default='/'),
        xvf=dict(type='path', default='xvf'),
    )
    spec.update(options)
    return spec


def require_absolute_paths(module):
    """Fails the module when an option of type path is not an absolute path. A relative one would be
    taken from whatever directory the module happens to run in; `xvf` may also be a bare command name."""
    for name, spec in sorted(module.argument_spec.items()):
        value = module.params.get(name)
        if spec.get('type') != 'path' or value is None or os.path.isabs(value):
            continue
        if name == 'xvf' and os.sep not in value:
            continue
        module.fail_json(msg='%s must be an absolute path on the managed host, not %r' % (name, value))


# The xl.cfg keys xl.cfg(5) documents as passwords: vncpasswd (a setting of its own, and a key of a
# `vfb` spec) and spicepasswd.
SECRET_KEYS = ('vncpasswd', 'spicepasswd')
MASK = '********'
_SECRET = re.compile(r'\b(?:%s)\s*=[ \t]*' % '|'.join(SECRET_KEYS))


def _masked_line(line):
    out = []
    pos = 0
    quote = None  # the quote character of the string being scanned, None outside strings
    while True:
        found = _SECRET.search(line, pos)
        if not found:
            break
        for ch in line[pos:found.start()]:
            if quote is None and ch in '"\'':
                quote = ch
            elif ch == quote:
                quote = None
        start = end = found.end()
        if quote is None and line[start:start + 1] in ('"', "'"):
            # vncpasswd = "secret": the whole string, or the rest of the line when it is not closed there.
            close = line.find(line[start], start + 1)
            end = close + 1 if close >= 0 else len(line.rstrip('\r\n'))
            out.append(line[pos:start] + line[start] + MASK + line[start])
        else:
            # A key of a spec ('vnc=1,vncpasswd=secret,...') ends at the next comma or where its string ends.
            stops = ',;\r\n' + (quote or '')
            while end < len(line) and line[end] not in stops:
                end += 1
            out.append(line[pos:start] + MASK)
        pos = end
    out.append(line[pos:])
    return ''.join(out)


def mask_secrets(text):
    """text (a file, a diff, a message) with the value of every xl.cfg password key replaced by ********."""
    if not isinstance(text, str) or not _SECRET.search(text):
        return text
    return ''.join(_masked_line(line) for line in text.splitlines(True))


def empty_result():
    return dict(changed=False, dry_run=False, steps=[], warnings=[], messages=[], error=None)


class XVF(object):
    """Runs xvf for one module invocation and gathers what the module returns."""

    def __init__(self, module):
        require_absolute_paths(module)
        self.module = module
        self.root = module.params['root']
        self.check_mode = module.check_mode
        self.diff_mode = bool(getattr(module, '_diff', False))
        self.commands = []
        self._binary = None

    def nothing(self):
        """The result of a task that ran no changing command: what it wanted already holds."""
        result = empty_result()
        result['dry_run'] = self.check_mode
        return result

    # -- running -------------------------------------------------------------------------------

    @property
    def binary(self):
        if self._binary is None:
            name = self.module.params['xvf']
            if os.sep in name:
                if not (os.path.isfile(name) and os.access(name, os.X_OK)):
                    self.module.fail_json(msg='%s is not an executable file (the xvf option)' % name)
                self._binary = name
            else:
                self._binary = self.module.get_bin_path(name, required=True)
        return self._binary

    def argv(self, words, values=(), dry_run=False, json_output=True, content=False):
        """xvf's argument vector: the command and the module's options (`words`, whose user-given option
        values are glued on, `--dom=NAME`), then `--` and the user's positional `values`. `content` asks a
        changing command for the written files' content (xvf masks passwords in it)."""
        argv = [self.binary] + [str(w) for w in words] + ['--root=' + self.root]
        if dry_run:
            argv.append('--dry-run')
        if json_output:
            argv.append('--json')
        if content:
            argv.append('--show-content')
        if values:
            argv += ['--'] + [str(v) for v in values]
        return argv

    def _run(self, argv, record=True):
        if record:
            self.commands.append(argv)
        return self.module.run_command(argv, check_rc=False)

    @staticmethod
    def _stderr_line(err):
        lines = [line for line in (err or '').splitlines() if line.strip()]
        if not lines:
            return ''
        text = ' '.join(lines)
        return text[len('xvf: '):] if text.startswith('xvf: ') else text

    def run(self, words, values=(), dry_run=False, record=True):
        """Runs a command that changes the host (with --json) and returns its result object.

        A refusal is returned as xvf reported it (error set); only output that is not xvf's one JSON
        object fails the module here."""
        # Only diff mode shows files: only then is xvf asked for their content.
        argv = self.argv(words, values, dry_run=dry_run, content=self.diff_mode)
        rc, out, err = self._run(argv, record=record)
        try:
            result = json.loads(out)
        except ValueError:
            result = None
        if not isinstance(result, dict) or 'changed' not in result:
            self.module.fail_json(
                msg='%s (exit %d)' % (self._stderr_line(err) or 'xvf printed no JSON result', rc),
                rc=rc, stdout=out, stderr=err, cmd=argv, commands=self.commands)
        for key, value in empty_result().items():
            result.setdefault(key, value)
        if rc != 0 and not result.get('error'):
            result['error'] = dict(kind='failed', message='xvf exited %d' % rc, exit_code=rc)
        return result

    def query(self, words, values=(), required=True):
        """Runs a read-only command (list, show, assignable list) and returns its JSON document.

        When xvf refuses, the module fails with xvf's message (or, with required=False, gets None)."""
        argv = self.argv(words, values)
        rc, out, err = self._run(argv, record=False)
        if rc == 0:
            try:
                return json.loads(out)
            except ValueError:
                pass
        if not required:
            return None
        self.module.fail_json(msg=self._stderr_line(err) or ('xvf exited %d and printed no JSON' % rc),
                              rc=rc, stdout=out, stderr=err, cmd=argv)

    def help_text(self, words):
        """The --help text of a subcommand (to see which options this xvf has)."""
        rc, out, err = self.module.run_command([self.binary] + list(words) + ['--help'], check_rc=False)
        return out + err

    def probe(self, words, values=()):
        """The dry-run result of a command, to ask xvf itself a question such as "is this device
        attached to that domain" (release DEVICE --dom D plans a detach) or "is this device in the
        pci list" (cfg add FILE DEVICE would change nothing). Not listed in `commands`."""
        return self.run(words, values, dry_run=True, record=False)

    # -- changing the host ---------------------------------------------------------------------

    def change(self, words, values=(), files=None):
        """Runs a changing command, with --dry-run in check mode, and fails the module on a refusal.

        files: the host paths the command may write, read before it runs for the diff. When None and
        the task asks for a diff, a dry run first tells which files the command would write."""
        before = {}
        if self.diff_mode and not self.check_mode:
            if files is None:
                plan = self.run(words, values, dry_run=True, record=False)
                files = [s.get('target') for s in plan.get('steps', [])
                         if s.get('what') in ('file_write', 'file_remove')]
            for path in files:
                before[path] = self.read_host_file(path)
        result = self.run(words, values, dry_run=self.check_mode)
        if self.diff_mode:
            if self.check_mode:
                for step in result.get('steps', []):
                    if step.get('what') in ('file_write', 'file_remove'):
                        before[step.get('target')] = self.read_host_file(step.get('target'))
            result['diff'] = self.diffs(result, before)
        if result.get('error'):
            self.fail(result)
        return result

    # -- files under the root ------------------------------------------------------------------

    def host_path(self, path):
        """The real path of a host path (/etc/xen/web1.cfg) under --root."""
        return os.path.join(self.root, path.lstrip('/'))

    def read_host_file(self, path):
        try:
            with open(self.host_path(path), 'rb') as handle:
                return handle.read().decode('utf-8', 'replace')
        except (IOError, OSError):
            return ''

    def diffs(self, result, before):
        out = []
        for step in result.get('steps', []):
            what, target = step.get('what'), step.get('target')
            if what not in ('file_write', 'file_remove') or step.get('status') not in ('done', 'planned'):
                continue
            after = ''
            if what == 'file_write':
                # An xvf that leaves the content out of its steps: a written file is read back.
                after = step.get('content')
                if after is None:
                    after = self.read_host_file(target) if step.get('status') == 'done' else ''
            out.append(dict(before_header=target, after_header=target,
                            before=before.get(target, ''), after=after))
        return out

    # -- the module's result -------------------------------------------------------------------

    @staticmethod
    def merge(results):
        """One result of several xvf runs (the steps, warnings and messages of each, in order)."""
        merged = empty_result()
        merged['dry_run'] = any(r.get('dry_run') for r in results)
        diff = []
        for r in results:
            merged['changed'] = merged['changed'] or bool(r.get('changed'))
            for key in ('steps', 'warnings', 'messages'):
                merged[key].extend(r.get(key) or [])
            diff.extend(r.get('diff') or [])
            if r.get('error') and not merged['error']:
                merged['error'] = r['error']
        if diff:
            merged['diff'] = diff
        return merged

    def shown(self, result):
        """What of an xvf result goes into the module's result: a step's file content only in diff mode,
        and every text with the xl.cfg passwords masked."""
        steps = []
        for step in result.get('steps') or []:
            step = dict((key, mask_secrets(value)) for key, value in step.items())
            if not self.diff_mode:
                step.pop('content', None)
            steps.append(step)
        shown = dict(result, steps=steps, messages=[mask_secrets(m) for m in result.get('messages') or []],
                     warnings=[mask_secrets(w) for w in result.get('warnings') or []])
        if isinstance(result.get('error'), dict):
            shown['error'] = dict((key, mask_secrets(value)) for key, value in result['error'].items())
        if result.get('diff') is not None and self.diff_mode:
            diff = result['diff']
            masked = [dict((key, mask_secrets(value)) for key, value in d.items())
                      for d in (diff if isinstance(diff, list) else [diff])]
            shown['diff'] = masked if isinstance(diff, list) else masked[0]
        else:
            shown.pop('diff', None)
        return shown

    def fields(self, result):
        result = self.shown(result)
        fields = dict(
            steps=result['steps'],
            messages=result['messages'],
            xvf_warnings=result['warnings'],
            dry_run=bool(result.get('dry_run')),
            commands=self.commands,
        )
        if 'diff' in result:
            fields['diff'] = result['diff']
        return fields

    def _warn(self, result):
        for warning in result.get('warnings') or []:
            self.module.warn(mask_secrets(str(warning)))

    def fail(self, result, msg=None, **extra):
        error = self.shown(result).get('error') or {}
        self._warn(result)
        fields = self.fields(result)
        fields.update(extra)
        fields.pop('diff', None)
        self.module.fail_json(msg=mask_secrets(msg or error.get('message') or 'xvf failed'),
                              rc=error.get('exit_code', 1), error=error, **fields)

    def exit(self, result, changed=None, **extra):
        self._warn(result)
        fields = self.fields(result)
        fields.update(extra)
        self.module.exit_json(changed=bool(result.get('changed')) if changed is None else changed, **fields)
