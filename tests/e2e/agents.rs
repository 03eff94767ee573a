//! Each of the six agents, through `ringlet profiles run`, completes a one-shot request against
//! the fake API with the profile's key and model, and keeps its state inside the profile HOME.

use ringlet_tests::FakeApi;
use ringlet_tests::WireShape;

use crate::{
    ProfileSpec, STALE_PARENT_ENV, agent_bin_dir, agent_sandbox, create_profile, generations,
    run_profile, tree,
};

/// One agent's one-shot case.
struct Case<'a> {
    agent: &'a str,
    provider: &'a str,
    /// The wire format the agent is expected to use with this provider.
    dialect: Dialect,
    model: &'a str,
    /// The agent's own one-shot arguments (after `--`).
    args: &'a [&'a str],
    /// A path the agent always creates under its HOME on a one-shot run (grok writes none).
    state: Option<&'a str>,
}

/// The API dialect of a generation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Anthropic,
    Responses,
    Chat,
    Gemini,
}

impl Dialect {
    fn of(shape: WireShape) -> Option<Self> {
        match shape {
            WireShape::AnthropicMessages => Some(Dialect::Anthropic),
            WireShape::OpenAiResponses => Some(Dialect::Responses),
            WireShape::OpenAiChatCompletions => Some(Dialect::Chat),
            WireShape::GeminiGenerateContent | WireShape::GeminiStreamGenerateContent => {
                Some(Dialect::Gemini)
            }
            _ => None,
        }
    }
}

fn one_shot(case: Case<'_>) {
    let Some(bin_dir) = agent_bin_dir(case.agent) else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    // OpenAI-shaped base URLs end in /v1; Anthropic- and Gemini-shaped ones do not.
    let base_url = match case.dialect {
        Dialect::Responses | Dialect::Chat => format!("{}/v1", api.base_url()),
        Dialect::Anthropic | Dialect::Gemini => api.base_url(),
    };
    let key = format!("sk-e2e-{}-profile-key", case.agent);
    let alias = format!("{}-e2e", case.agent);
    let mut sb = agent_sandbox(&bin_dir);
    create_profile(
        &mut sb,
        &ProfileSpec {
            agent: case.agent,
            alias: &alias,
            provider: case.provider,
            base_url,
            model: case.model,
            key: &key,
        },
    );

    let run = run_profile(&sb, &alias, case.args);
    assert_eq!(
        run.code,
        0,
        "{} exited {}\nstdout: {}\nstderr: {}\nrequests: {:#?}",
        case.agent,
        run.code,
        run.stdout,
        run.stderr,
        api.requests()
    );
    assert!(
        run.stdout.contains("pong"),
        "{} did not print the fake API's answer\nstdout: {}\nstderr: {}",
        case.agent,
        run.stdout,
        run.stderr
    );

    let gens = generations(&api);
    assert!(
        !gens.is_empty(),
        "{} sent no generation request",
        case.agent
    );
    for r in &gens {
        assert_eq!(
            r.api_key.as_deref(),
            Some(key.as_str()),
            "{} sent the wrong key on {} {}",
            case.agent,
            r.method,
            r.path
        );
        assert_eq!(
            Dialect::of(r.shape),
            Some(case.dialect),
            "{} spoke {:?}",
            case.agent,
            r.shape
        );
    }
    assert!(
        gens.iter().any(|r| r.model.as_deref() == Some(case.model)),
        "{} never asked for the profile's model {}: {:?}",
        case.agent,
        case.model,
        gens.iter().map(|r| &r.model).collect::<Vec<_>>()
    );
    // No request of any kind carried a key from the parent shell.
    for r in api.requests() {
        let stale = STALE_PARENT_ENV
            .iter()
            .any(|(_, v)| r.api_key.as_deref() == Some(*v));
        assert!(!stale, "{} sent a stale parent key: {r:?}", case.agent);
    }

    // The agent's state is in the profile HOME, and nothing landed in the user's real HOME.
    let home = sb.profile_home(&alias);
    if let Some(state) = case.state {
        assert!(
            home.join(state).exists(),
            "{} left no {state} in its profile HOME; it holds: {:?}",
            case.agent,
            tree(&home)
        );
    }
    let user_home = sb.root().join("user-home");
    assert_eq!(
        tree(&user_home),
        Vec::<std::path::PathBuf>::new(),
        "{} wrote into the user's HOME",
        case.agent
    );
    let inspect = sb
        .run(["profiles", "inspect", &alias, "--json"])
        .ok()
        .json();
    assert_eq!(inspect["metadata"]["total_runs"], 1, "{inspect}");
}

#[test]
fn claude_code_runs_against_its_profile() {
    one_shot(Case {
        agent: "claude",
        provider: "anthropic",
        dialect: Dialect::Anthropic,
        model: "claude-sonnet-5",
        args: &["-p", "Reply with the word pong."],
        state: Some(".claude/projects"),
    });
}

#[test]
fn codex_runs_against_its_profile() {
    one_shot(Case {
        agent: "codex",
        provider: "openai",
        dialect: Dialect::Responses,
        model: "gpt-5-codex",
        args: &["exec", "--skip-git-repo-check", "Reply with the word pong."],
        state: Some(".codex/sessions"),
    });
}

#[test]
fn opencode_runs_against_its_profile() {
    one_shot(Case {
        agent: "opencode",
        provider: "openai",
        dialect: Dialect::Chat,
        model: "gpt-4.1",
        args: &["run", "Reply with the word pong."],
        state: Some(".local/share/opencode"),
    });
}

#[test]
fn grok_runs_against_its_profile() {
    one_shot(Case {
        agent: "grok",
        provider: "xai",
        dialect: Dialect::Chat,
        model: "grok-code-fast-1",
        args: &["-p", "Reply with the word pong."],
        state: None,
    });
}

#[test]
fn gemini_runs_against_its_profile() {
    one_shot(Case {
        agent: "gemini",
        provider: "google",
        dialect: Dialect::Gemini,
        model: "gemini-2.5-flash",
        args: &["-p", "Reply with the word pong."],
        state: Some(".gemini"),
    });
}

#[test]
fn droid_runs_against_its_profile() {
    one_shot(Case {
        agent: "droid",
        provider: "anthropic",
        dialect: Dialect::Anthropic,
        model: "claude-sonnet-5",
        args: &["exec", "Reply with the word pong."],
        state: Some(".factory"),
    });
}

#[test]
fn claude_code_accepts_the_anthropic_providers_default_model() {
    // A profile created without --model gets the provider's default; Claude Code warns at
    // every start about a model it knows to be retired (it did about claude-sonnet-4-5).
    let Some(bin_dir) = agent_bin_dir("claude") else {
        return;
    };
    let api = FakeApi::start().expect("fake API starts");
    let mut sb = agent_sandbox(&bin_dir);
    sb.env("E2E_KEY", "sk-e2e-default-model-key");
    sb.run([
        "profiles",
        "create",
        "claude",
        "default-model",
        "--provider",
        "anthropic",
        "--custom-endpoint",
        &api.base_url(),
        "--key-from-env",
        "E2E_KEY",
    ])
    .ok();
    let providers = sb.run(["providers", "list", "--json"]).ok().json();
    let default = providers
        .as_array()
        .expect("providers")
        .iter()
        .find(|p| p["id"] == "anthropic")
        .and_then(|p| p["default_model"].as_str())
        .expect("anthropic has a default model")
        .to_string();
    let run = run_profile(&sb, "default-model", &["-p", "Reply with the word pong."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !said.contains("retired") && !said.contains("remapped"),
        "Claude Code objects to the default model {default}:\n{said}"
    );
    assert!(
        generations(&api)
            .iter()
            .any(|r| r.model.as_deref() == Some(default.as_str())),
        "no request for the default model {default}"
    );
}
