//! Agent state migration with the real Claude Code: a HOME populated by running it once against
//! the fake API (plus a CLAUDE.md and an MCP server added with `claude mcp add`) is imported
//! with `ringlet import claude --to ALIAS`; the profile's next run sends the CLAUDE.md in its
//! system prompt and lists the MCP server, and no credential came along.

use std::process::{Command, Stdio};

use ringlet_tests::FakeApi;

use crate::{
    ProfileSpec, agent_bin_dir, agent_sandbox, create_profile, generations, run_profile, tree,
};

const MEMORY: &str = "Always sign off as MARKER-IMPORTED-4412.";
const USER_KEY: &str = "sk-ant-user-own-key-0123456789abcdefghij";
const MCP_TOKEN: &str = "ghp_user_mcp_token_never_copied";

#[test]
fn claude_codes_state_follows_it_into_a_profile() {
    let Some(bin_dir) = agent_bin_dir("claude") else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let mut sb = agent_sandbox(&bin_dir);
    // The user's own HOME, where Claude Code ran before ringlet.
    let user_home = sb.root().join("user-home");
    let claude = bin_dir.join("claude");
    let out = Command::new(&claude)
        .args(["-p", "Reply with the word pong."])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &user_home)
        .env("ANTHROPIC_BASE_URL", api.base_url())
        .env("ANTHROPIC_API_KEY", USER_KEY)
        .env("ANTHROPIC_MODEL", "claude-sonnet-5")
        .env("DISABLE_TELEMETRY", "1")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .current_dir(&user_home)
        .stdin(Stdio::null())
        .output()
        .expect("claude runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&claude)
        .args(["mcp", "add", "-s", "user", "userfiles", "-e"])
        .arg(format!("GITHUB_TOKEN={MCP_TOKEN}"))
        .args(["-e", "PLAIN=kept", "--", "/bin/true"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &user_home)
        .current_dir(&user_home)
        .stdin(Stdio::null())
        .output()
        .expect("claude mcp add runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(user_home.join(".claude/CLAUDE.md"), MEMORY).expect("CLAUDE.md");
    // A login that must never be copied.
    std::fs::write(
        user_home.join(".claude/.credentials.json"),
        r#"{"claudeAiOauth":{"accessToken":"sk-ant-oat-never"}}"#,
    )
    .expect("credentials");
    let before = tree(&user_home);
    let original = std::fs::read(user_home.join(".claude.json")).expect(".claude.json");

    create_profile(
        &mut sb,
        &ProfileSpec {
            agent: "claude",
            alias: "work",
            provider: "anthropic",
            base_url: api.base_url(),
            model: "claude-sonnet-5",
            key: "sk-e2e-claude-import-profile-key",
        },
    );

    // A dry run lists and writes nothing.
    let dry = sb
        .run(["import", "claude", "--to", "work", "--dry-run", "--json"])
        .ok()
        .json();
    let items = dry["state"]["items"].as_array().expect("items").clone();
    let action = |items: &[serde_json::Value], path: &str| {
        items
            .iter()
            .find(|i| i["path"] == path)
            .map(|i| i["action"].as_str().unwrap_or_default().to_string())
    };
    assert_eq!(
        action(&items, ".claude/CLAUDE.md").as_deref(),
        Some("copied"),
        "{dry}"
    );
    assert_eq!(
        action(&items, ".claude/.credentials.json").as_deref(),
        Some("skipped-credentials"),
        "{dry}"
    );
    assert!(
        !sb.profile_home("work").join(".claude/CLAUDE.md").exists(),
        "a dry run wrote the CLAUDE.md"
    );

    let done = sb
        .run(["import", "claude", "--to", "work", "--json"])
        .ok()
        .json();
    let items = done["state"]["items"].as_array().expect("items").clone();
    let claude_json = items
        .iter()
        .find(|i| i["path"] == ".claude.json")
        .expect(".claude.json imported");
    assert!(
        claude_json["stripped"].as_array().is_some_and(|s| s
            .iter()
            .any(|p| p == "mcpServers.userfiles.env.GITHUB_TOKEN")),
        "{done}"
    );
    assert!(
        done["summary"]["files_seen"].as_u64() >= Some(1),
        "the logs came too: {done}"
    );

    // The originals are untouched; nothing secret is in the profile HOME.
    assert_eq!(tree(&user_home), before);
    assert_eq!(
        std::fs::read(user_home.join(".claude.json")).expect("read"),
        original
    );
    let home = sb.profile_home("work");
    assert!(!home.join(".claude/.credentials.json").exists());
    for rel in tree(&home) {
        let path = home.join(&rel);
        if let Ok(text) = std::fs::read_to_string(&path) {
            for secret in [USER_KEY, MCP_TOKEN, "sk-ant-oat-never"] {
                assert!(!text.contains(secret), "{} holds {secret}", rel.display());
            }
        }
    }

    // The profile's next run sees the memory (in the system prompt) and the MCP server.
    api.clear_requests();
    let run = run_profile(&sb, "work", &["-p", "Reply with the word pong."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        generations(&api)
            .iter()
            .any(|r| r.body.to_string().contains("MARKER-IMPORTED-4412")),
        "the imported CLAUDE.md is not in any request"
    );
    let listed = run_profile(&sb, "work", &["mcp", "list"]);
    assert!(
        listed.stdout.contains("userfiles"),
        "the imported MCP server is not listed:\n{}\n{}",
        listed.stdout,
        listed.stderr
    );

    // Importing again keeps what the profile has: nothing is clobbered.
    std::fs::write(home.join(".claude/CLAUDE.md"), "edited in the profile").expect("edit");
    let again = sb
        .run(["import", "claude", "--to", "work", "--json"])
        .ok()
        .json();
    let items = again["state"]["items"].as_array().expect("items").clone();
    assert_eq!(
        action(&items, ".claude/CLAUDE.md").as_deref(),
        Some("skipped-exists"),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".claude/CLAUDE.md")).expect("read"),
        "edited in the profile"
    );
}
