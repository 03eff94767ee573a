#!/usr/bin/env bash
# Sandbox overhead: the same trivial agent launched through `ringlet profiles run`, sandboxed
# (bwrap) and not, side by side in one hyperfine run so machine load hits both alike. Also the
# agent exec'd directly and inside a bare bwrap with the same namespaces, to tell bwrap's own
# cost from ringlet's.
#
# Usage: bash benches/sandbox_overhead.sh [RUNS]   (needs hyperfine and bwrap:
#        apt-get install hyperfine bubblewrap)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUNS="${1:-200}"

cargo build --quiet --release -p ringlet-cli -p ringlet-tests --bin ringlet --bin fake-agent
RINGLET="$REPO/target/release/ringlet"
AGENT="$REPO/target/release/fake-agent"
BWRAP="$(command -v bwrap)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export RINGLET_HOME="$WORK/ringlet"
export BENCH_KEY="sk-bench-not-real"
"$RINGLET" profiles create claude bench --provider anthropic --model claude-sonnet-4-5 \
  --key-from-env BENCH_KEY --binary "$AGENT" >/dev/null 2>&1
# The workspace: a sandboxed run refuses one that is (or holds) the user's HOME.
mkdir -p "$WORK/project"
cd "$WORK/project"

# bwrap alone: the namespaces and base mounts every sandboxed run has, nothing of ringlet's.
BARE="$BWRAP --unshare-user --unshare-pid --unshare-ipc --die-with-parent --cap-drop ALL \
--new-session --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp -- $AGENT -p hello"

# The last command is the sandboxed launch as it was before the probe was remembered across
# processes: the stamp removed before each run, so every run probes bwrap first.
hyperfine --warmup 20 --runs "$RUNS" -N --export-json "$WORK/result.json" \
  --prepare true --prepare true --prepare true --prepare true \
  --prepare "rm -f $RINGLET_HOME/cache/sandbox-probe-shared" \
  "$AGENT -p hello" \
  "$BARE" \
  "$RINGLET profiles run bench --no-sandbox -- -p hello" \
  "$RINGLET profiles run bench --sandbox -- -p hello" \
  "$RINGLET profiles run bench --sandbox -- -p hello"

python3 - "$WORK/result.json" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"]
direct, bare, plain, boxed, probing = (statistics.median(x["times"]) * 1000 for x in r)
print(f"median direct: {direct:.2f} ms, bare bwrap: {bare:.2f} ms "
      f"(bwrap itself: {bare - direct:.2f} ms)")
print(f"median via ringlet: {plain:.2f} ms unsandboxed, {boxed:.2f} ms sandboxed")
print(f"sandbox added: {boxed - plain:.2f} ms at the median ({boxed / plain:.2f}x), "
      f"of which ringlet's beyond bare bwrap: {(boxed - plain) - (bare - direct):.2f} ms")
print(f"probing bwrap before every run (as before): {probing:.2f} ms, "
      f"added: {probing - plain:.2f} ms")
PY
