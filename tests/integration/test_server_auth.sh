# test_server_auth.sh - `disco serve` with real API tokens (made with
# `disco token create` before the server starts): auth turns on by itself,
# open and closed routes, 401 with WWW-Authenticate, and the access matrix
# role x owner x public/private through HTTP - a reader (or a writer who is
# not the owner) gets 404, not 403, for someone else's private resource;
# 403 only for what it can read but not change. Objects: readable through a
# readable resource or one's own upload, else the 404 of an unknown hash.
# Then revocation, the rate limit (429 + Retry-After), and auth off without
# tokens.
source "$(dirname "$0")/lib.sh"

if ! command -v curl >/dev/null 2>&1; then
    echo "skip: curl not installed (Debian package curl; scripts/deps.sh installs it)"
    exit 0
fi

secret() { # NAME ROLE: creates a token, prints its secret
    "$DISCO" token create "$1" --role "$2" --json | jq -r .secret
}
ADA=$(secret ada admin)
WENDY=$(secret wendy writer)
WALT=$(secret walt writer)
RITA=$(secret rita reader)
GONE=$(secret gone reader)

serve "$T/serve.log"
OUT=$(cat "$T/serve.log")
CODE=0
expect_out "tokens in the catalog turn auth on" 0 "auth on: 5 API tokens"

# c TOKEN ARGS...: http with a bearer token (none when TOKEN is empty).
c() {
    local tok=$1
    shift
    if [[ -n "$tok" ]]; then set -- -H "Authorization: Bearer $tok" "$@"; fi
    http "$@"
}

# ---- open and closed routes ------------------------------------------------------
for path in /healthz /readyz / /api/openapi.json /metrics; do
    c "" -o /dev/null "$URL$path"
    expect_code "open without a token: $path" 200
done
WWW=$(curl -s -o /dev/null -D - "$URL/api/resources" | tr -d '\r' | grep -i '^WWW-Authenticate:')
expect_eq "no token: WWW-Authenticate" 'WWW-Authenticate: Bearer realm="disco"' "$WWW"
c "" "$URL/api/resources"
expect_eq "no token: 401 JSON" "401 PERM token" "$CODE $(jqo .error.code) $(jqo .error.field)"
c "dm_$(printf '0%.0s' $(seq 64))" "$URL/api/resources"
expect_eq "unknown token: 401" 401 "$CODE"
c "not-a-token" -X POST "$URL/api/version"
expect_eq "malformed token: 401" 401 "$CODE"
c "$GONE" "$URL/api/resources"
expect_code "live token: 200" 200
"$DISCO" token revoke gone >/dev/null
c "$GONE" "$URL/api/resources"
expect_eq "revoked while serving: 401" 401 "$CODE"

# ---- the access matrix --------------------------------------------------------------
c "$WENDY" -X POST "$URL/api/resource/create" -d '{"type": "audio", "tags": {"k": "private"}}'
PRIV=$(jqo .resource_id)
expect_eq "writer creates, owns it" "200 wendy" "$CODE $(jqo .access_control.owner)"
c "$WENDY" -X POST "$URL/api/resource/create" -d '{"type": "audio", "public": true}'
PUB=$(jqo .resource_id)
expect_code "writer creates a public one" 200
c "$RITA" -X POST "$URL/api/resource/create" -d '{"type": "audio"}'
expect_eq "reader cannot create: 403" "403 PERM" "$CODE $(jqo .error.code)"

c "" -H "Authorization: Bearer $RITA" "$URL/api/resources/01ARZ3NDEKTSV4RRFFQ69G5FAV"
UNKNOWN_MSG=$(jqo .error.message | sed 's/01ARZ3NDEKTSV4RRFFQ69G5FAV/ID/')
# check WHO ID METHOD EXPECTED [BODY]
check() {
    local who=$1 tok=$2 id=$3 method=$4 want=$5 body=${6:-}
    if [[ "$method" == PATCH ]]; then
        c "$tok" -X PATCH "$URL/api/resources/$id" -d "${body:-{\"tags\": {\"x\": \"1\"}}}"
    elif [[ "$method" == DELETE ]]; then
        c "$tok" -X DELETE "$URL/api/resources/$id"
    else
        c "$tok" "$URL/api/resources/$id"
    fi
    expect_eq "$who $method $(if [[ $id == "$PRIV" ]]; then echo private; else echo public; fi)" \
        "$want" "$CODE"
}
check "reader" "$RITA" "$PRIV" GET 404
expect_eq "hidden reads like unknown (no leak)" "$UNKNOWN_MSG" "$(jqo .error.message | sed "s/$PRIV/ID/")"
check "reader" "$RITA" "$PUB" GET 200
check "reader" "$RITA" "$PUB" PATCH 403
check "reader" "$RITA" "$PUB" DELETE 403
check "reader" "$RITA" "$PRIV" PATCH 403 # the role forbids the op, whatever the id: no leak
check "other writer" "$WALT" "$PRIV" GET 404
check "other writer" "$WALT" "$PRIV" PATCH 404
check "other writer" "$WALT" "$PUB" GET 200
check "other writer" "$WALT" "$PUB" PATCH 403
check "other writer" "$WALT" "$PUB" DELETE 403
check "owner" "$WENDY" "$PRIV" GET 200
check "owner" "$WENDY" "$PRIV" PATCH 200
check "admin" "$ADA" "$PRIV" GET 200
check "admin" "$ADA" "$PRIV" PATCH 200
c "$RITA" "$URL/api/resources/$PRIV/versions"
expect_eq "reader: history of a private resource is 404 too" 404 "$CODE"
c "$RITA" "$URL/api/resources?limit=100"
if [[ "$OUT" != *"$PRIV"* && "$OUT" == *"$PUB"* ]]; then pass "reader's listing: public yes, private no"; else
    fail "reader's listing: public yes, private no" "listing: ${OUT:0:300}"
fi

# Sharing: the owner adds readers and writers; a writer who is not the owner may not.
c "$WALT" -X POST "$URL/api/resource/update" -d "{\"id\": \"$PUB\", \"readers\": [\"walt\"]}"
expect_eq "non-owner cannot change the ACL" 403 "$CODE"
c "$WENDY" -X POST "$URL/api/resource/update" \
    -d "{\"id\": \"$PRIV\", \"readers\": [\"rita\"], \"writers\": [\"walt\"]}"
expect_code "owner shares" 200
check "reader named in readers" "$RITA" "$PRIV" GET 200
check "reader named in readers" "$RITA" "$PRIV" PATCH 403
check "writer named in writers" "$WALT" "$PRIV" PATCH 200
check "owner" "$WENDY" "$PUB" DELETE 200

# ---- objects: readable through a readable resource or one's own upload ---------------
head -c 300000 /dev/urandom >"$T/blob"
H=$(sha256sum "$T/blob" | cut -c1-64)
UNK=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
c "$RITA" -T "$T/blob" "$URL/api/objects"
expect_eq "reader cannot upload: 403" "403 PERM" "$CODE $(jqo .error.code)"
c "$WENDY" -T "$T/blob" "$URL/api/objects"
expect_eq "writer uploads an object" "201 $H" "$CODE $(jqo .hash)"
c "$WENDY" -o "$T/back" "$URL/api/objects/$H"
if [[ "$CODE" == 200 ]] && cmp -s "$T/blob" "$T/back"; then pass "the uploader downloads it"; else
    fail "the uploader downloads it" "status $CODE or bytes differ"
fi
c "$RITA" "$URL/api/objects/$UNK"
UNKNOWN_OBJ="$CODE ${OUT//$UNK/HASH}"
expect_eq "unknown hash: 404 NOTFOUND" "404 NOTFOUND hash" \
    "$CODE $(jqo .error.code) $(jqo .error.field)"
# obj WHO TOKEN WANT [CURL ARGS...]: GET the object; 404 must read exactly as an unknown hash.
obj() {
    local who=$1 tok=$2 want=$3
    shift 3
    c "$tok" "$@" "$URL/api/objects/$H"
    if [[ "$want" == 404 ]]; then
        expect_eq "$who: 404 exactly as an unknown hash" "$UNKNOWN_OBJ" "$CODE ${OUT//$H/HASH}"
    else
        expect_eq "$who: $want" "$want" "$CODE"
    fi
}
head_code() { # TOKEN: status of HEAD on the object
    curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $1" "$URL/api/objects/$H"
}
obj "reader, someone else's upload" "$RITA" 404
expect_eq "reader, HEAD: 404" 404 "$(head_code "$RITA")"
obj "reader, with Range" "$RITA" 404 -r 0-9
obj "reader, with If-None-Match" "$RITA" 404 -H "If-None-Match: \"$H\""
obj "admin, any object" "$ADA" 200 -o /dev/null
c "$RITA" -X POST "$URL/api/object/stat" -d "{\"hash\": \"$H\"}"
expect_eq "reader: object.stat of it is 404" "404 NOTFOUND" "$CODE $(jqo .error.code)"

# A private resource of wendy's with that payload (no HTTP route names a stored hash:
# the CLI on the same data folder makes it, as wendy).
run env DISCO_USER=wendy "$DISCO" resource create --type audio --file "$T/blob" --json
OBJRES=$(jqo .resource_id)
expect_eq "CLI: wendy's private resource with that payload" "0 $H wendy false" \
    "$CODE $(jqo .object) $(jqo .access_control.owner) $(jqo .access_control.public)"
obj "reader, private resource" "$RITA" 404
obj "other writer, private resource" "$WALT" 404
c "$WENDY" -X POST "$URL/api/resource/update" -d "{\"id\": \"$OBJRES\", \"public\": true}"
expect_code "owner makes it public" 200
obj "reader, public resource" "$RITA" 200 -o "$T/back2"
if cmp -s "$T/blob" "$T/back2"; then pass "reader gets the bytes"; else
    fail "reader gets the bytes" "bytes differ"
fi
curl -s -H "Authorization: Bearer $RITA" -r 1000-1999 -o "$T/part" "$URL/api/objects/$H"
if cmp -s "$T/part" <(tail -c +1001 "$T/blob" | head -c 1000); then pass "reader: Range 206"; else
    fail "reader: Range 206" "range bytes differ"
fi
expect_eq "reader, HEAD: 200" 200 "$(head_code "$RITA")"
c "$WENDY" -X POST "$URL/api/resource/update" -d "{\"id\": \"$OBJRES\", \"public\": false}"
obj "reader, private again" "$RITA" 404
obj "admin, private again" "$ADA" 200 -o /dev/null
# Uploading the same bytes tells walt nothing about who stored them, then lets him read them.
c "$WALT" -T "$T/blob" "$URL/api/objects"
expect_eq "another writer's upload of stored bytes reads as new" "201 true" \
    "$CODE $(jqo .created)"
obj "that writer, after uploading it" "$WALT" 200 -o /dev/null
c "$WALT" -T "$T/blob" "$URL/api/objects"
expect_eq "and then as known" "200 false" "$CODE $(jqo .created)"
# Whole-store views are for admins.
c "$RITA" -X POST -H "Prefer: wait=10" "$URL/api/object/verify" -d '{}'
expect_eq "reader: verify every object is 403" "403 PERM hashes" \
    "$CODE $(jqo .error.code) $(jqo .error.field)"
c "$RITA" -X POST -H "Prefer: wait=10" "$URL/api/object/verify" -d "{\"hashes\": [\"$H\"]}"
expect_eq "reader: verify a hidden hash fails as a missing one" "not found in store" \
    "$(jqo '.error.message' | grep -o 'not found in store')"
c "$WENDY" -X POST "$URL/api/object/gc" -d '{}'
expect_eq "writer: object.gc is 403" "403 PERM" "$CODE $(jqo .error.code)"
c "$ADA" -X POST -H "Prefer: wait=10" "$URL/api/object/gc" -d '{}'
expect_eq "admin: object.gc (a dry run)" "200 true" "$CODE $(jqo .dry_run)"

# Admin-only ops.
c "$WENDY" -X POST "$URL/api/token/list" -d '{}'
expect_eq "writer: token.list is 403" "403 PERM" "$CODE $(jqo .error.code)"
c "$ADA" -X POST "$URL/api/token/list" -d '{}'
expect_eq "admin: token.list" "200 4" "$CODE $(jqo .count)"

# Long ops by role: a reader may run reading jobs, not writing ones.
c "$RITA" -X POST "$URL/api/object/verify" -d '{}'
expect_eq "reader runs a reading job: 202" 202 "$CODE"
JOB=$(jqo .job)
c "$WALT" "$URL/api/jobs/$JOB"
expect_eq "another user's job is 404" 404 "$CODE"
c "$ADA" "$URL/api/jobs/$JOB"
expect_eq "admin sees every job" 200 "$CODE"
c "$RITA" -X POST "$URL/api/monitor/check" -d '{}'
expect_eq "reader cannot start a writing job: 403" 403 "$CODE"

# ---- rate limit ---------------------------------------------------------------------
serve "$T/rate.log" --rate 1 --burst 3
codes=""
for _ in 1 2 3 4; do
    c "$RITA" -X POST "$URL/api/version"
    codes="$codes $CODE"
done
expect_eq "burst of 3, then 429" " 200 200 200 429" "$codes"
RETRY=$(curl -s -o /dev/null -D - -H "Authorization: Bearer $RITA" -X POST "$URL/api/version" |
    tr -d '\r' | sed -n 's/^Retry-After: //Ip')
if [[ "$RETRY" =~ ^[1-9][0-9]*$ ]]; then pass "429 has Retry-After ($RETRY s)"; else
    fail "429 has Retry-After" "got [$RETRY]"
fi
c "$WALT" -X POST "$URL/api/version"
expect_eq "each principal has its own bucket" 200 "$CODE"

# ---- non-loopback: /metrics needs a token from other hosts ---------------------------
IP=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -n1)
if [[ -n "$IP" ]]; then
    serve "$T/any.log" --host 0.0.0.0
    PORT=${URL##*:}
    c "" -o /dev/null "http://$IP:$PORT/metrics"
    expect_eq "/metrics from another address: 401" 401 "$CODE"
    c "$RITA" -o /dev/null "http://$IP:$PORT/metrics"
    expect_eq "/metrics from another address with a token" 200 "$CODE"
    c "" -o /dev/null "http://127.0.0.1:$PORT/metrics"
    expect_eq "/metrics from loopback: open" 200 "$CODE"
else
    echo "skip: no non-loopback address to test /metrics from another host"
fi

# ---- no tokens: auth off, loopback only ------------------------------------------------
for t in ada wendy walt rita; do "$DISCO" token revoke "$t" >/dev/null; done
stop_last
run timeout 20 "$DISCO" serve --host 0.0.0.0 --port 0
expect_err "no live tokens: other addresses refused" 1 "disco token create --name me --role admin"
serve "$T/off.log"
OUT=$(cat "$T/off.log")
CODE=0
expect_out "no live tokens: auth off" 0 "auth off"
expect_out "and how to turn it on" 0 "disco token create --name me --role admin"
c "" "$URL/api/resources/$PRIV"
expect_eq "auth off: the local user reads everything" 200 "$CODE"
