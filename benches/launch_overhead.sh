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

python3 - "$WORK/result.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
direct, via = (statistics.median(x["times"]) * 1000 for x in r)
print(f"median direct: {direct:.2f} ms, via ringlet: {via:.2f} ms, "
      f"added: {via - direct:.2f} ms ({via / direct:.1f}x)")
PY
