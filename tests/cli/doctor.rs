//! `ringlet doctor`: a healthy home passes (warnings do not fail it), and each check is made to
//! fail once in an otherwise healthy home.

use std::path::{Path, PathBuf};

use ringlet_tests::harness::Sandbox;

/// `doctor --json`: the exit code and the report.
fn doctor(sb: &Sandbox) -> (i32, serde_json::Value) {
    let run = sb.run(["doctor", "--json"]);
    (run.code, run.json())
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

/// Asserts `doctor` fails because of `name`, whose detail mentions `says`, with a fix.
fn fails_on(sb: &Sandbox, name: &str, says: &str) -> serde_json::Value {
    let (code, report) = doctor(sb);
    let c = check(&report, name);
    assert_eq!(c["status"], "fail", "{name}: {c}");
    assert!(
        c["detail"].as_str().expect("detail").contains(says),
        "{name}: {c}"
    );
    assert!(
        c["fix"].as_str().is_some_and(|f| !f.is_empty()),
        "{name}: {c}"
    );
    assert_eq!(report["healthy"], false);
    assert_eq!(code, 1, "doctor exits 1 when a check fails");
    report
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A home with a profile `work` (the fake agent as its binary) and a ledger.
fn home() -> Sandbox {
    let mut sb = crate::sandbox_with_profile();
    sb.env("TEST_KEY", crate::KEY);
    sb.run(["usage", "sync"]).ok();
    sb
}

/// PATH with only `bin` (holding a `claude` that reports the tested version) and the
/// directories of the tools the checks look for (bwrap).
fn path_with_tested_claude(sb: &Sandbox) -> PathBuf {
    let bin = sb.root().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let claude = bin.join("claude");
    let tested = ringlet::TESTED_VERSIONS
        .iter()
        .find(|(id, _)| *id == "claude")
        .expect("claude")
        .1;
    write(
        &claude,
        &format!("#!/bin/sh\necho '{tested} (Claude Code)'\n"),
    );
    #[cfg(unix)]
    chmod(&claude, 0o755);
    bin
}

fn healthy_path(sb: &Sandbox) -> std::ffi::OsString {
    let bin = path_with_tested_claude(sb);
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH")
}

#[test]
fn a_healthy_home_passes_with_warnings_only() {
    let mut sb = home();
    let path = healthy_path(&sb);
    sb.env("PATH", path);
    let (code, report) = doctor(&sb);
    for c in report["checks"].as_array().expect("checks") {
        assert_ne!(c["status"], "fail", "{c}");
        if c["status"] == "warn" {
            assert!(c["fix"].is_string(), "a warning says what to do: {c}");
        }
    }
    assert_eq!(
        (code, &report["healthy"]),
        (0, &serde_json::Value::Bool(true))
    );
    let claude = check(&report, "agent:claude");
    assert_eq!(claude["status"], "ok", "{claude}");
    assert!(
        claude["detail"]
            .as_str()
            .expect("d")
            .contains("the tested version"),
        "{claude}"
    );
    assert!(
        check(&report, "ledger")["detail"]
            .as_str()
            .expect("d")
            .contains("integrity_check")
    );
    for name in [
        "credentials",
        "permissions",
        "pricing",
        "registry",
        "sandbox",
        "shims",
        "server",
        "manifests",
    ] {
        check(&report, name);
    }
    // The table: one line per check, the fix under each problem, a summary.
    let run = sb.run(["doctor"]).ok();
    assert!(run.stdout.contains("agent:claude"), "{}", run.stdout);
    assert!(run.stdout.contains("failed."), "{}", run.stdout);
}

#[test]
fn an_agent_a_profile_uses_but_not_on_path_fails() {
    let mut sb = home();
    let empty = sb.root().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    sb.env("PATH", &empty);
    fails_on(&sb, "agent:claude", "not found on PATH; 1 profile uses it");
}

#[test]
fn an_untested_agent_version_warns() {
    let mut sb = home();
    let bin = sb.root().join("bin");
    write(
        &bin.join("claude"),
        "#!/bin/sh\necho '0.0.1 (Claude Code)'\n",
    );
    #[cfg(unix)]
    chmod(&bin.join("claude"), 0o755);
    sb.env("PATH", &bin);
    let (_, report) = doctor(&sb);
    let c = check(&report, "agent:claude");
    assert_eq!(c["status"], "warn", "{c}");
    assert!(
        c["detail"].as_str().expect("d").contains("tested with"),
        "{c}"
    );
}

#[test]
fn a_keychain_that_cannot_be_reached_fails_with_system_only() {
    let sb = home();
    write(
        &sb.ringlet_home().join("config/config.toml"),
        "[credentials]\nbackend = \"system-only\"\n",
    );
    fails_on(&sb, "credentials", "keychain");
}

#[cfg(unix)]
#[test]
fn a_credentials_file_others_can_read_fails() {
    let sb = home();
    let creds = sb.ringlet_home().join("config/credentials.toml");
    write(&creds, "");
    chmod(&creds, 0o644);
    let report = fails_on(&sb, "permissions", "mode 644");
    let fix = check(&report, "permissions")["fix"]
        .as_str()
        .expect("fix")
        .to_string();
    assert!(fix.contains("chmod 600"), "{fix}");
}

#[cfg(unix)]
#[test]
fn a_profile_home_others_can_read_warns() {
    let sb = home();
    chmod(&sb.profile_home("work"), 0o755);
    let (_, report) = doctor(&sb);
    let c = check(&report, "permissions");
    assert_eq!(c["status"], "warn", "{c}");
    assert!(c["fix"].as_str().expect("fix").contains("chmod 700"), "{c}");
}

#[test]
fn a_damaged_ledger_fails() {
    let sb = home();
    let db = sb.ringlet_home().join("data/usage.db");
    assert!(db.exists(), "usage sync made the ledger");
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(db.with_file_name(format!("usage.db{suffix}")));
    }
    std::fs::write(&db, vec![b'x'; 8192]).expect("garble");
    fails_on(&sb, "ledger", "usage.db");
}

#[test]
fn a_broken_price_snapshot_fails() {
    let sb = home();
    write(
        &sb.ringlet_home().join("cache/pricing/litellm.json"),
        "{not json",
    );
    fails_on(&sb, "pricing", "litellm.json");
}

#[test]
fn the_sandbox_fails_when_a_profile_needs_it_and_bwrap_is_missing() {
    let mut sb = home();
    sb.run(["profiles", "set", "work", "--sandbox", "always"])
        .ok();
    let bin = path_with_tested_claude(&sb);
    sb.env("PATH", &bin);
    fails_on(&sb, "sandbox", "bwrap");
}

#[test]
fn shims_warn_until_their_directory_is_on_path() {
    let mut sb = home();
    let (_, report) = doctor(&sb);
    assert_eq!(check(&report, "shims")["status"], "warn");
    let shims = sb.root().join("user-home/.local/bin");
    let mut dirs = vec![shims];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    sb.env("PATH", std::env::join_paths(dirs).expect("PATH"));
    let (_, report) = doctor(&sb);
    assert_eq!(check(&report, "shims")["status"], "ok", "{report}");
}

#[cfg(unix)]
#[test]
fn a_server_token_others_can_read_fails() {
    let sb = home();
    let token = sb.ringlet_home().join("config/http_token");
    write(&token, &"a".repeat(64));
    chmod(&token, 0o644);
    fails_on(&sb, "server", "other users can read the server's token");
}
