#!/usr/bin/env bash
# Installs the independent referees the benchmarks compare against (never
# needed to build, run or test): Debian's statsmodels for the time-series
# analytics, Fashion-MNIST for vector search, aubio-tools and ffmpeg (and
# Node.js for essentia.js, which run-bench.sh fetches from npm) for the audio
# analysis and mastering, wrk and nginx for the HTTP server (nginx only runs
# as a user process from bench_http.sh's own config). Idempotent, like deps.sh.
set -euo pipefail
PACKAGES=(python3-statsmodels python3-scipy python3-numpy dataset-fashion-mnist libhnswlib-dev g++
    aubio-tools ffmpeg wrk nginx-light)
missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
# Node.js by command, not by package: a NodeSource nodejs already provides
# npm and conflicts with Debian's npm package, which would remove it.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
