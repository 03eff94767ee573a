//! Importers: read each agent's own usage logs from a profile HOME into the ledger.
//!
//! Every importer is incremental and idempotent. Each file's import position (byte offset, the
//! file's identity, importer context) is committed in the same transaction as the events it
//! covers, so a re-scan reads only new bytes and a killed import re-run gives exact totals; every
//! event carries a dedup key, so reading something twice never counts it twice. Malformed lines
//! are counted, sampled and skipped; a final line without its newline is left for the next scan.

mod claude;
mod codex;
mod droid;
mod gemini;
mod jsonl;
mod opencode;
mod parallel;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::{CostSource, NANOS_PER_USD, TokenCounts, UsageEvent};
use super::price::PriceSource;
use super::store::{FileIdentity, ImportState, RecordOutcome, UsageStore};
use crate::catalog::agent::LogLocation;
use crate::error::{Error, Result};

pub use claude::ClaudeImporter;
pub use codex::CodexImporter;
pub use droid::DroidImporter;
pub use gemini::GeminiImporter;
pub use opencode::OpenCodeImporter;

/// At most this many malformed-line samples are kept per import, for the summary.
const MAX_SAMPLES: usize = 20;

/// Bytes of a file's start hashed into its [`FileIdentity`].
const HEAD_LEN: u64 = 4096;

/// Who imported events are attributed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    /// The ringlet profile.
    pub profile: String,
    /// The agent id.
    pub agent: String,
    /// The ringlet provider id the profile is bound to (used for the event's provider and as the
    /// pricing hint).
    pub provider: String,
}

impl Attribution {
    /// Builds an attribution.
    pub fn new(
        profile: impl Into<String>,
        agent: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Self {
            profile: profile.into(),
            agent: agent.into(),
            provider: provider.into(),
        }
    }
}

/// Tuning for an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// Lines (or rows) per transaction: each commit stores the events read so far and the
    /// position after them. Smaller loses less work to a kill; larger is faster.
    pub batch_lines: usize,
    /// Longer lines are skipped (and counted as malformed) without being held in memory, which
    /// bounds an import's memory whatever the file holds.
    pub max_line_bytes: usize,
    /// Threads that read and price files at once (their events are committed in file order by
    /// the calling thread, so the ledger ends exactly as a one-thread import leaves it). 0: one
    /// per core, at most [`MAX_THREADS`]; 1: read on the calling thread, file after file.
    pub threads: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            batch_lines: 5_000,
            max_line_bytes: 64 << 20,
            threads: 0,
        }
    }
}

/// The most threads an import reads with (more rarely pays: the ledger's single writer becomes
/// the limit).
pub const MAX_THREADS: usize = 8;

/// Files larger than this are read on the calling thread, committing as they go, whatever
/// `threads` says: a worker holds a whole file's records until its turn to commit, which must
/// stay small.
const PARALLEL_MAX_FILE: u64 = 64 << 20;

/// Commits of a parallel import are grouped into one transaction until they hold this many
/// events (or [`GROUP_MAX_FILES`] files), saving a commit per small file.
const GROUP_MAX_EVENTS: usize = 20_000;
/// See [`GROUP_MAX_EVENTS`].
const GROUP_MAX_FILES: usize = 256;

/// Takes one batch of a file being read ([`Importer::read`]): its records and the position
/// after them, with the file's report so far.
pub type BatchSink<'a> =
    &'a mut dyn FnMut(Vec<ParsedUsage>, ImportState, &mut FileReport) -> Result<()>;

/// One usage record as read from an agent's log, before attribution and pricing.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedUsage {
    /// When the response happened.
    pub time: DateTime<Utc>,
    /// The model id as logged.
    pub model: String,
    /// Tokens, in ringlet's disjoint buckets.
    pub tokens: TokenCounts,
    /// The agent's session id.
    pub session_id: Option<String>,
    /// See [`UsageEvent::project`].
    pub project: Option<String>,
    /// See [`UsageEvent::dedup_key`].
    pub dedup_key: String,
    /// See [`UsageEvent::rank`].
    pub rank: i64,
    /// A cost the agent computed itself, nano-dollars.
    pub reported_cost_nanos: Option<i64>,
}

/// A line that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Malformed {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line (row, for databases).
    pub line: u64,
    /// What was wrong with it.
    pub reason: String,
}

/// What reading one file did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    /// The file.
    pub path: PathBuf,
    /// Bytes consumed (for databases: 0).
    pub bytes_read: u64,
    /// Complete lines (or rows) read.
    pub lines: u64,
    /// Usage records found.
    pub records: u64,
    /// What the ledger did with them.
    pub outcome: RecordOutcome,
    /// Lines that were not valid or had fields of the wrong type.
    pub malformed: u64,
    /// The first few malformed lines.
    pub malformed_samples: Vec<Malformed>,
    /// Valid lines that carry no usage.
    pub ignored: u64,
    /// Whether the file ends in an incomplete line, left to be read when it is complete.
    pub pending_tail: bool,
    /// Whether the file was read again from the start (it was replaced, truncated or rewritten).
    pub restarted: bool,
    /// Models without a price.
    pub unpriced_models: BTreeSet<String>,
}

impl FileReport {
    fn new(path: &Path) -> Self {
        Self {
            path: path.to_path_buf(),
            ..Self::default()
        }
    }

    pub(crate) fn malformed(&mut self, line: u64, reason: impl Into<String>) {
        self.malformed += 1;
        if self.malformed_samples.len() < MAX_SAMPLES {
            self.malformed_samples.push(Malformed {
                path: self.path.clone(),
                line,
                reason: reason.into(),
            });
        }
    }
}

/// A file that could not be read at all (the import goes on with the others).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFailure {
    /// The file.
    pub path: PathBuf,
    /// Why, and what to do.
    pub message: String,
}

/// What an import did, over all files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// Log files found.
    pub files_seen: u64,
    /// Files read (new or changed).
    pub files_scanned: u64,
    /// Files skipped because nothing changed since the last import.
    pub files_unchanged: u64,
    /// Files that were read again from the start.
    pub files_restarted: u64,
    /// Bytes consumed.
    pub bytes_read: u64,
    /// Lines (or rows) read.
    pub lines: u64,
    /// Usage records found.
    pub records: u64,
    /// New events stored.
    pub inserted: u64,
    /// Stored events replaced by a better copy (a main-thread line for a sidechain replay, a
    /// larger session snapshot).
    pub replaced: u64,
    /// Records already in the ledger.
    pub duplicates: u64,
    /// Malformed lines, skipped.
    pub malformed_lines: u64,
    /// The first few of them.
    pub malformed_samples: Vec<Malformed>,
    /// Valid lines without usage.
    pub ignored_lines: u64,
    /// Files ending in an incomplete line, to be finished by a later import.
    pub pending_tails: u64,
    /// Models without a price: their events are stored unpriced.
    pub unpriced_models: BTreeSet<String>,
    /// Files that could not be read.
    pub failures: Vec<FileFailure>,
    /// Log formats no importer understands.
    pub unknown_formats: Vec<String>,
}

impl ImportSummary {
    /// Adds one file's report.
    pub fn absorb(&mut self, r: FileReport) {
        self.files_scanned += 1;
        self.files_restarted += u64::from(r.restarted);
        self.bytes_read += r.bytes_read;
        self.lines += r.lines;
        self.records += r.records;
        self.inserted += r.outcome.inserted;
        self.replaced += r.outcome.replaced;
        self.duplicates += r.outcome.duplicates;
        self.malformed_lines += r.malformed;
        let room = MAX_SAMPLES.saturating_sub(self.malformed_samples.len());
        self.malformed_samples
            .extend(r.malformed_samples.into_iter().take(room));
        self.ignored_lines += r.ignored;
        self.pending_tails += u64::from(r.pending_tail);
        self.unpriced_models.extend(r.unpriced_models);
    }

    /// Adds another summary (several log locations of one agent).
    pub fn merge(&mut self, other: ImportSummary) {
        self.files_seen += other.files_seen;
        self.files_scanned += other.files_scanned;
        self.files_unchanged += other.files_unchanged;
        self.files_restarted += other.files_restarted;
        self.bytes_read += other.bytes_read;
        self.lines += other.lines;
        self.records += other.records;
        self.inserted += other.inserted;
        self.replaced += other.replaced;
        self.duplicates += other.duplicates;
        self.malformed_lines += other.malformed_lines;
        let room = MAX_SAMPLES.saturating_sub(self.malformed_samples.len());
        self.malformed_samples
            .extend(other.malformed_samples.into_iter().take(room));
        self.ignored_lines += other.ignored_lines;
        self.pending_tails += other.pending_tails;
        self.unpriced_models.extend(other.unpriced_models);
        self.failures.extend(other.failures);
        self.unknown_formats.extend(other.unknown_formats);
    }
}

/// What an importer needs while reading a file: where to commit, how to price, who to attribute
/// events to.
#[derive(Debug)]
pub struct ScanContext<'a> {
    pub(crate) store: &'a dyn UsageStore,
    prices: &'a dyn PriceSource,
    attribution: &'a Attribution,
    options: &'a ImportOptions,
}

impl<'a> ScanContext<'a> {
    /// Bundles what an importer needs.
    pub fn new(
        store: &'a dyn UsageStore,
        prices: &'a dyn PriceSource,
        attribution: &'a Attribution,
        options: &'a ImportOptions,
    ) -> Self {
        Self {
            store,
            prices,
            attribution,
            options,
        }
    }

    /// The import options.
    pub fn options(&self) -> &ImportOptions {
        self.options
    }

    /// Attributes and prices `records` read from `file`, and commits them together with `state`
    /// in one transaction. Records repeated within the batch are collapsed first (the
    /// highest-ranked copy, the first among equals, is kept and the rest counted as duplicates).
    pub fn commit(
        &self,
        file: &Path,
        records: Vec<ParsedUsage>,
        state: &ImportState,
        report: &mut FileReport,
    ) -> Result<()> {
        let (events, collapsed) = self.prepare(file, records, report)?;
        let mut outcome = self.store.commit_import(&events, state)?;
        outcome.duplicates += collapsed;
        report.outcome.add(outcome);
        Ok(())
    }

    /// What [`commit`](Self::commit) stores for `records`: the events, attributed, priced and
    /// collapsed, and how many records the collapsing dropped. Touches no ledger, so worker
    /// threads run it.
    pub(crate) fn prepare(
        &self,
        file: &Path,
        records: Vec<ParsedUsage>,
        report: &mut FileReport,
    ) -> Result<(Vec<UsageEvent>, u64)> {
        report.records += records.len() as u64;
        let mut best: HashMap<String, usize> = HashMap::with_capacity(records.len());
        let mut kept: Vec<Option<ParsedUsage>> = Vec::with_capacity(records.len());
        let mut collapsed = 0u64;
        for record in records {
            match best.get(&record.dedup_key) {
                Some(&i) => {
                    collapsed += 1;
                    if kept[i].as_ref().is_some_and(|k| record.rank > k.rank) {
                        kept[i] = Some(record);
                    }
                }
                None => {
                    best.insert(record.dedup_key.clone(), kept.len());
                    kept.push(Some(record));
                }
            }
        }
        let origin = format!("file:{}", file.display());
        // Only now, with something to price, is the price book needed (and maybe loaded).
        let prices = if kept.is_empty() {
            None
        } else {
            Some(self.prices.book()?)
        };
        let events: Vec<UsageEvent> = kept
            .into_iter()
            .flatten()
            .map(|r| {
                let mut ev = UsageEvent {
                    time: r.time,
                    profile: self.attribution.profile.clone(),
                    agent: self.attribution.agent.clone(),
                    provider: self.attribution.provider.clone(),
                    model: r.model,
                    tokens: r.tokens.normalized(),
                    cost_nanos: r.reported_cost_nanos,
                    cost_source: if r.reported_cost_nanos.is_some() {
                        CostSource::Reported
                    } else {
                        CostSource::Unpriced
                    },
                    session_id: r.session_id,
                    project: r.project,
                    origin: origin.clone(),
                    dedup_key: r.dedup_key,
                    rank: r.rank,
                };
                if let Some(prices) = prices {
                    prices.price_event(&mut ev);
                }
                if ev.cost_source == CostSource::Unpriced {
                    report.unpriced_models.insert(ev.model.clone());
                }
                ev
            })
            .collect();
        Ok((events, collapsed))
    }
}

/// Reads one agent's log format. Implementations are stateless; what must survive between
/// imports lives in the [`ImportState`] they commit.
pub trait Importer: Send + Sync + Debug {
    /// The format name agent manifests use (`claude-jsonl`).
    fn format(&self) -> &'static str;

    /// The log files under `root` (a directory, or the file itself). A missing root has none.
    fn discover(&self, root: &Path) -> Result<Vec<PathBuf>>;

    /// Whether `file` may hold something new since `state` was committed. Cheap (a `stat`), so
    /// that re-scanning thousands of unchanged files costs next to nothing.
    fn changed(&self, file: &Path, state: &ImportState) -> bool {
        match FileStat::of(file) {
            Ok(now) => !now.matches(state),
            Err(_) => true,
        }
    }

    /// Reads what is new in `file` since `previous` and commits it through `cx`, batch by batch.
    /// Errors from the ledger stop the whole import; any other error only skips this file.
    fn scan(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        cx: &ScanContext<'_>,
    ) -> Result<FileReport>;

    /// Reads what is new in `file` as [`scan`](Self::scan) does, but hands each batch (its
    /// records and the position after them, in order) to `batch` instead of committing it, so
    /// files can be read on several threads and committed in order on one. `None` (the default)
    /// when this importer only reads by committing: its files are then scanned one by one.
    fn read(
        &self,
        file: &Path,
        previous: Option<&ImportState>,
        options: &ImportOptions,
        batch: BatchSink<'_>,
    ) -> Option<Result<FileReport>> {
        let _ = (file, previous, options, batch);
        None
    }
}

static CLAUDE: ClaudeImporter = ClaudeImporter;
static CODEX: CodexImporter = CodexImporter;
static OPENCODE: OpenCodeImporter = OpenCodeImporter;
static GEMINI: GeminiImporter = GeminiImporter;
static DROID: DroidImporter = DroidImporter;

/// The built-in importers, one per log format.
pub fn builtin_importers() -> [&'static dyn Importer; 5] {
    [&CLAUDE, &CODEX, &OPENCODE, &GEMINI, &DROID]
}

/// The built-in importer for a manifest's log format (`claude-jsonl`, `codex-rollout`,
/// `opencode-sqlite`, `gemini-jsonl`, `droid-settings`).
pub fn importer_for(format: &str) -> Option<&'static dyn Importer> {
    builtin_importers()
        .into_iter()
        .find(|i| i.format() == format)
}

/// Imports every log location of an agent manifest from a profile HOME: what `profiles run`
/// calls after the agent exits, and what `ringlet import` calls for a profile.
pub fn ingest_home(
    store: &dyn UsageStore,
    prices: &dyn PriceSource,
    attribution: &Attribution,
    logs: &[LogLocation],
    home: &Path,
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    for location in logs {
        let root = home.join(&location.path);
        summary.merge(import_logs(
            store,
            prices,
            attribution,
            &location.format,
            &root,
            &ImportOptions::default(),
        )?);
    }
    Ok(summary)
}

/// Imports one log location (a directory of logs, or one file) in `format`, attributing the
/// events to `attribution`: also how `ringlet import claude --to work` reads an existing
/// `~/.claude/projects`.
pub fn import_logs(
    store: &dyn UsageStore,
    prices: &dyn PriceSource,
    attribution: &Attribution,
    format: &str,
    root: &Path,
    options: &ImportOptions,
) -> Result<ImportSummary> {
    let Some(importer) = importer_for(format) else {
        let mut summary = ImportSummary::default();
        summary.unknown_formats.push(format.to_string());
        return Ok(summary);
    };
    // A file named explicitly (`ringlet import --from FILE`, a manifest location that is one
    // file) is read whatever its name: the user said what it is. Directories are discovered.
    let files = if root.is_file() {
        vec![root.to_path_buf()]
    } else {
        importer.discover(root)?
    };
    import_files(
        store,
        prices,
        attribution,
        importer,
        root,
        &files,
        options,
        &mut |_, _| {},
    )
}

/// Imports `files` (found under `root`) with `importer`, reading them on several threads when
/// `options.threads` allows and the importer can ([`Importer::read`]), and committing them in
/// their order on the calling thread: the ledger ends exactly as a file-by-file import leaves
/// it. `progress` is called on the calling thread after each file with the files done so far
/// (skipped ones included) and the running summary.
#[allow(clippy::too_many_arguments)]
pub fn import_files(
    store: &dyn UsageStore,
    prices: &dyn PriceSource,
    attribution: &Attribution,
    importer: &dyn Importer,
    root: &Path,
    files: &[PathBuf],
    options: &ImportOptions,
    progress: &mut dyn FnMut(u64, &ImportSummary),
) -> Result<ImportSummary> {
    let format = importer.format();
    let mut summary = ImportSummary::default();
    let states: HashMap<String, ImportState> = store
        .import_states(&path_key(root))?
        .into_iter()
        .map(|s| (s.path.clone(), s))
        .collect();
    let cx = ScanContext::new(store, prices, attribution, options);
    // What is to be read: unchanged files are settled here, with a `stat` each.
    let mut todo: Vec<(usize, &Path, Option<&ImportState>)> = Vec::new();
    for (i, file) in files.iter().enumerate() {
        summary.files_seen += 1;
        // A position is only meaningful to the importer that wrote it: a file read before as
        // another format (a mixed directory given to `ringlet import --from`) is read from the
        // start, or this format's usage in it would be skipped as already read.
        let previous = states
            .get(&path_key(file))
            .filter(|state| state.format == format);
        if let Some(state) = previous
            && !importer.changed(file, state)
        {
            summary.files_unchanged += 1;
            continue;
        }
        todo.push((i, file, previous));
    }
    let mut done = summary.files_unchanged;
    progress(done, &summary);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .clamp(1, MAX_THREADS)
    .min(todo.len());
    if threads <= 1 {
        for (_, file, previous) in todo {
            scan_one(importer, file, previous, &cx, &mut summary)?;
            done += 1;
            progress(done, &summary);
        }
        return Ok(summary);
    }
    parallel::run(
        importer,
        &todo,
        threads,
        &cx,
        &mut summary,
        &mut |summary| {
            done += 1;
            progress(done, summary);
        },
    )?;
    Ok(summary)
}

/// Scans one file, committing as it goes: a ledger error stops the import, any other skips the
/// file.
fn scan_one(
    importer: &dyn Importer,
    file: &Path,
    previous: Option<&ImportState>,
    cx: &ScanContext<'_>,
    summary: &mut ImportSummary,
) -> Result<()> {
    match importer.scan(file, previous, cx) {
        Ok(report) => summary.absorb(report),
        Err(e @ Error::UsageStore { .. }) => return Err(e),
        Err(e) => summary.failures.push(FileFailure {
            path: file.to_path_buf(),
            message: e.to_string(),
        }),
    }
    Ok(())
}

/// The key a file's import state is stored under.
pub(crate) fn path_key(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The `stat` facts that tell whether a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStat {
    pub size: u64,
    pub mtime_ns: i64,
    pub dev: u64,
    pub inode: u64,
}

impl FileStat {
    pub(crate) fn of(path: &Path) -> std::io::Result<Self> {
        Ok(Self::from_meta(&std::fs::metadata(path)?))
    }

    pub(crate) fn from_meta(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Self {
                size: meta.len(),
                mtime_ns: meta.mtime().saturating_mul(1_000_000_000) + meta.mtime_nsec(),
                dev: meta.dev(),
                inode: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i64);
            Self {
                size: meta.len(),
                mtime_ns,
                dev: 0,
                inode: 0,
            }
        }
    }

    pub(crate) fn matches(&self, state: &ImportState) -> bool {
        self.size == state.size
            && self.mtime_ns == state.mtime_ns
            && self.dev == state.identity.dev
            && self.inode == state.identity.inode
    }

    pub(crate) fn modified(&self) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp_nanos(self.mtime_ns)
    }
}

/// FNV-1a, 64 bits: a stable hash of a file's first bytes (std's hasher may change between Rust
/// releases, and the hash is stored).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Reads up to [`HEAD_LEN`] bytes from the start of `file` (whose position is left at the end of
/// what was read).
pub(crate) fn read_head(file: &mut std::fs::File, size: u64) -> std::io::Result<Vec<u8>> {
    let want = size.min(HEAD_LEN);
    let mut head = Vec::with_capacity(want as usize);
    file.by_ref().take(want).read_to_end(&mut head)?;
    Ok(head)
}

/// Whether a file whose state is `previous` can be resumed at its offset: the same file (device,
/// inode, the same first bytes) that has not shrunk below what was read.
pub(crate) fn can_resume(previous: &ImportState, stat: &FileStat, head: &[u8]) -> bool {
    let id = &previous.identity;
    let head_len = id.head_len as usize;
    id.dev == stat.dev
        && id.inode == stat.inode
        && stat.size >= previous.offset
        && head.len() >= head_len
        && fnv1a(&head[..head_len]) == id.head_hash
}

/// The identity to record for a file whose first bytes are `head`.
pub(crate) fn identity(stat: &FileStat, head: &[u8]) -> FileIdentity {
    FileIdentity {
        dev: stat.dev,
        inode: stat.inode,
        head_len: head.len() as u64,
        head_hash: fnv1a(head),
    }
}

/// Every regular file below `root` (or `root` itself) accepted by `keep`, sorted. Symlinked
/// directories are not followed (no loops); unreadable directories are skipped.
pub(crate) fn walk(root: &Path, keep: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>> {
    let meta = match std::fs::metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("reading", root, e)),
    };
    if meta.is_file() {
        return Ok(if keep(root) {
            vec![root.to_path_buf()]
        } else {
            Vec::new()
        });
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if (kind.is_file() || (kind.is_symlink() && path.is_file())) && keep(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The file name of `path` as UTF-8 (empty when it has none or is not UTF-8).
pub(crate) fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// No single response comes near this many tokens in one bucket; larger counts are corrupt
/// data, refused so that sums in the ledger cannot overflow.
pub(crate) const MAX_TOKENS: u64 = 10_000_000_000;

/// No single response costs anywhere near this ($10,000; a whole 1M-token context at today's
/// dearest prices is under $100). A log reporting more is corrupt or hostile: its record is
/// skipped and counted as malformed, so that one line can never dominate the ledger's totals.
pub(crate) const MAX_COST_NANOS: i64 = 10_000 * NANOS_PER_USD;

/// A cost an agent reported, in dollars, as nano-dollars: `None` for 0 or no cost (then ringlet
/// prices the tokens itself); an error for a negative, non-finite or implausible one (more than
/// [`MAX_COST_NANOS`]).
pub(crate) fn reported_cost(usd: Option<f64>) -> std::result::Result<Option<i64>, String> {
    let Some(usd) = usd else {
        return Ok(None);
    };
    if !usd.is_finite() || usd < 0.0 {
        return Err(format!("cost {usd} is not a price"));
    }
    let nanos = (usd * NANOS_PER_USD as f64).round();
    if nanos > MAX_COST_NANOS as f64 {
        return Err(format!(
            "implausible cost ${usd} (the limit is ${} per response)",
            MAX_COST_NANOS / NANOS_PER_USD
        ));
    }
    // Within the bound, so the conversion is exact to the nano-dollar.
    Ok((nanos > 0.0).then_some(nanos as i64))
}

/// Lenient token counts: a non-negative integer, an integral float (`11.0`), or null (0).
/// Anything else (negative, fractional, a string, more than [`MAX_TOKENS`]) is a malformed
/// field.
pub(crate) fn tokens_de<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<u64, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a non-negative token count")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<u64, E> {
            if v > MAX_TOKENS {
                return Err(E::custom(format!("implausible token count {v}")));
            }
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<u64, E> {
            let v = u64::try_from(v).map_err(|_| E::custom(format!("negative token count {v}")))?;
            self.visit_u64(v)
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<u64, E> {
            if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_TOKENS as f64 {
                Ok(v as u64)
            } else {
                Err(E::custom(format!("token count {v} is not a whole number")))
            }
        }
        fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<u64, E> {
            Ok(0)
        }
        fn visit_none<E: serde::de::Error>(self) -> std::result::Result<u64, E> {
            Ok(0)
        }
    }
    d.deserialize_any(V)
}

/// Reads a token count from a JSON value the way [`tokens_de`] does.
pub(crate) fn tokens_of(v: Option<&serde_json::Value>) -> std::result::Result<u64, String> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(0),
        Some(v) => tokens_de(v).map_err(|e| e.to_string()),
    }
}

/// Parses an RFC 3339 timestamp.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A rank that prefers larger totals.
pub(crate) fn rank_by_total(tokens: &TokenCounts) -> i64 {
    i64::try_from(tokens.total()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
