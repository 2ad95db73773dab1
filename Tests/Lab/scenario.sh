#!/bin/bash
# The lab's scenario: runs as root in the lab's Xen dom0 (Tests/Lab/lab.sh boots it: Debian 12 with
# Xen 4.17 or Debian 13 with Xen 4.20), argument = boot number. Boot 1 first installs the xvf package
# the host built (/lab/in/xvf_*.deb) with apt, as a user would; then every step drives /usr/bin/xvf and
# asks Xen and Linux themselves — xl, xenstore, lspci, sysfs, the PV guest's own console — whether the
# change happened; xvf's own output is never the only evidence. A step whose xvf command is missing
# from `xvf --help` is reported N/A, not failed: the commands land one at a time. A step that needs
# xvf fails when the installed binary does not start at all (a library the dom0 lacks).
#
# Nothing here depends on one Xen release's wording: libxl's messages are matched without their
# source line numbers (libxl_pci.c:802 on 4.17 is :803 on 4.20).
#
# Output: one "PASS|FAIL|N/A <id> <title>" line per step on stdout, each step's commands and their
# output in steps/<id>.log (a failed one also leaves steps/<id>.fail), a closing count line.
# A second boot is requested by writing reboot-args (the dom0 arguments update-grub would produce).
#
# Steps run in a subshell with errexit: any unchecked failing command ends its step as FAIL.

BOOT=${1:-1}
XVF=/usr/bin/xvf
OUT=/lab/out
STEPS=$OUT/steps
mkdir -p "$STEPS"
DOMU_KERNEL=$(ls /boot/vmlinuz-* | sort -V | tail -n 1)
DOMU_RAMDISK=/boot/xvf-lab-domu.cpio.gz
CONSOLE_DIR=/var/log/xen/console

PASSED=0 FAILED=0 SKIPPED=0

# --- evidence from Linux and Xen (not from xvf) ------------------------------------------------

sys() { echo "/sys/bus/pci/devices/$1"; }
driver_of() { if [ -e "$(sys "$1")/driver" ]; then basename "$(readlink "$(sys "$1")/driver")"; else echo none; fi; }
numvfs_of() { cat "$(sys "$1")/sriov_numvfs"; }
ifname_of() { if [ -d "$(sys "$1")/net" ]; then ls "$(sys "$1")/net" | head -n 1; else echo none; fi; }
# The VFs of a PF in index order, as the kernel links them.
vfs_of() {
    local pf=$1 i n; n=$(numvfs_of "$pf")
    for ((i = 0; i < n; i++)); do basename "$(readlink "$(sys "$pf")/virtfn$i")"; done
}
# VF number I of a PF (read directly: `vfs_of | head` would die of SIGPIPE under pipefail).
vf_of() { basename "$(readlink "$(sys "$1")/virtfn$2")"; }
# Every SR-IOV capable function, i.e. what xvf must report as a PF.
sriov_pfs() { for d in /sys/bus/pci/devices/*; do [ -e "$d/sriov_totalvfs" ] && basename "$d"; done; }
xl_assignable() { xl pci-assignable-list | awk '{ print $1 }'; }
xl_attached() { xl pci-list "$1" | awk 'NR > 1 { print $2 }'; }
lspci_driver() { lspci -D -k -s "$1" | sed -n 's/^[[:space:]]*Kernel driver in use: //p'; }
# A guest migrated to this host writes its console to guest-NAME--incoming.log (xenconsoled keeps the
# name the domain had when it opened the file); the newer of the two is the guest's.
# An HVM guest's console is a serial file its config names: given as a path, it is read as it is.
guest_log() {
    case $1 in /*) echo "$1"; return ;; esac
    local log="$CONSOLE_DIR/guest-$1.log" incoming="$CONSOLE_DIR/guest-$1--incoming.log"
    if [ -f "$incoming" ] && [ "$incoming" -nt "$log" ]; then echo "$incoming"; else echo "$log"; fi
}
# The PCI state the PV guest printed last (its init prints it whenever it changes).
# Only whole lines: a console file can end in a line its writer has not finished.
guest_pci() {
    local f; f=$(guest_log "$1")
    { if [ -n "$(tail -c 1 "$f" 2>/dev/null)" ]; then head -n -1 "$f"; else cat "$f"; fi; } 2>/dev/null |
        grep -a 'XVFLAB-DOMU pci:' | tail -n 1
}

# --- helpers for step bodies -------------------------------------------------------------------

# Runs a command, showing it and its output in the step log, and returns its stdout.
xo() {
    echo "+ $*" >&2
    local o rc=0
    o=$("$@") || rc=$?
    [ -z "$o" ] || printf '%s\n' "$o" | sed 's/^/    /' >&2
    if [ $rc != 0 ]; then
        echo "    (exit $rc)" >&2
        return $rc
    fi
    [ -z "$o" ] || printf '%s\n' "$o"
}
# A command expected to fail; its exit status is returned through XO_RC.
xo_fails() {
    echo "+ $* (expected to fail)" >&2
    local o rc=0
    o=$("$@" 2>&1) || rc=$?
    [ -z "$o" ] || printf '%s\n' "$o" | sed 's/^/    /' >&2
    echo "    (exit $rc)" >&2
    XO_RC=$rc
    [ $rc != 0 ]
}
check() {
    local what=$1; shift
    if "$@"; then
        echo "  ok: $what" >&2
    else
        echo "CHECK FAILED: $what" >&2
        exit 1
    fi
}
# check_eq WHAT EXPECTED ACTUAL: EXPECTED is Linux's or Xen's view, ACTUAL xvf's.
check_eq() {
    if [ "$2" = "$3" ]; then
        echo "  ok: $1 = $2" >&2
    else
        echo "CHECK FAILED: $1: the system says '$2', xvf says '$3'" >&2
        exit 1
    fi
}
# check_is WHAT EXPECTED FOUND: for expectations the scenario sets itself (after a reboot).
check_is() {
    if [ "$2" = "$3" ]; then
        echo "  ok: $1 = $2" >&2
    else
        echo "CHECK FAILED: $1: expected '$2', found '$3'" >&2
        exit 1
    fi
}
wait_for() {
    local what=$1 secs=$2; shift 2
    local t0=$SECONDS
    until "$@"; do
        if ((SECONDS - t0 >= secs)); then
            echo "CHECK FAILED: $what (waited $secs s)" >&2
            exit 1
        fi
        sleep 1
    done
    echo "  ok: $what (after $((SECONDS - t0)) s)" >&2
}
in_list() { grep -qx "$1"; }
# The name libxl keeps for an assignable device (`pci-assignable-add -n`), empty when none.
libxl_name() { xenstore-read "/libxl/pci/$(echo "$1" | tr ':.' '--')/name" 2>/dev/null || true; }
# The VF of PF that libxl has under NAME (none: empty).
vf_named() {
    local v
    for v in $(vfs_of "$1"); do [ "$(libxl_name "$v")" = "$2" ] && { echo "$v"; return 0; }; done
    return 0
}
# The index of VF among its PF's (for `ip link`'s "vf N" lines).
vf_index() { local i; for i in $(seq 0 $(($(numvfs_of "$1") - 1))); do [ "$(vf_of "$1" "$i")" = "$2" ] && echo "$i"; done; }
# The leases are bound: each to a VF of PF2 under its name, with its MAC, on pciback; the two differ.
leases_bound() {
    local pf=$1 pf_if=$2 i vf links; links=$(ip link show "$pf_if")
    local seen=()
    for i in 0 1; do
        vf=$(vf_named "$pf" "${LEASES[$i]}")
        check "libxl has a VF of $pf named ${LEASES[$i]} (${vf:-none})" test -n "$vf"
        check "${LEASES[$i]}'s VF $vf is on pciback" test "$(driver_of "$vf")" = pciback
        check "${LEASES[$i]}'s VF has MAC ${LEASE_MACS[$i]} (ip link)" grep -q "vf $(vf_index "$pf" "$vf") .*link/ether ${LEASE_MACS[$i]}" <<<"$links"
        seen+=("$vf")
    done
    check "the leases have two VFs" test "${seen[0]}" != "${seen[1]}"
    echo "${seen[@]}"
}
# A measured figure for the lab's report (lab.sh prints them after the step lines).
figure() { echo "figure: $*" | tee -a "$OUT/figures.log" >&2; }

# --- preconditions set up with the kernel's and xl's own tools ---------------------------------

# Sets a PF's VF count through sysfs (0 first, as the kernel requires) and waits for igbvf.
# Linux refuses 0 with EPERM while pciback holds a VF (6.1 and 6.12 alike), so those go back first.
set_numvfs() {
    local pf=$1 n=$2
    [ "$(numvfs_of "$pf")" = "$n" ] && return 0
    off_pciback "$pf"
    echo 0 >"$(sys "$pf")/sriov_numvfs"
    [ "$n" = 0 ] || echo "$n" >"$(sys "$pf")/sriov_numvfs"
    udevadm settle
    wait_for "$n VFs of $pf bound to igbvf" 30 all_vfs_on "$pf" igbvf
}
off_pciback() {
    local v assignable; assignable=$(xl_assignable)
    for v in $(vfs_of "$1"); do
        [ "$(driver_of "$v")" = pciback ] || continue
        if in_list "$v" <<<"$assignable"; then
            xl pci-assignable-remove -r "$v" >&2
        else
            echo "$v" >/sys/bus/pci/drivers/pciback/unbind
        fi
    done
}
all_vfs_on() {
    local v
    for v in $(vfs_of "$1"); do [ "$(driver_of "$v")" = "$2" ] || return 1; done
}
# Destroys the lab's domUs and gives every assignable device back to its dom0 driver, so a step
# starts from a known state whatever the previous one left.
reset_xen() {
    local d b
    for d in $(xl list | awk 'NR > 2 { print $1 }'); do xl destroy "$d" >&2 || true; done
    for b in $(xl_assignable); do xl pci-assignable-remove -r "$b" >&2 || true; done
}
write_domu_cfg() { # NAME FILE [EXTRA LINE]
    cat >"$2" <<EOF
# PV guest of the xvf lab: dom0's kernel with a busybox initramfs that reports its PCI devices.
name = "$1"
type = "pv"
kernel = "$DOMU_KERNEL"
ramdisk = "$DOMU_RAMDISK"
extra = "console=hvc0 quiet${DOMU_EXTRA:+ $DOMU_EXTRA}"
memory = 256
vcpus = 1
${3:-}
EOF
}
# Starts a PV domU able to take hot-plugged devices and waits until its init is running.
# start_domu NAME [CONFIG LINE…]: lines added to (or replacing, for extra =) the guest's config.
start_domu() {
    local name=$1 cfg=/root/$1.cfg
    shift
    rm -f "$CONSOLE_DIR/guest-$name.log" "$CONSOLE_DIR/guest-$name--incoming.log"
    # A PV domain created with neither a pci= line nor passthrough refuses a later attach.
    write_domu_cfg "$name" "$cfg" "$(printf '%s\n' 'passthrough = "enabled"' "$@")"
    xo xl create "$cfg" >/dev/null
    wait_for "domU $name booted" 120 grep -aq 'XVFLAB-DOMU ready' "$(guest_log "$name")"
}
# The guest prints each device as BDF=VENDOR:DEVICE:DRIVER:IFACE; 8086:10ca is the 82576 VF.
guest_sees() { guest_pci "$1" | grep -q "=0x8086:0x10ca:igbvf:"; }
# A PV guest has taken a hot-plugged device once its driver has it. A detach before the guest's pcifront
# has answered the attach leaves the device in xenstore: libxl's wait for the pci backend times out
# ("Backend … not ready" in its log) and the remove still returns success (Xen 4.17 under the lab's
# load, seen once unchecked commands failed steps); xvf then says the domain still lists the device.
guest_took() { wait_for "$1 has taken the VF (igbvf bound)" 90 guest_sees "$1"; }
guest_sees_none() { ! guest_pci "$1" | grep -q "=0x8086:0x10ca:"; }
# The network state the guest printed last: " NAME=DRIVER:MAC:CARRIER…", then " bond0-slaves=A,B
# bond0-active=NAME" in a migration guest.
guest_net() {
    local f; f=$(guest_log "$1")
    { if [ -n "$(tail -c 1 "$f" 2>/dev/null)" ]; then head -n -1 "$f"; else cat "$f"; fi; } 2>/dev/null |
        grep -a 'XVFLAB-DOMU net:' | tail -n 1
}
# The guest's igbvf interface (empty when it has none), whether it has link, whether its bond holds
# it, and whether the bond sends over it.
guest_net_fields() { guest_net "$1" | tr ' ' '\n'; }
guest_vf_if() { guest_net_fields "$1" | sed -n '/^[a-z0-9]*=igbvf:/{s/=.*//p;q}'; }
guest_vf_link() { local i; i=$(guest_vf_if "$1"); [ -n "$i" ] && guest_net_fields "$1" | grep -q "^$i=igbvf:.*:1\$"; }
bond_holds_vf() { local i; i=$(guest_vf_if "$1"); [ -n "$i" ] && guest_net_fields "$1" | sed -n 's/^bond0-slaves=//p' | tr ',' '\n' | grep -qx "$i"; }
bond_on_vf() { local i; i=$(guest_vf_if "$1"); [ -n "$i" ] && guest_net_fields "$1" | grep -qx "bond0-active=$i"; }
# The bond holds the guest's VF, and sends over it whenever the VF has link.
bond_ready() { bond_holds_vf "$1" && { ! guest_vf_link "$1" || bond_on_vf "$1"; }; }

# --- which xvf commands exist ------------------------------------------------------------------

# Subcommand names sit two spaces in under SUBCOMMANDS:; wrapped descriptions sit deeper.
subcommands() {
    "$@" --help 2>&1 | awk '/^SUBCOMMANDS:/ { s = 1; next } s && /^[^ ]/ { s = 0 } s && /^  [a-z]/ { print $1 }'
}
has_cmd() { # has_cmd TOP [SUB]
    subcommands "$XVF" | in_list "$1" || return 1
    [ -z "${2:-}" ] || subcommands "$XVF" "$1" | in_list "$2"
}

# Why the installed xvf cannot run at all (empty when it starts): asked once, after the install step.
XVF_BROKEN=unchecked
xvf_broken() {
    if [ "$XVF_BROKEN" = unchecked ]; then
        XVF_BROKEN=""
        if [ ! -x "$XVF" ]; then
            XVF_BROKEN="there is no $XVF (did the package install?)"
        elif ! XVF_BROKEN=$("$XVF" --version 2>&1); then
            XVF_BROKEN="'xvf --version' failed: $(head -n 3 <<<"$XVF_BROKEN" | tr '\n' ' ' | sed 's/ *$//')"
        else
            XVF_BROKEN=""
        fi
    fi
    [ -n "$XVF_BROKEN" ]
}

# step ID TITLE FUNCTION [REQUIRED COMMAND…] — each required command is "top" or "top sub".
step() {
    local id=$1 title=$2 fn=$3 need
    shift 3
    # (No .fail mark: the FAIL line says it all, and the lab would print the same line again.)
    if [ $# -gt 0 ] && xvf_broken; then
        echo "xvf does not start: $XVF_BROKEN" >"$STEPS/$id.log"
        echo "FAIL $id $title: xvf does not start: $XVF_BROKEN"
        FAILED=$((FAILED + 1))
        return 0
    fi
    for need in "$@"; do
        if ! has_cmd $need; then
            echo "N/A $id $title: 'xvf $need' not yet available"
            SKIPPED=$((SKIPPED + 1))
            return 0
        fi
    done
    # A developer's run of some steps only (XVF_LAB_STEPS on the host): the others are left out silently.
    if [ -s /lab/in/steps ] && ! grep -qw -- "$id" /lab/in/steps; then return 0; fi
    local t0=$SECONDS rc=0
    rm -f "$STEPS/$id.na"
    # In the background and waited for: bash ignores -e inside a compound command that is part of a
    # || list, so `( set -e; … ) || rc=$?` would let an unchecked failing command pass.
    ( set -eo pipefail; shopt -s inherit_errexit; "$fn" ) >"$STEPS/$id.log" 2>&1 </dev/null &
    wait $! || rc=$?
    if [ $rc = 0 ] && [ -s "$STEPS/$id.na" ]; then
        # The step found that this dom0 cannot do what it tests, for a reason of the dom0's own.
        echo "N/A $id $title: $(cat "$STEPS/$id.na")"
        SKIPPED=$((SKIPPED + 1))
    elif [ $rc = 0 ]; then
        echo "PASS $id $title ($((SECONDS - t0)) s)"
        PASSED=$((PASSED + 1))
    else
        echo "FAIL $id $title ($((SECONDS - t0)) s): see steps/$id.log"
        touch "$STEPS/$id.fail"
        FAILED=$((FAILED + 1))
        # What the guests printed explains most passthrough failures.
        local g
        for g in "$CONSOLE_DIR"/guest-*.log "$CONSOLE_DIR"/serial-*.log /var/log/xen/qemu-dm-*.log; do
            [ -e "$g" ] || continue
            echo "---- $g (last 30 lines) ----"
            tail -n 30 "$g" | sed 's/^/    /'
        done >>"$STEPS/$id.log"
    fi
}

# --- the steps ---------------------------------------------------------------------------------

# i (boot 1). The package the host built installs with apt on this dom0's own Debian: apt checks its
# Depends against this release's libraries (dom0 has no network, so nothing may need downloading).
step_install() {
    local debs; debs=(/lab/in/xvf_*.deb)
    check "the lab shipped one xvf package (${debs[*]})" test ${#debs[@]} = 1 -a -f "${debs[0]}"
    # Copied off the 9p share: apt's download sandbox (user _apt) reads it from /tmp without a warning.
    local deb; deb=/tmp/$(basename "${debs[0]}")
    cp "${debs[0]}" "$deb"
    xo dpkg-deb -f "$deb" Package Version Architecture Depends Recommends Suggests >/dev/null
    xo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >/dev/null
    check_is "dpkg status of xvf" "install ok installed" "$(dpkg-query -W -f '${Status}' xvf)"
    check_is "installed version" "$(dpkg-deb -f "$deb" Version)" "$(dpkg-query -W -f '${Version}' xvf)"
    check "dpkg --audit finds nothing half-installed" test -z "$(dpkg --audit)"
    local files f; files=$(xo dpkg -L xvf)
    for f in /usr/bin/xvf /usr/share/man/man1/xvf.1.gz /usr/share/bash-completion/completions/xvf \
        /usr/share/zsh/vendor-completions/_xvf /usr/share/fish/vendor_completions.d/xvf.fish \
        /usr/lib/systemd/system/xvf-boot.service /usr/share/doc/xvf/examples/xvf.cfg; do
        check "dpkg -L xvf lists $f" in_list "$f" <<<"$files"
        check "$f is there and not empty" test -s "$f"
    done
    xo systemctl daemon-reload
    check "systemd finds xvf-boot.service, running /usr/bin/xvf" \
        bash -c "systemctl cat xvf-boot.service | grep -qx 'ExecStart=/usr/bin/xvf --wait 90 boot'"
    # For the log: what the binary needs from this dom0 (a "not found" here is the next steps' failure).
    ldd "$XVF" >&2 || true
}

PF1= PF2= PF1_IF= PF2_IF=
find_pfs() {
    local pfs; pfs=($(sriov_pfs))
    PF1=${pfs[0]:-} PF2=${pfs[1]:-}
    PF1_IF=$([ -n "$PF1" ] && ifname_of "$PF1" || echo none)
    PF2_IF=$([ -n "$PF2" ] && ifname_of "$PF2" || echo none)
}

step_host() {
    xo xl info | grep -E '^(xen_version|virt_caps)' >&2
    check "Xen offers PV passthrough (virt_caps has pv_directio)" bash -c "xl info | grep -q '^virt_caps.*pv_directio'"
    check "two SR-IOV PFs ($PF1, $PF2)" test -n "$PF1" -a -n "$PF2"
    local pf
    for pf in $PF1 $PF2; do
        check "$pf is an 82576 on igb" test "$(cat "$(sys "$pf")/device"):$(driver_of "$pf")" = "0x10c9:igb"
        check "$pf offers 7 VFs" test "$(cat "$(sys "$pf")/sriov_totalvfs")" = 7
    done
    # Debian never autoloads xen-pciback; a passthrough host's admin loads it (xvf says so when it
    # is missing). Boot 2 does not get this: there the boot configuration under test loads it.
    xo modprobe xen-pciback
    check "xen-pciback is bound as pciback" test -d /sys/bus/pci/drivers/pciback
}

# 0b. Xen's own passthrough path, with xl and sysfs only: what every xvf step builds on works on this
# dom0 (so a failing xvf step is xvf's). A VF on pciback, hot-attached to a PV domU that sees it.
step_xl_baseline() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    udevadm settle
    xo xl pci-assignable-add "$vf" >/dev/null
    check "$vf in xl pci-assignable-list" in_list "$vf" <<<"$(xo xl_assignable)"
    check_is "$vf driver" pciback "$(driver_of "$vf")"
    # libxl's wording without its source line (libxl_pci.c:802 on 4.17, :803 on 4.20): what xvf -v shows.
    local again; again=$(xl pci-assignable-add "$vf" 2>&1)
    echo "$again" >&2
    check "a second add warns 'already assigned to pciback'" grep -Eq 'libxl: warning: libxl_pci\.c:[0-9]+:.*already assigned to pciback' <<<"$again"
    start_domu labu0
    xo xl pci-attach labu0 "$vf,permissive=1" >/dev/null
    check "xl pci-list labu0 shows $vf" in_list "$vf" <<<"$(xo xl_attached labu0)"
    wait_for "the guest sees the VF with igbvf bound" 90 guest_sees labu0
    guest_pci labu0 >&2
    xo xl pci-detach labu0 "$vf" >/dev/null
    wait_for "the guest no longer sees the VF" 60 guest_sees_none labu0
    reset_xen
    wait_for "$vf back on igbvf" 30 bash -c "[ \"\$(basename \"\$(readlink $(sys "$vf")/driver)\")\" = igbvf ]"
}

# 1. list / --json against sysfs and lspci, for both PFs and their VFs.
step_list() {
    set_numvfs "$PF1" 2
    set_numvfs "$PF2" 1
    local json; json=$(xo "$XVF" list --json)
    check_eq "PFs (sysfs SR-IOV functions)" "$(sriov_pfs | tr '\n' ' ')" "$(jq -r '.pfs[].bdf' <<<"$json" | tr '\n' ' ')"
    local pf vf pj vj i ifn mac grp
    for pf in $PF1 $PF2; do
        pj=$(jq -c --arg b "$pf" '.pfs[] | select(.bdf == $b)' <<<"$json")
        check_eq "$pf driver" "$(driver_of "$pf")" "$(jq -r '.driver' <<<"$pj")"
        check_eq "$pf interface" "$(ifname_of "$pf")" "$(jq -r '.ifname // "none"' <<<"$pj")"
        check_eq "$pf MAC" "$(cat "/sys/class/net/$(ifname_of "$pf")/address")" "$(jq -r '.mac' <<<"$pj")"
        check_eq "$pf vendor:device" "$(sed 's/^0x//' "$(sys "$pf")/vendor"):$(sed 's/^0x//' "$(sys "$pf")/device")" \
            "$(jq -r '.vendor + ":" + .device' <<<"$pj")"
        check_eq "$pf name (lspci -vmm)" "$(lspci -vmm -s "$pf" | awk -F'\t' '$1 == "Device:" { print $2 }')" "$(jq -r '.name' <<<"$pj")"
        check_eq "$pf totalvfs" "$(cat "$(sys "$pf")/sriov_totalvfs")" "$(jq -r '.totalvfs' <<<"$pj")"
        check_eq "$pf numvfs" "$(numvfs_of "$pf")" "$(jq -r '.numvfs' <<<"$pj")"
        check_eq "$pf VF addresses" "$(vfs_of "$pf" | tr '\n' ' ')" "$(jq -r '.vfs[].bdf' <<<"$pj" | tr '\n' ' ')"
        i=0
        for vf in $(vfs_of "$pf"); do
            vj=$(jq -c --argjson i "$i" '.vfs[] | select(.index == $i)' <<<"$pj")
            check_eq "$vf driver (sysfs)" "$(driver_of "$vf")" "$(jq -r '.driver // "none"' <<<"$vj")"
            check_eq "$vf driver (lspci -k)" "$(lspci_driver "$vf")" "$(jq -r '.driver // ""' <<<"$vj")"
            ifn=$(ifname_of "$vf")
            check_eq "$vf interface" "$ifn" "$(jq -r '.ifname // "none"' <<<"$vj")"
            mac=null
            [ "$ifn" = none ] || mac=$(cat "/sys/class/net/$ifn/address")
            check_eq "$vf MAC" "$mac" "$(jq -r '.mac' <<<"$vj")"
            grp=null
            [ -e "$(sys "$vf")/iommu_group" ] && grp=$(basename "$(readlink "$(sys "$vf")/iommu_group")")
            check_eq "$vf IOMMU group" "$grp" "$(jq -r '.iommu_group' <<<"$vj")"
            check_eq "$vf holder" "dom0:$(driver_of "$vf")" "$(jq -r '.holder' <<<"$vj")"
            i=$((i + 1))
        done
    done
    check_eq "VFs in lspci (8086:10ca)" "$(lspci -D -d 8086:10ca | wc -l)" "$(jq '[.pfs[].vfs[]] | length' <<<"$json")"
    local text; text=$(xo "$XVF" list)
    for vf in $PF1 $PF2 $(vfs_of "$PF1") $(vfs_of "$PF2"); do
        check "xvf list names $vf" grep -q "$vf" <<<"$text"
    done
    local first; first=$(vf_of "$PF1" 0)
    check "xvf show $first names it" grep -q "$first" <<<"$(xo "$XVF" show "$first")"
    check "xvf show $PF1_IF names $PF1" grep -q "$PF1" <<<"$(xo "$XVF" show "$PF1_IF")"
}

# 2a. xvf vfs: a count from zero, then a change of a non-zero count (the kernel needs 0 first).
step_vfs() {
    set_numvfs "$PF1" 0
    # With igbvf not loaded, udev loads it for the new VFs after the write returns; an assignable add
    # at once used to race that probe (libxl: "Couldn't open /sys/bus/pci/drivers/igbvf/unbind").
    xo modprobe -r igbvf
    xo "$XVF" vfs "$PF1_IF" 2 >/dev/null
    local first; first=$(vf_of "$PF1" 0)
    xo "$XVF" assignable add "$first" >/dev/null
    check "$first in xl pci-assignable-list right after 'vfs $PF1_IF 2'" in_list "$first" <<<"$(xo xl_assignable)"
    xo "$XVF" assignable remove "$first" --rebind >/dev/null
    check_is "$first driver after remove --rebind" igbvf "$(driver_of "$first")"
    udevadm settle
    check_eq "$PF1 sriov_numvfs after 'vfs $PF1_IF 2'" 2 "$(numvfs_of "$PF1")"
    check_eq "VFs on $PF1 in lspci" 2 "$(lspci -D -d 8086:10ca | grep -c "^${PF1%:*}:")"
    xo "$XVF" vfs "$PF1_IF" 4 >/dev/null
    udevadm settle
    check_eq "$PF1 sriov_numvfs after 'vfs $PF1_IF 4'" 4 "$(numvfs_of "$PF1")"
    check_eq "VFs on $PF1 in lspci" 4 "$(lspci -D -d 8086:10ca | grep -c "^${PF1%:*}:")"
    check_eq "numvfs in xvf list --json" 4 "$(xo "$XVF" list --json | jq --arg b "$PF1" '.pfs[] | select(.bdf == $b) | .numvfs')"
}

# 2b. xvf driver: reloading igb with max_vfs creates VFs on every igb PF.
step_driver() {
    xo "$XVF" driver igb --max-vfs 2 >/dev/null
    udevadm settle
    local pf
    for pf in $PF1 $PF2; do
        check_eq "$pf driver after reload" igb "$(driver_of "$pf")"
        check_eq "$pf sriov_numvfs after 'driver igb --max-vfs 2'" 2 "$(numvfs_of "$pf")"
    done
    check_eq "VFs in lspci" 4 "$(lspci -D -d 8086:10ca | wc -l)"
}

# 3. assignable add / list / remove, with and without rebinding, against xl pci-assignable-list.
step_assignable() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    local help norebind=() rebind=()
    help=$("$XVF" assignable remove --help 2>&1)
    if grep -q -- '--no-rebind' <<<"$help"; then norebind=(--no-rebind)
    elif grep -q -- '--rebind' <<<"$help"; then rebind=(--rebind)
    else check "'xvf assignable remove --help' names --rebind or --no-rebind" false
    fi

    xo "$XVF" assignable add "$vf" >/dev/null
    check "$vf in xl pci-assignable-list" in_list "$vf" <<<"$(xo xl_assignable)"
    check_eq "$vf driver (sysfs)" pciback "$(driver_of "$vf")"
    check_eq "$vf driver (lspci -k)" pciback "$(lspci_driver "$vf")"
    local listed; listed=$(xo "$XVF" assignable list)
    local b
    for b in $(xl_assignable); do check "xvf assignable list names $b (as xl does)" grep -q "$b" <<<"$listed"; done
    # A second add changes nothing, and says so without asking libxl again (--json: changed false).
    local again; again=$(xo "$XVF" assignable add "$vf" --json)
    check "$vf still assignable after a second add" in_list "$vf" <<<"$(xl_assignable)"
    check_is "a second add changed something" false "$(jq .changed <<<"$again")"

    # With rebind first: libxl remembers the driver the VF had when it was made assignable.
    xo "$XVF" assignable remove "${rebind[@]}" "$vf" >/dev/null
    check "$vf gone from xl pci-assignable-list" bash -c "! xl pci-assignable-list | grep -q '$vf'"
    check_eq "$vf driver after remove with rebind" igbvf "$(driver_of "$vf")"

    xo "$XVF" assignable add "$vf" >/dev/null
    check "$vf in xl pci-assignable-list again" in_list "$vf" <<<"$(xl_assignable)"
    xo "$XVF" assignable remove "${norebind[@]}" "$vf" >/dev/null
    check "$vf gone from xl pci-assignable-list" bash -c "! xl pci-assignable-list | grep -q '$vf'"
    check_eq "$vf driver after remove without rebind" none "$(driver_of "$vf")"
    check "xvf assignable list no longer names $vf" bash -c "! '$XVF' assignable list | grep -q '$vf'"
    echo "$vf" >/sys/bus/pci/drivers_probe # give it back to igbvf for the steps after this one

    # Removing what is not assignable changes nothing and says so (a second run, Ansible's absent).
    local again; again=$(xo "$XVF" assignable remove "$vf" --json)
    check_is "removing a non-assignable VF changed something" false "$(jq .changed <<<"$again")"
    check_is "$vf driver after that" igbvf "$(driver_of "$vf")"
}

# 4a. assign to a running PV domU (permissive), release, and release back to dom0.
step_assign() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    start_domu labu1
    local domid; domid=$(xl domid labu1)

    xo "$XVF" assign "$vf" --dom labu1 --permissive >/dev/null
    check "xl pci-list labu1 shows $vf" in_list "$vf" <<<"$(xo xl_attached labu1)"
    check "pciback lists $vf as permissive" grep -q "$vf" /sys/bus/pci/drivers/pciback/permissive
    xo xenstore-ls "/local/domain/0/backend/pci/$domid/0" >/dev/null
    check "xenstore backend opts carry permissive=1" bash -c "xenstore-ls /local/domain/0/backend/pci/$domid/0 | grep -q '^opts-[0-9]* = .*permissive=1'"
    wait_for "the guest sees the VF with igbvf bound" 90 guest_sees labu1
    guest_pci labu1 >&2

    xo "$XVF" release "$vf" >/dev/null
    check "xl pci-list labu1 no longer shows $vf" bash -c "! xl pci-list labu1 | grep -q '$vf'"
    check "$vf back in xl pci-assignable-list (left on pciback)" in_list "$vf" <<<"$(xo xl_assignable)"
    check_eq "$vf driver after release" pciback "$(driver_of "$vf")"
    wait_for "the guest no longer sees the VF" 60 guest_sees_none labu1

    xo "$XVF" assign "$vf" --dom labu1 >/dev/null
    check "xl pci-list labu1 shows $vf again" in_list "$vf" <<<"$(xo xl_attached labu1)"
    xo "$XVF" release "$vf" --to-dom0 >/dev/null
    check "xl pci-list labu1 no longer shows $vf" bash -c "! xl pci-list labu1 | grep -q '$vf'"
    check "$vf not in xl pci-assignable-list" bash -c "! xl pci-assignable-list | grep -q '$vf'"
    wait_for "$vf back on igbvf in dom0" 30 bash -c "[ \"\$(basename \"\$(readlink $(sys "$vf")/driver)\")\" = igbvf ]"
}

# 4b. pool assignment: naming the PF picks a free VF, twice in a row a different one.
step_pool() {
    reset_xen
    set_numvfs "$PF1" 2
    start_domu labu1
    xo "$XVF" assign "$PF1_IF" --dom labu1 >/dev/null
    xo "$XVF" assign "$PF1_IF" --dom labu1 >/dev/null
    local attached vfs; attached=$(xo xl_attached labu1 | sort)
    vfs=$(vfs_of "$PF1" | sort)
    check_eq "VFs of $PF1 attached to labu1 (xl pci-list)" "$(echo $vfs)" "$(echo $attached)"
    wait_for "the guest sees two VFs with igbvf" 90 bash -c "[ \$(grep -a 'XVFLAB-DOMU pci:' $(guest_log labu1) | tail -n 1 | grep -o '=0x8086:0x10ca:igbvf:' | wc -l) = 2 ]"
    reset_xen
}

# 4c. a VF's link for one guest, and a clean hand-over to the next: assign sets MAC, VLAN and trust
# through the PF before the guest gets the VF; release puts back what the VF had (the PF's "no MAC",
# untagged, untrusted), as ip link and the kernel log say. Whether pciback resets the function when
# the domain lets it go is asked of the kernel's function tracer (pcie_flr), where it has one.
HANDOVER_MAC=52:54:00:4c:43:00
step_handover() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    start_domu labu1
    local before; before=$(xo ip link show "$PF1_IF")
    check "$PF1_IF VF 0 starts with no MAC set by the PF (ip link)" grep -q "vf 0 .*link/ether 00:00:00:00:00:00" <<<"$before"

    xo "$XVF" assign "$vf" --dom labu1 --mac "$HANDOVER_MAC" --vlan 42 --trust on >/dev/null
    local links; links=$(xo ip link show "$PF1_IF")
    check "$PF1_IF VF 0 has MAC $HANDOVER_MAC, VLAN 42, trust on (ip link)" \
        grep -q "vf 0 .*link/ether $HANDOVER_MAC.*vlan 42.*trust on" <<<"$links"
    check "xl pci-list labu1 shows $vf" in_list "$vf" <<<"$(xo xl_attached labu1)"
    check "xvf kept what $vf had in /run/xvf/vf/$vf" test -s "/run/xvf/vf/$vf"
    xo cat "/run/xvf/vf/$vf" >/dev/null
    wait_for "the guest sees the VF with igbvf bound" 90 guest_sees labu1

    # The kernel's own account of the release: its log, and (when tracefs has the function tracer)
    # whether an FLR ran on the way back from the guest.
    local tracing=/sys/kernel/tracing traced=0
    [ -d $tracing/events ] || mount -t tracefs nodev $tracing 2>/dev/null || true
    if grep -qx pcie_flr $tracing/available_filter_functions 2>/dev/null; then
        echo pcie_flr >$tracing/set_ftrace_filter
        echo function >$tracing/current_tracer
        echo >$tracing/trace
        traced=1
    fi
    local mark; mark=$(dmesg | wc -l)
    xo "$XVF" release "$vf" >/dev/null
    if [ $traced = 1 ]; then
        local flrs; flrs=$(grep -c 'pcie_flr' $tracing/trace || true)
        echo nop >$tracing/current_tracer
        echo >$tracing/set_ftrace_filter
        echo "kernel: pcie_flr ran $flrs time(s) during the release (function tracer)" >&2
        check "pciback reset the VF (an FLR) when labu1 let it go" test "$flrs" -ge 1
    else
        echo "kernel: no function tracer for pcie_flr here; pciback's reset is not observed" >&2
    fi
    dmesg | tail -n +$((mark + 1)) | sed 's/^/    kernel: /' >&2
    links=$(xo ip link show "$PF1_IF")
    check "$PF1_IF VF 0 has no MAC set by the PF again (ip link)" grep -q "vf 0 .*link/ether 00:00:00:00:00:00" <<<"$links"
    check "$PF1_IF VF 0 is untagged again (ip link)" bash -c "! grep 'vf 0 ' <<<'$links' | grep -q 'vlan'"
    check "$PF1_IF VF 0 is untrusted again (ip link)" bash -c "grep 'vf 0 ' <<<'$links' | grep -q 'trust off'"
    check "the record of $vf is gone" test ! -e "/run/xvf/vf/$vf"
    check "$vf stays on pciback for the next guest" test "$(driver_of "$vf")" = pciback

    # The next guest gets the VF as it was before the first.
    xo "$XVF" assign "$vf" --dom labu1 >/dev/null
    links=$(xo ip link show "$PF1_IF")
    check "the next assign inherits no MAC (ip link)" grep -q "vf 0 .*link/ether 00:00:00:00:00:00" <<<"$links"
    # The guest takes the device before it is taken away again (see guest_took).
    guest_took labu1
    xo "$XVF" release "$vf" --to-dom0 >/dev/null
    reset_xen
}

# 4d. Speed on real Xen: `xvf assign VF --dom D` (its checks and verification included) against
# `xl pci-assignable-add VF` + `xl pci-attach D VF` for the same VF, each released the same way
# afterwards; and `xvf list` against `lspci -nn`. Medians of alternating runs (5 of each assign, 7 of the
# rest: one TCG run to the next varies by a third), printed with the ratio; nothing is asserted about them
# (the lab shares the host's cores).
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
xl_assign() { xl pci-assignable-add "$1" && xl pci-attach "$2" "$1"; }
xl_release() { xl pci-detach "$2" "$1" && xl pci-assignable-remove -r "$1"; }
step_timing() {
    reset_xen
    # xvf loads the running hypervisor's own libxl release, as Debian's xl wrapper picks its xen-utils,
    # and asks the loader for no soname this dom0 lacks (each costs a search of every library directory).
    local running loads
    running=$(xl info | awk '$1 == "xen_major" { major = $3 } $1 == "xen_minor" { minor = $3 } END { print major "." minor }')
    loads=$(LD_DEBUG=files "$XVF" assignable list 2>&1 >/dev/null | sed -n 's/.*file=\(libxenlight\.so\.[0-9.]*\) .*dynamically loaded.*/\1/p')
    check_is "the libxenlight xvf asks the loader for, on Xen $running" "libxenlight.so.$running" "$loads"
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    start_domu labu1
    local xvf_times=() xl_times=() i
    for i in 1 2 3 4 5; do
        xvf_times+=("$(ms "$XVF" assign "$vf" --dom labu1)")
        check "xl pci-list labu1 shows $vf after xvf assign" in_list "$vf" <<<"$(xl_attached labu1)"
        guest_took labu1
        xo "$XVF" release "$vf" --to-dom0 >/dev/null
        wait_for "$vf back on igbvf" 30 bash -c "[ \"\$(basename \"\$(readlink $(sys "$vf")/driver)\")\" = igbvf ]"
        xl_times+=("$(ms xl_assign "$vf" labu1)")
        check "xl pci-list labu1 shows $vf after xl" in_list "$vf" <<<"$(xl_attached labu1)"
        guest_took labu1
        xo xl_release "$vf" labu1 >/dev/null
        wait_for "$vf back on igbvf" 30 bash -c "[ \"\$(basename \"\$(readlink $(sys "$vf")/driver)\")\" = igbvf ]"
    done
    local a b; a=$(median "${xvf_times[@]}"); b=$(median "${xl_times[@]}")
    echo "timing: xvf assign $a ms, xl pci-assignable-add + pci-attach $b ms, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }') (runs: xvf ${xvf_times[*]}, xl ${xl_times[*]})" | tee -a "$OUT/timing.log" >&2
    # Where xvf's time goes, each part alone: the plan (reading the host, its checks, libxl's context and
    # the domains' devices) and a start that does nothing; beside them an xl start that opens libxl's
    # context and lists the domains, which each of the two xl commands pays.
    local plan_times=() start_times=() xl_start_times=()
    for i in 1 2 3 4 5 6 7; do
        plan_times+=("$(ms "$XVF" assign "$vf" --dom labu1 --dry-run)")
        start_times+=("$(ms "$XVF" --version)")
        xl_start_times+=("$(ms xl list)")
    done
    echo "timing: parts of xvf assign: the dry run $(median "${plan_times[@]}") ms, xvf --version $(median "${start_times[@]}") ms; xl list $(median "${xl_start_times[@]}") ms" | tee -a "$OUT/timing.log" >&2
    local list_times=() lspci_times=()
    for i in 1 2 3 4 5 6 7; do list_times+=("$(ms "$XVF" list)"); lspci_times+=("$(ms lspci -nn)"); done
    a=$(median "${list_times[@]}"); b=$(median "${lspci_times[@]}")
    echo "timing: xvf list $a ms, lspci -nn $b ms, ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')" | tee -a "$OUT/timing.log" >&2
    reset_xen
}

# 5. cfg add writes a pci line that xl create accepts and honours.
step_cfg() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 1)
    xo xl pci-assignable-add "$vf" >/dev/null
    local cfg=/root/labu2.cfg
    write_domu_cfg labu2 "$cfg"
    xo "$XVF" cfg add "$cfg" "$vf,permissive=1" >/dev/null
    xo cat "$cfg" >/dev/null
    check "the config's comment is kept" grep -q '^# PV guest of the xvf lab' "$cfg"
    check "the config has a pci line naming $vf" grep -Eq "^pci *= *\[.*$vf" "$cfg"
    rm -f "$(guest_log labu2)"
    xo xl create "$cfg" >/dev/null
    check "xl pci-list labu2 shows $vf" in_list "$vf" <<<"$(xo xl_attached labu2)"
    check "pciback lists $vf as permissive" grep -q "$vf" /sys/bus/pci/drivers/pciback/permissive
    wait_for "the guest sees the VF with igbvf bound" 120 guest_sees labu2
    reset_xen
}

# 5c. An HVM guest (the lab's one HVM boot, ~2 minutes under TCG): cfg add + xl create with a VF, then
# a second VF hot-plugged with xvf assign and hot-unplugged with xvf release; each checked with
# xl pci-list (the guest slot xvf reports), xenstore's pci backend and the guest's own PCI bus.
write_hvm_cfg() { # NAME FILE CONSOLE-LOG
    cat >"$2" <<EOF
# HVM guest of the xvf lab: dom0's kernel booted directly, its console on a serial file.
name = "$1"
type = "hvm"
kernel = "$DOMU_KERNEL"
ramdisk = "$DOMU_RAMDISK"
extra = "console=ttyS0 quiet"
serial = "file:$3"
vnc = 0
sdl = 0
memory = 256
vcpus = 1
EOF
}
xl_slot() { xl pci-list "$1" | awk -v b="$2" 'NR > 1 && $2 == b { print $1 }'; }
# (Read whole first: `grep -q` in a pipe may stop the writer early, and pipefail calls that a failure.)
guest_has_at() { local state; state=$(guest_pci "$1"); [[ $state == *" 0000:00:$2=0x8086:0x10ca:igbvf:"* ]]; }
hvm_released() { local state; state=$(guest_pci labh); [[ $state == *" 0000:00:$1=0x8086:0x10ca:igbvf:"* && $state != *" 0000:00:$2="* ]]; }
step_hvm() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf0 vf1; vf0=$(vf_of "$PF1" 0); vf1=$(vf_of "$PF1" 1)
    local cfg=/root/labh.cfg log; log=$(guest_log labh)
    write_hvm_cfg labh "$cfg" "$log"
    xo "$XVF" assignable add "$vf0" >/dev/null
    xo "$XVF" cfg add "$cfg" "$vf0" >/dev/null
    check "the HVM config has a pci line naming $vf0" grep -Eq "^pci *= *\[.*$vf0" "$cfg"
    rm -f "$log"
    xo xl create "$cfg" >/dev/null
    local created; created=$(xl domid labh)
    local slot0; slot0=$(xo xl_slot labh "$vf0")
    check "xl pci-list labh shows $vf0 (at ${slot0:-no slot})" test -n "$slot0"
    wait_for "the HVM guest booted" 300 grep -aq 'XVFLAB-DOMU ready' "$log"
    wait_for "the HVM guest sees $vf0 at 00:$slot0 with igbvf" 90 guest_has_at labh "$slot0"
    guest_pci labh >&2
    # The id is read once the guest runs: under TCG an HVM guest once triple-faulted while booting
    # (Xen: "d7v0 Triple fault - invoking HVM shutdown action 1"), and libxl restarted it as a new
    # domain, with its pci= device again; the guest that booted is that one.
    local domid; domid=$(xl domid labh)
    [ "$domid" = "$created" ] || echo "  note: labh was restarted (domain $created, now $domid)" >&2

    local out; out=$(xo "$XVF" assign "$vf1" --dom labh)
    local slot1; slot1=$(xo xl_slot labh "$vf1")
    check "xl pci-list labh shows the hot-plugged $vf1 (at ${slot1:-no slot})" test -n "$slot1"
    check_eq "the guest slot of $vf1" "$slot1" "$(sed -n 's/.* at guest slot \([0-9a-f.]*\).*/\1/p' <<<"$out")"
    # Xenstore, as libxl keeps it: the device's own entry says which domain has it; the pci backend,
    # when libxl wrote one for this HVM guest (4.20 once had none at this point), names it too.
    local info="/libxl/pci/$(tr ':.' '--' <<<"$vf1")"
    xenstore-ls -f "/local/domain/0/backend/pci/$domid" 2>&1 | sed 's/^/    /' >&2 || true
    wait_for "xenstore says labh ($domid) has $vf1 ($info/domid)" 20 bash -c "[ \"\$(xenstore-read $info/domid 2>/dev/null)\" = $domid ]"
    if xenstore-ls "/local/domain/0/backend/pci/$domid/0" >/dev/null 2>&1; then
        check "xenstore's pci backend of labh names $vf1" \
            bash -c "xenstore-ls /local/domain/0/backend/pci/$domid/0 | grep -q '^dev-[0-9]* = \"$vf1\"'"
    fi
    wait_for "the HVM guest sees $vf1 at 00:$slot1 with igbvf (ACPI hot-plug)" 90 guest_has_at labh "$slot1"

    xo "$XVF" release "$vf1" >/dev/null
    check "xl pci-list labh no longer shows $vf1" test -z "$(xl_slot labh "$vf1")"
    check_is "$vf1 driver after release" pciback "$(driver_of "$vf1")"
    # One condition, retried: the guest's console file can end in a line QEMU has not finished writing.
    wait_for "the HVM guest no longer sees $vf1 and still has $vf0" 90 hvm_released "$slot0" "$slot1"
    reset_xen
}

# 5d. Guests created without passthrough, PV and HVM (created, not booted: Xen decides at creation):
# xl's own attach fails, each in its own words, and xvf refuses up front, leaving the VF on igbvf.
step_no_passthrough() {
    reset_xen
    set_numvfs "$PF1" 1
    local vf name out rc; vf=$(vf_of "$PF1" 0)
    write_domu_cfg labnp /root/labnp.cfg
    write_hvm_cfg labnph /root/labnph.cfg "$(guest_log labnph)"
    for name in labnp labnph; do
        xo xl create "/root/$name.cfg" >/dev/null
        wait_for "udev settled for $vf on igbvf" 30 bash -c "[ \"\$(basename \"\$(readlink $(sys "$vf")/driver)\")\" = igbvf ]"
        rc=0; out=$("$XVF" assign "$vf" --dom "$name" 2>&1) || rc=$?
        printf '%s\n' "$out" >&2
        check_eq "xvf assign to $name: exit code" 1 "$rc"
        check "xvf says $name was created without passthrough" grep -q "created without PCI passthrough" <<<"$out"
        check "xvf says nothing was changed" grep -q "nothing was changed$" <<<"$out"
        check_is "$vf driver after the refusal" igbvf "$(driver_of "$vf")"
        check "$vf not in xl pci-assignable-list" bash -c "! xl pci-assignable-list | grep -q '$vf'"
        # Xen's own answer, through xl: the fact xvf's check stands on.
        xo xl pci-assignable-add "$vf" >/dev/null
        rc=0; out=$(xl pci-attach "$name" "$vf" 2>&1) || rc=$?
        printf '%s\n' "$out" >&2
        check "xl pci-attach to $name fails" test "$rc" != 0
        if [ "$name" = labnp ]; then
            check "libxl: xc_assign_device failed: Operation not supported" grep -q "xc_assign_device failed: Operation not supported" <<<"$out"
        else
            check "libxl: cannot be assigned - no IOMMU?" grep -q "cannot be assigned - no IOMMU" <<<"$out"
        fi
        xo xl pci-assignable-remove -r "$vf" >/dev/null
        xo xl destroy "$name" >/dev/null
    done
}

# 8a (boot 1). A PV guest holding a VF through a save and a restore. First xl alone (the "before" the
# lab measured: xl save reports success and the restored guest often crashes; printed, not checked,
# since it does not always crash), then xvf save / xvf restore of a guest whose VF has a MAC: alive
# afterwards, its VF attached, igbvf bound in the guest, the MAC back on the VF. Figures: how long the
# VF was away and what save + restore took, beside xl save + restore of the same guest without a VF.
SAVE_MAC=52:54:00:4c:44:00
step_save_restore() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    mkdir -p /var/lib/xen/save
    rm -f /var/lib/xen/save/labs*

    start_domu labs
    xo xl pci-assignable-add "$vf" >/dev/null
    xo xl pci-attach labs "$vf,permissive=1" >/dev/null
    wait_for "the guest sees the VF" 90 guest_sees labs
    local rc=0 alive=no
    xl save labs /var/lib/xen/save/labs-xl >&2 2>&1 || rc=$?
    echo "xl alone: xl save with the VF attached: exit $rc" >&2
    if [ $rc = 0 ]; then
        rc=0
        xl restore /var/lib/xen/save/labs-xl >&2 2>&1 || rc=$?
        sleep 20
        if xl domid labs >/dev/null 2>&1; then alive=yes; fi
        echo "xl alone: xl restore: exit $rc; the guest 20 s later: $([ $alive = yes ] && echo running || echo gone)" >&2
        xl dmesg 2>/dev/null | grep -E 'crashed|Fault while' | tail -n 3 >&2 || true
    fi
    figure "xl alone, save and restore of a PV guest with its VF attached: the restored guest $([ $alive = yes ] && echo 'ran 20 s later' || echo 'was gone within 20 s')"
    reset_xen
    rm -f /var/lib/xen/save/labs*

    # The same guest without a VF, for the figures.
    start_domu labs
    local t0 t1 t2
    t0=$(date +%s%N)
    xo xl save labs /var/lib/xen/save/labs-plain >/dev/null
    t1=$(date +%s%N)
    xo xl restore /var/lib/xen/save/labs-plain >/dev/null
    t2=$(date +%s%N)
    local plain_save=$(((t1 - t0) / 1000000)) plain_restore=$(((t2 - t1) / 1000000))
    xo xl destroy labs >/dev/null
    rm -f /var/lib/xen/save/labs*

    start_domu labs
    xo "$XVF" assign "$vf" --dom labs --permissive --mac "$SAVE_MAC" >/dev/null
    wait_for "the guest sees the VF" 90 guest_sees labs
    check "$PF1_IF VF 0 has the guest's MAC (ip link)" bash -c "ip link show $PF1_IF | grep -q 'vf 0 .*link/ether $SAVE_MAC'"
    t0=$(date +%s%N)
    xo "$XVF" save labs /var/lib/xen/save/labs >/dev/null
    t1=$(date +%s%N)
    check "the image exists" test -s /var/lib/xen/save/labs
    check "its record names $vf" grep -q "^device $vf spec=$vf,permissive=1 .*mac=$SAVE_MAC" /var/lib/xen/save/labs.xvf
    check "labs is gone" bash -c "! xl domid labs"
    check "$vf is on pciback, assignable" in_list "$vf" <<<"$(xo xl_assignable)"
    xo "$XVF" restore /var/lib/xen/save/labs >/dev/null
    t2=$(date +%s%N)
    check "xl pci-list labs shows $vf" in_list "$vf" <<<"$(xo xl_attached labs)"
    check "$PF1_IF VF 0 has the guest's MAC again (ip link)" bash -c "ip link show $PF1_IF | grep -q 'vf 0 .*link/ether $SAVE_MAC'"
    wait_for "the restored guest sees the VF with igbvf bound" 90 guest_sees labs
    sleep 20
    check "labs still runs 20 s later" xl domid labs
    check "the guest still sees its VF" guest_sees labs
    figure "xvf save + restore, PV guest with a VF: save $(((t1 - t0) / 1000000)) ms, restore $(((t2 - t1) / 1000000)) ms, VF away $(((t2 - t0) / 1000000)) ms; xl save + restore of the same guest without a VF: save $plain_save ms, restore $plain_restore ms"
    xo "$XVF" release "$vf" >/dev/null
    reset_xen
    rm -f /var/lib/xen/save/labs*
}

# 8b (boot 1). Live migration of a guest whose VF and netfront form an active-backup bond (the
# README's guest), to the same host: xl runs the receiving side itself when its ssh command is empty.
# xl alone is refused (Xen enables no log-dirty mode for a domain with an assigned device); xvf migrate
# detaches the VF (the bond fails over to netfront), moves the guest and gives it its VF back (the
# bond goes back to it). dom0 pings the guest throughout through a bridge that holds the guest's vif
# and PF2's port, which reaches PF1's VF over the lab's wire (a QEMU hub joins the two NICs).
# Figures: packets lost and time taken, beside the same guest without a VF moved by xl migrate.
MIGRATE_MAC=52:54:00:4c:47:00
MIGRATE_NET=10.99.0
MIGRATE_BRIDGE=xvflabbr
migrate_net_up() {
    ip link add "$MIGRATE_BRIDGE" type bridge 2>/dev/null || true
    ip link set "$PF2_IF" master "$MIGRATE_BRIDGE"
    ip link set "$PF2_IF" up
    ip link set "$PF1_IF" up
    ip addr replace "$MIGRATE_NET.1/24" dev "$MIGRATE_BRIDGE"
    ip link set "$MIGRATE_BRIDGE" up
}
migrate_net_down() {
    ip link del "$MIGRATE_BRIDGE" 2>/dev/null || true
    ip link set "$PF2_IF" down 2>/dev/null || true
    ip link set "$PF1_IF" down 2>/dev/null || true
}
reachable() { ping -n -q -c 1 -W 1 "$MIGRATE_NET.2" >/dev/null 2>&1; }
# For a failed step's log (8c once found its HVM guest unreachable before any move, on Debian 13): the
# port the bridge learned the guest's MAC on, dom0's neighbour entry for it, the bridge's ports, PF1's
# VF MACs, and the end of each HVM guest's serial output as it is then.
net_state() {
    echo "the lab's network as the step ended:" >&2
    {
        bridge fdb show br "$MIGRATE_BRIDGE" | grep -i "$MIGRATE_MAC" || echo "no fdb entry for $MIGRATE_MAC"
        ip neigh show "$MIGRATE_NET.2"
        bridge link show
        ip link show "$PF1_IF"
        tail -n 5 "$CONSOLE_DIR"/serial-*.log
    } 2>&1 | sed 's/^/    /' >&2 || true
}
# ping_during FILE COMMAND…: pings the guest every 0.2 s from before COMMAND until 5 s after it; FILE
# gets "SENT LOST MS" (MS: how long COMMAND took). COMMAND's own status is returned.
ping_during() {
    local file=$1 pid rc=0 t0 t1 out; shift
    out=$(mktemp)
    ping -n -i 0.2 "$MIGRATE_NET.2" >"$out" 2>&1 &
    pid=$!
    sleep 2
    t0=$(date +%s%N)
    xo "$@" >/dev/null || rc=$?
    t1=$(date +%s%N)
    sleep 5
    kill -INT "$pid"
    wait "$pid" || true
    grep -E 'transmitted|rtt' "$out" >&2 || true
    local sent got
    sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$out")
    got=$(sed -n 's/.* transmitted, \([0-9]*\) received.*/\1/p' "$out")
    rm -f "$out"
    echo "${sent:-0} $((${sent:-0} - ${got:-0})) $(((t1 - t0) / 1000000))" >"$file"
    return $rc
}
# xl alone does not move a guest holding a VF, which keeps running here with it.
xl_refuses_with_vf() { # NAME VF
    local rc=0
    xl migrate -s '' "$1" 'xl migrate-receive' >&2 2>&1 || rc=$?
    echo "xl alone, with the VF attached: exit $rc" >&2
    check "xl alone refuses (Xen will not migrate a guest with an assigned device)" test "$rc" != 0
    check "$1 still runs with its VF" in_list "$2" <<<"$(xo xl_attached "$1")"
}
step_migrate() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    trap '[ $? = 0 ] || net_state; migrate_net_down' EXIT
    migrate_net_up
    # The guest's address, on its kernel line for its init (write_domu_cfg reads DOMU_EXTRA).
    local DOMU_EXTRA="xvflab.ip=$MIGRATE_NET.2/24"

    # The same guest without a VF (its bond holds the netfront alone), moved by xl alone.
    start_domu labn "vif = [ 'mac=$MIGRATE_MAC,bridge=$MIGRATE_BRIDGE' ]"
    wait_for "the guest without a VF answers ping" 90 reachable
    local plain_rc=0
    ping_during /tmp/plain xl migrate -s '' labn 'xl migrate-receive' 2>/tmp/plain.err || plain_rc=$?
    cat /tmp/plain.err >&2
    # Xen moves a PV guest's memory with log-dirty mode, which for PV needs shadow paging: a Xen built
    # without it (Debian 13's 4.20) migrates no PV guest at all ("Failed to enable logdirty: 95", 95 =
    # EOPNOTSUPP), with or without a VF.
    # There the step checks instead that xvf migrate refuses up front (8c moves an HVM guest there).
    local no_pv_migration=no
    if [ $plain_rc != 0 ] && grep -q 'Failed to enable logdirty: 95' /tmp/plain.err; then
        no_pv_migration=yes
    else
        check "xl migrate of the guest without a VF succeeds" test $plain_rc = 0
    fi
    check "labn runs after xl migrate" xl domid labn
    wait_for "labn answers ping after the move" 30 reachable
    local plain; read -r -a plain </tmp/plain
    xo xl destroy labn >/dev/null

    start_domu labm "vif = [ 'mac=$MIGRATE_MAC,bridge=$MIGRATE_BRIDGE' ]"
    xo "$XVF" assign "$vf" --dom labm --permissive --mac "$MIGRATE_MAC" >/dev/null
    wait_for "the guest sees the VF with igbvf bound" 90 guest_sees labm
    wait_for "the guest's bond holds the VF (and sends over it when it has link)" 60 bond_ready labm
    # Seen on both dom0s: QEMU's emulated 82576 PF, under Xen, does not answer its VFs' mailbox (the
    # PF's driver gets no VF message; igbvf: "PF still in reset state"), so a VF gets no MAC from the
    # PF and no link, in dom0 and in guests alike. The bond then sends over netfront throughout; with
    # a real NIC it sends over the VF and fails over to netfront while the VF is away.
    local vf_link=no; guest_vf_link labm && vf_link=yes
    echo "the guest's VF has link: $vf_link; $(guest_net labm)" >&2
    wait_for "the guest answers ping" 60 reachable
    xl_refuses_with_vf labm "$vf"
    local before; before=$(xl domid labm)
    if [ $no_pv_migration = yes ]; then
        local out rc=0
        out=$("$XVF" migrate labm 'xl migrate-receive' --ssh '' 2>&1) || rc=$?
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        check_is "xvf migrate's exit code" 3 "$rc"
        check "xvf says this Xen has no shadow paging and nothing was changed" grep -q "this Xen has no shadow paging.*nothing was changed" <<<"$out"
        check "labm runs under the same id" test "$(xl domid labm)" = "$before"
        check "xl pci-list labm shows $vf" in_list "$vf" <<<"$(xo xl_attached labm)"
        check "$PF1_IF VF 0 has the guest's MAC (ip link)" bash -c "ip link show $PF1_IF | grep -q 'vf 0 .*link/ether $MIGRATE_MAC'"
        check "the guest's bond holds its VF" bond_ready labm
        check "the guest answers ping" reachable
        check "no record is left" test -z "$(ls -A /var/lib/xvf/guests 2>/dev/null)"
        echo "this Xen migrates no PV guest, with or without a VF (log-dirty: EOPNOTSUPP, no shadow paging); checked instead: xvf migrate refuses before the VF leaves the guest (8c moves an HVM guest)" >"$STEPS/8b.na"
        xo "$XVF" release "$vf" >/dev/null
        reset_xen
        return 0
    fi
    ping_during /tmp/vf "$XVF" migrate labm 'xl migrate-receive' --ssh ''
    local moved; read -r -a moved </tmp/vf
    check "labm runs under a new id" test "$(xl domid labm)" != "$before"
    check "xl pci-list labm shows $vf" in_list "$vf" <<<"$(xo xl_attached labm)"
    check "$PF1_IF VF 0 has the guest's MAC (ip link)" bash -c "ip link show $PF1_IF | grep -q 'vf 0 .*link/ether $MIGRATE_MAC'"
    wait_for "the migrated guest sees the VF with igbvf bound" 90 guest_sees labm
    wait_for "the migrated guest's bond holds the VF again (and sends over it when it has link)" 60 bond_ready labm
    echo "after the move: $(guest_net labm)" >&2
    check "the guest answers ping" reachable
    check "no record is left" test -z "$(ls -A /var/lib/xvf/guests 2>/dev/null)"
    figure "live migration to the same host, ping every 0.2 s: PV guest with a VF+netfront bond, xvf migrate: ${moved[1]} of ${moved[0]} lost, ${moved[2]} ms (the VF had link: $vf_link); the same guest without a VF, xl migrate: ${plain[1]} of ${plain[0]} lost, ${plain[2]} ms"
    xo "$XVF" release "$vf" >/dev/null
    reset_xen
}

# 8c. The same move for an HVM guest (the only guests Debian 13's Xen can migrate: HAP, no shadow
# paging), beside an HVM guest like it without a VF, moved by xl alone. The VF comes back at its guest slot.
# Each guest has its own serial file: the receiving device model opens the config's file again
# (truncating it), and xenconsoled's log of the guest's unused PV console keeps the guest-NAME names.
# A netfront alone (type=vif: no emulated NIC) on the lab's bridge; passthrough for the VF hot-plugged.
write_hvm_migration_cfg() { # NAME FILE SERIAL-FILE
    write_hvm_cfg "$1" "$2" "$3"
    sed -i "s|^extra = \"console=ttyS0 quiet\"|extra = \"console=ttyS0 quiet xvflab.ip=$MIGRATE_NET.2/24\"|" "$2"
    printf '%s\n' "vif = [ 'mac=$MIGRATE_MAC,bridge=$MIGRATE_BRIDGE,type=vif' ]" 'passthrough = "enabled"' >>"$2"
    check "$1's kernel line carries its address" grep -q "xvflab.ip=$MIGRATE_NET.2/24" "$2"
    rm -f "$3"
    xo xl create "$2" >/dev/null
    # Under TCG an HVM guest has once stayed silent after its firmware (seen on Debian 13 with two
    # builds beside the lab): it gets one more start, after its serial output and device model's log.
    if ! timeout 300 bash -c "until grep -aq 'XVFLAB-DOMU ready' '$3' 2>/dev/null; do sleep 2; done"; then
        echo "note: $1 did not boot in 300 s; its serial output and device model's log, then one more start:" >&2
        tail -n 20 "$3" /var/log/xen/qemu-dm-"$1".log 2>&1 | sed 's/^/    /' >&2 || true
        xo xl destroy "$1" >/dev/null
        rm -f "$3"
        xo xl create "$2" >/dev/null
    fi
    wait_for "the HVM guest $1 booted" 300 grep -aq 'XVFLAB-DOMU ready' "$3"
}
# Each domain's device model as xenstore names it, and the device model processes with their parents:
# an HVM guest's PCI attach goes through its device model's QMP socket.
device_models() { # WHEN
    local d
    echo "device models ($1):" >&2
    for d in $(xl list | awk 'NR > 2 { print $2 }'); do
        echo "    domain $d: device-model-pid $(xenstore-read "/local/domain/$d/image/device-model-pid" 2>/dev/null || echo none)" >&2
    done
    ps -eo pid,ppid,etimes,args | awk '/qemu-system|\/xl /' | grep -v awk | sed 's/^/    /' | cut -c1-200 >&2 || true
}
step_hvm_migrate() {
    reset_xen
    set_numvfs "$PF1" 2
    local vf; vf=$(vf_of "$PF1" 0)
    trap '[ $? = 0 ] || net_state; migrate_net_down' EXIT
    migrate_net_up

    # (A second move of the guest below, once its VF was released, failed on Debian 13's Xen: the
    # device model did not answer the log-dirty switch and the domain vanished. So its own guest.)
    write_hvm_migration_cfg labhn /root/labhn.cfg "$CONSOLE_DIR/serial-labhn.log"
    wait_for "the guest without a VF answers ping" 60 reachable
    ping_during /tmp/hvm-plain xl migrate -s '' labhn 'xl migrate-receive'
    local plain; read -r -a plain </tmp/hvm-plain
    check "labhn runs after xl migrate" xl domid labhn
    wait_for "labhn answers ping after the move" 30 reachable
    xo xl destroy labhn >/dev/null

    local log="$CONSOLE_DIR/serial-labhm.log"
    write_hvm_migration_cfg labhm /root/labhm.cfg "$log"
    xo "$XVF" assign "$vf" --dom labhm --permissive --mac "$MIGRATE_MAC" >/dev/null
    local slot; slot=$(xo xl_slot labhm "$vf")
    check "xl pci-list labhm shows $vf (at ${slot:-no slot})" test -n "$slot"
    wait_for "the HVM guest sees $vf at 00:$slot with igbvf" 90 guest_has_at "$log" "$slot"
    wait_for "the guest's bond holds the VF (and sends over it when it has link)" 60 bond_ready "$log"
    local vf_link=no; guest_vf_link "$log" && vf_link=yes
    echo "the guest's VF has link: $vf_link; $(guest_net "$log")" >&2
    wait_for "the guest answers ping" 60 reachable
    xl_refuses_with_vf labhm "$vf"
    local before; before=$(xl domid labhm)
    device_models "before xvf migrate"
    # -v: libxl's whole log of the run, whose first error names the cause when an attach fails.
    local migrate_rc=0
    ping_during /tmp/hvm-vf "$XVF" -v migrate labhm 'xl migrate-receive' --ssh '' || migrate_rc=$?
    device_models "after xvf migrate"
    test $migrate_rc = 0
    local moved; read -r -a moved </tmp/hvm-vf
    check "labhm runs under a new id" test "$(xl domid labhm)" != "$before"
    check_eq "the guest slot of $vf after the move" "$slot" "$(xo xl_slot labhm "$vf")"
    check "$PF1_IF VF 0 has the guest's MAC (ip link)" bash -c "ip link show $PF1_IF | grep -q 'vf 0 .*link/ether $MIGRATE_MAC'"
    wait_for "the migrated guest sees $vf at 00:$slot again with igbvf" 90 guest_has_at "$log" "$slot"
    wait_for "the migrated guest's bond holds the VF again (and sends over it when it has link)" 60 bond_ready "$log"
    echo "after the move: $(guest_net "$log")" >&2
    check "the guest answers ping" reachable
    check "no record is left" test -z "$(ls -A /var/lib/xvf/guests 2>/dev/null)"
    figure "live migration to the same host, ping every 0.2 s: HVM guest with a VF+netfront bond, xvf migrate: ${moved[1]} of ${moved[0]} lost, ${moved[2]} ms (the VF had link: $vf_link); the same guest without a VF, xl migrate: ${plain[1]} of ${plain[0]} lost, ${plain[2]} ms"
    xo "$XVF" release "$vf" >/dev/null
    reset_xen
}

# 6f (boot 1, last). A guest holding a VF is left running for the reboot: xvf-guests.service (enabled
# and started by the package) detaches and records its VF at shutdown, xendomains saves it (Debian's
# XENDOMAINS_SAVE), and at boot 2 xendomains restores it and the unit gives it its VF back.
REBOOT_MAC=52:54:00:4c:45:00
step_reboot_guest() {
    check "the package enabled xvf-guests.service" test "$(systemctl is-enabled xvf-guests.service)" = enabled
    check "xvf-guests.service is active (its stop runs at shutdown)" test "$(systemctl is-active xvf-guests.service)" = active
    check "xendomains saves guests at shutdown" grep -q '^XENDOMAINS_SAVE=/var/lib/xen/save' /etc/default/xendomains
    local vf; vf=$(vf_of "$PF1" 0)
    start_domu labr
    xo "$XVF" assign "$vf" --dom labr --permissive --mac "$REBOOT_MAC" >/dev/null
    wait_for "the guest sees the VF" 90 guest_sees labr
    echo "$vf" >"$OUT/boot2-guest-vf"
    # Only doctor's xendomains check is this step's: others may fail until the reboot (6c's leases are
    # bound by the next boot's xvf boot).
    local report; report=$("$XVF" doctor 2>&1) || true
    printf '%s\n' "$report" | sed 's/^/    /' >&2
    check "doctor's xendomains check passes" grep -q '^ *PASS  *xendomains ' <<<"$report"
}

# 6f (boot 2). xendomains restored labr and xvf-guests.service gave it its VF back, with its MAC.
step_reboot_guest_back() {
    local vf; vf=$(cat "$OUT/boot2-guest-vf")
    wait_for "xvf-guests.service has started" 120 bash -c "[ \"\$(systemctl show -p ActiveState --value xvf-guests.service)\" = active ]"
    xo journalctl -b -1 -u xvf-guests.service --no-pager -o cat >/dev/null || true
    xo journalctl -b -u xvf-guests.service --no-pager -o cat >/dev/null || true
    xo journalctl -b -u xendomains.service --no-pager -o cat >/dev/null || true
    check_is "xvf-guests.service result" success "$(systemctl show -p Result --value xvf-guests.service)"
    check "labr runs again (restored by xendomains)" xl domid labr
    check "xl pci-list labr shows $vf" in_list "$vf" <<<"$(xo xl_attached labr)"
    check "$PF1_IF VF 0 has labr's MAC (ip link)" bash -c "ip link show $PF1_IF | grep -q 'vf 0 .*link/ether $REBOOT_MAC'"
    wait_for "the restored guest sees the VF with igbvf bound" 90 guest_sees labr
    check "the record is gone" test -z "$(ls -A /var/lib/xvf/guests 2>/dev/null)"
    # The VF back on pciback for the next steps, which expect every hidden VF assignable.
    xo "$XVF" release "$vf" >/dev/null
    xo xl destroy labr >/dev/null
}

step_cfg_line() {
    local vf; vf=$(vf_of "$PF1" 0)
    local line; line=$(xo "$XVF" cfg line "$vf,permissive=1")
    check "the line is an xl pci list naming $vf" grep -Eq "^pci *= *\[ *'$vf,permissive=1' *\]" <<<"$line"
}

# What update-grub would put on the dom0 Linux line of the Xen entry: /etc/default/grub, then
# /etc/default/grub.d/*.cfg, with the _XEN_REPLACE variables replacing the plain ones.
grub_dom0_args() (
    set +eu
    . /etc/default/grub
    for f in /etc/default/grub.d/*.cfg; do [ -e "$f" ] && . "$f"; done
    echo ${GRUB_CMDLINE_LINUX_XEN_REPLACE:-$GRUB_CMDLINE_LINUX} \
        ${GRUB_CMDLINE_LINUX_XEN_REPLACE_DEFAULT:-$GRUB_CMDLINE_LINUX_DEFAULT}
)

# 6 (boot 1). A persistent max_vfs (4 VFs a PF) and bootline --write, then a reboot through what was
# written. Every VF is hidden but PF2's VFs 2 and 3: those stay dom0's until the host config's leases
# take them at boot (6c); a VF pciback holds from boot is someone's, and no lease takes it.
step_bootline_write() {
    reset_xen
    # A Debian host with GRUB has this file; the lab's dom0 boots without GRUB, so it gets the stock one.
    [ -f /etc/default/grub ] || printf 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT=""\nGRUB_CMDLINE_LINUX=""\n' >/etc/default/grub
    local said
    said=$(xo "$XVF" driver igb --max-vfs 4 --persist)
    udevadm settle
    check "eight VFs after 'driver igb --max-vfs 4'" test "$(($(numvfs_of "$PF1") + $(numvfs_of "$PF2")))" = 8
    local vfs; vfs=($(vfs_of "$PF1") $(vf_of "$PF2" 0) $(vf_of "$PF2" 1))
    said+=$'\n'$(xo "$XVF" bootline "${vfs[@]}" --write)
    xo grep -r . /etc/default/grub /etc/default/grub.d /etc/modprobe.d >/dev/null
    local linux; linux=$(grub_dom0_args)
    echo "dom0 Linux arguments update-grub would write: $linux" >&2
    check "the dom0 line hides ${vfs[*]}" grep -qF "xen-pciback.hide=($(IFS='|'; echo "${vfs[*]}" | sed 's/|/)(/g'))" <<<"$linux"
    check "modprobe.d hands the VFs to xen-pciback" bash -c "grep -rqs '^options xen-pciback hide=' /etc/modprobe.d"
    check "modprobe.d has igb create 4 VFs" bash -c "grep -rqs '^options igb max_vfs=4' /etc/modprobe.d"
    # Do what xvf told the user to do: the drivers load from the initramfs, so it must be rebuilt.
    if grep -q 'update-initramfs -u' <<<"$said"; then
        xo update-initramfs -u >/dev/null
        cp "/boot/initrd.img-$(uname -r)" "$OUT/initrd.img"
    fi
    printf '%s\n' "${vfs[@]}" >"$OUT/boot2-expected-vfs"
    # The lab's loader reads the new dom0 line (and initrd) from here for boot 2.
    echo "$linux" >"$OUT/reboot-args"
}

# 6 (boot 2). The VFs exist again and pciback holds them before any domU starts.
step_after_reboot() {
    check "boot 1 recorded the VFs to expect" test -s "$OUT/boot2-expected-vfs"
    xo cat /proc/cmdline >/dev/null
    local pf
    # Where igb and the modprobe.d files were when dom0 booted: igb loading from an initramfs that
    # predates /etc/modprobe.d/xvf-igb.conf ignores max_vfs.
    lsinitramfs "/boot/initrd.img-$(uname -r)" | grep -E '/igb\.ko|modprobe\.d/' >&2 || true
    dmesg | grep -E 'igb|pciback' | head -n 20 >&2 || true
    for pf in $PF1 $PF2; do check_is "$pf sriov_numvfs after reboot" 4 "$(numvfs_of "$pf")"; done
    check_is "domUs running" 0 "$(xl list | awk 'NR > 2' | wc -l)"
    local vf assignable; assignable=$(xo xl_assignable)
    for vf in $(cat "$OUT/boot2-expected-vfs"); do
        check_is "$vf driver after reboot" pciback "$(driver_of "$vf")"
        check "$vf in xl pci-assignable-list" in_list "$vf" <<<"$assignable"
    done
}

# 6c (boot 1). The host config for `xvf boot`, run at the next boot by its own systemd unit: PF2's
# VFs 0 and 1 get fixed MACs and go to pciback; two leases, lab-a and lab-b, each get a free VF of PF2
# (its VFs 2 and 3, which 6a left to dom0) under its name, with its MAC. (With 6a's max_vfs=4 igb
# already makes 4 VFs, so the count below changes nothing.)
MACS=(52:54:00:4c:42:00 52:54:00:4c:42:01)
LEASES=(lab-a lab-b)
LEASE_MACS=(52:54:00:4c:48:0a 52:54:00:4c:48:0b)
step_boot_config() {
    # The unit comes with the package (step i); enabling it is the user's part.
    check "the package's xvf-boot.service runs $XVF" bash -c "systemctl cat xvf-boot.service | grep -qx 'ExecStart=$XVF --wait 90 boot'"
    xo systemctl enable xvf-boot.service >/dev/null
    printf '%s\n' "# xvf lab: PF2 ($PF2_IF) keeps four VFs: two with fixed MACs, two leased by name, all for guests." \
        "sriov = [ '$PF2_IF,vfs=4' ]" \
        "vf = [ '$PF2_IF/0,mac=${MACS[0]}', '$PF2_IF/1,mac=${MACS[1]}'," \
        "       '${LEASES[0]},mac=${LEASE_MACS[0]}', '${LEASES[1]},mac=${LEASE_MACS[1]}' ]" \
        "assignable = [ '$PF2_IF/0-1', '$PF2_IF,name=${LEASES[0]}', '$PF2_IF,name=${LEASES[1]}' ]" >/etc/xen/xvf.cfg
    xo cat /etc/xen/xvf.cfg >/dev/null
    xo "$XVF" boot --dry-run >/dev/null
    echo "$PF2_IF" >"$OUT/boot2-expected-macs-pf"
    [ -f "$OUT/reboot-args" ] || grub_dom0_args >"$OUT/reboot-args"
}

# 6d (boot 2). xvf-boot.service ran before any guest and left the MACs and pciback as configured.
# 6e (boot 2). A PF's driver reloads: the kernel recreates the PFs, and the package's udev rule has
# systemd run `xvf boot --pf` for each, which puts back the MACs and pciback's hold within 30 s.
step_pf_recovery() {
    local pf_if; pf_if=$(cat "$OUT/boot2-expected-macs-pf")
    local pf; pf=$(basename "$(readlink "/sys/class/net/$pf_if/device")")
    check "the package installed the PF rule" test -f /usr/lib/udev/rules.d/90-xvf-pf.rules
    check "systemd knows xvf-pf@.service" bash -c "systemctl cat xvf-pf@$pf.service | grep -qx 'ExecStart=$XVF --wait 90 boot --pf %I'"
    # Xen lets go of the VFs first, as an operator does before reloading the driver (pciback keeps
    # assigned VFs, and the PF driver refuses to free them). Through xvf: xl's own remove fails for the
    # VFs pciback took at boot (hidden), which Xen never quarantined ("failed to de-quarantine").
    xo "$XVF" assignable remove $(vfs_of "$pf") >/dev/null
    xo modprobe -r igb
    xo modprobe igb
    local t=0
    until [ -e "$(sys "$pf")/virtfn3" ] && [ "$(driver_of "$(vf_of "$pf" 1)")" = pciback ] \
        && [ "$(driver_of "$(vf_of "$pf" 3)")" = pciback ] \
        && [ "$(systemctl show -p ActiveState --value "xvf-pf@$pf.service")" != activating ]; do
        [ $t -lt 30 ] || break
        sleep 1
        t=$((t + 1))
    done
    echo "after the reload: $t s" >&2
    xo systemctl status --no-pager "xvf-pf@$pf.service" >/dev/null || true
    xo journalctl -u "xvf-pf@$pf.service" --no-pager -o cat >/dev/null || true
    check_is "xvf-pf@$pf.service result" success "$(systemctl show -p Result --value "xvf-pf@$pf.service")"
    local links; links=$(xo ip link show "$pf_if")
    check "$pf_if VF 0 has MAC ${MACS[0]} again (ip link)" grep -q "vf 0 .*link/ether ${MACS[0]}" <<<"$links"
    check "$pf_if VF 1 has MAC ${MACS[1]} again (ip link)" grep -q "vf 1 .*link/ether ${MACS[1]}" <<<"$links"
    local assignable; assignable=$(xo xl_assignable)
    for vf in $(vf_of "$pf" 0) $(vf_of "$pf" 1); do
        check_is "$vf driver" pciback "$(driver_of "$vf")"
        check "$vf in xl pci-assignable-list" in_list "$vf" <<<"$assignable"
    done
    if [ -s "$OUT/boot2-lease-vfs" ]; then
        check_is "the leases' VFs after the reload (sticky)" "$(cat "$OUT/boot2-lease-vfs")" "$(leases_bound "$pf" "$pf_if")"
    fi
}
step_boot_applied() {
    check "boot 1 wrote the host config" test -s "$OUT/boot2-expected-macs-pf"
    local pf_if; pf_if=$(cat "$OUT/boot2-expected-macs-pf")
    xo systemctl status --no-pager xvf-boot.service >/dev/null || true
    check_is "xvf-boot.service result" success "$(systemctl show -p Result --value xvf-boot.service)"
    check_is "xvf-boot.service state" active "$(systemctl show -p ActiveState --value xvf-boot.service)"
    local links; links=$(xo ip link show "$pf_if")
    check "$pf_if VF 0 has MAC ${MACS[0]} (ip link)" grep -q "vf 0 .*link/ether ${MACS[0]}" <<<"$links"
    check "$pf_if VF 1 has MAC ${MACS[1]} (ip link)" grep -q "vf 1 .*link/ether ${MACS[1]}" <<<"$links"
    local pf; pf=$(basename "$(readlink "/sys/class/net/$pf_if/device")")
    local vf assignable; assignable=$(xo xl_assignable)
    for vf in $(vf_of "$pf" 0) $(vf_of "$pf" 1); do
        check_is "$vf driver" pciback "$(driver_of "$vf")"
        check "$vf in xl pci-assignable-list" in_list "$vf" <<<"$assignable"
    done
    local bound; bound=$(leases_bound "$pf" "$pf_if")
    for vf in $bound; do
        check "$vf is neither fixed VF" test "$vf" != "$(vf_of "$pf" 0)" -a "$vf" != "$(vf_of "$pf" 1)"
    done
    echo "$bound" >"$OUT/boot2-lease-vfs"
    local listed; listed=$(xo "$XVF" list --json)
    check "xvf list --json names lease ${LEASES[0]}" test "$(jq -r --arg a "$(vf_named "$pf" "${LEASES[0]}")" '.. | objects | select(.bdf? == $a) | .lease' <<<"$listed" | head -n 1)" = "${LEASES[0]}"
    xo "$XVF" show "${LEASES[1]}" >/dev/null
}

# 6g (boot 2). Guests whose configs name a lease (`pci = [ 'name=lab-a' ]`) get its VF from xl create
# alone (libxl resolves the name), with the lease's MAC; the second lease's guest gets the other VF.
step_lease_guests() {
    local pf_if; pf_if=$(cat "$OUT/boot2-expected-macs-pf")
    local pf; pf=$(basename "$(readlink "/sys/class/net/$pf_if/device")")
    local i name vf guest
    for i in 0 1; do
        name=${LEASES[$i]} guest=labl$i
        vf=$(vf_named "$pf" "$name")
        rm -f "$(guest_log "$guest")"
        write_domu_cfg "$guest" "/root/$guest.cfg" "pci = [ 'name=$name' ]"
        xo xl create "/root/$guest.cfg" >/dev/null
        check "xl pci-list $guest shows $name's VF $vf" in_list "$vf" <<<"$(xo xl_attached "$guest")"
        wait_for "$guest sees its VF with igbvf bound" 120 guest_sees "$guest"
        # Inside the guest the VF has the lease's MAC only where the PF answers the VF's mailbox, which
        # the emulated 82576 does not under Xen (see 8b): printed, not checked.
        sleep 3
        figure "$guest (config: pci = [ 'name=$name' ]): VF $vf, MAC on the PF ${LEASE_MACS[$i]}; inside the guest:$(guest_net "$guest")"
    done
    xo xl destroy labl0 >/dev/null
    xo xl destroy labl1 >/dev/null
    for i in 0 1; do
        vf=$(vf_named "$pf" "${LEASES[$i]}")
        check "${LEASES[$i]}'s VF $vf is assignable again with its MAC" grep -q "vf $(vf_index "$pf" "$vf") .*link/ether ${LEASE_MACS[$i]}" <<<"$(ip link show "$pf_if")"
    done
}

# 7. doctor passes on a correctly set-up Xen host.
step_doctor() {
    xo "$XVF" doctor >/dev/null
}

# --- run ---------------------------------------------------------------------------------------

echo "scenario: boot $BOOT, Debian $(cat /etc/debian_version), Linux $(uname -r), Xen $(xl info | awk '$1 == "xen_version" { print $3 }')"
udevadm settle
find_pfs
if [ "$BOOT" = 1 ]; then
    step i "install the xvf package with apt" step_install
    if xvf_broken; then echo "scenario: xvf does not start: $XVF_BROKEN"; else echo "scenario: $("$XVF" --version)"; fi
    echo "scenario: xvf commands: $(subcommands "$XVF" | tr '\n' ' ')"
    step 0 "Xen host and NICs as the lab expects" step_host
    step 0b "xl alone: VF to pciback, hot-attached to a PV domU that sees it" step_xl_baseline
    step 1 "list/--json match sysfs and lspci" step_list list show
    step 2a "vfs 2, then 4 (0-reset)" step_vfs vfs
    step 2b "driver igb --max-vfs 2" step_driver driver
    step 3 "assignable add/list/remove vs xl pci-assignable-list" step_assignable "assignable add" "assignable list" "assignable remove"
    step 4a "assign --permissive / release / --to-dom0 on a PV domU" step_assign assign release
    step 4b "pool assignment picks a free VF twice" step_pool assign
    step 4c "assign --mac/--vlan/--trust, release puts the VF's link back; pciback's reset" step_handover assign release
    step 4d "the running Xen's libxl; timing: xvf assign vs xl pci-assignable-add + pci-attach, xvf list vs lspci" step_timing assign release list
    step 5a "cfg add: xl create honours the pci line" step_cfg "cfg add"
    step 5b "cfg line" step_cfg_line "cfg line"
    step 5c "HVM guest: cfg add + xl create, assign hot-plug and release" step_hvm "cfg add" assign release
    step 5d "guests created without passthrough (PV, HVM): xl fails, xvf refuses first" step_no_passthrough assign
    step 8a "save/restore of a PV guest holding a VF: xl alone, then xvf save + restore (MAC kept)" step_save_restore save restore
    step 8b "live migration to the same host of a guest bonding its VF and netfront: xl alone refuses, xvf migrate keeps it reachable" step_migrate migrate
    step 8c "live migration to the same host of an HVM guest bonding its VF and netfront: the VF back at its guest slot" step_hvm_migrate migrate
    step 7 "doctor" step_doctor doctor
    # Last: it changes the boot configuration and asks for the reboot.
    step 6a "bootline --write + persistent max_vfs" step_bootline_write bootline driver
    step 6c "xvf boot: host config + xvf-boot.service for the next boot" step_boot_config boot
    step 6f "a guest holding a VF left running for the reboot (xvf-guests.service, xendomains)" step_reboot_guest "guests attach"
else
    echo "scenario: $("$XVF" --version 2>&1 | head -n 1)"
    # First: the guest xendomains restored gives its VF back (release) before 6b expects every hidden VF assignable.
    [ ! -f "$OUT/boot2-guest-vf" ] || step 6f "after reboot: xendomains restored the guest and xvf-guests.service gave it its VF and MAC back" step_reboot_guest_back "guests attach"
    [ ! -f "$OUT/boot2-expected-vfs" ] || step 6b "after reboot: the hidden VFs exist and pciback holds them" step_after_reboot
    [ ! -f "$OUT/boot2-expected-macs-pf" ] || step 6d "after reboot: xvf-boot.service set the MACs and pciback holds the VFs" step_boot_applied
    [ ! -f "$OUT/boot2-expected-macs-pf" ] || step 6g "after reboot: guests whose configs name a lease get its VF and MAC from xl create alone" step_lease_guests
    [ ! -f "$OUT/boot2-expected-macs-pf" ] || step 6e "igb reloaded: the udev rule and xvf boot --pf bring back MACs and pciback" step_pf_recovery boot
fi
# The guest left for the reboot (6f) stays: xendomains saves it at shutdown.
if [ "$BOOT" = 1 ] && [ -f "$OUT/boot2-guest-vf" ]; then
    for d in $(xl list | awk 'NR > 2 && $1 != "labr" { print $1 }'); do xl destroy "$d" >/dev/null 2>&1 || true; done
else
    reset_xen >/dev/null 2>&1
fi
echo "scenario boot $BOOT: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
