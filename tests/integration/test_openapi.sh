# test_openapi.sh - `disco ops openapi` against independent checkers:
#   openapi-spec-validator (Python; validates OpenAPI 3.1 documents against
#     the specification's schemas; Debian has no package of it, so the check
#     runs where it is installed and is reported as skipped elsewhere)
#   jsonschema (Python) applies the generated request schemas to bodies
#     that disco itself accepts or refuses, so the schema and the validator
#     in src/ops/validate.c are seen to agree.
source "$(dirname "$0")/lib.sh"

d ops openapi --json
expect_code "ops openapi prints a document" 0
printf '%s\n' "$OUT" >"$T/openapi.json"
expect_eq "servers default to the local server" "http://127.0.0.1:8080" "$(jqo '.servers[0].url')"

# every op of `ops describe` has its POST path
d ops describe --json
want=$(jqo '.ops[].name | "/api/" + sub("\\."; "/")' | sort)
got=$(jq -r '[.paths | to_entries[] | select(.value.post["x-disco-op"]) | .key] | .[]' \
    "$T/openapi.json" | grep -v -e '^/api/analyze/time-series$' -e '^/api/search/similar$' | sort)
expect_eq "one POST path per op" "$want" "$got"

d ops openapi --server / --json
expect_eq "--server sets the server URL" "/" "$(jqo '.servers[0].url')"

PY=""
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import openapi_spec_validator' 2>/dev/null; then
        PY=$py
        break
    fi
done
if [[ -z "$PY" ]]; then
    echo "skip: openapi-spec-validator not installed (Python package openapi-spec-validator)"
else
    run "$PY" -m openapi_spec_validator "$T/openapi.json"
    expect_out "openapi-spec-validator accepts the document" 0 "OK"
    # the referee must see a real fault: two operations with one operationId
    jq '.paths["/api/ts/list"].post.operationId = "version"' "$T/openapi.json" >"$T/dup.json"
    run "$PY" -m openapi_spec_validator "$T/dup.json"
    if [[ $CODE -ne 0 ]]; then pass "openapi-spec-validator rejects a duplicate operationId"; else
        fail "openapi-spec-validator rejects a duplicate operationId" "it accepted it"
    fi
fi

PY=""
for py in python3 /usr/bin/python3; do
    if "$py" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
        PY=$py
        break
    fi
done
if [[ -z "$PY" ]]; then
    echo "skip: jsonschema not installed (Debian package python3-jsonschema)"
    exit 0
fi

# check OP BODY: prints "valid" or "invalid" for BODY under POST /api/<op>'s schema
read -r -d '' CHECK <<'EOF'
import json, sys, jsonschema
doc = json.load(open(sys.argv[1]))
path = "/api/" + sys.argv[2].replace(".", "/", 1)
ptr = "/paths/" + path.replace("~", "~0").replace("/", "~1")
doc["$ref"] = "#" + ptr + "/post/requestBody/content/application~1json/schema"
v = jsonschema.Draft202012Validator(doc)
print("valid" if v.is_valid(json.loads(sys.argv[3])) else "invalid")
EOF

run "$PY" -c "$CHECK" "$T/openapi.json" vec.search '{"name": "c", "k": 5}'
expect_eq "schema accepts a good vec.search body" "valid" "$OUT"
run "$PY" -c "$CHECK" "$T/openapi.json" vec.search '{"name": "c", "k": 0}'
expect_eq "schema refuses k below its minimum" "invalid" "$OUT"
d vec search c --vector '[1,0]' --k 0
expect_err "disco refuses it too" 2 "'k'"
run "$PY" -c "$CHECK" "$T/openapi.json" vec.search '{"k": 5}'
expect_eq "schema refuses a body without a required param" "invalid" "$OUT"
run "$PY" -c "$CHECK" "$T/openapi.json" vec.search '{"name": "c", "nonsense": 1}'
expect_eq "schema refuses an unknown param" "invalid" "$OUT"
run "$PY" -c "$CHECK" "$T/openapi.json" vec.create '{"name": "c", "dim": 4, "metric": "manhattan"}'
expect_eq "schema refuses a value outside the enum" "invalid" "$OUT"
d vec create c --dim 4 --metric manhattan
expect_err "disco refuses it too" 2 "'metric'"
run "$PY" -c "$CHECK" "$T/openapi.json" resource.get '{"id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}'
expect_eq "schema accepts a resource id" "valid" "$OUT"
run "$PY" -c "$CHECK" "$T/openapi.json" resource.get '{"id": "not-an-id"}'
expect_eq "schema refuses a malformed resource id" "invalid" "$OUT"
run "$PY" -c "$CHECK" "$T/openapi.json" resource.create '{"type": "audio", "tags": {"a": 1}}'
expect_eq "schema refuses a tag value that is not text" "invalid" "$OUT"
