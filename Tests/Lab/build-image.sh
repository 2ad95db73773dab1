#!/usr/bin/env bash
# Builds the lab's dom0 of one Debian release once and caches it; prints the cache directory on stdout.
#
#   Tests/Lab/build-image.sh bookworm|trixie
#
# The cache key covers the release, its package list, the versions that release's main suite offers
# for them (read through the lab's own apt lists of that suite, Tests/Lab/lib.sh suite_apt) and the
# files that shape the image (this script, Tests/Lab/dom0/), so a new kernel or Xen in the
# archive, or a change here, builds a fresh image and anything else reuses the old one. Each run boots
# a qcow2 overlay on top of the cached image, which therefore stays as built.
#
# The directory holds: dom0.img (ext4 root), xen (Xen unpacked: QEMU's multiboot loader takes only an
# uncompressed ELF), vmlinuz and initrd.img (dom0's, also the PV domU's kernel), manifest (versions).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

release=${1:?usage: build-image.sh bookworm|trixie}
xen=$(dom0_xen "$release")
read -r -a packages <<<"$(dom0_packages "$release")"
mirror=$(lab_mirror)
[ -n "$mirror" ] || { echo "no bookworm suite in apt's sources" >&2; exit 1; }
suite_apt_update "$release"

# The version the release's main suite offers for a package (madison's third column names the suite).
offered() { suite_apt "$release" apt-cache madison "$1" | awk -F' [|] ' -v s="$release" '$3 ~ (" " s "/main ") { print $2; exit }'; }

key_input() {
    local p v
    echo "release $release"
    for p in "${packages[@]}"; do
        v=$(offered "$p")
        [ -n "$v" ] || { echo "$release/main offers no package $p" >&2; return 1; }
        echo "$p $v"
    done
    # (lib.sh's part in the image, the package list, is above: its helpers can change without a rebuild.)
    cat "$LAB_DIR/build-image.sh"
    find "$LAB_DIR/dom0" -type f | sort | xargs cat
}
key=$(set -o pipefail; key_input | sha256sum | cut -c1-16)
out="$LAB_CACHE/dom0-$release-$key"
if [ -f "$out/manifest" ]; then
    lab_log "dom0 image ($release, Xen $xen) cached: $out"
    echo "$out"
    exit 0
fi

# Built beside the final directory and renamed into place, so an interrupted build never looks cached.
mkdir -p "$LAB_CACHE"
work=$(mktemp -d "$LAB_CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/root"

lab_log "debootstrap $release into $tree (about 2 minutes)"
include=$(IFS=,; echo "${packages[*]}")
debootstrap --variant=minbase --include="$include" "$release" "$tree" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 40 "$work/debootstrap.log" >&2
    [ -f "$tree/debootstrap/debootstrap.log" ] && tail -n 40 "$tree/debootstrap/debootstrap.log" >&2
    exit 1
}

# (trixie's root is merged-/usr from the start: lib is a link to usr/lib, which the paths below follow.)
kver=$(ls "$tree/lib/modules" | sort -V | tail -1)
[ -n "$kver" ] || { echo "no kernel modules in the debootstrapped tree" >&2; exit 1; }

# --- dom0 configuration ------------------------------------------------------------------------
echo xvflab >"$tree/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 xvflab\n' >"$tree/etc/hosts"
# An empty root password lets someone debugging a failed run log in on the serial console.
chroot "$tree" passwd -d root >/dev/null
printf '/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$tree/etc/fstab"
# xenconsoled keeps guest consoles in files only when asked, and does not create the directory:
# the scenario reads what the PV domU prints there to learn what the guest sees.
touch "$tree/etc/default/xen"
sed -i '/^XENCONSOLED_ARGS=/d' "$tree/etc/default/xen"
echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >>"$tree/etc/default/xen"
mkdir -p "$tree/var/log/xen/console"

# Rebuilding the initramfs inside dom0 (scenario step 6 does, as xvf tells users to) takes minutes
# under TCG with Debian's MODULES=most; MODULES=dep packs only what this dom0 needs to boot. The
# initrd built here, in the chroot, keeps MODULES=most: dep cannot see dom0's disk from a chroot.
sed -i 's/^MODULES=.*/MODULES=dep/' "$tree/etc/initramfs-tools/initramfs.conf"

install -m 0644 "$LAB_DIR/dom0/xvf-lab.service" "$tree/etc/systemd/system/xvf-lab.service"
install -m 0755 "$LAB_DIR/dom0/xvf-lab-run" "$tree/usr/local/sbin/xvf-lab-run"
mkdir -p "$tree/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/xvf-lab.service "$tree/etc/systemd/system/multi-user.target.wants/xvf-lab.service"

# --- the PV domU: dom0's kernel with a busybox initramfs ---------------------------------------
# The guest only has to show whether the passed-through VF arrives: xen-pcifront brings the device
# in, igbvf binds it; xen-netfront and bonding make the migration guest's bond. Its init prints its PCI
# and network state to the console whenever it changes.
domu="$work/domu"
mkdir -p "$domu"/{bin,dev,proc,sys,mods}
cp "$tree/bin/busybox" "$domu/bin/busybox"
# One module per modprobe call: a second name would be read as a parameter of the first.
for m in xen-pcifront igbvf xen-netfront bonding; do chroot "$tree" modprobe --show-depends -S "$kver" "$m"; done |
    awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$work/domu-modules"
[ "$(grep -c . "$work/domu-modules")" -ge 4 ] || { echo "domU modules not found:" >&2; cat "$work/domu-modules" >&2; exit 1; }
n=0
while read -r m; do
    n=$((n + 1))
    case "$m" in
        # busybox's insmod loads plain ELF only; trixie's modules are .ko.xz (bookworm's plain .ko).
        *.ko.xz) xz -dc "$tree$m" >"$domu/mods/$(printf %02d $n).ko" ;;
        *.ko.zst) zstd -qdc "$tree$m" >"$domu/mods/$(printf %02d $n).ko" ;;
        *) cp "$tree$m" "$domu/mods/$(printf %02d $n).ko" ;;
    esac
done <"$work/domu-modules"
install -m 0755 "$LAB_DIR/dom0/domu-init" "$domu/init"
(cd "$domu" && find . | cpio -o -H newc --quiet | gzip -1) >"$tree/boot/xvf-lab-domu.cpio.gz"

# --- carve out what QEMU loads, then the image -------------------------------------------------
gunzip -c "$tree/boot/xen-$xen-amd64.gz" >"$work/xen"
cp "$tree/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$tree/boot/initrd.img-$kver" "$work/initrd.img"

# mkfs.ext4 -d copies the tree (owners, modes, device nodes) without mounting anything.
truncate -s 4G "$work/dom0.img"
mkfs.ext4 -q -L xvflab -d "$tree" "$work/dom0.img"

{
    echo "built $(date -u +%FT%TZ) key $key release $release xen $xen"
    echo "kernel $kver"
    chroot "$tree" dpkg-query -W "${packages[@]}"
} >"$work/manifest"
rm -rf "$tree" "$domu"
trap - EXIT
mv "$work" "$out"
# Older images of this release are superseded by this one (and those of the time the lab had one
# release, named dom0-KEY).
find "$LAB_CACHE" -mindepth 1 -maxdepth 1 \( -name "dom0-$release-*" -o -regex '.*/dom0-[0-9a-f]*' \) \
    ! -path "$out" -exec rm -rf {} +
lab_log "dom0 image ($release, Xen $xen) built: $out"
echo "$out"
