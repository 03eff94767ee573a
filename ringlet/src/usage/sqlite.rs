//! `SqliteUsageStore`: the default ledger, one SQLite file in WAL mode that several ringlet
//! processes (a CLI import, an automatic ingestion after a run, the server) share safely.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::event::{CostSource, TokenCounts, UsageEvent};
use super::price::PriceBook;
use super::schema::{BUCKET_MS, MIGRATIONS};
use super::store::{
    FileIdentity, ImportState, RecordOutcome, RepriceOutcome, RunEnd, RunSession, RunStart,
    UsageFilter, UsageGroup, UsageRow, UsageStore,
};
use crate::error::{Error, Result};
use crate::paths::Paths;

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// WAL pages after which a commit checkpoints (SQLite's default is 1000); see `setup`.
const WAL_CHECKPOINT_PAGES: u32 = 64;

/// The SQLite usage ledger. Cheap to share (`Arc`); calls from several threads are serialised on
/// one connection, and several processes coordinate through SQLite's locks (WAL, immediate write
/// transactions, a busy timeout).
#[derive(Debug)]
pub struct SqliteUsageStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteUsageStore {
    /// Where ringlet keeps the ledger by default: `<data>/usage.db`.
    pub fn default_path(paths: &Paths) -> PathBuf {
        paths.data_dir().join("usage.db")
    }

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let conn = Connection::open(&path).map_err(|e| db_error(&path, e))?;
        Self::setup(path, conn, true)
    }

    /// A private in-memory ledger (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| db_error(&path, e))?;
        Self::setup(path, conn, false)
    }

    fn setup(path: PathBuf, conn: Connection, wal: bool) -> Result<Self> {
        let err = |e| db_error(&path, e);
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        if wal {
            // Readers never block the writer and the writer never blocks readers; NORMAL sync is
            // durable against a crash of the process (power loss may drop the last commit, and
            // the import state goes with it, so a re-import restores it exactly).
            let mode = switch_to_wal(&conn).map_err(err)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::UsageStore {
                    path,
                    message: format!(
                        "cannot switch to WAL journaling (got '{mode}'); put the ledger on a local file system"
                    ),
                });
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        if wal {
            // Every `profiles run` opens the ledger in a short-lived process. By default the last
            // connection to close checkpoints the WAL into the database and deletes it, and the
            // next open creates it again: four fsyncs (WAL, database, directory, header) on the
            // launch path of every run. Keeping the WAL lets the usual automatic checkpoint (every
            // 1000 pages, by whichever writer crosses it) do that work in bulk; a WAL left behind
            // is read on open exactly like after a crash.
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
                .map_err(err)?;
            // But a kept WAL is not free either: the first connection of every process rebuilds
            // the WAL index by reading the whole WAL (at SQLite's default of 1000 pages, 4 MiB
            // and ~360 reads per `profiles run`). A run writes a handful of pages, so
            // checkpointing every WAL_CHECKPOINT_PAGES costs one checkpoint per dozens of runs
            // and keeps that read small.
            conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
                .map_err(err)?;
        }
        let store = Self {
            path,
            conn: Mutex::new(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<u32> {
        let conn = self.lock();
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| db_error(&self.path, e))
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.lock();
        let err = |e| db_error(&self.path, e);
        // The common case, an up-to-date ledger, needs no write lock: every `profiles run`
        // opens the ledger, and an IMMEDIATE transaction would make concurrent runs queue.
        let current: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if current == MIGRATIONS.len() as u32 {
            return Ok(());
        }
        // Immediate: two processes opening a fresh ledger at once must not both migrate.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let version: u32 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        let known = MIGRATIONS.len() as u32;
        if version > known {
            return Err(Error::UsageStore {
                path: self.path.clone(),
                message: format!(
                    "written by a newer ringlet (schema {version}, this one knows {known}); upgrade ringlet"
                ),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(sql).map_err(err)?;
            tx.pragma_update(None, "user_version", i as u32 + 1)
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (an open transaction is
        // rolled back when dropped), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.lock();
        let err = |e| db_error(&self.path, e);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let value = f(&tx).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(value)
    }
}

impl UsageStore for SqliteUsageStore {
    fn record(&self, events: &[UsageEvent]) -> Result<RecordOutcome> {
        if events.is_empty() {
            return Ok(RecordOutcome::default());
        }
        self.write(|tx| insert_events(tx, events))
    }

    fn commit_import(&self, events: &[UsageEvent], state: &ImportState) -> Result<RecordOutcome> {
        self.write(|tx| {
            let outcome = insert_events(tx, events)?;
            save_state(tx, state)?;
            Ok(outcome)
        })
    }

    fn import_state(&self, path: &str) -> Result<Option<ImportState>> {
        let conn = self.lock();
        conn.prepare_cached(&format!("{STATE_SELECT} WHERE path = ?1"))
            .and_then(|mut st| st.query_row([path], read_state).optional())
            .map_err(|e| db_error(&self.path, e))
    }

    fn import_states(&self, root: &str) -> Result<Vec<ImportState>> {
        let (root, lo, hi) = subtree_bounds(root);
        let conn = self.lock();
        let run = || -> rusqlite::Result<Vec<ImportState>> {
            let mut st = conn.prepare_cached(&format!(
                "{STATE_SELECT} WHERE path = ?1 OR (path >= ?2 AND path < ?3)"
            ))?;
            let rows = st.query_map(params![root, lo, hi], read_state)?;
            rows.collect()
        };
        run().map_err(|e| db_error(&self.path, e))
    }

    fn forget_import_states(&self, root: &str) -> Result<u64> {
        let (root, lo, hi) = subtree_bounds(root);
        self.write(|tx| {
            tx.execute(
                "DELETE FROM import_state WHERE path = ?1 OR (path >= ?2 AND path < ?3)",
                params![root, lo, hi],
            )
            .map(|n| n as u64)
        })
    }

    fn query(&self, filter: &UsageFilter, group: UsageGroup) -> Result<Vec<UsageRow>> {
        let conn = self.lock();
        query_rows(&conn, filter, group).map_err(|e| db_error(&self.path, e))
    }

    fn events(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>> {
        let conn = self.lock();
        let run = || -> rusqlite::Result<Vec<UsageEvent>> {
            let mut w = Where::default();
            w.dims(filter, "e.");
            w.time(filter, "e.ts_ms", 1);
            let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
            let sql = format!(
                "SELECT e.ts_ms, e.profile, e.agent, e.provider, e.model, e.input, e.output, \
                 e.cache_creation, e.cache_creation_5m, e.cache_creation_1h, e.cache_read, \
                 e.reasoning, e.cost_nanos, e.cost_source, e.session_id, o.origin, e.dedup_key, \
                 e.rank FROM usage_events e JOIN origins o ON o.id = e.origin_id{} \
                 ORDER BY e.ts_ms, e.id{limit}",
                w.sql()
            );
            let mut st = conn.prepare(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(w.params.iter()), |r| {
                Ok(UsageEvent {
                    time: from_ms(r.get(0)?),
                    profile: r.get(1)?,
                    agent: r.get(2)?,
                    provider: r.get(3)?,
                    model: r.get(4)?,
                    tokens: TokenCounts {
                        input: get_u64(r, 5)?,
                        output: get_u64(r, 6)?,
                        cache_creation: get_u64(r, 7)?,
                        cache_creation_5m: get_u64(r, 8)?,
                        cache_creation_1h: get_u64(r, 9)?,
                        cache_read: get_u64(r, 10)?,
                        reasoning: get_u64(r, 11)?,
                    },
                    cost_nanos: get_opt_i64(r, 12)?,
                    cost_source: CostSource::parse(&r.get::<_, String>(13)?)
                        .unwrap_or(CostSource::Unpriced),
                    session_id: r.get(14)?,
                    origin: r.get(15)?,
                    dedup_key: r.get(16)?,
                    rank: r.get(17)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| db_error(&self.path, e))
    }

    fn reprice(&self, prices: &PriceBook) -> Result<RepriceOutcome> {
        self.write(|tx| {
            let mut outcome = RepriceOutcome::default();
            let mut last_id = 0i64;
            loop {
                let batch: Vec<(i64, String, String, TokenCounts, Option<i64>, String)> = {
                    let mut st = tx.prepare_cached(
                        "SELECT id, model, provider, input, output, cache_creation, \
                         cache_creation_5m, cache_creation_1h, cache_read, reasoning, cost_nanos, \
                         cost_source FROM usage_events \
                         WHERE id > ?1 AND cost_source <> 'reported' ORDER BY id LIMIT 10000",
                    )?;
                    let rows = st.query_map([last_id], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            TokenCounts {
                                input: get_u64(r, 3)?,
                                output: get_u64(r, 4)?,
                                cache_creation: get_u64(r, 5)?,
                                cache_creation_5m: get_u64(r, 6)?,
                                cache_creation_1h: get_u64(r, 7)?,
                                cache_read: get_u64(r, 8)?,
                                reasoning: get_u64(r, 9)?,
                            },
                            get_opt_i64(r, 10)?,
                            r.get(11)?,
                        ))
                    })?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let Some(last) = batch.last() else {
                    break;
                };
                last_id = last.0;
                let mut update = tx.prepare_cached(
                    "UPDATE usage_events SET cost_nanos = ?2, cost_source = ?3 WHERE id = ?1",
                )?;
                for (id, model, provider, tokens, old_cost, old_source) in batch {
                    outcome.examined += 1;
                    let cost = prices.cost_nanos(&model, Some(&provider), &tokens);
                    let source = if cost.is_some() {
                        CostSource::Computed
                    } else {
                        outcome.unpriced += 1;
                        CostSource::Unpriced
                    };
                    if cost != old_cost || source.as_str() != old_source {
                        update.execute(params![id, cost, source.as_str()])?;
                        outcome.updated += 1;
                    }
                }
            }
            Ok(outcome)
        })
    }

    fn start_run(&self, start: &RunStart) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO run_sessions (profile, agent, provider, model, started_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    start.profile,
                    start.agent,
                    start.provider,
                    start.model,
                    start.started_at.timestamp_millis()
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn finish_run(&self, id: i64, end: &RunEnd) -> Result<()> {
        let ended = end.ended_at.unwrap_or_else(Utc::now).timestamp_millis();
        let changed = self.write(|tx| {
            tx.execute(
                "UPDATE run_sessions SET ended_ms = ?2, exit_code = ?3, peak_rss_bytes = ?4, \
                 cpu_user_ms = ?5, cpu_system_ms = ?6 WHERE id = ?1",
                params![
                    id,
                    ended,
                    end.exit_code,
                    end.peak_rss_bytes.map(to_i64),
                    end.cpu_user_ms.map(to_i64),
                    end.cpu_system_ms.map(to_i64)
                ],
            )
        })?;
        if changed == 0 {
            return Err(Error::UsageStore {
                path: self.path.clone(),
                message: format!("no run with id {id} was started; call start_run first"),
            });
        }
        Ok(())
    }

    fn runs(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<RunSession>> {
        let conn = self.lock();
        let run = || -> rusqlite::Result<Vec<RunSession>> {
            let mut w = Where::default();
            w.dims(filter, "");
            w.time(filter, "started_ms", 1);
            let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
            let sql = format!(
                "SELECT id, profile, agent, provider, model, started_ms, ended_ms, exit_code, \
                 peak_rss_bytes, cpu_user_ms, cpu_system_ms FROM run_sessions{} \
                 ORDER BY started_ms DESC, id DESC{limit}",
                w.sql()
            );
            let mut st = conn.prepare(&sql)?;
            let rows = st.query_map(rusqlite::params_from_iter(w.params.iter()), |r| {
                let started: i64 = r.get(5)?;
                let ended: Option<i64> = r.get(6)?;
                let opt_u64 = |i| -> rusqlite::Result<Option<u64>> {
                    Ok(r.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64))
                };
                Ok(RunSession {
                    id: r.get(0)?,
                    profile: r.get(1)?,
                    agent: r.get(2)?,
                    provider: r.get(3)?,
                    model: r.get(4)?,
                    started_at: from_ms(started),
                    ended_at: ended.map(from_ms),
                    duration_ms: ended.map(|e| e.saturating_sub(started).max(0) as u64),
                    exit_code: r.get(7)?,
                    peak_rss_bytes: opt_u64(8)?,
                    cpu_user_ms: opt_u64(9)?,
                    cpu_system_ms: opt_u64(10)?,
                })
            })?;
            rows.collect()
        };
        run().map_err(|e| db_error(&self.path, e))
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn get_u64(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(int_value(r.get(i)?).max(0) as u64)
}

/// A nullable integer column read leniently (see [`int_value`]).
fn get_opt_i64(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match r.get::<_, SqlValue>(i)? {
        SqlValue::Null => None,
        v => Some(int_value(v)),
    })
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn insert_events(tx: &Transaction<'_>, events: &[UsageEvent]) -> rusqlite::Result<RecordOutcome> {
    let mut outcome = RecordOutcome::default();
    let mut origins: HashMap<&str, i64> = HashMap::new();
    let mut insert = tx.prepare_cached(
        "INSERT INTO usage_events (ts_ms, profile, agent, provider, model, input, output, \
         cache_creation, cache_creation_5m, cache_creation_1h, cache_read, reasoning, cost_nanos, \
         cost_source, session_id, origin_id, dedup_key, rank) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
         ON CONFLICT (dedup_key) DO NOTHING",
    )?;
    let mut replace = tx.prepare_cached(
        "UPDATE usage_events SET ts_ms = ?1, profile = ?2, agent = ?3, provider = ?4, model = ?5, \
         input = ?6, output = ?7, cache_creation = ?8, cache_creation_5m = ?9, \
         cache_creation_1h = ?10, cache_read = ?11, reasoning = ?12, cost_nanos = ?13, \
         cost_source = ?14, session_id = ?15, origin_id = ?16, rank = ?18 \
         WHERE dedup_key = ?17 AND rank < ?18",
    )?;
    for ev in events {
        let origin_id = match origins.get(ev.origin.as_str()) {
            Some(id) => *id,
            None => {
                let id = origin_id(tx, &ev.origin)?;
                origins.insert(&ev.origin, id);
                id
            }
        };
        let t = ev.tokens.normalized();
        let values = params![
            ev.time.timestamp_millis().max(0),
            ev.profile,
            ev.agent,
            ev.provider,
            ev.model,
            to_i64(t.input),
            to_i64(t.output),
            to_i64(t.cache_creation),
            to_i64(t.cache_creation_5m),
            to_i64(t.cache_creation_1h),
            to_i64(t.cache_read),
            to_i64(t.reasoning),
            ev.cost_nanos,
            ev.cost_source.as_str(),
            ev.session_id,
            origin_id,
            ev.dedup_key,
            ev.rank,
        ];
        if insert.execute(values)? == 1 {
            outcome.inserted += 1;
        } else if replace.execute(values)? == 1 {
            outcome.replaced += 1;
        } else {
            outcome.duplicates += 1;
        }
    }
    Ok(outcome)
}

fn origin_id(tx: &Transaction<'_>, origin: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached("INSERT INTO origins (origin) VALUES (?1) ON CONFLICT (origin) DO NOTHING")?
        .execute([origin])?;
    tx.prepare_cached("SELECT id FROM origins WHERE origin = ?1")?
        .query_row([origin], |r| r.get(0))
}

const STATE_SELECT: &str = "SELECT path, format, dev, inode, head_len, head_hash, size, mtime_ns, \
     offset, line, context, updated_ms FROM import_state";

fn read_state(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportState> {
    // u64 identity values are stored bit-for-bit in SQLite's signed integers.
    let u = |i| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)? as u64) };
    Ok(ImportState {
        path: r.get(0)?,
        format: r.get(1)?,
        identity: FileIdentity {
            dev: u(2)?,
            inode: u(3)?,
            head_len: u(4)?,
            head_hash: u(5)?,
        },
        size: u(6)?,
        mtime_ns: r.get(7)?,
        offset: u(8)?,
        line: u(9)?,
        context: r.get(10)?,
        updated_at: from_ms(r.get(11)?),
    })
}

fn save_state(tx: &Transaction<'_>, s: &ImportState) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO import_state (path, format, dev, inode, head_len, head_hash, size, \
         mtime_ns, offset, line, context, updated_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
         ON CONFLICT (path) DO UPDATE SET format = excluded.format, dev = excluded.dev, \
         inode = excluded.inode, head_len = excluded.head_len, head_hash = excluded.head_hash, \
         size = excluded.size, mtime_ns = excluded.mtime_ns, offset = excluded.offset, \
         line = excluded.line, context = excluded.context, updated_ms = excluded.updated_ms",
    )?
    .execute(params![
        s.path,
        s.format,
        s.identity.dev as i64,
        s.identity.inode as i64,
        s.identity.head_len as i64,
        s.identity.head_hash as i64,
        s.size as i64,
        s.mtime_ns,
        s.offset as i64,
        s.line as i64,
        s.context,
        s.updated_at.timestamp_millis(),
    ])?;
    Ok(())
}

/// `root` without a trailing slash, and the bounds of the paths strictly below it:
/// `[root + "/", root + "0")` ('0' follows '/').
fn subtree_bounds(root: &str) -> (String, String, String) {
    let root = root.trim_end_matches('/');
    (root.to_string(), format!("{root}/"), format!("{root}0"))
}

/// A WHERE clause under construction, with its positional parameters.
#[derive(Default)]
struct Where {
    clauses: Vec<String>,
    params: Vec<SqlValue>,
}

impl Where {
    fn eq(&mut self, column: String, value: &Option<String>) {
        if let Some(v) = value {
            self.params.push(SqlValue::Text(v.clone()));
            self.clauses
                .push(format!("{column} = ?{}", self.params.len()));
        }
    }

    fn dims(&mut self, f: &UsageFilter, prefix: &str) {
        self.eq(format!("{prefix}profile"), &f.profile);
        self.eq(format!("{prefix}agent"), &f.agent);
        self.eq(format!("{prefix}provider"), &f.provider);
        self.eq(format!("{prefix}model"), &f.model);
    }

    /// Time bounds on `column`, whose unit is `unit_ms` milliseconds.
    fn time(&mut self, f: &UsageFilter, column: &str, unit_ms: i64) {
        if let Some(since) = f.since {
            self.params.push(SqlValue::Integer(
                since.timestamp_millis().div_euclid(unit_ms),
            ));
            self.clauses
                .push(format!("{column} >= ?{}", self.params.len()));
        }
        if let Some(until) = f.until {
            self.params.push(SqlValue::Integer(
                until.timestamp_millis().div_euclid(unit_ms),
            ));
            self.clauses
                .push(format!("{column} < ?{}", self.params.len()));
        }
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The columns a report adds up, in the order [`query_rows`] reads them.
const SUMMED: [&str; 8] = [
    "input",
    "output",
    "cache_creation",
    "cache_creation_5m",
    "cache_creation_1h",
    "cache_read",
    "reasoning",
    "cost_nanos",
];

/// `SUM(c)` as two sums that cannot overflow: SQLite's `SUM` of integers fails with "integer
/// overflow" past `i64::MAX`, and a rollup cell that overflowed in a trigger became REAL, which
/// `SUM` then returns. The high and low 32 bits of any 64-bit value are below 2^31 and 2^32, so
/// their sums stay exact up to two billion rows, and `hi << 32 + lo` (in `i128`) is the exact
/// total. Bit operators cast a REAL to INTEGER first, saturating at the i64 bounds, so a cell that
/// overflowed counts as `i64::MAX` and the total saturates with it.
fn split_sum(column: &str) -> String {
    format!("SUM({column} >> 32), SUM({column} & 4294967295)")
}

/// An integer read leniently: NULL is 0, a REAL (an overflowed sum) saturates at the i64 bounds.
fn int_value(v: SqlValue) -> i64 {
    match v {
        SqlValue::Integer(i) => i,
        // `as` saturates (and maps NaN to 0).
        SqlValue::Real(f) => f as i64,
        _ => 0,
    }
}

fn query_rows(
    conn: &Connection,
    filter: &UsageFilter,
    group: UsageGroup,
) -> rusqlite::Result<Vec<UsageRow>> {
    // The rollup answers every query whose time bounds fall on bucket boundaries (any day, in
    // any zone, does) except per-session grouping, which only the events have.
    let aligned = |t: Option<DateTime<Utc>>| {
        t.is_none_or(|t| t.timestamp_millis().rem_euclid(BUCKET_MS) == 0)
    };
    let rollup = group != UsageGroup::Session && aligned(filter.since) && aligned(filter.until);
    let offset_s = i64::from(filter.utc_offset_minutes) * 60;
    let mut w = Where::default();
    w.dims(filter, "");
    let (table, seconds, counts) = if rollup {
        w.time(filter, "bucket", BUCKET_MS);
        (
            "usage_rollup",
            format!("(bucket * {} + {offset_s})", BUCKET_MS / 1000),
            "SUM(events), SUM(priced)",
        )
    } else {
        w.time(filter, "ts_ms", 1);
        (
            "usage_events",
            format!("(ts_ms / 1000 + {offset_s})"),
            "COUNT(*), COUNT(cost_nanos)",
        )
    };
    let sums = SUMMED
        .iter()
        .map(|c| split_sum(c))
        .collect::<Vec<_>>()
        .join(", ");
    let key = match group {
        UsageGroup::Total => "'total'".to_string(),
        UsageGroup::Day | UsageGroup::Week | UsageGroup::Month => format!("{seconds} / 86400"),
        UsageGroup::Model => "model".into(),
        UsageGroup::Profile => "profile".into(),
        UsageGroup::Agent => "agent".into(),
        UsageGroup::Provider => "provider".into(),
        UsageGroup::Session => "coalesce(session_id, '')".into(),
    };
    let group_by = if group == UsageGroup::Total {
        ""
    } else {
        " GROUP BY 1 ORDER BY 1"
    };
    let sql = format!(
        "SELECT {key}, {counts}, {sums} FROM {table}{}{group_by}",
        w.sql()
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(w.params.iter()))?;
    let mut out: Vec<UsageRow> = Vec::new();
    while let Some(r) = rows.next()? {
        let count = |i| -> rusqlite::Result<u64> { Ok(int_value(r.get(i)?).max(0) as u64) };
        // Column 3 + 2k and 4 + 2k hold the halves of SUMMED[k].
        let sum = |k: usize| -> rusqlite::Result<i64> {
            let hi = i128::from(int_value(r.get(3 + 2 * k)?));
            let lo = i128::from(int_value(r.get(4 + 2 * k)?));
            let exact = (hi << 32) + lo;
            Ok(exact.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
        };
        let tokens = |k: usize| -> rusqlite::Result<u64> { Ok(sum(k)?.max(0) as u64) };
        let events = count(1)?;
        let priced = count(2)?;
        let key = match r.get::<_, SqlValue>(0)? {
            SqlValue::Integer(day) => day_key(day, group),
            SqlValue::Text(s) => s,
            _ => String::new(),
        };
        let mut row = UsageRow {
            key,
            events,
            input: tokens(0)?,
            output: tokens(1)?,
            cache_creation: tokens(2)?,
            cache_creation_5m: tokens(3)?,
            cache_creation_1h: tokens(4)?,
            cache_read: tokens(5)?,
            reasoning: tokens(6)?,
            cost_nanos: sum(7)?,
            priced_events: priced,
            unpriced_events: events.saturating_sub(priced),
            ..UsageRow::default()
        };
        row.finish();
        // Days arrive in order, so the days of one week or month are adjacent.
        match out.last_mut() {
            Some(last) if last.key == row.key => last.absorb(&row),
            _ => out.push(row),
        }
    }
    if group == UsageGroup::Total && out.is_empty() {
        out.push(UsageRow::empty("total"));
    }
    Ok(out)
}

/// Labels a day number (days since 1970-01-01 in the reader's zone) for the grouping.
pub(crate) fn day_key(day: i64, group: UsageGroup) -> String {
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(day)));
    let Some(date) = date else {
        return day.to_string();
    };
    match group {
        UsageGroup::Week => {
            let week = date.iso_week();
            format!("{}-W{:02}", week.year(), week.week())
        }
        UsageGroup::Month => date.format("%Y-%m").to_string(),
        _ => date.format("%Y-%m-%d").to_string(),
    }
}

/// `PRAGMA journal_mode = WAL`, retried while another process holds the lock. Switching the
/// journal mode needs an exclusive lock and SQLite does not call the busy handler for it, so
/// two ringlet processes creating a fresh ledger at the same moment (two first runs started
/// together) would otherwise fail at once with "database is locked".
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(2);
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Turns a SQLite error into one that says what to do.
fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    let message = match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => format!(
                "locked by another ringlet process for more than {}s ({e}); try again when it finishes",
                BUSY_TIMEOUT.as_secs()
            ),
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => format!(
                "damaged or not a ringlet ledger ({e}); move it aside and run `ringlet import` to rebuild it from the agents' logs"
            ),
            ErrorCode::CannotOpen => {
                format!("cannot be opened ({e}); check that its directory exists and is writable")
            }
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => {
                format!("is read-only ({e}); check the permissions of the file and its directory")
            }
            ErrorCode::DiskFull => format!("the disk is full ({e}); free some space and retry"),
            _ => e.to_string(),
        },
        _ => e.to_string(),
    };
    Error::UsageStore {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::tests::event;

    /// The file-backed store here (in-memory in ringlet/tests/conformance.rs, through the public
    /// entry point): a new database in a new directory for each store the suite asks for.
    #[test]
    fn the_sqlite_store_passes_the_conformance_suite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut n = 0;
        crate::conformance::usage_store(|| {
            n += 1;
            SqliteUsageStore::open(dir.path().join(format!("{n}/usage.db"))).expect("open file")
        });
    }

    #[test]
    fn the_trigger_bucket_matches_the_query_bucket() {
        assert!(super::super::schema::MIGRATIONS[0].contains(&format!("/ {BUCKET_MS}")));
    }

    #[test]
    fn reopening_keeps_data_and_schema_version() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("usage.db");
        {
            let store = SqliteUsageStore::open(&path).expect("open");
            store.record(&[event("a", "m", 10, 1)]).expect("record");
            assert_eq!(
                store.schema_version().expect("version"),
                MIGRATIONS.len() as u32
            );
        }
        // Closing does not checkpoint and delete the WAL (that would cost every run four
        // fsyncs); the next open reads it.
        assert!(dir.path().join("usage.db-wal").is_file());
        let store = SqliteUsageStore::open(&path).expect("reopen");
        let total = store
            .query(&UsageFilter::new(), UsageGroup::Total)
            .expect("query");
        assert_eq!(total[0].input, 10);
    }

    #[test]
    fn a_newer_schema_is_refused_with_a_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("usage.db");
        {
            let conn = Connection::open(&path).expect("raw open");
            conn.pragma_update(None, "user_version", 99)
                .expect("set version");
        }
        let err = SqliteUsageStore::open(&path).expect_err("newer schema");
        assert_eq!(err.code(), "usage_store");
        assert!(err.to_string().contains("upgrade ringlet"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_database_names_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("usage.db");
        std::fs::write(&path, vec![b'x'; 4096]).expect("write junk");
        let err = SqliteUsageStore::open(&path).expect_err("junk");
        let msg = err.to_string();
        assert!(
            msg.contains("usage.db") && msg.contains("move it aside"),
            "{msg}"
        );
    }

    #[test]
    fn processes_creating_a_fresh_ledger_together_all_open_it() {
        // Two first runs started together both create usage.db; switching a fresh database to
        // WAL is not covered by SQLite's busy handler, so this raced before `switch_to_wal`.
        for round in 0..10 {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("usage.db");
            let start = std::sync::Arc::new(std::sync::Barrier::new(6));
            let handles: Vec<_> = (0..6)
                .map(|_| {
                    let (path, start) = (path.clone(), std::sync::Arc::clone(&start));
                    std::thread::spawn(move || {
                        start.wait();
                        SqliteUsageStore::open(&path).map(|_| ())
                    })
                })
                .collect();
            for h in handles {
                let opened = h.join().expect("no panic");
                assert!(opened.is_ok(), "round {round}: {opened:?}");
            }
        }
    }
}
