#!/usr/bin/env bash
# libFuzzer targets: `replay` runs each target once over its corpus
# (fuzz/corpus/<name>/); `explore [SECONDS]` fuzzes each target for a while
# (default 60 s), adding new inputs to a scratch corpus in fuzz/work/.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${BUILD:-build}"
mode=${1:-replay}
seconds=${2:-60}
status=0
for bin in "$PWD/$B"/fuzz/fuzz/fuzz_*; do
    [[ -x "$bin" && "$bin" != *.o && "$bin" != *.d ]] || continue
    name=$(basename "$bin")
    corpus="$PWD/fuzz/corpus/${name#fuzz_}"
    if [[ "$mode" == replay ]]; then
        if "$bin" -runs=0 -artifact_prefix="$PWD/$B/" "$corpus" >/dev/null 2>&1; then
            echo "ok   $name ($(ls "$corpus" | wc -l) inputs)"
        else
            echo "FAIL $name: run '$bin -runs=0 $corpus' to see why"
            status=1
        fi
    else
        mkdir -p "$PWD/fuzz/work/$name"
        "$bin" -max_total_time="$seconds" -artifact_prefix="$PWD/fuzz/" "$PWD/fuzz/work/$name" "$corpus" || status=1
    fi
done
exit $status
