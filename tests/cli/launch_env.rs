//! What reaches an agent and its hooks: an agent gets only its own key, in its own variable;
//! no hook — fired by the launcher or by the agent through `hooks dispatch` — gets any key.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Sandbox, fake_agent_bin, read_record};

const KEY_A: &str = "sk-env-backend-key-a-5f0c2e";
const KEY_B: &str = "sk-env-backend-key-b-91d7aa";

/// A Claude Code tool call as its PreToolUse hook receives it.
const TOOL_CALL: &str =
    r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls"}}"#;

/// Waits for a detached hook's file to be complete (it ends with the marker line).
fn wait_for(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains("END-OF-ENV") || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Adds a shell hook on `profile` that dumps its environment into `<root>/<name>.env`.
fn env_dump_hook(sb: &Sandbox, profile: &str, event: &str, name: &str) -> PathBuf {
    let file = sb.root().join(format!("{name}.env"));
    sb.run([
        "hooks",
        "add",
        profile,
        "--on",
        event,
        "--shell",
        &format!("{{ env; echo END-OF-ENV; }} > '{}'", file.display()),
    ])
    .ok();
    file
}

fn assert_no_key(what: &str, text: &str, keys: &[&str]) {
    assert!(
        !text.contains("RINGLET_KEY_"),
        "{what} got a RINGLET_KEY_* variable:\n{text}"
    );
    for key in keys {
        assert!(!text.contains(key), "{what} got a key:\n{text}");
    }
}

#[test]
fn the_env_backend_gives_an_agent_only_its_own_key_and_its_hooks_none() {
    let mut sb = Sandbox::new();
    std::fs::create_dir_all(sb.ringlet_home().join("config")).expect("config dir");
    std::fs::write(
        sb.ringlet_home().join("config/config.toml"),
        "[credentials]\nbackend = \"env\"\n",
    )
    .expect("config");
    sb.env("RINGLET_KEY_ANTHROPIC_A", KEY_A)
        .env("RINGLET_KEY_OPENAI_B", KEY_B);
    let fake = fake_agent_bin().to_str().expect("utf-8 path");
    sb.run([
        "profiles",
        "create",
        "claude",
        "a",
        "--provider",
        "anthropic",
        "--model",
        "claude-test-1",
        "--binary",
        fake,
    ])
    .ok();
    let started = env_dump_hook(&sb, "a", "start", "start");
    let gated = env_dump_hook(&sb, "a", "pre-tool-use", "pre-tool-use");
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record);

    let out = sb.run([
        "profiles",
        "run",
        "a",
        "--",
        "--claude-hook",
        "PreToolUse",
        TOOL_CALL,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rec = read_record(&record);
    assert_eq!(rec["hook_exit"], serde_json::json!([0]), "the gate allowed");
    let env = rec["env"].as_object().expect("env");
    assert_eq!(
        env["ANTHROPIC_API_KEY"], KEY_A,
        "the agent gets its own key"
    );
    let leaked: Vec<&String> = env
        .keys()
        .filter(|k| k.starts_with("RINGLET_KEY_"))
        .collect();
    assert!(
        leaked.is_empty(),
        "RINGLET_KEY_* reached the agent: {leaked:?}"
    );
    assert!(
        !env.values().any(|v| v == KEY_B),
        "another profile's key reached the agent"
    );

    // A launcher-fired hook (start) and an agent-fired one (pre-tool-use via hooks dispatch).
    assert_no_key("the start hook", &wait_for(&started), &[KEY_A, KEY_B]);
    assert_no_key("the pre-tool-use hook", &wait_for(&gated), &[KEY_A, KEY_B]);
}

/// A user config script for Claude Code that puts the key in its own variable and still wires
/// the pre-tool-use gate.
fn script_with_key_env(var: &str) -> String {
    format!(
        r#"fn configure(ctx) {{
    let hooks = #{{}};
    if ctx.hook_gate_command != "" {{
        hooks.PreToolUse = [#{{ matcher: "", hooks: [#{{ type: "command", command: ctx.hook_gate_command }}] }}];
    }}
    #{{
        key_env: "{var}",
        env: #{{ ANTHROPIC_BASE_URL: ctx.base_url }},
        files: [#{{ path: ".claude/settings.json", merge: "merge", json: #{{ hooks: hooks }} }}],
    }}
}}
"#
    )
}

/// A claude profile `work` on the fake agent with a user config script; the key is given to
/// `profiles create` alone, so no other variable of the runs holds it.
fn sandbox_with_script(key_env: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    let create = sb
        .command([
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
        .env("TEST_KEY", crate::KEY)
        .output()
        .expect("ringlet starts");
    assert!(create.status.success(), "{create:?}");
    let scripts = sb.ringlet_home().join("config/scripts");
    std::fs::create_dir_all(&scripts).expect("scripts dir");
    std::fs::write(scripts.join("claude.rhai"), script_with_key_env(key_env)).expect("script");
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record);
    sb
}

#[test]
fn a_config_scripts_key_variable_reaches_the_agent_but_no_hook() {
    let sb = sandbox_with_script("MY_AGENT_KEY");
    let started = env_dump_hook(&sb, "work", "start", "start");
    let gated = env_dump_hook(&sb, "work", "pre-tool-use", "pre-tool-use");
    let out = sb.run([
        "profiles",
        "run",
        "work",
        "--",
        "--claude-hook",
        "PreToolUse",
        TOOL_CALL,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rec = read_record(&sb.root().join("record.json"));
    assert_eq!(rec["env"]["MY_AGENT_KEY"], crate::KEY);
    assert_eq!(rec["hook_exit"], serde_json::json!([0]), "the gate allowed");
    let pre = wait_for(&gated);
    assert_no_key("the pre-tool-use hook", &pre, &[crate::KEY]);
    assert!(!pre.contains("MY_AGENT_KEY="), "{pre}");
    assert_no_key("the start hook", &wait_for(&started), &[crate::KEY]);
}

#[test]
fn a_key_variable_that_would_replace_home_path_or_a_planned_variable_is_refused() {
    for var in [
        "HOME",
        "PATH",
        "ANTHROPIC_BASE_URL",
        "RINGLET_PROFILE",
        "BAD-NAME",
    ] {
        let sb = sandbox_with_script(var);
        let out = sb.run(["profiles", "run", "work"]);
        let out = out.fails_with(var);
        assert!(out.stderr.contains("claude.rhai"), "{}", out.stderr);
        assert!(
            !sb.root().join("record.json").exists(),
            "the agent started with key_env {var}"
        );
        assert!(!out.stderr.contains(crate::KEY));
    }
}

#[test]
fn claude_code_gets_its_key_approved_at_launch_and_the_plan_holds_no_part_of_it() {
    let sb = crate::sandbox_with_profile();
    let suffix = &crate::KEY[crate::KEY.len() - 20..];
    let home = sb.profile_home("work");
    // A profile whose user once answered "No" to Claude Code's key question.
    std::fs::write(
        home.join(".claude.json"),
        serde_json::json!({
            "numStartups": 2,
            "customApiKeyResponses": {"approved": [], "rejected": [suffix]},
        })
        .to_string(),
    )
    .expect("a refused key");
    let plan = sb.run(["profiles", "env", "work", "--json"]).ok();
    assert!(
        !plan.stdout.contains(suffix),
        "the plan holds part of the key"
    );
    assert!(
        plan.stdout.contains("{{ringlet:api_key_suffix}}"),
        "{}",
        plan.stdout
    );

    sb.run(["profiles", "run", "work"]).ok();
    let claude_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(home.join(".claude.json")).expect(".claude.json"),
    )
    .expect("JSON");
    assert_eq!(
        claude_json["customApiKeyResponses"],
        serde_json::json!({"approved": [suffix], "rejected": []})
    );
    assert_eq!(
        claude_json["numStartups"], 2,
        "the agent's own state is kept"
    );
    assert_eq!(claude_json["hasCompletedOnboarding"], true);
}
