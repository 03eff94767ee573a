//! `registry sync` and `registry pin`: fetch, verify, install, switch — or refuse and keep the
//! snapshot in use.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::registry::Settings;
use crate::registry::fetch::{
    MAX_ARTIFACT_BYTES, MAX_INDEX_BYTES, MAX_SIGNATURE_BYTES, MAX_TOTAL_BYTES, Remote,
};
use crate::registry::index::{INDEX_FILE, RegistryIndex, SIGNATURE_FILE, valid_name};
use crate::registry::store::{RegistryLock, Store};
use crate::registry::verify::{TrustedKey, sha256_hex};

/// What `registry sync` may do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncOptions {
    /// Ask the registry even when the snapshot is younger than the refresh age.
    #[serde(default)]
    pub force: bool,
    /// Never touch the network: report the snapshot in use.
    #[serde(default)]
    pub offline: bool,
    /// This channel instead of the configured one.
    #[serde(default)]
    pub channel: Option<String>,
}

/// Where a sync's answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SyncSource {
    /// The registry was asked.
    Network,
    /// The snapshot was young enough; nothing was fetched.
    Cache,
    /// `--offline`: the snapshot in use, as it is.
    Offline,
    /// A pin holds the snapshot; the channel was not followed.
    Pinned,
}

/// What a sync or pin did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrySyncReport {
    /// The commit in use now (`None`: no snapshot yet, offline).
    pub commit: Option<String>,
    /// The commit in use before.
    pub previous: Option<String>,
    /// The channel.
    pub channel: String,
    /// The commit's serial.
    pub serial: Option<u64>,
    /// The registry (URL or directory).
    pub url: String,
    /// Where the answer came from.
    pub source: SyncSource,
    /// Artifacts downloaded.
    pub downloaded: usize,
    /// Artifacts reused from the previous snapshot (same checksum).
    pub reused: usize,
    /// Bytes downloaded.
    pub bytes: u64,
    /// The pinned commit, if any.
    pub pinned: Option<String>,
    /// When the snapshot was synced.
    pub synced_at: Option<DateTime<Utc>>,
}

/// A verified index and its exact bytes and signature, as fetched.
struct Fetched {
    index: RegistryIndex,
    bytes: Vec<u8>,
    sig: String,
}

/// Fetches `<dir>registry.json` and its signature and verifies them.
fn fetch_index(remote: &Remote, dir: &str, key: &TrustedKey) -> Result<Fetched> {
    let rel = format!("{dir}{INDEX_FILE}");
    let bytes = remote.get(&rel, MAX_INDEX_BYTES)?;
    let sig = remote.get(&format!("{dir}{SIGNATURE_FILE}"), MAX_SIGNATURE_BYTES)?;
    let sig = String::from_utf8(sig).map_err(|_| Error::Registry {
        message: format!("the signature of {rel} is not text"),
    })?;
    let origin = format!("{}{rel}", remote.describe());
    key.verify(&bytes, &sig, &origin)?;
    let index = RegistryIndex::parse(&bytes, &origin)?;
    Ok(Fetched { index, bytes, sig })
}

/// Counts of one install.
#[derive(Default)]
struct Installed {
    downloaded: usize,
    reused: usize,
    bytes: u64,
}

/// Makes `commits/<id>/` hold the fetched commit: reuses a snapshot of it that verifies, else
/// builds one in a staging directory (artifacts with a known checksum copied from the snapshot
/// in use, the rest downloaded from `objects/<sha256>` and checked) renamed into place.
fn install(store: &Store, remote: &Remote, f: &Fetched, key: &TrustedKey) -> Result<Installed> {
    let id = &f.index.commit;
    let target = store.commit_dir(id);
    if target.is_dir() && store.verify(id, key).is_ok() {
        return Ok(Installed::default());
    }
    let staging = store
        .root()
        .join("commits")
        .join(format!(".staging-{id}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = fill(store, remote, f, &staging).and_then(|done| {
        if target.exists() {
            std::fs::remove_dir_all(&target).map_err(|e| Error::io("removing", &target, e))?;
        }
        std::fs::rename(&staging, &target).map_err(|e| Error::io("renaming", &staging, e))?;
        Ok(done)
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

fn fill(store: &Store, remote: &Remote, f: &Fetched, staging: &Path) -> Result<Installed> {
    let mut done = Installed::default();
    let previous = store.current_dir();
    for a in &f.index.artifacts {
        let reused = previous
            .as_ref()
            .and_then(|dir| std::fs::read(dir.join(&a.path)).ok())
            .filter(|data| data.len() as u64 == a.size && sha256_hex(data) == a.sha256);
        let data = match reused {
            Some(data) => {
                done.reused += 1;
                data
            }
            None => {
                if a.size > MAX_ARTIFACT_BYTES {
                    return Err(Error::Registry {
                        message: format!(
                            "artifact {} is {} bytes, more than the {MAX_ARTIFACT_BYTES} ringlet accepts",
                            a.path, a.size
                        ),
                    });
                }
                if done.bytes + a.size > MAX_TOTAL_BYTES {
                    return Err(Error::Registry {
                        message: format!(
                            "commit {} would download more than {MAX_TOTAL_BYTES} bytes; refusing it",
                            f.index.commit
                        ),
                    });
                }
                let data = remote.get(&format!("objects/{}", a.sha256), a.size)?;
                let sum = sha256_hex(&data);
                if sum != a.sha256 || data.len() as u64 != a.size {
                    return Err(Error::Registry {
                        message: format!(
                            "artifact {} from {} does not match the signed index (sha256 {sum}, {} bytes; the index says {}, {} bytes): it was tampered with or damaged; refusing commit {}",
                            a.path,
                            remote.describe(),
                            data.len(),
                            a.sha256,
                            a.size,
                            f.index.commit
                        ),
                    });
                }
                done.downloaded += 1;
                done.bytes += a.size;
                data
            }
        };
        let path = staging.join(&a.path);
        crate::fsio::write_atomic_volatile(&path, &data, None)?;
    }
    crate::fsio::write_atomic(&staging.join(INDEX_FILE), &f.bytes, None)?;
    crate::fsio::write_atomic(&staging.join(SIGNATURE_FILE), f.sig.as_bytes(), None)?;
    Ok(done)
}

fn report(
    lock: Option<&RegistryLock>,
    previous: Option<String>,
    channel: String,
    url: String,
    source: SyncSource,
) -> RegistrySyncReport {
    RegistrySyncReport {
        commit: lock.map(|l| l.commit.clone()),
        previous,
        channel,
        serial: lock.map(|l| l.serial),
        url,
        source,
        downloaded: 0,
        reused: 0,
        bytes: 0,
        pinned: lock.and_then(|l| l.pinned.clone()),
        synced_at: lock.map(|l| l.synced_at),
    }
}

/// `registry sync`.
pub(crate) fn sync(
    store: &Store,
    settings: &Settings,
    opts: &SyncOptions,
) -> Result<RegistrySyncReport> {
    let channel = match &opts.channel {
        Some(c) => {
            if !valid_name(c) {
                return Err(Error::InvalidInput(format!(
                    "channel {c:?} must be letters, digits, '-', '_' or '.'"
                )));
            }
            c.clone()
        }
        None => settings.channel.clone(),
    };
    let _guard = store.lock_exclusive()?;
    let lock = store.read_lock()?;
    let previous = store.current();
    if opts.offline {
        let lock = lock.filter(|_| previous.is_some());
        return Ok(report(
            lock.as_ref(),
            previous,
            channel,
            settings.url.clone(),
            SyncSource::Offline,
        ));
    }
    if let Some(l) = &lock
        && let Some(pin) = &l.pinned
    {
        if previous.as_deref() != Some(pin.as_str()) {
            return Err(Error::Registry {
                message: format!(
                    "pinned to {pin}, whose snapshot is missing; run `ringlet registry pin {pin}` again or `ringlet registry pin --unpin`"
                ),
            });
        }
        return Ok(report(
            Some(l),
            previous,
            l.channel.clone(),
            l.url.clone(),
            SyncSource::Pinned,
        ));
    }
    if !opts.force
        && let Some(l) = &lock
        && previous.as_deref() == Some(l.commit.as_str())
        && l.channel == channel
        && l.url == settings.url
        && !settings.is_stale(l.synced_at)
    {
        return Ok(report(
            Some(l),
            previous,
            channel,
            settings.url.clone(),
            SyncSource::Cache,
        ));
    }
    // The attempt is recorded first: a registry that fails is not asked again by every command.
    let _ = crate::fsio::write_atomic_volatile(&store.attempt_path(), b"", None);
    let remote = Remote::parse(&settings.url)?;
    let key = settings.key()?;
    let keeping = || match &previous {
        Some(id) => format!("snapshot {id} stays in use"),
        None => "no snapshot is in use".to_string(),
    };
    let fetched =
        fetch_index(&remote, &format!("{channel}/"), &key).map_err(|e| keep(e, &keeping()))?;
    if fetched.index.channel != channel {
        return Err(Error::Registry {
            message: format!(
                "{} answered for channel {channel} with an index signed for channel {}; refusing it; {}",
                remote.describe(),
                fetched.index.channel,
                keeping()
            ),
        });
    }
    let mut highest = lock
        .as_ref()
        .map(|l| l.highest_serial.clone())
        .unwrap_or_default();
    let floor = highest.get(&channel).copied().unwrap_or(0);
    if fetched.index.serial < floor {
        return Err(Error::Registry {
            message: format!(
                "{} offers commit {} (serial {}) on channel {channel}, older than serial {floor} already accepted: a rollback (an old index replayed, or a stale mirror); refusing it; {}",
                remote.describe(),
                fetched.index.commit,
                fetched.index.serial,
                keeping()
            ),
        });
    }
    let done = install(store, &remote, &fetched, &key).map_err(|e| keep(e, &keeping()))?;
    store.switch(&fetched.index.commit)?;
    highest.insert(channel.clone(), fetched.index.serial.max(floor));
    let lock = RegistryLock {
        commit: fetched.index.commit.clone(),
        channel: channel.clone(),
        serial: fetched.index.serial,
        url: settings.url.clone(),
        synced_at: Utc::now(),
        pinned: None,
        highest_serial: highest,
    };
    store.write_lock(&lock)?;
    store.prune(&[lock.commit.as_str()]);
    let mut out = report(
        Some(&lock),
        previous,
        channel,
        settings.url.clone(),
        SyncSource::Network,
    );
    out.downloaded = done.downloaded;
    out.reused = done.reused;
    out.bytes = done.bytes;
    Ok(out)
}

/// Adds what happens to the snapshot in use to a refusal.
fn keep(e: Error, keeping: &str) -> Error {
    match e {
        Error::Registry { message } => Error::Registry {
            message: format!("{message}; {keeping}"),
        },
        Error::Download { url, message } => Error::Download {
            url,
            message: format!("{message}; {keeping}"),
        },
        other => other,
    }
}

/// `registry pin COMMIT` (`None`: unpin, so syncs follow the channel again).
pub(crate) fn pin(
    store: &Store,
    settings: &Settings,
    commit: Option<&str>,
) -> Result<RegistrySyncReport> {
    let _guard = store.lock_exclusive()?;
    let lock = store.read_lock()?;
    let previous = store.current();
    let Some(commit) = commit else {
        let Some(mut lock) = lock else {
            return Err(Error::Registry {
                message: "nothing to unpin: the registry was never synced".into(),
            });
        };
        lock.pinned = None;
        // Due at once: the next sync (or background refresh) follows the channel.
        lock.synced_at = DateTime::<Utc>::UNIX_EPOCH;
        store.write_lock(&lock)?;
        let channel = lock.channel.clone();
        let url = lock.url.clone();
        return Ok(report(
            Some(&lock),
            previous,
            channel,
            url,
            SyncSource::Pinned,
        ));
    };
    if !valid_name(commit) {
        return Err(Error::InvalidInput(format!(
            "commit {commit:?} must be letters, digits, '-', '_' or '.'"
        )));
    }
    let key = settings.key()?;
    let mut done = Installed::default();
    let index = match store.verify(commit, &key) {
        Ok(index) => index,
        Err(_) => {
            let remote = Remote::parse(&settings.url)?;
            let fetched = fetch_index(&remote, &format!("commits/{commit}/"), &key)?;
            if fetched.index.commit != commit {
                return Err(Error::Registry {
                    message: format!(
                        "{} answered for commit {commit} with commit {}; refusing it",
                        remote.describe(),
                        fetched.index.commit
                    ),
                });
            }
            done = install(store, &remote, &fetched, &key)?;
            fetched.index
        }
    };
    store.switch(commit)?;
    let mut highest: BTreeMap<String, u64> = lock
        .as_ref()
        .map(|l| l.highest_serial.clone())
        .unwrap_or_default();
    let floor = highest.entry(index.channel.clone()).or_insert(0);
    *floor = (*floor).max(index.serial);
    let lock = RegistryLock {
        commit: commit.to_string(),
        channel: index.channel.clone(),
        serial: index.serial,
        url: settings.url.clone(),
        synced_at: Utc::now(),
        pinned: Some(commit.to_string()),
        highest_serial: highest,
    };
    store.write_lock(&lock)?;
    store.prune(&[commit]);
    let mut out = report(
        Some(&lock),
        previous,
        index.channel,
        settings.url.clone(),
        SyncSource::Pinned,
    );
    out.downloaded = done.downloaded;
    out.reused = done.reused;
    out.bytes = done.bytes;
    Ok(out)
}
