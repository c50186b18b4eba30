#!/usr/bin/env bash
# Writes a compile_commands.json for clangd to stdout: one entry per C file,
# with the flags the release build uses ($1).
set -euo pipefail
cd "$(dirname "$0")/.."
flags=$1
dir=$PWD
first=1
echo "["
for f in $(ls src/*/*.c tests/*/*.c bench/*.c fuzz/*.c 2>/dev/null); do
    [[ $first -eq 1 ]] || echo ","
    first=0
    cmd="$flags -c $f"
    printf '  {"directory": "%s", "file": "%s", "command": "%s"}' "$dir" "$f" "${cmd//\"/\\\"}"
done
echo
echo "]"
