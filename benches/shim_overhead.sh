#!/usr/bin/env bash
# What a shim and the profile-by-directory choice add to a launch: the same trivial agent
# started as `ringlet profiles run bench -- -p hello` (the launch shortcut: no clap), as the
# shim `claude-bench -p hello` (one `sh` exec in front of that), and as `ringlet profiles run
# -- -p hello` from a directory mapped to the profile (clap parses it, then the mapping is
# resolved), side by side in one hyperfine run, so machine load hits them alike.
#
# Usage: bash benches/shim_overhead.sh [RUNS]   (needs hyperfine: apt-get install hyperfine)
# RINGLET_BIN / AGENT_BIN time already built binaries (say, the debug ones) instead of building
# this checkout's release build.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-300}"

if [ -z "${RINGLET_BIN:-}" ]; then
  cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
fi
RINGLET="${RINGLET_BIN:-$REPO/target/release/ringlet}"
AGENT="${AGENT_BIN:-$REPO/target/release/fake-agent}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export RINGLET_HOME="$WORK/ringlet"
export BENCH_KEY="sk-bench-not-real"
"$RINGLET" profiles create claude bench --provider anthropic --model claude-sonnet-4-5 \
  --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1
"$RINGLET" aliases install bench --dir "$WORK/bin" >/dev/null 2>&1
mkdir -p "$WORK/project/src"
cat >>"$RINGLET_HOME/config/config.toml" <<TOML
[[directory-mapping]]
path = "$WORK/project"
profile = "bench"
TOML
cd "$WORK/project/src"

hyperfine --warmup 20 --runs "$RUNS" -N --export-json "$WORK/result.json" \
  "$RINGLET profiles run bench -- -p hello" \
  "$WORK/bin/claude-bench -p hello" \
  "$RINGLET profiles run -- -p hello"

python3 - "$WORK/result.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
named, shim, mapped = (statistics.median(x["times"]) * 1000 for x in r)
print(f"median named: {named:.2f} ms, shim: {shim:.2f} ms (+{shim - named:.2f} ms), "
      f"by directory: {mapped:.2f} ms (+{mapped - named:.2f} ms)")
PY
