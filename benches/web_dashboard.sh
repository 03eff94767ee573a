#!/usr/bin/env bash
# The web dashboard's budgets (docs/performance.md, "Web dashboard"), in Debian's chromium driven
# by playwright-core against the release `ringlet serve`:
#
# 1. JavaScript shipped: every script the browser loads for the sign-in page, then the profiles
#    page, then a terminal (xterm.js), raw and gzip -9; budget: the first page <= 300 KB gzipped.
# 2. The usage page over a ledger of 1,000,000 events (benches/usage_ledger.rs's corpus: a year,
#    3 profiles, 3 models): time from navigation start to the chart drawn (the app's
#    `ringlet:usage-chart` performance mark) and to the whole page (tables and stacked series,
#    `ringlet:usage-complete`); median of RUNS page loads; budget: the chart <= 1 s.
#
# Usage: bash benches/web_dashboard.sh [RUNS=9]   (needs chromium: apt-get install chromium)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-9}"

cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
if [ -n "${CARGO_BUILD_TARGET:-}" ]; then OUT="$REPO/target/$CARGO_BUILD_TARGET/release"; else OUT="$REPO/target/release"; fi
[ -d tests/web/node_modules/playwright-core ] || npm --prefix tests/web ci --no-audit --no-fund

# Under target/, not /tmp: a terminal session runs sandboxed with a fresh /tmp of its own.
WORK="$(mktemp -d "$REPO/target/web-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/ringlet/data"
echo "filling a ledger of 1,000,000 events ..." >&2
cargo bench --quiet -p ringlet --bench usage_ledger -- fill "$WORK/ringlet/data/usage.db" 1000000 >&2

RINGLET_BIN="$OUT/ringlet" FAKE_AGENT_BIN="$OUT/fake-agent" BENCH_RINGLET_HOME="$WORK/ringlet" \
  node benches/web_dashboard.mjs "$RUNS"
