# test_music.sh - the symbolic-music chain through the CLI on a tiny corpus
# the test writes itself: corpus build (dedup, split, licences), a tiny
# model trained a few steps (metrics in the tsdb, n-gram baseline, model
# resource), constrained sampling to MIDI and WAV, and MIDI analysis.
source "$(dirname "$0")/lib.sh"

MKMIDI=${MKMIDI_BIN:-$(dirname "$DISCO")/tests/tools/mkmidi}
mkdir -p "$T/src/songs"
for i in 0 2 4 6 8 10 12 14 16 18 20 22; do
    "$MKMIDI" "$T/src/songs/p$i.mid" $i 16 >/dev/null || fail "mkmidi $i"
done
cp "$T/src/songs/p0.mid" "$T/src/songs/copy-of-p0.mid"
printf 'MThd\0\0\0\6\0\1' >"$T/src/songs/broken.mid"
cat >"$T/src/sources.json" <<'JSON'
{"version": 1, "sources": [{"name": "tests", "dir": "songs", "licence": "CC0-1.0", "style": "pop"}]}
JSON

# --- corpus ----------------------------------------------------------------
d corpus build --source "$T/src" --json
expect_code "corpus build" 0
expect_eq "pieces kept (duplicate and broken file left out)" "12" "$(jqo .pieces)"
expect_eq "duplicate counted" "1" "$(jqo '.duplicates | length')"
d resource list --type midi --json
expect_eq "pieces are midi resources with a licence" "CC0-1.0" "$(jqo '.items[0].metadata.licence')"
d corpus build --source "$T/nowhere"
expect_err "missing source" 1 "nowhere"

# --- train -----------------------------------------------------------------
d music train --steps 30 --d-model 32 --layers 1 --heads 2 --ctx 64 --batch 4 \
    --eval-every 15 --log-every 5 --eval-tokens 3000 --ngram-order 3 --threads 2 \
    -o "$T/tiny.bin" --run tiny-1 --json
expect_code "train a tiny model" 0
expect_eq "validation NLL measured" "yes" "$(jqo 'if (.val_nll | type) == "number" and .val_nll > 0 then "yes" else . end')"
expect_eq "n-gram baseline measured" "3" "$(jqo .ngram.order)"
MODEL=$(jqo .model)
[[ -s "$T/tiny.bin" ]] && pass "checkpoint written" || fail "checkpoint written"
[[ ! -e "$T/tiny.bin.resume" ]] && pass "no resume state after a complete run" ||
    fail "no resume state after a complete run"
expect_eq "the best evaluation is shipped" "yes" \
    "$(jqo 'if (.best_step == 15 or .best_step == 30) and .val_nll <= .last_val_nll then "yes" else . end')"
d resource get "$MODEL" --json
expect_eq "model hangs under the corpus" "corpus" \
    "$(jq -r '.parent_resources[0]' <<<"$OUT" | xargs -I{} "$DISCO" resource get {} --json | jq -r .resource_type)"
d ts query loss --where run=tiny-1 --json
expect_eq "loss curve in the tsdb" "6" "$(jqo '[.series[0].points[]] | length')"
d model analyze-training --run tiny-1 --json
expect_code "the run can be analysed" 0
d music train --steps 5 --heads 5 --d-model 32 -o "$T/x.bin"
expect_err "heads must divide the width" 1 "heads"

# --- sample ----------------------------------------------------------------
d music sample --model "$T/tiny.bin" -o "$T/s.mid" --key C --bars 4 \
    --instruments piano,bass --seed 7 --json
expect_code "sample" 0
expect_eq "tokens sampled" "yes" "$(jqo 'if .tokens > 10 then "yes" else . end')"
d midi analyze "$T/s.mid" --json
expect_eq "the scale constraint holds" "1" "$(jqo '.metrics.scale_consistency')"
expect_eq "only the asked instruments" "yes" \
    "$(jqo 'if ([.metrics.programs[] | select(. != 0 and . != 33)] | length) == 0 then "yes" else .metrics.programs end')"
d music sample --model "$T/tiny.bin" -o "$T/s2.mid" --key C --bars 4 --instruments piano,bass --seed 7 --json
cmp -s "$T/s.mid" "$T/s2.mid" && pass "same seed, same piece" || fail "same seed, same piece"
d music sample --model "$T/tiny.bin" -o "$T/r.mid" --wav "$T/r.wav" --bars 2 --store --json
expect_code "sample, render and store" 0
[[ -s "$T/r.wav" ]] && pass "rendered WAV" || fail "rendered WAV"
expect_eq "stored piece" "midi" "$(d resource get "$(jqo .resource)" --json; jqo .resource_type)"
d music sample --model "$T/tiny.bin" -o "$T/x.mid" --key H
expect_err "bad key" 1 "key"
d music sample --model "$T/tiny.bin" -o "$T/x.mid" --instruments kazoo
expect_err "unknown instrument" 1 "kazoo"
d music sample --model "$T/missing.bin" -o "$T/x.mid"
expect_err "missing model" 1 "missing.bin"

# --- midi analyze ------------------------------------------------------------
d midi analyze "$T/src/songs/p2.mid" --json
expect_eq "pieces are in their scale" "yes" \
    "$(jqo 'if .metrics.scale_consistency >= 0.9 then "yes" else .metrics end')"
d midi analyze "$T/src/songs/broken.mid"
expect_err "broken MIDI" 1 "broken.mid"

# --- register a checkpoint ----------------------------------------------------
printf '{"val_nll": 1.5, "note": "test"}' >"$T/info.json"
d model register "$T/tiny.bin" --info "$T/info.json" --json
expect_code "register a checkpoint" 0
expect_eq "registered with its config and info" "32 test" "$(jqo '"\(.metadata.config.d_model) \(.metadata.note)"')"
expect_eq "registered under the corpus" "1" "$(jqo '.parent_resources | length')"
printf 'not a model' >"$T/junk.bin"
d model register "$T/junk.bin"
expect_err "junk is refused" 1 "junk.bin"
