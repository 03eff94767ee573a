//! Probes that need no facade: file modes, the ledger's integrity, a server on a port.

use std::path::Path;
use std::time::Duration;

/// A file or directory's mode when group or others can use it (Unix), `None` when it is
/// private or missing.
pub(crate) fn loose_mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// What `PRAGMA integrity_check` and the rollups say about a ledger file.
#[derive(Debug)]
pub(crate) struct LedgerHealth {
    /// Its size in bytes (with its WAL).
    pub(crate) bytes: u64,
    /// `None` when intact, else what SQLite found (its first lines).
    pub(crate) damage: Option<String>,
    /// Models with events no price covered, with how many, most first (at most 10).
    pub(crate) unpriced: Vec<(String, u64)>,
}

/// Opens the ledger read-only and checks it. `Err`: it cannot be opened as a database.
pub(crate) fn ledger_health(path: &Path) -> Result<LedgerHealth, String> {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let bytes = size(path) + size(Path::new(&wal));
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
    let lines: Vec<String> = db
        .prepare("PRAGMA integrity_check(5)")
        .and_then(|mut st| {
            st.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| e.to_string())?;
    let damage = (lines != ["ok"]).then(|| lines.join("; "));
    // The 15-minute rollup holds events and priced events per model (usage/schema.rs).
    let unpriced = db
        .prepare(
            "SELECT model, SUM(events - priced) AS n FROM usage_rollup GROUP BY model \
             HAVING n > 0 ORDER BY n DESC, model LIMIT 10",
        )
        .and_then(|mut st| {
            st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map(|rows| {
            rows.into_iter()
                .map(|(m, n)| (m, n.max(0) as u64))
                .collect()
        })
        .unwrap_or_default();
    Ok(LedgerHealth {
        bytes,
        damage,
        unpriced,
    })
}

/// Whether a ringlet server answers `GET /api/health` at `addr` (`None`: nothing listens;
/// `Some(false)`: something else does).
pub(crate) fn server_answers(addr: &str) -> Option<bool> {
    let sock: std::net::SocketAddr = addr.parse().ok()?;
    std::net::TcpStream::connect_timeout(&sock, Duration::from_millis(300)).ok()?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .build()
        .into();
    let body = agent
        .get(format!("http://{addr}/api/health"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().with_config().limit(4096).read_to_string().ok());
    Some(body.is_some_and(|b| b.contains("\"ok\"")))
}
