# test_http.sh - `disco serve` driven with curl: the startup lines and the
# loopback rule, an op round trip, the error shape and statuses, objects
# (upload, download, Range, ETag), limits, 8 parallel clients, clients that
# vanish mid-upload and mid-download, a clean stop on SIGTERM, and serve.json
# (the CLI's BUSY error names the running server; a stale file is ignored).
source "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1; then
    echo "skip: curl not installed (Debian package curl; scripts/deps.sh installs it)"
    exit 0
fi

LOG="$T/serve.log"
"$DISCO" serve --port 0 --threads 4 >"$LOG" 2>&1 &
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
if [[ -n "$URL" ]]; then pass "serve prints its URL"; else fail "serve prints its URL" "no URL"; fi
expect_out "serve names the data folder" 0 "data folder $DISCO_DATA"
expect_out "serve says auth is off" 0 "auth off"

# While serving, the server holds the tsdb; serve.json tells the CLI whom to ask instead.
INFO=$(jq -r '"\(.pid) \(.url)"' "$DISCO_DATA/serve.json" 2>/dev/null)
expect_eq "serve.json names the server's pid and URL" "$SERVER $URL" "$INFO"
d ts list
expect_err "ts while serving: the error names the server and the route" 1 \
    "held by \`disco serve\` (pid $SERVER, $URL): send this request to its API (POST /api/ts/list)"

# A second server on the same data folder is refused before it touches anything.
run timeout 20 "$DISCO" serve --port 0
expect_err "a second server on the folder is refused, naming the first" 1 \
    "already served by \`disco serve\` (pid $SERVER, $URL): stop that server"
INFO=$(jq -r '"\(.pid) \(.url)"' "$DISCO_DATA/serve.json" 2>/dev/null)
expect_eq "serve.json still names the first server" "$SERVER $URL" "$INFO"

DISCO_DATA="$DISCO_DATA-fresh" run timeout 20 "$DISCO" serve --host 0.0.0.0 --port 0
expect_err "no tokens: loopback only" 1 "refusing to listen on 0.0.0.0 without API tokens"
run timeout 20 "$DISCO" serve --port 99999
expect_err "bad port is a usage error" 2 "--port must be an integer in 0..65535"


c "$URL/healthz"
expect_out "healthz" 200 '"status":"ok"'
c "$URL/readyz"
expect_out "readyz" 200 '"status":"ready"'

c -X POST "$URL/api/resource/create" -d '{"type": "audio", "tags": {"genre": "jazz"}}'
ID=$(jqo .resource_id)
expect_out "create over HTTP" 200 '"resource_type":"audio"'
c "$URL/api/resources/$ID"
expect_eq "GET the created resource" "$ID jazz" "$(jqo '.resource_id + " " + .tags.genre')"
d resource get "$ID" --json
expect_eq "the CLI sees what HTTP created" "$ID" "$(jqo .resource_id)"

c -X POST "$URL/api/resource/list" -d '{"limit": "ten"}'
expect_eq "validation error: 400 with code and field" "400 INVAL limit" \
    "$CODE $(jqo .error.code) $(jqo .error.field)"
c -X POST "$URL/api/no/such-op" -d '{}'
expect_eq "unknown op: 404 JSON" "404 NOTFOUND" "$CODE $(jqo .error.code)"
ALLOW=$(curl -s -o /dev/null -D - "$URL/api/version" | tr -d '\r' | grep -i '^Allow:')
expect_eq "wrong method: 405 with Allow" "Allow: POST, OPTIONS" "$ALLOW"
c -X POST "$URL/api/resource/create" -d '{"type": "audio", "file": "/etc/passwd"}'
expect_eq "server paths refused" "400 file" "$CODE $(jqo .error.field)"
head -c 1100000 /dev/zero | tr '\0' ' ' >"$T/big.json"
c -X POST "$URL/api/version" --data-binary @"$T/big.json"
expect_eq "body over 1 MiB: 413" "413 LIMIT" "$CODE $(jqo .error.code)"
python3 -c 'print("[" * 100 + "]" * 100)' >"$T/deep.json"
c -X POST "$URL/api/version" --data-binary @"$T/deep.json"
expect_eq "deep JSON: 400" "400 INVAL" "$CODE $(jqo .error.code)"

head -c 3000000 /dev/urandom >"$T/blob"
H=$(sha256sum "$T/blob" | cut -c1-64)
c -T "$T/blob" "$URL/api/objects"
expect_eq "upload: 201 with the hash" "201 $H 3000000" "$CODE $(jqo .hash) $(jqo .size)"
curl -s -o "$T/back" "$URL/api/objects/$H"
if cmp -s "$T/blob" "$T/back"; then pass "download gives the bytes back"; else
    fail "download gives the bytes back" "bytes differ"
fi
curl -s -r 100-199 -o "$T/part" "$URL/api/objects/$H"
if cmp -s "$T/part" <(tail -c +101 "$T/blob" | head -c 100); then pass "Range: 206 bytes"; else
    fail "Range: 206 bytes" "range bytes differ"
fi
c -r 100-199 -o /dev/null "$URL/api/objects/$H"
expect_code "Range answers 206" 206
c -o /dev/null -H "If-None-Match: \"$H\"" "$URL/api/objects/$H"
expect_code "ETag: If-None-Match answers 304" 304
c -o /dev/null -r 5000000- "$URL/api/objects/$H"
expect_code "unsatisfiable range: 416" 416

PIDS=()
for i in $(seq 8); do
    curl -s -o "$T/par$i" -w '%{http_code}' -X POST "$URL/api/resource/create" \
        -d "{\"type\": \"midi\", \"tags\": {\"n\": \"$i\"}}" >"$T/code$i" &
    PIDS+=($!)
done
wait "${PIDS[@]}"
expect_eq "8 parallel clients all served" "200200200200200200200200" "$(cat "$T"/code{1..8})"

# A client killed mid-upload: nothing stored, nothing left behind, the server goes on.
curl -s --limit-rate 200k -T "$T/blob" "$URL/api/objects" >/dev/null 2>&1 &
UP=$!
sleep 0.7
kill -9 "$UP" 2>/dev/null
wait "$UP" 2>/dev/null
for _ in $(seq 50); do
    [[ -z "$(ls -A "$DISCO_DATA/objects/tmp" 2>/dev/null)" ]] && break
    sleep 0.1
done
expect_eq "killed upload leaves no temporary file" "" "$(ls -A "$DISCO_DATA/objects/tmp")"
# A reader that hangs up after 100 bytes (the server writes into a closed socket).
curl -s "$URL/api/objects/$H" 2>/dev/null | head -c 100 >/dev/null
c "$URL/healthz"
expect_out "server alive after vanishing clients" 200 '"status":"ok"'

# Per-request overhead: 2000 GET /healthz on one keep-alive connection.
URLS=()
for _ in $(seq 2000); do URLS+=("$URL/healthz"); done
t0=$(date +%s%N)
n=$(curl -s -w '%{http_code}\n' "${URLS[@]}" | grep -c '^200$')
t1=$(date +%s%N)
expect_eq "2000 sequential healthz" 2000 "$n"
echo "note: 2000 GET /healthz in $(((t1 - t0) / 1000000)) ms on one connection (this build)"

kill -TERM "$SERVER"
wait "$SERVER"
CODE=$?
OUT=$(cat "$LOG")
expect_out "SIGTERM stops the server cleanly" 0 "disco: stopping"
if [[ ! -e "$DISCO_DATA/serve.json" ]]; then pass "a clean stop removes serve.json"; else
    fail "a clean stop removes serve.json" "$(cat "$DISCO_DATA/serve.json")"
fi

# A serve.json left by a server that died is ignored, even while the tsdb is busy.
if command -v flock >/dev/null 2>&1; then
    sleep 0 &
    DEAD=$!
    wait "$DEAD"
    printf '{"pid": %d, "url": "http://127.0.0.1:1"}\n' "$DEAD" >"$DISCO_DATA/serve.json"
    flock "$DISCO_DATA/tsdb/LOCK" sleep 1.5 &
    HOLDER=$!
    sleep 0.3
    d ts list
    if [[ "$CODE" == 1 && "$ERR" == *"open elsewhere"* && "$ERR" != *"disco serve"* ]]; then
        pass "a stale serve.json is ignored"
    else
        fail "a stale serve.json is ignored" "expected BUSY without naming a server"
    fi
    wait "$HOLDER" || true
else
    echo "skip: flock not installed (util-linux) for the stale serve.json check"
fi
