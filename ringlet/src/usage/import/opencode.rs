//! OpenCode: its SQLite database `~/.local/share/opencode/opencode.db`, table `message`, whose
//! JSON column `data` holds, for assistant messages, `modelID`, `tokens{input, output,
//! reasoning, cache{read, write}}` and the `cost` OpenCode computed (stored as a *reported*
//! cost). OpenCode's `output` excludes `reasoning`, and its `input` excludes cache reads and
//! writes, so ringlet stores output = output + reasoning and the rest as is. A cost of 0 means
//! OpenCode had no price; ringlet then prices the event itself, or leaves it unpriced.
//!
//! A message row is updated while its reply streams, so the event's dedup key is the message id
//! and its rank the token total: a later, larger read replaces the earlier one. The cursor is the
//! largest `time_updated` read; the next scan reads rows from there on (rows at the cursor are
//! read again and deduplicate).

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};
use serde::Deserialize;

use super::{
    FileReport, FileStat, Importer, ParsedUsage, ScanContext, file_name, path_key, rank_by_total,
    reported_cost, tokens_de, walk,
};
use crate::error::{Error, Result};
use crate::usage::event::TokenCounts;
use crate::usage::store::{FileIdentity, ImportState};

/// Reads OpenCode's message database (`opencode-sqlite`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenCodeImporter;

/// Bytes in the database's write-ahead log. OpenCode's writes land there first, without
/// touching the main file's size or mtime; while it holds anything, the database is read again
/// (the cursor keeps that cheap). Reading it ourselves may create an empty one, which is fine.
fn wal_len(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    FileStat::of(Path::new(&wal)).map_or(0, |s| s.size)
}

/// Recorded with the last batch of a read, so that an interrupted read is never taken as
/// complete by [`Importer::changed`].
const COMPLETE: &str = "{\"complete\":true}";

#[derive(Deserialize)]
struct Data {
    #[serde(default)]
    role: Option<String>,
    #[serde(rename = "modelID", default)]
    model_id: Option<String>,
    #[serde(default)]
    tokens: Option<Tokens>,
    #[serde(default)]
    cost: Option<f64>,
    #[serde(default)]
    time: Option<Time>,
    /// Where the agent worked (`cwd`; `root` is the project's repository).
    #[serde(default)]
    path: Option<MessagePath>,
}

#[derive(Deserialize)]
struct MessagePath {
    #[serde(default)]
    cwd: Option<String>,
}

#[derive(Deserialize)]
struct Tokens {
    #[serde(default, deserialize_with = "tokens_de")]
    input: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    output: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    reasoning: u64,
    #[serde(default)]
    cache: Option<Cache>,
}

#[derive(Deserialize)]
struct Cache {
    #[serde(default, deserialize_with = "tokens_de")]
    read: u64,
    #[serde(default, deserialize_with = "tokens_de")]
    write: u64,
}

#[derive(Deserialize)]
struct Time {
    #[serde(default)]
    created: Option<f64>,
}

struct Row {
    id: String,
    session: String,
    created_ms: i64,
    updated_ms: i64,
    data: String,
}

fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    Error::Parse {
        path: path.to_path_buf(),
        line: None,
        message: format!(
            "cannot read OpenCode's database ({e}); check that it is an OpenCode database and readable"
        ),
    }
}

/// Opens OpenCode's database read-only. In a read-only directory a WAL database cannot be read
/// normally (its shared-memory file cannot be created), so that case falls back to SQLite's
/// `immutable` mode.
fn open(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = if immutable {
        let uri = format!("file:{}?immutable=1", uri_escape(&path.to_string_lossy()));
        Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

fn uri_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'?' | b'#' | b'%' => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out
}

const QUERY: &str = "SELECT id, session_id, time_created, time_updated, data FROM message \
     WHERE time_updated >= ?1 ORDER BY time_updated, id";

/// Reads the rows from `cursor` on. A row whose columns have the wrong type (the database is
/// OpenCode's, not ours) is passed on as `Err((id, why))`, so that it is skipped and counted
/// while the rest are still read.
fn read_rows(
    conn: &Connection,
    cursor: i64,
    mut each: impl FnMut(std::result::Result<Row, (String, String)>) -> Result<()>,
) -> std::result::Result<(), ReadError> {
    let mut st = conn.prepare(QUERY).map_err(ReadError::Db)?;
    let mut rows = st.query([cursor]).map_err(ReadError::Db)?;
    loop {
        let Some(r) = rows.next().map_err(ReadError::Db)? else {
            return Ok(());
        };
        let mut values = Vec::with_capacity(5);
        for i in 0..5 {
            values.push(r.get::<_, SqlValue>(i).map_err(ReadError::Db)?);
        }
        each(row_of(values)).map_err(ReadError::Other)?;
    }
}

/// The columns of [`QUERY`] as a [`Row`], or the row's id (as far as it can be told) and why not.
fn row_of(mut v: Vec<SqlValue>) -> std::result::Result<Row, (String, String)> {
    let take = |v: &mut Vec<SqlValue>, i: usize| std::mem::replace(&mut v[i], SqlValue::Null);
    let id = match take(&mut v, 0) {
        SqlValue::Text(id) => id,
        SqlValue::Integer(id) => id.to_string(),
        other => return Err(("?".into(), format!("id is {}", kind(&other)))),
    };
    let fields = (|| -> std::result::Result<Row, String> {
        let text = |value: SqlValue, name: &str| match value {
            SqlValue::Text(s) => Ok(s),
            other => Err(format!("{name} is {}, not text", kind(&other))),
        };
        let millis = |value: SqlValue, name: &str| match value {
            SqlValue::Integer(ms) => Ok(ms),
            other => Err(format!(
                "{name} is {}, not a time in milliseconds",
                kind(&other)
            )),
        };
        Ok(Row {
            session: text(take(&mut v, 1), "session_id")?,
            created_ms: millis(take(&mut v, 2), "time_created")?,
            updated_ms: millis(take(&mut v, 3), "time_updated")?,
            data: text(take(&mut v, 4), "data")?,
            id: id.clone(),
        })
    })();
    fields.map_err(|why| (id, why))
}

/// How SQLite typed a value, for messages.
fn kind(v: &SqlValue) -> &'static str {
    match v {
        SqlValue::Null => "NULL",
        SqlValue::Integer(_) => "an integer",
        SqlValue::Real(_) => "a real number",
        SqlValue::Text(_) => "text",
        SqlValue::Blob(_) => "a blob",
    }
}

enum ReadError {
    Db(rusqlite::Error),
    Other(Error),
}

fn parse(row: &Row) -> std::result::Result<Option<ParsedUsage>, String> {
    let data: Data = serde_json::from_str(&row.data).map_err(|e| format!("data: {e}"))?;
    if data.role.as_deref() != Some("assistant") {
        return Ok(None);
    }
    let Some(t) = data.tokens else {
        return Ok(None);
    };
    let (read, write) = t.cache.map_or((0, 0), |c| (c.read, c.write));
    let tokens = TokenCounts {
        input: t.input,
        output: t.output.saturating_add(t.reasoning),
        cache_creation: write,
        cache_read: read,
        reasoning: t.reasoning,
        ..TokenCounts::default()
    };
    if tokens.is_zero() {
        // Still streaming, or aborted before any usage: a later scan sees the final row.
        return Ok(None);
    }
    let created = data
        .time
        .and_then(|t| t.created)
        .filter(|c| c.is_finite() && *c >= 0.0)
        .map_or(row.created_ms, |c| c as i64);
    let time = Utc
        .timestamp_millis_opt(created)
        .single()
        .ok_or("message time out of range")?;
    let reported = reported_cost(data.cost)?;
    Ok(Some(ParsedUsage {
        time,
        model: data.model_id.unwrap_or_else(|| "unknown".into()),
        rank: rank_by_total(&tokens),
        tokens,
        session_id: Some(row.session.clone()),
        project: data.path.and_then(|p| p.cwd).filter(|c| !c.is_empty()),
        dedup_key: format!("opencode:{}", row.id),
        reported_cost_nanos: reported,
    }))
}

impl Importer for OpenCodeImporter {
    fn format(&self) -> &'static str {
        "opencode-sqlite"
    }

    fn discover(&self, root: &Path) -> Result<Vec<PathBuf>> {
        walk(root, &|p| file_name(p) == "opencode.db")
    }

    fn changed(&self, file: &Path, state: &ImportState) -> bool {
        let Ok(now) = FileStat::of(file) else {
            return true;
        };
        !now.matches(state) || state.context.as_deref() != Some(COMPLETE) || wal_len(file) > 0
    }

    fn scan(
        &self,
        path: &Path,
        previous: Option<&ImportState>,
        cx: &ScanContext<'_>,
    ) -> Result<FileReport> {
        let mut report = FileReport::new(path);
        let stat = FileStat::of(path).map_err(|e| Error::io("inspecting", path, e))?;
        let same_file = previous.is_some_and(|p| {
            p.format == self.format()
                && p.identity.dev == stat.dev
                && p.identity.inode == stat.inode
        });
        report.restarted = previous.is_some() && !same_file;
        let start = if same_file {
            previous.map_or(0, |p| p.offset)
        } else {
            0
        };
        let state = |cursor: u64, done: bool| ImportState {
            path: path_key(path),
            format: self.format().to_string(),
            identity: FileIdentity {
                dev: stat.dev,
                inode: stat.inode,
                head_len: 0,
                head_hash: 0,
            },
            size: stat.size,
            mtime_ns: stat.mtime_ns,
            offset: cursor,
            line: 0,
            context: done.then(|| COMPLETE.to_string()),
            updated_at: Utc::now(),
        };

        let batch_lines = cx.options().batch_lines.max(1);
        let attempt =
            |immutable: bool, report: &mut FileReport| -> std::result::Result<(), ReadError> {
                let conn = open(path, immutable).map_err(ReadError::Db)?;
                let mut cursor = start;
                let mut records = Vec::new();
                let mut in_batch = 0usize;
                read_rows(&conn, i64::try_from(start).unwrap_or(i64::MAX), |row| {
                    report.lines += 1;
                    let parsed = row.and_then(|row| {
                        cursor = cursor.max(row.updated_ms.max(0) as u64);
                        parse(&row).map_err(|why| (row.id, why))
                    });
                    match parsed {
                        Ok(Some(r)) => records.push(r),
                        Ok(None) => report.ignored += 1,
                        Err((id, reason)) => {
                            let line = report.lines;
                            report.malformed(line, format!("message {id}: {reason}"));
                        }
                    }
                    in_batch += 1;
                    if in_batch >= batch_lines {
                        cx.commit(
                            path,
                            std::mem::take(&mut records),
                            &state(cursor, false),
                            report,
                        )?;
                        in_batch = 0;
                    }
                    Ok(())
                })?;
                cx.commit(path, records, &state(cursor, true), report)
                    .map_err(ReadError::Other)
            };
        match attempt(false, &mut report) {
            Ok(()) => Ok(report),
            Err(ReadError::Other(e)) => Err(e),
            Err(ReadError::Db(first)) => {
                let mut retry = FileReport::new(path);
                retry.restarted = report.restarted;
                match attempt(true, &mut retry) {
                    Ok(()) => Ok(retry),
                    Err(ReadError::Other(e)) => Err(e),
                    Err(ReadError::Db(_)) => Err(db_error(path, first)),
                }
            }
        }
    }
}
