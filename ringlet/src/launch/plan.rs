//! Planning: a pure function from profile, agent, provider and script output to a
//! [`LaunchPlan`]. Nothing here touches the filesystem or the process environment, so every
//! decision is unit-testable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::catalog::wire::WireShape;
use crate::error::{Error, Result};
use crate::launch::script::{KEY_PLACEHOLDER, ScriptFile, ScriptOutput};
use crate::profile::{Profile, join_inside};

/// Everything needed to run an agent for a profile. Serialisable, free of secrets: the key is
/// named by [`SecretEnv`] and filled in only when the plan runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Inherited variables removed because they would leak another provider's settings or move
    /// the agent's state out of its HOME.
    pub env_remove: Vec<String>,
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
}

/// A planned file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
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
pub enum MergeMode {
    /// Overwrite.
    Replace,
    /// Deep-merge the planned keys into the existing document, keeping the agent's own state.
    Merge,
    /// Write only when the file does not exist.
    Create,
}

impl LaunchPlan {
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
        if let Some(secret) = &self.secret_env {
            out.retain(|e| e.name != secret.var);
            out.push(EnvEntry {
                name: secret.var.clone(),
                value: "********".into(),
                secret: true,
            });
            out.sort_by(|a, b| a.name.cmp(&b.name));
        }
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

    let secret_env = profile.key_alias.as_ref().map(|alias| {
        let var = script
            .key_env
            .clone()
            .or_else(|| agent.env.api_key.clone())
            .unwrap_or_else(|| "RINGLET_API_KEY".into());
        env.remove(&var);
        SecretEnv {
            var,
            provider: profile.provider.clone(),
            alias: alias.clone(),
        }
    });

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
        env_remove: remove.into_iter().collect(),
        dirs,
        files,
        native_events: script.native_events,
    })
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
    Ok(PlannedFile {
        path,
        format,
        merge,
        holds_key: content.contains(KEY_PLACEHOLDER),
        content,
    })
}
