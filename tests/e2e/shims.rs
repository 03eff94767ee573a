//! A shim as a user meets it: `ringlet aliases install work` writes `~/.local/bin/claude-work`,
//! and `claude-work -p …`, found on the user's PATH (no RINGLET_HOME set), runs the real Claude
//! Code in the profile against the fake API.

use std::process::{Command, Stdio};

use ringlet_tests::FakeApi;

use crate::{ProfileSpec, STALE_PARENT_ENV, agent_bin_dir, agent_sandbox, create_profile, finish};

#[test]
fn a_shim_runs_its_profile_with_the_real_claude_code() {
    let Some(bin_dir) = agent_bin_dir("claude") else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let key = "sk-e2e-shim-profile-key";
    let mut sb = agent_sandbox(&bin_dir);
    create_profile(
        &mut sb,
        &ProfileSpec {
            agent: "claude",
            alias: "work",
            provider: "anthropic",
            base_url: api.base_url(),
            model: "claude-sonnet-5",
            key,
        },
    );
    let user_home = sb.root().join("user-home");
    let run = sb.run(["aliases", "install", "work"]).ok();
    let shims = user_home.join(".local/bin");
    assert!(
        run.stdout
            .contains(&format!("{}", shims.join("claude-work").display())),
        "{}",
        run.stdout
    );

    // The user's shell: ~/.local/bin and the agents on PATH, ringlet's home only in the shim.
    let path = format!(
        "{}:{}:{}",
        shims.display(),
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut shell = Command::new("sh");
    shell
        .args(["-c", "claude-work -p 'Reply with the word pong.'"])
        .env_clear()
        .env("PATH", path)
        .env("HOME", &user_home)
        .envs(STALE_PARENT_ENV.iter().copied())
        .current_dir(sb.root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run = finish(shell.spawn().expect("sh starts"), "claude-work");
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let gens = api.generation_requests();
    assert!(
        !gens.is_empty(),
        "Claude Code sent no request: {:?}",
        api.requests()
    );
    for r in &gens {
        assert_eq!(r.api_key.as_deref(), Some(key), "{r:?}");
    }
    assert!(
        gens.iter()
            .any(|r| r.model.as_deref() == Some("claude-sonnet-5")),
        "{gens:?}"
    );
    assert!(sb.profile_home("work").join(".claude/projects").exists());
    let inspect = sb
        .run(["profiles", "inspect", "work", "--json"])
        .ok()
        .json();
    assert_eq!(inspect["metadata"]["total_runs"], 1, "{inspect}");
}
