//! Real Droid (Factory) against the fake model API. Droid's hooks follow Claude Code's format,
//! so its config script wires the same callback into `~/.factory/settings.json`.
//!
//! Skips when Droid is not installed, unless `RINGLET_E2E_REQUIRED=1`.

use std::time::Duration;

use ringlet_tests::Reply;
use serde_json::{Value, json};

use crate::claude::{agent_bin_dir, agent_sandbox, tool_results};
use crate::{KEY, add_audit_hook, add_rm_rf_guard, tool_api, wait_lines};

#[test]
fn a_pre_tool_use_hook_stops_rm_rf_inside_droid() {
    let Some(bin) = agent_bin_dir("droid") else {
        return;
    };
    let api = tool_api();
    let sb = agent_sandbox("droid", "anthropic", &api, &bin);
    let victim = sb.root().join("victim");
    std::fs::create_dir_all(&victim).expect("victim");
    let audit = add_audit_hook(&sb);
    let guard = add_rm_rf_guard(&sb, "Execute");
    // Droid's shell tool is `Execute`, and it insists on a risk level.
    api.push_reply(Reply::ToolUse {
        name: "Execute".into(),
        input: json!({
            "command": format!("rm -rf {}", victim.display()),
            "riskLevel": "high",
            "riskLevelReason": "deletes a directory"
        }),
    });
    let out = sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "exec",
        "--auto",
        "high",
        "Delete the victim directory.",
    ]);
    assert_eq!(out.code, 0, "droid failed:\n{}\n{}", out.stdout, out.stderr);
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
        (Some("droid"), Some("Execute"))
    );
    assert_eq!(denied["tool_error"], true);
}
