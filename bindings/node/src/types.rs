//! The plain objects the binding hands to JavaScript (and takes from it), each converted from
//! the core's serde type field by field. napi-derive generates their TypeScript interfaces.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use napi_derive::napi;

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn source(s: &ringlet::Source) -> Source {
    match s {
        ringlet::Source::BuiltIn => Source {
            kind: "built-in".into(),
            path: None,
        },
        ringlet::Source::File(p) => Source {
            kind: "file".into(),
            path: Some(path(p)),
        },
        ringlet::Source::Registry(p) => Source {
            kind: "registry".into(),
            path: Some(path(p)),
        },
        // `Source` is not exhaustive in spirit: name anything new by its debug form.
        #[allow(unreachable_patterns)]
        other => Source {
            kind: format!("{other:?}"),
            path: None,
        },
    }
}

/// Where a manifest came from: `built-in`, or a `file` or the `registry` snapshot's file with
/// its path.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Source {
    pub kind: String,
    pub path: Option<String>,
}

/// The directories ringlet uses.
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct AgentInfo {
    pub id: String,
    pub name: String,
    pub installed: bool,
    pub path: Option<String>,
    pub version: Option<String>,
    pub version_error: Option<String>,
    /// RFC 3339.
    pub checked_at: String,
    pub speaks: Vec<String>,
    pub profiles: u32,
    pub install: String,
    pub source: Source,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
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
            checked_at: a.checked_at.to_rfc3339(),
            speaks: a.speaks.iter().map(|s| s.as_str().to_string()).collect(),
            profiles: count(a.profiles),
            install: a.install,
            source: source(&a.source),
        }
    }
}

/// A provider: its endpoints (wire shape → base URL), auth and models.
#[napi(object)]
#[derive(Debug, Clone)]
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
    pub source: Source,
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
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct NewProfile {
    pub agent: String,
    pub alias: String,
    pub provider: String,
    pub endpoint: Option<String>,
    pub custom_endpoint: Option<String>,
    /// `anthropic`, `openai`, `openai-chat`, `openai-responses` or `gemini`.
    pub shape: Option<String>,
    pub model: Option<String>,
    pub key_alias: Option<String>,
    pub env: Option<HashMap<String, String>>,
    pub working_dir: Option<String>,
    pub binary: Option<String>,
    pub args: Option<Vec<String>>,
}

impl From<NewProfile> for ringlet::NewProfile {
    fn from(n: NewProfile) -> Self {
        let mut req = ringlet::NewProfile::new(n.agent, n.alias, n.provider);
        req.endpoint = n.endpoint;
        req.custom_endpoint = n.custom_endpoint;
        req.shape = n.shape;
        req.model = n.model;
        req.key_alias = n.key_alias;
        req.env = n.env.unwrap_or_default().into_iter().collect();
        req.working_dir = n.working_dir.map(Into::into);
        req.binary = n.binary.map(Into::into);
        req.args = n.args.unwrap_or_default();
        req
    }
}

/// Changes to a profile: what is unset keeps the profile's value.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    /// When runs are sandboxed: `off`, `always` or `remote`.
    pub sandbox: Option<String>,
    /// The model; empty for the provider's default.
    pub model: Option<String>,
    /// A named endpoint of the provider; replaces a custom endpoint unless one is given too.
    pub endpoint: Option<String>,
    pub custom_endpoint: Option<String>,
    /// The custom endpoint's wire shape.
    pub shape: Option<String>,
    /// Variables to add or replace.
    pub set_env: Option<HashMap<String, String>>,
    /// Variables to remove; each must be set in the profile.
    pub unset_env: Option<Vec<String>>,
    /// New default arguments (empty: none).
    pub args: Option<Vec<String>>,
    pub working_dir: Option<String>,
    /// Start the agent wherever it is run from again.
    pub clear_working_dir: Option<bool>,
    pub binary: Option<String>,
    /// Run the agent manifest's binary again.
    pub clear_binary: Option<bool>,
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
        update.set_env = u.set_env.unwrap_or_default().into_iter().collect();
        update.unset_env = u.unset_env.unwrap_or_default();
        update.args = u.args;
        update.working_dir = u.working_dir.map(Into::into);
        update.clear_working_dir = u.clear_working_dir.unwrap_or(false);
        update.binary = u.binary.map(Into::into);
        update.clear_binary = u.clear_binary.unwrap_or(false);
        Ok(update)
    }
}

/// Bookkeeping kept up to date by ringlet.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ProfileMetadata {
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent until the first run.
    pub last_used: Option<String>,
    pub total_runs: i64,
}

/// A profile: agent + provider + key alias (never the key) + its own HOME.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct Profile {
    pub alias: String,
    pub agent: String,
    pub provider: String,
    pub endpoint: Option<String>,
    pub endpoint_url: Option<String>,
    /// `anthropic`, `openai-chat`, `openai-responses` or `gemini`.
    pub shape: String,
    pub model: Option<String>,
    pub key_alias: Option<String>,
    pub binary: Option<String>,
    pub working_dir: Option<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    /// When runs are sandboxed: `off`, `always` or `remote`.
    pub sandbox: String,
    pub metadata: ProfileMetadata,
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
            env: p.env,
            sandbox: p.sandbox.mode.as_str().to_string(),
            metadata: ProfileMetadata {
                created_at: p.metadata.created_at.to_rfc3339(),
                last_used: p.metadata.last_used.map(|t| t.to_rfc3339()),
                total_runs: n(p.metadata.total_runs),
            },
        }
    }
}

/// Names one stored key: `provider/alias`.
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct SecretEnv {
    pub var: String,
    pub provider: String,
    pub alias: String,
}

/// One variable as shown to a user: the key masked.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct EnvEntry {
    pub name: String,
    pub value: String,
    pub secret: bool,
}

/// A file the plan writes into the profile HOME.
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
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

/// The serde name of a unit enum (`FileFormat`, `MergeMode`): one source of truth for the
/// strings.
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The agent's exit code; 128 + N when it was killed by signal N.
    pub exit_code: i32,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub ended_at: String,
    pub duration_ms: f64,
    pub pid: u32,
}

impl From<ringlet::RunOutcome> for RunOutcome {
    fn from(o: ringlet::RunOutcome) -> Self {
        Self {
            exit_code: o.exit_code,
            started_at: o.started_at.to_rfc3339(),
            ended_at: o.ended_at.to_rfc3339(),
            duration_ms: o.duration.as_secs_f64() * 1000.0,
            pid: o.pid,
        }
    }
}

fn n(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

/// Which usage a report covers and how it is grouped; every field is optional.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct UsageQuery {
    pub profile: Option<String>,
    pub agent: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    /// A day (`2026-05-01`), an RFC 3339 time, `today` or `Nd` (N days ago).
    pub since: Option<String>,
    /// Up to and including this day, or strictly before this time.
    pub until: Option<String>,
    /// `total`, `day`, `week`, `month`, `model`, `profile`, `agent`, `provider` or `session`;
    /// unset gives one row per profile with its agent and provider.
    pub group: Option<String>,
    /// The reader's time zone for dates and day, week and month boundaries: an IANA name
    /// (`Europe/Berlin`) or `UTC`; unset uses the system's zone.
    pub timezone: Option<String>,
    /// Split each grouped row by `model`, `agent`, `profile` or `provider`.
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
#[napi(object)]
#[derive(Debug, Clone)]
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
    /// Events without a price: the true cost is higher than `costUsd` when this is not 0.
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct UsageReport {
    /// `profile`, `day`, `week`, `month`, `model`, `session`, …
    pub group: String,
    /// RFC 3339.
    pub since: Option<String>,
    /// RFC 3339 (exclusive).
    pub until: Option<String>,
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct UsageEvent {
    /// RFC 3339.
    pub time: String,
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
            time: e.time.to_rfc3339(),
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
#[napi(object)]
#[derive(Debug, Clone)]
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

/// What `syncUsage` read for one profile.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ProfileSync {
    pub profile: String,
    pub agent: String,
    pub summary: ImportSummary,
    /// Why this profile could not be read (the others still were).
    pub error: Option<String>,
}

/// What `syncUsage` did.
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub agent: String,
    pub profile: String,
    /// A HOME holding the agent's logs, a log directory or one log file; unset reads the
    /// user's real HOME.
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
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub agent: String,
    pub profile: String,
    pub sources: Vec<String>,
    pub summary: ImportSummary,
    pub cost_nanos: i64,
    pub cost_usd: f64,
    pub unpriced_events: i64,
    /// RFC 3339.
    pub first_event: Option<String>,
    /// RFC 3339.
    pub last_event: Option<String>,
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
#[napi(object)]
#[derive(Debug, Clone)]
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

/// What `updatePricing` did.
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct PricingStatus {
    pub snapshot: Option<String>,
    /// RFC 3339.
    pub updated_at: Option<String>,
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
#[napi(object)]
#[derive(Debug, Clone)]
pub struct DoctorCheck {
    /// `agent:claude`, `credentials`, `ledger`…
    pub name: String,
    /// `ok`, `warn` or `fail`.
    pub status: String,
    pub detail: String,
    pub fix: Option<String>,
}

/// What `doctor()` found; `healthy` is false when a check failed.
#[napi(object)]
#[derive(Debug, Clone)]
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

/// What `prompt()` got: the agent's answer (read from its output as its manifest says), its
/// exit code, and everything it printed (each stream capped at 16 MiB).
#[napi(object)]
#[derive(Debug, Clone)]
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

/// Run statistics for one profile (or agent), or all of them.
#[napi(object)]
#[derive(Debug, Clone)]
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
    /// RFC 3339.
    pub last_run: Option<String>,
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
#[napi(object)]
#[derive(Debug, Clone)]
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

/// A request to add a hook. Exactly one of `shell`, `rhaiFile`, `rhaiScript` and `webhook`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct NewHook {
    /// The profile; unset for every profile.
    pub profile: Option<String>,
    /// `pre-tool-use`, `tool-use`, `stop`, `start`, `notify`, `cost-threshold` or
    /// `daily-rollup`.
    pub event: String,
    pub shell: Option<String>,
    pub rhai_file: Option<String>,
    pub rhai_script: Option<String>,
    pub webhook: Option<String>,
    pub webhook_template: Option<String>,
    pub matcher: Option<String>,
    pub timeout_ms: Option<u32>,
    /// `day` or `month`, for `cost-threshold`.
    pub period: Option<String>,
    /// USD, for `cost-threshold`.
    pub threshold: Option<f64>,
    /// The budget the threshold is part of, for `cost-threshold`.
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
#[napi(object)]
#[derive(Debug, Clone)]
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

/// What `importHooks` did.
#[napi(object)]
#[derive(Debug, Clone)]
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
#[napi(object)]
#[derive(Debug, Clone)]
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

/// What `testHook` found.
#[napi(object)]
#[derive(Debug, Clone)]
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

/// Options of `Ringlet.open`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct RingletOptions {
    /// The `ringlet` binary agents call back through for hooks (`ringlet hooks dispatch`); by
    /// default `ringlet` on PATH. Without one, a profile with pre-tool-use hooks refuses to
    /// start (`hook_transport_missing`).
    pub hook_program: Option<String>,
}

/// Options of `Ringlet.start`.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// `'inherit'` (this process's streams; the default), `'pty'` (a new terminal of
    /// `rows` × `cols`) or `'piped'`.
    #[napi(ts_type = "'inherit' | 'pty' | 'piped'")]
    pub io: Option<String>,
    /// The terminal's rows (`io: 'pty'`; 24 by default).
    pub rows: Option<u16>,
    /// The terminal's columns (`io: 'pty'`; 80 by default).
    pub cols: Option<u16>,
    /// The working directory; else the profile's, else this process's.
    pub working_dir: Option<String>,
    /// The PATH the agent is looked up in; else this process's.
    pub search_path: Option<String>,
    /// `'inherit'` (this process's environment minus what conflicts; the default) or
    /// `'clean'` (only TERM, locale, PATH, proxies and CA bundles pass).
    #[napi(ts_type = "'inherit' | 'clean'")]
    pub env: Option<String>,
    /// A clean environment passing exactly these variables.
    pub env_allow: Option<Vec<String>>,
    /// How long the agent has to end after a forwarded SIGTERM or SIGHUP before it is killed.
    pub grace_ms: Option<f64>,
    /// `true` sandboxes this run, `false` does not; else the profile's `sandbox` mode says.
    pub sandbox: Option<bool>,
    /// The agent's time zone (`TZ`), an IANA name such as `'Europe/Berlin'`.
    pub time_zone: Option<String>,
}

/// A setup item's kind or an import's outcome, as the core spells it (`profile`, `created`).
fn spelled<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// How `importSetup` treats what it brings.
#[napi(object)]
#[derive(Debug, Clone, Default)]
pub struct SetupImportOptions {
    /// Check and report only; write nothing.
    pub dry_run: Option<bool>,
    /// Profiles to import under another alias: setup alias → new alias.
    pub rename: Option<HashMap<String, String>>,
    /// Keep this machine's version of anything that exists here with other settings.
    pub skip_existing: Option<bool>,
}

impl From<SetupImportOptions> for ringlet::SetupImportOptions {
    fn from(o: SetupImportOptions) -> Self {
        let mut options = ringlet::SetupImportOptions::new()
            .dry_run(o.dry_run.unwrap_or(false))
            .skip_existing(o.skip_existing.unwrap_or(false));
        for (from, to) in o.rename.unwrap_or_default() {
            options = options.rename(from, to);
        }
        options
    }
}

/// One item of an imported setup and what became of it.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct ImportedItem {
    /// `profile`, `hook`, `routing`, `config` or `remote`.
    pub kind: String,
    pub name: String,
    pub renamed_from: Option<String>,
    /// `created`, `unchanged` or `skipped`.
    pub outcome: String,
}

/// A credential the imported setup needs that this machine lacks.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct KeyToSet {
    pub provider: String,
    pub alias: String,
    pub used_by: Vec<String>,
    pub remote_url: Option<String>,
}

/// A withheld environment variable to set again.
#[napi(object)]
#[derive(Debug, Clone)]
pub struct EnvToSet {
    pub profile: String,
    pub name: String,
}

/// What `importSetup` did.
#[napi(object)]
#[derive(Debug, Clone)]
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
