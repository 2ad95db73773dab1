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

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os


def xvf_argument_spec(**options):
    """The options every xvf.xen module takes (root, xvf), plus the module's own."""
    spec = dict(
        root=dict(type='path', default='/'),
        xvf=dict(type='str', default='xvf'),
    )
    spec.update(options)
    return spec


def empty_result():
    return dict(changed=False, dry_run=False, steps=[], warnings=[], messages=[], error=None)


class XVF(object):
    """Runs xvf for one module invocation and gathers what the module returns."""

    def __init__(self, module):
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

    def argv(self, words, dry_run=False, json_output=True):
        argv = [self.binary] + [str(w) for w in words] + ['--root', self.root]
        if dry_run:
            argv.append('--dry-run')
        if json_output:
            argv.append('--json')
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

    def run(self, words, dry_run=False, record=True):
        """Runs a command that changes the host (with --json) and returns its result object.

        A refusal is returned as xvf reported it (error set); only output that is not xvf's one JSON
        object fails the module here."""
        argv = self.argv(words, dry_run=dry_run)
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

    def query(self, words, required=True):
        """Runs a read-only command (list, show, assignable list) and returns its JSON document.

        When xvf refuses, the module fails with xvf's message (or, with required=False, gets None)."""
        argv = self.argv(words)
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

    def probe(self, words):
        """The dry-run result of a command, to ask xvf itself a question such as "is this device
        attached to that domain" (release DEVICE --dom D plans a detach) or "is this device in the
        pci list" (cfg add FILE DEVICE would change nothing). Not listed in `commands`."""
        return self.run(words, dry_run=True, record=False)

    # -- changing the host ---------------------------------------------------------------------

    def change(self, words, files=None):
        """Runs a changing command, with --dry-run in check mode, and fails the module on a refusal.

        files: the host paths the command may write, read before it runs for the diff. When None and
        the task asks for a diff, a dry run first tells which files the command would write."""
        before = {}
        if self.diff_mode and not self.check_mode:
            if files is None:
                plan = self.run(words, dry_run=True, record=False)
                files = [s.get('target') for s in plan.get('steps', [])
                         if s.get('what') in ('file_write', 'file_remove')]
            for path in files:
                before[path] = self.read_host_file(path)
        result = self.run(words, dry_run=self.check_mode)
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

    @staticmethod
    def diffs(result, before):
        out = []
        for step in result.get('steps', []):
            what, target = step.get('what'), step.get('target')
            if what not in ('file_write', 'file_remove') or step.get('status') not in ('done', 'planned'):
                continue
            after = step.get('content', '') if what == 'file_write' else ''
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

    def fields(self, result):
        fields = dict(
            steps=result.get('steps') or [],
            messages=result.get('messages') or [],
            xvf_warnings=result.get('warnings') or [],
            dry_run=bool(result.get('dry_run')),
            commands=self.commands,
        )
        if result.get('diff') is not None and self.diff_mode:
            fields['diff'] = result['diff']
        return fields

    def _warn(self, result):
        for warning in result.get('warnings') or []:
            self.module.warn(str(warning))

    def fail(self, result, msg=None, **extra):
        error = result.get('error') or {}
        self._warn(result)
        fields = self.fields(result)
        fields.update(extra)
        fields.pop('diff', None)
        self.module.fail_json(msg=msg or error.get('message') or 'xvf failed', rc=error.get('exit_code', 1),
                              error=error, **fields)

    def exit(self, result, changed=None, **extra):
        self._warn(result)
        fields = self.fields(result)
        fields.update(extra)
        self.module.exit_json(changed=bool(result.get('changed')) if changed is None else changed, **fields)
