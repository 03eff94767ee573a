#!/usr/bin/env bash
# Install the real coding-agent CLIs that ringlet launches, at pinned versions, into the
# project-local prefix $REPO/.tools/npm (gitignored), so the end-to-end tests can run them
# against the fake model API without touching the machine's global npm prefix.
#
# Idempotent: a package already installed at its pinned version is skipped. Non-interactive.
#
# Usage: tests/install-agents.sh [--print-bin]
#   --print-bin   print only the bin directory (for `PATH="$(tests/install-agents.sh --print-bin):$PATH"`)
#
# Environment:
#   RINGLET_AGENTS_PREFIX  install prefix (default: $REPO/.tools/npm)
#   RINGLET_AGENTS         space-separated subset of agent names to install
#                          (claude codex opencode gemini grok droid; default: all)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${RINGLET_AGENTS_PREFIX:-$REPO/.tools/npm}"
BIN="$PREFIX/bin"

# agent name | npm package | pinned version | binary
# Notes on the pins:
# - claude-code 2.1.330 declares node >=22 but runs on Node 20; without an explicit version npm
#   on Node 20 silently resolves an old 2.1.197, so the version must always be explicit.
# - @vibe-kit/grok-cli: the registry only has 0.0.34 (1.0.1 does not exist); 0.0.34 is the
#   build whose `grok --version` prints 1.0.1.
# - droid: `@factory/cli` lacks its linux binary package; the `droid` package ships it.
AGENTS=(
  "claude|@anthropic-ai/claude-code|2.1.330|claude"
  "codex|@openai/codex|0.169.0|codex"
  "opencode|opencode-ai|1.18.33|opencode"
  "gemini|@google/gemini-cli|0.61.0|gemini"
  "grok|@vibe-kit/grok-cli|0.0.34|grok"
  "droid|droid|0.215.0|droid"
)

print_bin_only=false
if [[ "${1:-}" == "--print-bin" ]]; then
  print_bin_only=true
fi

log() {
  if ! $print_bin_only; then
    echo "$@"
  fi
}

command -v npm >/dev/null 2>&1 || {
  echo "install-agents: npm not found on PATH" >&2
  exit 1
}

wanted="${RINGLET_AGENTS:-claude codex opencode gemini grok droid}"

# Version currently installed under the prefix, or empty.
installed_version() {
  local pkg="$1" manifest="$PREFIX/lib/node_modules/$1/package.json"
  if [[ -f "$manifest" ]]; then
    node -e 'process.stdout.write(String(require(process.argv[1]).version || ""))' "$manifest"
  fi
}

mkdir -p "$PREFIX"
to_install=()
for entry in "${AGENTS[@]}"; do
  IFS='|' read -r name pkg version bin <<<"$entry"
  [[ " $wanted " == *" $name "* ]] || continue
  have="$(installed_version "$pkg")"
  if [[ "$have" == "$version" && -x "$BIN/$bin" ]]; then
    log "ok       $name ($pkg@$version) already installed"
  else
    log "install  $name ($pkg@$version)${have:+ (found $have)}"
    to_install+=("$pkg@$version")
  fi
done

if ((${#to_install[@]} > 0)); then
  # -g with --prefix: binaries land in $PREFIX/bin, packages in $PREFIX/lib/node_modules.
  # --engine-strict=false: claude-code declares node >=22 but works on 20.
  npm install -g --prefix "$PREFIX" \
    --no-audit --no-fund --no-update-notifier --loglevel=error --engine-strict=false \
    "${to_install[@]}" >&2
fi

# Verify every requested binary is there and reports a version.
for entry in "${AGENTS[@]}"; do
  IFS='|' read -r name pkg version bin <<<"$entry"
  [[ " $wanted " == *" $name "* ]] || continue
  if [[ ! -x "$BIN/$bin" ]]; then
    echo "install-agents: $BIN/$bin missing after install of $pkg@$version" >&2
    exit 1
  fi
  have="$(installed_version "$pkg")"
  if [[ "$have" != "$version" ]]; then
    echo "install-agents: $pkg is $have, expected $version" >&2
    exit 1
  fi
done

if $print_bin_only; then
  echo "$BIN"
else
  echo "agents installed in $BIN"
  echo "use: export PATH=\"$BIN:\$PATH\""
fi
