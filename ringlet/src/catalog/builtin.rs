//! Manifests and scripts embedded in the binary.

macro_rules! embed {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../assets/", $dir, "/", $name)))),*]
    };
}

/// Built-in agent manifests: (file name, TOML).
pub(crate) const AGENTS: &[(&str, &str)] = embed!("agents":
    "claude.toml", "codex.toml", "opencode.toml", "grok.toml", "gemini.toml", "droid.toml");

/// Built-in provider manifests: (file name, TOML).
pub(crate) const PROVIDERS: &[(&str, &str)] = embed!("providers":
    "anthropic.toml", "openai.toml", "google.toml", "minimax.toml", "openrouter.toml",
    "zai.toml", "moonshot.toml", "deepseek.toml", "groq.toml", "xai.toml", "ollama.toml",
    "custom.toml");

/// Built-in config scripts: (file name, Rhai source).
pub(crate) const SCRIPTS: &[(&str, &str)] = embed!("scripts":
    "claude.rhai", "codex.rhai", "opencode.rhai", "grok.rhai", "gemini.rhai", "droid.rhai");

/// Every variable a built-in agent or provider reads for its provider settings (see
/// [`crate::Catalogue::conflicting_env`]), listed so that a launch need not parse every
/// manifest to know them. `builtin::tests` fails when a manifest and this list disagree.
pub(crate) const PROVIDER_ENV: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_CUSTOM_HEADERS",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_MODEL",
    "ANTHROPIC_SMALL_FAST_MODEL",
    "AWS_BEARER_TOKEN_BEDROCK",
    "CLAUDE_CODE_USE_BEDROCK",
    "CLAUDE_CODE_USE_VERTEX",
    "CLAUDE_CONFIG_DIR",
    "CODEX_API_KEY",
    "CODEX_HOME",
    "CUSTOM_API_KEY",
    "DEEPSEEK_API_KEY",
    "FACTORY_API_KEY",
    "FACTORY_HOME_OVERRIDE",
    "GEMINI_API_KEY",
    "GEMINI_CLI_HOME",
    "GEMINI_CLI_SYSTEM_DEFAULTS_PATH",
    "GEMINI_CLI_SYSTEM_SETTINGS_PATH",
    "GEMINI_MODEL",
    "GOOGLE_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GROK_API_KEY",
    "GROK_BASE_URL",
    "GROK_MODEL",
    "GROQ_API_KEY",
    "MINIMAX_API_KEY",
    "MOONSHOT_API_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "OPENCODE_CONFIG",
    "OPENCODE_CONFIG_CONTENT",
    "OPENCODE_CONFIG_DIR",
    "OPENROUTER_API_KEY",
    "RINGLET_DROID_API_KEY",
    "RINGLET_OPENCODE_API_KEY",
    "XAI_API_KEY",
    "ZAI_API_KEY",
];

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::catalog::agent::AgentManifest;
    use crate::catalog::manifest::parse;
    use crate::catalog::provider::ProviderManifest;
    use crate::launch::script::Script;

    #[test]
    fn every_builtin_manifest_parses_and_names_an_existing_script() {
        for (name, text) in AGENTS {
            let m: AgentManifest = parse(Path::new(name), text).expect(name);
            assert_eq!(format!("{}.toml", m.id), *name);
            assert!(!m.speaks.is_empty(), "{name} speaks nothing");
            let script = SCRIPTS
                .iter()
                .find(|(n, _)| *n == m.script)
                .unwrap_or_else(|| panic!("{name}: script {} is not built in", m.script));
            Script::compile(script.0.to_string(), script.1).expect(script.0);
        }
        for (name, text) in PROVIDERS {
            let m: ProviderManifest = parse(Path::new(name), text).expect(name);
            assert_eq!(format!("{}.toml", m.id), *name);
            if let Some(d) = &m.default_endpoint {
                assert!(
                    m.endpoints.contains_key(d),
                    "{name}: default endpoint {d} missing"
                );
            }
        }
    }

    #[test]
    fn provider_env_lists_what_the_manifests_read() {
        let mut vars = std::collections::BTreeSet::new();
        for (name, text) in AGENTS {
            let m: AgentManifest = parse(Path::new(name), text).expect(name);
            vars.extend(crate::catalog::catalogue::agent_env(&m));
        }
        for (name, text) in PROVIDERS {
            let m: ProviderManifest = parse(Path::new(name), text).expect(name);
            vars.extend(m.auth.env);
        }
        let listed: std::collections::BTreeSet<String> =
            PROVIDER_ENV.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            listed, vars,
            "builtin::PROVIDER_ENV is out of date; it should be {vars:#?}"
        );
    }

    #[test]
    fn every_billed_providers_models_are_priced_by_the_builtin_table() {
        // A fresh install prices usage with the built-in table until `pricing update`: a default
        // model missing there would show its first runs as unpriced.
        let prices = crate::usage::PriceBook::builtin();
        for (name, text) in PROVIDERS {
            let m: ProviderManifest = parse(Path::new(name), text).expect(name);
            if !m.auth.required {
                continue; // local models: nothing to bill
            }
            for model in m.models.default.iter().chain(&m.models.available) {
                assert!(
                    prices.lookup(model, Some(&m.id)).is_some(),
                    "{name}: model {model} has no price in assets/pricing.toml"
                );
            }
        }
    }

    #[test]
    fn bad_toml_names_file_and_line() {
        let err = parse::<AgentManifest>(Path::new("agents.d/x.toml"), "id = \"x\"\nname = \n")
            .expect_err("bad");
        assert!(err.to_string().starts_with("agents.d/x.toml:2:"), "{err}");
    }
}
