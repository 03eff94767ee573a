#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh Debian 12 machine. It installs what it
# needs itself: the real agent CLIs from npm into .tools/npm (project-local), then runs
# formatting, lints, every Rust test (unit, CLI integration, end-to-end with the real agents)
# and the examples.
#
# Usage: bash tests/run.sh        (CI calls exactly this; see README.md)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

step() { printf '\n==> %s\n' "$*"; }

for tool in cargo node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "tests/run.sh: $tool is required" >&2; exit 1; }
done

step "installing the real agent CLIs into .tools/npm"
bash tests/install-agents.sh

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build"
cargo build --workspace --all-targets --locked

step "tests"
# The end-to-end tests must not skip here: the agents were just installed.
export RINGLET_E2E_REQUIRED=1
cargo test --workspace --locked --no-fail-fast

step "examples"
cargo run --quiet --locked -p ringlet --example plan_a_launch

step "all tests passed"
