#!/usr/bin/env bash
# Runs every benchmark (release build) one after the other; each prints its
# own figures side by side with its anchor.
set -euo pipefail
cd "$(dirname "$0")/.."
B="${BUILD:-build}"
scripts/bench-deps.sh

# essentia.js, a referee of bench_audio, comes from the npm registry into the
# build tree (never into the repository). Pinned; a failure only leaves that
# referee out (bench_audio says so).
ESSENTIA_VERSION=0.1.3
ESSENTIA_PREFIX="$B/bench-audio/node"
if [[ -x "$B/release/bench/bench_audio" &&
    ! -f "$ESSENTIA_PREFIX/node_modules/essentia.js/package.json" ]]; then
    if command -v npm >/dev/null 2>&1; then
        mkdir -p "$ESSENTIA_PREFIX"
        npm install --prefix "$ESSENTIA_PREFIX" --no-audit --no-fund --no-save \
            "essentia.js@$ESSENTIA_VERSION" >&2 ||
            echo "run-bench: npm install essentia.js failed; bench_audio runs without it" >&2
    else
        echo "run-bench: npm not found; bench_audio runs without essentia.js" >&2
    fi
fi

for bin in "$B"/release/bench/bench_*; do
    [[ -x "$bin" && "$bin" != *.o && "$bin" != *.d ]] || continue
    echo "== $(basename "$bin")"
    "$bin"
    echo
done

# Benchmarks that drive the `disco` binary (the HTTP server against nginx).
for script in bench/bench_*.sh; do
    [[ -x "$script" ]] || continue
    echo "== $(basename "$script" .sh)"
    "$script" "$B/release/disco"
    echo
done
