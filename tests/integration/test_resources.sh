# test_resources.sh - storing files as resources, versions, lineage, listing, delete.
source "$(dirname "$0")/lib.sh"

head -c 300000 /dev/urandom >"$T/song.wav"
echo "a calm jazz tune" >"$T/prompt.txt"

d resource create --type prompt --file "$T/prompt.txt" --tags genre=jazz --json
expect_code "create prompt" 0
P=$(jqo .resource_id)
d resource create --type audio -f "$T/song.wav" -t genre=jazz,mood=calm --parents "$P" \
    --metadata '{"audio":{"bpm":120},"title":"Blue"}' --json
expect_code "create audio with parent" 0
A=$(jqo .resource_id)
H=$(jqo .object)
expect_eq "object hash is sha256 of the file" "$(sha256sum "$T/song.wav" | cut -d' ' -f1)" "$H"
expect_eq "parents recorded" "$P" "$(jqo '.parent_resources[0]')"
expect_eq "owner recorded" "$(jqo .access_control.owner)" "${DISCO_USER:-${USER:-local}}"

d object get "$H" -o "$T/back.wav"
if cmp -s "$T/song.wav" "$T/back.wav"; then pass "object get returns the bytes"; else fail "object get returns the bytes"; fi
"$DISCO" object get "$H" --offset 10 --length 20 >"$T/range.bin"
tail -c +11 "$T/song.wav" | head -c 20 >"$T/range.want"
if cmp -s "$T/range.want" "$T/range.bin"; then pass "byte range"; else fail "byte range"; fi
d object stat "$H" --json
expect_eq "object stat size" "300000" "$(jqo .size)"

d resource update "$A" --tags mood=dark --remove-tags genre --metadata '{"title":null,"key":"Am"}' --json
expect_eq "update makes version 2" "2" "$(jqo .version)"
expect_eq "tags merged and removed" "mood=dark" "$(jqo '.tags | to_entries | map("\(.key)=\(.value)") | join(",")')"
expect_eq "metadata merge patch" '{"audio":{"bpm":120},"key":"Am"}' "$(jqo '.metadata | tojson')"
d resource get "$A" --version 1 --json
expect_eq "old version readable" "calm" "$(jqo .tags.mood)"
d resource history "$A" --json
expect_eq "history has both versions" "1,2" "$(jqo '[.items[].version] | join(",")')"
d resource update "$A" --expected-version 1 --tags x=y
expect_err "stale expected version" 1 "version"

d resource create --type mix --parents "$A" --json
M=$(jqo .resource_id)
d resource lineage "$A" --json
expect_eq "lineage nodes" "3" "$(jqo '.nodes | length')"
expect_eq "lineage edges" "2" "$(jqo '.edges | length')"
d resource lineage "$M" --direction ancestors --depth 1 --json
expect_eq "lineage depth limit" "2" "$(jqo '.nodes | length')"
d resource lineage "$A"
expect_out "lineage tree for people" 0 "<- $P"

d resource list --type audio --json
expect_eq "list by type" "$A" "$(jqo '.items[0].resource_id')"
d resource list --tags mood=dark --json
expect_eq "list by tag" "1" "$(jqo .count)"
d resource list --metadata '{"audio.bpm":120}' --json
expect_eq "list by metadata path" "$A" "$(jqo '.items[0].resource_id')"
d resource list --limit 2 --json
NEXT=$(jqo .next)
d resource list --limit 2 --after "$NEXT" --json
expect_eq "paging" "1" "$(jqo .count)"
d resource list
expect_out "list table for people" 0 "resource_type"

# bad input
d resource get 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_err "unknown id" 1 "01ARZ3NDEKTSV4RRFFQ69G5FAV"
d resource create --type audio --parents 01ARZ3NDEKTSV4RRFFQ69G5FAV
expect_err "unknown parent" 1 "01ARZ3NDEKTSV4RRFFQ69G5FAV"
d resource update "$P" --add-parents "$M"
expect_err "cycle refused" 1 "cycle"
d resource create --type audio --metadata '{"a": 1,'
expect_err "malformed metadata JSON" 2 "line 1"
d resource create --type audio --tags genre
expect_err "bad tag syntax" 2 "expected key=value, got \"genre\""
d resource create --type audio --tags 'bad key=1'
expect_err "bad tag key" 2 "tags"
d resource create --type Audio
expect_err "bad type" 1 "type"
d resource create --type audio --file "$T/missing.wav"
expect_err "missing file" 1 "$T/missing.wav"
d resource create --type audio --file "$T"
expect_err "folder as file" 1 "$T"
d resource list --json
COUNT_BEFORE=$(jqo .count)
d resource create --type audio --metadata @"$T/nope.json"
expect_err "missing metadata file" 2 "nope.json"
d resource list --json
expect_eq "failed creates store nothing" "$COUNT_BEFORE" "$(jqo .count)"

# delete, gc
d resource delete "$M"
expect_code "delete" 0
d resource get "$M"
expect_err "deleted resource does not resolve" 1 "deleted"
d resource history "$M" --json
expect_eq "deleted history stays" "true" "$(jqo '.items[-1].deleted')"
d resource delete "$M"
expect_err "delete twice" 1 "deleted"
d resource create --type audio --file "$T/song.wav" --json
B=$(jqo .resource_id)
d resource delete "$A"
d object gc --grace 0 --json
expect_eq "gc keeps objects still referenced" "0" "$(jqo '.unreferenced | length')"
d resource delete "$B"
d object gc --grace 0 --json
expect_eq "gc dry run finds unreferenced" "$H" "$(jqo '.unreferenced[0].hash')"
d object stat "$H"
expect_code "dry run removes nothing" 0
d object gc --grace 0 --apply --json
expect_eq "gc apply removes" "1" "$(jqo .removed)"
d object stat "$H"
expect_err "collected object is gone" 1 "$H"
d object verify
expect_code "verify after gc" 0
