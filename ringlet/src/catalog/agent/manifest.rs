//! The agent manifest: everything ringlet knows about one coding-agent CLI, as TOML data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::wire::WireShape;

/// A coding-agent CLI described as data. Built-ins live in `ringlet/assets/agents/`; users add or
/// override them in `agents.d/*.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentManifest {
    /// Stable id used on the command line and in profiles (`claude`).
    pub id: String,
    /// Display name (`Claude Code`).
    pub name: String,
    /// The executable looked up on PATH (`claude`).
    pub binary: String,
    /// Flag that prints the version.
    #[serde(default = "default_version_flag")]
    pub version_flag: String,
    /// How to install it, shown when it is missing.
    #[serde(default)]
    pub install: String,
    /// Wire formats the agent can speak, most preferred first.
    pub speaks: Vec<WireShape>,
    /// The Rhai config script (file name looked up in the user's `scripts/`, then built-ins).
    pub script: String,
    /// The arguments of a one-shot, non-interactive run (`profiles run ALIAS --prompt …`):
    /// `"{prompt}"` stands for the prompt, which is appended when no argument names it.
    #[serde(default)]
    pub one_shot: Vec<String>,
    /// How the one-shot answer is read from the agent's standard output (default: all of it).
    #[serde(default, skip_serializing_if = "is_default_answer")]
    pub one_shot_answer: super::one_shot::OneShotAnswer,
    /// Environment variables the agent reads.
    #[serde(default)]
    pub env: AgentEnv,
    /// State the agent keeps under its HOME, relative paths.
    #[serde(default)]
    pub state: Vec<String>,
    /// Where the agent writes its own session logs, relative to HOME (for usage ingestion).
    #[serde(default)]
    pub logs: Vec<LogLocation>,
    /// `[tasks.NAME]`: setup tasks every profile of this agent can run with `ringlet env setup`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tasks: BTreeMap<String, crate::setup::SetupTask>,
    /// The state `ringlet import AGENT --to ALIAS` brings from the user's HOME into a profile
    /// HOME (settings, memory, MCP servers, project trust, history), never credentials.
    #[serde(default, skip_serializing_if = "crate::state::StateLayout::is_empty")]
    pub import_state: crate::state::StateLayout,
}

/// The environment variables an agent reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEnv {
    /// The variable that carries the API key, when the agent reads it from the environment.
    #[serde(default)]
    pub api_key: Option<String>,
    /// The variable that carries the base URL, when the agent reads it from the environment.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The variable that carries the model, when the agent reads it from the environment.
    #[serde(default)]
    pub model: Option<String>,
    /// Every other variable the agent reads that could carry another provider's settings or move
    /// its state out of HOME. The launcher removes these unless the plan sets them.
    #[serde(default)]
    pub reads: Vec<String>,
    /// Fixed variables always set (telemetry off, and so on).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

/// One place an agent writes usage logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogLocation {
    /// Path relative to HOME (a directory or file).
    pub path: String,
    /// Format name understood by the usage importers.
    pub format: String,
}

fn is_default_answer(a: &super::one_shot::OneShotAnswer) -> bool {
    *a == super::one_shot::OneShotAnswer::default()
}

fn default_version_flag() -> String {
    "--version".to_string()
}

impl crate::catalog::manifest::HasId for AgentManifest {
    fn id(&self) -> &str {
        &self.id
    }
}
