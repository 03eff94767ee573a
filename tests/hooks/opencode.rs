//! Real OpenCode against the fake model API. OpenCode has no hook commands but plugins: its
//! config script writes a small plugin that runs ringlet's callbacks around every tool call.
//!
//! Skips when OpenCode is not installed, unless `RINGLET_E2E_REQUIRED=1`.

use std::time::Duration;

use ringlet_tests::Reply;
use serde_json::{Value, json};

use crate::claude::{agent_bin_dir, agent_sandbox, tool_results};
use crate::{KEY, add_audit_hook, add_rm_rf_guard, tool_api, wait_lines};

#[test]
fn a_pre_tool_use_hook_stops_rm_rf_inside_opencode() {
    let Some(bin) = agent_bin_dir("opencode") else {
        return;
    };
    // OpenCode's tool-less title call must not take the scripted tool call.
    let api = tool_api();
    let sb = agent_sandbox("opencode", "anthropic", &api, &bin);
    let victim = sb.root().join("victim");
    std::fs::create_dir_all(&victim).expect("victim");
    let audit = add_audit_hook(&sb);
    let guard = add_rm_rf_guard(&sb, "bash");
    api.push_reply(Reply::ToolUse {
        name: "bash".into(),
        input: json!({"command": format!("rm -rf {}", victim.display()), "description": "Delete the directory"}),
    });
    let out = sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "run",
        "Delete the victim directory.",
    ]);
    assert_eq!(
        out.code, 0,
        "opencode failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(victim.is_dir(), "the hook did not stop rm -rf");
    let results = tool_results(&api.requests());
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["is_error"], true, "{results:?}");
    let content = results[0]["content"].to_string();
    assert!(
        content.contains(&format!(
            "denied by ringlet hook {guard}: rm -rf is blocked on profile work"
        )),
        "{content}"
    );
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));

    let lines = wait_lines(&audit, 1, Duration::from_secs(10));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let denied: Value = serde_json::from_str(&lines[0]).expect("audit line is JSON");
    assert_eq!(
        (denied["agent"].as_str(), denied["tool"].as_str()),
        (Some("opencode"), Some("bash"))
    );
    assert_eq!(denied["tool_error"], true);

    // An allowed call runs, and the plugin reports it with its input and output.
    api.push_reply(Reply::ToolUse {
        name: "bash".into(),
        input: json!({"command": "touch made.txt", "description": "Touch a file"}),
    });
    let out = sb.run(["profiles", "run", "work", "--", "run", "Touch a file."]);
    assert_eq!(
        out.code, 0,
        "opencode failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(
        sb.root().join("project/made.txt").is_file(),
        "the allowed command did not run: {:?}",
        tool_results(&api.requests())
    );
    let lines = wait_lines(&audit, 2, Duration::from_secs(10));
    assert_eq!(lines.len(), 2, "{lines:?}");
    let ran: Value = serde_json::from_str(&lines[1]).expect("audit line is JSON");
    assert_eq!(ran["tool"], "bash");
    assert!(ran.get("tool_error").is_none(), "{ran}");
    assert!(
        ran["tool_input"]
            .as_str()
            .is_some_and(|i| i.contains("touch")),
        "{ran}"
    );
}
