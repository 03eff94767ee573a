//! The `UsageStore` trait: the ledger's seam, and the plain data that crosses it.

use std::fmt::Debug;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::{UsageEvent, nanos_to_usd};
use super::price::PriceBook;
use super::zone::Zone;
use crate::error::Result;

/// The token and cost ledger. SQLite by default ([`SqliteUsageStore`](crate::SqliteUsageStore));
/// the trait lets a team point many machines at a shared backend.
///
/// Synchronous on purpose: SQLite is a blocking API, and async frontends call the core on
/// blocking threads. Every implementation must pass the shared conformance suite
/// (`ringlet::conformance::usage_store`), which pins the semantics below.
pub trait UsageStore: Send + Sync + Debug {
    /// Records events. An event whose `dedup_key` is already stored is a duplicate: a no-op,
    /// unless its `rank` is strictly higher, in which case it replaces the stored one. Atomic: all
    /// or nothing.
    fn record(&self, events: &[UsageEvent]) -> Result<RecordOutcome>;

    /// Records events and the import position that covers them, in one transaction: after a
    /// crash, either both are there or neither is, so re-running the import gives exact totals.
    fn commit_import(&self, events: &[UsageEvent], state: &ImportState) -> Result<RecordOutcome>;

    /// Several [`commit_import`](Self::commit_import)s in a row, in order: a first import of
    /// many small files commits them together. Each batch's events and position must be stored
    /// together (as by `commit_import`); a store may also put several batches in one
    /// transaction, as SQLite does, saving a commit per file. One outcome per batch.
    fn commit_imports(
        &self,
        batches: &[(&[UsageEvent], &ImportState)],
    ) -> Result<Vec<RecordOutcome>> {
        batches
            .iter()
            .map(|(events, state)| self.commit_import(events, state))
            .collect()
    }

    /// The import position of one log file, by the path it was read from.
    fn import_state(&self, path: &str) -> Result<Option<ImportState>>;

    /// The import positions of `root` itself and of every file below it (`root/…`).
    fn import_states(&self, root: &str) -> Result<Vec<ImportState>>;

    /// Forgets the import positions of `root` and everything below it, so the next import reads
    /// those files from the start (events already stored stay and deduplicate). Returns how many
    /// were forgotten.
    fn forget_import_states(&self, root: &str) -> Result<u64>;

    /// Aggregated totals matching `filter`, one row per group (one row for
    /// [`UsageGroup::Total`], even when nothing matches).
    fn query(&self, filter: &UsageFilter, group: UsageGroup) -> Result<Vec<UsageRow>>;

    /// Rows grouped by `group` and split by `by` (a model, profile, agent or provider):
    /// `(the by value, the row)`, where the row's key is the group's (a day, a session…);
    /// sorted by group, then by value. Adding up each group's rows gives [`UsageStore::query`]'s
    /// row for it.
    fn query_split(
        &self,
        filter: &UsageFilter,
        group: UsageGroup,
        by: UsageGroup,
    ) -> Result<Vec<(String, UsageRow)>>;

    /// The agent sessions with events matching `filter`, oldest first: when each began and last
    /// did something, with what, and its usage (only its events within the filter's range).
    fn sessions(&self, filter: &UsageFilter) -> Result<Vec<SessionUsage>>;

    /// Usage per hour and model, with each hour's first and last event, oldest first (what
    /// billing blocks are cut from: no gap inside an hour reaches their five hours).
    fn hours(&self, filter: &UsageFilter) -> Result<Vec<HourUsage>>;

    /// The events matching `filter`, oldest first, for export.
    fn events(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>>;

    /// Prices again every event whose cost was computed or unknown (never a reported one), after
    /// the price book changed (`ringlet pricing update`).
    fn reprice(&self, prices: &PriceBook) -> Result<RepriceOutcome>;

    /// Records the start of a `profiles run`; returns its id for [`UsageStore::finish_run`].
    fn start_run(&self, start: &RunStart) -> Result<i64>;

    /// Records how a run ended. Unknown ids are an error.
    fn finish_run(&self, id: i64, end: &RunEnd) -> Result<()>;

    /// Runs matching `filter` (profile, agent, provider, model, start time), newest first.
    fn runs(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<RunSession>>;
}

/// What [`UsageStore::record`] did with each event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOutcome {
    /// New events stored.
    pub inserted: u64,
    /// Stored events replaced by a higher-ranked duplicate.
    pub replaced: u64,
    /// Duplicates that changed nothing.
    pub duplicates: u64,
}

impl RecordOutcome {
    /// Adds another outcome to this one.
    pub fn add(&mut self, other: RecordOutcome) {
        self.inserted += other.inserted;
        self.replaced += other.replaced;
        self.duplicates += other.duplicates;
    }
}

/// What [`UsageStore::reprice`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepriceOutcome {
    /// Events looked at (computed or unpriced).
    pub examined: u64,
    /// Events whose cost or cost source changed.
    pub updated: u64,
    /// Events still without a price.
    pub unpriced: u64,
}

/// Identifies a file across renames and rewrites: where it lives on disk, plus a hash of its
/// first bytes so that a new file that reuses an inode is not mistaken for the old one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIdentity {
    /// Device id (0 where the platform has none).
    pub dev: u64,
    /// Inode number (0 where the platform has none).
    pub inode: u64,
    /// How many leading bytes `head_hash` covers.
    pub head_len: u64,
    /// FNV-1a hash of the first `head_len` bytes.
    pub head_hash: u64,
}

/// How far one log file has been imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportState {
    /// The path it was read from (the key).
    pub path: String,
    /// The log format (`claude-jsonl`, …).
    pub format: String,
    /// Who the file was when it was read.
    pub identity: FileIdentity,
    /// Its size when last read; with `mtime_ns`, an unchanged file is skipped without opening.
    pub size: u64,
    /// Its modification time when last read, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Bytes consumed: the next read starts here. Never inside a line. For SQLite sources, the
    /// importer's cursor (OpenCode: the last `time_updated` seen).
    pub offset: u64,
    /// Lines consumed, so that messages about later lines name the right line number.
    pub line: u64,
    /// Importer-specific state that must survive between reads (Codex: the current model and
    /// the last cumulative totals), as JSON.
    pub context: Option<String>,
    /// When this state was written.
    pub updated_at: DateTime<Utc>,
}

/// Which events a query covers. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageFilter {
    /// Only this profile.
    pub profile: Option<String>,
    /// Only this agent.
    pub agent: Option<String>,
    /// Only this provider.
    pub provider: Option<String>,
    /// Only this model (exact id as logged).
    pub model: Option<String>,
    /// Only these models (exact ids, any of them); empty matches every model. The facade
    /// fills it from a model filter that matches by prefix or normalised name.
    pub models: Vec<String>,
    /// Only this agent session (`""`: events logged without one).
    pub session: Option<String>,
    /// Only this project: events whose working directory is this directory or below it (by
    /// whole path components). In the session list, the sessions with any such event.
    #[serde(default)]
    pub project: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events strictly before this time (a CLI `--until DAY` passes the next midnight).
    pub until: Option<DateTime<Utc>>,
    /// The reader's time zone, for day, week and month boundaries (UTC by default).
    pub time_zone: Zone,
}

impl UsageFilter {
    /// A filter that matches everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only this profile.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Only this agent.
    pub fn agent(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// Only this provider.
    pub fn provider(mut self, provider: impl Into<String>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// Only this model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Only these models (any of them).
    pub fn models(mut self, models: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.models = models.into_iter().map(Into::into).collect();
        self
    }

    /// Only this agent session.
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// Only this project (a directory and everything below it).
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Only events at or after `since`.
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// Only events before `until`.
    pub fn until(mut self, until: DateTime<Utc>) -> Self {
        self.until = Some(until);
        self
    }

    /// Day, week and month boundaries in `zone`.
    pub fn time_zone(mut self, zone: Zone) -> Self {
        self.time_zone = zone;
        self
    }
}

/// How [`UsageStore::query`] groups events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum UsageGroup {
    /// One row with the grand total (key `total`).
    Total,
    /// One row per calendar day (`2026-05-01`) in the filter's time zone.
    Day,
    /// One row per ISO week (`2026-W18`).
    Week,
    /// One row per month (`2026-05`).
    Month,
    /// One row per model.
    Model,
    /// One row per profile.
    Profile,
    /// One row per agent.
    Agent,
    /// One row per provider.
    Provider,
    /// One row per agent session id (events without one share the key `""`).
    Session,
    /// One row per project: the agent's working directory (events without one share the key
    /// `""`).
    Project,
}

impl UsageGroup {
    /// Parses a group by its name (`total`, `day`, `week`, `month`, `model`, `profile`,
    /// `agent`, `provider`, `session`, `project`): the names serde uses, so there is one list of them.
    pub fn parse(name: &str) -> crate::error::Result<Self> {
        serde_json::from_value(serde_json::Value::String(name.to_string())).map_err(|_| {
            crate::error::Error::InvalidInput(format!(
                "unknown usage group '{}'; groups: total, day, week, month, model, profile, agent, provider, session, project",
                name.escape_debug()
            ))
        })
    }
}

/// Aggregated usage for one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The group: a date, week, month, model, profile, agent, provider or session id.
    pub key: String,
    /// Events in the group.
    pub events: u64,
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens (reasoning included).
    pub output: u64,
    /// Cache-write tokens, all lifetimes.
    pub cache_creation: u64,
    /// Of which known 5-minute writes.
    pub cache_creation_5m: u64,
    /// Of which known 1-hour writes.
    pub cache_creation_1h: u64,
    /// Cache-read tokens.
    pub cache_read: u64,
    /// Reasoning tokens (part of output).
    pub reasoning: u64,
    /// input + output + cache writes + cache reads.
    pub total_tokens: u64,
    /// Cost of the priced events, nano-dollars. Unpriced events add nothing here: see
    /// `unpriced_events`.
    pub cost_nanos: i64,
    /// `cost_nanos` in dollars.
    pub cost_usd: f64,
    /// Events with a cost (computed or reported).
    pub priced_events: u64,
    /// Events without a price: the true cost is higher than `cost_usd` when this is not 0.
    pub unpriced_events: u64,
}

impl UsageRow {
    /// An empty row for `key`.
    pub fn empty(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            ..Self::default()
        }
    }

    /// Adds another row's numbers to this one (keeps this key). Saturating, like the ledger's
    /// sums: a report stays usable whatever it adds up.
    pub fn absorb(&mut self, other: &UsageRow) {
        let add = |a: &mut u64, b: u64| *a = a.saturating_add(b);
        add(&mut self.events, other.events);
        add(&mut self.input, other.input);
        add(&mut self.output, other.output);
        add(&mut self.cache_creation, other.cache_creation);
        add(&mut self.cache_creation_5m, other.cache_creation_5m);
        add(&mut self.cache_creation_1h, other.cache_creation_1h);
        add(&mut self.cache_read, other.cache_read);
        add(&mut self.reasoning, other.reasoning);
        add(&mut self.priced_events, other.priced_events);
        add(&mut self.unpriced_events, other.unpriced_events);
        self.cost_nanos = self.cost_nanos.saturating_add(other.cost_nanos);
        self.finish();
    }

    /// Recomputes the derived fields (`total_tokens`, `cost_usd`).
    pub fn finish(&mut self) {
        self.total_tokens = self
            .input
            .saturating_add(self.output)
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read);
        self.cost_usd = nanos_to_usd(self.cost_nanos);
    }
}

/// One hour's usage of one model ([`UsageStore::hours`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourUsage {
    /// The start of the hour (UTC).
    pub hour: DateTime<Utc>,
    /// The model.
    pub model: String,
    /// The hour's first event of this model.
    pub first: DateTime<Utc>,
    /// The hour's last event of this model.
    pub last: DateTime<Utc>,
    /// The numbers (`key` is the model).
    pub usage: UsageRow,
}

/// One session's usage with one profile, agent, provider and model: what a store reads before
/// [`fold_sessions`] makes [`SessionUsage`]s of it (both the SQLite and the Postgres store).
pub(crate) struct SessionCell {
    pub(crate) session: String,
    pub(crate) profile: String,
    pub(crate) agent: String,
    pub(crate) provider: String,
    pub(crate) model: String,
    pub(crate) first_ms: i64,
    pub(crate) last_ms: i64,
    pub(crate) usage: UsageRow,
}

/// One [`SessionUsage`] per session from its cells, the dimension lists sorted and deduplicated,
/// ordered by start (then id): [`UsageStore::sessions`]'s contract.
pub(crate) fn fold_sessions(cells: impl IntoIterator<Item = SessionCell>) -> Vec<SessionUsage> {
    let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::UNIX_EPOCH);
    let mut by_id: std::collections::HashMap<String, SessionUsage> =
        std::collections::HashMap::new();
    for c in cells {
        let s = by_id
            .entry(c.session.clone())
            .or_insert_with(|| SessionUsage {
                session_id: c.session.clone(),
                first: at(c.first_ms),
                last: at(c.last_ms),
                profiles: Vec::new(),
                agents: Vec::new(),
                providers: Vec::new(),
                models: Vec::new(),
                projects: Vec::new(),
                usage: UsageRow::empty(c.session.clone()),
            });
        s.first = s.first.min(at(c.first_ms));
        s.last = s.last.max(at(c.last_ms));
        s.profiles.push(c.profile);
        s.agents.push(c.agent);
        s.providers.push(c.provider);
        s.models.push(c.model);
        s.usage.absorb(&c.usage);
    }
    let mut out: Vec<SessionUsage> = by_id.into_values().collect();
    for s in &mut out {
        for list in [
            &mut s.profiles,
            &mut s.agents,
            &mut s.providers,
            &mut s.models,
        ] {
            list.sort();
            list.dedup();
        }
    }
    out.sort_by(|a, b| (a.first, &a.session_id).cmp(&(b.first, &b.session_id)));
    out
}

/// One agent session's usage ([`UsageStore::sessions`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUsage {
    /// The agent's session id (`""` for usage logged without one).
    pub session_id: String,
    /// Its first event (within the range asked for).
    pub first: DateTime<Utc>,
    /// Its last event (within the range asked for).
    pub last: DateTime<Utc>,
    /// The profiles its events were recorded under, sorted (normally one).
    pub profiles: Vec<String>,
    /// The agents, sorted.
    pub agents: Vec<String>,
    /// The providers, sorted.
    pub providers: Vec<String>,
    /// The models, sorted.
    pub models: Vec<String>,
    /// The projects (working directories) its responses were in, sorted; empty when its
    /// agent's logs do not say.
    #[serde(default)]
    pub projects: Vec<String>,
    /// Its numbers (`key` is the session id).
    pub usage: UsageRow,
}

/// The start of one `profiles run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStart {
    /// The profile alias.
    pub profile: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The model the profile asked for, if any.
    pub model: Option<String>,
    /// When the agent was started.
    pub started_at: DateTime<Utc>,
}

/// How one `profiles run` ended. The launcher fills what the platform can measure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnd {
    /// When the agent exited.
    pub ended_at: Option<DateTime<Utc>>,
    /// Its exit code (128+N for a signal death).
    pub exit_code: Option<i32>,
    /// The child's peak resident set size, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// User CPU time of the child, milliseconds.
    pub cpu_user_ms: Option<u64>,
    /// System CPU time of the child, milliseconds.
    pub cpu_system_ms: Option<u64>,
}

/// One recorded `profiles run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSession {
    /// The ledger's id for it.
    pub id: i64,
    /// The profile alias.
    pub profile: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The model the profile asked for, if any.
    pub model: Option<String>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended; `None` while running, or if ringlet itself was killed.
    pub ended_at: Option<DateTime<Utc>>,
    /// `ended_at - started_at`, milliseconds.
    pub duration_ms: Option<u64>,
    /// The agent's exit code.
    pub exit_code: Option<i32>,
    /// Peak resident set size, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// User CPU time, milliseconds.
    pub cpu_user_ms: Option<u64>,
    /// System CPU time, milliseconds.
    pub cpu_system_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_groups_parse_by_their_serde_names() {
        assert_eq!(UsageGroup::parse("week").ok(), Some(UsageGroup::Week));
        let err = UsageGroup::parse("fortnight").expect_err("unknown group");
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().contains("fortnight"), "{err}");
    }
}
