//! `ringlet mcp`: MCP servers defined once, checked, listed and removed; at a run the agent's
//! config gets them (a reference to the secret) and its environment the secret itself.

use ringlet_tests::harness::read_record;

use crate::sandbox_with_profile;

const SECRET: &str = "mcp-cli-secret-3b7e91";

fn claude_json(sb: &ringlet_tests::harness::Sandbox) -> serde_json::Value {
    let text = std::fs::read_to_string(sb.profile_home("work").join(".claude.json"))
        .expect(".claude.json written");
    serde_json::from_str(&text).expect("json")
}

#[test]
fn mcp_servers_are_checked_listed_removed_and_their_secret_is_only_in_the_agents_environment() {
    let mut sb = sandbox_with_profile();
    sb.run(["mcp", "add", "bad name", "--", "x"])
        .fails_with("not a usable MCP server name");
    sb.run(["mcp", "add", "x"]).fails_with("give the command");
    sb.run(["mcp", "add", "x", "--url", "ftp://x/y"])
        .fails_with("http:// or https://");
    sb.run(["mcp", "add", "x", "--env", "NOEQ", "--", "x"])
        .fails_with("must be KEY=VALUE");
    sb.run(["mcp", "add", "x", "--env", "T=alias:", "--", "x"])
        .fails_with("does not name a stored secret");
    sb.run(["mcp", "add", "x", "--env", "HOME=alias:x", "--", "x"])
        .ok();
    sb.run(["profiles", "run", "work"])
        .fails_with("would replace HOME");
    sb.run(["mcp", "remove", "x"]).ok();
    sb.run(["mcp", "remove", "nope"])
        .fails_with("no MCP server named 'nope'");

    sb.run([
        "mcp",
        "add",
        "gh",
        "--env",
        "GH_TOKEN=alias:gh",
        "--env",
        "LEVEL=info",
        "--",
        "gh-mcp",
        "stdio",
    ])
    .ok();
    sb.run(["mcp", "add", "gh", "--", "other"])
        .fails_with("already exists");
    sb.run([
        "mcp",
        "add",
        "docs",
        "--url",
        "https://mcp.example.com/mcp",
        "--profile",
        "work",
    ])
    .ok();
    let list = sb.run(["mcp", "list", "--json"]).ok().json();
    let names: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(names, ["gh", "docs"], "{list}");
    assert_eq!(list[0]["scope"]["kind"], "global", "{list}");
    assert_eq!(list[1]["scope"]["profile"], "work", "{list}");
    let table = sb.run(["mcp", "list"]).ok().stdout;
    assert!(
        table.contains("gh-mcp stdio") && table.contains("profile work"),
        "{table}"
    );
    let config =
        std::fs::read_to_string(sb.ringlet_home().join("config/config.toml")).expect("config.toml");
    assert!(
        config.contains("[mcp.gh]") && config.contains("alias:gh"),
        "{config}"
    );

    // Without its secret stored, a run stops before the agent starts, saying how to store it.
    let record = sb.root().join("record.json");
    sb.env("FAKE_AGENT_RECORD", &record);
    sb.run(["profiles", "run", "work"])
        .fails_with("keychain set mcp gh");
    assert!(!record.exists(), "the agent started without its MCP secret");

    sb.env("GH_SECRET", SECRET);
    sb.run(["keychain", "set", "mcp", "gh", "--from-env", "GH_SECRET"])
        .ok();
    sb.run(["profiles", "run", "work"]).ok();
    let seen = read_record(&record);
    assert_eq!(seen["env"]["GH_TOKEN"], SECRET, "{seen}");
    assert!(
        seen["env"]["RINGLET_SECRET_VARS"]
            .as_str()
            .is_some_and(|v| v.split(',').any(|n| n == "GH_TOKEN")),
        "hooks would not know to hide it: {seen}"
    );
    let written = claude_json(&sb);
    assert_eq!(
        written["mcpServers"]["gh"],
        serde_json::json!({
            "type": "stdio", "command": "gh-mcp", "args": ["stdio"],
            "env": {"GH_TOKEN": "${GH_TOKEN}", "LEVEL": "info"}
        })
    );
    assert_eq!(
        written["mcpServers"]["docs"]["url"],
        "https://mcp.example.com/mcp"
    );
    let env = sb.run(["profiles", "env", "work"]).ok().stdout;
    assert!(env.contains("GH_TOKEN=********"), "{env}");
    // Only the credential store holds the secret.
    for rel in sb.files() {
        if rel
            .file_name()
            .is_some_and(|n| n == "credentials.toml" || n == "record.json")
        {
            continue;
        }
        let text = std::fs::read(sb.root().join(&rel)).unwrap_or_default();
        assert!(
            !text.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
            "{} holds the secret",
            rel.display()
        );
    }

    // The user's own entry of the same name inside the agent is kept, and ringlet says so.
    let mut mine = claude_json(&sb);
    mine["mcpServers"]["docs"] = serde_json::json!({"type": "stdio", "command": "my-docs"});
    std::fs::write(
        sb.profile_home("work").join(".claude.json"),
        mine.to_string(),
    )
    .expect("write");
    sb.run(["mcp", "remove", "gh"]).ok();
    let run = sb.run(["profiles", "run", "work"]).ok();
    assert!(
        run.stderr
            .contains("'docs' under mcpServers is your own entry"),
        "{}",
        run.stderr
    );
    let written = claude_json(&sb);
    assert!(written["mcpServers"].get("gh").is_none(), "{written}");
    assert_eq!(
        written["mcpServers"]["docs"]["command"], "my-docs",
        "{written}"
    );
}
