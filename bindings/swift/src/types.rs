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
        ringlet::Source::File(p) | ringlet::Source::Registry(p) => path(p),
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

/// Changes to a profile: what is unset keeps the profile's value.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct ProfileUpdate {
    /// When runs are sandboxed: `off`, `always` or `remote`.
    #[uniffi(default = None)]
    pub sandbox: Option<String>,
    /// The model; empty for the provider's default.
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// A named endpoint of the provider; replaces a custom endpoint unless one is given too.
    #[uniffi(default = None)]
    pub endpoint: Option<String>,
    #[uniffi(default = None)]
    pub custom_endpoint: Option<String>,
    /// The custom endpoint's wire shape.
    #[uniffi(default = None)]
    pub shape: Option<String>,
    /// Variables to add or replace.
    #[uniffi(default)]
    pub set_env: HashMap<String, String>,
    /// Variables to remove; each must be set in the profile.
    #[uniffi(default = [])]
    pub unset_env: Vec<String>,
    /// New default arguments (empty: none).
    #[uniffi(default = None)]
    pub args: Option<Vec<String>>,
    #[uniffi(default = None)]
    pub working_dir: Option<String>,
    /// Start the agent wherever it is run from again.
    #[uniffi(default = false)]
    pub clear_working_dir: bool,
    #[uniffi(default = None)]
    pub binary: Option<String>,
    /// Run the agent manifest's binary again.
    #[uniffi(default = false)]
    pub clear_binary: bool,
}

impl TryFrom<ProfileUpdate> for ringlet::ProfileUpdate {
    type Error = ringlet::Error;

    fn try_from(u: ProfileUpdate) -> ringlet::Result<Self> {
        let mut update = ringlet::ProfileUpdate::new();
        if let Some(mode) = &u.sandbox {
            update = update.sandbox_named(mode)?;
        }
        update.model = u.model;
        update.endpoint = u.endpoint;
        update.custom_endpoint = u.custom_endpoint;
        update.shape = u.shape;
        update.set_env = u.set_env.into_iter().collect();
        update.unset_env = u.unset_env;
        update.args = u.args;
        update.working_dir = u.working_dir.map(Into::into);
        update.clear_working_dir = u.clear_working_dir;
        update.binary = u.binary.map(Into::into);
        update.clear_binary = u.clear_binary;
        Ok(update)
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
    /// When runs are sandboxed: `off`, `always` or `remote`.
    pub sandbox: String,
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
            sandbox: p.sandbox.mode.as_str().to_string(),
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

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn time<T: Into<SystemTime>>(t: Option<T>) -> Option<SystemTime> {
    t.map(Into::into)
}

/// Which usage a report covers and how it is grouped; every field is optional.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct UsageQuery {
    #[uniffi(default = None)]
    pub profile: Option<String>,
    #[uniffi(default = None)]
    pub agent: Option<String>,
    #[uniffi(default = None)]
    pub provider: Option<String>,
    #[uniffi(default = None)]
    pub model: Option<String>,
    /// A day (`2026-05-01`), an RFC 3339 time, `today` or `Nd` (N days ago).
    #[uniffi(default = None)]
    pub since: Option<String>,
    /// Up to and including this day, or strictly before this time.
    #[uniffi(default = None)]
    pub until: Option<String>,
    /// `total`, `day`, `week`, `month`, `model`, `profile`, `agent`, `provider` or `session`;
    /// unset gives one row per profile with its agent and provider.
    #[uniffi(default = None)]
    pub group: Option<String>,
    /// The reader's time zone for dates and day, week and month boundaries: an IANA name
    /// (`Europe/Berlin`) or `UTC`; unset uses the system's zone.
    #[uniffi(default = None)]
    pub timezone: Option<String>,
    /// Split each grouped row by `model`, `agent`, `profile` or `provider`.
    #[uniffi(default = None)]
    pub breakdown: Option<String>,
}

impl TryFrom<UsageQuery> for ringlet::UsageQuery {
    type Error = ringlet::Error;

    fn try_from(q: UsageQuery) -> ringlet::Result<Self> {
        let group = q
            .group
            .as_deref()
            .map(ringlet::UsageGroup::parse)
            .transpose()?;
        let breakdown = q
            .breakdown
            .as_deref()
            .map(ringlet::UsageGroup::parse)
            .transpose()?;
        Ok(Self {
            profile: q.profile,
            agent: q.agent,
            provider: q.provider,
            model: q.model,
            since: q.since,
            until: q.until,
            group,
            timezone: q.timezone,
            breakdown,
            // The project filter is not bound yet (docs/bindings.md).
            project: None,
        })
    }
}

/// Aggregated usage for one group (`key`); per-profile rows also name the profile, agent and
/// provider.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UsageRow {
    pub key: String,
    pub profile: Option<String>,
    pub agent: Option<String>,
    pub provider: Option<String>,
    pub events: i64,
    pub input: i64,
    pub output: i64,
    pub cache_creation: i64,
    pub cache_creation_5m: i64,
    pub cache_creation_1h: i64,
    pub cache_read: i64,
    pub reasoning: i64,
    pub total_tokens: i64,
    /// Nano-dollars, priced events only.
    pub cost_nanos: i64,
    pub cost_usd: f64,
    pub priced_events: i64,
    /// Events without a price: the true cost is higher than `cost_usd` when this is not 0.
    pub unpriced_events: i64,
}

impl From<ringlet::UsageRow> for UsageRow {
    fn from(r: ringlet::UsageRow) -> Self {
        Self {
            key: r.key,
            profile: None,
            agent: None,
            provider: None,
            events: n(r.events),
            input: n(r.input),
            output: n(r.output),
            cache_creation: n(r.cache_creation),
            cache_creation_5m: n(r.cache_creation_5m),
            cache_creation_1h: n(r.cache_creation_1h),
            cache_read: n(r.cache_read),
            reasoning: n(r.reasoning),
            total_tokens: n(r.total_tokens),
            cost_nanos: r.cost_nanos,
            cost_usd: r.cost_usd,
            priced_events: n(r.priced_events),
            unpriced_events: n(r.unpriced_events),
        }
    }
}

impl From<ringlet::UsageLine> for UsageRow {
    fn from(l: ringlet::UsageLine) -> Self {
        Self {
            profile: l.profile,
            agent: l.agent,
            provider: l.provider,
            ..l.usage.into()
        }
    }
}

/// Aggregated usage: rows and their total.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UsageReport {
    /// `profile`, `day`, `week`, `month`, `model`, `session`, …
    pub group: String,
    pub since: Option<SystemTime>,
    /// Exclusive.
    pub until: Option<SystemTime>,
    pub rows: Vec<UsageRow>,
    pub total: UsageRow,
}

impl From<ringlet::UsageReport> for UsageReport {
    fn from(r: ringlet::UsageReport) -> Self {
        Self {
            group: r.group,
            since: time(r.since),
            until: time(r.until),
            rows: r.rows.into_iter().map(Into::into).collect(),
            total: r.total.into(),
        }
    }
}

/// One model response attributed to a profile.
#[derive(Debug, Clone, uniffi::Record)]
pub struct UsageEvent {
    pub time: SystemTime,
    pub profile: String,
    pub agent: String,
    pub provider: String,
    pub model: String,
    pub input: i64,
    pub output: i64,
    pub cache_creation: i64,
    pub cache_creation_5m: i64,
    pub cache_creation_1h: i64,
    pub cache_read: i64,
    pub reasoning: i64,
    /// Nano-dollars; null when unpriced.
    pub cost_nanos: Option<i64>,
    /// `computed`, `reported` or `unpriced`.
    pub cost_source: String,
    pub session_id: Option<String>,
    pub origin: String,
    pub dedup_key: String,
    pub rank: i64,
}

impl From<ringlet::UsageEvent> for UsageEvent {
    fn from(e: ringlet::UsageEvent) -> Self {
        Self {
            time: e.time.into(),
            profile: e.profile,
            agent: e.agent,
            provider: e.provider,
            model: e.model,
            input: n(e.tokens.input),
            output: n(e.tokens.output),
            cache_creation: n(e.tokens.cache_creation),
            cache_creation_5m: n(e.tokens.cache_creation_5m),
            cache_creation_1h: n(e.tokens.cache_creation_1h),
            cache_read: n(e.tokens.cache_read),
            reasoning: n(e.tokens.reasoning),
            cost_nanos: e.cost_nanos,
            cost_source: e.cost_source.as_str().to_string(),
            session_id: e.session_id,
            origin: e.origin,
            dedup_key: e.dedup_key,
            rank: e.rank,
        }
    }
}

/// What reading logs did, over all files.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportSummary {
    pub files_seen: i64,
    pub files_scanned: i64,
    pub files_unchanged: i64,
    pub files_restarted: i64,
    pub bytes_read: i64,
    pub lines: i64,
    pub records: i64,
    pub inserted: i64,
    pub replaced: i64,
    pub duplicates: i64,
    pub malformed_lines: i64,
    pub ignored_lines: i64,
    pub pending_tails: i64,
    pub unpriced_models: Vec<String>,
    /// Files that could not be read: `path: message`.
    pub failures: Vec<String>,
    pub unknown_formats: Vec<String>,
}

impl From<ringlet::ImportSummary> for ImportSummary {
    fn from(s: ringlet::ImportSummary) -> Self {
        Self {
            files_seen: n(s.files_seen),
            files_scanned: n(s.files_scanned),
            files_unchanged: n(s.files_unchanged),
            files_restarted: n(s.files_restarted),
            bytes_read: n(s.bytes_read),
            lines: n(s.lines),
            records: n(s.records),
            inserted: n(s.inserted),
            replaced: n(s.replaced),
            duplicates: n(s.duplicates),
            malformed_lines: n(s.malformed_lines),
            ignored_lines: n(s.ignored_lines),
            pending_tails: n(s.pending_tails),
            unpriced_models: s.unpriced_models.into_iter().collect(),
            failures: s
                .failures
                .into_iter()
                .map(|f| format!("{}: {}", f.path.display(), f.message))
                .collect(),
            unknown_formats: s.unknown_formats,
        }
    }
}

/// What `sync_usage` read for one profile.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ProfileSync {
    pub profile: String,
    pub agent: String,
    pub summary: ImportSummary,
    /// Why this profile could not be read (the others still were).
    pub error: Option<String>,
}

/// What `sync_usage` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SyncReport {
    pub profiles: Vec<ProfileSync>,
    pub total: ImportSummary,
}

impl From<ringlet::SyncReport> for SyncReport {
    fn from(r: ringlet::SyncReport) -> Self {
        Self {
            profiles: r
                .profiles
                .into_iter()
                .map(|p| ProfileSync {
                    profile: p.profile,
                    agent: p.agent,
                    summary: p.summary.into(),
                    error: p.error,
                })
                .collect(),
            total: r.total.into(),
        }
    }
}

/// A request to import an agent's existing logs into a profile.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportRequest {
    pub agent: String,
    pub profile: String,
    /// A HOME holding the agent's logs, a log directory or one log file; unset reads the
    /// user's real HOME.
    #[uniffi(default = None)]
    pub from: Option<String>,
}

impl From<ImportRequest> for ringlet::ImportRequest {
    fn from(r: ImportRequest) -> Self {
        Self {
            agent: r.agent,
            profile: r.profile,
            from: r.from.map(Into::into),
        }
    }
}

/// Progress of an import: reported before each log file and once at the end.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportProgress {
    pub files_done: i64,
    pub files_total: i64,
    /// The file read next (the last one read, in the final report).
    pub path: String,
    /// New events so far.
    pub inserted: i64,
}

impl From<&ringlet::ImportProgress> for ImportProgress {
    fn from(p: &ringlet::ImportProgress) -> Self {
        Self {
            files_done: n(p.files_done),
            files_total: n(p.files_total),
            path: path(&p.path),
            inserted: n(p.inserted),
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportReport {
    pub agent: String,
    pub profile: String,
    pub sources: Vec<String>,
    pub summary: ImportSummary,
    pub cost_nanos: i64,
    pub cost_usd: f64,
    pub unpriced_events: i64,
    pub first_event: Option<SystemTime>,
    pub last_event: Option<SystemTime>,
}

impl From<ringlet::ImportReport> for ImportReport {
    fn from(r: ringlet::ImportReport) -> Self {
        Self {
            agent: r.agent,
            profile: r.profile,
            sources: r.sources.iter().map(|p| path(p)).collect(),
            summary: r.summary.into(),
            cost_nanos: r.cost_nanos,
            cost_usd: r.cost_usd,
            unpriced_events: n(r.unpriced_events),
            first_event: time(r.first_event),
            last_event: time(r.last_event),
        }
    }
}

/// Existing logs of an agent in the user's HOME.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportCandidate {
    pub agent: String,
    pub name: String,
    pub paths: Vec<String>,
    pub files: i64,
    pub profiles: Vec<String>,
}

impl From<ringlet::ImportCandidate> for ImportCandidate {
    fn from(c: ringlet::ImportCandidate) -> Self {
        Self {
            agent: c.agent,
            name: c.name,
            paths: c.paths.iter().map(|p| path(p)).collect(),
            files: n(c.files),
            profiles: c.profiles,
        }
    }
}

/// What `update_pricing` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PricingReport {
    pub source: String,
    pub snapshot: String,
    pub models: u32,
    pub skipped: u32,
    /// Events re-priced: looked at, changed, still unpriced.
    pub repriced_examined: i64,
    pub repriced_updated: i64,
    pub repriced_unpriced: i64,
}

impl From<ringlet::PricingReport> for PricingReport {
    fn from(r: ringlet::PricingReport) -> Self {
        Self {
            source: r.source,
            snapshot: path(&r.snapshot),
            models: count(r.models),
            skipped: count(r.skipped),
            repriced_examined: n(r.repriced.examined),
            repriced_updated: n(r.repriced.updated),
            repriced_unpriced: n(r.repriced.unpriced),
        }
    }
}

/// Where prices come from now.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PricingStatus {
    pub snapshot: Option<String>,
    pub updated_at: Option<SystemTime>,
    pub models: u32,
}

impl From<ringlet::PricingStatus> for PricingStatus {
    fn from(s: ringlet::PricingStatus) -> Self {
        Self {
            snapshot: s.snapshot.as_deref().map(path),
            updated_at: time(s.updated_at),
            models: count(s.models),
        }
    }
}

/// One check of `doctor()`.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DoctorCheck {
    /// `agent:claude`, `credentials`, `ledger`…
    pub name: String,
    /// `ok`, `warn` or `fail`.
    pub status: String,
    pub detail: String,
    pub fix: Option<String>,
}

/// What `prompt()` got: the agent's answer (read from its output as its manifest says), its
/// exit code, and everything it printed (each stream capped at 16 MiB).
#[derive(Debug, Clone, uniffi::Record)]
pub struct PromptAnswer {
    pub answer: String,
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<ringlet::PromptAnswer> for PromptAnswer {
    fn from(a: ringlet::PromptAnswer) -> Self {
        Self {
            answer: a.answer,
            exit_code: a.exit_code,
            stdout: a.stdout,
            stderr: a.stderr,
        }
    }
}

/// What `doctor()` found; `healthy` is false when a check failed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct DoctorReport {
    pub checks: Vec<DoctorCheck>,
    pub healthy: bool,
}

impl From<ringlet::DoctorReport> for DoctorReport {
    fn from(r: ringlet::DoctorReport) -> Self {
        Self {
            checks: r
                .checks
                .into_iter()
                .map(|c| DoctorCheck {
                    name: c.name,
                    status: match c.status {
                        ringlet::CheckStatus::Ok => "ok",
                        ringlet::CheckStatus::Warn => "warn",
                        _ => "fail",
                    }
                    .to_string(),
                    detail: c.detail,
                    fix: c.fix,
                })
                .collect(),
            healthy: r.healthy,
        }
    }
}

/// Run statistics for one profile (or agent), or all of them.
#[derive(Debug, Clone, uniffi::Record)]
pub struct StatsRow {
    pub profile: String,
    pub agent: String,
    pub provider: String,
    pub runs: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub unfinished: i64,
    pub total_duration_ms: i64,
    pub avg_duration_ms: i64,
    pub peak_rss_bytes: Option<i64>,
    pub cpu_user_ms: i64,
    pub cpu_system_ms: i64,
    pub last_run: Option<SystemTime>,
}

impl From<ringlet::StatsRow> for StatsRow {
    fn from(r: ringlet::StatsRow) -> Self {
        Self {
            profile: r.profile,
            agent: r.agent,
            provider: r.provider,
            runs: n(r.runs),
            succeeded: n(r.succeeded),
            failed: n(r.failed),
            unfinished: n(r.unfinished),
            total_duration_ms: n(r.total_duration_ms),
            avg_duration_ms: n(r.avg_duration_ms),
            peak_rss_bytes: r.peak_rss_bytes.map(n),
            cpu_user_ms: n(r.cpu_user_ms),
            cpu_system_ms: n(r.cpu_system_ms),
            last_run: time(r.last_run),
        }
    }
}

/// Runs, session time and resources per profile.
#[derive(Debug, Clone, uniffi::Record)]
pub struct StatsReport {
    pub rows: Vec<StatsRow>,
    pub total: StatsRow,
}

impl From<ringlet::StatsReport> for StatsReport {
    fn from(r: ringlet::StatsReport) -> Self {
        Self {
            rows: r.rows.into_iter().map(Into::into).collect(),
            total: r.total.into(),
        }
    }
}

/// A request to add a hook. Exactly one of `shell`, `rhai_file`, `rhai_script` and `webhook`.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct NewHook {
    /// The profile; unset for every profile.
    #[uniffi(default = None)]
    pub profile: Option<String>,
    /// `pre-tool-use`, `tool-use`, `stop`, `start`, `notify`, `cost-threshold` or
    /// `daily-rollup`.
    pub event: String,
    #[uniffi(default = None)]
    pub shell: Option<String>,
    #[uniffi(default = None)]
    pub rhai_file: Option<String>,
    #[uniffi(default = None)]
    pub rhai_script: Option<String>,
    #[uniffi(default = None)]
    pub webhook: Option<String>,
    #[uniffi(default = None)]
    pub webhook_template: Option<String>,
    #[uniffi(default = None)]
    pub matcher: Option<String>,
    #[uniffi(default = None)]
    pub timeout_ms: Option<u32>,
    /// `day` or `month`, for `cost-threshold`.
    #[uniffi(default = None)]
    pub period: Option<String>,
    /// USD, for `cost-threshold`.
    #[uniffi(default = None)]
    pub threshold: Option<f64>,
    /// The budget the threshold is part of, for `cost-threshold`.
    #[uniffi(default = None)]
    pub of: Option<f64>,
}

impl From<NewHook> for ringlet::NewHook {
    fn from(h: NewHook) -> Self {
        Self {
            profile: h.profile,
            event: h.event,
            shell: h.shell,
            rhai_file: h.rhai_file.map(Into::into),
            rhai_script: h.rhai_script,
            webhook: h.webhook,
            webhook_template: h.webhook_template,
            matcher: h.matcher,
            timeout_ms: h.timeout_ms.map(u64::from),
            period: h.period,
            threshold: h.threshold,
            of: h.of,
            // Team alerts are a CLI and server feature (the bindings build without `team`).
            scope: None,
        }
    }
}

/// A hook rule with where it lives.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HookEntry {
    pub id: String,
    /// The profile; unset for a global rule (every profile).
    pub profile: Option<String>,
    pub event: String,
    pub matcher: Option<String>,
    pub timeout_ms: Option<i64>,
    /// `cost-threshold`: `day` or `month`.
    pub period: Option<String>,
    /// `cost-threshold`: USD.
    pub threshold: Option<f64>,
    /// `cost-threshold`: the budget.
    pub of: Option<f64>,
    /// `shell`, `rhai` or `webhook`.
    pub action: String,
    /// A one-line description safe to show (webhook URLs lose their path).
    pub summary: String,
    /// `shell`: the command.
    pub command: Option<String>,
    /// `rhai`: the script source and where it was read from.
    pub script: Option<String>,
    pub script_source: Option<String>,
    /// `webhook`: the URL and JSON template.
    pub url: Option<String>,
    pub template: Option<String>,
}

impl From<ringlet::HookEntry> for HookEntry {
    fn from(e: ringlet::HookEntry) -> Self {
        let rule = e.rule;
        let summary = rule.action.summary();
        let action = rule.action.kind().to_string();
        let ringlet::HookActionFields {
            command,
            script,
            script_source,
            url,
            template,
        } = rule.action.into_fields();
        Self {
            id: rule.id,
            profile: e.profile,
            event: rule.event.as_str().to_string(),
            matcher: rule.matcher,
            timeout_ms: rule.timeout_ms.map(n),
            period: rule.threshold.map(|t| t.period.as_str().to_string()),
            threshold: rule.threshold.map(|t| t.usd),
            of: rule.threshold.and_then(|t| t.of_usd),
            action,
            summary,
            command,
            script,
            script_source,
            url,
            template,
        }
    }
}

/// What `import_hooks` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HookImportReport {
    pub added: Vec<String>,
    pub unchanged: Vec<String>,
}

impl From<ringlet::HookImportReport> for HookImportReport {
    fn from(r: ringlet::HookImportReport) -> Self {
        Self {
            added: r.added,
            unchanged: r.unchanged,
        }
    }
}

/// What one non-gating hook did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FireReport {
    pub hook: String,
    pub ok: bool,
    /// `started`, `exit 0`, `HTTP 200`, `timed out after 2000 ms`, …
    pub detail: String,
}

impl From<ringlet::FireReport> for FireReport {
    fn from(r: ringlet::FireReport) -> Self {
        Self {
            hook: r.hook,
            ok: r.ok,
            detail: r.detail,
        }
    }
}

/// What `test_hook` found.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HookTestReport {
    pub hook: HookEntry,
    /// The event the hook was given, as the JSON a shell hook reads on stdin.
    pub context_json: String,
    /// Whether the rule applies to this payload (its matcher and scope).
    pub applies: bool,
    /// `pre-tool-use`: whether the call may go ahead.
    pub allowed: Option<bool>,
    /// `pre-tool-use`: the deny message.
    pub denied: Option<String>,
    /// Other events: what the action did.
    pub fired: Option<FireReport>,
}

impl From<ringlet::HookTestReport> for HookTestReport {
    fn from(r: ringlet::HookTestReport) -> Self {
        Self {
            hook: r.hook.into(),
            context_json: serde_json::to_string(&r.context).unwrap_or_default(),
            applies: r.applies,
            allowed: r.decision.as_ref().map(ringlet::Decision::allowed),
            denied: r.decision.as_ref().and_then(ringlet::Decision::message),
            fired: r.fired.map(Into::into),
        }
    }
}

/// Where a started run's standard streams go (`StartOptions.io`).
#[derive(Debug, Clone, uniffi::Enum)]
pub enum RunIo {
    /// This process's streams.
    Inherit,
    /// A new pseudo-terminal of this size, read and written through the `RunHandle`.
    Pty { rows: u16, cols: u16 },
    /// Standard input from /dev/null; output and errors read through the `RunHandle`.
    Piped,
}

/// Which of this process's environment variables a started agent inherits.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum RunEnv {
    /// Everything, minus what conflicts with the profile.
    Inherit,
    /// Only TERM, locale, PATH, proxies and CA bundles.
    Clean,
    /// Only these variables.
    Allowlist { names: Vec<String> },
}

/// Options of `Ringlet.start`; every field may be left out.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct StartOptions {
    /// `.inherit` when nil.
    #[uniffi(default = None)]
    pub io: Option<RunIo>,
    /// The working directory; else the profile's, else this process's.
    #[uniffi(default = None)]
    pub working_dir: Option<String>,
    /// The PATH the agent is looked up in; else this process's.
    #[uniffi(default = None)]
    pub search_path: Option<String>,
    /// `.inherit` when nil.
    #[uniffi(default = None)]
    pub env: Option<RunEnv>,
    /// How long the agent has to end after a forwarded SIGTERM or SIGHUP before it is killed.
    #[uniffi(default = None)]
    pub grace: Option<Duration>,
    /// `true` sandboxes this run, `false` does not; else the profile's `sandbox` mode says.
    #[uniffi(default = None)]
    pub sandbox: Option<bool>,
    /// The agent's time zone (`TZ`), an IANA name such as `"Europe/Berlin"`.
    #[uniffi(default = None)]
    pub time_zone: Option<String>,
}

impl TryFrom<StartOptions> for ringlet::RunOptions {
    type Error = ringlet::Error;

    fn try_from(o: StartOptions) -> ringlet::Result<Self> {
        let mut options = ringlet::RunOptions::embedded();
        options = match o.io {
            None | Some(RunIo::Inherit) => options,
            Some(RunIo::Pty { rows, cols }) => options.pty(rows, cols),
            Some(RunIo::Piped) => options.piped(),
        };
        options = match o.env {
            None | Some(RunEnv::Inherit) => options,
            Some(RunEnv::Clean) => options.env(ringlet::EnvPolicy::clean()),
            Some(RunEnv::Allowlist { names }) => {
                options.env(ringlet::EnvPolicy::CleanPlusAllowlist(names))
            }
        };
        if let Some(dir) = o.working_dir {
            options = options.working_dir(dir);
        }
        if let Some(path) = o.search_path {
            options = options.search_path(path);
        }
        if let Some(grace) = o.grace {
            options = options.grace(grace);
        }
        if let Some(on) = o.sandbox {
            options = options.sandbox(on);
        }
        if let Some(zone) = o.time_zone {
            options = options.time_zone(zone);
        }
        Ok(options)
    }
}

/// A setup item's kind or an import's outcome, as the core spells it (`profile`, `created`).
fn spelled<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// How `import_setup` treats what it brings.
#[derive(Debug, Clone, Default, uniffi::Record)]
pub struct SetupImportOptions {
    /// Check and report only; write nothing.
    pub dry_run: bool,
    /// Profiles to import under another alias: setup alias → new alias.
    pub rename: HashMap<String, String>,
    /// Keep this machine's version of anything that exists here with other settings.
    pub skip_existing: bool,
}

impl From<SetupImportOptions> for ringlet::SetupImportOptions {
    fn from(o: SetupImportOptions) -> Self {
        let mut options = ringlet::SetupImportOptions::new()
            .dry_run(o.dry_run)
            .skip_existing(o.skip_existing);
        for (from, to) in o.rename {
            options = options.rename(from, to);
        }
        options
    }
}

/// One item of an imported setup and what became of it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ImportedItem {
    /// `profile`, `hook`, `routing`, `config` or `remote`.
    pub kind: String,
    pub name: String,
    pub renamed_from: Option<String>,
    /// `created`, `unchanged` or `skipped`.
    pub outcome: String,
}

/// A credential the imported setup needs that this machine lacks.
#[derive(Debug, Clone, uniffi::Record)]
pub struct KeyToSet {
    pub provider: String,
    pub alias: String,
    pub used_by: Vec<String>,
    pub remote_url: Option<String>,
}

/// A withheld environment variable to set again.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EnvToSet {
    pub profile: String,
    pub name: String,
}

/// What `import_setup` did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct SetupImportReport {
    pub dry_run: bool,
    pub items: Vec<ImportedItem>,
    pub keys_to_set: Vec<KeyToSet>,
    pub env_to_set: Vec<EnvToSet>,
    pub registry_pin: Option<String>,
}

impl From<ringlet::SetupImportReport> for SetupImportReport {
    fn from(r: ringlet::SetupImportReport) -> Self {
        Self {
            dry_run: r.dry_run,
            items: r
                .items
                .into_iter()
                .map(|i| ImportedItem {
                    kind: spelled(&i.kind),
                    name: i.name,
                    renamed_from: i.renamed_from,
                    outcome: spelled(&i.outcome),
                })
                .collect(),
            keys_to_set: r
                .keys_to_set
                .into_iter()
                .map(|k| KeyToSet {
                    provider: k.provider,
                    alias: k.alias,
                    used_by: k.used_by,
                    remote_url: k.remote_url,
                })
                .collect(),
            env_to_set: r
                .env_to_set
                .into_iter()
                .map(|e| EnvToSet {
                    profile: e.profile,
                    name: e.name,
                })
                .collect(),
            registry_pin: r.registry_pin,
        }
    }
}
