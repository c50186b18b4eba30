# test_audio.sh - audio through the CLI: import, analyze (file and resource,
# frames into the tsdb), process with a chain, master to presets and to a
# reference, lineage of the results, and the errors people will meet.
source "$(dirname "$0")/lib.sh"

MK=${MKAUDIO_BIN:-$(dirname "$DISCO")/tests/tools/mkaudio}
run "$MK" "$T/piece.wav" piece 0
expect_code "render a test piece" 0
read -r _ BPM KEY MODE <<<"$OUT"
"$MK" "$T/tone.flac" tone 440 3 0.25 >/dev/null
"$MK" "$T/silence.wav" silence 2 >/dev/null
"$MK" "$T/noise.wav" noise 4 0.05 >/dev/null

# --- analyze a file ---------------------------------------------------------
d audio analyze "$T/piece.wav" --json
expect_code "analyze a file" 0
expect_eq "a file alone is not stored" "null" "$(jqo .analysis)"
expect_eq "tempo within 4 %" "yes" \
    "$(jqo "if ((.tempo.bpm - $BPM) | fabs) <= 0.04 * $BPM then \"yes\" else .tempo.bpm end")"
expect_eq "key" "$KEY $MODE" "$(jqo .key.name)"
expect_eq "beats are reported" "yes" "$(jqo 'if .beats.count > 4 then "yes" else .beats.count end')"
expect_eq "20 MFCC means" "20" "$(jqo '.features.mfcc_mean | length')"
d audio analyze "$T/tone.flac" --json
expect_eq "tone: A, chroma peak at A" "9" \
    "$(jqo '.features.chroma_mean | to_entries | max_by(.value) | .key')"
expect_eq "tone: loudness measured" "yes" \
    "$(jqo 'if .loudness.integrated_lufs < -10 and .loudness.integrated_lufs > -20 then "yes" else .loudness end')"
d audio analyze "$T/silence.wav" --json
expect_code "silence is analysed" 0
expect_eq "silence has no loudness" "null" "$(jqo .loudness.integrated_lufs)"
d audio analyze "$T/piece.wav"
expect_out "human summary" 0 "BPM"

# --- errors ----------------------------------------------------------------
d audio analyze "$T/missing.wav"
expect_err "missing file" 1 "missing.wav"
printf 'not audio at all' >"$T/junk.wav"
d audio analyze "$T/junk.wav"
expect_err "not audio" 1 "junk.wav"
: >"$T/empty.wav"
d audio analyze "$T/empty.wav"
expect_err "empty file" 1 "empty.wav"
head -c 3000 "$T/piece.wav" >"$T/cut.wav"
d audio analyze "$T/cut.wav" --json
expect_code "a truncated file analyses what is there" 0
d audio analyze "$T/piece.wav" --n-fft 1000
expect_err "bad n_fft" 1 "n_fft"
d audio analyze 01J00000000000000000000000
expect_err "unknown resource" 1 "01J00000000000000000000000"

# --- store, resources, frames in the tsdb -------------------------------------
d audio import "$T/piece.wav" --tags genre=test --json
expect_code "import" 0
AUDIO=$(jqo .resource_id)
expect_eq "import describes the file" "44100 2" "$(jqo '"\(.metadata.rate) \(.metadata.channels)"')"
d audio analyze "$AUDIO" --frames --json
expect_code "analyze a resource" 0
AN=$(jqo .analysis)
expect_eq "analysis stored under the audio" "$AUDIO" "$(jqo .audio)"
d resource get "$AN" --json
expect_eq "analysis parent" "$AUDIO" "$(jqo '.parent_resources[0]')"
expect_eq "analysis metadata has the key" "$KEY $MODE" "$(jqo .metadata.key)"
d ts query audio.rms --where "resource=$AUDIO" --json
expect_eq "frame series in the tsdb" "yes" "$(jqo 'if ([.series[0].points[]] | length) > 100 then "yes" else . end')"

# --- process ---------------------------------------------------------------
cat >"$T/chain.json" <<'JSON'
{"effects": [
  {"type": "eq", "bands": [{"kind": "highpass", "freq": 80}, {"kind": "peaking", "freq": 3000, "gain_db": 2, "q": 1}]},
  {"type": "compressor", "threshold_db": -20, "ratio": 3},
  {"type": "reverb", "room_size": 0.4, "wet": 0.2},
  {"type": "gain", "gain_db": -3},
  {"type": "fade", "in_s": 0.5, "out_s": 1}
]}
JSON
d audio process "$T/piece.wav" --chain @"$T/chain.json" -o "$T/processed.wav" --json
expect_code "process to a file" 0
expect_eq "five effects" "5" "$(jqo .effects)"
[[ -s "$T/processed.wav" ]] && pass "processed file written" || fail "processed file written"
d audio process "$AUDIO" --chain @"$T/chain.json" --json
expect_code "process a resource into the store" 0
PROC=$(jqo .resource)
d resource get "$PROC" --json
expect_eq "processed audio hangs under its input" "$AUDIO" "$(jqo '.parent_resources[0]')"
expect_eq "the chain is kept" "5" "$(jqo '.metadata.chain.effects | length')"
d audio process "$T/piece.wav" --chain '[{"type": "flanger"}]' -o "$T/x.wav"
expect_err "unknown effect" 1 "flanger"
d audio process "$T/piece.wav" --chain '[{"type": "eq", "freq": 30000}]' -o "$T/x.wav"
expect_err "out of range names the path" 1 "effects[0].freq"
[[ ! -e "$T/x.wav" ]] && pass "no output after a failed chain" || fail "no output after a failed chain"
d audio process "$T/piece.wav" --chain '[]'
expect_err "nowhere to write" 1 "output"

# --- master ----------------------------------------------------------------
for preset in streaming broadcast club; do
    d audio master "$T/piece.wav" -o "$T/m-$preset.wav" --preset $preset --json
    expect_code "master $preset" 0
    expect_eq "master $preset within 0.2 LU and under the ceiling" "yes" \
        "$(jqo 'if ((.after.integrated_lufs - .master.target_lufs) | fabs) <= 0.2 and .after.true_peak_dbtp <= .master.ceiling_dbtp then "yes" else [.after, .master] end')"
done
d audio master "$T/piece.wav" -o "$T/m.wav" --target -12 --ceiling -2 --json
expect_eq "explicit target and ceiling" "-12 -2" "$(jqo '"\(.master.target_lufs) \(.master.ceiling_dbtp)"')"
d audio analyze "$T/m.wav" --json
expect_eq "re-measured master" "yes" \
    "$(jqo 'if ((.loudness.integrated_lufs + 12) | fabs) <= 0.25 and .loudness.true_peak_dbtp <= -1.95 then "yes" else .loudness end')"
d audio master "$T/noise.wav" -o "$T/m-ref.wav" --reference "$T/piece.wav" --json
expect_code "master to a reference" 0
expect_eq "reference EQ reported" "yes" "$(jqo 'if (.master.reference_eq | length) > 20 then "yes" else . end')"
d audio master "$AUDIO" --json
expect_code "master a resource into the store" 0
MASTER=$(jqo .resource)
d resource lineage "$MASTER" --json
expect_eq "lineage master -> audio" "$AUDIO" "$(jqo ".edges[] | select(.child == \"$MASTER\") | .parent")"
d audio master "$T/silence.wav" -o "$T/s.wav"
expect_err "silence cannot be mastered" 1 "silent"
d audio master "$T/piece.wav" -o "$T/m.wav" --target -50
expect_err "target out of range" 2 "target"
d audio master "$T/piece.wav" -o "$T/m.mp4"
expect_err "unknown output extension" 1 "m.mp4"

# --- convert ---------------------------------------------------------------
d audio convert "$T/piece.wav" -o "$T/conv.flac" --rate 48000 --channels 1 --encoding flac16 --json
expect_eq "convert rate and channels" "48000 1" "$(jqo '"\(.rate) \(.channels)"')"
d audio analyze "$T/conv.flac" --json
expect_eq "converted file reads back" "flac 48000 1" "$(jqo '"\(.file.format) \(.file.rate) \(.file.channels)"')"
expect_eq "conversion keeps the key" "$KEY $MODE" "$(jqo .key.name)"
d audio convert "$T/conv.flac" -o "$T/st.wav" --channels 2 --json
expect_eq "mono to stereo" "2" "$(jqo .channels)"
d audio convert "$AUDIO" --rate 22050 --json
expect_code "convert a resource into the store" 0
d resource get "$(jqo .resource)" --json
expect_eq "converted audio metadata" "22050 convert" "$(jqo '"\(.metadata.rate) \(.metadata.operation)"')"
