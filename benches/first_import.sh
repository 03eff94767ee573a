#!/usr/bin/env bash
# The first import: `ringlet import claude` into a fresh ledger against ccusage reading the same
# history (`ccusage claude daily`, which parses and writes nothing), side by side in one
# hyperfine run, and the re-scan of the unchanged history. The corpus is generated, not
# committed: about 300 MiB of Claude Code transcripts in ~1,400 files over 40 projects, a fifth
# of them subagent sidechains replaying responses, content-block lines repeating usage, tool
# results and attachments (benches/usage_ledger.rs, `corpus`).
#
# Usage: bash benches/first_import.sh [MIB] [FILES] [RUNS]     (defaults 300 1400 5)
# Needs hyperfine (apt-get install hyperfine) and npm; ccusage is installed into .tools/
# (CCUSAGE=/path/to/ccusage to time another build; CCUSAGE_OLD=… adds a second one).
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
du -sb "$PROJECTS" | awk '{printf "corpus bytes: %d\n", $1}'

# Both tools see only the corpus: HOME is the corpus's, and ringlet's home is thrown away
# before each timed import (its profile created again, untimed).
export HOME="$HOME_DIR" CLAUDE_CONFIG_DIR="$HOME_DIR/.claude"
fresh="rm -rf '$WORK/ringlet' && '$RINGLET' -q --home '$WORK/ringlet' profiles create claude bench --provider anthropic"
import="'$RINGLET' -q --home '$WORK/ringlet' import claude --to bench --from '$PROJECTS' --json > /dev/null"
commands=(-n "ringlet import claude (fresh ledger)" --prepare "$fresh" "$import")
commands+=(-n "ccusage claude daily" --prepare true "'$CCUSAGE' claude daily --offline --json > /dev/null")
if [ -n "${CCUSAGE_OLD:-}" ]; then
  commands+=(-n "ccusage claude daily ($("$CCUSAGE_OLD" --version))" --prepare true
    "'$CCUSAGE_OLD' daily --offline --json > /dev/null")
fi
hyperfine --style basic --warmup 1 --runs "$RUNS" --export-json "$WORK/first.json" "${commands[@]}"

# The re-scan: the same import again over the unchanged files (each is stat'ed, none read).
eval "$fresh" && eval "$import"
hyperfine --style basic --warmup 3 --runs 20 --export-json "$WORK/rescan.json" \
  -n "ringlet import claude (re-scan, nothing changed)" "$import"

python3 - "$WORK/first.json" "$WORK/rescan.json" "$(du -sb "$PROJECTS" | cut -f1)" <<'PY'
import json, sys
first = json.load(open(sys.argv[1]))["results"]
rescan = json.load(open(sys.argv[2]))["results"]
size = int(sys.argv[3])
base = first[0]["median"]
print("\n| command | median | throughput | vs ringlet |")
print("| --- | --- | --- | --- |")
for r in first:
    m = r["median"]
    print(f"| {r['command']} | {m:.3f} s | {size / m / 1e6:.0f} MB/s | {m / base:.2f}× |")
for r in rescan:
    print(f"| {r['command']} | {r['median'] * 1000:.1f} ms | | |")
PY
