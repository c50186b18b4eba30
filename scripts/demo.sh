#!/usr/bin/env bash
# The main job until the server exists: a short tour of what Disco-Musica
# can do now. Stores a recording as a resource, derives new resources from
# it, makes a new version, prints the lineage, and keeps a training curve
# in the time-series store - all in ./disco-data
# (or $DISCO_DATA), which it leaves in place for you to explore.
set -euo pipefail
DISCO=${1:-build/release/disco}
export DISCO_DATA=${DISCO_DATA:-$PWD/disco-data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A one-second 440 Hz sine as a 16-bit mono WAV, written without any tool.
le16() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))"; }
le32() { le16 $(($1 & 65535)); le16 $((($1 >> 16) & 65535)); }
make_wav() {
    local rate=8000 n=8000
    {
        printf 'RIFF'; le32 $((36 + n * 2)); printf 'WAVEfmt '
        le32 16; le16 1; le16 1; le32 $rate; le32 $((rate * 2)); le16 2; le16 16
        printf 'data'; le32 $((n * 2))
        awk -v n=$n -v rate=$rate 'BEGIN { for (i = 0; i < n; i++) {
            s = int(12000 * sin(2 * 3.14159265 * 440 * i / rate)); if (s < 0) s += 65536;
            printf "%c%c", s % 256, int(s / 256) } }'
    } >"$1"
}
export LC_ALL=C
make_wav "$work/a440.wav"
echo "a calm jazz tune in A minor" >"$work/prompt.txt"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
id_of() { sed -n 's/^resource_id: //p'; }

say disco resource create --type prompt --file prompt.txt --tags genre=jazz
out=$("$DISCO" resource create --type prompt --file "$work/prompt.txt" --tags genre=jazz)
echo "$out"
PROMPT=$(id_of <<<"$out")

say disco resource create --type audio --file a440.wav --parents "$PROMPT" --tags genre=jazz,key=A
out=$("$DISCO" resource create --type audio --file "$work/a440.wav" --parents "$PROMPT" \
    --tags genre=jazz,key=A --metadata '{"sample_rate":8000,"seconds":1}')
echo "$out"
AUDIO=$(id_of <<<"$out")

say disco resource update "$AUDIO" --tags mood=calm --metadata '{"title":"A440"}'
"$DISCO" resource update "$AUDIO" --tags mood=calm --metadata '{"title":"A440"}'

say disco resource create --type master --parents "$AUDIO" --file a440.wav
"$DISCO" resource create --type master --parents "$AUDIO" --file "$work/a440.wav" >/dev/null

say disco resource history "$AUDIO"
"$DISCO" resource history "$AUDIO"

say disco resource lineage "$AUDIO"
"$DISCO" resource lineage "$AUDIO"

say disco resource list --tags genre=jazz
"$DISCO" resource list --tags genre=jazz

say disco object verify
"$DISCO" object verify

# A training curve in the time-series store, then read back per minute.
now=$(($(date +%s) * 1000))
{
    echo "metric,run,ts,value"
    for i in $(seq 0 299); do
        awk -v i=$i -v t=$((now - (300 - i) * 1000)) \
            'BEGIN { printf "loss,demo,%.0f,%.4f\n", t, 2.5 * exp(-i / 120) + 0.1 }'
    done
} >"$work/loss.csv"
"$DISCO" ts create loss --unit nats --precision float32 >/dev/null 2>&1 || true
say disco ts write loss.csv
"$DISCO" ts write "$work/loss.csv"
say disco ts query loss --where run=demo --step 1m --agg avg,min,count
"$DISCO" ts query loss --where run=demo --step 1m --agg avg,min,count

# Similar tracks by vector search, keyed by the resources stored above.
"$DISCO" vec create tracks --dim 4 --metric cosine >/dev/null 2>&1 || true
cat >"$work/vectors.json" <<JSON
{"vectors": [
 {"id": "$AUDIO", "values": [0.9, 0.1, 0.3, 0.0], "metadata": {"genre": "jazz", "key": "A"}},
 {"id": "$PROMPT", "values": [0.8, 0.2, 0.4, 0.1], "metadata": {"genre": "jazz", "key": "C"}},
 {"id": "other-1", "values": [0.0, 0.9, 0.1, 0.4], "metadata": {"genre": "rock", "key": "E"}},
 {"id": "other-2", "values": [0.1, 0.1, 0.9, 0.2], "metadata": {"genre": "soul", "key": "A"}}
]}
JSON
say disco vec upsert tracks vectors.json
"$DISCO" vec upsert tracks "$work/vectors.json"
say "disco vec search tracks --id $AUDIO -k 3 --filter '{\"genre\": \"jazz\"}'"
"$DISCO" vec search tracks --id "$AUDIO" -k 3 --filter '{"genre": "jazz"}'

printf '\nData is in %s. Try: %s --help\n' "$DISCO_DATA" "$DISCO"
