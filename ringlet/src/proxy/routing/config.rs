//! `routing.toml` as written: the rules, the default and their fallbacks, before they are checked
//! against the catalogue (see [`super::RoutePlan::resolve`]).
//!
//! ```toml
//! [[rule]]
//! match = { tool-use = true }
//! to = "anthropic"
//! model = "claude-sonnet-4-5"
//! fallback = [{ to = "openrouter", model = "anthropic/claude-sonnet-4.5" }]
//!
//! [[rule]]
//! match = { input-tokens-lt = 2000 }
//! to = "groq"
//! model = "llama-3.3-70b-versatile"
//!
//! [default]
//! to = "anthropic"
//! model = "claude-haiku-4-5"
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};

/// The largest `routing.toml` read: rules are a handful of lines, so anything bigger is a mistake.
pub const MAX_ROUTING_FILE_BYTES: u64 = 256 * 1024;

/// The file name of a profile's rules, in the profile's directory.
pub const ROUTING_FILE: &str = "routing.toml";

/// A parsed `routing.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingFile {
    /// The `[[rule]]` tables, in the order they are tried.
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleSpec>,
    /// `[default]`: where a request no rule matches goes; the profile's own provider and model
    /// when absent.
    #[serde(default)]
    pub default: Option<DefaultSpec>,
}

/// One `[[rule]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSpec {
    /// A name for reports (`usage --by-rule`); the match keys joined with `+` when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// The conditions; all must hold.
    #[serde(rename = "match")]
    pub when: Spanned<Match>,
    /// The provider id requests go to.
    pub to: Spanned<String>,
    /// The model to ask for; the request's own when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// The provider's endpoint; its default when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The key alias in the credential store; the profile's when absent.
    #[serde(default)]
    pub key: Option<String>,
    /// Targets tried in order when this one fails before answering.
    #[serde(default)]
    pub fallback: Vec<TargetSpec>,
}

/// `[default]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DefaultSpec {
    /// The provider id.
    pub to: Spanned<String>,
    /// The model; the request's own when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// The provider's endpoint; its default when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The key alias; the profile's when absent.
    #[serde(default)]
    pub key: Option<String>,
    /// Targets tried in order when this one fails before answering.
    #[serde(default)]
    pub fallback: Vec<TargetSpec>,
}

/// One entry of a `fallback` list.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetSpec {
    /// The provider id.
    pub to: Spanned<String>,
    /// The model; the request's own when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// The provider's endpoint; its default when absent.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The key alias; the profile's when absent.
    #[serde(default)]
    pub key: Option<String>,
}

/// A rule's conditions. Every one given must hold; an empty table is refused (it would shadow
/// every rule after it; that is what `[default]` is for).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Match {
    /// The request offers the model at least one tool (`true`) or none (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_use: Option<bool>,
    /// The estimated input tokens are fewer than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_lt: Option<u64>,
    /// The estimated input tokens are more than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens_gt: Option<u64>,
    /// The conversation has more than this many messages (system prompts not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_gt: Option<u64>,
    /// The request has (`true`) or lacks (`false`) a system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_system_prompt: Option<bool>,
    /// The request asks for exactly this model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_equals: Option<String>,
}

impl Match {
    /// The keys given, in the order of the table above, as written in TOML.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.tool_use.is_some() {
            keys.push("tool-use");
        }
        if self.input_tokens_lt.is_some() {
            keys.push("input-tokens-lt");
        }
        if self.input_tokens_gt.is_some() {
            keys.push("input-tokens-gt");
        }
        if self.messages_gt.is_some() {
            keys.push("messages-gt");
        }
        if self.has_system_prompt.is_some() {
            keys.push("has-system-prompt");
        }
        if self.model_equals.is_some() {
            keys.push("model-equals");
        }
        keys
    }

    /// Whether any condition needs the input-token estimate (the costliest to compute).
    pub fn needs_tokens(&self) -> bool {
        self.input_tokens_lt.is_some() || self.input_tokens_gt.is_some()
    }
}

impl RoutingFile {
    /// Parses `text` (from `path`, named in errors, with the line).
    pub fn parse(path: &Path, text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::toml(path, text, &e))
    }

    /// Reads and parses a file, refusing one over [`MAX_ROUTING_FILE_BYTES`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = crate::fsio::read_file_capped(path, MAX_ROUTING_FILE_BYTES)?;
        Self::parse(path, &text)
    }
}

/// The 1-based line of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

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

# long context
[default]
to = "anthropic"
model = "claude-haiku-4-5"
"#;

    #[test]
    fn the_seeds_example_parses() {
        let f = RoutingFile::parse(Path::new("routing.toml"), SEED).expect("parses");
        assert_eq!(f.rules.len(), 3);
        assert_eq!(f.rules[0].when.get_ref().tool_use, Some(true));
        assert_eq!(f.rules[1].to.get_ref(), "groq");
        assert_eq!(f.rules[2].when.get_ref().input_tokens_gt, Some(100_000));
        let d = f.default.expect("default");
        assert_eq!(d.to.get_ref(), "anthropic");
        assert_eq!(d.model.as_deref(), Some("claude-haiku-4-5"));
    }

    #[test]
    fn a_misspelt_match_key_names_the_line_and_the_valid_keys() {
        let text = "[[rule]]\nto = \"groq\"\nmatch = { tool-uses = true }\n";
        let err = RoutingFile::parse(Path::new("/p/routing.toml"), text).expect_err("refused");
        let Error::Parse { line, message, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*line, Some(3));
        assert!(message.contains("tool-uses"), "{message}");
        assert!(message.contains("input-tokens-lt"), "{message}");
    }

    #[test]
    fn fallback_lists_parse_and_unknown_target_keys_are_refused() {
        let text =
            "[default]\nto = \"a\"\nfallback = [{ to = \"b\", model = \"m\" }, { to = \"c\" }]\n";
        let f = RoutingFile::parse(Path::new("r"), text).expect("parses");
        let d = f.default.expect("default");
        assert_eq!(d.fallback.len(), 2);
        assert_eq!(d.fallback[0].model.as_deref(), Some("m"));
        let bad = "[default]\nto = \"a\"\nfallback = [{ to = \"b\", modle = \"m\" }]\n";
        let err = RoutingFile::parse(Path::new("r"), bad).expect_err("refused");
        assert!(err.to_string().contains("modle"), "{err}");
    }

    #[test]
    fn match_keys_are_listed_as_written() {
        let m = Match {
            tool_use: Some(false),
            model_equals: Some("x".into()),
            ..Match::default()
        };
        assert_eq!(m.keys(), ["tool-use", "model-equals"]);
        assert!(!m.needs_tokens());
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
