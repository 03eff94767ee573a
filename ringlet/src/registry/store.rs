//! The registry snapshots on this machine: `<cache>/registry/` holds `commits/<id>/` (one
//! verified snapshot per commit), `current` (the id in use, replaced atomically) and
//! `registry.lock` (commit, channel, time, pin, and the highest serial accepted per channel).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::Paths;
use crate::registry::index::{INDEX_FILE, RegistryIndex, SIGNATURE_FILE, valid_name};
use crate::registry::verify::{TrustedKey, sha256_hex};

/// How many snapshots are kept besides the current and the pinned one: a process that read
/// `current` just before a switch still finds its files.
const KEEP_PREVIOUS: usize = 2;

/// `registry.lock`: what the last sync or pin settled on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RegistryLock {
    /// The commit in use.
    pub commit: String,
    /// Its channel.
    pub channel: String,
    /// Its serial.
    pub serial: u64,
    /// The registry it came from (URL or directory).
    pub url: String,
    /// When it was last synced or confirmed up to date.
    pub synced_at: DateTime<Utc>,
    /// The commit `registry pin` holds this machine at; syncs leave it in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<String>,
    /// The highest serial accepted per channel: an index below it is a rollback and refused.
    #[serde(default)]
    pub highest_serial: BTreeMap<String, u64>,
}

/// The registry directory of one ringlet home.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    root: PathBuf,
}

impl Store {
    pub(crate) fn new(paths: &Paths) -> Self {
        Self {
            root: paths.cache_dir().join("registry"),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    fn commits(&self) -> PathBuf {
        self.root.join("commits")
    }

    pub(crate) fn commit_dir(&self, id: &str) -> PathBuf {
        self.commits().join(id)
    }

    fn lock_path(&self) -> PathBuf {
        self.root.join("registry.lock")
    }

    /// The file a sync records its attempts in (its time only), so a registry that cannot be
    /// reached is not retried by every command.
    pub(crate) fn attempt_path(&self) -> PathBuf {
        self.root.join("last-attempt")
    }

    /// Held while a sync or pin changes the store: one at a time.
    pub(crate) fn lock_exclusive(&self) -> Result<std::fs::File> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io("creating", &self.root, e))?;
        crate::fsio::open_locked(&self.root.join(".sync.lock"))
    }

    /// The commit in use, when there is a snapshot.
    pub(crate) fn current(&self) -> Option<String> {
        let id = std::fs::read_to_string(self.root.join("current")).ok()?;
        let id = id.trim();
        (valid_name(id) && self.commit_dir(id).is_dir()).then(|| id.to_string())
    }

    /// The snapshot directory in use, when there is one.
    pub(crate) fn current_dir(&self) -> Option<PathBuf> {
        self.current().map(|id| self.commit_dir(&id))
    }

    /// Makes `id` the snapshot in use: one atomic rename, so a reader sees the old or the new.
    pub(crate) fn switch(&self, id: &str) -> Result<()> {
        crate::fsio::write_atomic(&self.root.join("current"), id.as_bytes(), None)
    }

    pub(crate) fn read_lock(&self) -> Result<Option<RegistryLock>> {
        let path = self.lock_path();
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| Error::Parse {
                    path,
                    line: None,
                    message: format!("{e}; delete it and run `ringlet registry sync`"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("reading", path, e)),
        }
    }

    pub(crate) fn write_lock(&self, lock: &RegistryLock) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(lock).map_err(|e| Error::InvalidInput(e.to_string()))?;
        crate::fsio::write_atomic(&self.lock_path(), &json, None)
    }

    /// The commits with a snapshot here, sorted.
    pub(crate) fn snapshots(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.commits())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|id| valid_name(id))
            .collect();
        ids.sort();
        ids
    }

    /// Reads snapshot `id` and checks it whole: the index's signature with `key`, and every
    /// artifact's size and checksum.
    pub(crate) fn verify(&self, id: &str, key: &TrustedKey) -> Result<RegistryIndex> {
        let dir = self.commit_dir(id);
        let index_path = dir.join(INDEX_FILE);
        let bytes = std::fs::read(&index_path).map_err(|e| Error::io("reading", &index_path, e))?;
        let sig_path = dir.join(SIGNATURE_FILE);
        let sig = crate::fsio::read_to_string(&sig_path)?;
        let origin = index_path.display().to_string();
        key.verify(&bytes, &sig, &origin)?;
        let index = RegistryIndex::parse(&bytes, &origin)?;
        if index.commit != id {
            return Err(Error::Registry {
                message: format!("{origin} is commit {}, not {id}", index.commit),
            });
        }
        for a in &index.artifacts {
            let path = dir.join(&a.path);
            let data = std::fs::read(&path).map_err(|e| Error::io("reading", &path, e))?;
            let sum = sha256_hex(&data);
            if sum != a.sha256 || data.len() as u64 != a.size {
                return Err(Error::Registry {
                    message: format!(
                        "{} was changed after it was verified (sha256 {sum}, the signed index says {}); run `ringlet registry sync --force`",
                        path.display(),
                        a.sha256
                    ),
                });
            }
        }
        Ok(index)
    }

    /// Removes the snapshots that are neither in `keep` nor among the newest others.
    pub(crate) fn prune(&self, keep: &[&str]) {
        let mut others: Vec<(std::time::SystemTime, String)> = self
            .snapshots()
            .into_iter()
            .filter(|id| !keep.contains(&id.as_str()))
            .map(|id| {
                let t = std::fs::metadata(self.commit_dir(&id))
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                (t, id)
            })
            .collect();
        others.sort();
        others.reverse();
        for (_, id) in others.into_iter().skip(KEEP_PREVIOUS) {
            // Only space: a snapshot left behind is harmless.
            let _ = std::fs::remove_dir_all(self.commit_dir(&id));
        }
    }
}

/// The registry snapshot's copy of `<folder>/<file>`, when a snapshot is in use and has it.
/// What the catalogue, the config scripts and the price book read between the user's files
/// and the built-ins.
pub(crate) fn snapshot_file(paths: &Paths, folder: &str, file: &str) -> Option<PathBuf> {
    let path = Store::new(paths).current_dir()?.join(folder).join(file);
    path.is_file().then_some(path)
}

/// The registry snapshot's folder of one kind of artifact, when a snapshot is in use.
pub(crate) fn snapshot_folder(paths: &Paths, folder: &str) -> Option<PathBuf> {
    Store::new(paths).current_dir().map(|dir| dir.join(folder))
}
