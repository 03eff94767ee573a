//! Detection: is each agent installed, where, and which version. Probes run in parallel with a
//! timeout each, and versions are cached by binary path, size and mtime so a listing does not
//! start six Node processes every time.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Agent;

/// How long one `--version` probe may take before it is abandoned. Node-based agents take
/// about a second on a cold cache, and several seconds on a loaded machine.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// How far a detection has got, for a frontend that shows progress: the first listing starts
/// every agent's `--version` (seconds for Node-based agents); later ones are served from the
/// cache and report nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DetectProgress<'a> {
    /// The agent's version was not cached: its `--version` probe started.
    Probing {
        /// The agent id.
        agent: &'a str,
    },
    /// That probe ended: answered, failed or timed out (see [`Detection::error`]).
    Probed {
        /// The agent id.
        agent: &'a str,
    },
}

/// What detection found out about one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The agent id.
    pub agent: String,
    /// Whether its binary was found.
    pub installed: bool,
    /// The resolved binary path.
    pub path: Option<PathBuf>,
    /// The first line the version flag printed, when it answered in time.
    pub version: Option<String>,
    /// When this was checked (or, for a cached version, when it was first probed).
    pub checked_at: DateTime<Utc>,
    /// Why the version could not be read, when it could not.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cache {
    entries: BTreeMap<PathBuf, CacheEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    size: u64,
    mtime_ns: u128,
    version: String,
    checked_at: DateTime<Utc>,
}

fn fingerprint(path: &Path) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((meta.len(), mtime))
}

/// Detects every agent in parallel. `cache_file` keeps versions between calls; it is refreshed
/// when a binary changes. `path_env` is the PATH to search.
pub fn detect_all(
    agents: &[Arc<dyn Agent>],
    path_env: Option<std::ffi::OsString>,
    cache_file: &Path,
) -> Vec<Detection> {
    detect_all_with_progress(agents, path_env, cache_file, &|_| {})
}

/// [`detect_all`], telling `progress` (from the probing threads) when each `--version` probe
/// starts and ends.
pub fn detect_all_with_progress(
    agents: &[Arc<dyn Agent>],
    path_env: Option<std::ffi::OsString>,
    cache_file: &Path,
    progress: &(dyn Fn(DetectProgress<'_>) + Sync),
) -> Vec<Detection> {
    // A corrupt or missing cache only costs a re-probe; never fail a listing over it.
    let cache: Cache = std::fs::read(cache_file)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let results: Vec<(Detection, Option<(PathBuf, CacheEntry)>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = agents
            .iter()
            .map(|agent| {
                let path_env = path_env.clone();
                let cache = &cache;
                scope.spawn(move || detect_one(agent.as_ref(), path_env, cache, progress))
            })
            .collect();
        handles
            .into_iter()
            .zip(agents)
            .map(|(h, agent)| {
                h.join().unwrap_or_else(|_| {
                    (
                        Detection {
                            agent: agent.id().to_string(),
                            installed: false,
                            path: None,
                            version: None,
                            checked_at: Utc::now(),
                            error: Some("detection thread panicked".into()),
                        },
                        None,
                    )
                })
            })
            .collect()
    });
    let mut new_cache = cache.clone();
    let mut changed = false;
    for (_, entry) in &results {
        if let Some((path, entry)) = entry {
            new_cache.entries.insert(path.clone(), entry.clone());
            changed = true;
        }
    }
    if changed && let Ok(bytes) = serde_json::to_vec_pretty(&new_cache) {
        // Best effort: a read-only cache dir just means probing again next time.
        let _ = crate::fsio::write_atomic_volatile(cache_file, &bytes, None);
    }
    results.into_iter().map(|(d, _)| d).collect()
}

fn detect_one(
    agent: &dyn Agent,
    path_env: Option<std::ffi::OsString>,
    cache: &Cache,
    progress: &(dyn Fn(DetectProgress<'_>) + Sync),
) -> (Detection, Option<(PathBuf, CacheEntry)>) {
    let id = agent.id().to_string();
    let now = Utc::now();
    let Ok(path) = agent.locate(None, path_env) else {
        return (
            Detection {
                agent: id,
                installed: false,
                path: None,
                version: None,
                checked_at: now,
                error: None,
            },
            None,
        );
    };
    let fp = fingerprint(&path);
    if let (Some((size, mtime_ns)), Some(hit)) = (fp, cache.entries.get(&path))
        && hit.size == size
        && hit.mtime_ns == mtime_ns
    {
        return (
            Detection {
                agent: id,
                installed: true,
                path: Some(path),
                version: Some(hit.version.clone()),
                checked_at: hit.checked_at,
                error: None,
            },
            None,
        );
    }
    progress(DetectProgress::Probing { agent: &id });
    let probed = probe_version(&path, &agent.manifest().version_flag);
    progress(DetectProgress::Probed { agent: &id });
    match probed {
        Ok(version) => {
            let entry = fp.map(|(size, mtime_ns)| {
                (
                    path.clone(),
                    CacheEntry {
                        size,
                        mtime_ns,
                        version: version.clone(),
                        checked_at: now,
                    },
                )
            });
            (
                Detection {
                    agent: id,
                    installed: true,
                    path: Some(path),
                    version: Some(version),
                    checked_at: now,
                    error: None,
                },
                entry,
            )
        }
        Err(error) => (
            Detection {
                agent: id,
                installed: true,
                path: Some(path),
                version: None,
                checked_at: now,
                error: Some(error),
            },
            None,
        ),
    }
}

/// Runs `<binary> <flag>` with no stdin and returns the first non-empty output line.
fn probe_version(path: &Path, flag: &str) -> Result<String, String> {
    let mut child = Command::new(path)
        .arg(flag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", path.display()))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > PROBE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{} {flag}` did not answer within {}s",
                    path.display(),
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for {}: {e}", path.display())),
        }
    }
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    out.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .ok_or_else(|| format!("`{} {flag}` printed nothing", path.display()))
}
