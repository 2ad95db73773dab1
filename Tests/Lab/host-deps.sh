#!/usr/bin/env bash
# Installs what the lab needs on the host, only what is missing:
#  - QEMU 10 from bookworm-backports: bookworm's QEMU 7.2 has no `-device igb` (the 82576 with SR-IOV);
#  - debootstrap and the archive keyring for the dom0 roots (bookworm, trixie), e2fsprogs for
#    `mkfs.ext4 -d`, xz-utils for trixie's compressed modules, qemu-utils for the per-run overlays.
# The backports suite is added from the mirror this host already uses for bookworm, so the lab
# follows the machine's apt configuration instead of naming a mirror of its own.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

qemu_has_igb() {
    command -v qemu-system-x86_64 >/dev/null &&
        qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'
}

export DEBIAN_FRONTEND=noninteractive
updated=no
apt_update() { [ $updated = yes ] || { apt-get update -qq; updated=yes; }; }

if ! apt-get indextargets --format '$(CODENAME)' | grep -qx bookworm-backports; then
    mirror=$(apt-get indextargets --format '$(CODENAME) $(REPO_URI)' | awk '$1 == "bookworm" { print $2; exit }')
    [ -n "$mirror" ] || { echo "no bookworm suite in apt's sources: cannot derive a mirror for bookworm-backports" >&2; exit 1; }
    lab_log "adding bookworm-backports from $mirror"
    cat >/etc/apt/sources.list.d/xvf-lab-backports.sources <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt_update
fi

missing=()
for p in debootstrap debian-archive-keyring e2fsprogs cpio xz-utils; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    lab_log "installing ${missing[*]}"
    apt_update
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! qemu_has_igb || ! command -v qemu-img >/dev/null; then
    lab_log "installing qemu-system-x86 and qemu-utils from bookworm-backports"
    apt_update
    # --no-install-recommends: the recommends pull in a desktop's worth of display and audio stacks.
    # qemu-utils (qemu-img, for the per-run overlay) comes from the same suite as the emulator.
    apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 qemu-utils >/dev/null
fi
qemu_has_igb || { echo "qemu-system-x86_64 $(qemu-system-x86_64 --version | head -1) has no -device igb" >&2; exit 1; }
qemu-system-x86_64 --version | head -1
