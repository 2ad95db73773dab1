#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: assignable
short_description: Make a device assignable to guests (on pciback), or give it back
description:
  - O(state=present) runs C(xvf assignable add DEVICE [--name NAME] --json); a device already on
    pciback (with that name, when O(name) is given) is left alone.
  - O(state=absent) runs C(xvf assignable remove DEVICE --rebind --json) when the device is assignable.
    A device that is not (C(xvf assignable list --json) does not list it and no domain holds it) is
    left alone, without running C(assignable remove), which would refuse it; so is a name no
    assignable device has (any more) and a device xvf does not know.
version_added: "0.1.0"
author: xvf
options:
  device:
    description:
      - The device, by address (V(04:11.0), V(0000:04:11.0)) or as a VF (V(eno49/3)).
      - With O(state=present) also a VF list (V(eno49/0-3), V(eno49/*)), which xvf expands.
      - With O(state=absent) also the name given with O(name).
    type: str
    required: true
  name:
    description:
      - A name for the device in libxl's assignable list (one device only); a domain config's
        C(pci = [ 'name=NAME' ]) then finds it wherever the device is.
      - Only with O(state=present).
    type: str
  state:
    description: Whether the device is on pciback, ready for a guest.
    type: str
    choices: [present, absent]
    default: present
  rebind:
    description:
      - With O(state=present), V(false) makes xvf forget the device's driver (C(--no-rebind)).
      - With O(state=absent), V(true) gives the device back to the driver it had before (C(--rebind));
        V(false) leaves it without a driver.
    type: bool
    default: true
extends_documentation_fragment:
  - xvf.xen.common
  - xvf.xen.common.diff
  - ansible.builtin.action_common_attributes
'''

EXAMPLES = r'''
- name: VF 3 of eno49 on pciback, named for domain configs
  xvf.xen.assignable:
    device: eno49/3
    name: db-nic

- name: The first four VFs of eno49
  xvf.xen.assignable:
    device: eno49/0-3

- name: Give eno49/3 back to its dom0 driver
  xvf.xen.assignable:
    device: eno49/3
    state: absent
'''

RETURN = r'''
steps:
  description: What xvf did or, in check mode, would do (V(what), V(target), V(status), V(detail), ...).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: assignable_add, target: "0000:04:11.4", status: done,
       detail: "libxl_device_pci_assignable_add 0000:04:11.4 rebind=1 name=db-nic"}
messages:
  description: The lines xvf would have printed as text.
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
  description: The xvf command lines run (none when the device was left alone).
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


def is_assignable(xvf, device):
    """Whether `assignable remove DEVICE` has something to do: the device (or name) is in
    `assignable list`, or a domain holds it (then xvf says why it will not remove it)."""
    listed = xvf.query(['assignable', 'list']).get('assignable') or []
    if any(entry.get('name') == device for entry in listed):
        return True
    # A name that is gone (or never was) is no device xvf can show: nothing of that name is assignable.
    shown = xvf.query(['show'], [device], required=False) or {}
    if any(entry.get('bdf') == shown.get('bdf') for entry in listed):
        return True
    return str(shown.get('holder', '')).startswith('domain:')


def main():
    module = AnsibleModule(
        argument_spec=xvf_argument_spec(
            device=dict(type='str', required=True),
            name=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            rebind=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    xvf = XVF(module)
    if p['state'] == 'present':
        words = ['assignable', 'add']
        if p['name'] is not None:
            words.append('--name=' + p['name'])
        if not p['rebind']:
            words.append('--no-rebind')
        xvf.exit(xvf.change(words, [p['device']]))

    if p['name'] is not None:
        module.fail_json(msg='name is only for state=present (assignable remove takes the device or its name as device)')
    if not is_assignable(xvf, p['device']):
        xvf.exit(xvf.nothing(), msg='%s is not assignable; nothing to do' % p['device'])
    words = ['assignable', 'remove']
    if p['rebind']:
        words.append('--rebind')
    xvf.exit(xvf.change(words, [p['device']]))


if __name__ == '__main__':
    main()
