#!/usr/bin/env bash
# Installs the Debian packages Disco-Musica needs to build, test and run.
#
# Idempotent: when every package is already installed it does nothing and
# touches no network. Uses apt-get directly as root, through sudo otherwise.
# The list covers the whole design (DESIGN.md's dependency table), so later
# work rarely needs to change it.
set -euo pipefail

PACKAGES=(
    # toolchain
    build-essential pkg-config clang libclang-rt-14-dev clang-format
    # tests: JSON in shell checks, dropping privileges, an HTTP client, a second Prometheus
    # text parser (promtool itself, Debian `prometheus`, is ~100 MB: used when present)
    jq util-linux curl python3-prometheus-client python3-jsonschema
    # base: JSON, hashing, tests
    libjansson-dev libssl-dev libcmocka-dev
    # storage: catalog (embedded and scale-out)
    libsqlite3-dev sqlite3 libpq-dev
    # dsp: FFT, audio files, resampling, loudness, decoders
    libfftw3-dev libsndfile1-dev libsamplerate0-dev libebur128-dev
    libmpg123-dev libopusfile-dev
    # music: MIDI rendering and the GM soundfont
    libfluidsynth-dev fluid-soundfont-gm
    # tsa: least squares
    liblapacke-dev liblapack-dev libblas-dev libgsl-dev
    # interfaces: HTTP server, OSC
    libmicrohttpd-dev liblo-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# tests: node and npm run the OpenAPI 3.1 referee (scripts/fetch-openapi-schema.sh); skipped
# where a node with npm is on the PATH already (e.g. NodeSource's nodejs, which carries its own
# npm and conflicts with Debian's npm package).
if ! command -v npm >/dev/null 2>&1; then
    for p in nodejs npm; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ "$status" == "install ok installed" ]] || missing+=("$p")
    done
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
    SUDO="sudo"
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
