#!/usr/bin/env bash
# Builds and tests the language bindings from source, the way a user installs them:
#   Python  a fresh venv, `maturin build` (an abi3 wheel with its typing files), `pip install
#           ./bindings/python`, pytest
#   Node    a fresh node_modules (`npm ci`), `npm run build` (napi build), node --test, tsc on
#           a TypeScript use of index.d.ts
#   Swift   regenerate the Swift sources and fail if the committed ones are stale; compile and
#           link the generated C header with gcc (no Swift compiler is needed)
#   parity  every facade method is in every binding or excluded with a reason (docs/bindings.md)
#
# Usage: bash tests/bindings.sh      (tests/run.sh calls it; needs cargo, python3, node, npm, gcc)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

step() { printf '\n==> bindings: %s\n' "$*"; }

for tool in cargo python3 node npm gcc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "tests/bindings.sh: $tool is required" >&2; exit 1; }
done

target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

step "fake agent and the ringlet CLI"
# The CLI: the Python tests check a Profile against `ringlet profiles list --json`.
cargo build --locked -p ringlet-tests -p ringlet-cli --bin fake-agent --bin ringlet
export RINGLET_FAKE_AGENT="$target_dir/debug/fake-agent"
export RINGLET_CLI="$target_dir/debug/ringlet"

step "parity: every facade method in every binding"
python3 tests/bindings/parity.py

step "Python: fresh venv, pip install ./bindings/python, pytest"
# Debian ships venv's ensurepip separately (python3-venv); CI is root there with no stdin.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/bindings.sh: python3 -m venv needs ensurepip (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
  apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv </dev/null
fi
python3 -m venv "$tmp/venv"
(
  # The venv's bin first: pip's build backend (maturin) is found there.
  export PATH="$tmp/venv/bin:$PATH"
  pip install --quiet --disable-pip-version-check maturin mypy pytest </dev/null
  # `maturin build` makes an abi3 wheel holding the typing files (README, bindings/python).
  maturin build --quiet --profile dev -m bindings/python/Cargo.toml --out "$tmp/wheels" </dev/null
  python - "$tmp/wheels" <<'PY'
import sys, zipfile
from pathlib import Path
wheels = list(Path(sys.argv[1]).glob("ringlet-*-cp310-abi3-*.whl"))
assert len(wheels) == 1, f"expected one abi3 (py310+) wheel, found {[w.name for w in wheels]}"
names = set(zipfile.ZipFile(wheels[0]).namelist())
missing = {"ringlet/__init__.py", "ringlet/_ringlet.pyi", "ringlet/py.typed"} - names
assert not missing, f"{wheels[0].name} lacks {sorted(missing)}"
assert any(n.startswith("ringlet/_ringlet.") and n.endswith(".so") for n in names), names
print(f"wheel: {wheels[0].name}")
PY
  # The dev profile shares the workspace's debug build; a plain `pip install` builds release.
  MATURIN_PEP517_ARGS="--profile dev" pip install --disable-pip-version-check \
    --no-build-isolation ./bindings/python </dev/null
  python examples/python/plan_and_run.py "$RINGLET_FAKE_AGENT" </dev/null
  # The stubs are what a user's type checker sees: the example passes mypy --strict with them.
  (cd "$tmp" && python -m mypy --strict --no-incremental "$REPO/examples/python" </dev/null)
  cd bindings/python
  python -m pytest -q tests </dev/null
)

step "Node: npm ci, napi build, node --test"
(
  cd bindings/node
  cp index.d.ts "$tmp/index.d.ts.committed"
  npm ci --no-audit --no-fund </dev/null
  npm run build </dev/null
  if ! cmp -s index.d.ts "$tmp/index.d.ts.committed"; then
    diff -u "$tmp/index.d.ts.committed" index.d.ts || true
    echo "bindings/node/index.d.ts is stale: run \`npm run build\` in bindings/node and commit it" >&2
    exit 1
  fi
  npm test </dev/null
  # index.d.ts is valid TypeScript and fits an extension's use of it (test/usage.ts).
  npm run --silent typecheck </dev/null
  node ../../examples/node/extension.js --demo "$RINGLET_FAKE_AGENT" </dev/null
)

step "Swift: regenerate the sources (fail if stale), compile-check the C header"
bash bindings/swift/generate.sh --check
bash bindings/swift/check-header.sh
if command -v swift >/dev/null 2>&1; then
  step "Swift: swift test"
  cargo rustc --locked --release -p ringlet-ffi --lib --crate-type staticlib
  (cd bindings/swift && RINGLET_RUST_LIB_DIR="$target_dir/release" swift test)
else
  echo "(no swift compiler here: the XCTest suite in bindings/swift/Tests runs where swift exists)"
fi

step "bindings passed"
