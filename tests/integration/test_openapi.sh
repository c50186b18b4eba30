# test_openapi.sh - `disco ops openapi` against independent checkers:
#   the OAS 3.1 schema-base, applied with a JSON Schema 2020-12 validator
#     that follows $dynamicRef, so every Schema Object in the document is
#     checked against the OAS dialect too (scripts/fetch-openapi-schema.sh
#     installs both from npm into the build tree; skipped, with the reason,
#     where node, npm or the registry is missing); uniqueness of the
#     operationIds, which no schema can express, is checked with jq;
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

# The operationIds that occur more than once in document $1, one a line.
dup_operation_ids() {
    jq -r '[.paths[] | to_entries[] | select(.value | type == "object") | .value.operationId
            | strings] | group_by(.) | map(select(length > 1)[0]) | .[]' "$1"
}
expect_eq "operationIds are unique" "" "$(dup_operation_ids "$T/openapi.json")"
jq '.paths["/api/ts/list"].post.operationId = "version"' "$T/openapi.json" >"$T/dup.json"
expect_eq "a duplicate operationId is found" "version" "$(dup_operation_ids "$T/dup.json")"

# run-tests.sh fetched the validator (OPENAPI_SCHEMA_DIR, empty when it could not).
if [[ -z "${OPENAPI_SCHEMA_DIR+set}" ]]; then
    OPENAPI_SCHEMA_DIR=$(scripts/fetch-openapi-schema.sh "${BUILD:-build}/tools/openapi" 2>"$T/fetch.err")
fi
if [[ -z "$OPENAPI_SCHEMA_DIR" ]]; then
    why=$(cat "$T/fetch.err" 2>/dev/null)
    why=${why:-scripts/fetch-openapi-schema.sh could not install it; run it to see why}
    echo "skip: OpenAPI 3.1 schema validation: $why"
else
    # Broken variants, each with the place the validator must point at.
    vec=/paths/~1api~1vec~1search/post
    jq '.paths["/api/vec/search"].post.responses = ["200"]' "$T/openapi.json" >"$T/bad-responses.json"
    jq '.paths["/api/vec/search"].post.requestBody.content["application/json"].schema.properties.k.type = 7' \
        "$T/openapi.json" >"$T/bad-type.json"
    jq 'del(.info.version)' "$T/openapi.json" >"$T/bad-info.json"
    jq '.components.schemas.Error.required = "error"' "$T/openapi.json" >"$T/bad-component.json"
    run node tests/integration/openapi31.mjs "$OPENAPI_SCHEMA_DIR" "$T/openapi.json" \
        "$T/bad-responses.json" "$T/bad-type.json" "$T/bad-info.json" "$T/bad-component.json"
    verdict() { grep -F " $T/$1" <<<"$OUT"; }
    expect_eq "the document is valid OpenAPI 3.1" "valid $T/openapi.json" "$(verdict openapi.json)"
    expect_refused() {
        local got
        got=$(verdict "$2")
        if [[ "$got" == "invalid $T/$2: "* && " ${got#*: } " == *" #$3 "* ]]; then pass "$1"; else
            fail "$1" "expected it refused at #$3" "got: $got"
        fi
    }
    expect_refused "refuses responses that are not a map" bad-responses.json "$vec/responses"
    expect_refused "refuses a Schema Object with \"type\": 7" bad-type.json \
        "$vec/requestBody/content/application~1json/schema/properties/k/type"
    expect_refused "refuses an info without version" bad-info.json "/info"
    expect_refused "refuses a component schema with a bad keyword" bad-component.json \
        "/components/schemas/Error/required"
    expect_eq "the validator exits 1 on the broken ones" 1 "$CODE"
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
