//! The usage side of the [`Ringlet`] facade: the ledger (`usage.db` in the data dir, opened on
//! first use), queries, imports, `profiles run` sessions, pricing updates and run statistics.
//!
//! Every method takes and returns owned, serialisable data, so the CLI, an HTTP server and the
//! language bindings wrap them thinly. Kept apart from `ringlet.rs` so that the facade can grow
//! on several branches at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Event, Ringlet};
use crate::alias::validate_alias;
use crate::catalog::agent::LogLocation;
use crate::error::{Error, Result};
use crate::launch::RunOutcome;
use crate::profile::Profile;
use crate::usage::rusage::ChildUsage;
use crate::usage::{
    Attribution, ImportOptions, ImportSummary, LazyPriceBook, PriceBook, PriceSource,
    RepriceOutcome, RunEnd, RunSession, RunStart, SqliteUsageStore, UsageEvent, UsageFilter,
    UsageGroup, UsageRow, UsageStore, Zone, import_files, importer_for, ingest_home, nanos_to_usd,
    normalize_model,
};

/// Where `ringlet pricing update` downloads prices from by default: LiteLLM's model database.
pub const LITELLM_PRICES_URL: &str =
    "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json";

/// The pricing feed is ~1.5 MB today; anything past this is not a price list.
const MAX_FEED_BYTES: u64 = 64 << 20;

/// The facade's lazily opened usage parts. Opening SQLite and parsing prices cost a few
/// milliseconds, which commands that never touch usage (and the launch path before the agent
/// starts) should not pay twice.
#[derive(Debug, Default)]
pub(crate) struct UsageState {
    store: Mutex<Option<Arc<dyn UsageStore>>>,
    prices: Mutex<Option<Arc<PriceBook>>>,
}

impl UsageState {
    /// State that uses `store` instead of opening `usage.db`.
    pub(crate) fn with_store(store: Option<Arc<dyn UsageStore>>) -> Self {
        Self {
            store: Mutex::new(store),
            prices: Mutex::new(None),
        }
    }
}

/// Which usage a report covers and how it is grouped. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UsageQuery {
    /// Only this profile.
    pub profile: Option<String>,
    /// Only this agent.
    pub agent: Option<String>,
    /// Only this provider.
    pub provider: Option<String>,
    /// Only the models this names: an id as the agent logged it, a prefix of one, or a
    /// normalised name (`sonnet-4-5` finds `claude-sonnet-4-5-20250929`). Naming none of the
    /// ledger's models is an error ([`Error::UnknownModel`]).
    pub model: Option<String>,
    /// From this day (`2026-05-01`, midnight in the reader's zone), time (RFC 3339) or `Nd`
    /// (N days ago, at midnight).
    pub since: Option<String>,
    /// Up to and including this day, or strictly before this time (RFC 3339).
    pub until: Option<String>,
    /// How rows are grouped; `None` gives one row per profile, agent and provider.
    pub group: Option<UsageGroup>,
    /// The reader's time zone for dates and day, week and month boundaries: an IANA name
    /// (`Europe/Berlin`) or `UTC`; `None` uses the system's zone.
    pub timezone: Option<String>,
    /// Split each grouped row by `model`, `agent`, `profile` or `provider` (its `breakdown`);
    /// needs a `group`.
    pub breakdown: Option<UsageGroup>,
    /// Only this project: usage whose working directory is this absolute path or below it
    /// (`/src/app` matches `/src/app/web`, not `/src/apple`).
    pub project: Option<String>,
}

/// One row of a [`UsageReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageLine {
    /// The profile (per-profile rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The agent (per-profile rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The provider (per-profile rows only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The day of a by-day row (`2026-05-01`, in the report's time zone).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub date: Option<String>,
    /// The ISO week of a by-week row (`2026-W18`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub week: Option<String>,
    /// The month of a by-month row (`2026-05`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub month: Option<String>,
    /// The agent session of a by-session row (`""` for usage logged without one).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub session_id: Option<String>,
    /// The model of a by-model row.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub model: Option<String>,
    /// The project (working directory) of a by-project row (`""` for usage whose log does not
    /// say).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<String>,
    /// The models this row's usage came from, sorted (grouped rows other than by model).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub models: Vec<String>,
    /// The row split by the report's breakdown: one row per model, agent, profile or provider,
    /// keyed by it.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub breakdown: Vec<UsageRow>,
    /// The numbers; `key` is the group (a profile, a day, a model…).
    #[serde(flatten)]
    pub usage: UsageRow,
}

impl UsageLine {
    /// A row of a grouped report, with its key also under the group's own name.
    fn grouped(group: UsageGroup, usage: UsageRow) -> Self {
        let key = Some(usage.key.clone());
        let mut line = UsageLine {
            profile: None,
            agent: None,
            provider: None,
            date: None,
            week: None,
            month: None,
            session_id: None,
            model: None,
            project: None,
            models: Vec::new(),
            breakdown: Vec::new(),
            usage,
        };
        match group {
            UsageGroup::Day => line.date = key,
            UsageGroup::Week => line.week = key,
            UsageGroup::Month => line.month = key,
            UsageGroup::Session => line.session_id = key,
            UsageGroup::Model => line.model = key,
            UsageGroup::Profile => line.profile = key,
            UsageGroup::Agent => line.agent = key,
            UsageGroup::Provider => line.provider = key,
            UsageGroup::Project => line.project = key,
            _ => {}
        }
        line
    }
}

/// The version of the usage report's JSON shape (docs/usage.md); a change that could break a
/// reader bumps it.
pub const USAGE_REPORT_VERSION: u32 = 1;

/// The order of a session list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Oldest first.
    #[default]
    Asc,
    /// Newest first.
    Desc,
}

/// One agent session in a [`SessionReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionLine {
    /// The agent's session id (`""` for usage logged without one).
    pub session_id: String,
    /// Its first response (within the report's range).
    pub start: DateTime<Utc>,
    /// Its last response (within the report's range).
    pub last_activity: DateTime<Utc>,
    /// `last_activity - start`, milliseconds.
    pub duration_ms: u64,
    /// The profiles it was recorded under (normally one).
    pub profiles: Vec<String>,
    /// Its agents.
    pub agents: Vec<String>,
    /// Its providers.
    pub providers: Vec<String>,
    /// The models it used.
    pub models: Vec<String>,
    /// The projects (working directories) it worked in; empty when its agent's logs do not
    /// say.
    pub projects: Vec<String>,
    /// Its numbers (`key` is the session id).
    #[serde(flatten)]
    pub usage: UsageRow,
}

impl From<crate::usage::SessionUsage> for SessionLine {
    fn from(s: crate::usage::SessionUsage) -> Self {
        Self {
            duration_ms: u64::try_from((s.last - s.first).num_milliseconds()).unwrap_or(0),
            session_id: s.session_id,
            start: s.first,
            last_activity: s.last,
            profiles: s.profiles,
            agents: s.agents,
            providers: s.providers,
            models: s.models,
            projects: s.projects,
            usage: s.usage,
        }
    }
}

/// The agent sessions in a range ([`Ringlet::usage_sessions`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionReport {
    /// The shape's version ([`USAGE_REPORT_VERSION`]).
    pub version: u32,
    /// The start of the range, when limited.
    pub since: Option<DateTime<Utc>>,
    /// The (exclusive) end of the range, when limited.
    pub until: Option<DateTime<Utc>>,
    /// The time zone the report is read in.
    pub timezone: String,
    /// How `sessions` is sorted (by start).
    pub order: SortOrder,
    /// The sessions.
    pub sessions: Vec<SessionLine>,
    /// The listed sessions together.
    pub total: UsageRow,
}

/// One agent session and its responses ([`Ringlet::usage_session`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionDetail {
    /// The shape's version ([`USAGE_REPORT_VERSION`]).
    pub version: u32,
    /// The time zone the report is read in.
    pub timezone: String,
    /// The session.
    pub session: SessionLine,
    /// Its responses, oldest first.
    pub events: Vec<UsageEvent>,
}

/// A token limit for billing blocks: a number, or the most any finished block used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenLimit {
    /// This many tokens.
    Tokens(u64),
    /// The largest total of any finished block.
    Max,
}

/// Which billing blocks to show ([`Ringlet::usage_blocks`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BlocksQuery {
    /// Only the active block.
    pub active: bool,
    /// Only blocks that started in the last three days.
    pub recent: bool,
    /// A token limit to measure blocks against.
    pub token_limit: Option<TokenLimit>,
}

/// Billing blocks ([`Ringlet::usage_blocks`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlocksReport {
    /// The shape's version ([`USAGE_REPORT_VERSION`]).
    pub version: u32,
    /// The time zone the report is read in.
    pub timezone: String,
    /// The token limit blocks are measured against, resolved (`max` becomes a number).
    pub token_limit: Option<u64>,
    /// The blocks, oldest first.
    pub blocks: Vec<crate::usage::BillingBlock>,
}

/// Aggregated usage: rows and their total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// The shape's version ([`USAGE_REPORT_VERSION`]).
    pub version: u32,
    /// The grouping: `profile` (with agent and provider), `day`, `week`, `month`, `model`,
    /// `session`, …
    pub group: String,
    /// What each row is split by (`model`, `agent`, `profile`, `provider`), if anything.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub breakdown: Option<String>,
    /// The start of the range, when limited.
    pub since: Option<DateTime<Utc>>,
    /// The (exclusive) end of the range, when limited.
    pub until: Option<DateTime<Utc>>,
    /// The time zone dates, days, weeks and months are in (`Europe/Berlin`, `UTC`).
    pub timezone: String,
    /// One row per group, sorted by key.
    pub rows: Vec<UsageLine>,
    /// Everything in the range. `unpriced_events > 0` means the true cost is higher than
    /// `cost_usd`.
    pub total: UsageRow,
}

/// What `sync_usage` read for one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileSync {
    /// The profile.
    pub profile: String,
    /// Its agent.
    pub agent: String,
    /// What was read.
    pub summary: ImportSummary,
    /// Why this profile could not be read (the others still were).
    pub error: Option<String>,
}

/// What `sync_usage` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// One entry per profile.
    pub profiles: Vec<ProfileSync>,
    /// All profiles together.
    pub total: ImportSummary,
}

/// A request to import an agent's existing logs into a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportRequest {
    /// The agent whose logs these are.
    pub agent: String,
    /// The profile the usage is attributed to (it must run that agent).
    pub profile: String,
    /// A HOME holding the agent's logs at their usual places, a log directory or one log
    /// file; `None` reads the current user's real HOME.
    pub from: Option<PathBuf>,
}

/// Progress of an import, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    /// Files finished.
    pub files_done: u64,
    /// Files found.
    pub files_total: u64,
    /// The file being read next (or just read, when `files_done == files_total`).
    pub path: PathBuf,
    /// New events so far.
    pub inserted: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// The agent.
    pub agent: String,
    /// The profile the usage went to.
    pub profile: String,
    /// The log locations read.
    pub sources: Vec<PathBuf>,
    /// Files, lines, events, new, duplicates skipped, malformed, failures.
    pub summary: ImportSummary,
    /// What the new events cost, nano-dollars (priced events only).
    pub cost_nanos: i64,
    /// `cost_nanos` in dollars.
    pub cost_usd: f64,
    /// New events without a price.
    pub unpriced_events: u64,
    /// The oldest event of the profile's agent, after the import.
    pub first_event: Option<DateTime<Utc>>,
    /// The newest.
    pub last_event: Option<DateTime<Utc>>,
}

/// Existing logs of an agent found in the user's HOME, which `ringlet init` offers to import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCandidate {
    /// The agent id.
    pub agent: String,
    /// Its display name.
    pub name: String,
    /// The log locations that hold files.
    pub paths: Vec<PathBuf>,
    /// How many log files.
    pub files: u64,
    /// Profiles running this agent, which the logs could be imported into.
    pub profiles: Vec<String>,
}

/// What `update_pricing` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingReport {
    /// The file or URL read.
    pub source: String,
    /// Where the snapshot was saved.
    pub snapshot: PathBuf,
    /// Models priced by the new snapshot.
    pub models: usize,
    /// Feed entries that could not be used.
    pub skipped: usize,
    /// What re-pricing the ledger changed.
    pub repriced: RepriceOutcome,
}

/// Where prices come from now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingStatus {
    /// The snapshot file, when one was downloaded.
    pub snapshot: Option<PathBuf>,
    /// When it was written.
    pub updated_at: Option<DateTime<Utc>>,
    /// Models priced (built-in table and snapshot together).
    pub models: usize,
}

/// Run statistics for one profile (or everything, in [`StatsReport::total`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRow {
    /// The profile (`total` for the total row; empty in per-agent rows).
    pub profile: String,
    /// Its agent (empty in the total row when several).
    pub agent: String,
    /// Its provider (empty in the total row when several).
    pub provider: String,
    /// `profiles run` invocations recorded.
    pub runs: u64,
    /// Of which ended with exit code 0.
    pub succeeded: u64,
    /// Of which ended otherwise.
    pub failed: u64,
    /// Of which have no end (still running, or ringlet was killed).
    pub unfinished: u64,
    /// Wall-clock time of the finished runs, milliseconds.
    pub total_duration_ms: u64,
    /// Their average, milliseconds.
    pub avg_duration_ms: u64,
    /// The highest peak RSS of any run, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// User CPU time of all runs, milliseconds.
    pub cpu_user_ms: u64,
    /// System CPU time of all runs, milliseconds.
    pub cpu_system_ms: u64,
    /// When the latest run started.
    pub last_run: Option<DateTime<Utc>>,
}

/// `ringlet stats`: runs, session time and resources per profile.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsReport {
    /// One row per profile (or agent) with runs, sorted by it.
    pub rows: Vec<StatsRow>,
    /// All of them.
    pub total: StatsRow,
}

/// A run about to start, not yet in the ledger.
#[derive(Debug)]
pub(crate) struct PendingSession {
    start: RunStart,
    before: Option<ChildUsage>,
}

/// A run in progress, between [`Ringlet::usage_record_start`] and
/// [`Ringlet::usage_run_finished`].
#[derive(Debug)]
pub(crate) struct UsageSession {
    id: Option<i64>,
    before: Option<ChildUsage>,
    /// The ledger could not be reached at the start (already warned): do not try again.
    unavailable: bool,
}

impl UsageSession {
    /// The run's id in the ledger, when it was recorded there.
    pub(crate) fn run_id(&self) -> Option<i64> {
        self.id
    }
}

impl Ringlet {
    /// The usage ledger: `<data>/usage.db`, opened (and migrated) on first use, or the store the
    /// builder was given.
    pub fn usage_store(&self) -> Result<Arc<dyn UsageStore>> {
        let mut slot = self
            .inner
            .usage
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(store) = slot.as_ref() {
            return Ok(Arc::clone(store));
        }
        let store: Arc<dyn UsageStore> = Arc::new(SqliteUsageStore::open(
            SqliteUsageStore::default_path(self.paths()),
        )?);
        *slot = Some(Arc::clone(&store));
        Ok(store)
    }

    /// The ledger if there is one already (the builder's, or an existing `usage.db`), without
    /// creating a file: for readers that have nothing to do on a fresh install.
    pub(crate) fn existing_usage_store(&self) -> Result<Option<Arc<dyn UsageStore>>> {
        let opened = self
            .inner
            .usage
            .store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some();
        if opened || self.usage_db_path().is_file() {
            self.usage_store().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Where the ledger lives (when it is the default SQLite file).
    pub fn usage_db_path(&self) -> PathBuf {
        SqliteUsageStore::default_path(self.paths())
    }

    /// The prices usage is costed with: the built-in table overlaid with the snapshot that
    /// `update_pricing` saved, when there is one.
    pub fn price_book(&self) -> Result<Arc<PriceBook>> {
        let mut slot = self
            .inner
            .usage
            .prices
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(book) = slot.as_ref() {
            return Ok(Arc::clone(book));
        }
        let book = Arc::new(PriceBook::load(self.paths())?);
        *slot = Some(Arc::clone(&book));
        Ok(book)
    }

    /// Aggregated usage: per profile (with agent and provider) by default, or grouped by day,
    /// week, month, model, session… Asking for a profile, agent or provider that neither exists
    /// nor has usage is an error (a typo should not read as "nothing spent").
    pub fn usage(&self, query: &UsageQuery) -> Result<UsageReport> {
        let store = self.usage_store()?;
        let filter = self.report_filter(query, store.as_ref())?;
        let (rows, total) = match query.group {
            None => {
                if query.breakdown.is_some() {
                    return Err(Error::InvalidInput(
                        "a breakdown splits grouped rows; give a group (day, week, month, \
                         session, …) too"
                            .into(),
                    ));
                }
                let total = first_row(store.query(&filter, UsageGroup::Total)?);
                (per_profile(store.as_ref(), &filter)?, total)
            }
            Some(group) => grouped_lines(store.as_ref(), &filter, group, query.breakdown)?,
        };
        if total.events == 0 {
            self.check_names(query)?;
        }
        Ok(UsageReport {
            version: USAGE_REPORT_VERSION,
            group: query
                .group
                .map_or_else(|| "profile".to_string(), group_name),
            breakdown: query.breakdown.map(group_name),
            since: filter.since,
            until: filter.until,
            timezone: filter.time_zone.name().to_string(),
            rows,
            total,
        })
    }

    /// Billing blocks (5-hour windows from the first response, floored to the hour; five idle
    /// hours end one), oldest first, with the active one's burn rate and projection.
    pub fn usage_blocks(&self, query: &UsageQuery, blocks: &BlocksQuery) -> Result<BlocksReport> {
        self.usage_blocks_at(query, blocks, Utc::now())
    }

    /// [`Ringlet::usage_blocks`] as if it were `now`.
    pub fn usage_blocks_at(
        &self,
        query: &UsageQuery,
        opts: &BlocksQuery,
        now: DateTime<Utc>,
    ) -> Result<BlocksReport> {
        let store = self.usage_store()?;
        let filter = self.report_filter(query, store.as_ref())?;
        let hours = store.hours(&filter)?;
        if hours.is_empty() {
            self.check_names(query)?;
        }
        let mut blocks = crate::usage::billing_blocks(&hours, now);
        let token_limit = match opts.token_limit {
            Some(TokenLimit::Tokens(n)) => Some(n),
            Some(TokenLimit::Max) => blocks
                .iter()
                .filter(|b| !b.active)
                .map(|b| b.usage.total_tokens)
                .max(),
            None => None,
        };
        if opts.recent {
            let from = now - Duration::days(3);
            blocks.retain(|b| b.start >= from || b.active);
        }
        if opts.active {
            blocks.retain(|b| b.active);
        }
        Ok(BlocksReport {
            version: USAGE_REPORT_VERSION,
            timezone: filter.time_zone.name().to_string(),
            token_limit,
            blocks,
        })
    }

    /// The agent sessions with usage matching `query`, sorted by start in `order`; with `last`,
    /// only the `last` most recently started. Each counts only its responses in the range.
    pub fn usage_sessions(
        &self,
        query: &UsageQuery,
        order: SortOrder,
        last: Option<usize>,
    ) -> Result<SessionReport> {
        let store = self.usage_store()?;
        let filter = self.report_filter(query, store.as_ref())?;
        let mut sessions: Vec<SessionLine> = store
            .sessions(&filter)?
            .into_iter()
            .map(SessionLine::from)
            .collect();
        if sessions.is_empty() {
            self.check_names(query)?;
        }
        if let Some(n) = last {
            sessions.drain(..sessions.len().saturating_sub(n));
        }
        if order == SortOrder::Desc {
            sessions.reverse();
        }
        let mut total = UsageRow::empty("total");
        for s in &sessions {
            total.absorb(&s.usage);
        }
        Ok(SessionReport {
            version: USAGE_REPORT_VERSION,
            since: filter.since,
            until: filter.until,
            timezone: filter.time_zone.name().to_string(),
            order,
            sessions,
            total,
        })
    }

    /// One agent session, by its id or an unambiguous prefix of it, with its responses (within
    /// `query`'s filters and range).
    pub fn usage_session(&self, id: &str, query: &UsageQuery) -> Result<SessionDetail> {
        let id = id.trim();
        if id.is_empty() {
            return Err(Error::InvalidInput(
                "give a session id (`ringlet usage --by-session` lists them)".into(),
            ));
        }
        let store = self.usage_store()?;
        let filter = self.report_filter(query, store.as_ref())?;
        let exact = store.sessions(&filter.clone().session(id))?;
        let session = match exact.into_iter().next() {
            Some(s) => s,
            None => {
                let mut matches: Vec<_> = store
                    .sessions(&filter)?
                    .into_iter()
                    .filter(|s| s.session_id.starts_with(id))
                    .collect();
                match matches.len() {
                    1 => matches.remove(0),
                    0 => {
                        return Err(Error::InvalidInput(format!(
                            "no session '{}' in the usage ledger{}; `ringlet usage --by-session` lists them",
                            id.escape_debug(),
                            if filter.since.is_some() || filter.until.is_some() {
                                " in this range"
                            } else {
                                ""
                            }
                        )));
                    }
                    n => {
                        return Err(Error::InvalidInput(format!(
                            "{n} sessions start with '{}'; give more of the id",
                            id.escape_debug()
                        )));
                    }
                }
            }
        };
        let events = store.events(&filter.clone().session(session.session_id.clone()), None)?;
        Ok(SessionDetail {
            version: USAGE_REPORT_VERSION,
            timezone: filter.time_zone.name().to_string(),
            session: session.into(),
            events,
        })
    }

    /// The events behind a report, oldest first (for CSV or JSON export).
    pub fn usage_events(&self, query: &UsageQuery) -> Result<Vec<UsageEvent>> {
        let store = self.usage_store()?;
        let filter = self.report_filter(query, store.as_ref())?;
        let events = store.events(&filter, None)?;
        if events.is_empty() {
            self.check_names(query)?;
        }
        Ok(events)
    }

    /// Reads new usage from every profile's HOME (what runs do automatically, for profiles
    /// whose agent was also started outside ringlet, or after a failed ingestion).
    pub fn sync_usage(&self) -> Result<SyncReport> {
        let store = self.usage_store()?;
        let prices = self.lazy_price_book();
        let mut report = SyncReport::default();
        for profile in self.profiles()? {
            let (summary, error) = match self.ingest_and_tell(store.as_ref(), &prices, &profile) {
                Ok(summary) => (summary, None),
                // The ledger itself failing stops everything; a profile's own problem does not.
                Err(e @ Error::UsageStore { .. }) => return Err(e),
                Err(e) => (ImportSummary::default(), Some(e.to_string())),
            };
            report.total.merge(summary.clone());
            report.profiles.push(ProfileSync {
                profile: profile.alias,
                agent: profile.agent,
                summary,
                error,
            });
        }
        Ok(report)
    }

    /// Imports an agent's existing logs (by default from the user's real HOME) into a profile,
    /// so its history is costed from day one. Incremental: importing again reads only what is
    /// new, and nothing is counted twice. `progress` is called before each file and at the end.
    pub fn import_usage(
        &self,
        req: &ImportRequest,
        mut progress: Option<&mut dyn FnMut(&ImportProgress)>,
    ) -> Result<ImportReport> {
        let agent = Arc::clone(self.catalogue().agent(&req.agent)?);
        let profile = self.profile(&req.profile)?;
        if profile.agent != agent.id() {
            return Err(Error::InvalidInput(format!(
                "profile '{}' runs {}, not {}; import into a {} profile (create one with `ringlet profiles create {} <alias> --provider <provider>`)",
                profile.alias,
                profile.agent,
                agent.id(),
                agent.id(),
                agent.id()
            )));
        }
        let logs = &agent.manifest().logs;
        if logs.is_empty() {
            return Err(Error::InvalidInput(format!(
                "{} keeps no usage logs ringlet can read; its usage is recorded only by runs through ringlet",
                agent.id()
            )));
        }
        let sources = import_sources(logs, req.from.as_deref(), &user_home()?)?;
        let store = self.usage_store()?;
        let prices = self.price_book()?;
        let who = Attribution::new(&profile.alias, &profile.agent, &profile.provider);
        let scope = UsageFilter::new()
            .profile(&profile.alias)
            .agent(&profile.agent);
        let before = first_row(store.query(&scope, UsageGroup::Total)?);

        let mut found = Vec::new();
        for (format, root) in &sources {
            if let Some(importer) = importer_for(format) {
                let files = if root.is_file() {
                    vec![root.clone()]
                } else {
                    importer.discover(root)?
                };
                found.push((importer, root, files));
            }
        }
        let total: u64 = found.iter().map(|(_, _, files)| files.len() as u64).sum();
        let mut summary = ImportSummary::default();
        let mut before_source = 0u64;
        // The last `files_done` reported, so the closing report below is not a repeat of the
        // last file's (listeners count reports: one per file, plus the opening 0).
        let mut reported: Option<u64> = None;
        // Files are read on every core and committed in order (`import_files`).
        for (importer, root, files) in &found {
            let inserted_before = summary.inserted;
            let part = import_files(
                store.as_ref(),
                prices.as_ref(),
                &who,
                *importer,
                root,
                files,
                &ImportOptions::default(),
                &mut |done, part| {
                    if let Some(cb) = progress.as_mut() {
                        reported = Some(before_source + done);
                        cb(&ImportProgress {
                            files_done: before_source + done,
                            files_total: total,
                            // The file read next, or the last one once all are read.
                            path: usize::try_from(done)
                                .ok()
                                .and_then(|i| files.get(i))
                                .or(files.last())
                                .cloned()
                                .unwrap_or_else(|| (*root).clone()),
                            inserted: inserted_before + part.inserted,
                        });
                    }
                },
            )?;
            before_source += files.len() as u64;
            summary.merge(part);
        }
        if let Some(cb) = progress.as_mut().filter(|_| reported != Some(total)) {
            cb(&ImportProgress {
                files_done: total,
                files_total: total,
                path: found
                    .last()
                    .and_then(|(_, _, files)| files.last().cloned())
                    .unwrap_or_default(),
                inserted: summary.inserted,
            });
        }
        let after = first_row(store.query(&scope, UsageGroup::Total)?);
        let range = store.events(&scope, Some(1))?;
        let last = self.last_event_time(store.as_ref(), &scope)?;
        let cost_nanos = after.cost_nanos.saturating_sub(before.cost_nanos);
        self.tell_usage(&profile.alias, &profile.agent, &summary, &before, &after);
        Ok(ImportReport {
            agent: profile.agent,
            profile: profile.alias,
            sources: sources.into_iter().map(|(_, root)| root).collect(),
            summary,
            cost_nanos,
            cost_usd: nanos_to_usd(cost_nanos),
            unpriced_events: after.unpriced_events.saturating_sub(before.unpriced_events),
            first_event: range.first().map(|e| e.time),
            last_event: last,
        })
    }

    /// Agents whose logs are in the user's real HOME, for `ringlet init` to offer an import.
    pub fn import_candidates(&self) -> Result<Vec<ImportCandidate>> {
        let home = user_home()?;
        // Profiles are informational here: a corrupt one must not hide the offer.
        let profiles = self.profiles().unwrap_or_default();
        let mut out = Vec::new();
        for agent in self.catalogue().agents() {
            let m = agent.manifest();
            let mut paths = Vec::new();
            let mut files = 0u64;
            for loc in &m.logs {
                let Some(importer) = importer_for(&loc.format) else {
                    continue;
                };
                let root = home.join(&loc.path);
                let found = importer.discover(&root).unwrap_or_default().len() as u64;
                if found > 0 {
                    files += found;
                    paths.push(root);
                }
            }
            if files > 0 {
                out.push(ImportCandidate {
                    agent: m.id.clone(),
                    name: m.name.clone(),
                    paths,
                    files,
                    profiles: profiles
                        .iter()
                        .filter(|p| p.agent == m.id)
                        .map(|p| p.alias.clone())
                        .collect(),
                });
            }
        }
        Ok(out)
    }

    /// Replaces the pricing snapshot with LiteLLM's feed read from `source` (a file path or an
    /// http(s) URL; LiteLLM's own URL when `None`), then re-prices the ledger's computed and
    /// unpriced events with it. A feed that does not parse or prices nothing leaves the old
    /// snapshot in place.
    pub fn update_pricing(&self, source: Option<&str>) -> Result<PricingReport> {
        let source = source
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(LITELLM_PRICES_URL);
        let text = if source.starts_with("http://") || source.starts_with("https://") {
            download(source)?
        } else {
            let path = Path::new(source);
            if !path.is_file() {
                return Err(Error::InvalidInput(format!(
                    "pricing source {} is not a file nor an http(s) URL; give LiteLLM's model_prices_and_context_window.json",
                    path.display()
                )));
            }
            crate::fsio::read_to_string(path)?
        };
        let snapshot = PriceBook::snapshot_path(self.paths());
        let feed = PriceBook::save_snapshot(&snapshot, &text)?;
        let (models, skipped) = (feed.len(), feed.skipped().len());
        let book = Arc::new(PriceBook::builtin().overlay(feed));
        *self
            .inner
            .usage
            .prices
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&book));
        let repriced = self.usage_store()?.reprice(&book)?;
        Ok(PricingReport {
            source: source.to_string(),
            snapshot,
            models,
            skipped,
            repriced,
        })
    }

    /// Where prices come from now.
    pub fn pricing_status(&self) -> Result<PricingStatus> {
        let path = PriceBook::snapshot_path(self.paths());
        let updated_at = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .map(DateTime::<Utc>::from);
        Ok(PricingStatus {
            snapshot: updated_at.is_some().then_some(path),
            updated_at,
            models: self.price_book()?.len(),
        })
    }

    /// Runs per profile (or per agent, with `group` = [`UsageGroup::Agent`]): how many, how
    /// long, how they ended, peak memory and CPU time. Takes the same filters as
    /// [`Ringlet::usage`] (the model filter matches the profile's model).
    pub fn stats(&self, query: &UsageQuery) -> Result<StatsReport> {
        let filter = self.usage_filter(query)?;
        let runs = self.usage_store()?.runs(&filter, None)?;
        if runs.is_empty() {
            self.check_names(query)?;
        }
        let mut by_profile: BTreeMap<String, StatsRow> = BTreeMap::new();
        let mut total = StatsRow {
            profile: "total".into(),
            ..StatsRow::default()
        };
        let by_agent = match query.group {
            None | Some(UsageGroup::Profile) => false,
            Some(UsageGroup::Agent) => true,
            Some(other) => {
                return Err(Error::InvalidInput(format!(
                    "stats are grouped by profile or agent, not by {}",
                    group_name(other)
                )));
            }
        };
        for run in &runs {
            let key = if by_agent { &run.agent } else { &run.profile };
            let row = by_profile.entry(key.clone()).or_insert_with(|| StatsRow {
                profile: if by_agent {
                    String::new()
                } else {
                    run.profile.clone()
                },
                agent: run.agent.clone(),
                provider: run.provider.clone(),
                ..StatsRow::default()
            });
            if row.provider != run.provider {
                row.provider.clear();
            }
            add_run(row, run);
            add_run(&mut total, run);
        }
        let rows: Vec<StatsRow> = by_profile.into_values().map(finish_stats).collect();
        let same = |f: fn(&StatsRow) -> &str| {
            rows.first()
                .map(f)
                .filter(|v| rows.iter().all(|r| f(r) == *v))
                .unwrap_or_default()
                .to_string()
        };
        total.agent = same(|r| &r.agent);
        total.provider = same(|r| &r.provider);
        Ok(StatsReport {
            total: finish_stats(total),
            rows,
        })
    }

    /// Records the start of a run in the ledger. Never fails: a ledger problem becomes a
    /// warning, and the agent still runs.
    /// What is known when a run starts, taken without I/O just before the agent is spawned (the
    /// children's resource use so far, so that only this agent's is counted).
    pub(crate) fn usage_run_starting(&self, profile: &Profile) -> PendingSession {
        PendingSession {
            start: RunStart {
                profile: profile.alias.clone(),
                agent: profile.agent.clone(),
                provider: profile.provider.clone(),
                model: profile.model.clone(),
                started_at: Utc::now(),
            },
            before: ChildUsage::now(),
        }
    }

    /// Records the start of a run in the ledger. [`Ringlet::run`] does this once the agent has
    /// started, while it runs, so opening the ledger never delays the agent.
    pub(crate) fn usage_record_start(&self, pending: PendingSession) -> UsageSession {
        let alias = pending.start.profile.clone();
        let id = match self.usage_store().and_then(|s| s.start_run(&pending.start)) {
            Ok(id) => Some(id),
            Err(e) => {
                self.warn_usage(format!(
                    "this run of '{alias}' and its usage are not recorded: {e}; once that is fixed, `ringlet usage sync` reads the usage from the agent's logs"
                ));
                None
            }
        };
        UsageSession {
            unavailable: id.is_none(),
            id,
            before: pending.before,
        }
    }

    /// Records how the run ended (exit code, duration, peak memory, CPU time) and reads the
    /// usage the agent logged in the profile HOME. Never fails, so that nothing here can change
    /// the agent's exit code; problems become warnings.
    pub(crate) fn usage_run_finished(
        &self,
        profile: &Profile,
        session: UsageSession,
        outcome: Option<&RunOutcome>,
    ) {
        if let Some(id) = session.id {
            let used = match (ChildUsage::now(), session.before) {
                (Some(after), Some(before)) if outcome.is_some() => after.since(before),
                _ => Default::default(),
            };
            let end = RunEnd {
                ended_at: Some(outcome.map_or_else(Utc::now, |o| o.ended_at)),
                exit_code: outcome.map(|o| o.exit_code),
                peak_rss_bytes: used.peak_rss_bytes,
                cpu_user_ms: used.cpu_user_ms,
                cpu_system_ms: used.cpu_system_ms,
            };
            let finished = self.usage_store().and_then(|s| s.finish_run(id, &end));
            if let Err(e) = finished {
                self.warn_usage(format!(
                    "the end of this run of '{}' is not recorded in the usage ledger: {e}",
                    profile.alias
                ));
            }
        }
        if outcome.is_none() || session.unavailable {
            return;
        }
        let ingested = self.usage_store().and_then(|store| {
            self.ingest_and_tell(store.as_ref(), &self.lazy_price_book(), profile)
        });
        match ingested {
            Ok(summary) => {
                if let Some(failure) = summary.failures.first() {
                    self.warn_usage(format!(
                        "{} of the agent's log files could not be read for usage (first: {}: {}); run `ringlet usage sync` to retry",
                        summary.failures.len(),
                        failure.path.display(),
                        failure.message
                    ));
                }
            }
            Err(e) => self.warn_usage(format!(
                "usage of this run of '{}' was not recorded: {e}; run `ringlet usage sync` once that is fixed",
                profile.alias
            )),
        }
    }

    fn warn_usage(&self, message: String) {
        self.inner.warnings.push("usage", message);
    }

    /// The price book, loaded only if an import finds something to price: parsing the
    /// built-in table and a LiteLLM snapshot costs more than the rest of a launch.
    pub(super) fn lazy_price_book(
        &self,
    ) -> LazyPriceBook<impl Fn() -> Result<Arc<PriceBook>> + Send + Sync + '_> {
        LazyPriceBook::new(|| self.price_book())
    }

    /// [`Self::ingest_profile`], telling subscribers what went into the ledger. The
    /// profile's totals are read before and after only when someone listens.
    fn ingest_and_tell(
        &self,
        store: &dyn UsageStore,
        prices: &dyn PriceSource,
        profile: &Profile,
    ) -> Result<ImportSummary> {
        let scope = UsageFilter::new()
            .profile(&profile.alias)
            .agent(&profile.agent);
        let totals = || store.query(&scope, UsageGroup::Total).map(first_row);
        // A failed read of the totals only makes the event's cost zero: it is not worth
        // failing an ingestion that worked.
        let before = self.has_subscribers().then(totals).and_then(Result::ok);
        let summary = self.ingest_profile(store, prices, profile)?;
        if let Some(before) = before
            && (summary.inserted > 0 || summary.replaced > 0)
        {
            let after = totals().unwrap_or_else(|_| before.clone());
            self.tell_usage(&profile.alias, &profile.agent, &summary, &before, &after);
        }
        Ok(summary)
    }

    /// Sends [`Event::UsageRecorded`] when `summary` stored something; `before` and `after`
    /// are the profile's totals around it.
    fn tell_usage(
        &self,
        profile: &str,
        agent: &str,
        summary: &ImportSummary,
        before: &UsageRow,
        after: &UsageRow,
    ) {
        if summary.inserted == 0 && summary.replaced == 0 {
            return;
        }
        self.emit(Event::UsageRecorded {
            profile: profile.to_string(),
            agent: agent.to_string(),
            events: summary.inserted,
            replaced: summary.replaced,
            tokens: after.total_tokens.saturating_sub(before.total_tokens),
            cost_usd: nanos_to_usd(after.cost_nanos.saturating_sub(before.cost_nanos)),
            unpriced_events: after.unpriced_events.saturating_sub(before.unpriced_events),
        });
    }

    fn ingest_profile(
        &self,
        store: &dyn UsageStore,
        prices: &dyn PriceSource,
        profile: &Profile,
    ) -> Result<ImportSummary> {
        let agent = self.catalogue().agent(&profile.agent)?;
        let who = Attribution::new(&profile.alias, &profile.agent, &profile.provider);
        let home = self.profile_home(&profile.alias)?;
        // Claude Code's log keys each response by the id the proxy keys it by: the two
        // deduplicate. Other agents' logs are left out where the proxy counted (wire_wins.rs).
        let proxied = crate::usage::proxied_runs(&crate::usage::proxied_runs_file(
            self.paths().data_dir(),
            &profile.alias,
        ));
        if proxied.is_empty() || profile.agent == "claude" {
            return ingest_home(store, prices, &who, &agent.manifest().logs, &home);
        }
        let wins = crate::usage::WireWins::new(store, proxied);
        ingest_home(&wins, prices, &who, &agent.manifest().logs, &home)
    }

    fn last_event_time(
        &self,
        store: &dyn UsageStore,
        scope: &UsageFilter,
    ) -> Result<Option<DateTime<Utc>>> {
        // The ledger lists events oldest first; the day rows tell where the last one is.
        let days = store.query(scope, UsageGroup::Day)?;
        let Some(day) = days.last() else {
            return Ok(None);
        };
        let start = NaiveDate::parse_from_str(&day.key, "%Y-%m-%d")
            .ok()
            .and_then(|d| {
                d.and_time(NaiveTime::MIN)
                    .and_utc()
                    .checked_sub_signed(Duration::days(1))
            });
        let mut tail = scope.clone();
        tail.since = start;
        Ok(store.events(&tail, None)?.last().map(|e| e.time))
    }

    pub(super) fn usage_filter(&self, q: &UsageQuery) -> Result<UsageFilter> {
        let zone = match clean(&q.timezone) {
            Some(name) => Zone::named(name)?,
            None => Zone::system(),
        };
        let since = clean(&q.since)
            .map(|s| parse_bound(s, &zone, false, "--since"))
            .transpose()?;
        let until = clean(&q.until)
            .map(|s| parse_bound(s, &zone, true, "--until"))
            .transpose()?;
        if let (Some(a), Some(b)) = (since, until)
            && a >= b
        {
            return Err(Error::InvalidInput(format!(
                "--since ({}) is not before --until ({}); swap them",
                zone.local(a).format("%Y-%m-%d %H:%M"),
                zone.local(b).format("%Y-%m-%d %H:%M")
            )));
        }
        if let Some(p) = clean(&q.profile) {
            validate_alias(p)?;
        }
        let project = clean(&q.project)
            .map(|p| {
                if p.starts_with('/') || Path::new(p).is_absolute() {
                    Ok(p.to_string())
                } else {
                    Err(Error::InvalidInput(format!(
                        "--project '{}' is not an absolute path; projects are the agents' \
                         working directories, as `ringlet usage --by-project` lists them",
                        p.escape_debug()
                    )))
                }
            })
            .transpose()?;
        Ok(UsageFilter {
            profile: clean(&q.profile).map(str::to_string),
            agent: clean(&q.agent).map(str::to_string),
            provider: clean(&q.provider).map(str::to_string),
            model: clean(&q.model).map(str::to_string),
            models: Vec::new(),
            session: None,
            project,
            since,
            until,
            time_zone: zone,
        })
    }

    /// The filter for a usage report: [`Ringlet::usage_filter`] with its model filter resolved
    /// to the ledger's models it matches (by id, prefix or normalised name: `sonnet-4-5` finds
    /// `claude-sonnet-4-5-20250929`). A filter that matches none is an error listing the
    /// models there are, like an unknown profile.
    pub(super) fn report_filter(
        &self,
        q: &UsageQuery,
        store: &dyn UsageStore,
    ) -> Result<UsageFilter> {
        let mut filter = self.usage_filter(q)?;
        let Some(pattern) = filter.model.take() else {
            return Ok(filter);
        };
        let present: Vec<String> = store
            .query(&UsageFilter::new(), UsageGroup::Model)?
            .into_iter()
            .map(|r| r.key)
            .collect();
        let matched: Vec<String> = present
            .iter()
            .filter(|m| model_matches(&pattern, m))
            .cloned()
            .collect();
        if matched.is_empty() {
            return Err(Error::UnknownModel {
                model: pattern,
                present: if present.is_empty() {
                    "none".into()
                } else {
                    present.join(", ")
                },
            });
        }
        filter.models = matched;
        Ok(filter)
    }

    /// When a filter matched nothing: errors for names that do not exist at all, so a typo
    /// reads as a typo.
    fn check_names(&self, q: &UsageQuery) -> Result<()> {
        if let Some(p) = q.profile.as_deref().filter(|p| !p.is_empty())
            && !self.has_profile(p)?
        {
            return Err(self.inner.profiles.not_found(p));
        }
        if let Some(a) = q.agent.as_deref().filter(|a| !a.is_empty()) {
            self.catalogue().agent(a)?;
        }
        if let Some(p) = q.provider.as_deref().filter(|p| !p.is_empty()) {
            self.catalogue().provider(p)?;
        }
        Ok(())
    }
}

/// Whether a model filter names `model`: the same id (any case), a prefix of it, or its
/// normalised name ([`normalize_model`]: no date suffix, no provider prefix) or a prefix of
/// that starting at a `-` boundary (`sonnet-4-5` in `claude-sonnet-4-5`).
fn model_matches(pattern: &str, model: &str) -> bool {
    let (p, m) = (
        pattern.trim().to_ascii_lowercase(),
        model.to_ascii_lowercase(),
    );
    if m.starts_with(&p) {
        return true;
    }
    let (np, nm) = (normalize_model(&p), normalize_model(model));
    !np.is_empty()
        && nm
            .match_indices(&np)
            .any(|(i, _)| i == 0 || nm.as_bytes()[i - 1] == b'-')
}

/// A filter value with blanks meaning "not given".
fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

pub(super) fn first_row(rows: Vec<UsageRow>) -> UsageRow {
    rows.into_iter()
        .next()
        .unwrap_or_else(|| UsageRow::empty("total"))
}

pub(super) fn group_name(g: UsageGroup) -> String {
    serde_json::to_value(g)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{g:?}").to_lowercase())
}

/// The rows of a grouped report and their total, from one split query: each row with the
/// models it used (unless it is a model) and, with a breakdown, its parts. Rows and total are
/// added up here from the parts, so a report costs one pass over the rollup.
pub(super) fn grouped_lines(
    store: &dyn UsageStore,
    filter: &UsageFilter,
    group: UsageGroup,
    breakdown: Option<UsageGroup>,
) -> Result<(Vec<UsageLine>, UsageRow)> {
    if let Some(by) = breakdown
        && !matches!(
            by,
            UsageGroup::Model | UsageGroup::Agent | UsageGroup::Profile | UsageGroup::Provider
        )
    {
        return Err(Error::InvalidInput(format!(
            "a breakdown is by model, agent, profile or provider, not {}",
            group_name(by)
        )));
    }
    if breakdown == Some(group) {
        return Err(Error::InvalidInput(format!(
            "rows grouped by {} cannot be broken down by it again",
            group_name(group)
        )));
    }
    let mut total = UsageRow::empty("total");
    let mut lines: Vec<UsageLine> = Vec::new();
    if group == UsageGroup::Model && breakdown.is_none() {
        for row in store.query(filter, group)? {
            total.absorb(&row);
            lines.push(UsageLine::grouped(group, row));
        }
        return Ok((lines, total));
    }
    let by = breakdown.unwrap_or(UsageGroup::Model);
    for (sub, part) in store.query_split(filter, group, by)? {
        total.absorb(&part);
        let same = lines.last().is_some_and(|l| l.usage.key == part.key);
        if !same {
            lines.push(UsageLine::grouped(group, UsageRow::empty(part.key.clone())));
        }
        if let Some(line) = lines.last_mut() {
            line.usage.absorb(&part);
            if by == UsageGroup::Model && !line.models.contains(&sub) {
                line.models.push(sub.clone());
            }
            if breakdown.is_some() {
                line.breakdown.push(UsageRow { key: sub, ..part });
            }
        }
    }
    // The models column next to another breakdown: one more split, by model.
    if by != UsageGroup::Model && group != UsageGroup::Model {
        let mut at = 0;
        for (model, part) in store.query_split(filter, group, UsageGroup::Model)? {
            while at < lines.len() && lines[at].usage.key != part.key {
                at += 1;
            }
            if let Some(line) = lines.get_mut(at) {
                line.models.push(model);
            }
        }
    }
    for line in &mut lines {
        line.models.sort();
        line.models.dedup();
    }
    Ok((lines, total))
}

/// One row per profile, agent and provider. A profile normally has one of each, but a profile
/// deleted and created again with another agent keeps its old usage under the old agent.
pub(super) fn per_profile(store: &dyn UsageStore, filter: &UsageFilter) -> Result<Vec<UsageLine>> {
    let mut out = Vec::new();
    for p in store.query(filter, UsageGroup::Profile)? {
        let fp = UsageFilter {
            profile: Some(p.key.clone()),
            ..filter.clone()
        };
        for a in store.query(&fp, UsageGroup::Agent)? {
            let fa = UsageFilter {
                agent: Some(a.key.clone()),
                ..fp.clone()
            };
            for usage in store.query(&fa, UsageGroup::Provider)? {
                let mut line = UsageLine::grouped(
                    UsageGroup::Total,
                    UsageRow {
                        key: p.key.clone(),
                        ..usage.clone()
                    },
                );
                line.profile = Some(p.key.clone());
                line.agent = Some(a.key.clone());
                line.provider = Some(usage.key.clone());
                out.push(line);
            }
        }
    }
    Ok(out)
}

/// Parses a `--since`/`--until` value: a day (midnight in `zone`; for `until`, the next
/// midnight, so the day is included), an RFC 3339 time, `today`, `yesterday` or `Nd`.
fn parse_bound(s: &str, zone: &Zone, until: bool, flag: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let today = zone.today();
    let day = match s {
        "today" => Some(today),
        "yesterday" => today.pred_opt(),
        _ => match s.strip_suffix('d').map(str::parse::<u32>) {
            Some(Ok(n)) => today.checked_sub_days(chrono::Days::new(u64::from(n))),
            _ => NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
        },
    };
    let day = day.ok_or_else(|| {
        Error::InvalidInput(format!(
            "{flag} '{}' is not a date; use YYYY-MM-DD, an RFC 3339 time (2026-05-01T09:00:00Z), today, yesterday or Nd (N days ago)",
            s.escape_debug()
        ))
    })?;
    let day = if until {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    zone.start_of_day(day)
}

/// The current user's real HOME (not a profile's): where `ringlet import` looks by default.
fn user_home() -> Result<PathBuf> {
    directories::BaseDirs::new()
        .map(|d| d.home_dir().to_path_buf())
        .ok_or_else(|| {
            Error::NoHome("no home directory for the current user; pass --from DIR".into())
        })
}

/// The `(format, path)` pairs an import reads. `from` may be a HOME (the agent's log locations
/// are looked up below it), a log directory or a log file; without it, the user's HOME.
fn import_sources(
    logs: &[LogLocation],
    from: Option<&Path>,
    home: &Path,
) -> Result<Vec<(String, PathBuf)>> {
    let in_home = |home: &Path| -> Vec<(String, PathBuf)> {
        logs.iter()
            .map(|l| (l.format.clone(), home.join(&l.path)))
            .collect()
    };
    let Some(from) = from else {
        return Ok(in_home(home));
    };
    let from = std::path::absolute(from).map_err(|e| Error::io("resolving", from, e))?;
    if !from.exists() {
        return Err(Error::InvalidInput(format!(
            "--from {} does not exist; give the HOME, log directory or log file to import",
            from.display()
        )));
    }
    let as_home = in_home(&from);
    if from.is_dir() && as_home.iter().any(|(_, p)| p.exists()) {
        return Ok(as_home);
    }
    let mut formats: Vec<String> = logs.iter().map(|l| l.format.clone()).collect();
    formats.dedup();
    Ok(formats.into_iter().map(|f| (f, from.clone())).collect())
}

/// Downloads a pricing feed with a bounded size and time.
fn download(url: &str) -> Result<String> {
    let fail = |message: String| Error::Download {
        url: url.to_string(),
        message,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .user_agent(concat!("ringlet/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut response = agent.get(url).call().map_err(|e| {
        fail(format!(
            "{e}; check the network, or download it yourself and run `ringlet pricing update --from FILE`"
        ))
    })?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_FEED_BYTES)
        .read_to_string()
        .map_err(|e| {
            fail(format!(
                "{e}; try again, or use `ringlet pricing update --from FILE`"
            ))
        })
}

fn add_run(row: &mut StatsRow, run: &RunSession) {
    row.runs += 1;
    match (run.ended_at, run.exit_code) {
        (None, _) => row.unfinished += 1,
        (Some(_), Some(0)) => row.succeeded += 1,
        (Some(_), _) => row.failed += 1,
    }
    row.total_duration_ms += run.duration_ms.unwrap_or(0);
    row.peak_rss_bytes = match (row.peak_rss_bytes, run.peak_rss_bytes) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    row.cpu_user_ms += run.cpu_user_ms.unwrap_or(0);
    row.cpu_system_ms += run.cpu_system_ms.unwrap_or(0);
    row.last_run = row.last_run.max(Some(run.started_at));
}

fn finish_stats(mut row: StatsRow) -> StatsRow {
    let finished = row.succeeded + row.failed;
    row.avg_duration_ms = row.total_duration_ms.checked_div(finished).unwrap_or(0);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Zone {
        Zone::named(name).expect("zone")
    }

    #[test]
    fn model_filters_match_ids_prefixes_and_normalised_names() {
        let m = "claude-sonnet-4-5-20250929";
        for pattern in [
            m,
            "claude-sonnet-4-5",
            "sonnet-4-5",
            "Sonnet-4.5",
            "claude-sonnet",
            "sonnet",
        ] {
            assert!(model_matches(pattern, m), "{pattern}");
        }
        for pattern in ["onnet-4-5", "opus", "sonnet-4-6", "gpt-5"] {
            assert!(!model_matches(pattern, m), "{pattern}");
        }
        assert!(model_matches("gpt-5", "openai/gpt-5-codex"));
        assert!(!model_matches("gpt-5", "gpt-4o"));
    }

    #[test]
    fn days_are_local_midnights_and_until_includes_its_day() {
        let since = parse_bound("2026-05-01", &zone("Etc/GMT-2"), false, "--since").expect("since");
        assert_eq!(since.to_rfc3339(), "2026-04-30T22:00:00+00:00");
        let until = parse_bound("2026-05-01", &zone("UTC"), true, "--until").expect("until");
        assert_eq!(until.to_rfc3339(), "2026-05-02T00:00:00+00:00");
        let exact =
            parse_bound("2026-05-01T09:30:00Z", &zone("UTC"), true, "--until").expect("rfc");
        assert_eq!(exact.to_rfc3339(), "2026-05-01T09:30:00+00:00");
        let week = parse_bound("7d", &zone("UTC"), false, "--since").expect("7d");
        assert!(Utc::now() - week <= Duration::days(8) && Utc::now() - week >= Duration::days(7));
        let err = parse_bound("May 1st", &zone("UTC"), false, "--since").expect_err("bad");
        assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
    }

    #[test]
    fn import_sources_accept_a_home_a_log_dir_or_a_file() {
        let logs = vec![LogLocation {
            path: ".claude/projects".into(),
            format: "claude-jsonl".into(),
        }];
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".claude/projects")).expect("mkdir");
        let got = import_sources(&logs, Some(&home), Path::new("/nowhere")).expect("home");
        assert_eq!(
            got,
            [("claude-jsonl".into(), home.join(".claude/projects"))]
        );
        let plain = dir.path().join("logs");
        std::fs::create_dir_all(&plain).expect("mkdir");
        let got = import_sources(&logs, Some(&plain), Path::new("/nowhere")).expect("dir");
        assert_eq!(got, [("claude-jsonl".into(), plain.clone())]);
        let got = import_sources(&logs, None, &home).expect("default");
        assert_eq!(got[0].1, home.join(".claude/projects"));
        let err =
            import_sources(&logs, Some(&dir.path().join("missing")), &home).expect_err("missing");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}

#[cfg(test)]
mod facade_tests {
    use super::*;
    use crate::credentials::MemoryCredentialStore;
    use crate::usage::tests::event;

    #[test]
    fn a_store_from_the_builder_is_used_and_no_file_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteUsageStore::open_in_memory().expect("store"));
        let mut unpriced = event("b", "mystery-model", 5, 0);
        unpriced.cost_nanos = None;
        unpriced.cost_source = crate::usage::CostSource::Unpriced;
        store
            .record(&[event("a", "claude-sonnet-4-5", 10, 0), unpriced])
            .expect("record");
        let ringlet = Ringlet::builder()
            .home(dir.path())
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .usage_store(store)
            .build()
            .expect("build");
        let day = ringlet
            .usage(&UsageQuery {
                group: Some(UsageGroup::Day),
                timezone: Some("UTC".into()),
                ..UsageQuery::default()
            })
            .expect("by day");
        assert_eq!(day.group, "day");
        assert_eq!(day.rows.len(), 1);
        assert_eq!(day.rows[0].usage.key, "2026-05-01");
        assert_eq!((day.total.events, day.total.unpriced_events), (2, 1));
        let per_profile = ringlet.usage(&UsageQuery::default()).expect("default");
        let row = &per_profile.rows[0];
        assert_eq!(
            (
                row.profile.as_deref(),
                row.agent.as_deref(),
                row.provider.as_deref()
            ),
            (Some("work"), Some("claude"), Some("anthropic"))
        );
        assert_eq!(day.timezone, "UTC");
        // A model filter matches by normalised name; one that matches nothing lists the models.
        let sonnet = ringlet
            .usage(&UsageQuery {
                model: Some("sonnet-4.5".into()),
                ..UsageQuery::default()
            })
            .expect("by normalised name");
        assert_eq!(sonnet.total.events, 1);
        let err = ringlet
            .usage_events(&UsageQuery {
                model: Some("opus".into()),
                ..UsageQuery::default()
            })
            .expect_err("no such model");
        assert_eq!(err.code(), "unknown_model");
        assert!(
            err.to_string()
                .contains("models recorded: claude-sonnet-4-5, mystery-model"),
            "{err}"
        );
        // A zone name from a caller (an HTTP query) that is no zone is an error naming it.
        for name in ["Mars/Olympus", "+0530", "../../etc/passwd"] {
            let query = UsageQuery {
                timezone: Some(name.into()),
                ..UsageQuery::default()
            };
            for err in [
                ringlet.usage(&query).expect_err("usage"),
                ringlet.stats(&query).expect_err("stats"),
            ] {
                assert!(err.to_string().contains("unknown time zone"), "{err}");
            }
        }
        // The profile does not exist, but it has usage: still reported.
        let work = ringlet
            .usage(&UsageQuery {
                profile: Some("work".into()),
                ..UsageQuery::default()
            })
            .expect("deleted profile's usage");
        assert_eq!(work.total.events, 2);
        let err = ringlet
            .stats(&UsageQuery {
                group: Some(UsageGroup::Model),
                ..UsageQuery::default()
            })
            .expect_err("stats by model");
        assert!(err.to_string().contains("by profile or agent"), "{err}");
        assert!(!ringlet.usage_db_path().exists());
    }

    #[test]
    fn a_ledger_poisoned_by_an_older_version_still_gives_a_report() {
        // Older versions stored any cost a log claimed: OpenCode's `"cost": 5e9` became 5e18
        // nano-dollars, two of them overflowed the rollup into a REAL, and every report failed.
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = Ringlet::builder()
            .home(dir.path())
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build");
        ringlet
            .usage_store()
            .expect("ledger")
            .record(&[event("ok", "claude-sonnet-4-5", 10, 0)])
            .expect("record");
        let conn = rusqlite::Connection::open(ringlet.usage_db_path()).expect("raw open");
        for (key, cost) in [
            ("evil1", "5000000000000000000"),
            ("evil2", "5e18"),
            ("evil3", "1e300"),
        ] {
            conn.execute(
                &format!(
                    "INSERT INTO usage_events (ts_ms, profile, agent, provider, model, input, \
                     output, cache_creation, cache_creation_5m, cache_creation_1h, cache_read, \
                     reasoning, cost_nanos, cost_source, session_id, origin_id, dedup_key, rank) \
                     SELECT ts_ms, profile, agent, provider, model, 1, 0, 0, 0, 0, 0, 0, {cost}, \
                     'reported', session_id, origin_id, ?1, 0 FROM usage_events LIMIT 1"
                ),
                [key],
            )
            .expect("insert a poisoned row");
        }
        drop(conn);
        for group in [None, Some(UsageGroup::Day), Some(UsageGroup::Session)] {
            let report = ringlet
                .usage(&UsageQuery {
                    group,
                    timezone: Some("UTC".into()),
                    ..UsageQuery::default()
                })
                .expect("a usable report");
            assert_eq!(report.total.events, 4, "{group:?}");
            assert_eq!(report.total.input, 13, "{group:?}");
            assert_eq!(report.total.cost_nanos, i64::MAX, "{group:?}");
        }
        let events = ringlet
            .usage_events(&UsageQuery::default())
            .expect("a usable export");
        assert_eq!(events.len(), 4);
    }

    #[test]
    fn since_and_until_days_start_at_local_midnight_on_both_sides_of_daylight_saving() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteUsageStore::open_in_memory().expect("store"));
        // Each local midnight next to a 2026 transition, and a millisecond before it.
        let edges = [
            "2026-03-28T23:00:00Z", // Berlin, 29 March (CET)
            "2026-03-29T22:00:00Z", // Berlin, 30 March (CEST)
            "2026-10-24T22:00:00Z", // Berlin, 25 October (CEST)
            "2026-10-25T23:00:00Z", // Berlin, 26 October (CET)
            "2026-10-20T07:00:00Z", // Los Angeles, 20 October (PDT)
            "2026-11-01T07:00:00Z", // Los Angeles, 1 November (PDT)
            "2026-11-02T08:00:00Z", // Los Angeles, 2 November (PST)
        ];
        let mut events = Vec::new();
        for (i, edge) in edges.iter().enumerate() {
            let t = DateTime::parse_from_rfc3339(edge)
                .expect("edge")
                .with_timezone(&Utc);
            for (j, at) in [t - Duration::milliseconds(1), t].into_iter().enumerate() {
                let mut ev = event(&format!("e{i}-{j}"), "claude-sonnet-4-5", 1, 0);
                ev.time = at;
                events.push(ev);
            }
        }
        store.record(&events).expect("record");
        let ringlet = Ringlet::builder()
            .home(dir.path())
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .usage_store(store)
            .build()
            .expect("build");
        let count = |zone: &str, since: &str, until: &str| {
            let report = ringlet
                .usage(&UsageQuery {
                    since: Some(since.into()),
                    until: Some(until.into()),
                    timezone: Some(zone.into()),
                    ..UsageQuery::default()
                })
                .expect("report");
            assert_eq!(report.timezone, zone);
            (
                report.since.map(|t| t.to_rfc3339()),
                report.until.map(|t| t.to_rfc3339()),
                report.total.events,
            )
        };
        // 29 March in Berlin is 23 hours long: from its midnight (inclusive) to 30 March's.
        assert_eq!(
            count("Europe/Berlin", "2026-03-29", "2026-03-29"),
            (
                Some("2026-03-28T23:00:00+00:00".into()),
                Some("2026-03-29T22:00:00+00:00".into()),
                2
            )
        );
        // 25 October is 25 hours long.
        assert_eq!(
            count("Europe/Berlin", "2026-10-25", "2026-10-25"),
            (
                Some("2026-10-24T22:00:00+00:00".into()),
                Some("2026-10-25T23:00:00+00:00".into()),
                2
            )
        );
        // The case: 20 October in Los Angeles starts at 07:00Z (PDT), not 08:00Z; the
        // range ends at the end of 1 November, a 25-hour day. Berlin's October edges fall inside.
        assert_eq!(
            count("America/Los_Angeles", "2026-10-20", "2026-11-01"),
            (
                Some("2026-10-20T07:00:00+00:00".into()),
                Some("2026-11-02T08:00:00+00:00".into()),
                8
            )
        );
        // The same instants are other days in Kolkata (+05:30, no daylight saving).
        assert_eq!(
            count("Asia/Kolkata", "2026-11-02", "2026-11-02"),
            (
                Some("2026-11-01T18:30:00+00:00".into()),
                Some("2026-11-02T18:30:00+00:00".into()),
                2
            )
        );
    }
}
