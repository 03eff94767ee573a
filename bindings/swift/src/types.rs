//! The records the binding hands to Swift (and takes from it), each converted from the core's
//! serde type field by field. Times are `Date`s, durations `TimeInterval`s, paths strings.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn source(s: &ringlet::Source) -> String {
    match s {
        ringlet::Source::File(p) => path(p),
        _ => "built-in".into(),
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The directories ringlet uses.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Paths {
    pub config_dir: String,
    pub data_dir: String,
    pub cache_dir: String,
}

impl From<&ringlet::Paths> for Paths {
    fn from(p: &ringlet::Paths) -> Self {
        Self {
            config_dir: path(p.config_dir()),
            data_dir: path(p.data_dir()),
            cache_dir: path(p.cache_dir()),
        }
    }
}

/// Something worth telling the user that is not an error.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Warning {
    pub code: String,
    pub message: String,
}

impl From<ringlet::Warning> for Warning {
    fn from(w: ringlet::Warning) -> Self {
        Self {
            code: w.code,
            message: w.message,
        }
    }
}

/// An agent and whether (and where) it is installed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct AgentInfo {
    pub id: String,
    pub name: String,
    pub installed: bool,
    pub path: Option<String>,
    pub version: Option<String>,
    pub version_error: Option<String>,
    pub checked_at: SystemTime,
    pub speaks: Vec<String>,
    pub profiles: u32,
    pub install: String,
    /// `built-in`, or the manifest file.
    pub source: String,
}

impl From<ringlet::AgentInfo> for AgentInfo {
    fn from(a: ringlet::AgentInfo) -> Self {
        Self {
            id: a.id,
            name: a.name,
            installed: a.installed,
            path: a.path.as_deref().map(path),
            version: a.version,
            version_error: a.version_error,
            checked_at: a.checked_at.into(),
            speaks: a.speaks.iter().map(|s| s.as_str().to_string()).collect(),
            profiles: count(a.profiles),
            install: a.install,
            source: source(&a.source),
        }
    }
}

/// A provider: its endpoints (name → wire shape → base URL), auth and models.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProviderInfo {
    pub id: String,
    pub name: String,
    pub endpoints: HashMap<String, HashMap<String, String>>,
    pub default_endpoint: Option<String>,
    pub shapes: Vec<String>,
    pub auth_env: Option<String>,
    pub needs_key: bool,
    pub default_model: Option<String>,
    pub models: Vec<String>,
    pub profiles: u32,
    /// `built-in`, or the manifest file.
    pub source: String,
}

impl From<ringlet::ProviderInfo> for ProviderInfo {
    fn from(p: ringlet::ProviderInfo) -> Self {
        Self {
            id: p.id,
            name: p.name,
            endpoints: p
                .endpoints
                .into_iter()
                .map(|(name, urls)| {
                    let urls = urls
                        .into_iter()
                        .map(|(shape, url)| (shape.as_str().to_string(), url))
                        .collect();
                    (name, urls)
                })
                .collect(),
            default_endpoint: p.default_endpoint,
            shapes: p.shapes.iter().map(|s| s.as_str().to_string()).collect(),
            auth_env: p.auth_env,
            needs_key: p.needs_key,
            default_model: p.default_model,
            models: p.models,
            profiles: count(p.profiles),
            source: source(&p.source),
        }
    }
}

/// What `init` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct InitReport {
    pub config_dir: String,
    pub data_dir: String,
    pub cache_dir: String,
    pub agents: Vec<AgentInfo>,
}

impl From<ringlet::InitReport> for InitReport {
    fn from(r: ringlet::InitReport) -> Self {
        Self {
            config_dir: path(&r.config_dir),
            data_dir: path(&r.data_dir),
            cache_dir: path(&r.cache_dir),
            agents: r.agents.into_iter().map(Into::into).collect(),
        }
    }
}

/// A request to create a profile. Only agent, alias and provider are required.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct NewProfile {
    pub agent: String,
    pub alias: String,
    pub provider: String,
    #[uniffi(default = None)]
    pub endpoint: Option<String>,
    #[uniffi(default = None)]
    pub custom_endpoint: Option<String>,
    /// `anthropic`, `openai`, `openai-chat`, `openai-responses` or `gemini`.
    #[uniffi(default = None)]
    pub shape: Option<String>,
    #[uniffi(default = None)]
    pub model: Option<String>,
    #[uniffi(default = None)]
    pub key_alias: Option<String>,
    #[uniffi(default)]
    pub env: HashMap<String, String>,
    #[uniffi(default = None)]
    pub working_dir: Option<String>,
    #[uniffi(default = None)]
    pub binary: Option<String>,
    #[uniffi(default = [])]
    pub args: Vec<String>,
}

impl From<NewProfile> for ringlet::NewProfile {
    fn from(n: NewProfile) -> Self {
        let mut req = ringlet::NewProfile::new(n.agent, n.alias, n.provider);
        req.endpoint = n.endpoint;
        req.custom_endpoint = n.custom_endpoint;
        req.shape = n.shape;
        req.model = n.model;
        req.key_alias = n.key_alias;
        req.env = n.env.into_iter().collect();
        req.working_dir = n.working_dir.map(Into::into);
        req.binary = n.binary.map(Into::into);
        req.args = n.args;
        req
    }
}

/// A profile: agent + provider + key alias (never the key) + its own HOME.
#[derive(Debug, Clone, uniffi::Record)]
pub struct Profile {
    pub alias: String,
    pub agent: String,
    pub provider: String,
    pub endpoint: Option<String>,
    pub endpoint_url: Option<String>,
    pub shape: String,
    pub model: Option<String>,
    pub key_alias: Option<String>,
    pub binary: Option<String>,
    pub working_dir: Option<String>,
    pub args: Vec<String>,
    pub env: HashMap<String, String>,
    pub created_at: SystemTime,
    pub last_used: Option<SystemTime>,
    pub total_runs: u64,
}

impl From<ringlet::Profile> for Profile {
    fn from(p: ringlet::Profile) -> Self {
        Self {
            alias: p.alias,
            agent: p.agent,
            provider: p.provider,
            endpoint: p.endpoint,
            endpoint_url: p.endpoint_url,
            shape: p.shape.as_str().to_string(),
            model: p.model,
            key_alias: p.key_alias,
            binary: p.binary.as_deref().map(path),
            working_dir: p.working_dir.as_deref().map(path),
            args: p.args,
            env: p.env.into_iter().collect(),
            created_at: p.metadata.created_at.into(),
            last_used: p.metadata.last_used.map(Into::into),
            total_runs: p.metadata.total_runs,
        }
    }
}

/// Names one stored key: `provider/alias`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CredentialKey {
    pub provider: String,
    pub alias: String,
}

impl From<ringlet::CredentialKey> for CredentialKey {
    fn from(k: ringlet::CredentialKey) -> Self {
        Self {
            provider: k.provider,
            alias: k.alias,
        }
    }
}

/// What `migrateKeys` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct MigrationReport {
    pub moved: Vec<CredentialKey>,
    pub already_present: Vec<CredentialKey>,
    pub conflicts: Vec<CredentialKey>,
}

impl From<ringlet::MigrationReport> for MigrationReport {
    fn from(r: ringlet::MigrationReport) -> Self {
        let keys = |v: Vec<ringlet::CredentialKey>| v.into_iter().map(Into::into).collect();
        Self {
            moved: keys(r.moved),
            already_present: keys(r.already_present),
            conflicts: keys(r.conflicts),
        }
    }
}

/// The variable that carries the key and the credential it comes from.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SecretEnv {
    pub var: String,
    pub provider: String,
    pub alias: String,
}

/// One variable as shown to a user: the key masked.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnvEntry {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

/// A file the plan writes into the profile HOME.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlannedFile {
    pub path: String,
    /// `json`, `toml` or `text`.
    pub format: String,
    /// `replace`, `merge` or `create`.
    pub merge: String,
    pub content: String,
    pub holds_key: bool,
}

/// Everything needed to run an agent for a profile. Holds no secret: the key is named by
/// `secretEnv` and shown masked in `maskedEnv`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LaunchPlan {
    pub profile: String,
    pub agent: String,
    pub provider: String,
    pub shape: String,
    pub base_url: String,
    pub model: Option<String>,
    pub program: String,
    pub args: Vec<String>,
    pub cwd: String,
    pub home: String,
    pub env: HashMap<String, String>,
    pub secret_env: Option<SecretEnv>,
    pub env_remove: Vec<String>,
    pub dirs: Vec<String>,
    pub files: Vec<PlannedFile>,
    pub masked_env: Vec<EnvEntry>,
}

/// The serde name of a unit enum (`FileFormat`, `MergeMode`).
fn serde_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

impl From<ringlet::LaunchPlan> for LaunchPlan {
    fn from(p: ringlet::LaunchPlan) -> Self {
        let masked_env = p
            .masked_env()
            .into_iter()
            .map(|e| EnvEntry {
                name: e.name,
                value: e.value,
                secret: e.secret,
            })
            .collect();
        Self {
            profile: p.profile,
            agent: p.agent,
            provider: p.provider,
            shape: p.shape.as_str().to_string(),
            base_url: p.base_url,
            model: p.model,
            program: path(&p.program),
            args: p.args,
            cwd: path(&p.cwd),
            home: path(&p.home),
            env: p.env.into_iter().collect(),
            secret_env: p.secret_env.map(|s| SecretEnv {
                var: s.var,
                provider: s.provider,
                alias: s.alias,
            }),
            env_remove: p.env_remove,
            dirs: p.dirs.iter().map(|d| path(d)).collect(),
            files: p
                .files
                .into_iter()
                .map(|f| PlannedFile {
                    path: path(&f.path),
                    format: serde_name(&f.format),
                    merge: serde_name(&f.merge),
                    content: f.content,
                    holds_key: f.holds_key,
                })
                .collect(),
            masked_env,
        }
    }
}

/// What happened when an agent ran.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RunOutcome {
    /// The agent's exit code; 128 + N when it was killed by signal N.
    pub exit_code: i32,
    pub started_at: SystemTime,
    pub ended_at: SystemTime,
    pub duration: Duration,
    pub pid: u32,
}

impl From<ringlet::RunOutcome> for RunOutcome {
    fn from(o: ringlet::RunOutcome) -> Self {
        Self {
            exit_code: o.exit_code,
            started_at: o.started_at.into(),
            ended_at: o.ended_at.into(),
            duration: o.duration,
            pid: o.pid,
        }
    }
}
