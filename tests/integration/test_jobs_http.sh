# test_jobs_http.sh - `disco serve` beyond single requests, driven with curl:
# long ops as jobs (202 + Location, the record, Prefer: wait), their events
# as server-sent events read by curl (and resumed with Last-Event-ID),
# cancelling, /metrics read by independent parsers (promtool where
# installed, Debian's python3-prometheus-client), concurrent ts requests on
# the shared tsdb and searches of one shared vector collection, and the
# self-monitor's series and alert rules.
source "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1; then
    echo "skip: curl not installed (Debian package curl; scripts/deps.sh installs it)"
    exit 0
fi

# A vector collection made before the server holds it.
python3 -c 'import json, random
random.seed(7)
print(json.dumps({"vectors": [{"id": "v%d" % i, "values": [random.random() for _ in range(8)]}
                              for i in range(200)]}))' >"$T/vectors.json"
d vec create songs --dim 8 --metric cosine
d vec upsert songs "$T/vectors.json"
expect_code "a collection to search" 0

LOG="$T/serve.log"
"$DISCO" serve --port 0 --threads 4 --workers 1 --monitor-interval 1 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
URL=""
for _ in $(seq 100); do
    URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$LOG" | head -n1)
    [[ -n "$URL" ]] && break
    sleep 0.1
done
OUT=$(cat "$LOG")
CODE=0
expect_out "serve says it monitors itself" 0 "self-monitoring every 1 s"

head -c 4000000 /dev/urandom >"$T/blob"
c -T "$T/blob" "$URL/api/objects"
H=$(jqo .hash)
python3 -c "import json,sys; print(json.dumps({'hashes': [sys.argv[1]] * 2000}))" "$H" >"$T/slow.json"

# ---- a job from 202 to its result ----------------------------------------------------
HDRS=$(curl -s -D - -o "$T/accepted.json" -X POST "$URL/api/object/verify" \
    -d "{\"hashes\": [\"$H\"]}" | tr -d '\r')
JOB=$(jq -r .job "$T/accepted.json")
expect_eq "long op: 202" "HTTP/1.1 202 Accepted" "$(head -n1 <<<"$HDRS")"
expect_eq "Location is the status URL" "Location: /api/jobs/$JOB" "$(grep '^Location:' <<<"$HDRS")"
for _ in $(seq 200); do
    c "$URL/api/jobs/$JOB"
    [[ "$(jqo .state)" == succeeded ]] && break
    sleep 0.05
done
expect_eq "the record ends with the result" "succeeded 1" "$(jqo '.state + " " + (.result.checked | tostring)')"
c "$URL/api/jobs"
expect_eq "GET /api/jobs lists it" "$JOB" "$(jqo '.items[0].id')"

# ---- server-sent events ---------------------------------------------------------------
curl -s -N "$URL/api/jobs/$JOB/events" >"$T/events.txt"
expect_eq "events: queued, running, ..., succeeded" "queued running succeeded" \
    "$(sed -n 's/^data: //p' "$T/events.txt" | jq -r 'select(.type == "state") | .state' | xargs)"
expect_eq "every event has id and event lines" \
    "$(grep -c '^data: ' "$T/events.txt")" "$(grep -c '^event: \(state\|progress\)$' "$T/events.txt")"
curl -s -N -H "Last-Event-ID: 2" "$URL/api/jobs/$JOB/events" >"$T/resumed.txt"
expect_eq "resumed after event 2" "$(grep '^id: ' "$T/events.txt" | sed 1,2d | xargs)" \
    "$(grep '^id: ' "$T/resumed.txt" | xargs)"

c -X POST "$URL/api/object/verify" --data-binary @"$T/slow.json"
SLOW=$(jqo .job)
curl -s -N "$URL/api/jobs/$SLOW/events" >"$T/live.txt" &
READER=$!
sleep 0.5
c -X DELETE "$URL/api/jobs/$SLOW"
expect_eq "cancel a running job: 202" 202 "$CODE"
wait "$READER"
expect_eq "the live stream saw progress, then the end" "yes cancelled" \
    "$(grep -q '^event: progress' "$T/live.txt" && echo yes) $(grep '^data: ' "$T/live.txt" |
        tail -n1 | sed 's/^data: //' | jq -r .state)"
c -X DELETE "$URL/api/jobs/$SLOW"
expect_eq "cancel a finished job: 409" "409 CONFLICT" "$CODE $(jqo .error.code)"

c -H 'Prefer: wait=30' -X POST "$URL/api/object/verify" -d "{\"hashes\": [\"$H\"]}"
expect_eq "Prefer: wait answers with the result" "200 1" "$CODE $(jqo .checked)"

# ---- the shared tsdb: ts requests at once -------------------------------------------------
seq 24 | xargs -P 8 -I@ curl -s -o /dev/null -w '%{http_code}\n' -X POST "$URL/api/ts/stats" \
    -d '{}' >"$T/ts_codes"
expect_eq "24 ts requests, 8 at a time: all 200" "24" "$(grep -c '^200$' "$T/ts_codes")"
seq 24 | xargs -P 8 -I@ curl -s -o /dev/null -w '%{http_code}\n' -X POST \
    "$URL/api/search/similar" -d '{"name": "songs", "vector": [1,0,0,0,0,0,0,1], "k": 3}' \
    >"$T/vec_codes"
expect_eq "24 searches of one collection, 8 at a time: all 200" "24" \
    "$(grep -c '^200$' "$T/vec_codes")"
c -X POST "$URL/api/search/similar" -d '{"name": "songs", "id": "v3", "k": 1}'
expect_eq "search by id finds itself" "v3" "$(jqo '.matches[0].id // .results[0].id')"
run "$DISCO" vec stats songs
expect_err "while served, the collection is held by the server" 1 "open elsewhere"

# ---- self-monitoring ------------------------------------------------------------------------
for _ in $(seq 50); do
    c -X POST "$URL/api/ts/list" -d '{"metric": "server.requests"}'
    [[ "$(jqo '.items | length')" -ge 1 ]] 2>/dev/null && break
    sleep 0.2
done
expect_eq "server.requests is recorded, tagged with the instance" "${URL#http://}" \
    "$(jqo '.items[0].tags.instance')"
c -X POST "$URL/api/monitor/rules" -d '{}'
expect_eq "the server's own alert rules" "server.errors server.latency_p95_ms" \
    "$(jqo '[.items[].metric] | sort | join(" ")')"
c "$URL/api/monitor/alerts"
expect_eq "GET /api/monitor/alerts" "200 true" "$CODE $(jqo '.items | type == "array"')"

# ---- /metrics read by independent parsers ---------------------------------------------------
curl -s -D "$T/metrics.head" -o "$T/metrics.txt" "$URL/metrics"
expect_eq "metrics content type" "Content-Type: text/plain; version=0.0.4; charset=utf-8" \
    "$(tr -d '\r' <"$T/metrics.head" | grep -i '^Content-Type:')"
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}
if [[ -n "$PROMTOOL" ]]; then
    run "$PROMTOOL" check metrics <"$T/metrics.txt"
    if [[ $CODE -eq 0 ]]; then pass "promtool check metrics"; else fail "promtool check metrics"; fi
else
    echo "skip: promtool not installed (Debian package prometheus)"
fi
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
read -r -d '' PARSE <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for f in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in f.samples:
        labels = ",".join(f"{k}={s.labels[k]}" for k in sorted(s.labels))
        v[f"{s.name}{{{labels}}}"] = s.value
def get(k): return v.get(k, "missing")
print(get("disco_http_requests_total{method=POST,route=/api/object/verify,status=202}") >= 2)
print(get("disco_http_requests_total{method=GET,route=/api/jobs/{id}/events,status=200}") >= 3)
print(all("/api/jobs/0" not in k for k in v))
print(get("disco_job_duration_seconds_count{op=object.verify,state=succeeded}") >= 2)
print(get("disco_job_duration_seconds_count{op=object.verify,state=cancelled}") >= 1)
print(get("disco_jobs_queued{}"), get("disco_jobs_running{}"))
print(get("disco_objects_bytes{}"), get("disco_tsdb_series{}") >= 5)
print(get("disco_tsdb_points_written_total{source=monitor}") > 0)
EOF
run "$PY" -c "$PARSE" "$T/metrics.txt"
expect_eq "prometheus_client reads the live exposition" "True
True
True
True
True
0.0 0.0
4000000.0 True
True" "$OUT"

kill -TERM "$SERVER"
wait "$SERVER"
CODE=$?
OUT=$(cat "$LOG")
expect_out "SIGTERM stops the server cleanly" 0 "disco: stopping"
