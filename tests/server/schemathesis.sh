#!/usr/bin/env bash
# schemathesis against the real `ringlet serve`: every operation of /api/openapi.json fuzzed with
# the token, failing on any 5xx or any answer that does not match the document (status, content
# type, body schema, headers). Run after `cargo build` (tests/run.sh does); needs python3 with
# venv and PyPI.
#
# Usage: bash tests/server/schemathesis.sh [path/to/ringlet]
#
# Left out: GET /api/events (a stream that never ends) and POST /api/pricing/update (it would
# download LiteLLM's feed). The fuzzer adds hooks with random shell commands and tests them: it
# runs in a throwaway RINGLET_HOME and HOME.
set -euo pipefail
cd "$(dirname "$0")/../.."

ringlet="${1:-}"
if [ -z "$ringlet" ]; then
  target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  ringlet="$target_dir/${CARGO_BUILD_TARGET:-}/debug/ringlet"
fi
[ -x "$ringlet" ] || { echo "schemathesis.sh: $ringlet is missing; run cargo build first" >&2; exit 1; }

tmp="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5' </dev/null

mkdir -p "$tmp/home" "$tmp/user"
RINGLET_HOME="$tmp/home" HOME="$tmp/user" "$ringlet" serve --listen 127.0.0.1:0 --quiet \
  2>"$tmp/server.log" &
server=$!
for _ in $(seq 100); do
  grep -q "serving the API on" "$tmp/server.log" 2>/dev/null && break
  sleep 0.1
done
port="$(grep -o '127\.0\.0\.1:[0-9]*' "$tmp/server.log" | head -1 | cut -d: -f2)"
[ -n "$port" ] || { cat "$tmp/server.log" >&2; exit 1; }
token="$(cat "$tmp/home/config/http_token")"

"$tmp/venv/bin/schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --exclude-path /api/events --exclude-path /api/pricing/update \
  --max-examples 50 --seed 1 --no-color
