# -*- coding: utf-8 -*-
# The options, attributes and notes every xvf.xen module shares, and (DIFF) the diff mode of the modules
# whose diff is the files xvf writes. Ansible reads each module's DOCUMENTATION as a literal (it never
# imports the module), so a fragment is the one way its modules share documentation.

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  root:
    description:
      - The host root xvf works on (xvf's C(--root)), an absolute path.
      - V(/) on a real Xen dom0; a directory written by C(xvf-sim DIR) for tests.
    type: path
    default: /
  xvf:
    description:
      - The xvf binary on the managed host, a name looked up on E(PATH) or an absolute path.
      - Tests point it at a script that runs C(xvf-sim xvf "$@").
    type: path
    default: xvf
attributes:
  check_mode:
    support: full
  platform:
    platforms: posix
requirements:
  - xvf on the managed host, with C(--json) on the commands that change the host.
notes:
  - The module runs xvf and reads the one JSON object it prints; what to change, and whether
    anything needs changing, is xvf's decision.
  - Check mode runs the same xvf command with C(--dry-run), so nothing changes, and C(changed) tells
    whether the real run would change something.
  - A refusal fails the task with xvf's one-line message (its C(error.message)); C(rc) is xvf's exit
    code (1 failed or refused, 2 bad input, 3 not possible on this host).
  - The warnings xvf prints are shown as Ansible warnings and returned in RV(xvf_warnings).
  - Every option that is a path must be absolute; a relative one fails the task before xvf runs.
  - What the task gives is passed to xvf after C(--), or glued to its option (C(--dom=NAME)), so a
    device or domain named like an xvf option (V(--dry-run)) is taken as a name.
  - A result carries no file's contents except in diff mode, and there the values of the xl.cfg
    passwords (V(vncpasswd), V(spicepasswd)) are masked.
'''

    # Listed by the modules whose diff is XVF.change's: the before and after of each file xvf writes.
    DIFF = r'''
attributes:
  diff_mode:
    support: full
    details: A diff of each file xvf writes.
'''
