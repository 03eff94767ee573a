#!/usr/bin/env bash
# Binding overhead: `profiles()` with 100 profiles, called from Rust, from Python and from Node,
# side by side on the same ringlet home. The Rust call reads the 100 profile.toml files; what the
# Python and Node calls take beyond it is the binding's cost (conversion, GIL release, thread
# hand-off, promise settling). No target: it is there to see what a binding change costs.
# Node's own `fs.promises.stat` is timed too, as the floor of any call that leaves the event loop
# for a worker thread and comes back.
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
# Rust, Python and Node in turn, PASSES times, so a burst of load from elsewhere hits all three
# alike.
for _ in $(seq "$PASSES"); do
cargo bench --quiet --locked -p ringlet --bench profiles_list -- "$HOME_DIR" "$ROUNDS" "$CALLS" \
  2>/dev/null >>"$RESULTS"

"$WORK/venv/bin/python" - "$HOME_DIR" "$ROUNDS" "$CALLS" <<'PY' >>"$RESULTS"
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

measure("profiles", r.profiles, calls)
measure("has_profile", lambda: r.has_profile("p000"), calls * 10)
PY

node - "$HOME_DIR" "$ROUNDS" "$CALLS" <<'JS' >>"$RESULTS"
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
  await measure('profiles', () => r.profiles(), calls)
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
        runs[(row["op"], row["lang"])][k] += row[k]
med = lambda op, lang, k="wall_us": statistics.median(runs[(op, lang)][k])
print("median µs per call (every round of every pass); overhead = binding − Rust")
print("Node's CPU time counts every thread of the process (the call runs on a worker thread).")
for op, title in (("profiles", "profiles() with 100 profiles"),
                  ("has_profile", "has_profile() (one stat)")):
    print(f"\n{title}")
    for lang in ("rust", "python", "node"):
        m = {k: med(op, lang, k) for k in ("wall_us", "cpu_us")}
        extra = "" if lang == "rust" else (
            f"   overhead: wall {m['wall_us'] - med(op, 'rust'):+8.1f},"
            f" cpu {m['cpu_us'] - med(op, 'rust', 'cpu_us'):+8.1f}")
        print(f"  {lang:<7} wall {m['wall_us']:9.1f}  cpu {m['cpu_us']:9.1f}{extra}")
    if op == "has_profile":
        m = {k: med("fs_stat", "node", k) for k in ("wall_us", "cpu_us")}
        print(f"  (Node's own fs.promises.stat: wall {m['wall_us']:.1f}  cpu {m['cpu_us']:.1f})")
PY
