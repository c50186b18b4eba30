#!/usr/bin/env bash
# Installs the independent referees the benchmarks compare against (never
# needed to build, run or test): Debian's statsmodels for the time-series
# analytics, Fashion-MNIST for vector search. Idempotent, like deps.sh.
set -euo pipefail
PACKAGES=(python3-statsmodels python3-scipy python3-numpy dataset-fashion-mnist libhnswlib-dev g++)
missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "bench-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
