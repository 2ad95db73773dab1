#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: host_config
short_description: The host config xvf boot applies (/etc/xen/xvf.cfg), and applying it
description:
  - Makes the host config (VF counts, VF link settings, assignable VFs; see C(xlcfg/xvf.cfg))
    C(ROOT/etc/xen/xvf.cfg) with C(xvf boot --install NEW --json), which changes nothing when the file
    there already holds it.
  - xvf checks NEW as C(xvf boot --dry-run --config NEW) does; a config xvf refuses fails the task with
    xvf's message and leaves the old file as it is. xvf then replaces the file under its host lock, as
    it writes every file (a link stays a link and the file it leads to is written, the old file's mode
    and owner are kept, and a new file gets mode V(0644)).
  - O(content) goes to xvf in a temporary file in a private directory outside O(root), removed afterwards.
  - With O(apply=true), then runs C(xvf boot --json), which changes only what differs from the config.
  - In check mode nothing is written (C(--dry-run)); with O(apply=true) the result is C(xvf boot
    --dry-run) of the new config.
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
      - A file on the managed host holding the host config, by its absolute path (not under O(root)).
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
  diff_mode:
    support: full
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
install:
  description:
    - The result of C(xvf boot --install NEW --json) (V(changed), V(steps), V(messages), ...), when a new
      config was given. Its steps carry no file content except in diff mode.
  returned: when O(content) or O(src) is given
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
    extra = dict(path=CONFIG, config_changed=False)
    if p['content'] is None and p['src'] is None and not p['apply']:
        module.fail_json(msg='give content or src (the host config), or apply: true to apply the one the host has')

    scratch = None
    try:
        new_file = p['src']
        if p['content'] is not None:
            # A directory only this user can enter (mkdtemp makes it 0700): no one else can swap the file
            # between xvf's check and its write.
            scratch = tempfile.mkdtemp(prefix='xvf-host-config-')
            new_file = os.path.join(scratch, 'xvf.cfg')
            with open(new_file, 'wb') as handle:
                handle.write(to_bytes(p['content'], errors='surrogate_or_strict'))
        diff = None
        if new_file is not None:
            before = read(xvf.host_path(CONFIG))
            install = xvf.run(['boot', '--install=' + new_file], dry_run=module.check_mode)
            if install.get('error'):
                message = str(install['error'].get('message', ''))
                if scratch is not None:  # xvf names the file it checked: the temporary one stands for CONFIG
                    message = message.replace(new_file, CONFIG + ' (new)')
                xvf.fail(install, msg=message, **extra)
            extra['config_changed'] = bool(install.get('changed'))
            extra['install'] = xvf.shown(install)
            if module._diff and extra['config_changed']:
                after = p['content'] if p['content'] is not None else to_text(read(new_file) or b'')
                diff = dict(before_header=CONFIG, after_header=CONFIG, before=to_text(before or b''), after=after)

        result = xvf.nothing()
        if p['apply']:
            words = ['boot']
            if module.check_mode and new_file is not None:
                words.append('--config=' + new_file)  # the plan of applying the config not yet written
            result = xvf.run(words, dry_run=module.check_mode)
            if result.get('error'):
                xvf.fail(result, **extra)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if diff is not None:
        result['diff'] = diff
    xvf.exit(result, changed=extra['config_changed'] or bool(result.get('changed')), **extra)


if __name__ == '__main__':
    main()
