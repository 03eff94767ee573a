//! MCP servers, defined once for every agent: `[mcp.NAME]` in `config.toml` (every profile)
//! or in a profile's `profile.toml` (that profile only, winning over a global one of the same
//! name). Each agent's config script writes them into the agent's own format in the profile
//! HOME; their secrets stay in the credential store until a run puts them in the agent's
//! environment (see docs/setup.md, "MCP servers").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::credentials::CredentialKey;
use crate::error::{Error, Result};

/// The credential-store "provider" MCP secrets are kept under by default (`mcp/NAME`, set
/// with `ringlet keychain set mcp NAME`).
pub const MCP_SECRET_PROVIDER: &str = "mcp";

/// What marks an env value as a secret reference: `alias:NAME` (the secret `mcp/NAME`) or
/// `alias:PROVIDER/NAME` (any stored key, a provider's included).
pub const SECRET_REF_PREFIX: &str = "alias:";

/// One MCP server: a command ringlet's agents start (stdio), or a URL they connect to
/// (streamable HTTP).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct McpServer {
    /// The program of a stdio server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// The URL of an HTTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Environment of a stdio server: a plain value, or a secret reference (`alias:NAME`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

impl McpServer {
    /// A stdio server running `command` with `args`.
    pub fn command(command: impl Into<String>, args: Vec<String>) -> Self {
        Self {
            command: Some(command.into()),
            args,
            ..Self::default()
        }
    }

    /// An HTTP server at `url`.
    pub fn url(url: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            ..Self::default()
        }
    }

    /// Adds an environment variable (a value, or a secret reference `alias:NAME`).
    pub fn with_env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(name.into(), value.into());
        self
    }

    /// Checks the definition of server `name`: a command or a URL (not both), an http(s) URL,
    /// variable names, secret references naming a valid key.
    pub fn validate(&self, name: &str) -> Result<()> {
        validate_name(name)?;
        let bad = |why: String| Error::InvalidInput(format!("MCP server '{name}': {why}"));
        match (&self.command, &self.url) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "give a command or a URL, not both (`mcp add NAME -- CMD ARGS…` or `mcp add NAME --url URL`)".into(),
                ));
            }
            (None, None) => {
                return Err(bad(
                    "give the command that starts it (`mcp add NAME -- CMD ARGS…`) or its URL (`--url URL`)".into(),
                ));
            }
            (Some(command), None) if command.trim().is_empty() => {
                return Err(bad("its command is empty".into()));
            }
            (None, Some(url)) => {
                let parsed = url::Url::parse(url)
                    .map_err(|e| bad(format!("its URL '{url}' does not parse: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(bad(format!(
                        "its URL '{url}' must be http:// or https:// with a host"
                    )));
                }
                if !self.args.is_empty() || !self.env.is_empty() {
                    return Err(bad(
                        "arguments and environment belong to a command server, not a URL".into(),
                    ));
                }
            }
            _ => {}
        }
        for (var, value) in &self.env {
            if !is_var_name(var) {
                return Err(bad(format!(
                    "'{}' is not a variable name (letters, digits and '_', not starting with a digit)",
                    var.escape_debug()
                )));
            }
            secret_ref(value)
                .transpose()
                .map_err(|why| bad(format!("{var}: {why}")))?;
        }
        Ok(())
    }

    /// The secrets this server's environment refers to: variable → credential.
    pub fn secrets(&self) -> Vec<(String, CredentialKey)> {
        self.env
            .iter()
            .filter_map(|(var, value)| match secret_ref(value) {
                Some(Ok(key)) => Some((var.clone(), key)),
                _ => None,
            })
            .collect()
    }
}

/// The credential a value refers to, when it is a secret reference: `Some(Ok(key))`; a
/// malformed reference is `Some(Err(why))`; a plain value `None`.
pub fn secret_ref(value: &str) -> Option<std::result::Result<CredentialKey, String>> {
    let reference = value.strip_prefix(SECRET_REF_PREFIX)?;
    let (provider, alias) = reference
        .split_once('/')
        .unwrap_or((MCP_SECRET_PROVIDER, reference));
    Some(
        crate::alias::validate_alias(alias)
            .map(|()| CredentialKey::new(provider, alias))
            .map_err(|e| format!("'{value}' does not name a stored secret: {e}")),
    )
}

/// An MCP server's name: what each agent lists it as, so letters, digits, `-` and `_`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= crate::alias::MAX_ALIAS_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "'{}' is not a usable MCP server name: use letters, digits, '-' and '_' (up to {} characters, not starting with '-')",
            name.escape_debug(),
            crate::alias::MAX_ALIAS_LEN
        )))
    }
}

fn is_var_name(var: &str) -> bool {
    var.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Where an MCP server is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "profile")]
#[non_exhaustive]
pub enum McpScope {
    /// `config.toml`: every profile.
    Global,
    /// One profile's `profile.toml`.
    Profile(String),
}

impl std::fmt::Display for McpScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            McpScope::Global => f.write_str("global"),
            McpScope::Profile(alias) => write!(f, "profile {alias}"),
        }
    }
}

/// An MCP server with its name and where it is defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpEntry {
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub scope: McpScope,
    /// The definition (secret references, never secret values).
    pub server: McpServer,
}

/// An MCP server as a config script sees it: the agent's format is the script's business;
/// secrets are only named (`secret_env`), their values travel in the agent's environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptMcp {
    /// The command of a stdio server ("" for an HTTP one).
    pub command: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The URL of an HTTP server ("" for a stdio one).
    pub url: String,
    /// Plain environment values.
    pub env: BTreeMap<String, String>,
    /// Variables whose values are secrets: the agent's environment holds them under the same
    /// name, and the script writes the agent's reference to it (`${NAME}`, `{env:NAME}`, …).
    pub secret_env: Vec<String>,
}

impl From<&McpServer> for ScriptMcp {
    fn from(s: &McpServer) -> Self {
        let secret: Vec<String> = s.secrets().into_iter().map(|(var, _)| var).collect();
        ScriptMcp {
            command: s.command.clone().unwrap_or_default(),
            args: s.args.clone(),
            url: s.url.clone().unwrap_or_default(),
            env: s
                .env
                .iter()
                .filter(|(var, _)| !secret.contains(var))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            secret_env: secret,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_are_checked() {
        McpServer::command("npx", vec!["-y".into(), "srv".into()])
            .with_env("TOKEN", "alias:gh")
            .with_env("PLAIN", "1")
            .validate("github")
            .expect("valid");
        McpServer::url("https://mcp.example/mcp")
            .validate("web")
            .expect("valid");
        for (server, name, says) in [
            (McpServer::default(), "x", "give the command"),
            (
                McpServer {
                    url: Some("https://x".into()),
                    ..McpServer::command("a", vec![])
                },
                "x",
                "not both",
            ),
            (McpServer::url("ftp://x/y"), "x", "http:// or https://"),
            (McpServer::url("not a url"), "x", "does not parse"),
            (McpServer::command("a", vec![]), "bad name", "not a usable"),
            (
                McpServer::command("a", vec![]).with_env("1X", "v"),
                "x",
                "not a variable name",
            ),
            (
                McpServer::command("a", vec![]).with_env("T", "alias:"),
                "x",
                "does not name a stored secret",
            ),
            (
                McpServer::url("https://x/").with_env("T", "v"),
                "x",
                "belong to a command server",
            ),
        ] {
            let err = server.validate(name).expect_err(says).to_string();
            assert!(err.contains(says), "{err}");
        }
    }

    #[test]
    fn secret_references_name_a_credential_and_scripts_see_only_their_names() {
        let s = McpServer::command("srv", vec![])
            .with_env("GH", "alias:github")
            .with_env("OAI", "alias:openai/work")
            .with_env("PLAIN", "alias-not-a-ref");
        assert_eq!(
            s.secrets(),
            vec![
                ("GH".to_string(), CredentialKey::new("mcp", "github")),
                ("OAI".to_string(), CredentialKey::new("openai", "work")),
            ]
        );
        let seen = ScriptMcp::from(&s);
        assert_eq!(seen.secret_env, vec!["GH", "OAI"]);
        assert_eq!(
            seen.env,
            BTreeMap::from([("PLAIN".to_string(), "alias-not-a-ref".to_string())])
        );
    }
}
