//! Paths that cannot be handed to an agent exactly. An agent is given paths under ringlet's
//! directories in its environment (`HOME`, `TMPDIR`, `CODEX_HOME`), in JSON and TOML settings
//! (hook commands, trusted projects) and in Rhai config scripts, and all of those hold only
//! UTF-8: a path that is not would reach the agent changed (U+FFFD for each bad byte), so the
//! agent would keep its state, and its usage, somewhere ringlet never looks. ringlet refuses
//! such a path clearly instead.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use ringlet_tests::harness::{Run, Sandbox, fake_agent_bin};

use crate::KEY;

fn create_args() -> Vec<String> {
    [
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn a_non_utf8_ringlet_home_is_refused_and_no_agent_starts() {
    let mut sb = Sandbox::new();
    let home = sb.root().join(OsStr::from_bytes(b"ringlet-\xff-home"));
    sb.env("TEST_KEY", KEY).env("RINGLET_HOME", home.clone());
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", record.clone());

    let create = sb.run(create_args());
    let run = sb.run(["profiles", "run", "work", "--", "--claude-log", "1"]);
    // The same through --home, and through the launch shortcut's --home.
    let mut via_flag = sb.command(["--home".as_ref(), home.as_os_str(), "profiles".as_ref()]);
    via_flag.arg("list");
    let via_flag = Run::from(via_flag.output().expect("ringlet starts"));
    let mut shortcut = sb.command(["--home".as_ref(), home.as_os_str()]);
    shortcut.args(["profiles", "run", "work"]);
    let shortcut = Run::from(shortcut.output().expect("ringlet starts"));

    for out in [create, run, via_flag, shortcut] {
        let out = out.fails_with("is not valid UTF-8");
        assert!(out.stderr.contains("ringlet-\\xFF-home"), "{}", out.stderr);
        assert!(out.stderr.contains("RINGLET_HOME"), "{}", out.stderr);
    }
    assert!(!record.exists(), "no agent was started");
    assert!(!home.exists(), "nothing was created under it");
    let lossy = sb.root().join("ringlet-\u{FFFD}-home");
    assert!(!lossy.exists(), "nor under its lossy spelling");
}

#[test]
fn a_non_utf8_working_directory_is_refused_and_no_agent_starts() {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb.run(create_args()).ok();
    let record = sb.root().join("record.json");
    let cwd = sb.root().join(OsStr::from_bytes(b"project-\xfe"));
    std::fs::create_dir_all(&cwd).expect("cwd");
    let out = sb
        .command(["profiles", "run", "work"])
        .env("FAKE_AGENT_RECORD", &record)
        .current_dir(&cwd)
        .output()
        .expect("ringlet starts");
    let out = Run::from(out).fails_with("is not valid UTF-8");
    assert!(out.stderr.contains("project-\\xFE"), "{}", out.stderr);
    assert!(!record.exists(), "no agent was started");
    // A UTF-8 directory still works.
    let out = sb
        .command(["profiles", "run", "work"])
        .env("FAKE_AGENT_RECORD", &record)
        .output()
        .expect("ringlet starts");
    Run::from(out).ok();
    assert!(record.exists());
}
