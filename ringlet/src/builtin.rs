//! Manifests and scripts embedded in the binary.

macro_rules! embed {
    ($dir:literal: $($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../assets/", $dir, "/", $name)))),*]
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::agent::AgentManifest;
    use crate::manifest::parse;
    use crate::provider::ProviderManifest;
    use crate::script::{Script, ScriptSource};

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
            Script::load(&ScriptSource::BuiltIn(script.0, script.1)).expect(script.0);
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
    fn bad_toml_names_file_and_line() {
        let err = parse::<AgentManifest>(Path::new("agents.d/x.toml"), "id = \"x\"\nname = \n")
            .expect_err("bad");
        assert!(err.to_string().starts_with("agents.d/x.toml:2:"), "{err}");
    }
}
