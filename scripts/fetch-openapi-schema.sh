#!/usr/bin/env bash
# Puts the referee of our OpenAPI document in build/tools/openapi: the OAS 3.1
# JSON Schemas ("schema" and the "schema-base" dialect document, with the
# dialect and vocabulary schemas they reference) and a JSON Schema 2020-12
# validator that follows $dynamicRef, as the OAS 3.1 schema needs to check
# every Schema Object. Both come from one npm package, @hyperjump/json-schema
# (the validator the OpenAPI Initiative tests its own schemas with), installed
# with `npm install --prefix` at pinned versions, dependencies included, into
# the build tree: never committed, nothing installed system-wide. Idempotent;
# prints the folder on success (tests/integration/openapi31.mjs takes it);
# without node >= 18, npm or the registry, exit 1 with the reason on stderr.
#
#   scripts/fetch-openapi-schema.sh [DIR]     DIR defaults to build/tools/openapi
set -uo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build/tools/openapi}"

# Every package of the tree at an exact version, so no run resolves another.
PINNED=(
    @hyperjump/json-schema@1.18.0
    @hyperjump/browser@1.5.0
    @hyperjump/json-pointer@1.1.2
    @hyperjump/json-schema-formats@1.0.7
    @hyperjump/pact@1.4.0
    @hyperjump/uri@1.3.6
    content-type@1.0.5
    idn-hostname@15.1.19
    just-curry-it@5.3.0
    punycode@2.3.1
    uuid@14.0.3
)
main="$dir/node_modules/@hyperjump/json-schema"
want=${PINNED[0]##*@}

installed() {
    [[ -f "$main/openapi-3-1/schema-base.js" ]] &&
        [[ "$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$main/package.json" | head -n 1)" == "$want" ]]
}

say() {
    echo "fetch-openapi-schema: $*" >&2
    exit 1
}

if installed; then
    echo "$PWD/$dir"
    exit 0
fi
command -v node >/dev/null 2>&1 || say "node is not installed (Debian: nodejs)"
command -v npm >/dev/null 2>&1 || say "npm is not installed (Debian: npm)"
major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
[[ "$major" =~ ^[0-9]+$ && "$major" -ge 18 ]] || say "node ${major:-?} is older than 18"
mkdir -p "$dir" || say "cannot create $dir"
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --no-save --loglevel=error \
    --fetch-retries=0 --fetch-timeout=20000 "${PINNED[@]}" >/dev/null 2>&1 ||
    say "npm install failed (is the npm registry reachable?)"
installed || say "npm installed no usable @hyperjump/json-schema@$want"
echo "$PWD/$dir"
