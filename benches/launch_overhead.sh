#!/usr/bin/env bash
# Launch overhead: `ringlet profiles run <alias> -- <args>` against exec'ing the same trivial
# agent binary directly. Everything ringlet adds — loading config and manifests, the profile,
# the key, running the Rhai config script, writing the config files, spawning and waiting — is
# in the difference.
#
# Usage: bash benches/launch_overhead.sh [RUNS]   (needs hyperfine: apt-get install hyperfine)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-300}"

cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
RINGLET="$REPO/target/release/ringlet"
AGENT="$REPO/target/release/fake-agent"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export RINGLET_HOME="$WORK/ringlet"
export BENCH_KEY="sk-bench-not-real"
"$RINGLET" profiles create claude bench --provider anthropic --model claude-sonnet-4-5 \
  --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1

hyperfine --warmup 20 --runs "$RUNS" -N \
  --export-json "$WORK/result.json" \
  "$AGENT -p hello" \
  "$RINGLET profiles run bench -- -p hello"

# The first run after the profile or its config script changed runs the script (Rhai) instead
# of reusing its remembered output: the same launch with that cache removed before each run.
hyperfine --warmup 5 --runs "$((RUNS / 5))" -N \
  --export-json "$WORK/cold.json" \
  --prepare "rm -f $RINGLET_HOME/cache/scripts/bench.json" \
  "$RINGLET profiles run bench -- -p hello"

python3 - "$WORK/result.json" "$WORK/cold.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
direct, via = (statistics.median(x["times"]) * 1000 for x in r)
cold = statistics.median(json.load(open(sys.argv[2]))["results"][0]["times"]) * 1000
print(f"median direct: {direct:.2f} ms, via ringlet: {via:.2f} ms, "
      f"added: {via - direct:.2f} ms ({via / direct:.1f}x)")
print(f"first run after a profile or script change (config script executed): {cold:.2f} ms, "
      f"added: {cold - direct:.2f} ms")
PY
