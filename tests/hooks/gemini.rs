//! Real Gemini CLI against the fake model API. Its hooks (BeforeTool, AfterTool, AfterAgent)
//! take the same JSON on stdin and block on exit 2, so its config script wires ringlet in.
//!
//! Skips when Gemini CLI is not installed, unless `RINGLET_E2E_REQUIRED=1`.

use std::time::Duration;

use ringlet_tests::Reply;
use serde_json::{Value, json};

use crate::claude::{agent_bin_dir, agent_sandbox};
use crate::{KEY, add_audit_hook, add_hook, add_rm_rf_guard, tool_api, wait_lines};

#[test]
fn a_pre_tool_use_hook_stops_rm_rf_inside_gemini_cli() {
    let Some(bin) = agent_bin_dir("gemini") else {
        return;
    };
    let api = tool_api();
    let sb = agent_sandbox("gemini", "google", &api, &bin);
    let victim = sb.root().join("victim");
    std::fs::create_dir_all(&victim).expect("victim");
    let audit = add_audit_hook(&sb);
    let stops = sb.root().join("stops.log");
    add_hook(
        &sb,
        &[
            "work",
            "--on",
            "stop",
            "--shell",
            &format!(r#"echo "$RINGLET_AGENT" >> '{}'"#, stops.display()),
        ],
    );
    let guard = add_rm_rf_guard(&sb, "run_shell_command");
    api.push_reply(Reply::ToolUse {
        name: "run_shell_command".into(),
        input: json!({"command": format!("rm -rf {}", victim.display())}),
    });
    // --yolo: one-shot mode offers the shell tool only when tool calls need no approval.
    let out = sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "-p",
        "Delete the victim directory.",
        "--yolo",
    ]);
    assert_eq!(
        out.code, 0,
        "gemini failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(victim.is_dir(), "the hook did not stop rm -rf");
    let responses: Vec<Value> = api
        .requests()
        .iter()
        .filter_map(|r| r.body["contents"].as_array().cloned())
        .flatten()
        .filter_map(|c| c["parts"].as_array().cloned())
        .flatten()
        .filter(|p| p.get("functionResponse").is_some())
        .collect();
    assert!(
        !responses.is_empty(),
        "no function response reached the model"
    );
    let said = responses.last().map(|r| r.to_string()).unwrap_or_default();
    assert!(
        said.contains(&format!(
            "denied by ringlet hook {guard}: rm -rf is blocked on profile work"
        )),
        "{said}"
    );
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));

    let lines = wait_lines(&audit, 1, Duration::from_secs(10));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let denied: Value = serde_json::from_str(&lines[0]).expect("audit line is JSON");
    assert_eq!(
        (denied["agent"].as_str(), denied["tool"].as_str()),
        (Some("gemini"), Some("run_shell_command"))
    );
    assert_eq!(denied["tool_error"], true);
    // Gemini's AfterAgent (end of turn) fired `stop`; the launcher did not fire it again.
    let lines = wait_lines(&stops, 1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(wait_lines(&stops, 2, Duration::from_millis(10)), lines);
    assert_eq!(lines, ["gemini"]);
}
