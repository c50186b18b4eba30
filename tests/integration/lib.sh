# lib.sh - helpers for integration tests that drive the real `disco` binary.
#
# Each check prints "ok NAME" or "FAIL NAME" plus details; the runner counts
# those lines. Source this file, then call the checks.
set -u

DISCO=${DISCO_BIN:-$PWD/build/asan/disco}
T=$(mktemp -d "${TMPDIR:-/tmp}/disco-it-XXXXXX")
PIDS=() # servers started by serve
trap 'kill "${PIDS[@]}" 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
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

# http ARGS...: curl, the body in $OUT and the status in $CODE.
http() {
    OUT=$(curl -s -w '\n%{http_code}' "$@")
    CODE=${OUT##*$'\n'}
    OUT=${OUT%$'\n'*}
    ERR=""
}

# c ARGS...: http (a script may redefine c, e.g. to add a token).
c() {
    http "$@"
}

# stop_last: stops the server started last and waits for it (one server
# serves a data folder at a time).
stop_last() {
    if ((${#PIDS[@]})); then
        kill "${PIDS[-1]}" 2>/dev/null
        wait "${PIDS[-1]}" 2>/dev/null
    fi
}

# serve LOG ARGS...: stops the last server, starts `disco serve` with ARGS in
# the background, and sets URL from its log.
serve() {
    local log=$1
    shift
    stop_last
    "$DISCO" serve --port 0 --threads 4 --monitor-interval 0 "$@" >"$log" 2>&1 &
    PIDS+=($!)
    URL=""
    for _ in $(seq 100); do
        URL=$(grep -o 'http://[0-9.]*:[0-9]*' "$log" | head -n1)
        [[ -n "$URL" ]] && break
        sleep 0.1
    done
}
