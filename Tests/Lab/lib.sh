# Shared helpers for the lab's host-side scripts (sourced, not run).
# The lab boots real Xen hosts in QEMU (Xen 4.17 on Debian 12, 4.20 on Debian 13) and runs xvf inside
# their dom0s; see Tests/Lab/lab.sh.

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$LAB_DIR/../.." && pwd)"
# The image and the binaries carved out of it are kept outside the repo: they are ~1 GB and
# rebuilt only when the Debian packages they come from change.
LAB_CACHE="${XVF_LAB_CACHE:-/var/cache/xvf-lab}"

# The dom0s the lab boots, one after the other: Debian 12 with Xen 4.17 and Debian 13 with Xen 4.20.
# XVF_LAB_DOM0S picks some of them ("bookworm", "trixie", or both, the default).
LAB_DOM0S_ALL="bookworm trixie"
dom0_xen() {
    case $1 in
        bookworm) echo 4.17 ;;
        trixie) echo 4.20 ;;
        *) echo "unknown lab dom0 '$1' (known: $LAB_DOM0S_ALL)" >&2; return 1 ;;
    esac
}
dom0_debian() { case $1 in bookworm) echo 12 ;; trixie) echo 13 ;; esac; }

# The packages of a dom0's root. Xen's packages bring libxenlight/libxlutil (what xvf loads) and the
# toolstack the scenario checks xvf against; busybox-static becomes the PV domU's userland.
dom0_packages() {
    local xen; xen=$(dom0_xen "$1") || return 1
    echo "xen-hypervisor-$xen-amd64 xen-utils-$xen xenstore-utils linux-image-amd64" \
        "pciutils pci.ids iproute2 iputils-ping kmod ethtool systemd-sysv udev busybox-static jq qemu-system-xen"
}

# QEMU's CPU for a dom0: HVM guests need Xen to have shadow paging or HAP. Debian's 4.17 has shadow
# paging and did not boot an HVM guest with TCG's nested paging (+npt); Debian's 4.20 is built without
# shadow paging, so there +npt gives Xen HAP.
dom0_cpu() {
    case $1 in
        bookworm) echo qemu64 ;;
        *) echo qemu64,+npt ;;
    esac
}

# The Debian mirror this host already uses (its bookworm suite); the other releases come from it too.
lab_mirror() {
    apt-get indextargets --format '$(CODENAME) $(REPO_URI)' | awk '$1 == "bookworm" { print $2; exit }'
}

# apt for one suite, with sources and lists of its own under $LAB_CACHE/apt/SUITE, so the lab can ask
# what trixie offers without adding trixie to the host's sources:  suite_apt SUITE apt-get|apt-cache ARGS…
suite_apt() {
    local suite=$1 tool=$2; shift 2
    local dir="$LAB_CACHE/apt/$suite"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/sources.list.d"
    "$tool" -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts="$dir/sources.list.d" \
        -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" "$@"
}
suite_apt_update() {
    local suite=$1 mirror; mirror=$(lab_mirror)
    [ -n "$mirror" ] || { echo "no bookworm suite in apt's sources: cannot derive a Debian mirror" >&2; return 1; }
    mkdir -p "$LAB_CACHE/apt/$suite"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" >"$LAB_CACHE/apt/$suite/sources.list"
    suite_apt "$suite" apt-get update -qq
}

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
