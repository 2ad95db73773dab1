#!/usr/bin/python
# -*- coding: utf-8 -*-

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: pci
short_description: Attach a device, or a free VF of a PF, to a running Xen domain, or detach it
description:
  - O(state=attached) with O(device) runs C(xvf assign DEVICE --dom DOMAIN --json) with the attach
    options; xvf makes the device assignable first and gives it back if attaching fails. A device
    already attached to the domain is left alone (V(changed=false)), whatever its attach options.
  - O(state=attached) with O(pf) (a pool) runs C(xvf assign --pf PF --dom DOMAIN --json), which picks the
    PF's free VF with the lowest index. When the domain already holds a VF of that PF (the holders
    C(xvf show PF --json) lists), nothing is run and the task is V(ok), since the module asks for one VF of the
    pool per domain, so a second run does not attach a second VF. RV(device) names the VF either way.
  - O(state=detached) with O(device) runs C(xvf release DEVICE --json) when a domain holds the device
    (the domain O(domain), when given); a device no domain holds is left alone, without running release.
    With O(to_dom0=true), a device on pciback that no domain holds is also given back to its driver.
  - O(state=detached) with O(pf) releases every VF of the PF that O(domain) holds.
  - Whether a domain given by name holds a VF is asked of xvf (C(xvf release VF --dom DOMAIN --dry-run
    --json)), since xvf's JSON names holders by domain id (V(domain:1)).
version_added: "0.1.0"
author: xvf
options:
  domain:
    description:
      - The running domain, by name or id.
      - Required with O(state=attached), and with O(pf).
    type: str
  device:
    description:
      - The device, by address (V(04:11.0)), as a VF (V(eno49/3)) or as an xl PCI spec
        (V(05:10.0@03,permissive=1)).
      - Exactly one of O(device) and O(pf).
    type: str
  pf:
    description:
      - A PF (interface V(eno49) or address) whose free VF the domain gets (a pool).
      - Exactly one of O(device) and O(pf).
    type: str
  state:
    description: Whether the device (or a VF of the pool) is attached to the domain.
    type: str
    choices: [attached, detached]
    default: attached
  permissive:
    description: Let the guest write all of the device's config space (C(--permissive)). Attach only.
    type: bool
    default: false
  seize:
    description: Take the device from its dom0 driver at attach time (C(--seize)). Attach only.
    type: bool
    default: false
  msitranslate:
    description: V(false) passes C(--no-msitranslate) (MSI is not translated to INTx). Attach only.
    type: bool
    default: true
  power_mgmt:
    description: Let the guest manage the device's power states (C(--power-mgmt)). Attach only.
    type: bool
    default: false
  rdm_policy:
    description: Reserved device memory policy (C(--rdm-policy)). Attach only.
    type: str
    choices: [strict, relaxed]
  vslot:
    description: The guest PCI slot, hexadecimal V(0)-V(1f) (C(--vslot)). Attach only.
    type: str
  force:
    description:
      - With O(state=attached), assign even a device dom0 depends on (C(xvf assign --force)).
      - With O(state=detached), detach even if the guest does not cooperate (C(xvf release --force)).
    type: bool
    default: false
  to_dom0:
    description: With O(state=detached), also take the device off pciback and rebind its driver (C(--to-dom0)).
    type: bool
    default: false
  mac:
    description:
      - "VF settings: the VF's MAC address, set through the PF when it is attached (C(--mac))."
      - The VF settings (O(mac), O(vlan), O(qos), O(trust), O(spoofchk), O(link_state)) are passed to
        C(xvf assign) only when that xvf has the option (C(xvf assign --help) lists it); otherwise the
        task fails saying which option this xvf lacks. Attach only, and not applied to a pool VF the
        domain already holds.
    type: str
  vlan:
    description: "VF settings: the VLAN id (0-4095, 0 untagged) the NIC tags the VF's traffic with (C(--vlan))."
    type: int
  qos:
    description: "VF settings: the 802.1p priority 0-7 for that VLAN (C(--qos))."
    type: int
  trust:
    description: "VF settings: let the guest change its MAC and enter promiscuous modes (C(--trust on|off))."
    type: bool
  spoofchk:
    description: "VF settings: drop frames whose source MAC is not the VF's (C(--spoofchk on|off))."
    type: bool
  link_state:
    description: "VF settings: the VF's link: follow the PF's, always up, always down (C(--state))."
    type: str
    choices: [auto, enable, disable]
extends_documentation_fragment:
  - xvf.xen.common
  - xvf.xen.common.diff
  - ansible.builtin.action_common_attributes
'''

EXAMPLES = r'''
- name: VF 2 of eno49 for web1, permissive, at guest slot 5
  xvf.xen.pci:
    domain: web1
    device: eno49/2
    permissive: true
    vslot: "5"

- name: A VF of eno51 for db1 (one per domain; a second run changes nothing)
  xvf.xen.pci:
    domain: db1
    pf: eno51
  register: db1_vf

- name: Say which one
  ansible.builtin.debug:
    msg: "db1 has {{ db1_vf.device }}"

- name: Take it away again and give it back to dom0
  xvf.xen.pci:
    domain: db1
    device: "{{ db1_vf.device }}"
    state: detached
    to_dom0: true

- name: Detach every VF of eno51 that db1 holds
  xvf.xen.pci:
    domain: db1
    pf: eno51
    state: detached
'''

RETURN = r'''
device:
  description:
    - With O(state=attached), the address of the device the domain has (for a pool, the VF xvf picked or
      the one the domain already held).
  returned: success, with state=attached
  type: str
  sample: "0000:04:10.2"
steps:
  description: What xvf did or, in check mode, would do (V(what), V(target), V(status), V(detail), ...).
  returned: always
  type: list
  elements: dict
  sample:
    - {what: assignable_add, target: "0000:04:11.0", status: done,
       detail: "libxl_device_pci_assignable_add 0000:04:11.0 rebind=1"}
    - {what: attach, target: "0000:04:11.0", status: done, detail: "libxl_device_pci_add 0000:04:11.0 to domain 1"}
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
  description: The xvf command lines run (none when nothing needed to change).
  returned: always
  type: list
  elements: list
error:
  description: xvf's error (V(kind), V(message), V(exit_code)).
  returned: failure
  type: dict
'''

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.xvf.xen.plugins.module_utils.xvf import XVF, xvf_argument_spec


def on_off(value):
    return 'on' if value else 'off'


# VF settings: the module option, the xvf assign option, and how its value is written. Passed only
# when `xvf assign --help` lists the option (another xvf may not have it yet).
VF_SETTINGS = [
    ('mac', '--mac', str),
    ('vlan', '--vlan', str),
    ('qos', '--qos', str),
    ('trust', '--trust', on_off),
    ('spoofchk', '--spoofchk', on_off),
    ('link_state', '--state', str),
]

ATTACH_ONLY = ['permissive', 'seize', 'power_mgmt', 'rdm_policy', 'vslot'] + [s[0] for s in VF_SETTINGS]


def attach_options(module, xvf):
    p = module.params
    words = []
    if p['permissive']:
        words.append('--permissive')
    if p['seize']:
        words.append('--seize')
    if not p['msitranslate']:
        words.append('--no-msitranslate')
    if p['power_mgmt']:
        words.append('--power-mgmt')
    if p['rdm_policy'] is not None:
        words.append('--rdm-policy=' + p['rdm_policy'])
    if p['vslot'] is not None:
        words.append('--vslot=' + p['vslot'])
    if p['force']:
        words.append('--force')
    wanted = [(name, flag, form) for name, flag, form in VF_SETTINGS if p[name] is not None]
    if wanted:
        help_text = xvf.help_text(['assign'])
        missing = [flag for _, flag, _ in wanted if not re.search(re.escape(flag) + r'(?![\w-])', help_text)]
        if missing:
            module.fail_json(msg='this xvf has no %s for assign (`xvf assign --help` does not list %s)'
                             % (', '.join(missing), 'it' if len(missing) == 1 else 'them'))
        for name, flag, form in wanted:
            words.append(flag + '=' + form(p[name]))
    return words


def holds(xvf, domain, vf):
    """Whether the domain (a name or an id) holds the device described by `show`/`list` (bdf, holder)."""
    holder = str(vf.get('holder') or '')
    if not holder.startswith('domain:'):
        return False
    if domain.isdigit():
        return holder == 'domain:%d' % int(domain)
    # The JSON names the holder by id only: ask xvf whether releasing it from that domain would work.
    return not xvf.probe(['release', '--dom=' + domain], [vf['bdf']]).get('error')


def attached_device(result):
    for step in result.get('steps') or []:
        if step.get('what') == 'attach':
            return step.get('target')
    return None


def main():
    module = AnsibleModule(
        argument_spec=xvf_argument_spec(
            domain=dict(type='str'),
            device=dict(type='str'),
            pf=dict(type='str'),
            state=dict(type='str', choices=['attached', 'detached'], default='attached'),
            permissive=dict(type='bool', default=False),
            seize=dict(type='bool', default=False),
            msitranslate=dict(type='bool', default=True),
            power_mgmt=dict(type='bool', default=False),
            rdm_policy=dict(type='str', choices=['strict', 'relaxed']),
            vslot=dict(type='str'),
            force=dict(type='bool', default=False),
            to_dom0=dict(type='bool', default=False),
            mac=dict(type='str'),
            vlan=dict(type='int'),
            qos=dict(type='int'),
            trust=dict(type='bool'),
            spoofchk=dict(type='bool'),
            link_state=dict(type='str', choices=['auto', 'enable', 'disable']),
        ),
        mutually_exclusive=[('device', 'pf')],
        required_one_of=[('device', 'pf')],
        required_if=[('state', 'attached', ['domain'])],
        supports_check_mode=True,
    )
    p = module.params
    xvf = XVF(module)
    domain = p['domain']

    if p['state'] == 'attached':
        if p['to_dom0']:
            module.fail_json(msg='to_dom0 is for state=detached')
        options = attach_options(module, xvf)
        if p['device'] is not None:
            result = xvf.change(['assign', '--dom=' + domain] + options, [p['device']])
            device = attached_device(result) or (xvf.query(['show'], [p['device']], required=False) or {}).get('bdf')
            xvf.exit(result, device=device)
        pool = xvf.query(['show'], [p['pf']])
        held = [vf for vf in pool.get('vfs') or [] if holds(xvf, domain, vf)]
        if held:
            xvf.exit(xvf.nothing(), device=held[0]['bdf'],
                     msg='domain %s already holds %s, a VF of %s; nothing to do' % (domain, held[0]['bdf'], p['pf']))
        result = xvf.change(['assign', '--pf=' + p['pf'], '--dom=' + domain] + options)
        xvf.exit(result, device=attached_device(result))

    given = [name for name in ATTACH_ONLY if p[name] not in (None, False)]
    if given:
        module.fail_json(msg='%s: only for state=attached' % ', '.join(given))
    release = []
    if p['force']:
        release.append('--force')
    if p['to_dom0']:
        release.append('--to-dom0')

    if p['pf'] is not None:
        if domain is None:
            module.fail_json(msg='state=detached with pf needs domain (the domain whose VFs of pf are released)')
        pool = xvf.query(['show'], [p['pf']])
        held = [vf for vf in pool.get('vfs') or [] if holds(xvf, domain, vf)]
        if not held:
            xvf.exit(xvf.nothing(), msg='domain %s holds no VF of %s; nothing to do' % (domain, p['pf']))
        results = [xvf.change(['release', '--dom=' + domain] + release, [vf['bdf']]) for vf in held]
        xvf.exit(xvf.merge(results))

    shown = xvf.query(['show'], [p['device']])
    holder = str(shown.get('holder') or '')
    if holder.startswith('domain:'):
        if domain is not None and not holds(xvf, domain, shown):
            xvf.exit(xvf.nothing(), msg='%s is held by %s, not by domain %s; nothing to do' % (p['device'], holder, domain))
        words = ['release'] + (['--dom=' + domain] if domain is not None else []) + release
        xvf.exit(xvf.change(words, [p['device']]))
    if holder == 'pciback' and p['to_dom0']:
        xvf.exit(xvf.change(['release', '--to-dom0'], [p['device']]))
    xvf.exit(xvf.nothing(), msg='%s is not attached to a domain (holder %s); nothing to do' % (p['device'], holder))


if __name__ == '__main__':
    main()
