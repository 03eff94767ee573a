//! Test support for ringlet.
//!
//! ringlet's job is to launch real coding-agent CLIs (Claude Code, Codex, OpenCode, Grok CLI,
//! Gemini CLI, Droid) against whatever provider a profile names. Testing that for real needs a
//! model API the agents accept, that costs nothing, needs no network, and tells the test what the
//! agent actually sent (which key, which model, which wire format). [`fake_api`] is that API.
//!
//! The crate also knows where `tests/install-agents.sh` puts the real agent binaries, so
//! end-to-end tests can find them (or skip when they are not installed).

pub mod fake_api;
pub mod harness;
pub mod registry;

pub use fake_api::{FakeApi, FakeApiConfig, RecordedRequest, Reply, Usage, WireShape};

use std::path::PathBuf;

/// Root of the ringlet repository (the parent of this crate's directory).
pub fn repo_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// `tests/fixtures/` of this repository: real agent log samples (`agent-logs/`, recorded by
/// `tests/record-agent-logs.sh` from the real agent CLIs against the fake API) and a trimmed
/// LiteLLM pricing feed (`litellm_model_prices.json`, from `tests/trim-litellm-feed.py`).
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("tests").join("fixtures")
}

/// Directory where `tests/install-agents.sh` installs the real agent binaries
/// (`$REPO/.tools/npm/bin`), honouring `RINGLET_AGENTS_PREFIX` like the script does.
///
/// Returns `None` when the directory does not exist, so e2e tests can skip instead of failing on
/// machines where the agents were never installed.
pub fn agents_bin_dir() -> Option<PathBuf> {
    let prefix = std::env::var_os("RINGLET_AGENTS_PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools").join("npm"));
    let bin = prefix.join("bin");
    bin.is_dir().then_some(bin)
}
