#!/usr/bin/env bash
# The real Xen lab: xvf end to end on real Xen hosts in QEMU, with two emulated 82576 (igb) SR-IOV
# NICs, one dom0 after the other: Debian 12 with Xen 4.17, then Debian 13 with Xen 4.20.
#
#   Tests/Lab/lab.sh            install what is missing, build xvf and its .deb (`make deb`) once,
#                               then per dom0: build (or reuse) its image, boot it, install the .deb
#                               with apt and run Tests/Lab/scenario.sh in it; report per dom0
#   Tests/Lab/lab.sh --can-run  exit 0 when this machine can run the lab, else print why and exit 1
#
# XVF_LAB_DOM0S="bookworm trixie" (the default) names the dom0s to run, in that order; one of them
# alone runs only that one. XVF_LAB_SOURCE=DIR builds xvf from another checkout (default: this
# working tree), e.g. a clean worktree of a commit while the working tree is half-way through a change;
# the package is made by DIR's `make deb` (by this tree's Makefile where DIR's has no deb target).
# XVF_LAB_STEPS="i 0 8b" runs only those scenario steps (for working on one step; a full run has none).
#
# Every dom0 gets the same package, built on this (bookworm) host: that one binary is meant to run on
# both Xen releases. Exits non-zero when a step of its own fails (naming it, with the command's output)
# or when a scenario step fails on any dom0 (with that step's log); a dom0 whose run breaks does not
# stop the next one. Scenario steps whose xvf command does not exist yet are reported "not yet
# available" and do not fail the lab.
#
# Why it boots the way it does (facts from running Xen on this kind of machine):
#  - TCG, not KVM: this host's /dev/kvm cannot run Xen (no VMX/SVM for the guest); -cpu qemu64
#    because xl crashes in libgcc under TCG's -cpu max; +npt for Xen 4.20, whose Debian build has no
#    shadow paging and runs HVM guests only with HAP (lib.sh dom0_cpu).
#  - q35 with an emulated VT-d: Xen needs an IOMMU for passthrough, and the interrupt remapping
#    needs eim=on or dom0 hangs after finding its disk.
#  - Xen through QEMU's multiboot loader (-kernel xen, -initrd "dom0 kernel args,dom0 initrd"):
#    no bootloader in the image to install or keep in step with the kernel.
#  - each igb on its own PCIe root port so the PFs get buses of their own and VFs their usual
#    addresses (BB:10.x); both joined to a QEMU-internal hub so no frame leaves the VM.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# Under TCG boot 1 with the whole scenario (its HVM guest, save/restore and the migration guests
# included) takes 16-22 minutes on a lightly loaded 2-core host and more while compilers share the
# cores; this only bounds a hung boot.
BOOT_TIMEOUT=${XVF_LAB_BOOT_TIMEOUT:-2400}
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1536M,max:1536M dom0_max_vcpus=2 iommu=verbose"
DOM0_ARGS="root=/dev/vda rw console=hvc0 xvflab.run"

can_run() {
    [ "$(uname -m)" = x86_64 ] || { echo "not an x86_64 host"; return 1; }
    [ "$(id -u)" = 0 ] || { echo "needs root (debootstrap, apt)"; return 1; }
    local avail; avail=$(df -Pk "$(dirname "$LAB_CACHE")" | awk 'NR == 2 { print int($4 / 1048576) }')
    [ "$avail" -ge 10 ] || { echo "needs 10 GiB free under $(dirname "$LAB_CACHE"), has ${avail} GiB"; return 1; }
    local mem; mem=$(awk '/MemAvailable/ { print int($2 / 1048576) }' /proc/meminfo)
    [ "$mem" -ge 5 ] || { echo "needs 5 GiB of available memory, has ${mem} GiB"; return 1; }
    command -v apt-get >/dev/null || { echo "not a Debian host"; return 1; }
    local out
    out=$("$LAB_DIR/host-deps.sh" 2>&1) || { echo "cannot install QEMU with -device igb: $(echo "$out" | tail -n 3)"; return 1; }
    return 0
}

# lab_step runs this inside an `if`, where errexit is off: every failure returns explicitly.
build_deb() {
    export PATH="/opt/swift/usr/bin:$PATH"
    # `make deb` = `make release` (static Swift runtime, -Osize) + `make install PREFIX=/usr` into a
    # staging root + dpkg-deb, with XVF_SOURCE's own Makefile, or this tree's where that one predates
    # `deb` (what it installs from xlcfg/ then has to exist in XVF_SOURCE).
    local makefile=()
    grep -q "^deb:" "$XVF_SOURCE/Makefile" || makefile=(-f "$REPO_DIR/Makefile")
    make -C "$XVF_SOURCE" "${makefile[@]}" deb || return 1
    local debs; debs=("$XVF_SOURCE"/.build/deb/xvf_*.deb)
    [ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || { echo "make deb left ${#debs[@]} packages: ${debs[*]}" >&2; return 1; }
    if ldd "$XVF_SOURCE/.build/deb/root/usr/bin/xvf" | grep -i swift; then
        echo "the release binary still links a Swift runtime library: dom0 has none" >&2
        return 1
    fi
    dpkg-deb -I "${debs[0]}"
    ldd "$XVF_SOURCE/.build/deb/root/usr/bin/xvf"
}

# One dom0's run: image, overlay, boot 1 (install + scenario), boot 2 when the scenario asks for it.
# Runs in a subshell: lab_step's exit ends this dom0's run, not the lab. Leaves RUN_DIR/result.
run_dom0() {
    local dom0=$1 xen; xen=$(dom0_xen "$dom0")
    RUN_DIR="$LAB_CACHE/run/$dom0"
    local out="$RUN_DIR/share/out" t_dom0=$SECONDS
    rm -rf "$RUN_DIR"
    mkdir -p "$RUN_DIR/share/in" "$out"
    # What the summary reads if this run ends early (lab_step exits): which step broke it.
    echo "broken" >"$RUN_DIR/result"
    lab_log "==== dom0 $dom0: Debian $(dom0_debian "$dom0"), Xen $xen (logs: $RUN_DIR) ===="

    local t0=$SECONDS image_out; image_out=$(mktemp)
    if ! "$LAB_DIR/build-image.sh" "$dom0" >"$image_out" 2>"$image_out.err"; then
        echo "LAB FAILED at step: build the $dom0 dom0 image" >&2
        tail -n 60 "$image_out.err" >&2
        rm -f "$image_out" "$image_out.err"
        exit 1
    fi
    IMAGE=$(tail -n 1 "$image_out"); rm -f "$image_out" "$image_out.err"
    local t_image=$((SECONDS - t0))
    lab_log "dom0 image: $IMAGE ($t_image s)"

    cp "$DEB" "$LAB_DIR/scenario.sh" "$RUN_DIR/share/in/"
    # XVF_LAB_STEPS="i 8b": a developer's quick run of those scenario steps only (no reboot unless asked).
    printf '%s' "${XVF_LAB_STEPS:-}" >"$RUN_DIR/share/in/steps"
    # The run writes into an overlay so the cached image stays as it was built; the overlay also
    # carries dom0's changes from the first boot into the second.
    lab_step "create the run overlay" qemu-img create -q -f qcow2 -b "$IMAGE/dom0.img" -F raw "$RUN_DIR/dom0.qcow2"

    LAB_ON_FAIL=partial_results
    t0=$SECONDS
    lab_step "$dom0 boot 1: Xen $xen + dom0, install xvf's .deb, scenario" boot_lab 1 "$DOM0_ARGS xvflab.boot=1" "$IMAGE/initrd.img"
    local t_boot1=$((SECONDS - t0))
    report_boot 1
    local failed=0
    [ "$(cat "$out/rc-boot1")" = 0 ] || failed=1

    # The scenario asks for a second boot (after writing the boot configuration under test) by
    # leaving the dom0 arguments update-grub would have put on the Xen entry's Linux line, and the
    # initrd when it rebuilt dom0's (what GRUB would load after update-initramfs).
    local t_boot2=0
    if [ -f "$out/reboot-args" ]; then
        local extra initrd; extra=$(cat "$out/reboot-args")
        initrd="$IMAGE/initrd.img"
        [ ! -f "$out/initrd.img" ] || initrd="$out/initrd.img"
        t0=$SECONDS
        lab_step "$dom0 boot 2: reboot with the written boot configuration ($extra)" boot_lab 2 "$DOM0_ARGS xvflab.boot=2 $extra" "$initrd"
        t_boot2=$((SECONDS - t0))
        report_boot 2
        [ "$(cat "$out/rc-boot2")" = 0 ] || failed=1
    fi

    local passes fails na
    passes=$(cat "$out"/scenario-boot*.log | grep -cE '^PASS ' || true)
    fails=$(cat "$out"/scenario-boot*.log | grep -cE '^FAIL ' || true)
    na=$(cat "$out"/scenario-boot*.log | grep -cE '^N/A ' || true)
    [ "$fails" = 0 ] || failed=1
    echo "$passes $fails $na $failed $t_image $t_boot1 $t_boot2 $((SECONDS - t_dom0))" >"$RUN_DIR/result"
    lab_log "$dom0 timings: image $t_image s, boot 1 $t_boot1 s, boot 2 $t_boot2 s, total $((SECONDS - t_dom0)) s"
}

boot_lab() {
    local n=$1 dom0_args=$2 initrd=$3
    local serial="$RUN_DIR/serial-boot$n.log"
    # Commas separate multiboot modules in QEMU's -initrd; a literal one is written twice.
    local module="$IMAGE/vmlinuz ${dom0_args//,/,,},$initrd"
    lab_log "boot $n: Xen + dom0 under TCG (serial: $serial)"
    local rc=0
    # nice: the lab shares two cores with compilers; it is the one that can wait.
    timeout --foreground "$BOOT_TIMEOUT" nice -n 10 qemu-system-x86_64 \
        -nodefaults -display none -no-reboot \
        -machine q35,accel=tcg -cpu "$(dom0_cpu "$(basename "$RUN_DIR")")" -smp 2 -m 3072 \
        -device intel-iommu,intremap=on,eim=on \
        -kernel "$IMAGE/xen" -append "$XEN_ARGS" -initrd "$module" \
        -drive file="$RUN_DIR/dom0.qcow2",if=none,id=root,format=qcow2,cache=unsafe \
        -device virtio-blk-pci,drive=root \
        -fsdev local,id=labfs,path="$RUN_DIR/share",security_model=none \
        -device virtio-9p-pci,fsdev=labfs,mount_tag=lab \
        -device pcie-root-port,id=rp1,chassis=1,slot=1 \
        -device pcie-root-port,id=rp2,chassis=2,slot=2 \
        -netdev hubport,id=hp1,hubid=0 -device igb,netdev=hp1,bus=rp1,mac=52:54:00:4c:41:01 \
        -netdev hubport,id=hp2,hubid=0 -device igb,netdev=hp2,bus=rp2,mac=52:54:00:4c:41:02 \
        -serial file:"$serial" </dev/null || rc=$?
    if [ $rc = 124 ]; then
        echo "boot $n did not power off within $BOOT_TIMEOUT s; serial log tail:"
        tail -n 60 "$serial"
        return 1
    elif [ $rc != 0 ]; then
        echo "QEMU exited $rc on boot $n; serial log tail:"
        tail -n 60 "$serial"
        return 1
    fi
    if [ ! -f "$RUN_DIR/share/out/rc-boot$n" ]; then
        echo "boot $n powered off without scenario results; serial log tail:"
        tail -n 80 "$serial"
        return 1
    fi
}

report_boot() {
    local n=$1 log="$RUN_DIR/share/out/scenario-boot$1.log" dom0; dom0=$(basename "$RUN_DIR")
    grep -E '^(PASS|FAIL|N/A) ' "$log" | sed "s/^/[$dom0] /" || true
    # What the steps measured (each beside its peer measured in the same run).
    if [ -f "$RUN_DIR/share/out/figures.log" ]; then
        sed "s/^/[$dom0] /" "$RUN_DIR/share/out/figures.log"
        rm -f "$RUN_DIR/share/out/figures.log"
    fi
    # A failed step's own log follows, so the CI output shows the command and what it printed.
    local f
    for f in "$RUN_DIR"/share/out/steps/*.fail; do
        [ -e "$f" ] || continue
        echo "==== $(basename "$f" .fail) ($dom0, boot $n) ===="
        tail -n 120 "${f%.fail}.log"
    done
    rm -f "$RUN_DIR"/share/out/steps/*.fail
}

partial_results() {
    local f
    for f in "$RUN_DIR"/share/out/scenario-boot*.log; do
        [ -e "$f" ] || continue
        echo "---- what $(basename "$RUN_DIR")/$(basename "$f") had reached ----"
        tail -n 20 "$f"
    done
}

# Bash reads a script as it runs; the whole run sits in one function so that editing this file
# while a lab is booting (it takes minutes) cannot change what the running one does next.
main() {
if [ "${1:-}" = --can-run ]; then
    why=$(can_run) && exit 0
    echo "$why"
    exit 1
fi

local dom0s d
read -r -a dom0s <<<"${XVF_LAB_DOM0S:-$LAB_DOM0S_ALL}"
[ ${#dom0s[@]} -gt 0 ] || { echo "XVF_LAB_DOM0S names no dom0 (known: $LAB_DOM0S_ALL)" >&2; exit 1; }
for d in "${dom0s[@]}"; do dom0_xen "$d" >/dev/null || exit 1; done

# One lab at a time: two would fight over two cores (and one VM is all this machine runs well).
mkdir -p "$LAB_CACHE"
exec 9>"$LAB_CACHE/lock"
flock -n 9 || { echo "another lab run holds $LAB_CACHE/lock" >&2; exit 1; }

T_START=$SECONDS
lab_step "install host packages" "$LAB_DIR/host-deps.sh"

XVF_SOURCE=$(cd "${XVF_LAB_SOURCE:-$REPO_DIR}" && pwd)
t0=$SECONDS
lab_step "build xvf and its package (make deb in $XVF_SOURCE)" build_deb
T_BUILD=$((SECONDS - t0))
DEB=$(ls "$XVF_SOURCE"/.build/deb/xvf_*.deb)
lab_log "package: $DEB ($(dpkg-deb -f "$DEB" Version), Depends: $(dpkg-deb -f "$DEB" Depends))"

# What the lab left in run/ before it ran more than one dom0 (run/share, run/dom0.qcow2, …).
rm -rf "$LAB_CACHE/run/share" "$LAB_CACHE/run/dom0.qcow2" "$LAB_CACHE"/run/serial-boot*.log
for d in "${dom0s[@]}"; do
    ( run_dom0 "$d" ) || true
done

local failed=0 total_p=0 total_f=0 total_n=0 r
lab_log "timings: xvf build and package $T_BUILD s, total $((SECONDS - T_START)) s"
for d in "${dom0s[@]}"; do
    r=$(cat "$LAB_CACHE/run/$d/result" 2>/dev/null || echo broken)
    if [ "$r" = broken ]; then
        echo "lab result $d (Xen $(dom0_xen "$d")): the run broke before its results (see LAB FAILED above)"
        failed=1
        continue
    fi
    read -r p f n bad t_image t_boot1 t_boot2 t_total <<<"$r"
    echo "lab result $d (Xen $(dom0_xen "$d")): $p passed, $f failed, $n N/A;" \
        "image $t_image s, boot 1 $t_boot1 s, boot 2 $t_boot2 s, total $t_total s"
    total_p=$((total_p + p)) total_f=$((total_f + f)) total_n=$((total_n + n))
    [ "$bad" = 0 ] || failed=1
done
lab_log "logs: $LAB_CACHE/run/<dom0>/ (serial-boot*.log, share/out/)"
# Two words before the colon on purpose: the lab's count must not read as CI's closing
# "N passed, N failed" line (the last line .ci/run prints is that one).
echo "lab result: $total_p passed, $total_f failed, $total_n N/A (${dom0s[*]})"
if [ "$failed" != 0 ]; then
    echo "LAB FAILED: see the failed steps above" >&2
    exit 1
fi
}
main "$@"
