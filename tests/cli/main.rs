//! Integration tests: the built `ringlet` binary, an isolated RINGLET_HOME per test, and a fake
//! agent binary that records what it was started with.

mod agents;
mod completion;
mod doctor;
mod errors;
mod home;
mod keys;
mod launch_env;
mod output;
mod profiles;
mod profiles_set;
mod registry;
mod reports;
mod routing;
mod sandbox;
mod setup;
mod signals;
mod statusline;
mod usage;

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

/// The key used throughout; it must never appear in output or outside the credential store.
pub const KEY: &str = "sk-test-canary-4b1d9c";

/// A sandbox with a claude profile `work` running the fake agent, its key from the environment.
pub fn sandbox_with_profile() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--model",
        "claude-test-1",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok();
    sb
}
