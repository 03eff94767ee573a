//! The once-only ledger behind `cost-threshold` and `daily-rollup`: a SQLite table of fired
//! keys (`<data>/hooks-state.db`). A process fires a scheduled hook only if its
//! `INSERT OR IGNORE` of the key inserted the row, which SQLite serialises across processes —
//! so concurrent ringlet invocations fire each key exactly once. A hook whose action then
//! fails is not retried (the alert is at most once, never twice).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use crate::error::{Error, Result};

/// The ledger's file name in the data dir.
pub const STATE_FILE: &str = "hooks-state.db";

/// Keys of scheduled hooks that have fired.
#[derive(Debug)]
pub struct FiredLedger {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn fail(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::HookState {
        path: path.to_path_buf(),
        message: format!(
            "{e}; if the file is damaged, delete it (scheduled hooks may then fire again for the current period)"
        ),
    }
}

impl FiredLedger {
    /// Opens (creating if needed) the ledger at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let conn = Connection::open(&path).map_err(|e| fail(&path, e))?;
        // Other ringlet processes may hold the write lock for a moment.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail(&path, e))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS fired (
                 key TEXT PRIMARY KEY NOT NULL,
                 fired_at TEXT NOT NULL,
                 pid INTEGER NOT NULL
             );",
        )
        .map_err(|e| fail(&path, e))?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// A private in-memory ledger (tests).
    pub fn open_in_memory() -> Result<Self> {
        Self::open(":memory:")
    }

    /// Claims `key`: true for exactly one caller across all processes, false for every other.
    pub fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<bool> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let inserted = conn
            .execute(
                "INSERT OR IGNORE INTO fired (key, fired_at, pid) VALUES (?1, ?2, ?3)",
                params![key, now.to_rfc3339(), std::process::id()],
            )
            .map_err(|e| fail(&self.path, e))?;
        Ok(inserted == 1)
    }

    /// Whether `key` has fired.
    pub fn has_fired(&self, key: &str) -> Result<bool> {
        let conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        conn.query_row("SELECT 1 FROM fired WHERE key = ?1", [key], |_| Ok(()))
            .map(|()| true)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(false),
                e => Err(fail(&self.path, e)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_claimed_once_across_connections_and_threads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STATE_FILE);
        let now = Utc::now();
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let path = path.clone();
                    s.spawn(move || {
                        let ledger = FiredLedger::open(&path).expect("opens");
                        usize::from(
                            ledger
                                .claim("daily-rollup|h1|2026-05-02", now)
                                .expect("claims"),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        assert_eq!(winners, 1);
        let ledger = FiredLedger::open(&path).expect("opens");
        assert!(
            ledger
                .has_fired("daily-rollup|h1|2026-05-02")
                .expect("reads")
        );
        assert!(
            !ledger
                .has_fired("daily-rollup|h1|2026-05-03")
                .expect("reads")
        );
        assert!(
            ledger
                .claim("daily-rollup|h1|2026-05-03", now)
                .expect("claims")
        );
    }
}
