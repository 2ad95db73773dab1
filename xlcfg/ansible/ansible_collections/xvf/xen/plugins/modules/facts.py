#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: facts
short_description: The host's SR-IOV PFs and VFs, with each VF's holder, as facts
description:
  - Runs C(xvf list --json) and sets its document as the fact C(ansible_facts.xvf).
  - With O(assignable=true), also C(xvf assignable list --json) as C(ansible_facts.xvf.assignable).
  - Changes nothing; runs in check mode as in a normal run.
version_added: "0.1.0"
author: xvf
options:
  assignable:
    description:
      - Also gather the devices on pciback that no domain holds (C(xvf assignable list)). That needs
        a Xen dom0 (xvf exits 3 elsewhere).
    type: bool
    default: false
extends_documentation_fragment:
  - xvf.xen.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.facts
attributes:
  diff_mode:
    support: none
  facts:
    support: full
'''

EXAMPLES = r'''
- name: Read the PFs and VFs
  xvf.xen.facts:

- name: Show the VFs of eno49 and who holds them
  ansible.builtin.debug:
    msg: "{{ ansible_facts.xvf.pfs | selectattr('ifname', 'equalto', 'eno49') | map(attribute='vfs') | first
             | map(attribute='holder') | list }}"

- name: Also the assignable devices
  xvf.xen.facts:
    assignable: true
'''

RETURN = r'''
ansible_facts:
  description: The facts set.
  returned: always
  type: dict
  contains:
    xvf:
      description:
        - C(xvf list --json) as xvf prints it.
        - V(pfs) lists each PF (V(bdf), V(ifname), V(driver), V(totalvfs), V(numvfs), ...) with its V(vfs)
          (V(index), V(bdf), V(ifname), V(driver), V(mac), V(iommu_group), V(holder)).
        - A VF's V(holder) is V(none), V(dom0:DRIVER), V(pciback) or V(domain:ID).
        - V(assignable) (with O(assignable=true)) lists V(bdf), V(device) and V(name) of each assignable device.
      type: dict
      returned: always
      sample:
        pfs:
          - bdf: "0000:04:00.0"
            ifname: eno49
            driver: igb
            totalvfs: 7
            numvfs: 7
            vfs:
              - {index: 0, bdf: "0000:04:10.0", ifname: null, driver: pciback, mac: null,
                 iommu_group: 15, holder: pciback}
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xvf.xen.plugins.module_utils.xvf import XVF, xvf_argument_spec


def main():
    module = AnsibleModule(
        argument_spec=xvf_argument_spec(assignable=dict(type='bool', default=False)),
        supports_check_mode=True,
    )
    xvf = XVF(module)
    facts = xvf.query(['list'])
    if module.params['assignable']:
        facts['assignable'] = xvf.query(['assignable', 'list']).get('assignable', [])
    module.exit_json(changed=False, ansible_facts=dict(xvf=facts))


if __name__ == '__main__':
    main()
