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

started=$SECONDS
step() { printf '\n==> %s  [%dm%02ds]\n' "$*" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)); }

# One build per crate per profile (docs/performance.md, "CI build"):
# - `cargo build` and every `cargo test` select the same packages (BUILT), so cargo resolves the
#   same features for every dependency and compiles each once (clippy only type-checks, apart);
# - the Python and Node bindings are built by maturin and napi only (tests/bindings.sh), and
#   workspace-hack/ gives the dependencies of every per-package build there the workspace's
#   features, so those builds reuse this one;
# - an explicit --target (CARGO_BUILD_TARGET) for every command, because `napi build` always
#   passes one, and a build for an explicit target never reuses one made without it;
# - the tests never run cargo: they use the binaries built here (tests/src/harness.rs).
if [ -z "${CARGO_BUILD_TARGET:-}" ]; then
  CARGO_BUILD_TARGET="$(rustc -vV | sed -n 's/^host: //p')"
  export CARGO_BUILD_TARGET
fi
# These builds start cold: incremental compilation only costs time and disk here, and line
# tables (file:line in a backtrace) are all the debug info a failing test needs.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
BUILT=(--workspace --exclude ringlet-python --exclude ringlet-node)

# The Debian packages the suite needs beyond Rust and Node, installed when missing; CI is root
# on a fresh Debian 12 with no stdin, so apt must never ask anything:
# - gnome-keyring, dbus: the keychain tests run against a real Secret Service on a private D-Bus
#   session (dbus-run-session);
# - bubblewrap: the sandbox tests (ringlet/tests/sandbox_bwrap.rs);
# - tmux: the interactive end-to-end tests drive the real agents in a tmux pane (tests/e2e);
# - procps: `kill`, which the signal tests and the fake agent send signals with;
# - python3, python3-venv (ensurepip): workspace-hack/generate.py, and the Python binding's
#   throwaway venv (tests/bindings.sh); gcc: linking, and the Swift binding's C header check;
# - zsh, fish: the completion tests load `ringlet completions zsh|fish` into the real shells.
# - chromium: the dashboard's browser tests (tests/web, Playwright driving Debian's chromium).
# - postgresql: the team ledger tests run against a throwaway cluster (start_test_postgres).
ensure_debian_packages() {
  local missing=()
  command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=(gnome-keyring)
  if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v dbus-send >/dev/null 2>&1 \
    || ! command -v dbus-daemon >/dev/null 2>&1; then
    missing+=(dbus)
  fi
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  type -P kill >/dev/null 2>&1 || missing+=(procps)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  command -v zsh >/dev/null 2>&1 || missing+=(zsh)
  command -v fish >/dev/null 2>&1 || missing+=(fish)
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/run.sh: the tests need ${missing[*]} (Debian: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  step "installing ${missing[*]}"
  apt-get update -qq </dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}

# Runs the keychain tests (and the keychain store's unit tests) inside a private D-Bus session
# with a throwaway gnome-keyring: its own HOME and XDG dirs in a temp dir, its login keyring
# created and unlocked with a throwaway password (an empty one does not work headless: the
# daemon then wants to prompt for a new password and has no display to prompt on).
run_keychain_tests() {
  local tmp
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/runtime"
  chmod 700 "$tmp/runtime"
  local status=0
  # cargo and rustup keep finding the toolchain although HOME moves.
  env CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
    XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/runtime" \
    RINGLET_KEYCHAIN_REQUIRED=1 RINGLET_TEST_KEYRING_PASSWORD="ringlet-test-$$" \
    dbus-run-session -- bash -c '
      set -euo pipefail
      printf %s "$RINGLET_TEST_KEYRING_PASSWORD" \
        | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      for _ in $(seq 100); do
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
          org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
          | grep -q "boolean true" && break
        sleep 0.1
      done
      cargo test --locked "$@" --lib credentials::
      cargo test --locked "$@" --test keychain
    ' bash "${BUILT[@]}" </dev/null || status=$?
  rm -rf "$tmp"
  return "$status"
}

# Starts a throwaway Postgres for the team ledger tests (tests/team): its own data directory and
# Unix socket directory in a temp dir, a private TCP port on 127.0.0.1 only, password
# (SCRAM) authentication for role `ringlet`, owned by the `postgres` system user when run as root
# (Postgres refuses to run as root), and TLS with a certificate for 127.0.0.1 from a CA made
# here (ringlet always verifies it: the tests trust that CA through RINGLET_TEST_POSTGRES_CA, as a
# team trusts its own through `[team] ca-file`). Exports RINGLET_TEST_POSTGRES_URL (no password
# in it), RINGLET_TEST_POSTGRES_PASSWORD and RINGLET_TEST_POSTGRES_CA; a developer can instead
# export them for their own server.
start_test_postgres() {
  if [ -n "${RINGLET_TEST_POSTGRES_URL:-}" ]; then
    return 0
  fi
  local bin
  bin="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1)")"
  PG_TMP="$(mktemp -d)"
  local port=$((54000 + RANDOM % 1000))
  local password="ringlet-test-$$-$RANDOM"
  printf '%s\n' "$password" >"$PG_TMP/pwfile"
  # A CA of the test's own and a server certificate for 127.0.0.1 signed by it, as a team
  # sets it up (webpki refuses a self-signed certificate used as its own CA).
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ringlet-test-ca \
      -keyout "$PG_TMP/ca.key" -out "$PG_TMP/ca.crt" \
      && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
        -keyout "$PG_TMP/server.key" -out "$PG_TMP/server.csr" \
      && printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
        >"$PG_TMP/server.ext" \
      && openssl x509 -req -in "$PG_TMP/server.csr" -CA "$PG_TMP/ca.crt" -CAkey "$PG_TMP/ca.key" \
        -CAcreateserial -days 2 -extfile "$PG_TMP/server.ext" -out "$PG_TMP/server.crt"
  } >"$PG_TMP/openssl.log" 2>&1 || { cat "$PG_TMP/openssl.log" >&2; return 1; }
  chmod 600 "$PG_TMP/server.key" "$PG_TMP/ca.key"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres "$PG_TMP"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -U ringlet --pwfile="$PG_TMP/pwfile" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c ssl=on -c ssl_cert_file=$PG_TMP/server.crt -c ssl_key_file=$PG_TMP/server.key" \
    start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_CTL_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -m immediate stop)
  export RINGLET_TEST_POSTGRES_URL="postgres://ringlet@127.0.0.1:$port/postgres"
  export RINGLET_TEST_POSTGRES_PASSWORD="$password"
  export RINGLET_TEST_POSTGRES_CA="$PG_TMP/ca.crt"
}

stop_test_postgres() {
  if [ -n "${PG_TMP:-}" ]; then
    "${PG_CTL_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}

for tool in cargo node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "tests/run.sh: $tool is required" >&2; exit 1; }
done

ensure_debian_packages

step "installing the real agent CLIs into .tools/npm"
bash tests/install-agents.sh

step "rustfmt"
cargo fmt --all -- --check

step "feature unification (workspace-hack/)"
python3 workspace-hack/generate.py --check

step "clippy"
# ringlet-tests/postgres only adds the team test target (tests/team), so clippy lints it too.
cargo clippy --workspace --all-targets --locked --features ringlet-tests/postgres -- -D warnings

# What this run builds is newer than this stamp: tests/bindings.sh checks its bindings' builds
# reuse it, and ignores libraries a warm target directory kept from builds of older sources.
RINGLET_RUN_STAMP="$(mktemp)"
export RINGLET_RUN_STAMP
trap 'rm -f "$RINGLET_RUN_STAMP"; stop_test_postgres' EXIT
step "build"
cargo build "${BUILT[@]}" --lib --bins --tests --examples --locked

step "tests"
# The end-to-end tests must not skip here: the agents were just installed.
export RINGLET_E2E_REQUIRED=1
# Without a session bus the keychain tests skip here; they run for real in the next step, so a
# developer's own keyring is never used by the test suite.
env -u DBUS_SESSION_BUS_ADDRESS cargo test "${BUILT[@]}" --locked --no-fail-fast

step "the web dashboard in a real browser (tests/web: Playwright + Debian's chromium)"
npm --prefix tests/web ci --no-audit --no-fund --loglevel=error </dev/null
npm --prefix tests/web test </dev/null
step "team ledger tests against a throwaway Postgres"
start_test_postgres
cargo test --locked -p ringlet-tests --features postgres --test team

step "keychain tests against a real Secret Service (gnome-keyring on a private D-Bus session)"
run_keychain_tests

step "examples"
target_dir="$(cargo metadata --format-version 1 --no-deps \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/$CARGO_BUILD_TARGET/debug/examples/plan_a_launch"

step "schemathesis against the server's /api/openapi.json"
bash tests/server/schemathesis.sh "$target_dir/$CARGO_BUILD_TARGET/debug/ringlet"

step "language bindings (Python, Node, Swift) from source"
bash tests/bindings.sh

step "all tests passed"
