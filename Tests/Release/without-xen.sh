#!/usr/bin/env bash
# The release xvf on a machine without any Xen library: a chroot holding only the binary and the shared
# libraries `ldd` names for it (no libxenlight, no libxlutil; nor libpci, which xvf loads at first use),
# with the demo host written by xvf-sim. Discovery and every command that needs no Xen must work there
# (without libpci, without names and config space, which doctor says why); the Xen commands must stop
# with exit 3 and one line saying what to install (the jail has no os-release: the generic sentence), and
# change nothing.
#
#   Tests/Release/without-xen.sh BINDIR     (BINDIR holds xvf and xvf-sim; needs root for chroot)
set -euo pipefail
bindir=$(cd "${1:?usage: without-xen.sh BINDIR}" && pwd)
[ "$(id -u)" = 0 ] || { echo "without-xen: skipped: needs root (chroot)"; exit 0; }

jail=$(mktemp -d /tmp/xvf-without-xen.XXXXXX)
trap 'rm -rf "$jail"' EXIT
mkdir -p "$jail/bin" "$jail/proc" "$jail/tmp"
cp "$bindir/xvf" "$jail/bin/xvf"
for lib in $(ldd "$bindir/xvf" | grep -o '/[^ ]*'); do
    mkdir -p "$jail$(dirname "$lib")"
    cp -L "$lib" "$jail$lib"
done
if find "$jail" -name 'libxen*' -o -name 'libxlutil*' | grep -q .; then
    echo "without-xen: the release xvf links a Xen library: $(ldd "$bindir/xvf" | grep -E 'xen|xlutil')" >&2
    exit 1
fi
"$bindir/xvf-sim" "$jail/host"
printf 'name = "web1"\npci = [ %s ]\n' "'0000:04:10.0'" > "$jail/tmp/web1.cfg"

failed=0
expect() {  # expect STATUS TEXT -- ARGS: xvf ARGS exits STATUS and its output contains TEXT
    local want=$1 text=$2; shift 3
    local out rc=0
    # Its own /proc, in a mount namespace of its own: the Swift runtime reads the arguments from it.
    out=$(unshare --mount --fork sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" /bin/xvf "$@"' "$jail" "$@" 2>&1) || rc=$?
    if [ "$rc" = "$want" ] && grep -qF -- "$text" <<<"$out"; then
        echo "PASS xvf $* (exit $rc)"
    else
        echo "FAIL xvf $*: exit $rc (wanted $want), wanted output with '$text', got:"
        sed 's/^/    /' <<<"$out"
        failed=1
    fi
}
before=$(cd "$jail" && find host tmp -type f -exec sha256sum {} + | sort)

expect 0 "xvf 0.1.0 (libxl 4.17–4.22, loaded when a command needs Xen)" -- --version
expect 0 "0000:04:00.0" -- --root /host list
expect 0 '"pfs"' -- --root /host list --json
expect 0 "SR-IOV" -- --root /host show eno49
expect 0 "pci = [ '0000:04:10.0,permissive=1' ]" -- --root /host cfg line eno49/0,permissive=1
expect 0 "xen-pciback.hide=(0000:04:10.0)" -- --root /host bootline eno49/0
expect 0 "sriov-capability" -- --root /host doctor --json
expect 0 "libpci.so.3 cannot be loaded" -- --root /host doctor --json
expect 3 "not a Xen dom0" -- assignable list
expect 3 "install your distribution's package with libxenlight.so.4.17 to .4.22" -- cfg add /tmp/web1.cfg 04:10.4

after=$(cd "$jail" && find host tmp -type f -exec sha256sum {} + | sort)
[ "$before" = "$after" ] || { echo "FAIL: the refused commands changed files"; failed=1; }
exit $failed
