#!/usr/bin/env bash
# The daily, session and billing-block reports, ringlet against ccusage on the same Claude Code
# history, side by side in one hyperfine run each. ringlet reads its ledger (the history
# imported once, untimed); ccusage parses every log file on each run (it keeps no ledger), which
# is the wait its user has. The corpus is generated, not committed (benches/usage_ledger.rs,
# `corpus`: transcripts over 40 projects, sidechains, content-block lines).
#
# Usage: bash benches/reports_vs_ccusage.sh [MIB] [FILES] [RUNS]     (defaults 300 1400 5)
# Needs hyperfine and npm; ccusage is installed into .tools/ (CCUSAGE=/path/to/ccusage to time
# another build).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
MIB="${1:-300}"
FILES="${2:-1400}"
RUNS="${3:-5}"

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
release="$target_dir/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}release"
cargo build --quiet --release -p ringlet-cli --bin ringlet
RINGLET="${RINGLET_BIN:-$release/ringlet}"

if [ -z "${CCUSAGE:-}" ]; then
  CCUSAGE="$REPO/.tools/node_modules/.bin/ccusage"
  [ -x "$CCUSAGE" ] || npm i --silent --prefix "$REPO/.tools" ccusage@20.0.24 >/dev/null
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
HOME_DIR="$WORK/home"
cargo bench --quiet -p ringlet --bench usage_ledger -- corpus "$HOME_DIR" "$MIB" "$FILES"
PROJECTS="$HOME_DIR/.claude/projects"
export HOME="$HOME_DIR" CLAUDE_CONFIG_DIR="$HOME_DIR/.claude" TZ=UTC
R="'$RINGLET' -q --home '$WORK/ringlet'"
eval "$R profiles create claude bench --provider anthropic"
eval "$R import claude --to bench --from '$PROJECTS' --json" >/dev/null
eval "$R usage --json" | python3 -c 'import json,sys; t=json.load(sys.stdin)["total"]; print("ledger:", t["events"], "events")'

for pair in \
  "daily|$R usage --by-day -z UTC --json|'$CCUSAGE' claude daily --offline --json" \
  "session|$R usage --by-session -z UTC --json|'$CCUSAGE' claude session --offline --json" \
  "blocks|$R usage blocks -z UTC --json|'$CCUSAGE' claude blocks --offline --json"; do
  IFS='|' read -r name ours theirs <<<"$pair"
  hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/$name.json" \
    -n "ringlet ($name)" "$ours > /dev/null" -n "ccusage ($name)" "$theirs > /dev/null"
done

# The status line, as Claude Code runs it: the recorded JSON pointed at one of the corpus's
# sessions (ccusage without its output cache, which would answer from the previous run).
transcript="$(find "$PROJECTS" -name '*.jsonl' | sort | head -1)"
python3 - "$transcript" "$REPO/tests/fixtures/statusline/claude-code.json" >"$WORK/status.json" <<'PY'
import json, sys
path, fixture = sys.argv[1], json.load(open(sys.argv[2]))
with open(path) as f:
    session = next((json.loads(l).get("sessionId") for l in f if '"sessionId"' in l), None)
fixture.update(session_id=session, transcript_path=path)
json.dump(fixture, sys.stdout)
PY
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/statusline.json" \
  -n "ringlet (statusline)" "RINGLET_PROFILE=bench $R statusline < '$WORK/status.json' > /dev/null" \
  -n "ccusage (statusline)" \
  "'$CCUSAGE' claude statusline --offline --no-cache < '$WORK/status.json' > /dev/null"

python3 - "$WORK" <<'PY'
import json, sys
print("\n| report | ringlet median | ccusage median | ccusage / ringlet |")
print("| --- | --- | --- | --- |")
for name in ("daily", "session", "blocks", "statusline"):
    ours, theirs = json.load(open(f"{sys.argv[1]}/{name}.json"))["results"]
    print(f"| {name} | {ours['median']*1e3:.1f} ms | {theirs['median']*1e3:.1f} ms | "
          f"{theirs['median']/ours['median']:.1f}× |")
PY
