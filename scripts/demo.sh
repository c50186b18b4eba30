#!/usr/bin/env bash
# `make run`: the server over an embedded data folder, seeded on its first
# start with a short tour of what Disco-Musica does (then left in place):
#   - a recording stored as a resource, derived resources, a new version,
#     the lineage
#   - a piece composed by the music model (models/music.bin; skipped with a
#     note when it is missing), rendered with FluidSynth, analysed and
#     mastered, each step a resource under the one before
#   - a training curve and a daily-cycle metric in the time-series store,
#     with their analyses stored as resources
#   - a small vector collection and a similarity search
# Then `disco serve` runs in the foreground (Ctrl-C stops it).
#
#   scripts/demo.sh [DISCO]   data in $DISCO_DATA (default ./disco-data),
#                             port $DISCO_PORT (default 8080)
# The seeding runs once: $DISCO_DATA/.demo-seeded marks it done.
set -euo pipefail
DISCO=${1:-build/release/disco}
export DISCO_DATA=${DISCO_DATA:-$PWD/disco-data}
PORT=${DISCO_PORT:-8080}
MODEL=${DISCO_MODEL:-models/music.bin}
MARK="$DISCO_DATA/.demo-seeded"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
id_of() { sed -n 's/^resource_id: //p'; }

serve() {
    say disco serve --port "$PORT"
    printf 'Try, while it runs:\n'
    printf '  curl -s localhost:%s/api/resources | jq .            # everything stored\n' "$PORT"
    printf '  curl -s -X POST localhost:%s/api/analyze/time-series -H "Prefer: wait=30" \\\n' "$PORT"
    printf "       -d '{\"metric\": \"loss\", \"where\": [\"run=demo\"]}' | jq .summary\n"
    printf '  curl -s -X POST localhost:%s/api/search/similar -d %s\n' "$PORT" \
        "'{\"name\": \"tracks\", \"vector\": [0.9, 0.1, 0.3, 0], \"k\": 3}'"
    printf '  curl -s localhost:%s/metrics | grep disco_http       # Prometheus metrics\n' "$PORT"
    printf '  curl -s localhost:%s/api/monitor/alerts | jq .      # alerts on its own metrics\n\n' "$PORT"
    exec "$DISCO" serve --port "$PORT"
}

if [[ -e "$MARK" ]]; then
    printf 'Data in %s was seeded before (remove %s to seed again).\n' "$DISCO_DATA" "$MARK"
    serve
fi

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

# A piece by the music model, rendered, analysed and mastered: each a resource
# under the one before (midi -> audio import -> analysis, master).
if [[ -f "$MODEL" ]]; then
    say disco music sample --model "$MODEL" -o demo.mid --wav demo.wav --key "A minor" --tempo 100 --bars 8 --store
    out=$("$DISCO" music sample --model "$MODEL" -o "$work/demo.mid" --wav "$work/demo.wav" \
        --key "A minor" --tempo 100 --bars 8 --instruments piano,bass,drums --store)
    echo "$out"
    MIDI=$(sed -n 's/^resource: //p' <<<"$out")
    PIECE="$work/demo.wav"
else
    printf '\nnote: %s is missing (make model builds it): no composed piece; the sine stands in.\n' \
        "$MODEL"
    PIECE="$work/a440.wav"
fi
say disco audio analyze "$(basename "$PIECE")" --store
out=$("$DISCO" audio analyze "$PIECE" --store --json)
jq -r '"analysis: \(.summary)\naudio resource: \(.audio), analysis resource: \(.analysis)"' <<<"$out"
TRACK=$(jq -r '.audio // empty' <<<"$out")
if [[ -n "$TRACK" && -n "${MIDI:-}" ]]; then
    "$DISCO" resource update "$TRACK" --add-parents "$MIDI" >/dev/null # the render of that MIDI
fi
if [[ -n "$TRACK" ]]; then
    say disco audio master "$TRACK" --preset streaming
    "$DISCO" audio master "$TRACK" --preset streaming --store
fi

# A daily cycle with a spike, then analyses of both metrics, stored as resources.
{
    echo "metric,host,ts,value"
    for i in $(seq 0 287); do
        awk -v i=$i -v t=$((now - (288 - i) * 300000)) 'BEGIN {
            v = 40 + 25 * sin(2 * 3.14159265 * i / 96) + (i == 200 ? 60 : 0) + (i % 7) * 0.5
            printf "cpu,demo,%.0f,%.2f\n", t, v }'
    done
} >"$work/cpu.csv"
"$DISCO" ts write "$work/cpu.csv" >/dev/null
say disco ts analyze cpu --where host=demo
"$DISCO" ts analyze cpu --where host=demo || true
say disco ts analyze loss --where run=demo
"$DISCO" ts analyze loss --where run=demo || true

date -u +%FT%TZ >"$MARK"
printf '\nSeeded %s. Next time `make run` only serves it.\n' "$DISCO_DATA"
rm -rf "$work"
trap - EXIT
serve
