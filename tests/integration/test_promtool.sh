# test_promtool.sh - the Prometheus text exposition (src/base/prom.c), as
# written by tests/tools/promdump, read by independent parsers:
#   promtool check metrics   (from Debian `prometheus`, unpacked without
#                             installing by scripts/fetch-promtool.sh, which
#                             the test runner calls)
#   prometheus_client.parser (Debian `python3-prometheus-client`, in deps.sh)
# A referee that is missing is reported as skipped.
source "$(dirname "$0")/lib.sh"

PROMDUMP=${PROMDUMP_BIN:-$(dirname "$DISCO")/tests/tools/promdump}
run "$PROMDUMP"
expect_code "promdump writes an exposition" 0
printf '%s\n' "$OUT" >"$T/metrics.txt"
# A broken exposition, to show each referee rejects what it should.
printf '# TYPE x_total counter\nx_total{a="b} 1\n' >"$T/broken.txt"

PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [[ -n "$PROMTOOL" ]]; then
    run "$PROMTOOL" check metrics <"$T/metrics.txt"
    if [[ $CODE -eq 0 && -z "$OUT$ERR" ]]; then pass "promtool check metrics: clean"; else
        fail "promtool check metrics: clean" "promtool reported problems"
    fi
    run "$PROMTOOL" check metrics <"$T/broken.txt"
    if [[ $CODE -ne 0 ]]; then pass "promtool rejects a broken exposition"; else
        fail "promtool rejects a broken exposition" "promtool accepted it"
    fi
else
    echo "skip: promtool not installed (Debian package prometheus)"
fi

# Debian's python3 module, so the system interpreter before any other on PATH.
PY=""
for py in /usr/bin/python3 python3; do
    if "$py" -c 'import prometheus_client.parser' 2>/dev/null; then
        PY=$py
        break
    fi
done
if [[ -z "$PY" ]]; then
    echo "skip: prometheus_client not installed (Debian package python3-prometheus-client)"
    exit 0
fi

# Prints one line per family: name type samples; then the odd label value as JSON.
read -r -d '' PARSE <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
odd = None
for f in text_string_to_metric_families(text):
    print(f.name, f.type, len(f.samples))
    for s in f.samples:
        if s.labels.get("code") == "400":
            odd = s.labels["route"]
        if s.name.endswith("_bucket") and s.labels["le"] == "+Inf":
            count = [t for t in f.samples if t.name.endswith("_count")
                     and {k: v for k, v in t.labels.items()}
                     == {k: v for k, v in s.labels.items() if k != "le"}]
            assert count and count[0].value == s.value, "+Inf bucket != _count"
print("odd", json.dumps(odd))
EOF

run "$PY" -c "$PARSE" "$T/metrics.txt"
expect_code "prometheus_client parses the exposition" 0
expect_eq "families, types and sample counts" \
    "disco_http_requests counter 2
disco_http_request_duration_seconds histogram 36
disco_object_size_bytes histogram 6
disco_never_used counter 0
disco_jobs gauge 2
disco_uptime_seconds gauge 1
odd \"/weird\\\"path\\\\with\\nnewline\"" "$OUT"
run "$PY" -c "$PARSE" "$T/broken.txt"
if [[ $CODE -ne 0 ]]; then pass "prometheus_client rejects a broken exposition"; else
    fail "prometheus_client rejects a broken exposition" "it parsed"
fi
