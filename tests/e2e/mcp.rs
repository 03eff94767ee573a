//! MCP servers once, for every agent: after `ringlet mcp add`, each real agent's own listing
//! (`claude mcp list`, `codex mcp list`, …) run through `ringlet profiles run ALIAS -- mcp list`
//! shows the server next to one the user added inside the agent; the server gets its secret
//! from the credential store through the agent's environment, and no file holds it; after
//! `ringlet mcp remove` it is gone and the user's stays.

use std::path::Path;

use ringlet_tests::FakeApi;
use ringlet_tests::harness::{Sandbox, fake_mcp_bin, outside_tmp};

use crate::{ProfileSpec, agent_bin_dir, agent_sandbox_from, create_profile, run_profile, tree};

const SECRET: &str = "mcp-canary-secret-5e1f0c";

/// One agent: how the user adds a server inside it, and whether its listing connects to the
/// servers (and so starts ours, which records its environment).
struct Case<'a> {
    agent: &'a str,
    provider: &'a str,
    openai_shaped: bool,
    model: &'a str,
    user_add: &'a [&'a str],
    connects: bool,
}

fn listed(sb: &Sandbox, alias: &str) -> String {
    let run = run_profile(sb, alias, &["mcp", "list"]);
    assert_eq!(
        run.code, 0,
        "mcp list failed\nstdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    format!("{}\n{}", run.stdout, run.stderr)
}

/// Every file under `dir` that holds `needle`, but the credential store's.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    tree(dir)
        .into_iter()
        .map(|rel| dir.join(rel))
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != "credentials.toml"))
        .filter(|p| {
            std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .map(|p| p.display().to_string())
        .collect()
}

fn mcp_servers_reach(case: Case<'_>) {
    let Some(bin_dir) = agent_bin_dir(case.agent) else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let base_url = if case.openai_shaped {
        format!("{}/v1", api.base_url())
    } else {
        api.base_url()
    };
    // Outside /tmp: Gemini CLI ignores a settings file below a directory others can write.
    let mut sb = agent_sandbox_from(Sandbox::new_in(&outside_tmp()), &bin_dir);
    let alias = format!("{}-mcp", case.agent);
    create_profile(
        &mut sb,
        &ProfileSpec {
            agent: case.agent,
            alias: &alias,
            provider: case.provider,
            base_url,
            model: case.model,
            key: &format!("sk-e2e-{}-mcp-key", case.agent),
        },
    );
    let records = tempfile::tempdir().expect("tempdir");
    let record = records.path().join("fake-mcp.jsonl");

    // The user's own server, added inside the agent before ringlet defines any.
    let run = run_profile(&sb, &alias, case.user_add);
    assert_eq!(
        run.code, 0,
        "{}: {}\n{}",
        case.agent, run.stdout, run.stderr
    );

    sb.env("MCP_SECRET", SECRET);
    sb.run([
        "keychain",
        "set",
        "mcp",
        "canary",
        "--from-env",
        "MCP_SECRET",
    ])
    .ok();
    let fake = fake_mcp_bin().display().to_string();
    let record_arg = record.display().to_string();
    sb.run([
        "mcp",
        "add",
        "fakesrv",
        "--env",
        "MCP_TOKEN=alias:canary",
        "--env",
        "MCP_PLAIN=plain-value",
        "--",
        &fake,
        &record_arg,
        "MCP_TOKEN",
        "MCP_PLAIN",
    ])
    .ok();
    let list = sb.run(["mcp", "list", "--json"]).ok().json();
    assert_eq!(list[0]["name"], "fakesrv", "{list}");
    assert_eq!(
        list[0]["server"]["env"]["MCP_TOKEN"], "alias:canary",
        "{list}"
    );

    let said = listed(&sb, &alias);
    assert!(
        said.contains("fakesrv"),
        "{}: ringlet's server is not listed:\n{said}",
        case.agent
    );
    assert!(
        said.contains("mine"),
        "{}: the user's server is gone:\n{said}",
        case.agent
    );
    if case.connects {
        let seen = std::fs::read_to_string(&record).unwrap_or_default();
        let first: serde_json::Value = seen
            .lines()
            .next()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("{}: the server was never started: {said}", case.agent));
        assert_eq!(first["MCP_TOKEN"], SECRET, "{}: {seen}", case.agent);
        assert_eq!(first["MCP_PLAIN"], "plain-value", "{}: {seen}", case.agent);
    }
    // Run once more (the agent's own rewrite of its files must not bring the secret in), then
    // no file the agent can read holds the secret.
    listed(&sb, &alias);
    assert_eq!(
        files_holding(sb.root(), SECRET),
        Vec::<String>::new(),
        "{}: the secret was written to a file",
        case.agent
    );

    sb.run(["mcp", "remove", "fakesrv"]).ok();
    let said = listed(&sb, &alias);
    assert!(
        !said.contains("fakesrv"),
        "{}: still listed after removal:\n{said}",
        case.agent
    );
    assert!(
        said.contains("mine"),
        "{}: the user's server is gone:\n{said}",
        case.agent
    );
}

#[test]
fn claude_code_lists_ringlets_mcp_server() {
    mcp_servers_reach(Case {
        agent: "claude",
        provider: "anthropic",
        openai_shaped: false,
        model: "claude-sonnet-5",
        user_add: &["mcp", "add", "-s", "user", "mine", "--", "/bin/true"],
        connects: true,
    });
}

#[test]
fn codex_lists_ringlets_mcp_server() {
    mcp_servers_reach(Case {
        agent: "codex",
        provider: "openai",
        openai_shaped: true,
        model: "gpt-5-codex",
        user_add: &["mcp", "add", "mine", "--", "/bin/true"],
        connects: false,
    });
}

#[test]
fn gemini_lists_ringlets_mcp_server() {
    mcp_servers_reach(Case {
        agent: "gemini",
        provider: "google",
        openai_shaped: false,
        model: "gemini-2.5-flash",
        user_add: &["mcp", "add", "-s", "user", "mine", "/bin/true"],
        connects: true,
    });
}

#[test]
fn opencode_lists_ringlets_mcp_server() {
    mcp_servers_reach(Case {
        agent: "opencode",
        provider: "openai",
        openai_shaped: true,
        model: "gpt-4.1",
        user_add: &["mcp", "add", "mine", "--", "/bin/true"],
        connects: true,
    });
}

#[test]
fn droid_lists_ringlets_mcp_server() {
    mcp_servers_reach(Case {
        agent: "droid",
        provider: "anthropic",
        openai_shaped: false,
        model: "claude-sonnet-5",
        user_add: &["mcp", "add", "mine", "/bin/true"],
        connects: true,
    });
}
