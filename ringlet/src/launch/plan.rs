//! Planning: a pure function from profile, agent, provider and script output to a
//! [`LaunchPlan`]. Nothing here touches the filesystem or the process environment, so every
//! decision is unit-testable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::catalog::wire::WireShape;
use crate::credentials::EnvCredentialStore;
use crate::error::{Error, Result};
use crate::launch::script::{KEY_PLACEHOLDER, ScriptFile, ScriptOutput};
use crate::profile::{Profile, join_inside};

/// Everything needed to run an agent for a profile. Serialisable, free of secrets: the key is
/// named by [`SecretEnv`] and filled in only when the plan runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LaunchPlan {
    /// The profile alias.
    pub profile: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The wire format in use.
    pub shape: WireShape,
    /// The base URL the agent is pointed at.
    pub base_url: String,
    /// The model, when pinned.
    pub model: Option<String>,
    /// The program: a path, or a name looked up on PATH when the plan runs.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
    /// The directory the agent starts in.
    pub cwd: PathBuf,
    /// The profile HOME (also in `env` as `HOME`).
    pub home: PathBuf,
    /// Variables set, on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Where the key goes, if the profile has one.
    pub secret_env: Option<SecretEnv>,
    /// The MCP servers' secrets: each variable is set in the agent's environment from its
    /// credential when the run starts, for the agent to pass to its MCP server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcp_secrets: Vec<SecretEnv>,
    /// Inherited variables removed because they would leak another provider's settings or move
    /// the agent's state out of its HOME.
    pub env_remove: Vec<String>,
    /// Inherited variables removed by prefix: whatever their full name, a variable that starts
    /// with one of these never reaches the agent (the env credential backend's
    /// `RINGLET_KEY_*`, each holding some profile's key). A launcher applies both lists through
    /// [`LaunchPlan::removes`].
    #[serde(default)]
    pub env_remove_prefixes: Vec<String>,
    /// Directories created inside the HOME before the agent starts.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// Files written into the HOME before the agent starts.
    pub files: Vec<PlannedFile>,
    /// Hook events the agent reports itself (see `ScriptOutput::native_events`).
    #[serde(default)]
    pub native_events: Vec<String>,
}

/// The variable that carries the key and the credential it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretEnv {
    /// The variable name.
    pub var: String,
    /// The provider id of the credential.
    pub provider: String,
    /// The key alias of the credential.
    pub alias: String,
}

/// One variable as shown to a user: secrets masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvEntry {
    /// The variable name.
    pub name: String,
    /// The value, or `********` for the key.
    pub value: String,
    /// Whether the value is the masked key.
    pub secret: bool,
}

/// A file the plan writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedFile {
    /// Absolute path inside the profile HOME.
    pub path: PathBuf,
    /// Serialisation format.
    pub format: FileFormat,
    /// How it combines with an existing file.
    pub merge: MergeMode,
    /// The content, with [`KEY_PLACEHOLDER`] where the key goes.
    pub content: String,
    /// Whether the content holds the key placeholder (the file is then written 0600).
    pub holds_key: bool,
    /// Dotted paths of tables whose entries ringlet owns (`mcpServers`): each run adds its
    /// entries, removes those it wrote before and no longer plans, and leaves entries the user
    /// made (or changed) alone, even of the same name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owned: Vec<String>,
}

/// A planned file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FileFormat {
    /// JSON.
    Json,
    /// TOML.
    Toml,
    /// Plain text.
    Text,
}

/// How a planned file combines with what is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum MergeMode {
    /// Overwrite.
    Replace,
    /// Deep-merge the planned keys into the existing document, keeping the agent's own state.
    Merge,
    /// Write only when the file does not exist.
    Create,
}

impl LaunchPlan {
    /// Whether an inherited variable named `name` must be removed from the agent's
    /// environment (listed in `env_remove`, or starting with one of `env_remove_prefixes`).
    /// Variables the plan sets itself are set after the removal, so they are never lost.
    pub fn removes(&self, name: &std::ffi::OsStr) -> bool {
        // Compared as bytes: a name that is not UTF-8 can still start with a prefix.
        let name = name.as_encoded_bytes();
        self.env_remove_prefixes
            .iter()
            .any(|p| name.starts_with(p.as_bytes()))
            || self.env_remove.iter().any(|v| v.as_bytes() == name)
    }

    /// The environment as a user should see it: every set variable plus the key, masked.
    pub fn masked_env(&self) -> Vec<EnvEntry> {
        let mut out: Vec<EnvEntry> = self
            .env
            .iter()
            .map(|(name, value)| EnvEntry {
                name: name.clone(),
                value: value.clone(),
                secret: false,
            })
            .collect();
        for secret in self.secret_env.iter().chain(&self.mcp_secrets) {
            out.retain(|e| e.name != secret.var);
            out.push(EnvEntry {
                name: secret.var.clone(),
                value: "********".into(),
                secret: true,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

/// The inputs of [`build_plan`].
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// The profile.
    pub profile: &'a Profile,
    /// The agent manifest.
    pub agent: &'a crate::catalog::agent::AgentManifest,
    /// The resolved base URL.
    pub base_url: String,
    /// The profile HOME.
    pub home: PathBuf,
    /// The working directory.
    pub cwd: PathBuf,
    /// What the config script returned.
    pub script: ScriptOutput,
    /// Every variable any known agent or provider reads; all are removed unless set.
    pub conflicting: &'a BTreeSet<String>,
    /// Arguments given at run time (after the profile's own).
    pub extra_args: &'a [String],
}

/// Variables that move an agent's state out of HOME; never inherited.
const STATE_VARS: &[&str] = &[
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
];

/// Builds the plan. Pure: no I/O.
pub fn build_plan(input: PlanInput<'_>) -> Result<LaunchPlan> {
    let PlanInput {
        profile,
        agent,
        base_url,
        home,
        cwd,
        script,
        conflicting,
        extra_args,
    } = input;

    let mut env: BTreeMap<String, String> = agent.env.set.clone();
    env.extend(script.env);
    env.extend(profile.env.clone());
    // Exactly, never lossily: an agent given another HOME keeps its state where none is read.
    let home_env = crate::paths::utf8_path(
        &home,
        "the profile HOME",
        "keep profiles under a UTF-8 path",
    )?;
    env.insert("HOME".into(), home_env.to_string());
    env.insert("RINGLET_PROFILE".into(), profile.alias.clone());

    let secret_env = match &profile.key_alias {
        Some(alias) => {
            let var = key_var(profile, agent, script.key_env.as_deref(), &env)?;
            // Hooks the agent fires run `ringlet hooks dispatch` in the agent's environment;
            // this tells dispatch which variable to keep from them (see hooks::scrub_list).
            env.insert(SECRET_VARS_ENV.into(), var.clone());
            Some(SecretEnv {
                var,
                provider: profile.provider.clone(),
                alias: alias.clone(),
            })
        }
        None => None,
    };

    let mut remove: BTreeSet<String> = conflicting.clone();
    remove.extend(STATE_VARS.iter().map(|s| s.to_string()));
    remove.extend(agent.env.reads.iter().cloned());
    remove.extend(
        [&agent.env.api_key, &agent.env.base_url, &agent.env.model]
            .into_iter()
            .flatten()
            .cloned(),
    );
    remove.retain(|v| !env.contains_key(v) && secret_env.as_ref().is_none_or(|s| &s.var != v));

    let files = script
        .files
        .into_iter()
        .map(|f| plan_file(&home, f, &agent.script))
        .collect::<Result<Vec<_>>>()?;

    let dirs = script
        .dirs
        .iter()
        .map(|d| {
            join_inside(&home, d).ok_or_else(|| Error::Script {
                script: agent.script.clone(),
                message: format!(
                    "directory '{}' must be relative and stay inside the profile HOME",
                    d.escape_debug()
                ),
            })
        })
        .collect::<Result<Vec<_>>>()?;

    let mut args = script.args;
    args.extend(profile.args.iter().cloned());
    args.extend(extra_args.iter().cloned());

    Ok(LaunchPlan {
        profile: profile.alias.clone(),
        agent: profile.agent.clone(),
        provider: profile.provider.clone(),
        shape: profile.shape,
        base_url,
        model: profile.model.clone(),
        program: profile
            .binary
            .clone()
            .unwrap_or_else(|| PathBuf::from(&agent.binary)),
        args,
        cwd,
        home,
        env,
        secret_env,
        mcp_secrets: Vec::new(),
        env_remove: remove.into_iter().collect(),
        env_remove_prefixes: vec![EnvCredentialStore::VAR_PREFIX.to_string()],
        dirs,
        files,
        native_events: script.native_events,
    })
}

/// The variable in an agent's environment that names the variables holding a secret (today
/// the one key variable of [`SecretEnv`]), so that `ringlet hooks dispatch`, which runs inside
/// that environment when the agent fires a hook, removes them from the hook's environment even
/// when only a config script knew the name.
pub(crate) const SECRET_VARS_ENV: &str = "RINGLET_SECRET_VARS";

/// Why a secret may not travel in variable `var` (the key's rules: not one the agent or ringlet
/// needs), or `None` when it may.
pub(crate) fn reserved_for_secret(var: &str) -> Option<String> {
    if NOT_FOR_THE_KEY.contains(&var) || NOT_FOR_THE_KEY_PREFIXES.iter().any(|p| var.starts_with(p))
    {
        return Some(format!(
            "it would replace {var}, which the agent or ringlet needs"
        ));
    }
    None
}

/// Variables the key may never replace: what the agent and every program it starts rely on,
/// and ringlet's own.
const NOT_FOR_THE_KEY: &[&str] = &[
    "HOME",
    "PATH",
    "USER",
    "LOGNAME",
    "SHELL",
    "PWD",
    "OLDPWD",
    "TERM",
    "TMPDIR",
    "LANG",
    "IFS",
    "ENV",
    "BASH_ENV",
    "RINGLET_HOME",
    "RINGLET_RUN_STARTED_MS",
    SECRET_VARS_ENV,
];

/// Prefixes of variables the key may never replace: the dynamic loader's, the locale's, and
/// the env credential backend's (which never reach an agent).
const NOT_FOR_THE_KEY_PREFIXES: &[&str] = &["LD_", "DYLD_", "LC_", EnvCredentialStore::VAR_PREFIX];

/// The variable that carries the key: the script's `key_env`, else the manifest's
/// `env.api_key`, else `RINGLET_API_KEY`. Refused when it is not a plain variable name, would
/// replace one the agent needs (`HOME` set to the key makes the agent write into a directory
/// named after it) or one the plan sets — the key must be the only thing in its variable.
fn key_var(
    profile: &Profile,
    agent: &crate::catalog::agent::AgentManifest,
    from_script: Option<&str>,
    env: &BTreeMap<String, String>,
) -> Result<String> {
    let var = from_script
        .or(agent.env.api_key.as_deref())
        .unwrap_or("RINGLET_API_KEY");
    let blame = |why: String| match from_script {
        Some(_) => Error::Script {
            script: agent.script.clone(),
            message: format!(
                "key_env '{}' {why}; return a variable of the agent's own, such as MY_AGENT_API_KEY",
                var.escape_debug()
            ),
        },
        None => Error::InvalidInput(format!(
            "agent '{}': env.api_key '{}' {why}; fix its manifest",
            agent.id,
            var.escape_debug()
        )),
    };
    let plain = var
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(blame(
            "is not a variable name (letters, digits and '_', not starting with a digit)".into(),
        ));
    }
    if NOT_FOR_THE_KEY.contains(&var) || NOT_FOR_THE_KEY_PREFIXES.iter().any(|p| var.starts_with(p))
    {
        return Err(blame(format!(
            "would replace {var}, which the agent or ringlet needs"
        )));
    }
    if profile.env.contains_key(var) {
        return Err(Error::InvalidInput(format!(
            "profile '{}' sets {var} in its environment, but the key goes in that variable; remove {var} from the profile's environment",
            profile.alias
        )));
    }
    if env.contains_key(var) {
        return Err(blame(format!(
            "would replace {var}, which the plan sets (HOME, RINGLET_PROFILE, the agent's and the script's own variables)"
        )));
    }
    Ok(var.to_string())
}

fn plan_file(home: &std::path::Path, file: ScriptFile, script: &str) -> Result<PlannedFile> {
    let bad = |message: String| Error::Script {
        script: script.to_string(),
        message,
    };
    let path = join_inside(home, &file.path).ok_or_else(|| {
        bad(format!(
            "file path '{}' must be relative and stay inside the profile HOME",
            file.path.escape_debug()
        ))
    })?;
    let (format, content) = match (file.json, file.toml, file.text) {
        (Some(json), None, None) => (
            FileFormat::Json,
            serde_json::to_string_pretty(&json).map_err(|e| bad(e.to_string()))?,
        ),
        (None, Some(value), None) => (
            FileFormat::Toml,
            toml::to_string_pretty(&value).map_err(|e| bad(format!("{}: {e}", file.path)))?,
        ),
        (None, None, Some(text)) => (FileFormat::Text, text),
        _ => {
            return Err(bad(format!(
                "file '{}' needs exactly one of json, toml or text",
                file.path
            )));
        }
    };
    let merge = match file.merge.as_deref() {
        None | Some("replace") => MergeMode::Replace,
        Some("merge") if format != FileFormat::Text => MergeMode::Merge,
        Some("create") => MergeMode::Create,
        Some(other) => {
            return Err(bad(format!(
                "file '{}': merge must be replace, merge (JSON/TOML only) or create, not '{other}'",
                file.path
            )));
        }
    };
    if !file.owned.is_empty() && (merge != MergeMode::Merge || format == FileFormat::Text) {
        return Err(bad(format!(
            "file '{}': owned tables need merge = \"merge\" (JSON/TOML)",
            file.path
        )));
    }
    Ok(PlannedFile {
        path,
        format,
        merge,
        holds_key: content.contains(KEY_PLACEHOLDER),
        content,
        owned: file.owned,
    })
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;
    use std::path::Path;

    use super::*;
    use crate::catalog::agent::AgentManifest;

    pub(crate) fn claude() -> AgentManifest {
        let (name, text) = crate::catalog::builtin::AGENTS
            .iter()
            .find(|(n, _)| *n == "claude.toml")
            .expect("built in");
        crate::catalog::manifest::parse(Path::new(name), text).expect("parses")
    }

    pub(crate) fn profile() -> Profile {
        serde_json::from_value(serde_json::json!({
            "alias": "w", "agent": "claude", "provider": "anthropic", "shape": "anthropic",
            "key_alias": "w", "env": {"KEEP": "1"},
            "metadata": {"created_at": "2026-01-01T00:00:00Z"}
        }))
        .expect("a profile")
    }

    pub(crate) fn plan_with(script: ScriptOutput) -> Result<LaunchPlan> {
        let agent = claude();
        build_plan(PlanInput {
            profile: &profile(),
            agent: &agent,
            base_url: "http://127.0.0.1:1".into(),
            home: PathBuf::from("/h"),
            cwd: PathBuf::from("/w"),
            script,
            conflicting: &BTreeSet::new(),
            extra_args: &[],
        })
    }

    #[test]
    fn every_env_backend_key_variable_is_removed_and_nothing_the_plan_sets() {
        let plan = plan_with(ScriptOutput::default()).expect("plans");
        assert!(plan.removes(OsStr::new("RINGLET_KEY_OPENAI_B")));
        assert!(plan.removes(OsStr::new("RINGLET_KEY_ANTHROPIC_W")));
        assert!(plan.removes(OsStr::new("CLAUDE_CONFIG_DIR")));
        assert!(plan.removes(OsStr::new("XDG_CONFIG_HOME")));
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            assert!(plan.removes(OsStr::from_bytes(b"RINGLET_KEY_\xff")));
        }
        for kept in [
            "PATH",
            "KEEP",
            "HOME",
            "RINGLET_PROFILE",
            "ANTHROPIC_API_KEY",
            "RINGLET_KEY",
        ] {
            assert!(!plan.removes(OsStr::new(kept)), "{kept} is removed");
        }
    }

    fn with_key_env(var: &str) -> Result<LaunchPlan> {
        plan_with(ScriptOutput {
            key_env: Some(var.into()),
            env: BTreeMap::from([("SCRIPT_SET".to_string(), "1".to_string())]),
            ..ScriptOutput::default()
        })
    }

    #[test]
    fn the_key_variable_is_named_in_the_plan_for_hooks_to_scrub() {
        let plan = with_key_env("MY_AGENT_KEY").expect("plans");
        let secret = plan.secret_env.as_ref().expect("a key");
        assert_eq!(secret.var, "MY_AGENT_KEY");
        assert_eq!(plan.env[SECRET_VARS_ENV], "MY_AGENT_KEY");
        assert!(
            !plan.env.contains_key("MY_AGENT_KEY"),
            "the plan holds no key"
        );
    }

    #[test]
    fn a_key_variable_the_agent_needs_or_the_plan_sets_is_refused() {
        for var in [
            "HOME",
            "PATH",
            "TMPDIR",
            "LD_PRELOAD",
            "RINGLET_PROFILE",
            "RINGLET_KEY_OPENAI_B",
            SECRET_VARS_ENV,
            "DISABLE_TELEMETRY",
            "SCRIPT_SET",
            "KEEP",
            "",
            "1ABC",
            "A-B",
            "A=B",
        ] {
            let err = with_key_env(var).expect_err(var);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("'{var}'")) || msg.contains(var),
                "{msg}"
            );
            if var == "KEEP" {
                assert!(msg.contains("profile 'w' sets KEEP"), "{msg}");
            } else {
                assert!(msg.contains("claude.rhai"), "{msg}");
            }
        }
        with_key_env("MY_AGENT_KEY").expect("a variable of its own");
        with_key_env("RINGLET_API_KEY").expect("ringlet's default key variable");
    }
}
