//! The real Claude Code inside ringlet's sandbox (bwrap), against the fake model API: it completes
//! a request, and its tool calls still go through ringlet's `pre-tool-use` gate — `ringlet hooks
//! dispatch` runs from inside the sandbox and reaches the rules — so a deny still blocks, and an
//! allow lets the same call run (the sandbox is not what stopped it), while a call that reads
//! the user's SSH key finds nothing.
//!
//! The installation lives outside `/tmp` (see `harness::outside_tmp`): under it, the sandbox's
//! fresh `/tmp` would hide the user HOME whatever the policy said.
//!
//! Skips when Claude Code is not installed, unless `RINGLET_E2E_REQUIRED=1`.

use std::path::{Path, PathBuf};

use ringlet_tests::harness::{Run, Sandbox, outside_tmp};
use ringlet_tests::{FakeApi, FakeApiConfig, RecordedRequest, Reply};
use serde_json::{Value, json};

use crate::{ProfileSpec, agent_bin_dir, agent_sandbox_from, create_profile, finish};

const KEY: &str = "sk-ant-api03-e2e-sandboxed-Hk3Lp9Qr2Ws7Xz4Nm8Bv1";
const ANSWER: &str = "FAKE-MODEL-SANDBOXED-5120";
/// The user's SSH key; no tool call may see it.
const SSH_KEY: &str = "ssh-key-canary-0b7e-not-for-the-agent";

/// A profile `work` on the fake API whose tool calls run through `hooks`; the project (the
/// workspace) is `<root>/project`, outside the user HOME, which has `~/.ssh/id_ed25519`.
fn setup(bin: &Path, api: &FakeApi) -> (Sandbox, PathBuf) {
    let mut sb = agent_sandbox_from(Sandbox::new_in(&outside_tmp()), bin);
    let ssh = sb.root().join("user-home/.ssh");
    std::fs::create_dir_all(&ssh).expect(".ssh");
    std::fs::write(ssh.join("id_ed25519"), SSH_KEY).expect("ssh key");
    create_profile(
        &mut sb,
        &ProfileSpec {
            agent: "claude",
            alias: "work",
            provider: "anthropic",
            base_url: api.base_url(),
            model: "claude-test-1",
            key: KEY,
        },
    );
    let project = sb.root().join("project");
    std::fs::create_dir_all(&project).expect("project");
    (sb, project)
}

/// `ringlet profiles run work --sandbox -- -p PROMPT --allowedTools Bash`, from the project.
fn run_sandboxed(sb: &Sandbox, project: &Path, prompt: &str) -> Run {
    let child = sb
        .command([
            "profiles",
            "run",
            "work",
            "--sandbox",
            "--",
            "-p",
            prompt,
            "--allowedTools",
            "Bash",
        ])
        .current_dir(project)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    finish(child, "sandboxed claude")
}

fn add_hook(sb: &Sandbox, args: &[&str]) -> String {
    let mut all = vec!["hooks", "add", "work"];
    all.extend_from_slice(args);
    sb.run(&all).ok().stdout.trim().to_string()
}

/// The `tool_result` blocks of the last generation request that carries any.
fn tool_results(requests: &[RecordedRequest]) -> Vec<Value> {
    requests
        .iter()
        .rev()
        .filter(|r| r.is_generation())
        .find_map(|r| {
            let results: Vec<Value> = r.body["messages"]
                .as_array()?
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

fn rm_rf(victim: &Path) -> Reply {
    Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": format!("rm -rf {}", victim.display()), "description": "Delete it"}),
    }
}

#[test]
fn sandboxed_claude_code_answers_and_a_pre_tool_use_deny_still_blocks_its_tool_call() {
    let Some(bin) = agent_bin_dir("claude") else {
        return;
    };
    let api = FakeApi::start_with(FakeApiConfig {
        default_text: ANSWER.into(),
        script_only_tool_requests: true,
        ..FakeApiConfig::default()
    })
    .expect("fake API");
    let (sb, project) = setup(&bin, &api);
    // In the workspace, which the sandbox lets the agent write: only the gate can save it.
    let victim = project.join("victim");
    std::fs::create_dir_all(victim.join("sub")).expect("victim");
    std::fs::write(victim.join("sub/data.txt"), "keep me").expect("victim file");

    // 1. A plain request, sandboxed: answered, with the profile's key.
    let out = run_sandboxed(&sb, &project, "Say the magic word.");
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(
        out.stdout.contains(ANSWER),
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let requests = api.generation_requests();
    assert!(!requests.is_empty(), "no request reached the fake API");
    assert!(
        requests.iter().all(|r| r.api_key.as_deref() == Some(KEY)),
        "{:?}",
        requests.iter().map(|r| &r.api_key).collect::<Vec<_>>()
    );
    assert!(!out.stdout.contains(KEY) && !out.stderr.contains(KEY));

    // 2. A deny gate: the model's `rm -rf` is refused by ringlet, called from inside.
    let guard = add_hook(
        &sb,
        &[
            "--on",
            "pre-tool-use",
            "--matcher",
            "Bash",
            "--shell",
            r#"case "$RINGLET_TOOL_INPUT" in *"rm -rf"*) echo "rm -rf is blocked in the sandbox on $RINGLET_PROFILE" >&2; exit 1 ;; esac"#,
        ],
    );
    api.clear_requests();
    api.push_reply(rm_rf(&victim));
    let out = run_sandboxed(&sb, &project, "Delete the victim directory.");
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    assert!(
        victim.join("sub/data.txt").is_file(),
        "the gate did not stop rm -rf inside the sandbox"
    );
    let results = tool_results(&api.requests());
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["is_error"], true, "{results:?}");
    let content = results[0]["content"].to_string();
    assert!(
        content.contains(&format!("denied by ringlet hook {guard}"))
            && content.contains("rm -rf is blocked in the sandbox on work"),
        "the deny did not come from ringlet's gate: {content}"
    );

    // 3. The gate replaced by one that allows: the same call runs, inside the sandbox. So in 2
    //    it was the gate, reached from inside, that said no — not a sandbox refusing the call.
    sb.run(["hooks", "remove", &guard]).ok();
    add_hook(
        &sb,
        &[
            "--on",
            "pre-tool-use",
            "--matcher",
            "Bash",
            "--shell",
            "exit 0",
        ],
    );
    api.clear_requests();
    api.push_reply(rm_rf(&victim));
    let out = run_sandboxed(&sb, &project, "Delete the victim directory.");
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    let results = tool_results(&api.requests());
    assert_eq!(results.len(), 1, "{results:?}");
    assert_ne!(results[0]["is_error"], true, "{results:?}");
    assert!(!victim.exists(), "the allowed rm -rf did not run");

    // 4. The tool calls run inside the sandbox: reading the user's SSH key finds nothing.
    let key_file = sb.root().join("user-home/.ssh/id_ed25519");
    api.clear_requests();
    api.push_reply(Reply::ToolUse {
        name: "Bash".into(),
        input: json!({"command": format!("cat {}", key_file.display()), "description": "Read it"}),
    });
    let out = run_sandboxed(&sb, &project, "Show me the SSH key.");
    assert_eq!(
        out.code, 0,
        "claude failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    let results = tool_results(&api.requests());
    assert_eq!(results.len(), 1, "{results:?}");
    let content = results[0]["content"].to_string();
    assert!(
        !content.contains(SSH_KEY) && content.contains("No such file"),
        "the sandboxed tool call read the user's SSH key: {content}"
    );
    assert_eq!(std::fs::read_to_string(&key_file).expect("key"), SSH_KEY);
}
