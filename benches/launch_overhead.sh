#!/usr/bin/env bash
# Launch overhead: `ringlet profiles run <alias> -- <args>` against exec'ing the same trivial
# agent binary directly. Everything ringlet adds — loading config and manifests, the profile,
# the key, running the Rhai config script, writing the config files, spawning and waiting — is
# in the difference.
#
# Usage: bash benches/launch_overhead.sh [RUNS]   (needs hyperfine: apt-get install hyperfine)
#
# COMPARE="/path/to/old/ringlet ..." also times other ringlet builds (say, of an earlier commit)
# in the same hyperfine run, each with its own profile in the same home: side by side, so machine
# load hits all of them alike. Say, the CLI built without the HTTP server:
#   cargo build --release -p ringlet-cli --no-default-features && cp target/release/ringlet /tmp/ringlet-noserver
#   cargo build --release -p ringlet-cli && COMPARE=/tmp/ringlet-noserver bash benches/launch_overhead.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-300}"

# RINGLET_BIN times an already built ringlet instead of building this checkout's.
if [ -z "${RINGLET_BIN:-}" ]; then
  cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
fi
RINGLET="${RINGLET_BIN:-$REPO/target/release/ringlet}"
AGENT="$REPO/target/release/fake-agent"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export RINGLET_HOME="$WORK/ringlet"
export BENCH_KEY="sk-bench-not-real"
"$RINGLET" profiles create claude bench --provider anthropic --model claude-sonnet-4-5 \
  --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1

commands=("$AGENT -p hello" "$RINGLET profiles run bench -- -p hello")
n=0
for other in ${COMPARE:-}; do
  n=$((n + 1))
  "$other" profiles create claude "bench-$n" --provider anthropic \
    --model claude-sonnet-4-5 --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1
  commands+=("$other profiles run bench-$n -- -p hello")
done

hyperfine --warmup 20 --runs "$RUNS" -N --export-json "$WORK/result.json" "${commands[@]}"

# The first run after the profile or its config script changed runs the script (Rhai) instead
# of reusing its remembered output: the same launch with that cache removed before each run.
hyperfine --warmup 5 --runs "$((RUNS / 5))" -N \
  --export-json "$WORK/cold.json" \
  --prepare "rm -f $RINGLET_HOME/cache/scripts/bench.json" \
  "$RINGLET profiles run bench -- -p hello"

python3 - "$WORK/result.json" "$WORK/cold.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
direct, via, *others = (statistics.median(x["times"]) * 1000 for x in r)
cold = statistics.median(json.load(open(sys.argv[2]))["results"][0]["times"]) * 1000
print(f"median direct: {direct:.2f} ms, via ringlet: {via:.2f} ms, "
      f"added: {via - direct:.2f} ms ({via / direct:.1f}x)")
for x, other in zip(r[2:], others):
    print(f"  {x['command'].split()[0]}: {other:.2f} ms, added: {other - direct:.2f} ms")
print(f"first run after a profile or script change (config script executed): {cold:.2f} ms, "
      f"added: {cold - direct:.2f} ms")
PY
