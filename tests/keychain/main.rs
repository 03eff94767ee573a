//! Keychain integration tests: the built `ringlet` binary against a REAL Secret Service (no
//! mock of the keychain anywhere), plus the fallback, refusal, permission and audit-log
//! behaviour around it.
//!
//! `tests/run.sh` runs this target inside `dbus-run-session` with a throwaway, unlocked
//! gnome-keyring and `RINGLET_KEYCHAIN_REQUIRED=1`. Elsewhere the tests that need a Secret
//! Service print a note and skip when there is no `DBUS_SESSION_BUS_ADDRESS`; with
//! `RINGLET_KEYCHAIN_REQUIRED=1` they fail instead. The tests that do not need one
//! (`fallback`) always run.
//!
//! Every key a test stores uses a unique alias and is removed again, so on a desktop the
//! user's own `ringlet/…` entries are never touched. The one test that locks the keyring
//! and restarts its daemon runs only where tests/run.sh says the keyring is disposable
//! (`RINGLET_TEST_KEYRING_PASSWORD`).

mod canary;
mod fallback;
mod real;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use ringlet_tests::harness::{Run, Sandbox, fake_agent_bin};

/// The session bus to use, or `None` (after printing why) when these tests must skip.
pub fn session_bus(test: &str) -> Option<OsString> {
    match std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|v| !v.is_empty()) {
        Some(addr) => Some(addr),
        None => {
            assert!(
                std::env::var("RINGLET_KEYCHAIN_REQUIRED").as_deref() != Ok("1"),
                "RINGLET_KEYCHAIN_REQUIRED=1 but DBUS_SESSION_BUS_ADDRESS is not set: run these tests inside `dbus-run-session` with a Secret Service (see tests/run.sh)"
            );
            // Straight to stderr: libtest captures eprintln!, and a skip should be seen.
            let _ = writeln!(
                std::io::stderr(),
                "skipping {test}: no DBUS_SESSION_BUS_ADDRESS, so no Secret Service to test against (tests/run.sh provides one)"
            );
            None
        }
    }
}

/// Tests share one keyring; the one that locks it takes this exclusively.
static KEYRING: RwLock<()> = RwLock::new(());

/// Shared use of the keyring.
pub fn keyring_shared() -> RwLockReadGuard<'static, ()> {
    KEYRING.read().unwrap_or_else(|p| p.into_inner())
}

/// Exclusive use of the keyring (to lock it).
pub fn keyring_exclusive() -> RwLockWriteGuard<'static, ()> {
    KEYRING.write().unwrap_or_else(|p| p.into_inner())
}

/// An alias no other test (or earlier run, or the user) uses.
pub fn unique_alias(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A sandbox whose `ringlet` runs see the session bus (the harness clears the environment).
pub fn keychain_sandbox(bus: &OsString) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("DBUS_SESSION_BUS_ADDRESS", bus.clone());
    sb
}

/// Writes `config.toml` under the sandbox's RINGLET_HOME.
pub fn write_config(sb: &Sandbox, text: &str) {
    let dir = sb.ringlet_home().join("config");
    std::fs::create_dir_all(&dir).expect("config dir");
    std::fs::write(dir.join("config.toml"), text).expect("config.toml");
}

/// The credentials file of a sandbox.
pub fn credentials_file(sb: &Sandbox) -> std::path::PathBuf {
    sb.ringlet_home().join("config/credentials.toml")
}

/// Creates a claude profile running the fake agent with the given key alias (the key is
/// expected to be stored already, so nothing is prompted).
pub fn create_profile(sb: &Sandbox, profile: &str, key_alias: &str) -> Run {
    sb.run([
        "profiles",
        "create",
        "claude",
        profile,
        "--provider",
        "anthropic",
        "--model",
        "claude-test-1",
        "--key-alias",
        key_alias,
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok()
}

/// Runs a profile with the fake agent recording to `record`; returns the key it received.
pub fn run_profile(sb: &Sandbox, profile: &str, record: &Path) -> (Run, Option<String>) {
    let _ = std::fs::remove_file(record);
    let out = sb
        .command(["profiles", "run", profile])
        .env("FAKE_AGENT_RECORD", record)
        .output()
        .expect("ringlet starts");
    let out = Run::from(out);
    let key = std::fs::read_to_string(record)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|rec| rec["env"]["ANTHROPIC_API_KEY"].as_str().map(str::to_string));
    (out, key)
}

/// How many Secret Service items have service=ringlet and username=`account`, asked of the
/// Secret Service directly (not through ringlet), so a test sees where a key really is.
pub fn secret_service_items(bus: &OsString, account: &str) -> usize {
    let out = Command::new("dbus-send")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.SearchItems",
            &format!("dict:string:string:service,ringlet,username,{account}"),
        ])
        .output()
        .expect("dbus-send runs (package dbus)");
    assert!(
        out.status.success(),
        "SearchItems failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("object path \"/org/freedesktop/secrets/collection/"))
        .count()
}

/// Removes the named keys from the keychain when dropped, so a failing test leaves nothing
/// behind in a real keyring. It uses a sandbox of its own with the default (`system`)
/// backend, whatever the test did to its own configuration.
#[derive(Debug)]
pub struct Cleanup {
    sb: Sandbox,
    keys: Vec<(String, String)>,
}

impl Cleanup {
    /// Nothing to clean yet.
    pub fn new(bus: &OsString) -> Self {
        Self {
            sb: keychain_sandbox(bus),
            keys: Vec::new(),
        }
    }

    /// Removes `provider/alias` at the end.
    pub fn add(&mut self, provider: &str, alias: &str) {
        self.keys.push((provider.to_string(), alias.to_string()));
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (provider, alias) in &self.keys {
            let _ = self
                .sb
                .command(["keychain", "remove", provider.as_str(), alias.as_str()])
                .output();
        }
    }
}
