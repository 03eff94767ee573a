use std::path::Path;

use chrono::Utc;

use super::*;
use crate::paths::Paths;
use crate::profile::ProfileMetadata;

fn catalogue() -> (tempfile::TempDir, Catalogue) {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = Paths::under(dir.path());
    std::fs::create_dir_all(paths.providers_dir()).expect("providers.d");
    std::fs::write(
        paths.providers_dir().join("fake-b.toml"),
        "id = \"fake-b\"\nname = \"B\"\n[endpoints.default]\nopenai-chat = \"http://127.0.0.1:9/v1\"\n",
    )
    .expect("manifest");
    std::fs::write(
        paths.providers_dir().join("fake-g.toml"),
        "id = \"fake-g\"\nname = \"G\"\n[endpoints.default]\ngemini = \"http://127.0.0.1:9\"\n",
    )
    .expect("manifest");
    let catalogue = Catalogue::load(&paths).expect("catalogue");
    (dir, catalogue)
}

fn profile(shape: WireShape) -> Profile {
    Profile {
        alias: "work".into(),
        agent: "claude".into(),
        provider: "anthropic".into(),
        endpoint: Some("default".into()),
        endpoint_url: None,
        shape,
        model: Some("claude-sonnet-5".into()),
        key_alias: Some("work".into()),
        binary: None,
        working_dir: None,
        args: vec![],
        env: Default::default(),
        sandbox: Default::default(),
        proxy: Default::default(),
        budget: Default::default(),
        tasks: Default::default(),
        mcp: Default::default(),
        metadata: ProfileMetadata {
            created_at: Utc::now(),
            last_used: None,
            total_runs: 0,
        },
    }
}

fn plan(text: &str) -> Result<RoutePlan> {
    let (_dir, c) = catalogue();
    RoutePlan::from_text(
        &c,
        &profile(WireShape::Anthropic),
        Path::new("/p/routing.toml"),
        text,
    )
}

const SEED: &str = r#"
[[rule]]
match = { tool-use = true }
to = "anthropic"
model = "claude-sonnet-4-5"

[[rule]]
match = { input-tokens-lt = 2000 }
to = "groq"
model = "llama-3.3-70b-versatile"

[[rule]]
match = { input-tokens-gt = 100000 }
to = "anthropic"
model = "claude-sonnet-4-5"

[default]
to = "anthropic"
model = "claude-haiku-4-5"
"#;

#[test]
fn the_seeds_example_resolves_with_translation_where_needed() {
    let p = plan(SEED).expect("resolves");
    assert_eq!(p.rules.len(), 3);
    let labels: Vec<_> = p.rules.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["tool-use", "input-tokens-lt", "input-tokens-gt"]);
    let groq = &p.rules[1].targets[0];
    assert_eq!(groq.provider, "groq");
    assert_eq!(
        groq.shape,
        WireShape::OpenaiChat,
        "Claude Code's requests are translated for groq"
    );
    assert!(groq.translates_from(WireShape::Anthropic));
    assert_eq!(groq.base_url, "https://api.groq.com/openai/v1");
    assert_eq!(groq.key, Some(CredentialKey::new("groq", "work")));
    let anthropic = &p.rules[0].targets[0];
    assert_eq!(anthropic.shape, WireShape::Anthropic);
    assert_eq!(anthropic.auth, AuthScheme::XApiKey);
    assert_eq!(p.default.label, "default");
    assert_eq!(
        p.default.targets[0].model.as_deref(),
        Some("claude-haiku-4-5")
    );
    assert_eq!(
        p.keys(),
        [
            CredentialKey::new("anthropic", "work"),
            CredentialKey::new("groq", "work")
        ]
    );
}

#[test]
fn first_match_wins_and_the_default_takes_the_rest() {
    let p = plan(SEED).expect("resolves");
    let with_tools =
        br#"{"model":"x","tools":[{"name":"Bash"}],"messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(p.route_body(with_tools).label, "tool-use");
    let small = br#"{"model":"x","messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(p.route_body(small).label, "input-tokens-lt");
    let big = format!(
        r#"{{"model":"x","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(500_000)
    );
    assert_eq!(p.route_body(big.as_bytes()).label, "input-tokens-gt");
    let middle = format!(
        r#"{{"model":"x","messages":[{{"role":"user","content":"{}"}}]}}"#,
        "a".repeat(20_000)
    );
    assert_eq!(p.route_body(middle.as_bytes()).label, "default");
}

#[test]
fn without_a_default_the_profile_itself_is_the_default() {
    let p = plan(
        "[[rule]]\nname = \"cheap\"\nmatch = { messages-gt = 3 }\nto = \"fake-b\"\nkey = \"b\"\n",
    )
    .expect("resolves");
    assert_eq!(p.rules[0].label, "cheap");
    assert_eq!(
        p.rules[0].targets[0].key,
        Some(CredentialKey::new("fake-b", "b"))
    );
    let d = &p.default.targets[0];
    assert_eq!(
        (d.provider.as_str(), d.shape, d.model.as_ref()),
        ("anthropic", WireShape::Anthropic, None)
    );
    assert_eq!(d.base_url, "https://api.anthropic.com");
    let empty = plan("").expect("an empty file routes everything to the profile");
    assert!(!empty.reads_body());
}

#[test]
fn fallbacks_follow_the_target_in_order() {
    let p = plan("[default]\nto = \"anthropic\"\nfallback = [{ to = \"fake-b\", model = \"gpt-x\" }, { to = \"openrouter\" }]\n")
        .expect("resolves");
    let t: Vec<_> = p
        .default
        .targets
        .iter()
        .map(|t| t.provider.as_str())
        .collect();
    assert_eq!(t, ["anthropic", "fake-b", "openrouter"]);
    assert_eq!(p.default.targets[1].model.as_deref(), Some("gpt-x"));
}

fn refused(text: &str) -> (Option<usize>, String) {
    match plan(text).expect_err("refused") {
        Error::Parse { line, message, .. } => (line, message),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unknown_provider_is_named_with_its_line_and_a_suggestion() {
    let (line, message) = refused("[[rule]]\nmatch = { tool-use = true }\nto = \"groqq\"\n");
    assert_eq!(line, Some(3));
    assert!(
        message.starts_with("rule 1: unknown provider 'groqq'"),
        "{message}"
    );
    assert!(message.contains("groq"), "{message}");
    let (line, message) =
        refused("[default]\nto = \"anthropic\"\nfallback = [\n  { to = \"nope\" },\n]\n");
    assert_eq!(line, Some(4));
    assert!(
        message.starts_with("[default], fallback 1: unknown provider 'nope'"),
        "{message}"
    );
}

#[test]
fn rules_that_cannot_match_or_targets_that_cannot_serve_are_refused() {
    let (_, m) = refused("[[rule]]\nmatch = {}\nto = \"groq\"\n");
    assert!(m.contains("match is empty"), "{m}");
    let (_, m) =
        refused("[[rule]]\nmatch = { input-tokens-lt = 10, input-tokens-gt = 9 }\nto = \"groq\"\n");
    assert!(m.contains("can never both hold"), "{m}");
    let (_, m) = refused("[[rule]]\nmatch = { tool-use = true }\nto = \"fake-g\"\n");
    assert!(
        m.contains("translates only between anthropic and openai-chat"),
        "{m}"
    );
    let (_, m) =
        refused("[[rule]]\nmatch = { tool-use = true }\nto = \"groq\"\nendpoint = \"eu\"\n");
    assert!(m.contains("has no endpoint 'eu'"), "{m}");
    let (_, m) = refused("[[rule]]\nmatch = { tool-use = true }\nto = \"groq\"\nkey = \"../x\"\n");
    assert!(m.contains("key alias"), "{m}");
    let (_, m) = refused("[[rule]]\nname = \"\"\nmatch = { tool-use = true }\nto = \"groq\"\n");
    assert!(m.contains("name must be"), "{m}");
    let (line, m) = refused("[[rule]]\nmatch = { tool-use = true }\nto = \"groq\"\nmodel = 3\n");
    assert_eq!(line, Some(4), "{m}");
}

#[test]
fn a_provider_that_needs_a_key_needs_an_alias_when_the_profile_has_none() {
    let (_dir, c) = catalogue();
    let mut p = profile(WireShape::Anthropic);
    p.key_alias = None;
    let text = "[default]\nto = \"groq\"\n";
    let err = RoutePlan::from_text(&c, &p, Path::new("r"), text).expect_err("refused");
    assert!(err.to_string().contains("needs a key"), "{err}");
    let ok = RoutePlan::from_text(&c, &p, Path::new("r"), "[default]\nto = \"ollama\"\n")
        .expect("no key needed");
    assert_eq!(ok.default.targets[0].key, None);
    assert_eq!(
        ok.default.targets[0].shape,
        WireShape::Anthropic,
        "ollama serves anthropic natively"
    );
}

#[test]
fn an_openai_chat_agent_is_translated_to_anthropic_providers() {
    let (_dir, c) = catalogue();
    let mut p = profile(WireShape::OpenaiChat);
    p.provider = "openai".into();
    let plan = RoutePlan::from_text(
        &c,
        &p,
        Path::new("r"),
        "[[rule]]\nmatch = { has-system-prompt = false }\nto = \"anthropic\"\n",
    )
    .expect("resolves");
    assert_eq!(plan.rules[0].targets[0].shape, WireShape::Anthropic);
    let mut r = profile(WireShape::OpenaiResponses);
    r.provider = "openai".into();
    let err = RoutePlan::from_text(&c, &r, Path::new("r"), "[default]\nto = \"anthropic\"\n")
        .expect_err("no translation");
    assert!(
        err.to_string()
            .contains("the agent speaks openai-responses"),
        "{err}"
    );
}

#[test]
fn the_plan_serialises_for_json_reports() {
    let p = plan(SEED).expect("resolves");
    let v = serde_json::to_value(&p).expect("json");
    assert_eq!(v["rules"][0]["match"]["tool-use"], true);
    assert_eq!(v["rules"][1]["targets"][0]["shape"], "openai-chat");
    assert!(v["default"].get("match").is_none());
}
