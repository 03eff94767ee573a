//! Counting a proxied response once. The proxy records every response of a proxied run from the
//! wire as it completes; the agent's own log records the same responses again, under keys the
//! proxy cannot know for most agents (Codex keys by session totals, OpenCode and Droid by their
//! own ids; Claude Code's message id is the one exception, and its log's events deduplicate
//! against the proxy's by key). So the times of each proxied run are kept
//! (`<data>/proxy/<alias>.runs`, one `start_ms end_ms` line per run), and a log import of such a
//! profile leaves out the events inside them: the proxy's figures win.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::usage::store::{
    HourUsage, ImportState, RecordOutcome, RepriceOutcome, RunEnd, RunSession, RunStart,
    SessionUsage, UsageFilter, UsageGroup, UsageRow, UsageStore,
};
use crate::usage::{PriceBook, UsageEvent};

/// Where a profile's proxied run times are kept.
pub(crate) fn runs_file(data_dir: &Path, alias: &str) -> PathBuf {
    data_dir.join("proxy").join(format!("{alias}.runs"))
}

/// Adds one proxied run's time span (milliseconds since the epoch). Only proxied runs (and the
/// tests) write spans.
#[cfg(any(feature = "proxy", test))]
pub(crate) fn add_run(file: &Path, start_ms: i64, end_ms: i64) -> Result<()> {
    use crate::error::Error;
    use std::io::Write;
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    // One short line appended with O_APPEND: concurrent runs never interleave inside a line.
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .map_err(|e| Error::io("opening", file, e))?;
    f.write_all(format!("{start_ms} {end_ms}\n").as_bytes())
        .map_err(|e| Error::io("writing", file, e))
}

/// The proxied run spans of a profile; none when the file is missing. Lines that do not parse
/// (a run cut off mid-write) are skipped.
pub(crate) fn read_runs(file: &Path) -> Vec<(i64, i64)> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        })
        .collect()
}

/// A ledger that leaves out imported events inside proxied runs (see the module docs); all else
/// goes to the ledger it wraps.
#[derive(Debug)]
pub(crate) struct WireWins<'a> {
    inner: &'a dyn UsageStore,
    runs: Vec<(i64, i64)>,
}

impl<'a> WireWins<'a> {
    pub(crate) fn new(inner: &'a dyn UsageStore, runs: Vec<(i64, i64)>) -> Self {
        Self { inner, runs }
    }

    fn outside_runs(&self, events: &[UsageEvent]) -> Vec<UsageEvent> {
        events
            .iter()
            .filter(|e| {
                let t = e.time.timestamp_millis();
                !self
                    .runs
                    .iter()
                    .any(|(start, end)| *start <= t && t <= *end)
            })
            .cloned()
            .collect()
    }
}

impl UsageStore for WireWins<'_> {
    fn record(&self, events: &[UsageEvent]) -> Result<RecordOutcome> {
        self.inner.record(events)
    }

    fn commit_import(&self, events: &[UsageEvent], state: &ImportState) -> Result<RecordOutcome> {
        self.inner.commit_import(&self.outside_runs(events), state)
    }

    fn commit_imports(
        &self,
        batches: &[(&[UsageEvent], &ImportState)],
    ) -> Result<Vec<RecordOutcome>> {
        let kept: Vec<Vec<UsageEvent>> =
            batches.iter().map(|(e, _)| self.outside_runs(e)).collect();
        let batches: Vec<(&[UsageEvent], &ImportState)> = kept
            .iter()
            .zip(batches)
            .map(|(events, (_, state))| (events.as_slice(), *state))
            .collect();
        self.inner.commit_imports(&batches)
    }

    fn import_state(&self, path: &str) -> Result<Option<ImportState>> {
        self.inner.import_state(path)
    }

    fn import_states(&self, root: &str) -> Result<Vec<ImportState>> {
        self.inner.import_states(root)
    }

    fn forget_import_states(&self, root: &str) -> Result<u64> {
        self.inner.forget_import_states(root)
    }

    fn query(&self, filter: &UsageFilter, group: UsageGroup) -> Result<Vec<UsageRow>> {
        self.inner.query(filter, group)
    }

    fn query_split(
        &self,
        filter: &UsageFilter,
        group: UsageGroup,
        by: UsageGroup,
    ) -> Result<Vec<(String, UsageRow)>> {
        self.inner.query_split(filter, group, by)
    }

    fn sessions(&self, filter: &UsageFilter) -> Result<Vec<SessionUsage>> {
        self.inner.sessions(filter)
    }

    fn hours(&self, filter: &UsageFilter) -> Result<Vec<HourUsage>> {
        self.inner.hours(filter)
    }

    fn events(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>> {
        self.inner.events(filter, limit)
    }

    fn reprice(&self, prices: &PriceBook) -> Result<RepriceOutcome> {
        self.inner.reprice(prices)
    }

    fn start_run(&self, start: &RunStart) -> Result<i64> {
        self.inner.start_run(start)
    }

    fn finish_run(&self, id: i64, end: &RunEnd) -> Result<()> {
        self.inner.finish_run(id, end)
    }

    fn runs(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<RunSession>> {
        self.inner.runs(filter, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::{CostSource, SqliteUsageStore, TokenCounts};

    fn event(ms: i64, key: &str) -> UsageEvent {
        UsageEvent {
            time: chrono::DateTime::from_timestamp_millis(ms).expect("a time"),
            profile: "p".into(),
            agent: "codex".into(),
            provider: "openai".into(),
            model: "m".into(),
            tokens: TokenCounts {
                input: 1,
                ..TokenCounts::default()
            },
            cost_nanos: None,
            cost_source: CostSource::Unpriced,
            session_id: None,
            origin: "file:x".into(),
            dedup_key: key.into(),
            rank: 0,
            project: None,
        }
    }

    #[test]
    fn log_events_inside_proxied_runs_are_left_out_and_the_rest_kept() {
        use std::io::Write;
        let dir = tempfile::tempdir().expect("dir");
        let file = runs_file(dir.path(), "p");
        assert!(read_runs(&file).is_empty());
        add_run(&file, 1_000, 2_000).expect("added");
        add_run(&file, 5_000, 6_000).expect("added");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .and_then(|mut f| f.write_all(b"7000"))
            .expect("a torn line");
        assert_eq!(read_runs(&file), vec![(1_000, 2_000), (5_000, 6_000)]);
        let store = SqliteUsageStore::open_in_memory().expect("ledger");
        let wins = WireWins::new(&store, read_runs(&file));
        let state = ImportState {
            path: "x".into(),
            format: "codex-rollout".into(),
            identity: Default::default(),
            size: 1,
            mtime_ns: 0,
            offset: 1,
            line: 1,
            context: None,
            updated_at: chrono::Utc::now(),
        };
        let out = wins
            .commit_import(
                &[
                    event(500, "a"),
                    event(1_500, "b"),
                    event(5_000, "c"),
                    event(9_000, "d"),
                ],
                &state,
            )
            .expect("committed");
        assert_eq!(out.inserted, 2);
        let keys: Vec<String> = store
            .events(&UsageFilter::new(), None)
            .expect("events")
            .into_iter()
            .map(|e| e.dedup_key)
            .collect();
        assert_eq!(keys, vec!["a", "d"]);
    }
}
