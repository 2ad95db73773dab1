#!/usr/bin/env bash
# Tests/Reliability/many-at-once.sh [BIN_DIR]: 32 xvf commands started at the same moment on one
# simulated host, then what happened, checked against the host itself:
#   12 x `assign --pf eno49 --dom web1`  (a pool of 7 VFs, none attached: 7 get one, 5 are refused)
#    4 x `release eno51/N`               (VFs attached to web1 beforehand)
#    4 x `vfs eno52 N`                   (N = 1..4: the last one wins, each is whole)
#   12 x `cfg add /etc/xen/web1.cfg VF`  (12 different devices into one domU file)
# Passes when no VF is handed out twice, no edit of the domU file is lost, every command either did its
# job (exit 0) or was refused with one line (exit 1 or 2), and the count eno52 ends with is one a command
# asked for. Prints each command's outcome. Not a timing test: it measures nothing but correctness.
set -euo pipefail
bin=${1:-.build/debug}
sim=$(cd "$bin" && pwd)/xvf-sim
[ -x "$sim" ] || { echo "many-at-once: $sim missing: build first (swift build)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/xvf-many.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/host
"$sim" "$root" >/dev/null
x() { "$sim" xvf --root "$root" "$@"; }
for n in 0 1 2 3; do x assign "eno51/$n" --dom web1 >/dev/null; done
mkdir -p "$root/etc/xen"
printf '# web1\nname = "web1"\nmemory = 512\n' >"$root/etc/xen/web1.cfg"

# The commands, one a line; each gets its own output files.
cmds=()
for i in $(seq 1 12); do cmds+=("assign --pf eno49 --dom web1"); done
for n in 0 1 2 3; do cmds+=("release eno51/$n"); done
for n in 1 2 3 4; do cmds+=("vfs eno52 $n"); done
for f in 0 1 2 3 4 5 6 7; do cmds+=("cfg add /etc/xen/web1.cfg 0000:07:10.$f"); done
for f in 0 1 2 3; do cmds+=("cfg add /etc/xen/web1.cfg 0000:07:11.$f"); done

# All at once: every command is started and waits for one file to appear (within 10 ms of each other).
for i in "${!cmds[@]}"; do
    ( set +e; until [ -e "$work/go" ]; do sleep 0.01; done
      x ${cmds[$i]} >"$work/$i.out" 2>"$work/$i.err"; echo $? >"$work/$i.rc" ) &
done
sleep 1
touch "$work/go"
wait

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
done_count=0 refused=0
for i in "${!cmds[@]}"; do
    # A command that had to wait for the host lock says so first; that notice is not the refusal.
    grep -v '^xvf: waiting for the xvf lock held by ' "$work/$i.err" > "$work/$i.said" || true
    rc=$(cat "$work/$i.rc"); lines=$(grep -c . "$work/$i.said" || true)
    case $rc in
        0) done_count=$((done_count + 1)); printf '  done     %-45s %s\n' "${cmds[$i]}" "$(tail -n 1 "$work/$i.out")" ;;
        1|2) refused=$((refused + 1)); printf '  refused  %-45s %s\n' "${cmds[$i]}" "$(head -n 1 "$work/$i.said")"
             [ "$lines" = 1 ] || fail "'${cmds[$i]}' was refused with $lines lines" ;;
        *) fail "'${cmds[$i]}' exited $rc: $(cat "$work/$i.err")" ;;
    esac
done

# The host's own answer: who holds eno49's VFs (the simulated libxl's records), the domU file, eno52.
held=$(x list --json | python3 -c '
import json, sys
for pf in json.load(sys.stdin)["pfs"]:
    for vf in pf["vfs"]:
        if vf["holder"].startswith("domain:"): print(pf["ifname"], vf["bdf"], vf["holder"])')
eno49_held=$(grep -c '^eno49 ' <<<"$held" || true)
pool_done=0
for i in "${!cmds[@]}"; do [[ ${cmds[$i]} == "assign --pf eno49"* ]] && [ "$(cat "$work/$i.rc")" = 0 ] && pool_done=$((pool_done + 1)); done
[ "$pool_done" = "$eno49_held" ] || fail "$pool_done pool assigns succeeded, but web1 holds $eno49_held VFs of eno49"
dups=$(awk '{ print $2 }' <<<"$held" | sort | uniq -d)
[ -z "$dups" ] || fail "VFs held twice: $dups"
[ "$pool_done" = 7 ] || fail "the pool had 7 free VFs, $pool_done were handed out"
added=0
for i in "${!cmds[@]}"; do
    [[ ${cmds[$i]} == "cfg add "* ]] || continue
    dev=${cmds[$i]##* }
    if [ "$(cat "$work/$i.rc")" = 0 ]; then
        added=$((added + 1))
        grep -q "'$dev'" "$root/etc/xen/web1.cfg" || fail "cfg add $dev succeeded, but web1.cfg lacks it (an edit was lost)"
    fi
done
grep -q '^# web1$' "$root/etc/xen/web1.cfg" || fail "web1.cfg lost its comment"
ls -a "$root/etc/xen" | grep -q '\.xvf-' && fail "a temporary file is left in etc/xen"
eno52=$(cat "$root/sys/bus/pci/devices/0000:04:00.3/sriov_numvfs")
case $eno52 in 1|2|3|4) ;; *) fail "eno52 ends with $eno52 VFs, which no command asked for" ;; esac
released=$(grep -c '^eno51 ' <<<"$held" || true)

echo "many-at-once: ${#cmds[@]} commands: $done_count done, $refused refused with one line; web1 holds $eno49_held" \
    "VFs of eno49 (none twice), $released of eno51 after 4 releases; web1.cfg has all $added devices added;" \
    "eno52 has $eno52 VFs"
[ "$failures" = 0 ] || { echo "many-at-once: $failures failures" >&2; exit 1; }
