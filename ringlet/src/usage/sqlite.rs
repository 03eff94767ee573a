//! `SqliteUsageStore`: the default ledger, one SQLite file in WAL mode that several ringlet
//! processes (a CLI import, an automatic ingestion after a run, the server) share safely.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use rusqlite::config::DbConfig;
use rusqlite::types::Value as SqlValue;
use rusqlite::{
    Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::event::{CostSource, TokenCounts, UsageEvent};
use super::price::PriceBook;
use super::schema::{BUCKET_MS, HOUR_MS, MIGRATIONS};
use super::store::{
    FileIdentity, HourUsage, ImportState, RecordOutcome, RepriceOutcome, RunEnd, RunSession,
    RunStart, SessionCell, SessionUsage, UsageFilter, UsageGroup, UsageRow, UsageStore,
    fold_sessions,
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

    fn commit_imports(
        &self,
        batches: &[(&[UsageEvent], &ImportState)],
    ) -> Result<Vec<RecordOutcome>> {
        self.write(|tx| {
            batches
                .iter()
                .map(|(events, state)| {
                    let outcome = insert_events(tx, events)?;
                    save_state(tx, state)?;
                    Ok(outcome)
                })
                .collect()
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

    fn query_split(
        &self,
        filter: &UsageFilter,
        group: UsageGroup,
        by: UsageGroup,
    ) -> Result<Vec<(String, UsageRow)>> {
        let conn = self.lock();
        split_rows(&conn, filter, group, by).map_err(|e| db_error(&self.path, e))
    }

    fn hours(&self, filter: &UsageFilter) -> Result<Vec<HourUsage>> {
        let conn = self.lock();
        hour_rows(&conn, filter).map_err(|e| db_error(&self.path, e))
    }

    fn sessions(&self, filter: &UsageFilter) -> Result<Vec<SessionUsage>> {
        let conn = self.lock();
        let cells = session_cells(&conn, filter).map_err(|e| db_error(&self.path, e))?;
        let projects = session_projects(&conn, filter.session.as_deref())
            .map_err(|e| db_error(&self.path, e))?;
        drop(conn);
        let mut sessions = fold_sessions(cells);
        for s in &mut sessions {
            if let Some(p) = projects.get(&s.session_id) {
                s.projects = p.clone();
            }
        }
        Ok(sessions)
    }

    fn events(&self, filter: &UsageFilter, limit: Option<u64>) -> Result<Vec<UsageEvent>> {
        let conn = self.lock();
        let run = || -> rusqlite::Result<Vec<UsageEvent>> {
            let mut w = Where::default();
            w.dims(filter, "e.");
            w.session(filter, "e.session_id");
            w.project(filter, "e.project");
            w.time(filter, "e.ts_ms", 1);
            let limit = limit.map_or(String::new(), |n| format!(" LIMIT {n}"));
            let sql = format!(
                "SELECT e.ts_ms, e.profile, e.agent, e.provider, e.model, e.input, e.output, \
                 e.cache_creation, e.cache_creation_5m, e.cache_creation_1h, e.cache_read, \
                 e.reasoning, e.cost_nanos, e.cost_source, e.session_id, o.origin, e.dedup_key, \
                 e.rank, e.project FROM usage_events e JOIN origins o ON o.id = e.origin_id{} \
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
                    project: r.get(18)?,
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
         cost_source, session_id, origin_id, dedup_key, rank, project) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19) \
         ON CONFLICT (dedup_key) DO NOTHING",
    )?;
    let mut replace = tx.prepare_cached(
        "UPDATE usage_events SET ts_ms = ?1, profile = ?2, agent = ?3, provider = ?4, model = ?5, \
         input = ?6, output = ?7, cache_creation = ?8, cache_creation_5m = ?9, \
         cache_creation_1h = ?10, cache_read = ?11, reasoning = ?12, cost_nanos = ?13, \
         cost_source = ?14, session_id = ?15, origin_id = ?16, rank = ?18, project = ?19 \
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
            ev.project,
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
        if !f.models.is_empty() {
            let mut marks = Vec::with_capacity(f.models.len());
            for m in &f.models {
                self.params.push(SqlValue::Text(m.clone()));
                marks.push(format!("?{}", self.params.len()));
            }
            self.clauses
                .push(format!("{prefix}model IN ({})", marks.join(", ")));
        }
    }

    /// The session filter on an events table's `column` (`""` also matches no session id).
    fn session(&mut self, f: &UsageFilter, column: &str) {
        if let Some(s) = &f.session {
            self.params.push(SqlValue::Text(s.clone()));
            let n = self.params.len();
            self.clauses.push(if s.is_empty() {
                format!("({column} = ?{n} OR {column} IS NULL)")
            } else {
                format!("{column} = ?{n}")
            });
        }
    }

    /// The project filter on an events table's `column`: the directory itself or anything
    /// below it, by whole path components (`/src/app` matches `/src/app/web`, not
    /// `/src/apple`).
    fn project(&mut self, f: &UsageFilter, column: &str) {
        if let Some(p) = &f.project {
            let dir = p.trim_end_matches('/');
            self.params.push(SqlValue::Text(dir.to_string()));
            let n = self.params.len();
            self.clauses.push(format!(
                "({column} = ?{n} OR substr({column}, 1, length(?{n}) + 1) = ?{n} || '/')"
            ));
        }
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

/// A table a report can read, and how its time column maps to Unix milliseconds.
struct Source {
    table: &'static str,
    /// The time column.
    column: &'static str,
    /// Milliseconds per unit of `column`.
    unit_ms: i64,
    /// The event and priced-event counts, as SQL.
    counts: &'static str,
}

const EVENTS: Source = Source {
    table: "usage_events",
    column: "ts_ms",
    unit_ms: 1,
    counts: "COUNT(*), COUNT(cost_nanos)",
};
const QUARTERS: Source = Source {
    table: "usage_rollup",
    column: "bucket",
    unit_ms: BUCKET_MS,
    counts: "SUM(events), SUM(priced)",
};
const HOURS: Source = Source {
    table: "usage_rollup_hour",
    column: "hour",
    unit_ms: HOUR_MS,
    counts: "SUM(events), SUM(priced)",
};

/// The smallest table that answers `filter` grouped by `group` exactly: the hourly rollup when
/// the bounds fall on the hour and (for days, weeks and months) every offset of the zone in range
/// (and each change of it)
/// is a whole number of hours; else the 15-minute rollup when the bounds fall on its grid (any
/// local midnight does); else the events.
fn source_for(
    conn: &Connection,
    filter: &UsageFilter,
    group: UsageGroup,
) -> rusqlite::Result<Source> {
    let aligned = |unit: i64| {
        [filter.since, filter.until]
            .iter()
            .all(|t| t.is_none_or(|t| t.timestamp_millis().rem_euclid(unit) == 0))
    };
    if aligned(HOUR_MS) {
        let whole_hours = match group {
            UsageGroup::Day | UsageGroup::Week | UsageGroup::Month => {
                let (from, to) = time_range(conn, filter, &HOURS)?;
                // Offsets and transition instants alike (the first segment starts at `from`).
                let segments = filter.time_zone.segments(from, to);
                segments.iter().all(|&(_, offset)| offset % 3600 == 0)
                    && segments.iter().skip(1).all(|&(at, _)| at % 3600 == 0)
            }
            _ => true,
        };
        if whole_hours {
            return Ok(HOURS);
        }
    }
    Ok(if aligned(BUCKET_MS) { QUARTERS } else { EVENTS })
}

/// The summed columns as SQL: plain `SUM`s, or each split in two (see [`split_sum`]).
fn sums_sql(split: bool) -> String {
    SUMMED
        .iter()
        .map(|c| {
            if split {
                split_sum(c)
            } else {
                format!("SUM({c})")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a row's event counts and sums, starting at column `at`, as written by [`sums_sql`]
/// after the counts.
fn read_usage(
    r: &rusqlite::Row<'_>,
    at: usize,
    split: bool,
    key: String,
) -> rusqlite::Result<UsageRow> {
    let count = |i| -> rusqlite::Result<u64> { Ok(int_value(r.get(i)?).max(0) as u64) };
    let first = at + 2;
    let sum = |k: usize| -> rusqlite::Result<i64> {
        if !split {
            return Ok(int_value(r.get(first + k)?));
        }
        // Columns first + 2k and first + 2k + 1 hold the halves of SUMMED[k].
        let hi = i128::from(int_value(r.get(first + 2 * k)?));
        let lo = i128::from(int_value(r.get(first + 2 * k + 1)?));
        let exact = (hi << 32) + lo;
        Ok(exact.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    };
    let tokens = |k: usize| -> rusqlite::Result<u64> { Ok(sum(k)?.max(0) as u64) };
    let events = count(at)?;
    let priced = count(at + 1)?;
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
    Ok(row)
}

/// Runs `f` with plain sums, and again with split ones if that fails: SQLite's `SUM` of
/// integers fails with "integer overflow" past `i64::MAX`, which only a ledger poisoned by an
/// absurd cost reaches; plain sums cost half as much.
fn with_sums<T>(f: impl Fn(bool) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    f(false).or_else(|_| f(true))
}

fn query_rows(
    conn: &Connection,
    filter: &UsageFilter,
    group: UsageGroup,
) -> rusqlite::Result<Vec<UsageRow>> {
    if group == UsageGroup::Session {
        return session_rows(conn, filter, None)
            .map(|rows| rows.into_iter().map(|(_, r)| r).collect());
    }
    let mut out: Vec<UsageRow> = Vec::new();
    for (_, row) in grouped(conn, filter, group, None)? {
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

/// Rows grouped by `group` and, within each, by `by`: `(by value, row keyed by the group)`,
/// sorted by group then `by`.
fn split_rows(
    conn: &Connection,
    filter: &UsageFilter,
    group: UsageGroup,
    by: UsageGroup,
) -> rusqlite::Result<Vec<(String, UsageRow)>> {
    if group == UsageGroup::Session {
        return session_rows(conn, filter, Some(by));
    }
    let mut out: std::collections::BTreeMap<(String, String), UsageRow> =
        std::collections::BTreeMap::new();
    for (sub, row) in grouped(conn, filter, group, Some(by))? {
        match out.entry((row.key.clone(), sub)) {
            std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().absorb(&row),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(row);
            }
        }
    }
    Ok(out.into_iter().map(|((_, sub), row)| (sub, row)).collect())
}

/// The column a non-time grouping reads.
fn dim_column(group: UsageGroup) -> &'static str {
    match group {
        UsageGroup::Model => "model",
        UsageGroup::Profile => "profile",
        UsageGroup::Agent => "agent",
        UsageGroup::Provider => "provider",
        UsageGroup::Project => "coalesce(project, '')",
        _ => "''",
    }
}

/// One SQL aggregation: `(by value or "", row keyed by the group)`, in SQL's order (by day
/// number for days, weeks and months: one week's or month's days are adjacent).
fn grouped(
    conn: &Connection,
    filter: &UsageFilter,
    group: UsageGroup,
    by: Option<UsageGroup>,
) -> rusqlite::Result<Vec<(String, UsageRow)>> {
    // Only the events know their session and project.
    let projects =
        filter.project.is_some() || group == UsageGroup::Project || by == Some(UsageGroup::Project);
    let src = if filter.session.is_some() || projects {
        EVENTS
    } else {
        source_for(conn, filter, group)?
    };
    let mut w = Where::default();
    w.dims(filter, "");
    w.session(filter, "session_id");
    w.project(filter, "project");
    w.time(filter, src.column, src.unit_ms);
    let seconds = if src.unit_ms == 1 {
        "ts_ms / 1000".to_string()
    } else {
        format!("{} * {}", src.column, src.unit_ms / 1000)
    };
    let key = match group {
        UsageGroup::Total => "'total'".to_string(),
        UsageGroup::Day | UsageGroup::Week | UsageGroup::Month => {
            let (from, to) = time_range(conn, filter, &src)?;
            let offset = offset_sql(&filter.time_zone, &seconds, from, to);
            format!("({seconds} + {offset}) / 86400")
        }
        UsageGroup::Session => "coalesce(session_id, '')".into(),
        g => dim_column(g).into(),
    };
    let sub = by.map_or("''", dim_column);
    let group_by = if group == UsageGroup::Total && by.is_none() {
        ""
    } else {
        " GROUP BY 1, 2 ORDER BY 1, 2"
    };
    with_sums(|split| {
        let sql = format!(
            "SELECT {key}, {sub}, {}, {} FROM {}{}{group_by}",
            src.counts,
            sums_sql(split),
            src.table,
            w.sql()
        );
        let mut st = conn.prepare(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(w.params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let key = match r.get::<_, SqlValue>(0)? {
                SqlValue::Integer(day) => day_key(day, group),
                SqlValue::Text(s) => s,
                _ => String::new(),
            };
            let sub: String = r.get::<_, Option<String>>(1)?.unwrap_or_default();
            out.push((sub, read_usage(r, 2, split, key)?));
        }
        Ok(out)
    })
}

/// Usage per hour and model with first and last event times: from the hourly rollup when the
/// bounds fall on the hour, else from the events.
fn hour_rows(conn: &Connection, filter: &UsageFilter) -> rusqlite::Result<Vec<HourUsage>> {
    let aligned = [filter.since, filter.until]
        .iter()
        .all(|t| t.is_none_or(|t| t.timestamp_millis().rem_euclid(HOUR_MS) == 0));
    let (src, hour, first, last) =
        if aligned && filter.session.is_none() && filter.project.is_none() {
            (HOURS, "hour", "min(first_ms)", "max(last_ms)")
        } else {
            (EVENTS, "ts_ms / 3600000", "min(ts_ms)", "max(ts_ms)")
        };
    let mut w = Where::default();
    w.dims(filter, "");
    w.session(filter, "session_id");
    w.project(filter, "project");
    w.time(filter, src.column, src.unit_ms);
    with_sums(|split| {
        let sql = format!(
            "SELECT {hour}, model, {first}, {last}, {}, {} FROM {}{} GROUP BY 1, 2 ORDER BY 1, 2",
            src.counts,
            sums_sql(split),
            src.table,
            w.sql()
        );
        let mut st = conn.prepare(&sql)?;
        let mut rows = st.query(rusqlite::params_from_iter(w.params.iter()))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let model: String = r.get(1)?;
            out.push(HourUsage {
                hour: from_ms(r.get::<_, i64>(0)?.saturating_mul(HOUR_MS)),
                first: from_ms(r.get(2)?),
                last: from_ms(r.get(3)?),
                usage: read_usage(r, 4, split, model.clone())?,
                model,
            });
        }
        Ok(out)
    })
}

/// The sessions' usage within `filter`, per session and dimension, from the session rollup. A
/// session that started before `since` or went on past `until` is added up again from its own
/// events within the range (by the session index), so only those count.
fn session_cells(conn: &Connection, filter: &UsageFilter) -> rusqlite::Result<Vec<SessionCell>> {
    let since = filter.since.map(|t| t.timestamp_millis());
    let until = filter.until.map(|t| t.timestamp_millis());
    let mut w = Where::default();
    w.dims(filter, "");
    if let Some(s) = &filter.session {
        w.params.push(SqlValue::Text(s.clone()));
        w.clauses.push(format!("session = ?{}", w.params.len()));
    }
    // A session is in a project when any of its responses was: all its usage counts.
    if filter.project.is_some() {
        let mut p = Where {
            params: std::mem::take(&mut w.params),
            ..Where::default()
        };
        p.project(filter, "project");
        w.params = p.params;
        w.clauses.push(format!(
            "session IN (SELECT session FROM usage_session_projects{})",
            p.clauses
                .first()
                .map_or(String::new(), |c| format!(" WHERE {c}"))
        ));
    }
    if let Some(since) = since {
        w.params.push(SqlValue::Integer(since));
        w.clauses.push(format!("last_ms >= ?{}", w.params.len()));
    }
    if let Some(until) = until {
        w.params.push(SqlValue::Integer(until));
        w.clauses.push(format!("first_ms < ?{}", w.params.len()));
    }
    // The cells as stored (no aggregation: one row each).
    let sql = format!(
        "SELECT session, profile, agent, provider, model, first_ms, last_ms, events, priced, \
         {} FROM usage_sessions{}",
        SUMMED.join(", "),
        w.sql()
    );
    let mut st = conn.prepare(&sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(w.params.iter()))?;
    let mut cells = Vec::new();
    while let Some(r) = rows.next()? {
        let session: String = r.get(0)?;
        cells.push(SessionCell {
            usage: read_usage(r, 7, false, session.clone())?,
            session,
            profile: r.get(1)?,
            agent: r.get(2)?,
            provider: r.get(3)?,
            model: r.get(4)?,
            first_ms: r.get(5)?,
            last_ms: r.get(6)?,
        });
    }
    drop(rows);
    drop(st);
    let straddles = |c: &SessionCell| {
        since.is_some_and(|s| c.first_ms < s) || until.is_some_and(|u| c.last_ms >= u)
    };
    if cells.iter().any(straddles) {
        let (lo, hi) = (since.unwrap_or(i64::MIN), until.unwrap_or(i64::MAX));
        for cell in cells.iter_mut().filter(|c| straddles(c)) {
            let again = with_sums(|split| {
                let sql = format!(
                    "SELECT min(ts_ms), max(ts_ms), COUNT(*), COUNT(cost_nanos), {} \
                     FROM usage_events WHERE (session_id = ?1 OR (?1 = '' AND session_id IS NULL)) \
                     AND profile = ?2 AND agent = ?3 AND provider = ?4 AND model = ?5 \
                     AND ts_ms >= ?6 AND ts_ms < ?7",
                    sums_sql(split)
                );
                conn.query_row(
                    &sql,
                    params![
                        cell.session,
                        cell.profile,
                        cell.agent,
                        cell.provider,
                        cell.model,
                        lo,
                        hi
                    ],
                    |r| {
                        Ok((
                            r.get::<_, Option<i64>>(0)?,
                            r.get::<_, Option<i64>>(1)?,
                            read_usage(r, 2, split, cell.session.clone())?,
                        ))
                    },
                )
            })?;
            let (first, last, usage) = again;
            cell.first_ms = first.unwrap_or(0);
            cell.last_ms = last.unwrap_or(0);
            cell.usage = usage;
        }
        cells.retain(|c| c.usage.events > 0);
    }
    Ok(cells)
}

/// The projects (working directories) each session's responses were in, sorted: of one
/// session, or of all.
fn session_projects(
    conn: &Connection,
    session: Option<&str>,
) -> rusqlite::Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    let (sql, params) = match session {
        Some(s) => (
            "SELECT session, project FROM usage_session_projects WHERE session = ?1 ORDER BY 1, 2",
            vec![SqlValue::Text(s.to_string())],
        ),
        None => (
            "SELECT session, project FROM usage_session_projects ORDER BY 1, 2",
            Vec::new(),
        ),
    };
    let mut st = conn.prepare(sql)?;
    let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
    while let Some(r) = rows.next()? {
        out.entry(r.get(0)?).or_default().push(r.get(1)?);
    }
    Ok(out)
}

/// Per session (sorted by id), for [`UsageGroup::Session`]; with `by`, per session and model,
/// agent, profile or provider: `(by value or "", row keyed by the session)`.
fn session_rows(
    conn: &Connection,
    filter: &UsageFilter,
    by: Option<UsageGroup>,
) -> rusqlite::Result<Vec<(String, UsageRow)>> {
    let mut rows: std::collections::BTreeMap<(String, String), UsageRow> =
        std::collections::BTreeMap::new();
    for cell in session_cells(conn, filter)? {
        let sub = match by {
            Some(UsageGroup::Model) => cell.model.clone(),
            Some(UsageGroup::Profile) => cell.profile.clone(),
            Some(UsageGroup::Agent) => cell.agent.clone(),
            Some(UsageGroup::Provider) => cell.provider.clone(),
            _ => String::new(),
        };
        rows.entry((cell.session.clone(), sub))
            .or_insert_with(|| UsageRow::empty(cell.session.clone()))
            .absorb(&cell.usage);
    }
    Ok(rows.into_iter().map(|((_, sub), row)| (sub, row)).collect())
}

/// The range of Unix seconds a grouped query covers: its bounds, or else the oldest and newest
/// rows of the source (an index lookup each).
fn time_range(
    conn: &Connection,
    filter: &UsageFilter,
    src: &Source,
) -> rusqlite::Result<(i64, i64)> {
    let to_s = |v: i64| v.saturating_mul(src.unit_ms).div_euclid(1000);
    let (min, max): (Option<i64>, Option<i64>) = if filter.since.is_some() && filter.until.is_some()
    {
        (None, None)
    } else {
        conn.query_row(
            &format!(
                "SELECT min({c}), max({c}) FROM {t}",
                c = src.column,
                t = src.table
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
    };
    let from = filter
        .since
        .map(|t| t.timestamp())
        .or(min.map(to_s))
        .unwrap_or(0);
    let to = filter
        .until
        .map(|t| t.timestamp())
        .or(max.map(|m| to_s(m.saturating_add(1))))
        .unwrap_or(from);
    Ok((from, to.max(from)))
}

/// The zone's offset (seconds) at `seconds`, as SQL: a constant when one offset covers
/// `[from, to]`, else a `CASE` over the transitions in between (a few per year), so that every
/// bucket lands in the day it belongs to on both sides of a daylight-saving change.
pub(crate) fn offset_sql(zone: &super::zone::Zone, seconds: &str, from: i64, to: i64) -> String {
    let segments = zone.segments(from, to);
    let Some(&(_, last)) = segments.last() else {
        return "0".into();
    };
    if segments.len() == 1 {
        return last.to_string();
    }
    let mut sql = String::from("CASE");
    for pair in segments.windows(2) {
        let ((_, offset), (next_start, _)) = (pair[0], pair[1]);
        sql.push_str(&format!(" WHEN {seconds} < {next_start} THEN {offset}"));
    }
    sql.push_str(&format!(" ELSE {last} END"));
    sql
}

/// Labels a day number (days since 1970-01-01 in the reader's zone) for the grouping.
pub(crate) fn day_key(day: i64, group: UsageGroup) -> String {
    let Some(date) = super::zone::days_to_date(day) else {
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
        assert!(super::super::schema::MIGRATIONS[1].contains(&format!("/ {HOUR_MS}")));
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
    fn a_v1_ledger_is_upgraded_with_exact_hourly_and_session_rollups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("usage.db");
        let mut events = Vec::new();
        for i in 0..300i64 {
            let mut ev = event(&format!("k{i}"), ["m1", "m2"][(i % 2) as usize], 1, 0);
            ev.time = crate::usage::conformance::fixed_time() + chrono::Duration::minutes(i * 23);
            ev.session_id = (i % 5 != 0).then(|| format!("s{}", i % 3));
            ev.tokens.output = i as u64;
            events.push(ev);
        }
        let v1 = SqliteUsageStore::open_in_memory().expect("reference");
        v1.record(&events).expect("record");
        {
            // A ledger as v1 wrote it: its schema, its triggers, the same events.
            let conn = Connection::open(&path).expect("raw open");
            conn.execute_batch(MIGRATIONS[0]).expect("v1");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
            let tx = conn.unchecked_transaction().expect("tx");
            // v1's columns (later versions added `project`).
            for ev in &events {
                let origin = origin_id(&tx, &ev.origin).expect("origin");
                let t = ev.tokens;
                tx.execute(
                    "INSERT INTO usage_events (ts_ms, profile, agent, provider, model, input, \
                     output, cache_creation, cache_creation_5m, cache_creation_1h, cache_read, \
                     reasoning, cost_nanos, cost_source, session_id, origin_id, dedup_key, rank) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, \
                     ?16, ?17, ?18)",
                    params![
                        ev.time.timestamp_millis(),
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
                        origin,
                        ev.dedup_key,
                        ev.rank,
                    ],
                )
                .expect("insert");
            }
            tx.commit().expect("commit");
        }
        let upgraded = SqliteUsageStore::open(&path).expect("upgrade");
        assert_eq!(
            upgraded.schema_version().expect("version") as usize,
            MIGRATIONS.len()
        );
        for group in [
            UsageGroup::Day,
            UsageGroup::Session,
            UsageGroup::Model,
            UsageGroup::Total,
        ] {
            assert_eq!(
                upgraded
                    .query(&UsageFilter::new(), group)
                    .expect("upgraded"),
                v1.query(&UsageFilter::new(), group).expect("fresh"),
                "{group:?}"
            );
        }
        let conn = upgraded.lock();
        let bad: i64 = conn
            .query_row(
                "SELECT count(*) FROM usage_rollup_hour r WHERE first_ms <> (SELECT min(ts_ms) \
                 FROM usage_events e WHERE e.ts_ms / 3600000 = r.hour AND e.model = r.model) \
                 OR last_ms <> (SELECT max(ts_ms) FROM usage_events e \
                 WHERE e.ts_ms / 3600000 = r.hour AND e.model = r.model)",
                [],
                |r| r.get(0),
            )
            .expect("check");
        assert_eq!(bad, 0);
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
