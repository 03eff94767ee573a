#!/usr/bin/env bash
# Binding overhead: `profiles()` with 100 profiles, called from Rust, from Python and from Node,
# side by side on the same ringlet home. The Rust call reads the 100 profile.toml files; what the
# Python and Node calls take beyond it is the binding's cost (conversion, GIL release, thread
# hand-off, promise settling). Target: < 50 µs per call.
#
# Usage: bash benches/bindings_overhead.sh [ROUNDS] [CALLS]     (release builds of everything)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
ROUNDS="${1:-7}"
CALLS="${2:-200}"

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
cargo bench --quiet --locked -p ringlet --bench profiles_list -- "$HOME_DIR" "$ROUNDS" "$CALLS" \
  2>/dev/null >>"$RESULTS"

"$WORK/venv/bin/python" - "$HOME_DIR" "$ROUNDS" "$CALLS" >>"$RESULTS" <<'PY'
import json, sys, time
import ringlet
home, rounds, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = ringlet.Ringlet(home=home)
n = len(r.profiles())
for _ in range(calls // 4):
    r.profiles()
out = []
for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(calls):
        r.profiles()
    out.append(round((time.perf_counter() - start) * 1e6 / calls, 2))
print(json.dumps({"lang": "python", "profiles": n, "us_per_call": out}))
PY

node - "$HOME_DIR" "$ROUNDS" "$CALLS" >>"$RESULTS" <<'JS'
const { Ringlet } = require(process.cwd() + '/bindings/node')
const [home, rounds, calls] = [process.argv[2], +process.argv[3], +process.argv[4]]
;(async () => {
  const r = await Ringlet.open(home)
  const n = (await r.profiles()).length
  for (let i = 0; i < calls / 4; i++) await r.profiles()
  const out = []
  for (let k = 0; k < rounds; k++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) await r.profiles()
    out.push(Math.round(Number(process.hrtime.bigint() - start) / calls / 10) / 100)
  }
  console.log(JSON.stringify({ lang: 'node', profiles: n, us_per_call: out }))
})()
JS

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = {r["lang"]: r for r in map(json.loads, open(sys.argv[1]))}
base = statistics.median(rows["rust"]["us_per_call"])
print(f"profiles() with {rows['rust']['profiles']} profiles, median µs per call over rounds:")
for lang in ("rust", "python", "node"):
    med = statistics.median(rows[lang]["us_per_call"])
    extra = "" if lang == "rust" else f"   overhead {med - base:+8.1f} µs"
    print(f"  {lang:<7}{med:10.1f} µs{extra}   rounds: {rows[lang]['us_per_call']}")
PY
