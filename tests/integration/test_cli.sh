# test_cli.sh - help, version, usage errors and exit codes of the `disco` command.
source "$(dirname "$0")/lib.sh"

d --help
expect_out "top help lists commands" 0 "resource create"
d resource --help
expect_out "group help lists verbs" 0 "lineage"
d resource create --help
expect_out "op help lists params" 0 "--type <string>"
d object get --help
expect_out "op help shows short flags" 0 "-o, --output"
d
expect_code "no arguments is a usage error" 2
d resource
expect_err "group without verb is a usage error" 2 "Verbs:"

d version
expect_out "version" 0 "version: $(cat VERSION)"
d --version
expect_out "--version" 0 "disco $(cat VERSION)"
d version --json
expect_eq "version --json" "$(cat VERSION)" "$(jqo .version)"
d ops describe --json
expect_eq "ops describe lists resource.create" "resource.create" \
    "$(jqo '.ops[] | select(.name=="resource.create") | .name')"

d resorce list
expect_err "unknown command suggests" 2 "did you mean 'resource'"
d resource lst
expect_err "unknown verb suggests" 2 "did you mean 'list'"
d resource list --colour red
expect_err "unknown option" 2 "unknown option --colour"
d resource list --limit
expect_err "option without value" 2 "needs a value"
d resource list --limit ten
expect_err "bad integer names param and value" 2 "param 'limit': must be an integer in 1..10000, got \"ten\""
d resource list --limit 0
expect_err "integer out of range" 2 "in 1..10000, got 0"
d resource create --file x
expect_err "missing required param" 2 "param 'type': required"
d resource lineage 01ARZ3NDEKTSV4RRFFQ69G5FAV --direction sideways
expect_err "bad choice lists choices" 2 "one of ancestors, descendants, both"
d resource get not-an-id
expect_err "malformed id" 2 "param 'id'"
d resource get not-an-id --json
if [[ "$(jqo .error.field)" == "id" && "$(jqo .error.code)" == "INVAL" ]]; then pass "json error"; else fail "json error" "expected error.field=id"; fi
d resource list --created-from 2026-02-30
expect_err "bad date" 2 "created_from"
d resource list --include-deleted=maybe
expect_err "bad boolean" 2 "must be true or false"
d --data "$T/d2" resource list
expect_out "empty list" 0 "(0 shown)"
d resource list --data "$T/d3" --limit=5
expect_code "global option after the verb" 0
d --data "$T/deep/er/data" resource list
expect_code "data folder created with its parents" 0
touch "$T/afile"
d --data "$T/afile" resource list
expect_err "data folder that is a file" 1 "is not a folder"
printf 'data_dir = %s\n# a comment\nlog_level = warn\n' "$T/from-config" >"$T/disco.conf"
run env -u DISCO_DATA "$DISCO" --config "$T/disco.conf" object put "$T/disco.conf"
[[ -d "$T/from-config/objects" ]] && pass "config file sets the data folder" || fail "config file sets the data folder"
printf 'colour = red\n' >"$T/bad.conf"
d --config "$T/bad.conf" resource list
expect_err "bad config key names file and line" 1 "bad.conf:1"
DISCO_DATA="$T/from-env" run "$DISCO" --config "$T/disco.conf" object put "$T/disco.conf"
[[ -d "$T/from-env/objects" ]] && pass "environment overrides the config file" || fail "environment overrides the config file"
d --config "$T/disco.conf" --data "$T/from-flag" object put "$T/disco.conf"
[[ -d "$T/from-flag/objects" ]] && pass "flag overrides environment and file" || fail "flag overrides environment and file"
