#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_config
short_description: The host config xvf boot applies (/etc/xen/xvf.cfg), and applying it
description:
  - Writes the host config (VF counts, VF link settings, assignable VFs; see C(xlcfg/xvf.cfg)) to
    C(ROOT/etc/xen/xvf.cfg) when it differs from the file there.
  - The new config is checked first with C(xvf boot --dry-run --config NEW --json) (a temporary file in
    the same folder); a config xvf refuses fails the task with xvf's message and leaves the old file as
    it is. The new file then replaces the old one atomically (a rename), keeping its mode and owner; a
    new file gets mode V(0644).
  - With O(apply=true), then runs C(xvf boot --json), which changes only what differs from the config.
  - In check mode nothing is written (the check uses a temporary file outside O(root)); with
    O(apply=true) the result is C(xvf boot --dry-run) of the new config.
  - With C(--diff), the file before and after.
version_added: "0.1.0"
author: xvf
options:
  content:
    description:
      - The host config, in xl syntax (C(sriov = [ 'eno49,vfs=7' ]) ...).
      - At most one of O(content) and O(src). With neither, the file stays as it is and O(apply=true)
        applies it.
    type: str
  src:
    description:
      - A file on the managed host holding the host config (a plain path, not under O(root)).
      - To send a file from the controller, use O(content) with a C(lookup('file', ...)) or
        C(lookup('template', ...)).
    type: path
  apply:
    description: Also apply the config to the host now (C(xvf boot --json)).
    type: bool
    default: false
extends_documentation_fragment:
  - xvf.xen.common
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
'''

EXAMPLES = r'''
- name: The host config, applied now and at every boot
  xvf.xen.host_config:
    content: |
      sriov = [ 'eno49,vfs=7', 'eno52,vfs=4' ]
      assignable = [ 'eno49/0-3' ]
    apply: true

- name: From a template on the controller
  xvf.xen.host_config:
    content: "{{ lookup('ansible.builtin.template', 'xvf.cfg.j2') }}"

- name: Apply the config the host has
  xvf.xen.host_config:
    apply: true
'''

RETURN = r'''
path:
  description: The host config's path on the host (under O(root)).
  returned: always
  type: str
  sample: /etc/xen/xvf.cfg
config_changed:
  description: Whether the file was (or, in check mode, would be) written.
  returned: always
  type: bool
plan:
  description: The result of the check of a new config (C(xvf boot --dry-run --config NEW --json)), when one ran.
  returned: when the config changed
  type: dict
steps:
  description: With O(apply=true), what C(xvf boot) did or, in check mode, would do.
  returned: always
  type: list
  elements: dict
  sample:
    - {what: sysfs_write, target: "0000:04:00.3", status: done,
       detail: "echo 4 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs"}
messages:
  description: With O(apply=true), the lines C(xvf boot) would have printed as text.
  returned: always
  type: list
  elements: str
xvf_warnings:
  description: xvf's warnings, also shown as Ansible warnings.
  returned: always
  type: list
  elements: str
dry_run:
  description: Whether xvf boot ran with C(--dry-run) (check mode).
  returned: always
  type: bool
commands:
  description: The xvf command lines run.
  returned: always
  type: list
  elements: list
error:
  description: xvf's error (V(kind), V(message), V(exit_code)).
  returned: failure
  type: dict
'''

import os
import shutil
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible_collections.xvf.xen.plugins.module_utils.xvf import XVF, xvf_argument_spec

CONFIG = '/etc/xen/xvf.cfg'


def read(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_temp(folder, data, like=None):
    """A temporary file in folder holding data, with the mode and owner of `like` (or 0644)."""
    fd, name = tempfile.mkstemp(prefix='.xvf.cfg.', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if like is not None:
            os.chmod(name, stat.S_IMODE(like.st_mode))
            try:
                os.chown(name, like.st_uid, like.st_gid)
            except OSError:
                pass
        else:
            os.chmod(name, 0o644)
    except Exception:
        os.unlink(name)
        raise
    return name


def sync_folder(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def main():
    module = AnsibleModule(
        argument_spec=xvf_argument_spec(
            content=dict(type='str'),
            src=dict(type='path'),
            apply=dict(type='bool', default=False),
        ),
        mutually_exclusive=[('content', 'src')],
        supports_check_mode=True,
    )
    p = module.params
    xvf = XVF(module)
    dest = xvf.host_path(CONFIG)
    extra = dict(path=CONFIG, config_changed=False)

    if p['content'] is None and p['src'] is None:
        if not p['apply']:
            module.fail_json(msg='give content or src (the host config), or apply: true to apply the one the host has')
        new = None
    elif p['content'] is not None:
        new = to_bytes(p['content'], errors='surrogate_or_strict')
    else:
        new = read(p['src'])
        if new is None:
            module.fail_json(msg='src %s cannot be read' % p['src'])

    old = read(dest)
    plan = None
    if new is not None and new != old:
        extra['config_changed'] = True
        if module._diff:
            extra['diff'] = dict(before_header=CONFIG, after_header=CONFIG,
                                 before=to_text(old or b''), after=to_text(new))
        folder = os.path.dirname(dest)
        scratch = created = None
        if module.check_mode:
            scratch = tempfile.mkdtemp(prefix='xvf-host-config-')
            folder = scratch
        elif not os.path.isdir(folder):
            os.makedirs(folder, 0o755)
            created = folder
        like = os.stat(dest) if old is not None else None
        temp = write_temp(folder, new, like)
        try:
            plan = xvf.run(['boot', '--config', temp], dry_run=True)
            if plan.get('error'):
                # xvf names the file it checked: say which one that was rather than the temporary name.
                message = str(plan['error'].get('message', '')).replace(temp, CONFIG + ' (new)')
                xvf.fail(plan, msg=message, **extra)
            if not module.check_mode:
                os.rename(temp, dest)
                temp = None
                sync_folder(folder)
        finally:
            if temp is not None and os.path.exists(temp):
                os.unlink(temp)
                if created is not None:  # a refused config leaves the host as it was: no new folder
                    try:
                        os.rmdir(created)
                    except OSError:
                        pass
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        extra['plan'] = plan

    result = xvf.nothing()
    if p['apply']:
        if module.check_mode and plan is not None:
            result = plan  # the dry run of the new config is the plan of applying it
        else:
            result = xvf.run(['boot'], dry_run=module.check_mode)
            if result.get('error'):
                xvf.fail(result, **extra)
    changed = extra['config_changed'] or bool(result.get('changed'))
    if 'diff' in extra and not module._diff:
        extra.pop('diff')
    xvf.exit(result, changed=changed, **extra)


if __name__ == '__main__':
    main()
