# lib.sh - helpers for integration tests that drive the real `disco` binary.
#
# Each check prints "ok NAME" or "FAIL NAME" plus details; the runner counts
# those lines. Source this file, then call the checks.
set -u

DISCO=${DISCO_BIN:-$PWD/build/asan/disco}
T=$(mktemp -d "${TMPDIR:-/tmp}/disco-it-XXXXXX")
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
export DISCO_DATA="$T/data"
unset DISCO_CONFIG DISCO_POSTGRES_URI
OUT=""
ERR=""
CODE=0

# run CMD...: runs a command, capturing stdout in $OUT, stderr in $ERR, status in $CODE.
run() {
    "$@" >"$T/.out" 2>"$T/.err"
    CODE=$?
    OUT=$(cat "$T/.out")
    ERR=$(cat "$T/.err")
}

# d ARGS...: runs disco with ARGS (see run).
d() {
    run "$DISCO" "$@"
}

pass() { echo "ok $1"; }
fail() {
    echo "FAIL $1"
    shift
    printf '    %s\n' "$@"
    printf '    exit: %s\n    stdout: %s\n    stderr: %s\n' "$CODE" "${OUT:0:600}" "${ERR:0:600}"
}

# expect_code NAME CODE: the last run exited with CODE.
expect_code() {
    if [[ "$CODE" == "$2" ]]; then pass "$1"; else fail "$1" "expected exit $2"; fi
}

# expect_out NAME CODE NEEDLE: exit CODE and NEEDLE in stdout.
expect_out() {
    if [[ "$CODE" == "$2" && "$OUT" == *"$3"* ]]; then pass "$1"; else
        fail "$1" "expected exit $2 and stdout containing: $3"
    fi
}

# expect_err NAME CODE NEEDLE: exit CODE and NEEDLE in stderr.
expect_err() {
    if [[ "$CODE" == "$2" && "$ERR" == *"$3"* ]]; then pass "$1"; else
        fail "$1" "expected exit $2 and stderr containing: $3"
    fi
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1" "expected [$2], got [$3]"; fi
}

# jqo FILTER: applies a jq filter to the last stdout.
jqo() {
    jq -r "$1" <<<"$OUT"
}
