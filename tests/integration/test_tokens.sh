# test_tokens.sh - API tokens through the CLI: create shows the secret once,
# list never shows secrets or hashes, revoke by name or id, errors name the field.
source "$(dirname "$0")/lib.sh"

d token create ci-bot --role writer --json
expect_code "create writer token" 0
SECRET=$(jqo .secret)
ID=$(jqo .id)
if [[ "$SECRET" =~ ^dm_[0-9a-f]{64}$ ]]; then pass "secret has the dm_ + 64 hex form"; else
    fail "secret has the dm_ + 64 hex form" "got [$SECRET]"
fi
expect_eq "principal defaults to the name" "ci-bot" "$(jqo .principal)"
expect_eq "role recorded" "writer" "$(jqo .role)"

d token create studio --role admin --principal ada
expect_out "people see the secret" 0 "secret: dm_"
expect_out "with a note that it is shown once" 0 "shown only this once"
STUDIO_SECRET=$(sed -n 's/^secret: //p' <<<"$OUT")

d token list
expect_out "list table" 0 "principal"
expect_out "list shows the admin token" 0 "ada"
if [[ "$OUT" != *dm_* && "$OUT" != *"$SECRET"* && "$OUT" != *"${STUDIO_SECRET:-none}"* ]]; then
    pass "list never shows a secret"
else
    fail "list never shows a secret"
fi
d token list --json
expect_eq "list has both tokens" "2" "$(jqo .count)"
expect_eq "list has no secret or hash field" "0" \
    "$(jqo '[.items[] | keys[] | select(. == "secret" or . == "hash")] | length')"
HASH=$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)
if [[ "$OUT" != *"$HASH"* ]]; then pass "list never shows the hash"; else fail "list never shows the hash"; fi
if grep -qa -- "${SECRET#dm_}" "$DISCO_DATA"/catalog.db* 2>/dev/null; then
    fail "the secret is not in the data folder"
else
    pass "the secret is not in the data folder"
fi

# errors name the field
d token create ci-bot --role reader
expect_err "duplicate live name" 1 "name"
d token create "bad name" --role reader
expect_err "bad name characters" 1 "name:"
d token create x --role root
expect_err "unknown role" 2 "'role'"
d token create x
expect_err "role is required" 2 "role"
d token create x --role reader --principal "two words"
expect_err "bad principal" 1 "principal"
d token revoke nobody
expect_err "revoke unknown" 1 "nobody"

# revoke by id, then the name is free again; revoke by name
d token revoke "$ID" --json
expect_code "revoke by id" 0
expect_eq "revoke reports the time" "true" "$(jqo '.revoked != null')"
d token list --json
expect_eq "revoked token left the live list" "1" "$(jqo .count)"
d token list --include-revoked --json
expect_eq "include-revoked shows it" "2" "$(jqo .count)"
d token revoke "$ID"
expect_err "revoking twice" 1 "no live token"
d token create ci-bot --role reader --json
expect_code "name reusable after revoke" 0
if [[ "$(jqo .secret)" != "$SECRET" ]]; then pass "a new secret"; else fail "a new secret"; fi
d token revoke ci-bot
expect_out "revoke by name" 0 "revoked: 20"

# local resource commands are unaffected by tokens
d resource create --type prompt --json
expect_code "local CLI still has full access" 0
