//! Real Claude Code (installed by tests/install-agents.sh) against the fake model API: the
//! model asks for `rm -rf <dir>` through the Bash tool, and ringlet's hooks — wired into the
//! profile's `.claude/settings.json` — decide inside the real agent.
//!
//! Skips when Claude Code is not installed, unless `RINGLET_E2E_REQUIRED=1`.

use std::path::PathBuf;
use std::time::Duration;

use ringlet_tests::harness::Sandbox;
use ringlet_tests::{FakeApi, RecordedRequest, Reply, agents_bin_dir};
use serde_json::{Value, json};

use crate::{KEY, add_audit_hook, add_hook, add_rm_rf_guard, tool_api, wait_lines};

/// The directory holding the installed `binary`, or `None` (the test then skips) — unless
/// `RINGLET_E2E_REQUIRED=1`, when a missing agent fails the test.
pub fn agent_bin_dir(binary: &str) -> Option<PathBuf> {
    let dir = agents_bin_dir().filter(|d| d.join(binary).exists());
    if dir.is_none() {
        assert!(
            std::env::var_os("RINGLET_E2E_REQUIRED").is_none_or(|v| v != "1"),
            "RINGLET_E2E_REQUIRED=1 but {binary} is not installed; run `bash tests/install-agents.sh`"
        );
        eprintln!("skipping: {binary} is not installed (run `bash tests/install-agents.sh`)");
    }
    dir
}

fn claude_bin_dir() -> Option<PathBuf> {
    agent_bin_dir("claude")
}

fn claude_sandbox(api: &FakeApi, bin: &std::path::Path) -> Sandbox {
    agent_sandbox("claude", "anthropic", api, bin)
}

/// A sandbox with an `agent` profile `work` on `provider`'s wire format pointed at `api`,
/// starting in `<root>/project`, with `bin` first on PATH.
pub fn agent_sandbox(agent: &str, provider: &str, api: &FakeApi, bin: &std::path::Path) -> Sandbox {
    let mut sb = Sandbox::new();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let project = sb.root().join("project");
    std::fs::create_dir_all(&project).expect("project dir");
    sb.env("PATH", path).env("TEST_KEY", KEY);
    sb.run([
        "profiles",
        "create",
        agent,
        "work",
        "--provider",
        provider,
        "--custom-endpoint",
        &api.base_url(),
        "--model",
        "fake-model",
        "--key-from-env",
        "TEST_KEY",
        "--working-dir",
        project.to_str().expect("utf-8"),
    ])
    .ok();
    sb
}

fn rm_reply(victim: &std::path::Path) -> Reply {
    Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": format!("rm -rf {}", victim.display()), "description": "Delete the directory"}),
    }
}

/// The `tool_result` blocks of the last generation request (the one after the tool call).
pub fn tool_results(requests: &[RecordedRequest]) -> Vec<Value> {
    requests
        .iter()
        .rev()
        .filter(|r| r.is_generation())
        .find_map(|r| {
            let messages = r.body["messages"].as_array()?;
            let results: Vec<Value> = messages
                .iter()
                .filter_map(|m| m["content"].as_array())
                .flatten()
                .filter(|b| b["type"] == "tool_result")
                .cloned()
                .collect();
            (!results.is_empty()).then_some(results)
        })
        .unwrap_or_default()
}

fn run_claude(sb: &Sandbox) -> ringlet_tests::harness::Run {
    sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "-p",
        "Delete the victim directory.",
        "--allowedTools",
        "Bash",
    ])
}

#[test]
fn a_pre_tool_use_hook_stops_rm_rf_inside_claude_code_and_an_allow_lets_it_run() {
    let Some(bin) = claude_bin_dir() else { return };
    let api = tool_api();
    let sb = claude_sandbox(&api, &bin);
    let victim = sb.root().join("victim");
    std::fs::create_dir_all(victim.join("sub")).expect("victim");
    std::fs::write(victim.join("sub/data.txt"), "keep me").expect("victim file");

    // The audit recipe from docs/hooks.md: one JSON line per tool call.
    let audit = add_audit_hook(&sb);
    let guard = add_rm_rf_guard(&sb, "Bash");

    // 1. Denied: the directory survives and the model is told why.
    api.push_reply(rm_reply(&victim));
    let out = run_claude(&sb);
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(
        victim.join("sub/data.txt").is_file(),
        "the hook did not stop rm -rf"
    );
    let results = tool_results(&api.requests());
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["is_error"], true, "{results:?}");
    let content = results[0]["content"].to_string();
    assert!(
        content.contains(&format!("denied by ringlet hook {guard}")),
        "{content}"
    );
    assert!(
        content.contains("rm -rf is blocked on profile work"),
        "{content}"
    );
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));

    let lines = wait_lines(&audit, 1, Duration::from_secs(10));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let denied: Value = serde_json::from_str(&lines[0]).expect("audit line is JSON");
    assert_eq!(denied["event"], "tool-use");
    assert_eq!(denied["profile"], "work");
    assert_eq!(denied["agent"], "claude");
    assert_eq!(denied["tool"], "Bash");
    assert_eq!(denied["tool_error"], true);
    assert!(
        denied["tool_input"]
            .as_str()
            .is_some_and(|i| i.contains("rm -rf")),
        "{denied}"
    );
    assert!(
        denied["tool_result"]
            .as_str()
            .is_some_and(|r| r.contains("blocked")),
        "{denied}"
    );

    // 2. Allowed: with the guard replaced by one that lets everything through, the command runs.
    sb.run(["hooks", "remove", &guard]).ok();
    add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--matcher",
            "Bash",
            "--shell",
            "exit 0",
        ],
    );
    api.clear_requests();
    api.push_reply(rm_reply(&victim));
    let out = run_claude(&sb);
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(!victim.exists(), "allowed rm -rf did not run");
    let results = tool_results(&api.requests());
    assert_eq!(results.len(), 1, "{results:?}");
    assert_ne!(results[0]["is_error"], true, "{results:?}");

    let lines = wait_lines(&audit, 2, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    let lines_after = wait_lines(&audit, 3, Duration::from_millis(10));
    assert_eq!(lines, lines_after, "one audit line per tool call");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let ran: Value = serde_json::from_str(&lines[1]).expect("audit line is JSON");
    assert_eq!(ran["tool"], "Bash");
    assert!(ran.get("tool_error").is_none_or(|e| e == false), "{ran}");
    assert!(
        ran["tool_input"]
            .as_str()
            .is_some_and(|i| i.contains("rm -rf")),
        "{ran}"
    );

    // 3. A call that runs and fails is audited with its error (Claude's PostToolUseFailure).
    api.push_reply(Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": "ls /nonexistent-ringlet-dir", "description": "List"}),
    });
    let out = run_claude(&sb);
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    let lines = wait_lines(&audit, 3, Duration::from_secs(10));
    assert_eq!(lines.len(), 3, "{lines:?}");
    let failed: Value = serde_json::from_str(&lines[2]).expect("audit line is JSON");
    assert_eq!(failed["tool_error"], true, "{failed}");
    assert!(
        failed["tool_result"]
            .as_str()
            .is_some_and(|r| r.contains("nonexistent-ringlet-dir")),
        "{failed}"
    );
}

#[test]
fn a_rhai_gate_and_a_stop_hook_inside_claude_code() {
    let Some(bin) = claude_bin_dir() else { return };
    let api = tool_api();
    let sb = claude_sandbox(&api, &bin);
    let victim = sb.root().join("victim");
    std::fs::create_dir_all(&victim).expect("victim");
    let script = sb.root().join("guard.rhai");
    std::fs::write(
        &script,
        r#"fn on_pre_tool_use(ctx) {
            if ctx.tool == "Bash" && ctx.tool_input.contains("rm -rf") {
                return deny(`Rhai says no on ${ctx.profile}`);
            }
            allow()
        }"#,
    )
    .expect("script");
    let guard = add_hook(
        &sb,
        &[
            "work",
            "--on",
            "pre-tool-use",
            "--rhai",
            script.to_str().expect("utf-8"),
        ],
    );
    let stops = sb.root().join("stops.log");
    add_hook(
        &sb,
        &[
            "work",
            "--on",
            "stop",
            "--shell",
            &format!(
                r#"echo "$RINGLET_AGENT ${{RINGLET_DURATION_MS:+has-duration}}" >> '{}'"#,
                stops.display()
            ),
        ],
    );

    api.push_reply(rm_reply(&victim));
    let out = run_claude(&sb);
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(victim.is_dir());
    let content = tool_results(&api.requests())
        .first()
        .map(|r| r["content"].to_string())
        .unwrap_or_default();
    assert!(
        content.contains(&format!(
            "denied by ringlet hook {guard}: Rhai says no on work"
        )),
        "{content}"
    );
    // Claude's own Stop (end of the turn) fires `stop`; the launcher does not fire it again.
    let lines = wait_lines(&stops, 1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(wait_lines(&stops, 2, Duration::from_millis(10)), lines);
    assert_eq!(lines, ["claude has-duration"]);
}
