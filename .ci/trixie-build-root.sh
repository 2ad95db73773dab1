#!/usr/bin/env bash
# A Debian 13 (trixie, Xen 4.20) build root for CI, made on a Debian 12 host, with Debian 13's own Swift
# (the `swiftlang` package, 6.0.3): builds and tests xvf against libxenlight 4.20, with the compiler a
# Debian 13 user installs with apt, without a trixie machine.
#
#   .ci/trixie-build-root.sh root          create the root if needed; print its directory
#   .ci/trixie-build-root.sh run CMD ...   run CMD inside it, in the repository (e.g. `run make test`)
#   .ci/trixie-build-root.sh check         show swift, libxenlight and libxlutil as the root sees them
#   .ci/trixie-build-root.sh rebuild       build a fresh root even if one is cached (new point release)
#
# Root only, on a host whose apt reaches the Debian archive (the mirror is the one apt uses for
# bookworm). The root is a `debootstrap --variant=minbase trixie` with the packages below (swiftlang is
# most of it: about 2 GB installed), cached as $XVF_BUILD_CACHE/trixie-<key> (default
# /var/cache/xvf-build), the key hashing the package list and build_root (what makes the root, so an
# edit elsewhere in this script does not cost a new root); other trixie-* roots nobody is using are
# removed once a new one is built. A root is built beside the cache and renamed into place, so an
# interrupted build never looks cached. It does not follow trixie's point releases by itself: `rebuild`
# makes a fresh one.
#
# `run` mounts, in a mount namespace of its own (nothing shows on the host, all of it goes when the
# command ends, and a trap unmounts it too): the repository read-write at its own path, /proc, /dev,
# /sys (read-only), a fresh /tmp, the host's resolv.conf and, when they exist, the host's SwiftPM caches
# ($HOME/.cache/org.swift.swiftpm, $HOME/.swiftpm), ~/.gitconfig, /etc/gitconfig and /opt/swift-packages,
# so the pinned packages resolve as on the host (offline too: git's url rewriting sends github.com to the
# local mirror). The repository's .build is covered by $XVF_TRIXIE_SCRATCH (default .build-trixie,
# git-ignored): what is built inside never mixes with the host's bookworm build, and Makefile targets
# that name .build/… work unchanged (`run make test`, `run make check-static`). The command starts in the
# caller's directory when that is inside the repository, else at its top, with the root's own
# /usr/bin/swift (Debian's) on PATH. XVF_SWIFT_TOOLCHAIN=DIR (a swift.org toolchain, e.g. /opt/swift)
# mounts DIR read-only at the same path and puts DIR/usr/bin first instead: the Debian 12 toolchain
# against Debian 13's headers. CI, TERM and XVF_* pass through, the rest of the environment does not.
# Its exit status is the script's.
set -euo pipefail

PACKAGES=(
    # Debian's Swift 6.0.3 (it brings gcc, binutils and its own clang); libstdc++.a for the release
    # binary (`make release` links it in); git for SwiftPM; what the Makefile runs
    swiftlang libstdc++-14-dev git ca-certificates pkg-config make
    # what xvf builds against, and what its tests run (`make test`'s TEST_DEPS, so no run needs apt)
    libxen-dev libpci-dev pci.ids pciutils iproute2 libvirt-clients libxml2-utils strace
)

script="$(readlink -f "${BASH_SOURCE[0]}")"
repo="$(cd "$(dirname "$script")/.." && pwd -P)"
cache="${XVF_BUILD_CACHE:-/var/cache/xvf-build}"
toolchain="${XVF_SWIFT_TOOLCHAIN:-}"
scratch="${XVF_TRIXIE_SCRATCH:-.build-trixie}"
case "$scratch" in /*) ;; *) scratch="$repo/$scratch" ;; esac

# A signal ends the script through its EXIT traps (a half-built root is removed, mounts are undone).
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[trixie-root %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'trixie-build-root: %s\n' "$*" >&2; exit 1; }

# The archive apt already uses for bookworm carries trixie too; its security archive likewise.
mirror_for() {
    apt-get indextargets --format '$(CODENAME) $(REPO_URI)' | awk -v c="$1" '$1 == c { print $2; exit }'
}
# Else any Debian archive apt knows (sources naming suites that apt has not fetched yet show no codename).
any_debian_mirror() {
    apt-get indextargets --format '$(REPO_URI)' | awk '$1 ~ /\/debian\/?$/ { print $1; exit }'
}

build_root() {
    [ "$(id -u)" = 0 ] || die "building the root needs root (debootstrap, chroot)"
    local mirror security
    mirror=$(mirror_for bookworm)
    [ -n "$mirror" ] || mirror=$(any_debian_mirror)
    [ -n "$mirror" ] || die "no bookworm suite in apt's sources: cannot tell which mirror to use"
    security=$(mirror_for bookworm-security)
    if ! command -v debootstrap >/dev/null; then
        log "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || {
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        } || die "could not install debootstrap"
    fi
    [ -f /usr/share/debootstrap/scripts/trixie ] || die "this debootstrap does not know trixie"

    # What a killed build or run (no trap) left behind a day ago or more.
    find "$cache" -maxdepth 1 \( -name '.build-trixie.*' -o -name '.tmp-trixie.*' \) -mmin +1440 \
        -exec rm -rf --one-file-system {} + 2>/dev/null || true
    local work t0=$SECONDS
    work=$(mktemp -d "$cache/.build-trixie.XXXXXX")
    # shellcheck disable=SC2064  # expand now: $work is local
    trap "rm -rf --one-file-system '$work'" EXIT
    log "debootstrap trixie from $mirror into $work"
    local include
    include=$(IFS=,; echo "${PACKAGES[*]}")
    if ! debootstrap --variant=minbase --include="$include" trixie "$work/root" "$mirror" \
            >"$work/debootstrap.log" 2>&1; then
        tail -n 40 "$work/debootstrap.log" >&2
        [ -f "$work/root/debootstrap/debootstrap.log" ] && tail -n 40 "$work/root/debootstrap/debootstrap.log" >&2
        die "debootstrap trixie failed"
    fi
    # For whoever wants apt inside later; the build itself needs no apt.
    {
        echo "deb $mirror trixie main"
        echo "deb $mirror trixie-updates main"
        [ -z "$security" ] || echo "deb $security trixie-security main"
    } >"$work/root/etc/apt/sources.list"
    # swiftlang puts its commands in /usr/libexec/swift/bin; /usr/bin/swift is a link its postinst makes
    # when debconf answers yes, the default that debootstrap's non-interactive install takes. (An
    # absolute link: -L, since from outside the root it points at the host's /usr/libexec.)
    [ -L "$work/root/usr/bin/swift" ] || die "swiftlang made no /usr/bin/swift in the root"
    chroot "$work/root" apt-get clean
    # What went in, for the CI log and for anyone wondering which 4.20 this is.
    chroot "$work/root" dpkg-query -W -f '${Package} ${Version}\n' >"$work/root/.xvf-manifest"
    printf 'built %s from %s in %d s\n' "$(date -u +%FT%TZ)" "$mirror" $((SECONDS - t0)) >>"$work/root/.xvf-manifest"
    mv -T "$work/root" "$root"
    rm -rf --one-file-system "$work"
    trap - EXIT
    log "root ready: $root ($((SECONDS - t0)) s)"
}

# The root is what build_root makes from PACKAGES: those two name it.
key=$( { declare -f build_root; printf '%s\n' "${PACKAGES[@]}"; } | sha256sum | cut -c1-16)
root="$cache/trixie-$key"

# Roots (and lock files) of other keys that no run holds: each run holds its root's lock shared.
prune_stale() {
    local old
    while IFS= read -r old; do
        [ "$old" != "$root" ] || continue
        exec 8>"$old.lock"
        if flock -n -x 8; then
            [ ! -d "$old" ] || log "removing stale root $old"
            rm -rf --one-file-system "$old"
            rm -f "$old.lock"
        fi
        exec 8>&-
    done < <(find "$cache" -maxdepth 1 -name 'trixie-*' | sed 's/\.lock$//' | sort -u)
}

# Leaves the root's lock held shared on fd 9 for the caller's lifetime.
ensure_root() {
    mkdir -p "$cache"
    exec 9>"$root.lock"
    flock -x 9
    if [ "${1:-}" = rebuild ] && [ -d "$root" ]; then
        log "rebuild: removing $root"
        rm -rf --one-file-system "$root"
    fi
    if [ ! -f "$root/.xvf-manifest" ]; then
        build_root
        prune_stale
    else
        log "root cached: $root"
    fi
    flock -s 9
}

# Runs in a private mount namespace (see `run`): mounts, runs the command, unmounts.
mounted=()
inside() {
    cleanup() {
        local i
        for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R -l "${mounted[i]}" 2>/dev/null || true; done
        [ -z "${tmp:-}" ] || rm -rf "$tmp"
    }
    trap cleanup EXIT
    bind() { # bind SRC DEST [ro]; DEST is made to match SRC (directory or file)
        if [ -d "$1" ]; then mkdir -p "$2"; else [ -e "$2" ] || : >"$2"; fi
        mount --rbind "$1" "$2"
        mounted+=("$2")
        [ "${3:-}" != ro ] || mount -o remount,bind,ro "$2"
    }
    if [ -n "$toolchain" ]; then
        [ -x "$toolchain/usr/bin/swift" ] || die "XVF_SWIFT_TOOLCHAIN=$toolchain holds no usr/bin/swift"
    else
        [ -L "$root/usr/bin/swift" ] || [ -x "$root/usr/bin/swift" ] || die "the root at $root has no /usr/bin/swift: rebuild it"
    fi
    mount -t proc proc "$root/proc"; mounted+=("$root/proc")
    bind /dev "$root/dev"
    mount -t sysfs -o ro sysfs "$root/sys"; mounted+=("$root/sys")
    tmp=$(mktemp -d "$cache/.tmp-trixie.XXXXXX")
    chmod 1777 "$tmp"
    bind "$tmp" "$root/tmp"
    [ -z "$toolchain" ] || bind "$toolchain" "$root$toolchain" ro
    bind "$repo" "$root$repo"
    # The scratch directory covers .build, which must exist to be covered (an empty one on a fresh clone).
    mkdir -p "$scratch" "$repo/.build"
    bind "$scratch" "$root$repo/.build"
    [ ! -f /etc/resolv.conf ] || bind /etc/resolv.conf "$root/etc/resolv.conf" ro
    local home="${HOME:-/root}" d
    for d in "$home/.cache/org.swift.swiftpm" "$home/.swiftpm"; do
        [ ! -d "$d" ] || bind "$d" "$root$d"
    done
    [ ! -f "$home/.gitconfig" ] || bind "$home/.gitconfig" "$root$home/.gitconfig" ro
    # Where the machine's git finds github.com (a local mirror of the pinned packages), git inside does too.
    [ ! -f /etc/gitconfig ] || bind /etc/gitconfig "$root/etc/gitconfig" ro
    [ ! -d /opt/swift-packages ] || bind /opt/swift-packages "$root/opt/swift-packages" ro
    local dir="$PWD"
    case "$(pwd -P)/" in "$repo"/*) dir=$(pwd -P) ;; *) dir="$repo" ;; esac
    local path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    [ -z "$toolchain" ] || path="$toolchain/usr/bin:$path"
    local env=(PATH="$path"
               HOME="$home" LANG=C.UTF-8 TERM="${TERM:-dumb}")
    [ -z "${CI:-}" ] || env+=(CI="$CI")
    local v
    while IFS= read -r v; do env+=("$v=${!v}"); done < <(compgen -e | grep '^XVF_' || true)
    local rc=0
    chroot "$root" /usr/bin/env -i "${env[@]}" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@" || rc=$?
    return $rc
}

cmd="${1:-}"
[ $# -eq 0 ] || shift
case "$cmd" in
    root)
        ensure_root
        echo "$root"
        ;;
    rebuild)
        ensure_root rebuild
        echo "$root"
        ;;
    run)
        [ $# -gt 0 ] || die "usage: $0 run COMMAND [ARG...]"
        ensure_root
        # The lock (fd 9) is inherited: the root stays held while the command runs.
        exec unshare --mount --propagation private -- bash "$script" __inside "$@"
        ;;
    check)
        ensure_root
        exec unshare --mount --propagation private -- bash "$script" __inside sh -c '
            swift --version 2>&1 | head -n 1
            echo "xenlight $(pkg-config --modversion xenlight), xlutil $(pkg-config --modversion xlutil)"
            ls /usr/lib/x86_64-linux-gnu/libxenlight.so.4.20* /usr/lib/x86_64-linux-gnu/libxlutil.so.4.20*
            grep -E "^(swiftlang|libxen-dev|libxenmisc4.20|libc6|gcc-14) " /.xvf-manifest'
        ;;
    __inside)
        [ -f "$root/.xvf-manifest" ] || die "no root at $root"
        inside "$@"
        ;;
    *)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$script" >&2
        exit 2
        ;;
esac
