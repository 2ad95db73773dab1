#!/usr/bin/env bash
# make fuzz: builds Sources/xvf-fuzz with libFuzzer (-sanitize=fuzzer, .build-fuzz) and runs every target
# for FUZZ_SECONDS (default 60) from its corpus in Tests/Fuzz/corpus (copied: the checked-in corpus stays
# as it is). A crash, a hang (5 s per input) or memory past 2 GiB fails it; the input that did it is left in
# .build-fuzz/findings/ and becomes a regression case under Tests/Fuzz/crashes/TARGET/.
# Prints, per target, the executions run without a finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
swift build --scratch-path .build-fuzz --product xvf-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DXVF_FUZZ \
    -Xswiftc -use-ld=lld >/dev/null
fuzzer=.build-fuzz/debug/xvf-fuzz
work=.build-fuzz/work findings=.build-fuzz/findings
rm -rf "$work"
mkdir -p "$work" "$findings"
failed=0
for corpus in Tests/Fuzz/corpus/*/; do
    target=$(basename "$corpus")
    mkdir -p "$work/$target"
    cp "$corpus"* "$work/$target/"
    log="$work/$target.log"
    # SWIFT_BACKTRACE off: libFuzzer, not Swift's backtracer, must see the signal to save the input.
    if SWIFT_BACKTRACE=enable=no "$fuzzer" "$target" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
        -artifact_prefix="$findings/$target-" "$work/$target" >"$log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
        printf '%-14s %10s executions in %s s, no finding\n' "$target" "${runs:-?}" "$seconds"
    else
        echo "$target: FINDING (input in $findings/):"
        grep -E 'ERROR|Assertion|Fatal error|deadly|timeout|out-of-memory|Test unit written' "$log" | head -n 8
        failed=1
    fi
done
exit $failed
