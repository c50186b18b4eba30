#!/usr/bin/env bash
# bench_http.sh - `disco serve` under load, side by side with nginx in the
# same run, both on loopback, both driven by wrk (Debian packages wrk and
# nginx-light; scripts/bench-deps.sh installs them):
#
#   GET /healthz           disco vs nginx serving a static file of the same
#                          bytes (goal: disco >= 0.5x nginx's requests/s)
#   POST /api/version      a small op through the whole op path (validation,
#                          context, handler, JSON), vs the same nginx file
#   POST /api/search/similar  top-10 of 2000 vectors (dim 64): p50/p99 under
#                          64 connections
#   soak                   a mix of the above for SOAK_SECONDS (default 60):
#                          errors (goal 0) and the server's RSS growth from its
#                          first 10 s to its last 10 s (goal < 5 %)
#
# nginx runs as a user process on its own port from a temporary config (one
# worker per CPU, as disco has one request thread per CPU). wrk uses 2
# threads and 64 connections. BENCH_SECONDS (default 10) per measurement.
#
#   bench/bench_http.sh [DISCO]     default build/release/disco
set -euo pipefail
DISCO=${1:-${BUILD:-build}/release/disco}
SECS=${BENCH_SECONDS:-10}
SOAK=${SOAK_SECONDS:-60}
CONNS=64
for tool in wrk nginx curl jq python3; do
    if ! command -v "$tool" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$tool ]]; then
        echo "bench_http: $tool not installed (scripts/bench-deps.sh installs wrk and nginx-light)"
        exit 0
    fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
W=$(mktemp -d "${TMPDIR:-/tmp}/disco-bench-http-XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
export DISCO_DATA="$W/data"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---- the vector collection, made before the server holds it ---------------------
python3 - "$W/vectors.json" <<'EOF'
import json, random, sys
random.seed(1)
json.dump({"vectors": [{"id": "v%d" % i, "values": [random.gauss(0, 1) for _ in range(64)],
                        "metadata": {"genre": random.choice(["jazz", "rock", "soul"])}}
                       for i in range(2000)]}, open(sys.argv[1], "w"))
EOF
"$DISCO" vec create songs --dim 64 --metric cosine >/dev/null
"$DISCO" vec upsert songs "$W/vectors.json" >/dev/null
QUERY=$(python3 -c 'import json, random; random.seed(2); print(json.dumps({"name": "songs",
    "vector": [random.gauss(0, 1) for _ in range(64)], "k": 10}))')

# ---- the two servers -----------------------------------------------------------------
CPUS=$(nproc)
DPORT=$(free_port)
"$DISCO" serve --port "$DPORT" --threads "$CPUS" --rate 0 >"$W/disco.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
NPORT=$(free_port)
mkdir -p "$W/www" "$W/nginx"
chmod 755 "$W" "$W/www" # nginx's workers run as another user when started as root
printf '{"status":"ok"}\n' >"$W/www/healthz"
cat >"$W/nginx/nginx.conf" <<EOF
worker_processes $CPUS;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $W/nginx/body;
    proxy_temp_path $W/nginx/proxy;
    fastcgi_temp_path $W/nginx/fastcgi;
    uwsgi_temp_path $W/nginx/uwsgi;
    scgi_temp_path $W/nginx/scgi;
    server {
        listen 127.0.0.1:$NPORT;
        location / { root $W/www; default_type application/json; }
    }
}
EOF
"$NGINX" -p "$W/nginx" -c "$W/nginx/nginx.conf" -g 'daemon off;' 2>>"$W/nginx/error.log" &
PIDS+=($!)
for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$DPORT/healthz" &&
        curl -sf -o /dev/null "http://127.0.0.1:$NPORT/healthz" && break
    sleep 0.1
done
DURL="http://127.0.0.1:$DPORT"
NURL="http://127.0.0.1:$NPORT"

# wrk_post FILE BODY: a wrk script that POSTs BODY as JSON.
wrk_post() {
    local body=${2//\\/\\\\}
    printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' \
        "$body" >"$1"
}
wrk_post "$W/version.lua" '{}'
wrk_post "$W/search.lua" "$QUERY"
cat >"$W/mix.lua" <<EOF
local bodies = {nil, "{}", nil, [[$QUERY]]}
local paths = {"/healthz", "/api/version", "/api/resources?limit=5", "/api/search/similar"}
local i = 0
request = function()
    i = i % 4 + 1
    if bodies[i] then
        return wrk.format("POST", paths[i], {["Content-Type"] = "application/json"}, bodies[i])
    end
    return wrk.format("GET", paths[i])
end
EOF

# run NAME ARGS...: wrk; prints nothing, leaves its report in $W/NAME.txt
run() {
    local name=$1
    shift
    wrk -t2 -c"$CONNS" --latency "$@" >"$W/$name.txt" 2>&1
}
rps() { awk '/^Requests\/sec:/ {print $2}' "$W/$1.txt"; }
# pct NAME P: latency percentile P (50, 99) in ms
pct() {
    awk -v p="$2%" '$1 == p { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
        m = u == "us" ? 0.001 : u == "ms" ? 1 : u == "s" ? 1000 : u == "m" ? 60000 : 1;
        printf "%.2f", v * m }' "$W/$1.txt"
}
errors() {
    awk '/Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 }
         /Non-2xx or 3xx/ { n += $5 } END { print n + 0 }' "$W/$1.txt"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$DPID/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo "bench_http: $CPUS CPUs; disco --threads $CPUS, nginx worker_processes $CPUS;" \
    "wrk -t2 -c$CONNS, ${SECS}s each"
run warm -d2s "$DURL/healthz"
run nginx_static -d"${SECS}s" "$NURL/healthz"
run disco_healthz -d"${SECS}s" "$DURL/healthz"
run disco_version -d"${SECS}s" -s "$W/version.lua" "$DURL/api/version"
run disco_search -d"${SECS}s" -s "$W/search.lua" "$DURL/api/search/similar"
N=$(rps nginx_static)
printf '%-34s %12s %9s %9s %9s %7s\n' "" "requests/s" "vs nginx" "p50 ms" "p99 ms" "errors"
for name in nginx_static disco_healthz disco_version disco_search; do
    printf '%-34s %12.0f %9s %9s %9s %7s\n' "$name" "$(rps $name)" "$(ratio "$(rps $name)" "$N")" \
        "$(pct $name 50)" "$(pct $name 99)" "$(errors $name)"
done
H=$(ratio "$(rps disco_healthz)" "$N")
echo "GET /healthz: disco/nginx = $H (goal >= 0.5): $(awk -v r="$H" 'BEGIN { print (r >= 0.5 ? "met" : "NOT met") }')"
echo "search similar p99 under $CONNS connections: $(pct disco_search 99) ms"

# ---- soak -----------------------------------------------------------------------------
# RSS is sampled every second during the soak, after a warm-up on the same mix (the
# allocator's arenas and MHD's per-connection pools fill first); growth compares the
# mean of the last 10 samples with the mean of the first 10, which a leak would raise
# and the allocator's to and fro (a few MiB either way) does not.
run soak_warm -d15s -s "$W/mix.lua" "$DURL"
(while kill -0 "$DPID" 2>/dev/null; do rss_kb; sleep 1; done) >"$W/rss.txt" &
SAMPLER=$!
PIDS+=("$SAMPLER")
run soak -d"${SOAK}s" -s "$W/mix.lua" "$DURL"
kill "$SAMPLER" 2>/dev/null || true
read -r R0 R1 GROWTH < <(awk '{ v[NR] = $1 } END { n = NR < 20 ? int(NR / 2) : 10;
    for (i = 1; i <= n; i++) { a += v[i]; b += v[NR - n + i] }
    printf "%d %d %.1f\n", a / n, b / n, (b - a) * 100 / a }' "$W/rss.txt")
echo "soak ${SOAK}s (healthz, version, resources, search): $(rps soak | xargs printf '%.0f') requests/s," \
    "$(errors soak) errors, RSS $((R0 / 1024)) -> $((R1 / 1024)) MiB ($GROWTH %)" \
    "(goals: 0 errors, < 5 %)"
