#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: domain_config
short_description: Devices in the pci = [ ... ] list of an xl domain config
description:
  - O(state=present) runs C(xvf cfg add PATH DEVICES... --json); xvf adds the devices the list lacks,
    keeps the rest of the file (comments and layout) and has libxlutil read the result before it
    replaces the file atomically. A device already in the list is not added again, even when its
    options (V(permissive=1), V(@VSLOT)) differ from O(devices).
  - O(state=absent) runs C(xvf cfg remove PATH DEVICES... --json) for the devices that are in the list.
    Which ones are is asked of xvf (C(xvf cfg add PATH DEVICE --dry-run --json) changes nothing for a
    device in the list), since C(cfg remove) refuses a device the list does not have. A config file that
    does not exist has none of them.
  - With C(--diff), the file before and after, with the values of the passwords xl.cfg(5) documents
    (V(vncpasswd), also in a C(vfb) spec, and V(spicepasswd)) masked. Without C(--diff) no file content is
    returned.
version_added: "0.1.0"
author: xvf
options:
  path:
    description:
      - The domain config by its absolute path on the host (V(/etc/xen/web1.cfg)); xvf reads it under O(root).
    type: path
    required: true
  devices:
    description:
      - The devices, as xl PCI specs (V(04:10.0,permissive=1), V(0000:04:10.4@05)) or device names
        (V(eno49/2)); a spec's options are written to the list with O(state=present).
    type: list
    elements: str
    required: true
  state:
    description: Whether the devices are in the domain config's pci list.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - xvf.xen.common
  - xvf.xen.common.diff
  - ansible.builtin.action_common_attributes
'''

EXAMPLES = r'''
- name: web1 gets eno49/2 at its next start
  xvf.xen.domain_config:
    path: /etc/xen/web1.cfg
    devices:
      - eno49/2,permissive=1

- name: db1 no longer gets these
  xvf.xen.domain_config:
    path: /etc/xen/db1.cfg
    devices: [04:10.0, eno49/3]
    state: absent
'''

RETURN = r'''
steps:
  description:
    - What xvf did or, in check mode, would do.
    - In diff mode a V(file_write) step has the new file in V(content), its passwords masked; otherwise no
      step has V(content).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: file_write, target: /etc/xen/web1.cfg, status: done, detail: write /etc/xen/web1.cfg}
messages:
  description: The lines xvf would have printed as text (a diff of the change, its passwords masked).
  returned: always
  type: list
  elements: str
xvf_warnings:
  description: xvf's warnings, also shown as Ansible warnings.
  returned: always
  type: list
  elements: str
dry_run:
  description: Whether xvf ran with C(--dry-run) (check mode).
  returned: always
  type: bool
commands:
  description: The xvf command lines run (none when nothing needed to change).
  returned: always
  type: list
  elements: list
error:
  description: xvf's error (V(kind), V(message), V(exit_code)).
  returned: failure
  type: dict
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xvf.xen.plugins.module_utils.xvf import XVF, xvf_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=xvf_argument_spec(
            path=dict(type='path', required=True),
            devices=dict(type='list', elements='str', required=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    xvf = XVF(module)
    path, devices = p['path'], p['devices']
    if not devices:
        xvf.exit(xvf.nothing(), msg='no devices given; nothing to do')

    if p['state'] == 'present':
        xvf.exit(xvf.change(['cfg', 'add'], [path] + devices, files=[path]))

    if not os.path.exists(xvf.host_path(path)):
        xvf.exit(xvf.nothing(), msg='%s does not exist; nothing to remove' % path)
    listed = []
    for device in devices:
        probe = xvf.probe(['cfg', 'add'], [path, device])
        if probe.get('error'):
            xvf.fail(probe)
        if not probe.get('changed'):
            listed.append(device)
    if not listed:
        xvf.exit(xvf.nothing(), msg='%s lists none of the devices; nothing to do' % path)
    xvf.exit(xvf.change(['cfg', 'remove'], [path] + listed, files=[path]))


if __name__ == '__main__':
    main()
