//! One prompt, any agent: `ringlet profiles run ALIAS --prompt TEXT` runs each of the six real
//! agents in its own one-shot form against the fake API and prints only the answer.

use ringlet_tests::FakeApi;

use crate::{ProfileSpec, agent_bin_dir, agent_sandbox, create_profile, finish, generations};

/// The prompt: quotes, a shell metacharacter and the template's own placeholder, which must all
/// reach the model verbatim as one argument.
const PROMPT: &str = "Reply with the word pong; not \"ping\" $(nothing) {prompt}.";

fn answers(agent: &str, provider: &str, openai_shaped: bool, model: &str) {
    let Some(bin_dir) = agent_bin_dir(agent) else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let base_url = if openai_shaped {
        format!("{}/v1", api.base_url())
    } else {
        api.base_url()
    };
    let alias = format!("{agent}-prompt");
    let mut sb = agent_sandbox(&bin_dir);
    create_profile(
        &mut sb,
        &ProfileSpec {
            agent,
            alias: &alias,
            provider,
            base_url,
            model,
            key: &format!("sk-e2e-{agent}-prompt-key"),
        },
    );
    // Outside any git repository (Codex needs its --skip-git-repo-check there).
    let child = sb
        .command(["profiles", "run", &alias, "--prompt", PROMPT])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    let run = finish(child, agent);
    assert_eq!(
        run.code, 0,
        "{agent} exited {}\nstdout: {}\nstderr: {}",
        run.code, run.stdout, run.stderr
    );
    // Only the answer: no banner, no transcript, no JSON.
    assert_eq!(
        run.stdout, "pong\n",
        "{agent} printed more than its answer\nstderr: {}",
        run.stderr
    );
    // However each agent escapes the quotes: the part a shell or the template would have
    // mangled arrived as written.
    let asked = generations(&api).iter().any(|r| {
        let body = r.body.to_string();
        body.contains("Reply with the word pong; not ")
            && body.contains("ping")
            && body.contains("$(nothing) {prompt}.")
    });
    assert!(
        asked,
        "{agent} never sent the prompt verbatim: {:#?}",
        generations(&api)
            .iter()
            .map(|r| &r.body)
            .collect::<Vec<_>>()
    );

    // The same through --json: the answer, the exit code and the agent's own output.
    let child = sb
        .command(["profiles", "run", &alias, "--prompt", PROMPT, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    let run = finish(child, agent);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["answer"], "pong", "{report}");
    assert_eq!(report["exit_code"], 0, "{report}");
    assert!(
        report["stdout"]
            .as_str()
            .is_some_and(|s| s.contains("pong")),
        "{report}"
    );

    // `agents inspect` shows the form that was used.
    let inspect = sb.run(["agents", "inspect", agent]).ok();
    assert!(
        inspect.stdout.contains("one-shot") && inspect.stdout.contains("\"<prompt>\""),
        "{}",
        inspect.stdout
    );
}

#[test]
fn claude_code_answers_a_prompt() {
    answers("claude", "anthropic", false, "claude-sonnet-5");
}

#[test]
fn codex_answers_a_prompt_outside_a_git_repository() {
    answers("codex", "openai", true, "gpt-5-codex");
}

#[test]
fn opencode_answers_a_prompt() {
    answers("opencode", "openai", true, "gpt-4.1");
}

#[test]
fn grok_answers_a_prompt() {
    answers("grok", "xai", true, "grok-code-fast-1");
}

#[test]
fn gemini_answers_a_prompt() {
    answers("gemini", "google", false, "gemini-2.5-flash");
}

#[test]
fn droid_answers_a_prompt() {
    answers("droid", "anthropic", false, "claude-sonnet-5");
}
