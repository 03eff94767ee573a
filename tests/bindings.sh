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

# The same target, settings and package selection as tests/run.sh, so that every build here
# reuses its (see the comment there): after tests/run.sh, only the bindings' own crates compile.
if [ -z "${CARGO_BUILD_TARGET:-}" ]; then
  CARGO_BUILD_TARGET="$(rustc -vV | sed -n 's/^host: //p')"
  export CARGO_BUILD_TARGET
fi
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
BUILT=(--workspace --exclude ringlet-python --exclude ringlet-node)
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
profile_dir="$target_dir/$CARGO_BUILD_TARGET/debug"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The libraries built so far, as `<deps dir> <crate name>` lines (target units are in
# target/<triple>/debug/deps, host units such as proc macros in target/debug/deps), optionally
# only those written after the file $1.
units() {
  find "$profile_dir/deps" "$target_dir/debug/deps" -maxdepth 1 ${1:+-newer "$1"} \
    \( -name 'lib*.rlib' -o -name 'lib*.so' -o -name 'lib*.dylib' \) -printf '%h %f\n' 2>/dev/null \
    | sed -E 's/ lib(.*)-[0-9a-f]{16}\.(rlib|so|dylib)$/ \1/' | sort -u
}

# Call before a binding's build; `no_rebuilds` after it fails when that build compiled a library
# again (in another configuration, or the same one made dirty) that had been built before,
# instead of reusing it: a feature set drifted from the workspace build's (run
# workspace-hack/generate.py), or the tool set an environment variable a build script watches.
# Only what this test run built counts (run.sh stamps its start in RINGLET_RUN_STAMP, else this
# script's start): a warm target directory also holds libraries from builds of older sources,
# which a build of these sources rightly does not reuse.
run_stamp="${RINGLET_RUN_STAMP:-$tmp/start}"
[ -e "$run_stamp" ] || touch "$run_stamp"
mark() {
  built_before="$(units "$run_stamp")"
  touch "$tmp/mark"
}
no_rebuilds() {
  local again
  again="$(comm -12 <(printf '%s\n' "$built_before") <(units "$tmp/mark") | awk '{print $2}' \
    | sort -u | tr '\n' ' ')"
  if [ -n "$again" ]; then
    echo "bindings: $1 compiled again what an earlier build had built: $again" >&2
    echo "  (a feature set drifted: run \`python3 workspace-hack/generate.py\` and commit" \
      "workspace-hack/ and Cargo.lock)" >&2
    exit 1
  fi
}

step "workspace build (nothing to do after tests/run.sh)"
# The fake agent, and the CLI: the Python tests check a Profile against `ringlet profiles list
# --json`.
cargo build "${BUILT[@]}" --lib --bins --tests --examples --locked
export RINGLET_FAKE_AGENT="$profile_dir/fake-agent"
export RINGLET_CLI="$profile_dir/ringlet"

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
# Fresh every run, but always at the same path: pyo3's build script keys on the interpreter's
# path, so a venv somewhere new would make every later run compile pyo3 again.
venv="$target_dir/bindings-venv"
rm -rf "$venv"
python3 -m venv "$venv"
(
  # The venv's bin first: pip's build backend (maturin) is found there.
  export PATH="$venv/bin:$PATH"
  pip install --quiet --disable-pip-version-check maturin mypy pytest </dev/null
  # `maturin build` makes an abi3 wheel holding the typing files (README, bindings/python).
  mark
  maturin build --profile dev -m bindings/python/Cargo.toml --out "$tmp/wheels" </dev/null
  no_rebuilds "maturin build"
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
  mark
  MATURIN_PEP517_ARGS="--profile dev" pip install --disable-pip-version-check \
    --no-build-isolation ./bindings/python </dev/null
  no_rebuilds "pip install ./bindings/python"
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
  mark
  npm run build </dev/null
  no_rebuilds "napi build"
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
mark
bash bindings/swift/generate.sh --check
no_rebuilds "bindings/swift/generate.sh"
bash bindings/swift/check-header.sh
if command -v swift >/dev/null 2>&1; then
  step "Swift: swift test"
  cargo rustc --locked --release -p ringlet-ffi --lib --crate-type staticlib
  (cd bindings/swift && RINGLET_RUST_LIB_DIR="$target_dir/$CARGO_BUILD_TARGET/release" swift test)
else
  echo "(no swift compiler here: the XCTest suite in bindings/swift/Tests runs where swift exists)"
fi

step "bindings passed"
