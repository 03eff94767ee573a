#!/usr/bin/env bash
# Records the real agent log samples the usage tests read (tests/fixtures/agent-logs/): runs each
# real agent CLI once, one-shot, against the fake model API (tests/src/bin/fake-api.rs), each
# with its own empty HOME, and copies the logs it wrote there into the fixtures directory. Run it
# again when an agent changes its log format (after bumping its pin in tests/install-agents.sh),
# then update the tests that name what a sample holds (session ids, times, line counts: the
# failing assertions say which).
#
# Every agent is configured directly (environment and its own settings files, as
# docs/agents.md describes), not through ringlet, so the samples show the agents' formats and
# nothing of ringlet's. The fake API reports the same token counts for every response (input 11,
# output 3, cache creation 5, cache read 7; OpenAI and Gemini shapes: input 18 of which 7
# cached), which is what the tests expect.
#
# Usage: bash tests/record-agent-logs.sh [agent...]   (default: claude codex opencode gemini droid grok)
# Needs: cargo, node/npm (tests/install-agents.sh installs the agents into its prefix), python3.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
OUT="$REPO/tests/fixtures/agent-logs"
agents=("$@")
[ "${#agents[@]}" -gt 0 ] || agents=(claude codex opencode gemini droid grok)

for tool in cargo python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "record-agent-logs: $tool is required" >&2; exit 1; }
done

# The agents, at the versions tests/install-agents.sh pins (installed when missing).
BIN="$(RINGLET_AGENTS="${agents[*]}" bash tests/install-agents.sh --print-bin)"

cargo build --locked --quiet -p ringlet-tests --bin ringlet-fake-api
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
fake_api="$target_dir/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/ringlet-fake-api"

tmp="$(mktemp -d)"
api_pid=""
cleanup() {
  [ -z "$api_pid" ] || kill "$api_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# The fake API on a free port; its first stdout line is `listening on http://127.0.0.1:PORT`.
: >"$tmp/api.log"
"$fake_api" --port 0 --record "$tmp/requests.jsonl" >>"$tmp/api.log" 2>&1 &
api_pid=$!
API=""
for _ in $(seq 100); do
  API="$(sed -n 's/^listening on //p' "$tmp/api.log")"
  [ -z "$API" ] || break
  sleep 0.1
done
[ -n "$API" ] || { echo "record-agent-logs: the fake API did not start:" >&2; cat "$tmp/api.log" >&2; exit 1; }

KEY="sk-ringlet-fixture-not-a-real-key-0000"
PROMPT="Reply with the word pong."

# `<agent> --version`, run like the agents (clean environment, a throwaway HOME).
version() {
  mkdir -p "$tmp/version-home"
  env -i PATH="$BIN:/usr/local/bin:/usr/bin:/bin" HOME="$tmp/version-home" \
    timeout 60 "$BIN/$1" --version </dev/null 2>/dev/null | head -1 || true
}

# Runs "$@" for agent $1 with a fresh HOME ($home) and working directory ($work), a clean
# environment plus the variables in the `vars` array, and saves its stdout to $tmp/<agent>.out.
run_agent() {
  local agent="$1"; shift
  echo "recording $agent ($(version "$agent"))"
  if ! (cd "$work" && env -i PATH="$BIN:/usr/local/bin:/usr/bin:/bin" HOME="$home" TERM=dumb \
    LANG=C.UTF-8 "${vars[@]}" timeout 300 "$@" </dev/null >"$tmp/$agent.out" 2>"$tmp/$agent.err"); then
    echo "record-agent-logs: $agent failed:" >&2
    cat "$tmp/$agent.err" "$tmp/$agent.out" >&2
    exit 1
  fi
  grep -q pong "$tmp/$agent.out" || {
    echo "record-agent-logs: $agent did not print the fake API's answer:" >&2
    cat "$tmp/$agent.out" "$tmp/$agent.err" >&2
    exit 1
  }
}

# The one file matching a pattern below $home (fails on none or several).
one_file() {
  local found
  mapfile -t found < <(find "$home" -path "$home/$1" -type f | sort)
  if [ "${#found[@]}" -ne 1 ]; then
    echo "record-agent-logs: expected one $1 under the agent's HOME, found ${#found[@]}:" >&2
    (cd "$home" && find . -type f | sort) >&2
    exit 1
  fi
  printf '%s\n' "${found[0]}"
}

fresh() {
  home="$tmp/$1/home"
  work="$tmp/$1/work"
  mkdir -p "$home" "$work"
}

record_claude() {
  fresh claude
  # Seeded as docs/agents.md says: no onboarding, the key approved, the folder trusted.
  python3 - "$home/.claude.json" "$KEY" "$work" <<'PY'
import json, sys
path, key, work = sys.argv[1:]
json.dump({"hasCompletedOnboarding": True,
           "customApiKeyResponses": {"approved": [key[-20:]], "rejected": []},
           "projects": {work: {"hasTrustDialogAccepted": True}}}, open(path, "w"))
PY
  vars=(ANTHROPIC_BASE_URL="$API" ANTHROPIC_API_KEY="$KEY" ANTHROPIC_MODEL=claude-opus-5-5
    DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1)
  run_agent claude claude -p "$PROMPT" --output-format json
  cp "$(one_file '.claude/projects/*/*.jsonl')" "$OUT/claude-session.jsonl"
  cp "$tmp/claude.out" "$OUT/claude-print-output-format-json.json"
}

record_codex() {
  fresh codex
  mkdir -p "$home/.codex"
  cat >"$home/.codex/config.toml" <<EOF
model = "fake-model"
model_provider = "fake"

[model_providers.fake]
name = "fake"
base_url = "$API/v1"
env_key = "FAKE_API_KEY"
wire_api = "responses"

[analytics]
enabled = false
EOF
  vars=(FAKE_API_KEY="$KEY")
  run_agent codex codex exec --json --skip-git-repo-check "$PROMPT"
  cp "$(one_file '.codex/sessions/*/*/*/rollout-*.jsonl')" "$OUT/codex-rollout.jsonl"
  cp "$tmp/codex.out" "$OUT/codex-exec-json.jsonl"
}

record_opencode() {
  fresh opencode
  local config
  config="$(python3 -c 'import json,sys; print(json.dumps({"model": "anthropic/claude-sonnet-4-5",
    "provider": {"anthropic": {"options": {"baseURL": sys.argv[1] + "/v1", "apiKey": sys.argv[2]}}}}))' \
    "$API" "$KEY")"
  vars=(OPENCODE_CONFIG_CONTENT="$config" OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_AUTOUPDATE=1)
  run_agent opencode opencode run --format json "$PROMPT"
  local db
  db="$(one_file '.local/share/opencode/opencode.db')"
  # OpenCode keeps its database in WAL mode: fold the log into the file so the one file holds
  # everything (it stays a WAL-mode database, as OpenCode leaves it).
  python3 - "$db" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
assert busy == 0, "opencode.db is still in use"
con.close()
PY
  rm -f "$OUT/opencode.db" "$OUT/opencode.db-wal" "$OUT/opencode.db-shm"
  cp "$db" "$OUT/opencode.db"
  cp "$tmp/opencode.out" "$OUT/opencode-run-format-json.jsonl"
}

record_gemini() {
  fresh gemini
  mkdir -p "$home/.gemini"
  cat >"$home/.gemini/settings.json" <<'EOF'
{"security": {"auth": {"selectedType": "gemini-api-key"}}, "privacy": {"usageStatisticsEnabled": false}}
EOF
  vars=(GEMINI_API_KEY="$KEY" GOOGLE_GEMINI_BASE_URL="$API" GEMINI_MODEL=gemini-3.8-flash
    GEMINI_CLI_TRUST_WORKSPACE=true)
  run_agent gemini gemini -p "$PROMPT" -o json
  cp "$(one_file '.gemini/tmp/*/chats/session-*.jsonl')" "$OUT/gemini-session.jsonl"
  cp "$tmp/gemini.out" "$OUT/gemini-output-json.json"
}

record_droid() {
  fresh droid
  mkdir -p "$home/.factory"
  python3 - "$home/.factory/settings.json" "$API" "$KEY" <<'PY'
import json, sys
path, api, key = sys.argv[1:]
json.dump({"customModels": [{"model": "fake-model", "displayName": "Fake", "baseUrl": api,
                             "apiKey": key, "provider": "anthropic", "maxOutputTokens": 1024}],
           "sessionDefaultSettings": {"model": "custom:Fake-0"}}, open(path, "w"))
PY
  vars=(FACTORY_AIRGAP_ENABLED=true)
  run_agent droid droid exec -o json "$PROMPT"
  local session
  session="$(one_file '.factory/sessions/*/*.settings.json')"
  cp "$session" "$OUT/droid-session.settings.json"
  cp "${session%.settings.json}.jsonl" "$OUT/droid-session.jsonl"
  cp "$tmp/droid.out" "$OUT/droid-exec-output-json.json"
}

record_grok() {
  fresh grok
  # Grok CLI writes no usage log: only its headless output is kept.
  vars=(GROK_BASE_URL="$API/v1" GROK_API_KEY="$KEY" GROK_MODEL=grok-code-fast-1)
  run_agent grok grok -p "$PROMPT"
  cp "$tmp/grok.out" "$OUT/grok-headless-stdout.jsonl"
}

mkdir -p "$OUT"
for agent in "${agents[@]}"; do
  case "$agent" in
    claude | codex | opencode | gemini | droid | grok) "record_$agent" ;;
    *) echo "record-agent-logs: unknown agent $agent" >&2; exit 1 ;;
  esac
done

# The samples are committed: none may hold the key (the fake one here, but a format change that
# starts logging keys should be noticed).
if grep -rlF "$KEY" "$OUT"; then
  echo "record-agent-logs: the files above contain the API key" >&2
  exit 1
fi

# Which agent versions wrote the samples.
{
  echo "# Recorded by tests/record-agent-logs.sh on $(date -u +%Y-%m-%d); agent versions:"
  for agent in claude codex opencode gemini droid grok; do
    printf '%s\t%s\n' "$agent" "$(version "$agent")"
  done
} >"$OUT/VERSIONS"
echo "recorded into ${OUT#"$REPO"/}: $(cd "$OUT" && ls | tr '\n' ' ')"
