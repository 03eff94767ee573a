//! Hooks end to end: the built `ringlet` binary, real Claude Code against the fake model API,
//! a local webhook receiver, the fake agent for `start`/`stop`, and scheduled hooks across
//! concurrent processes.

mod claude;
mod cli;
mod droid;
mod gemini;
mod opencode;
mod receiver;
mod scheduled;

use std::path::Path;
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Run, Sandbox, fake_agent_bin};

/// The key used throughout; it must never reach a hook or any output.
pub const KEY: &str = "sk-test-hooks-canary-7e21";

/// A sandbox with a codex profile `work` that runs the fake agent (for launcher events and
/// dispatch tests that need no real agent).
pub fn sandbox_with_fake_profile() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb.run([
        "profiles",
        "create",
        "codex",
        "work",
        "--provider",
        "openai",
        "--model",
        "gpt-test",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok();
    sb
}

/// Adds a hook and returns its id.
pub fn add_hook(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["hooks", "add"];
    all.extend_from_slice(args);
    let run = sb.run(&all).ok();
    run.stdout.trim().to_string()
}

/// A fake API whose scripted tool calls go only to requests that offer tools (agents' side
/// calls, such as titles, must not take them).
pub fn tool_api() -> ringlet_tests::FakeApi {
    ringlet_tests::FakeApi::start_with(ringlet_tests::FakeApiConfig {
        script_only_tool_requests: true,
        ..ringlet_tests::FakeApiConfig::default()
    })
    .expect("fake API")
}

/// The audit recipe of docs/hooks.md on profile `work`: one JSON line per tool call, appended to
/// the returned file.
pub fn add_audit_hook(sb: &Sandbox) -> std::path::PathBuf {
    let audit = sb.root().join("audit.jsonl");
    add_hook(
        sb,
        &[
            "work",
            "--on",
            "tool-use",
            "--shell",
            &format!("{{ cat; echo; }} >> '{}'", audit.display()),
        ],
    );
    audit
}

/// A `pre-tool-use` shell hook on profile `work` that denies any `matcher` tool call whose input
/// mentions `rm -rf`; returns its id.
pub fn add_rm_rf_guard(sb: &Sandbox, matcher: &str) -> String {
    add_hook(
        sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--matcher",
            matcher,
            "--shell",
            r#"case "$RINGLET_TOOL_INPUT" in *"rm -rf"*) echo "rm -rf is blocked on profile $RINGLET_PROFILE" >&2; exit 1 ;; esac"#,
        ],
    )
}

/// Runs `ringlet hooks dispatch` the way an agent's hook does: JSON on stdin.
pub fn dispatch(sb: &Sandbox, profile: &str, event: &str, stdin: &str) -> Run {
    use std::io::Write;
    let mut child = sb
        .command(["hooks", "dispatch", "--profile", profile, "--event", event])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("writes stdin");
    child.wait_with_output().expect("ringlet ends").into()
}

/// Waits until `path` holds at least `lines` lines (detached hooks finish on their own time).
pub fn wait_lines(path: &Path, lines: usize, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_string).collect();
        if got.len() >= lines || Instant::now() >= deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `cmd` (stdout and stderr captured), killing it and failing the test if it has not
/// ended within `limit` — for inputs that would otherwise run forever.
pub fn run_bounded(cmd: &mut std::process::Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("waits").is_some() {
            return child.wait_with_output().expect("ringlet ends").into();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
