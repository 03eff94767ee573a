#!/usr/bin/env bash
# The HTTP API under load, on the real `ringlet serve` over a real socket:
#
# 1. `GET /api/profiles` with 100 profiles, at a fixed 1,000 requests/s (oha -q): latency p50/p99;
#    target p99 <= 5 ms. Then unthrottled, for the ceiling.
# 2. `GET /api/usage?group=day` over a ledger of 1,000,000 events: p50; target <= 50 ms.
# 3. The idle server: RSS and CPU time over 60 s; targets <= 30 MB and no CPU.
#
# Usage: bash benches/server_load.sh [SECONDS=20]
#   needs oha (cargo install oha) on PATH; results go to docs/performance.md ("HTTP API").
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
SECONDS_PER_RUN="${1:-20}"
command -v oha >/dev/null || { echo "server_load.sh: oha is not on PATH (cargo install oha)" >&2; exit 1; }

cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
RINGLET="$REPO/target/release/ringlet"
AGENT="$REPO/target/release/fake-agent"

WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export RINGLET_HOME="$WORK/ringlet"
export BENCH_KEY="sk-bench-not-real"

echo "creating 100 profiles and a ledger of 1,000,000 events ..." >&2
for i in $(seq 1 100); do
  "$RINGLET" profiles create claude "p$i" --provider anthropic --model claude-sonnet-4-5 \
    --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1
done
mkdir -p "$RINGLET_HOME/data"
cargo bench --quiet -p ringlet --bench usage_ledger -- fill "$RINGLET_HOME/data/usage.db" 1000000

"$RINGLET" serve --listen 127.0.0.1:0 --quiet 2>"$WORK/serve.log" &
SERVER=$!
for _ in $(seq 100); do
  grep -qo 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" 2>/dev/null && break
  sleep 0.1
done
BASE="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.log" | head -1)"
[ -n "$BASE" ] || { cat "$WORK/serve.log" >&2; exit 1; }
AUTH="Authorization: Bearer $(cat "$RINGLET_HOME/config/http_token")"

run() { # label, oha arguments...
  local label="$1"
  shift
  oha --no-tui --output-format json -H "$AUTH" "$@" >"$WORK/oha.json"
  python3 - "$label" "$WORK/oha.json" <<'PY'
import json, sys
label, r = sys.argv[1], json.load(open(sys.argv[2]))
s, p = r["summary"], r["latencyPercentiles"]
codes = r.get("statusCodeDistribution", {})
print(f"{label}: {s['requestsPerSec']:.0f} req/s, p50 {p['p50'] * 1000:.2f} ms, "
      f"p99 {p['p99'] * 1000:.2f} ms, success {s['successRate'] * 100:.1f}%, statuses {codes}")
PY
}

curl -fsS -H "$AUTH" "$BASE/api/profiles" | python3 -c \
  'import json,sys; n=len(json.load(sys.stdin)); assert n==100, n; print(f"{n} profiles served")'
run "GET /api/profiles at 1,000 req/s" -z "${SECONDS_PER_RUN}s" -q 1000 -c 4 "$BASE/api/profiles"
run "GET /api/profiles unthrottled, 4 connections" -z "${SECONDS_PER_RUN}s" -c 4 "$BASE/api/profiles"
run "GET /api/usage?group=day, 1M events, 1 connection" -n 50 -c 1 "$BASE/api/usage?group=day"
run "GET /api/usage?group=day, 1M events, 4 connections" -n 100 -c 4 "$BASE/api/usage?group=day"

# Idle: after the load, let it settle, then read RSS and CPU time from /proc over 60 s.
sleep 5
ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status"; }
before=$(ticks)
sleep 60
after=$(ticks)
hz=$(getconf CLK_TCK)
echo "idle server: RSS $(( $(rss_kb) / 1024 )) MiB after the load," \
  "CPU over 60 s idle: $(( (after - before) * 1000 / hz )) ms"

# A server that never served anything, for the RSS floor.
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
"$RINGLET" serve --listen 127.0.0.1:0 --quiet 2>"$WORK/serve2.log" &
SERVER=$!
sleep 2
before=$(ticks)
sleep 60
after=$(ticks)
echo "fresh idle server: RSS $(( $(rss_kb) / 1024 )) MiB," \
  "CPU over 60 s: $(( (after - before) * 1000 / hz )) ms"
