//! Usage and cost accounting: the ledger ([`UsageStore`], SQLite by default), the importers that
//! read each agent's own logs from a profile HOME, and the [`PriceBook`] that prices tokens.
//!
//! The flow after `ringlet profiles run`:
//!
//! ```no_run
//! use ringlet::{Attribution, LogLocation, PriceBook, SqliteUsageStore, UsageFilter, UsageGroup,
//!     UsageStore, ingest_home};
//!
//! let store = SqliteUsageStore::open("/tmp/ringlet/usage.db")?;
//! let prices = PriceBook::builtin();
//! let logs = vec![LogLocation { path: ".claude/projects".into(), format: "claude-jsonl".into() }];
//! let who = Attribution::new("work", "claude", "anthropic");
//! let summary = ingest_home(&store, &prices, &who, &logs, "/tmp/profiles/work/home".as_ref())?;
//! println!("{} new events, {} malformed lines", summary.inserted, summary.malformed_lines);
//! for day in store.query(&UsageFilter::new().profile("work"), UsageGroup::Day)? {
//!     println!("{} {} tokens ${:.2}", day.key, day.total_tokens, day.cost_usd);
//! }
//! # Ok::<(), ringlet::Error>(())
//! ```

mod blocks;
mod csv;
mod event;
mod import;
mod price;
pub(crate) mod rusage;
mod schema;
mod sqlite;
mod store;
mod wire_wins;
mod zone;

pub use csv::{USAGE_CSV_HEADER, csv_field, write_csv as usage_csv};
pub use event::{CostSource, NANOS_PER_USD, TokenCounts, UsageEvent, nanos_to_usd};
pub use import::{
    Attribution, ClaudeImporter, CodexImporter, DroidImporter, FileFailure, FileReport,
    GeminiImporter, ImportOptions, ImportSummary, Importer, Malformed, OpenCodeImporter,
    ParsedUsage, ScanContext, builtin_importers, import_logs, importer_for, ingest_home,
};
pub use import::{BatchSink, MAX_THREADS as MAX_IMPORT_THREADS, import_files};
pub use price::{
    LazyPriceBook, MatchKind, ModelPrice, PriceBook, PriceMatch, PriceSource, Rate, Tier,
    normalize_model,
};
pub use sqlite::SqliteUsageStore;
pub use store::{
    FileIdentity, HourUsage, ImportState, RecordOutcome, RepriceOutcome, RuleUsage, RunEnd,
    RunSession, RunStart, SessionUsage, UsageFilter, UsageGroup, UsageRow, UsageStore,
};

pub use blocks::{BLOCK_HOURS, BillingBlock, Projection, billing_blocks};
pub use zone::Zone;

pub(crate) mod conformance;

// The team ledger (Postgres) shares the bucket size and the day labels.
#[cfg(feature = "team")]
pub(crate) use schema::BUCKET_MS;
#[cfg(feature = "team")]
pub(crate) use sqlite::{day_key, offset_sql};

#[cfg(feature = "team")]
pub(crate) use store::{SessionCell, fold_sessions};
#[cfg(feature = "proxy")]
pub(crate) use wire_wins::add_run as add_proxied_run;
pub(crate) use wire_wins::{WireWins, read_runs as proxied_runs, runs_file as proxied_runs_file};

#[cfg(test)]
pub(crate) mod tests {
    //! Helpers shared by the usage tests.
    use std::path::PathBuf;

    /// `<repo>/tests/fixtures`: real agent logs (recorded by tests/record-agent-logs.sh) and
    /// a trimmed LiteLLM feed (tests/trim-litellm-feed.py). Read them in place; copy before
    /// opening a database (SQLite would leave -wal/-shm files in the repository).
    pub fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
    }

    /// A real agent log sample.
    pub fn sample(name: &str) -> PathBuf {
        fixtures().join("agent-logs").join(name)
    }

    pub(crate) use super::conformance::event;
}
