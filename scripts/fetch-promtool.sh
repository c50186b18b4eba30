#!/usr/bin/env bash
# Puts Prometheus' `promtool` (the referee of our /metrics text) in
# build/tools/promtool without installing the `prometheus` package (which
# would add a service): apt-get download, then dpkg-deb -x. Idempotent;
# prints the path on success, nothing (exit 1) when it cannot.
#
#   scripts/fetch-promtool.sh [DIR]     DIR defaults to build/tools
set -uo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build/tools}"
if command -v promtool >/dev/null 2>&1; then
    command -v promtool
    exit 0
fi
if [[ -x "$dir/promtool" ]]; then
    echo "$PWD/$dir/promtool"
    exit 0
fi
mkdir -p "$dir/deb"
opts=()
[[ $EUID -eq 0 ]] && opts=(-o APT::Sandbox::User=root)
if ! compgen -G "$dir/deb/prometheus_*.deb" >/dev/null; then
    (cd "$dir/deb" && apt-get "${opts[@]}" -q download prometheus >/dev/null 2>&1) || exit 1
fi
deb=$(compgen -G "$dir/deb/prometheus_*.deb" | head -n 1)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/deb" ./usr/bin/promtool 2>/dev/null || exit 1
mv "$dir/deb/usr/bin/promtool" "$dir/promtool" && echo "$PWD/$dir/promtool"
