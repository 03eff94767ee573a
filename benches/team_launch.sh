#!/usr/bin/env bash
# What a configured team ledger adds to a launch: `ringlet profiles run` in a home without
# `[team]` and in one whose `[team] ledger` points at a real Postgres, side by side in one
# hyperfine run. With the ledger, the CLI starts `ringlet usage push --background` after the
# agent exits and returns without waiting for it (docs/team.md), so the difference should be
# the spawn of that process and nothing on the network.
#
# Usage: RINGLET_TEST_POSTGRES_URL=postgres://user@host:port/db [RINGLET_TEST_POSTGRES_PASSWORD=…] \
#          bash benches/team_launch.sh [RUNS]        (needs hyperfine)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-300}"
: "${RINGLET_TEST_POSTGRES_URL:?set RINGLET_TEST_POSTGRES_URL to a Postgres the bench may create a schema in}"

if [ -z "${RINGLET_BIN:-}" ] || [ -z "${FAKE_AGENT_BIN:-}" ]; then
  cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
fi
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
release="$target_dir/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}release"
RINGLET="${RINGLET_BIN:-$release/ringlet}"
AGENT="${FAKE_AGENT_BIN:-$release/fake-agent}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export BENCH_KEY="sk-bench-not-real"
for home in plain team; do
  mkdir -p "$WORK/$home/config"
  printf '[credentials]\nbackend = "file"\n' >"$WORK/$home/config/config.toml"
done
printf '\n[team]\nledger = "%s"\nschema = "bench_launch_%s"\n' \
  "$RINGLET_TEST_POSTGRES_URL" "$$" >>"$WORK/team/config/config.toml"
if [ -n "${RINGLET_TEST_POSTGRES_PASSWORD:-}" ]; then
  BENCH_PG_PW="$RINGLET_TEST_POSTGRES_PASSWORD" "$RINGLET" --home "$WORK/team" team login \
    --password-from-env BENCH_PG_PW >/dev/null
fi
for home in plain team; do
  "$RINGLET" --home "$WORK/$home" profiles create claude bench --provider anthropic \
    --model claude-sonnet-4-5 --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1
done
# The first push creates the schema; the runs measure the steady state.
"$RINGLET" --home "$WORK/team" usage push >/dev/null

# Each run's background push finishes during the pause before the next one: measured is what
# the launch itself waits for, not a pile of pushes from back-to-back runs competing for the CPU
# (runs minutes apart, as people make them, never overlap their pushes).
hyperfine --warmup 5 --runs "$RUNS" -N --prepare "sleep ${PAUSE:-0.5}" \
  --export-json "$WORK/result.json" \
  "$RINGLET --home $WORK/plain profiles run bench -- -p hello" \
  "$RINGLET --home $WORK/team profiles run bench -- -p hello"

python3 - "$WORK/result.json" <<'PY'
import json, statistics, sys
plain, team = (statistics.median(x["times"]) * 1000 for x in json.load(open(sys.argv[1]))["results"])
print(f"median without a team ledger: {plain:.2f} ms, with one: {team:.2f} ms, "
      f"difference: {team - plain:+.2f} ms")
PY
"$RINGLET" --home "$WORK/team" usage push --status
