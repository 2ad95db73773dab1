# Shared helpers for the lab's host-side scripts (sourced, not run).
# The lab boots a real Xen 4.17 host in QEMU and runs xvf inside its dom0; see Tests/Lab/lab.sh.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$LAB_DIR/../.." && pwd)"
# The image and the binaries carved out of it are kept outside the repo: they are ~1 GB and
# rebuilt only when the Debian packages they come from change.
LAB_CACHE="${XVF_LAB_CACHE:-/var/cache/xvf-lab}"

# The packages of the dom0 root. Xen's packages bring libxenlight/libxlutil (what xvf links) and
# the toolstack the scenario checks xvf against; busybox-static becomes the PV domU's userland.
DOM0_PACKAGES=(
    xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils linux-image-amd64
    pciutils pci.ids iproute2 kmod ethtool systemd-sysv udev busybox-static jq
)

lab_log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }

# Runs a command as a named step; on failure prints the step, the command and its output, and
# exits non-zero, so a CI log says which part of the lab broke without rerunning it.
lab_step() {
    local name=$1; shift
    local out; out=$(mktemp)
    local t0=$SECONDS
    lab_log "step: $name"
    local rc=0
    "$@" >"$out" 2>&1 || rc=$?
    if [ $rc = 0 ]; then
        lab_log "step: $name done ($((SECONDS - t0)) s)"
        rm -f "$out"
        return 0
    fi
    {
        echo "LAB FAILED at step: $name (exit $rc, after $((SECONDS - t0)) s)"
        echo "command: $*"
        echo "---- output (last 80 lines) ----"
        tail -n 80 "$out"
        echo "----"
    } >&2
    rm -f "$out"
    # Whatever the scenario finished before a boot failed is still evidence.
    [ -z "${LAB_ON_FAIL:-}" ] || "$LAB_ON_FAIL" >&2
    exit 1
}
