//! The push: this machine's new local events into the team ledger, idempotently.
//!
//! The local SQLite ledger keeps a change log (`team_push_log`: one row per event, moved to the
//! end whenever the event is inserted or changed — a higher-ranked replacement, a repricing) and
//! a cursor per team ledger (`team_push_state`). A push reads the log past the cursor in
//! batches; each batch is committed in Postgres first (`mirror`: unique per machine and key, so
//! a batch sent twice changes nothing the second time) and only then is the cursor moved. A push
//! killed at any point therefore resends at most one batch, which Postgres counts as
//! duplicates: nothing is lost and nothing is counted twice.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use super::pg::{PgUsageStore, TeamConnect, redact_url};
use crate::error::{Error, Result};
use crate::usage::{CostSource, RunSession, SqliteUsageStore, TokenCounts, UsageEvent};

/// Events per batch when the caller does not say.
pub const DEFAULT_PUSH_BATCH: usize = 2_000;

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushReport {
    /// The team ledger, without its password.
    pub ledger: String,
    /// This machine's id.
    pub machine: String,
    /// Events sent.
    pub sent: u64,
    /// Of those, new in the team ledger.
    pub inserted: u64,
    /// Of those, replacing an older copy (a higher rank, a new price).
    pub replaced: u64,
    /// Of those, already there unchanged (a batch resent after an interrupted push).
    pub unchanged: u64,
    /// Batches committed.
    pub batches: u64,
    /// Runs (`profiles run` records) sent: new ones, and those still going at the last push.
    pub runs: u64,
    /// Team `cost-threshold` hooks this push fired (after it, the team's spend crossed them and
    /// no other machine had fired them yet).
    pub team_alerts: u64,
}

/// What is waiting to be pushed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushStatus {
    /// The team ledger, without its password.
    pub ledger: String,
    /// This machine's id.
    pub machine: String,
    /// The user name pushed with this machine's events.
    pub user: String,
    /// Local events (new or changed) not yet in the team ledger.
    pub pending: u64,
    /// When a push last completed.
    pub last_push_at: Option<DateTime<Utc>>,
    /// Why the last push failed, when it did (the next push retries).
    pub last_error: Option<String>,
    /// When it failed.
    pub last_error_at: Option<DateTime<Utc>>,
}

const INSTALL: &str = "
CREATE TABLE team_push_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL UNIQUE
);
CREATE TRIGGER team_push_log_insert AFTER INSERT ON usage_events BEGIN
    INSERT OR REPLACE INTO team_push_log (event_id) VALUES (new.id);
END;
CREATE TRIGGER team_push_log_update AFTER UPDATE ON usage_events BEGIN
    INSERT OR REPLACE INTO team_push_log (event_id) VALUES (new.id);
END;
CREATE TRIGGER team_push_log_delete AFTER DELETE ON usage_events BEGIN
    DELETE FROM team_push_log WHERE event_id = old.id;
END;
INSERT INTO team_push_log (event_id) SELECT id FROM usage_events ORDER BY id;
CREATE TABLE team_push_state (
    ledger TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    pushed_ms INTEGER,
    error TEXT,
    error_ms INTEGER,
    runs_seq INTEGER NOT NULL DEFAULT 0
);
";

/// Adds the change log to the local ledger the first time a team ledger is used, logging every
/// event already there. Not a migration of the local ledger: a machine that never joins a team
/// never pays for the log.
fn install(conn: &mut Connection) -> rusqlite::Result<()> {
    let present = |c: &Connection| -> rusqlite::Result<bool> {
        c.query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'team_push_state'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
    };
    if present(conn)? {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !present(&tx)? {
        tx.execute_batch(INSTALL)?;
    }
    tx.commit()
}

fn local_error(local: &SqliteUsageStore, e: rusqlite::Error) -> Error {
    Error::UsageStore {
        path: local.path().to_path_buf(),
        message: e.to_string(),
    }
}

/// The key of a ledger's cursor: another ledger (or schema) starts from the beginning.
fn cursor_key(team: &PgUsageStore, schema: &str) -> String {
    format!("{}#{schema}", team.shown_url())
}

/// Sends every local event the team ledger does not have yet, `batch` at a time.
pub fn push(
    local: &SqliteUsageStore,
    team: &PgUsageStore,
    schema: &str,
    batch: usize,
) -> Result<PushReport> {
    let key = cursor_key(team, schema);
    let batch = batch.max(1);
    let mut report = PushReport {
        ledger: team.shown_url().to_string(),
        machine: team.machine().to_string(),
        ..PushReport::default()
    };
    {
        let mut conn = local.lock();
        install(&mut conn).map_err(|e| local_error(local, e))?;
    }
    loop {
        let (events, last_seq) = {
            let conn = local.lock();
            read_batch(&conn, &key, batch).map_err(|e| local_error(local, e))?
        };
        let Some(last_seq) = last_seq else {
            break;
        };
        let outcome = match team.mirror(&events) {
            Ok(o) => o,
            Err(e) => {
                save_error(&local.lock(), &key, &e);
                return Err(e);
            }
        };
        // Only after Postgres committed: a push killed before this line resends this batch.
        {
            let conn = local.lock();
            conn.execute(
                "INSERT INTO team_push_state (ledger, seq, pushed_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (ledger) DO UPDATE SET seq = max(seq, excluded.seq), \
                 pushed_ms = excluded.pushed_ms, error = NULL, error_ms = NULL",
                params![key, last_seq, Utc::now().timestamp_millis()],
            )
            .map_err(|e| local_error(local, e))?;
        }
        report.sent += events.len() as u64;
        report.inserted += outcome.inserted;
        report.replaced += outcome.replaced;
        report.unchanged += outcome.duplicates;
        report.batches += 1;
    }
    report.runs = push_runs(local, team, &key)?;
    if report.batches == 0 {
        let conn = local.lock();
        conn.execute(
            "INSERT INTO team_push_state (ledger, seq, pushed_ms) VALUES (?1, 0, ?2) \
             ON CONFLICT (ledger) DO UPDATE SET pushed_ms = excluded.pushed_ms, error = NULL, \
             error_ms = NULL",
            params![key, Utc::now().timestamp_millis()],
        )
        .map_err(|e| local_error(local, e))?;
    }
    Ok(report)
}

/// Remembers why a push failed (best effort), for [`push_status`]; the next push retries.
fn save_error(conn: &Connection, key: &str, e: &Error) {
    let _ = conn.execute(
        "INSERT INTO team_push_state (ledger, seq, error, error_ms) VALUES (?1, 0, ?2, ?3) \
         ON CONFLICT (ledger) DO UPDATE SET error = excluded.error, error_ms = excluded.error_ms",
        params![key, e.to_string(), Utc::now().timestamp_millis()],
    );
}

/// [`save_error`] for a push that could not even connect.
pub(crate) fn record_push_error(local: &SqliteUsageStore, connect: &TeamConnect, e: &Error) {
    let Ok(shown) = redact_url(&connect.url) else {
        return;
    };
    let mut conn = local.lock();
    if install(&mut conn).is_ok() {
        save_error(&conn, &format!("{shown}#{}", connect.schema), e);
    }
}

/// A `team_push_state` row: cursor, last push, last error and when.
type SavedState = (i64, Option<i64>, Option<String>, Option<i64>);

/// How many local events wait for `ledger` (its shown URL) and `schema`, and how the last push
/// went. Reads only the local ledger: it answers offline.
pub fn push_status(
    local: &SqliteUsageStore,
    ledger: &str,
    schema: &str,
    machine: &str,
    user: &str,
) -> Result<PushStatus> {
    let key = format!("{ledger}#{schema}");
    let mut conn = local.lock();
    install(&mut conn).map_err(|e| local_error(local, e))?;
    let run = || -> rusqlite::Result<PushStatus> {
        let state: Option<SavedState> = conn
            .query_row(
                "SELECT seq, pushed_ms, error, error_ms FROM team_push_state WHERE ledger = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let seq = state.as_ref().map_or(0, |s| s.0);
        let pending: i64 = conn.query_row(
            "SELECT count(*) FROM team_push_log WHERE seq > ?1",
            [seq],
            |r| r.get(0),
        )?;
        Ok(PushStatus {
            ledger: ledger.to_string(),
            machine: machine.to_string(),
            user: user.to_string(),
            pending: pending.max(0) as u64,
            last_push_at: state.as_ref().and_then(|s| s.1).map(from_ms),
            last_error: state.as_ref().and_then(|s| s.2.clone()),
            last_error_at: state.as_ref().and_then(|s| s.3).map(from_ms),
        })
    };
    run().map_err(|e| local_error(local, e))
}

/// A run still without an end this long after its start is taken as dead (its ringlet was
/// killed): the run cursor moves past it.
const RUN_MAX_MS: i64 = 24 * 3600 * 1000;

/// Mirrors the runs past the run cursor: the cursor stops before the oldest run still going, so
/// its end is sent by a later push.
fn push_runs(local: &SqliteUsageStore, team: &PgUsageStore, key: &str) -> Result<u64> {
    let (runs, cursor) = {
        let conn = local.lock();
        read_runs(&conn, key).map_err(|e| local_error(local, e))?
    };
    if runs.is_empty() {
        return Ok(0);
    }
    team.mirror_runs(&runs)?;
    let conn = local.lock();
    conn.execute(
        "INSERT INTO team_push_state (ledger, seq, runs_seq) VALUES (?1, 0, ?2) \
         ON CONFLICT (ledger) DO UPDATE SET runs_seq = max(runs_seq, excluded.runs_seq)",
        params![key, cursor],
    )
    .map_err(|e| local_error(local, e))?;
    Ok(runs.len() as u64)
}

fn read_runs(conn: &Connection, key: &str) -> rusqlite::Result<(Vec<RunSession>, i64)> {
    let cursor: i64 = conn
        .query_row(
            "SELECT runs_seq FROM team_push_state WHERE ledger = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut st = conn.prepare_cached(
        "SELECT id, profile, agent, provider, model, started_ms, ended_ms, exit_code, \
         peak_rss_bytes, cpu_user_ms, cpu_system_ms FROM run_sessions WHERE id > ?1 ORDER BY id",
    )?;
    let now = Utc::now().timestamp_millis();
    let mut next = cursor;
    let mut blocked = false;
    let mut runs = Vec::new();
    let mut rows = st.query([cursor])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let started: i64 = r.get(5)?;
        let ended: Option<i64> = r.get(6)?;
        let going = ended.is_none() && now - started < RUN_MAX_MS;
        blocked |= going;
        if !blocked {
            next = id;
        }
        let opt = |i| -> rusqlite::Result<Option<u64>> {
            Ok(r.get::<_, Option<i64>>(i)?.map(|v| v.max(0) as u64))
        };
        runs.push(RunSession {
            id,
            profile: r.get(1)?,
            agent: r.get(2)?,
            provider: r.get(3)?,
            model: r.get(4)?,
            started_at: from_ms(started),
            ended_at: ended.map(from_ms),
            duration_ms: ended.map(|e| e.saturating_sub(started).max(0) as u64),
            exit_code: r.get(7)?,
            peak_rss_bytes: opt(8)?,
            cpu_user_ms: opt(9)?,
            cpu_system_ms: opt(10)?,
        });
    }
    Ok((runs, next))
}

/// The next `batch` changed events past the cursor, as they will be pushed, and the log
/// position of the last one.
fn read_batch(
    conn: &Connection,
    key: &str,
    batch: usize,
) -> rusqlite::Result<(Vec<UsageEvent>, Option<i64>)> {
    let seq: i64 = conn
        .query_row(
            "SELECT seq FROM team_push_state WHERE ledger = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(0);
    let mut st = conn.prepare_cached(
        "SELECT l.seq, e.ts_ms, e.profile, e.agent, e.provider, e.model, e.input, e.output, \
         e.cache_creation, e.cache_creation_5m, e.cache_creation_1h, e.cache_read, e.reasoning, \
         e.cost_nanos, e.cost_source, e.session_id, o.origin, e.dedup_key, e.rank, e.project \
         FROM team_push_log l JOIN usage_events e ON e.id = l.event_id \
         JOIN origins o ON o.id = e.origin_id WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2",
    )?;
    let mut last = None;
    let mut events = Vec::new();
    let mut rows = st.query(params![seq, batch as i64])?;
    while let Some(r) = rows.next()? {
        last = Some(r.get::<_, i64>(0)?);
        let u = |i| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
        let origin: String = r.get(16)?;
        events.push(UsageEvent {
            time: from_ms(r.get(1)?),
            profile: r.get(2)?,
            agent: r.get(3)?,
            provider: r.get(4)?,
            model: r.get(5)?,
            tokens: TokenCounts {
                input: u(6)?,
                output: u(7)?,
                cache_creation: u(8)?,
                cache_creation_5m: u(9)?,
                cache_creation_1h: u(10)?,
                cache_read: u(11)?,
                reasoning: u(12)?,
            },
            cost_nanos: r.get(13)?,
            cost_source: CostSource::parse(&r.get::<_, String>(14)?)
                .unwrap_or(CostSource::Unpriced),
            session_id: r.get(15)?,
            project: r.get(19)?,
            origin: shared_origin(&origin),
            dedup_key: r.get(17)?,
            rank: r.get(18)?,
        });
    }
    Ok((events, last))
}

/// What the team ledger learns of where an event was read: its kind (`file`, `proxy`), never
/// the path of the log file, which names the user's directories and projects.
pub fn shared_origin(origin: &str) -> String {
    origin.split(':').next().unwrap_or_default().to_string()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The lock file that keeps two pushes of one machine from interleaving.
pub fn push_lock_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("team-push.lock")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::UsageStore;
    use crate::usage::tests::event;

    #[test]
    fn origins_lose_their_paths() {
        assert_eq!(shared_origin("file:/home/a/.claude/x.jsonl"), "file");
        assert_eq!(shared_origin("proxy"), "proxy");
    }

    #[test]
    fn the_log_covers_old_new_and_changed_events() {
        let dir = tempfile::tempdir().expect("tempdir");
        let local = SqliteUsageStore::open(dir.path().join("usage.db")).expect("open");
        local.record(&[event("a", "m", 1, 0)]).expect("before");
        {
            let mut conn = local.lock();
            install(&mut conn).expect("install");
            install(&mut conn).expect("twice is a no-op");
        }
        local
            .record(&[event("b", "m", 1, 0), event("a", "m", 5, 1)])
            .expect("after");
        let conn = local.lock();
        let (events, last) = read_batch(&conn, "k", 10).expect("read");
        let keys: Vec<_> = events.iter().map(|e| e.dedup_key.as_str()).collect();
        // `a` moved behind `b` when it was replaced: one row per event, the newest change last.
        assert_eq!(keys, vec!["b", "a"]);
        assert_eq!(events[1].tokens.input, 5);
        assert_eq!(events[1].origin, "test");
        assert!(last.is_some());
    }
}
