#!/usr/bin/env bash
# Runs every test under ASan+UBSan and ends with one line: "N passed, N failed".
#
#   unit         build/asan/tests/<layer>/test_<module>   (cmocka; each case counts)
#   integration  tests/integration/test_*.sh               (each check counts)
#   fuzz         build/fuzz/fuzz/fuzz_*  over fuzz/corpus/<target>/  (each target counts)
#
# Extra arguments filter by substring: scripts/run-tests.sh catalog
set -uo pipefail
cd "$(dirname "$0")/.."
B="${BUILD:-build}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export DISCO_BIN="$PWD/$B/asan/disco"
# promtool, the referee of /metrics, unpacked from Debian's prometheus package (not installed).
PROMTOOL="${PROMTOOL:-$(scripts/fetch-promtool.sh "$B/tools" 2>/dev/null || true)}"
export PROMTOOL
# The OAS 3.1 schemas and a JSON Schema 2020-12 validator, from npm into the build tree.
OPENAPI_SCHEMA_DIR="${OPENAPI_SCHEMA_DIR:-$(scripts/fetch-openapi-schema.sh "$B/tools/openapi" 2>/dev/null || true)}"
export OPENAPI_SCHEMA_DIR
export CMOCKA_MESSAGE_OUTPUT=STDOUT
LOGDIR=$B/test-logs
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

passed=0
failed=0
failures=()
filter="${1:-}"

selected() {
    local name=${1#"$B"/}
    [[ -z "$filter" || "$name" == *"$filter"* ]]
}

run_unit() {
    local bin=$1 name log p f
    name=${bin#"$B"/asan/tests/}
    log="$LOGDIR/unit-${name//\//-}.log"
    "$bin" >"$log" 2>&1
    local rc=$?
    p=$(grep -E '^\[  PASSED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | head -n1)
    f=$(grep -E '^\[  FAILED  \] [0-9]+ test' "$log" | grep -oE '[0-9]+' | head -n1)
    p=${p:-0}
    f=${f:-0}
    if [[ $rc -ne 0 && $f -eq 0 ]]; then
        f=1 # crashed or sanitizer abort before cmocka could report
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [[ $f -ne 0 ]]; then
        failures+=("unit $name (see $log)")
        echo "FAIL unit $name: $p passed, $f failed"
        tail -n 30 "$log" | sed 's/^/    /'
    else
        echo "ok   unit $name: $p passed"
    fi
}

run_integration() {
    local script=$1 name log p f
    name=$(basename "$script" .sh)
    log="$LOGDIR/integration-$name.log"
    bash "$script" >"$log" 2>&1
    local rc=$?
    p=$(grep -cE '^ok ' "$log")
    f=$(grep -cE '^FAIL ' "$log")
    if [[ $rc -ne 0 && $f -eq 0 ]]; then
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [[ $f -ne 0 ]]; then
        failures+=("integration $name (see $log)")
        echo "FAIL integration $name: $p passed, $f failed"
        grep -E -A8 '^FAIL ' "$log" | head -n 60 | sed 's/^/    /'
    else
        echo "ok   integration $name: $p passed"
    fi
}

run_fuzz_replay() {
    local bin=$1 name corpus log
    name=$(basename "$bin")
    corpus="$PWD/fuzz/corpus/${name#fuzz_}"
    log="$LOGDIR/fuzz-$name.log"
    if [[ ! -d "$corpus" ]]; then
        failed=$((failed + 1))
        failures+=("fuzz $name: no corpus at $corpus")
        echo "FAIL fuzz $name: no corpus at $corpus"
        return
    fi
    if "$bin" -runs=0 -artifact_prefix="$PWD/$LOGDIR/" "$corpus" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   fuzz $name: corpus of $(ls "$corpus" | wc -l) replayed"
    else
        failed=$((failed + 1))
        failures+=("fuzz $name (see $log)")
        echo "FAIL fuzz $name"
        tail -n 30 "$log" | sed 's/^/    /'
    fi
}

# Only binaries of test sources that exist (a removed test's old binary is skipped).
for src in tests/*/test_*.c; do
    bin="$B/asan/${src%.c}"
    selected "$bin" || continue
    if [[ ! -x "$bin" ]]; then
        failed=$((failed + 1))
        failures+=("unit $src: not built")
        echo "FAIL unit $src: not built"
        continue
    fi
    run_unit "$bin"
done
for script in tests/integration/test_*.sh; do
    [[ -e "$script" ]] || continue
    selected "$script" && run_integration "$script"
done
for src in fuzz/fuzz_*.c; do
    bin="$B/fuzz/${src%.c}"
    selected "$bin" || continue
    if [[ ! -x "$bin" ]]; then
        failed=$((failed + 1))
        failures+=("fuzz $src: not built")
        echo "FAIL fuzz $src: not built"
        continue
    fi
    run_fuzz_replay "$bin"
done

if [[ ${#failures[@]} -ne 0 ]]; then
    echo
    echo "failures:"
    printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
