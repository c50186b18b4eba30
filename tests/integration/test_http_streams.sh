# test_http_streams.sh - `disco serve` with request bodies that are an op's
# input ("-") rather than its JSON parameters, driven with curl: ts.write
# from CSV and line protocol (as jobs, with and without Prefer: wait),
# vec.upsert and vec.batch-search from a body, resource.create with a WAV
# payload read back from /api/objects, object.get answering with its bytes,
# ts.export and object.get writing "-" kept as objects named in their
# results (readable by their principal only; nothing stored on failure),
# the refusals (415, 413, an empty body, a JSON request to an op whose input
# is the body, a file named besides the body), a client that vanishes mid
# body, the disco_tsdb_points_written_total{source="api"} counter, and the
# token roles and ACLs applied as on the JSON path.
source "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1; then
    echo "skip: curl not installed (Debian package curl; scripts/deps.sh installs it)"
    exit 0
fi

LIMIT=300000


# api_written: the value of disco_tsdb_points_written_total{source="api"} (empty: none).
api_written() {
    curl -s "$URL/metrics" | awk '$1 == "disco_tsdb_points_written_total{source=\"api\"}" {print $2}'
}

serve "$T/serve.log" --max-upload "$LIMIT"
if [[ -n "$URL" ]]; then pass "serve prints its URL"; else fail "serve prints its URL" "no URL"; fi
expect_eq "the api counter starts at 0" "0" "$(api_written)"

# ---- ts.write: CSV and line protocol bodies -------------------------------------------
{
    echo "ts,value,host"
    for i in $(seq 0 99); do echo "$((1700000000000 + i * 1000)),$i.5,h1"; done
} >"$T/loss.csv"
c -X POST -H 'Content-Type: text/csv' -H 'Prefer: wait=10' --data-binary @"$T/loss.csv" \
    "$URL/api/ts/write?metric=loss&tags=run=a"
expect_eq "CSV body: written (format from text/csv)" "200 100 1" \
    "$CODE $(jqo .written) $(jqo .series)"
printf 'cpu,host=h2 value=1.5 1700000000000\ncpu,host=h2 value=2.5 1700000001000\ncpu,host=h2 value=3.5 1700000002000\n' \
    >"$T/cpu.lp"
c -X POST -H 'Content-Type: text/plain; charset=utf-8' -H 'Prefer: wait=10' \
    --data-binary @"$T/cpu.lp" "$URL/api/ts/write?precision=ms"
expect_eq "line protocol body: written (format from text/plain)" "200 3" "$CODE $(jqo .written)"
printf '[{"metric": "temp", "ts": 1700000000000, "value": 21}]' >"$T/temp.json"
c -X POST -H 'Content-Type: application/octet-stream' -H 'Prefer: wait=10' \
    --data-binary @"$T/temp.json" "$URL/api/ts/write?format=json"
expect_eq "JSON points as application/octet-stream" "200 1" "$CODE $(jqo .written)"

c -X POST "$URL/api/ts/query" -d '{"metric": "loss", "where": ["run=a"]}'
expect_eq "ts.query sees the CSV points" "200 100 a" \
    "$CODE $(jqo '[.series[].points | length] | add') $(jqo '.series[0].tags.run')"
c -X POST "$URL/api/ts/query" -d '{"metric": "cpu"}'
expect_eq "ts.query sees the line protocol points" "3.5" "$(jqo '.series[0].points[2][1]')"
expect_eq "the api counter counts every point written" "104" "$(api_written)"

# A job without Prefer: wait reads its body after the request has returned.
{
    echo "ts,value"
    for i in $(seq 0 49); do echo "$((1700000100000 + i * 1000)),$i"; done
} >"$T/late.csv"
c -X POST -H 'Content-Type: text/csv' --data-binary @"$T/late.csv" "$URL/api/ts/write?metric=late"
JOB=$(jqo .job)
expect_eq "without Prefer: wait a 202 job" "202 queued" "$CODE $(jqo .state)"
for _ in $(seq 100); do
    c "$URL/api/jobs/$JOB"
    [[ "$(jqo .state)" == succeeded || "$(jqo .state)" == failed ]] && break
    sleep 0.05
done
expect_eq "the job read the body it owns" "succeeded 50" "$(jqo .state) $(jqo .result.written)"
expect_eq "the api counter counts jobs followed later" "154" "$(api_written)"
if [[ -n "${PROMTOOL:-}" ]]; then
    curl -s "$URL/metrics" >"$T/metrics.txt"
    run "$PROMTOOL" check metrics <"$T/metrics.txt"
    expect_code "promtool accepts /metrics with source=\"api\"" 0
else
    echo "skip: promtool not found (scripts/fetch-promtool.sh unpacks it)"
fi

# ---- refusals --------------------------------------------------------------------------
c -X POST -H 'Content-Type: text/csv' --data-binary @"$T/loss.csv" "$URL/api/ts/query?metric=loss"
expect_eq "415 for a body to an op without an input" "415 UNSUPPORTED" \
    "$CODE $(jqo .error.code)"
MSG=$(jqo .error.message)
if [[ "$MSG" == *"text/csv"* && "$MSG" == *"application/json"* ]]; then
    pass "415 names the Content-Type and application/json"
else
    fail "415 names the Content-Type and application/json" "message: $MSG"
fi
c -X POST -H 'Content-Type: text/csv' -H 'Prefer: wait=10' --data-binary '' \
    "$URL/api/ts/write?metric=loss"
expect_eq "an empty body names file" "400 INVAL file" \
    "$CODE $(jqo .error.code) $(jqo .error.field)"
c -X POST -H 'Content-Type: text/csv' --data-binary @"$T/loss.csv" \
    "$URL/api/ts/write?metric=loss&file=/etc/passwd"
expect_eq "a file named besides the body" "400 file" "$CODE $(jqo .error.field)"
c -X POST "$URL/api/ts/write" -d '{"metric": "loss"}'
expect_eq "JSON to an op whose input is the body: 400 file" "400 file" \
    "$CODE $(jqo .error.field)"
c -X POST -H 'Content-Type: text/csv' -H 'Prefer: wait=10' --data-binary 'ts,value
1700000000000,notanumber' "$URL/api/ts/write?metric=bad"
expect_eq "a malformed body is the op's 400" "400 INVAL" "$CODE $(jqo .error.code)"

head -c $((LIMIT + 1000)) /dev/urandom >"$T/big.bin"
c -X POST -H 'Content-Type: application/octet-stream' --data-binary @"$T/big.bin" \
    "$URL/api/resource/create?type=audio"
expect_eq "413 past --max-upload (declared length)" "413 LIMIT" "$CODE $(jqo .error.code)"
c -X POST -H 'Content-Type: application/octet-stream' -H 'Transfer-Encoding: chunked' \
    --data-binary @"$T/big.bin" "$URL/api/resource/create?type=audio"
expect_eq "413 past --max-upload (chunked)" "413 LIMIT" "$CODE $(jqo .error.code)"

# A client killed mid-body: nothing left behind, the server goes on.
head -c 250000 /dev/urandom >"$T/slow.bin"
curl -s --limit-rate 50k -X POST -H 'Content-Type: application/octet-stream' \
    --data-binary @"$T/slow.bin" "$URL/api/resource/create?type=audio" >/dev/null 2>&1 &
UP=$!
sleep 0.7
kill -9 "$UP" 2>/dev/null
wait "$UP" 2>/dev/null
sleep 0.3
expect_eq "killed client leaves no temporary file" "" "$(ls -A "$DISCO_DATA/tmp" 2>/dev/null)"
c "$URL/healthz"
expect_out "server alive after a vanished client" 200 '"status":"ok"'

# ---- vectors ------------------------------------------------------------------------------
c -X POST "$URL/api/vec/create" -d '{"name": "songs", "dim": 4}'
expect_code "vec.create" 200
cat >"$T/v.json" <<'JSON'
{"vectors": [
 {"id": "a", "values": [1, 0, 0, 0], "metadata": {"genre": "jazz"}},
 {"id": "b", "values": [0.9, 0.1, 0, 0], "metadata": {"genre": "jazz"}},
 {"id": "c", "values": [0, 1, 0, 0], "metadata": {"genre": "rock"}},
 {"id": "e", "values": [0, 0, 1, 0], "metadata": {"genre": "soul"}}
]}
JSON
c -X POST -H 'Content-Type: application/octet-stream' -H 'Prefer: wait=10' \
    --data-binary @"$T/v.json" "$URL/api/vec/upsert?name=songs"
expect_eq "vec.upsert from an octet-stream body" "200 4" "$CODE $(jqo .upserted)"
c -X POST "$URL/api/vec/search" -d '{"name": "songs", "vector": [1, 0.05, 0, 0], "k": 2}'
expect_eq "vec.search finds what the body held" "a,b" "$(jqo '[.matches[].id] | join(",")')"
printf '{"queries": [{"vector": [1,0,0,0], "k": 1}, {"vector": [0,0,1,0], "k": 1}]}' >"$T/q.json"
c -X POST -H 'Content-Type: text/plain' -H 'Prefer: wait=10' --data-binary @"$T/q.json" \
    "$URL/api/vec/batch-search?name=songs"
expect_eq "vec.batch-search from a text/plain body" "200 a,e" \
    "$CODE $(jqo '[.results[].matches[0].id] | join(",")')"

# ---- resources and objects ---------------------------------------------------------------
MK=${MKAUDIO_BIN:-$(dirname "$DISCO")/tests/tools/mkaudio}
if [[ -x "$MK" ]]; then
    "$MK" "$T/tone.wav" tone 440 0.5 0.3 >/dev/null
else
    head -c 40000 /dev/urandom >"$T/tone.wav"
fi
c -X POST -H 'Content-Type: audio/wav' --data-binary @"$T/tone.wav" \
    "$URL/api/resource/create?type=audio&tags=k=v"
H=$(jqo .object)
ID=$(jqo .resource_id)
expect_eq "resource.create with a WAV body" "200 audio v $(sha256sum "$T/tone.wav" | cut -c1-64)" \
    "$CODE $(jqo .resource_type) $(jqo .tags.k) $H"
curl -s -o "$T/back.wav" "$URL/api/objects/$H"
if cmp -s "$T/tone.wav" "$T/back.wav"; then pass "GET /api/objects/{hash} gives the WAV back"; else
    fail "GET /api/objects/{hash} gives the WAV back" "bytes differ"
fi
printf 'second version' >"$T/v2.bin"
c -X POST -H 'Content-Type: application/octet-stream' --data-binary @"$T/v2.bin" \
    "$URL/api/resource/update?id=$ID"
expect_eq "resource.update with a body: a new version" "200 2 $(sha256sum "$T/v2.bin" | cut -c1-64)" \
    "$CODE $(jqo .version) $(jqo .object)"

# Ops that write to "-" (ts.export, object.get) run as jobs whose output is kept as an
# object, named in the result; nothing is written to the server's stdout.
# objects_count: the objects in the store (its files outside tmp/).
objects_count() {
    find "$DISCO_DATA/objects" -path "$DISCO_DATA/objects/tmp" -prune -o -type f -print | wc -l
}
LOGSIZE=$(wc -c <"$T/serve.log")
c -X POST -H 'Prefer: wait=10' "$URL/api/ts/export" -d '{"metric": "loss", "time": "ms"}'
XH=$(jqo .output.hash)
XURL=$(jqo .output.url)
expect_eq "ts.export over HTTP: 200, 100 rows, kept as text/csv" "200 100 text/csv /api/objects/$XH" \
    "$CODE $(jqo .rows) $(jqo .output.media_type) $XURL"
curl -s -o "$T/export.csv" "$URL$XURL"
expect_eq "  the object is the CSV of the points" \
    "101 $(jqo .output.size) $(sha256sum "$T/export.csv" | cut -c1-64)" \
    "$(wc -l <"$T/export.csv") $(wc -c <"$T/export.csv") $XH"
if grep -q '^loss,a,h1,1700000000000,0\.5$' "$T/export.csv" && grep -q '^loss,a,h1,1700000099000,99\.5$' "$T/export.csv"; then
    pass "  the CSV holds the first and last points"
else
    fail "  the CSV holds the first and last points" "$(head -n 3 "$T/export.csv")"
fi
c -X POST -H 'Prefer: wait=10' "$URL/api/ts/export" -d '{"metric": "loss", "time": "ms", "output": "-"}'
expect_eq "  output \"-\" given explicitly: the same object" "200 $XH" "$CODE $(jqo .output.hash)"
c -X POST -H 'Prefer: wait=10' "$URL/api/object/get" -d "{\"hash\": \"$H\"}"
expect_eq "object.get over HTTP: the same object again" "200 $H application/octet-stream" \
    "$CODE $(jqo .output.hash) $(jqo .output.media_type)"
c -X POST -H 'Prefer: wait=10' "$URL/api/object/get" -d "{\"hash\": \"$H\", \"offset\": 8, \"length\": 4}"
expect_eq "object.get of a range keeps the range" \
    "200 4 $(tail -c +9 "$T/tone.wav" | head -c 4 | sha256sum | cut -c1-64)" \
    "$CODE $(jqo .output.size) $(jqo .output.hash)"
c -X POST "$URL/api/ts/export" -d '{"metric": "loss", "output": "/tmp/x.csv"}'
expect_eq "  a file on the server is still refused" "400 output" "$CODE $(jqo .error.field)"
NOBJ=$(objects_count)
c -X POST -H 'Prefer: wait=10' "$URL/api/ts/export" -d '{"metric": "loss", "where": ["run=a"], "time": "ms", "from": "2030-01-01T00:00:00Z", "to": "2020-01-01T00:00:00Z"}'
FAILED="$CODE $(jqo .error.code)"
c -X POST -H 'Prefer: wait=10' "$URL/api/object/get" \
    -d '{"hash": "0000000000000000000000000000000000000000000000000000000000000000"}'
expect_eq "failed exports answer their error" "400 INVAL 404" "$FAILED $CODE"
expect_eq "  and store nothing" "$NOBJ" "$(objects_count)"
expect_eq "  nor leave a file in tmp/" "" "$(ls -A "$DISCO_DATA/tmp" 2>/dev/null)"
if tail -c +$((LOGSIZE + 1)) "$T/serve.log" | grep -a -q '1700000000000\|2023-11-14\|RIFF'; then
    fail "nothing written to the server's stdout" "$(tail -n 5 "$T/serve.log")"
else
    pass "nothing written to the server's stdout"
fi

# ---- tokens: roles and ACLs as on the JSON path ------------------------------------------
export DISCO_DATA="$T/auth"
secret() { "$DISCO" token create "$1" --role "$2" --json | jq -r .secret; }
RITA=$(secret rita reader)
WENDY=$(secret wendy writer)
WALT=$(secret walt writer)
serve "$T/auth.log"
c -H "Authorization: Bearer $RITA" -X POST -H 'Content-Type: text/csv' \
    --data-binary @"$T/loss.csv" "$URL/api/ts/write?metric=loss"
expect_eq "a reader may not ts.write a body: 403" "403 PERM" "$CODE $(jqo .error.code)"
c -H "Authorization: Bearer $RITA" -X POST -H 'Content-Type: audio/wav' \
    --data-binary @"$T/tone.wav" "$URL/api/resource/create?type=audio"
expect_eq "a reader may not resource.create a body: 403" "403" "$CODE"
c -H "Authorization: Bearer $WENDY" -X POST -H 'Content-Type: text/csv' -H 'Prefer: wait=10' \
    --data-binary @"$T/loss.csv" "$URL/api/ts/write?metric=loss"
expect_eq "a writer may" "200 100" "$CODE $(jqo .written)"
c -H "Authorization: Bearer $WENDY" -X POST -H 'Content-Type: audio/wav' \
    --data-binary @"$T/tone.wav" "$URL/api/resource/create?type=audio"
PRIV=$(jqo .resource_id)
expect_eq "the writer owns what its body made" "200 wendy" "$CODE $(jqo .access_control.owner)"
c -H "Authorization: Bearer $WALT" -X POST -H 'Content-Type: application/octet-stream' \
    --data-binary @"$T/v2.bin" "$URL/api/resource/update?id=$PRIV"
BODY_CODE="$CODE $(jqo .error.code)"
c -H "Authorization: Bearer $WALT" -X POST "$URL/api/resource/update" \
    -d "{\"id\": \"$PRIV\", \"tags\": {\"x\": \"y\"}}"
expect_eq "another writer: the same answer as over JSON" "$CODE $(jqo .error.code)" "$BODY_CODE"
expect_eq "  which is 404 for a private resource" "404 NOTFOUND" "$BODY_CODE"

# An export's object is the writer's: it may GET it, a reader of another principal may not.
c -H "Authorization: Bearer $WENDY" -X POST -H 'Prefer: wait=10' "$URL/api/ts/export" \
    -d '{"metric": "loss", "time": "ms"}'
WH=$(jqo .output.hash)
expect_eq "a writer's export is kept" "200 100" "$CODE $(jqo .rows)"
c -H "Authorization: Bearer $WENDY" -o "$T/wendy.csv" "$URL/api/objects/$WH"
expect_eq "  the writer may GET it" "200 101" "$CODE $(wc -l <"$T/wendy.csv")"
c -H "Authorization: Bearer $RITA" "$URL/api/objects/$WH"
expect_eq "  a reader of another principal gets 404" "404" "$CODE"
c -H "Authorization: Bearer $RITA" -X POST -H 'Prefer: wait=10' "$URL/api/object/stat" \
    -d "{\"hash\": \"$WH\"}"
expect_eq "  nor may it object.stat it" "404" "$CODE"
