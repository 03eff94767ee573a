#!/usr/bin/env bash
# What a synced registry snapshot costs a launch: `ringlet profiles run` in a home without a
# snapshot and in one whose snapshot overrides every built-in manifest and script (6 agents,
# 12 providers, 6 scripts: the most a snapshot replaces), side by side in one hyperfine run.
# The snapshot's manifests are parsed on every command like the user's agents.d/ and
# providers.d/ (their variables must be known to scrub the environment), where built-ins are
# parsed only when used.
#
# Usage: bash benches/registry_snapshot.sh [RUNS]   (needs hyperfine)
#   BUILD=debug times the debug binaries (no release build), e.g. on a busy machine.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-300}"
PROFILE="${BUILD:-release}"
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent --bin ringlet-registry
fi
DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}$PROFILE"
RINGLET="$DIR/ringlet"
AGENT="$DIR/fake-agent"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src/agents" "$WORK/src/providers" "$WORK/src/scripts"
cp ringlet/assets/agents/*.toml "$WORK/src/agents/"
cp ringlet/assets/providers/*.toml "$WORK/src/providers/"
cp ringlet/assets/scripts/*.rhai "$WORK/src/scripts/"
KEY="$("$DIR/ringlet-registry" keygen "$WORK/key" 2>/dev/null)"
"$DIR/ringlet-registry" publish "$WORK/src" "$WORK/registry" --key "$WORK/key/registry.key" \
  --commit bench --serial 1 >/dev/null

export BENCH_KEY="sk-bench-not-real"
for home in plain synced; do
  "$RINGLET" --home "$WORK/$home" profiles create claude bench --provider anthropic \
    --model claude-sonnet-4-5 --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1
done
printf '[registry]\nurl = "file://%s/"\npublic-key = "%s"\n' "$WORK/registry" "$KEY" \
  >"$WORK/synced/config/config.toml"
"$RINGLET" --home "$WORK/synced" registry sync

hyperfine --warmup 20 --runs "$RUNS" -N --export-json "$WORK/result.json" \
  "$RINGLET --home $WORK/plain profiles run bench -- -p hello" \
  "$RINGLET --home $WORK/synced profiles run bench -- -p hello"
python3 - "$WORK/result.json" <<'PY'
import json, statistics, sys
plain, synced = (statistics.median(x["times"]) * 1000 for x in json.load(open(sys.argv[1]))["results"])
print(f"median without a snapshot: {plain:.2f} ms, with one: {synced:.2f} ms, "
      f"added: {synced - plain:.2f} ms ({synced / plain:.2f}x)")
PY
