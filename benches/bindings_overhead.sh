#!/usr/bin/env bash
# Binding overhead: `profiles()` with 100 profiles, called from Rust, from Python and from Node,
# side by side on the same ringlet home. The Rust call reads the 100 profile.toml files; what the
# Python and Node calls take beyond it is the binding's cost (conversion, GIL release, thread
# hand-off, promise settling). Target: < 50 µs per call.
#
# `profiles_read` is the same listing followed by reading four fields (alias, agent, provider,
# model) of every profile, as a listing shows them: a binding that converts lazily pays there.
# Node's own `fs.promises.stat` is timed too, as the floor of any call that leaves the event loop
# for a worker thread and comes back.
#
# Each pass runs twice: with the core's listing cache (docs/profiles.md, "Listing from memory";
# after the warm-up every listing is served from memory, what a long-lived embedder gets while
# nothing changes) and with RINGLET_PROFILE_CACHE=off (every listing reads the 200 files, what
# the first listing and the one after a change cost).
#
# Usage: bash benches/bindings_overhead.sh [ROUNDS] [CALLS] [PASSES]
#        (release builds of everything; PASSES rounds of Rust, Python, Node in turn, default 2)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ROUNDS="${1:-7}"
CALLS="${2:-200}"
PASSES="${3:-2}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "building release: the Rust bench, the Python wheel, the Node addon" >&2
cargo bench --quiet --locked -p ringlet --bench profiles_list --no-run 2>/dev/null
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check maturin </dev/null
PATH="$WORK/venv/bin:$PATH" "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check \
  --no-build-isolation ./bindings/python </dev/null
(cd bindings/node && npm ci --silent --no-audit --no-fund && npm run --silent build:release) >&2

HOME_DIR="$WORK/ringlet"
"$WORK/venv/bin/python" - "$HOME_DIR" <<'PY'
import sys
from pathlib import Path
import ringlet
home = Path(sys.argv[1])
(home / "config").mkdir(parents=True)
(home / "config" / "config.toml").write_text('[credentials]\nbackend = "file"\n')
r = ringlet.Ringlet(home=home)
r.set_key("anthropic", "bench", "sk-bench-not-real")
for i in range(100):
    r.create_profile("claude", f"p{i:03}", "anthropic", model="claude-sonnet-4-5",
                     key_alias="bench", env={"FOO": "bar"}, args=["--verbose"])
PY

RESULTS="$WORK/results.jsonl"
# Labels each result line with the cache mode it ran in.
tag() {
  python3 -c 'import json, sys
for line in sys.stdin:
    print(json.dumps({**json.loads(line), "cache": sys.argv[1]}))' "$1"
}
# Rust, Python and Node in turn, PASSES times and in both cache modes, so a burst of load from
# elsewhere hits all three alike.
for pass in $(seq "$((PASSES * 2))"); do
if [ $((pass % 2)) -eq 1 ]; then MODE=on; unset RINGLET_PROFILE_CACHE
else MODE=off; export RINGLET_PROFILE_CACHE=off; fi
cargo bench --quiet --locked -p ringlet --bench profiles_list -- "$HOME_DIR" "$ROUNDS" "$CALLS" \
  2>/dev/null | tag "$MODE" >>"$RESULTS"

"$WORK/venv/bin/python" - "$HOME_DIR" "$ROUNDS" "$CALLS" <<'PY' | tag "$MODE" >>"$RESULTS"
import json, sys, time
import ringlet
home, rounds, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = ringlet.Ringlet(home=home)

def measure(op, f, calls):
    for _ in range(calls // 4):
        f()
    wall, cpu = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.thread_time_ns()
        for _ in range(calls):
            f()
        wall.append(round((time.perf_counter() - start) * 1e6 / calls, 2))
        cpu.append(round((time.thread_time_ns() - start_cpu) / 1e3 / calls, 2))
    print(json.dumps({"lang": "python", "op": op, "wall_us": wall, "cpu_us": cpu}))

def profiles_read():
    return sum(len(p.alias) + len(p.agent) + len(p.provider) + len(p.model or "")
               for p in r.profiles())

measure("profiles", r.profiles, calls)
measure("profiles_read", profiles_read, calls)
measure("cached_profiles", r.cached_profiles, calls)
measure("has_profile", lambda: r.has_profile("p000"), calls * 10)
PY

node - "$HOME_DIR" "$ROUNDS" "$CALLS" <<'JS' | tag "$MODE" >>"$RESULTS"
const fs = require('node:fs')
const { Ringlet } = require(process.cwd() + '/bindings/node')
const [home, rounds, calls] = [process.argv[2], +process.argv[3], +process.argv[4]]
async function measure (op, f, calls) {
  for (let i = 0; i < calls / 4; i++) await f()
  const wall = []
  const cpu = []
  for (let k = 0; k < rounds; k++) {
    const start = process.hrtime.bigint()
    const startCpu = process.cpuUsage()
    for (let i = 0; i < calls; i++) await f()
    wall.push(Math.round(Number(process.hrtime.bigint() - start) / calls / 10) / 100)
    const used = process.cpuUsage(startCpu)
    cpu.push(Math.round((used.user + used.system) / calls * 100) / 100)
  }
  console.log(JSON.stringify({ lang: 'node', op, wall_us: wall, cpu_us: cpu }))
}
;(async () => {
  const r = await Ringlet.open(home)
  const read = (ps) => ps.reduce((n, p) =>
    n + p.alias.length + p.agent.length + p.provider.length + (p.model ?? '').length, 0)
  await measure('profiles', () => r.profiles(), calls)
  await measure('profiles_read', () => r.profiles().then(read), calls)
  await measure('cached_profiles', () => r.cachedProfiles(), calls)
  await measure('has_profile', () => r.hasProfile('p000'), calls * 10)
  await measure('fs_stat', () => fs.promises.stat(home), calls * 10)
})()
JS
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
from collections import defaultdict
runs = defaultdict(lambda: {"wall_us": [], "cpu_us": []})
for row in map(json.loads, open(sys.argv[1])):
    for k in ("wall_us", "cpu_us"):
        runs[(row["cache"], row["op"], row["lang"])][k] += row[k]
med = lambda cache, op, lang, k="wall_us": statistics.median(runs[(cache, op, lang)][k])
print("median µs per call (every round of every pass); overhead = binding − Rust")
print("Node's CPU time counts every thread of the process (the call runs on a worker thread).")
for cache, heading in (("on", "listing cache on (served from memory: nothing changed)"),
                       ("off", "RINGLET_PROFILE_CACHE=off (every listing reads the files)")):
    print(f"\n=== {heading}")
    for op, title in (("profiles", "profiles() with 100 profiles"),
                      ("profiles_read", "profiles() with 100 profiles, then 4 fields of each read"),
                      ("cached_profiles", "cached_profiles() (None when the cache is off)"),
                      ("has_profile", "has_profile() (one stat)")):
        print(f"\n{title}")
        for lang in ("rust", "python", "node"):
            m = {k: med(cache, op, lang, k) for k in ("wall_us", "cpu_us")}
            extra = "" if lang == "rust" else (
                f"   overhead: wall {m['wall_us'] - med(cache, op, 'rust'):+8.1f},"
                f" cpu {m['cpu_us'] - med(cache, op, 'rust', 'cpu_us'):+8.1f}")
            print(f"  {lang:<7} wall {m['wall_us']:9.1f}  cpu {m['cpu_us']:9.1f}{extra}")
        if op == "profiles":
            hop = med(cache, "profiles_hop", "rust")
            print(f"  rust, handed to a worker thread and awaited one call at a time (as Node's"
                  f" asynchronous call is made): wall {hop:9.1f}")
            print(f"  node over that: wall {med(cache, op, 'node') - hop:+8.1f}")
        if op == "has_profile":
            m = {k: med(cache, "fs_stat", "node", k) for k in ("wall_us", "cpu_us")}
            print(f"  (Node's own fs.promises.stat: wall {m['wall_us']:.1f}  cpu {m['cpu_us']:.1f})")
PY
