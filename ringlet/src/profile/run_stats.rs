//! A profile's run counters (`total_runs`, `last_used`), kept in `profiles/<alias>/run-stats`
//! apart from `profile.toml`.
//!
//! Every launch bumps them, so they are written on the launch path. Replacing `profile.toml`
//! for that (write a temporary file, rename it over the old one) cost ≈ 120 µs at the median
//! and up to a millisecond on ext4, which flushes the data of a file renamed over another
//! (`auto_da_alloc`). This file is rewritten in place instead (one `pwrite`, ≈ 10 µs), under an
//! exclusive `flock` on the file itself; readers take a shared one, so they never see half a
//! write. A power cut in the middle of a write can leave it unreadable: it is bookkeeping, so
//! an unreadable file reads as "no runs recorded here" and the next run rewrites it.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

use super::ProfileMetadata;
use crate::error::{Error, Result};

/// The file's name inside the profile directory.
pub(super) const FILE: &str = "run-stats";

/// The counters as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RunStats {
    total_runs: u64,
    last_used: Option<DateTime<Utc>>,
}

impl RunStats {
    /// The counters a profile's metadata holds (those of a `profile.toml` written before the
    /// counters moved out of it).
    pub(super) fn of(metadata: &ProfileMetadata) -> Self {
        Self {
            total_runs: metadata.total_runs,
            last_used: metadata.last_used,
        }
    }

    /// Whether any run has been counted.
    pub(super) fn is_empty(&self) -> bool {
        self.total_runs == 0 && self.last_used.is_none()
    }

    /// Puts the counters into a profile's metadata.
    pub(super) fn apply(&self, metadata: &mut ProfileMetadata) {
        metadata.total_runs = self.total_runs;
        metadata.last_used = self.last_used;
    }

    /// One more run, started at `at`. `last_used` never goes back: runs that started earlier
    /// can be counted later.
    fn counted(self, at: DateTime<Utc>) -> Self {
        Self {
            total_runs: self.total_runs.saturating_add(1),
            last_used: Some(self.last_used.map_or(at, |prev| prev.max(at))),
        }
    }

    fn to_toml(self) -> String {
        let mut text = format!("total_runs = {}\n", self.total_runs);
        if let Some(t) = self.last_used {
            text.push_str(&format!(
                "last_used = \"{}\"\n",
                t.to_rfc3339_opts(SecondsFormat::Nanos, true)
            ));
        }
        text
    }

    /// The counters in a file's bytes: `None` for anything but UTF-8 text [`RunStats::parse`]
    /// accepts (a torn write included).
    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        std::str::from_utf8(bytes).ok().and_then(Self::parse)
    }

    /// Parses what [`RunStats::to_toml`] writes. It is read for every profile of a listing, so
    /// it is read by hand (a third of the cost of a TOML deserialiser); anything else, a torn
    /// write included, is `None`.
    fn parse(text: &str) -> Option<Self> {
        let (mut total_runs, mut last_used) = (None, None);
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (key, value) = line.split_once('=')?;
            match key.trim() {
                "total_runs" if total_runs.is_none() => {
                    total_runs = Some(value.trim().parse().ok()?);
                }
                "last_used" if last_used.is_none() => {
                    let quoted = value.trim().strip_prefix('"')?.strip_suffix('"')?;
                    last_used = Some(DateTime::parse_from_rfc3339(quoted).ok()?.to_utc());
                }
                _ => return None,
            }
        }
        Some(Self {
            total_runs: total_runs?,
            last_used,
        })
    }
}

/// The counters in `dir`'s run-stats file: `None` when there is no file (no run counted since
/// the counters moved here) or it cannot be read as counters.
pub(super) fn read(dir: &Path) -> Result<Option<RunStats>> {
    let path = dir.join(FILE);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("opening", &path, e)),
    };
    file.lock_shared()
        .map_err(|e| Error::io("locking", &path, e))?;
    // Into a buffer on the stack: read_to_string would first stat and seek the file to size
    // its String, two more system calls for every profile of a listing.
    let mut buf = [0u8; 256];
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("reading", &path, e)),
        }
    }
    // Longer than any counters ringlet writes, or not UTF-8 (torn by a crash): unreadable.
    if len == buf.len() {
        return Ok(None);
    }
    Ok(RunStats::from_bytes(&buf[..len]))
}

/// Counts one run in `dir`'s run-stats file, safely against concurrent runs. `legacy` gives the
/// counters to start from when the file does not exist yet (those in `profile.toml`); it is only
/// called then.
pub(super) fn count(
    dir: &Path,
    at: DateTime<Utc>,
    legacy: impl FnOnce() -> Result<RunStats>,
) -> Result<()> {
    let locked = Locked::open(dir)?;
    // Empty (new) or unreadable (torn by a crash): start from what profile.toml knows.
    let current = match locked.stats {
        Some(stats) => stats,
        None => legacy()?,
    };
    locked.write(current.counted(at))
}

/// Writes `stats` into `dir`'s run-stats file unless it already holds counters: carries the
/// counters of a `profile.toml` written before they moved out of it.
pub(super) fn carry_over(dir: &Path, stats: RunStats) -> Result<()> {
    if stats.is_empty() {
        return Ok(());
    }
    let locked = Locked::open(dir)?;
    match locked.stats {
        Some(_) => Ok(()),
        None => locked.write(stats),
    }
}

/// The run-stats file, created if missing, open for writing under an exclusive lock, with what
/// it held.
struct Locked {
    file: File,
    path: PathBuf,
    stats: Option<RunStats>,
    len: usize,
}

impl Locked {
    fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        let mut file = crate::fsio::open_locked(&path)?;
        let mut old = Vec::new();
        file.read_to_end(&mut old)
            .map_err(|e| Error::io("reading", &path, e))?;
        let stats = RunStats::from_bytes(&old);
        Ok(Self {
            file,
            path,
            stats,
            len: old.len(),
        })
    }

    /// Overwrites the file from offset 0 and trims what the old text had beyond the new one.
    /// No fsync: losing the last count to a power cut is acceptable, a disk flush on every
    /// launch is not.
    fn write(mut self, stats: RunStats) -> Result<()> {
        use std::io::{Seek, SeekFrom, Write};
        let text = stats.to_toml();
        self.file
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .map_err(|e| Error::io("writing", &self.path, e))?;
        if self.len > text.len() {
            self.file
                .set_len(text.len() as u64)
                .map_err(|e| Error::io("writing", &self.path, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("timestamp")
    }

    #[test]
    fn counts_from_legacy_then_from_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(read(dir.path()).expect("read"), None);
        let legacy = RunStats {
            total_runs: 9,
            last_used: Some(at("2026-01-01T00:00:00Z")),
        };
        count(dir.path(), at("2026-02-01T00:00:00Z"), || Ok(legacy)).expect("count");
        count(dir.path(), at("2026-01-15T00:00:00Z"), || {
            panic!("legacy is only read while the file is empty")
        })
        .expect("count");
        let stats = read(dir.path()).expect("read").expect("stats");
        assert_eq!(stats.total_runs, 11);
        // A run that started earlier but was counted later does not move last_used back.
        assert_eq!(stats.last_used, Some(at("2026-02-01T00:00:00Z")));
    }

    #[test]
    fn a_torn_file_reads_as_none_and_is_rewritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), b"total_runs = 1\xff\xfe garbage").expect("write");
        assert_eq!(read(dir.path()).expect("read"), None);
        count(dir.path(), at("2026-02-01T00:00:00Z"), || {
            Ok(RunStats {
                total_runs: 4,
                last_used: None,
            })
        })
        .expect("count");
        let text = std::fs::read_to_string(dir.path().join(FILE)).expect("read");
        assert_eq!(
            text,
            "total_runs = 5\nlast_used = \"2026-02-01T00:00:00.000000000Z\"\n"
        );
    }

    #[test]
    fn parses_what_it_writes_and_nothing_else() {
        let stats = RunStats {
            total_runs: 12,
            last_used: Some(at("2026-02-01T10:11:12.5Z")),
        };
        assert_eq!(RunStats::parse(&stats.to_toml()), Some(stats));
        let never = RunStats {
            total_runs: 0,
            last_used: None,
        };
        assert_eq!(RunStats::parse(&never.to_toml()), Some(never));
        for bad in [
            "",
            "last_used = \"2026-02-01T10:11:12Z\"\n",
            "total_runs = -1\n",
            "total_runs = 1\ntotal_runs = 2\n",
            "total_runs = 1\nother = 2\n",
            "total_runs = 1\nlast_used = 2026-02-01T10:11:12Z\n",
            "total_runs = 1\nlast_used = \"2026-02-01T10:1\n",
            "total_runs = 1\nlast_used",
        ] {
            assert_eq!(RunStats::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_longer_old_text_is_trimmed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let long = format!("total_runs = 1\n{}\n", " ".repeat(200));
        std::fs::write(dir.path().join(FILE), long).expect("write");
        count(dir.path(), at("2026-02-01T00:00:00Z"), || unreachable!()).expect("count");
        let stats = read(dir.path()).expect("read").expect("stats");
        assert_eq!(stats.total_runs, 2);
        let len = std::fs::metadata(dir.path().join(FILE))
            .expect("stat")
            .len();
        assert!(len < 100, "{len}");
    }

    #[test]
    fn carry_over_never_replaces_counted_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let old = RunStats {
            total_runs: 3,
            last_used: Some(at("2026-01-01T00:00:00Z")),
        };
        carry_over(dir.path(), old).expect("carry");
        assert_eq!(read(dir.path()).expect("read"), Some(old));
        carry_over(
            dir.path(),
            RunStats {
                total_runs: 1,
                last_used: None,
            },
        )
        .expect("carry");
        assert_eq!(read(dir.path()).expect("read"), Some(old));
    }
}
