#!/usr/bin/env bash
# Runs every benchmark (release build) one after the other; each prints its
# own figures side by side with its anchor.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${BUILD:-build}"
scripts/bench-deps.sh
for bin in "$B"/release/bench/bench_*; do
    [[ -x "$bin" && "$bin" != *.o && "$bin" != *.d ]] || continue
    echo "== $(basename "$bin")"
    "$bin"
    echo
done
