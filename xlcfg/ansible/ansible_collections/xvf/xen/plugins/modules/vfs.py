#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: vfs
short_description: Set how many VFs a PF has
description:
  - Runs C(xvf vfs PF COUNT --json).
  - A PF that already has O(count) VFs is left alone (V(changed=false)).
  - Changing a non-zero count recreates every VF of the PF (the kernel writes 0 first); xvf refuses
    when VFs are attached to running domains or carry the host's network, unless O(force=true).
version_added: "0.1.0"
author: xvf
options:
  pf:
    description: The PF, by interface (V(eno49)) or address (V(04:00.0)).
    type: str
    required: true
  count:
    description: How many VFs it should have, from 0 (none) to the PF's C(sriov_totalvfs).
    type: int
    required: true
  force:
    description: Change the count even when VFs are attached to domains or carry the host's network (C(--force)).
    type: bool
    default: false
extends_documentation_fragment:
  - xvf.xen.common
  - xvf.xen.common.diff
  - ansible.builtin.action_common_attributes
'''

EXAMPLES = r'''
- name: Four VFs on eno52
  xvf.xen.vfs:
    pf: eno52
    count: 4

- name: No VFs on the second port, by address
  xvf.xen.vfs:
    pf: "0000:04:00.1"
    count: 0
'''

RETURN = r'''
steps:
  description: What xvf did or, in check mode, would do (V(what), V(target), V(status), V(detail), ...).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: sysfs_write, target: "0000:04:00.3", status: done,
       detail: "echo 3 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs"}
messages:
  description: The lines xvf would have printed as text.
  returned: always
  type: list
  elements: str
  sample: ["eno52 (0000:04:00.3): 3 VFs (was 0)"]
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
  description: The xvf command lines run.
  returned: always
  type: list
  elements: list
error:
  description: xvf's error (V(kind), V(message), V(exit_code)).
  returned: failure
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xvf.xen.plugins.module_utils.xvf import XVF, xvf_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=xvf_argument_spec(
            pf=dict(type='str', required=True),
            count=dict(type='int', required=True),
            force=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    xvf = XVF(module)
    words = ['vfs'] + (['--force'] if module.params['force'] else [])
    xvf.exit(xvf.change(words, [module.params['pf'], module.params['count']]))


if __name__ == '__main__':
    main()
