//! The signed registry: agent and provider manifests, config scripts, profile templates, the
//! model catalogue and LiteLLM's prices, published as one signed index per commit and synced
//! into verified snapshots (docs/registry.md).
//!
//! `index.rs` is the index format, `verify.rs` the trust (the minisign key and checksums),
//! `fetch.rs` reading a registry (`file://`, `https://`, loopback `http://`) with limits,
//! `store.rs` the snapshots on this machine, `sync.rs` sync and pin. What a snapshot holds is
//! read between the user's files and the built-ins: `Catalogue::load` (agents, providers), the
//! config script lookup, and `PriceBook::load`.

mod fetch;
mod index;
mod store;
mod sync;
mod verify;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Result;
use crate::paths::Paths;

pub(crate) use index::valid_name as valid_file_name;
pub use index::{
    ArtifactKind, INDEX_FILE, INDEX_SCHEMA, RegistryArtifact, RegistryIndex, SIGNATURE_FILE,
};
pub use store::RegistryLock;
pub(crate) use store::{Store, snapshot_file, snapshot_folder};
pub use sync::{RegistrySyncReport, SyncOptions, SyncSource};
pub(crate) use verify::TrustedKey;
pub use verify::{BUILTIN_PUBLIC_KEY, KeyOrigin};

/// ringlet's own registry.
pub const DEFAULT_REGISTRY_URL: &str =
    "https://raw.githubusercontent.com/neul-labs/ringlet-registry/main/";
/// The channel synced unless another is configured.
pub const DEFAULT_CHANNEL: &str = "stable";
/// The age past which a snapshot is refreshed in the background, unless configured.
pub const DEFAULT_MAX_AGE_HOURS: u64 = 24;
/// A private registry's URL (`https://…` or `file://…`; `http://` only on loopback).
pub const REGISTRY_URL_ENV: &str = "RINGLET_REGISTRY_URL";
/// The channel, over `[registry] channel`.
pub const REGISTRY_CHANNEL_ENV: &str = "RINGLET_REGISTRY_CHANNEL";
/// A private registry's minisign public key, over `[registry] public-key`.
pub const REGISTRY_PUBLIC_KEY_ENV: &str = "RINGLET_REGISTRY_PUBLIC_KEY";

/// Where this machine's registry settings come from: config.toml's `[registry]`, then the
/// environment over it, then the defaults.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) url: String,
    pub(crate) channel: String,
    key_text: String,
    key_origin: KeyOrigin,
    max_age: Duration,
    pub(crate) auto_refresh: bool,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    pub(crate) fn resolve(config: &Config) -> Self {
        let r = &config.registry;
        let (key_text, key_origin) = match (env(REGISTRY_PUBLIC_KEY_ENV), &r.public_key) {
            (Some(k), _) => (k, KeyOrigin::Env),
            (None, Some(k)) => (k.clone(), KeyOrigin::Config),
            (None, None) => (BUILTIN_PUBLIC_KEY.to_string(), KeyOrigin::BuiltIn),
        };
        Self {
            url: env(REGISTRY_URL_ENV)
                .or_else(|| r.url.clone())
                .unwrap_or_else(|| DEFAULT_REGISTRY_URL.to_string()),
            channel: env(REGISTRY_CHANNEL_ENV)
                .or_else(|| r.channel.clone())
                .unwrap_or_else(|| DEFAULT_CHANNEL.to_string()),
            key_text,
            key_origin,
            max_age: Duration::from_secs(
                r.max_age_hours
                    .unwrap_or(DEFAULT_MAX_AGE_HOURS)
                    .saturating_mul(3600),
            ),
            auto_refresh: r.auto_refresh.unwrap_or(true),
        }
    }

    pub(crate) fn key(&self) -> Result<TrustedKey> {
        TrustedKey::parse(&self.key_text, self.key_origin)
    }

    pub(crate) fn is_stale(&self, since: DateTime<Utc>) -> bool {
        let age = Utc::now().signed_duration_since(since);
        age.to_std().is_ok_and(|age| age > self.max_age)
    }
}

/// `registry inspect`: the settings, the snapshot in use, and whether it still verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryStatus {
    /// The registry synced from (URL or directory).
    pub url: String,
    /// The channel.
    pub channel: String,
    /// Where the trusted public key came from.
    pub key: KeyOrigin,
    /// The snapshot directory root (`<cache>/registry`).
    pub dir: std::path::PathBuf,
    /// The commit in use (`None`: never synced; built-ins and user files only).
    pub commit: Option<String>,
    /// Its serial.
    pub serial: Option<u64>,
    /// When it was published.
    pub published: Option<String>,
    /// When it was synced.
    pub synced_at: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub age_seconds: Option<u64>,
    /// Older than the refresh age (`[registry] max-age-hours`).
    pub stale: bool,
    /// The pinned commit, if any.
    pub pinned: Option<String>,
    /// The snapshot's signature and every checksum verified just now.
    pub verified: bool,
    /// Why it did not verify.
    pub problem: Option<String>,
    /// Its artifacts.
    pub artifacts: Vec<RegistryArtifact>,
    /// Every snapshot on this machine.
    pub snapshots: Vec<String>,
}

/// Reads the state of the registry of `paths` and verifies the snapshot in use.
pub(crate) fn status(paths: &Paths, settings: &Settings) -> Result<RegistryStatus> {
    let store = Store::new(paths);
    let lock = store.read_lock()?;
    let commit = store.current();
    let mut out = RegistryStatus {
        url: settings.url.clone(),
        channel: lock
            .as_ref()
            .map(|l| l.channel.clone())
            .unwrap_or_else(|| settings.channel.clone()),
        key: settings.key_origin,
        dir: store.root().to_path_buf(),
        commit: commit.clone(),
        serial: None,
        published: None,
        synced_at: lock.as_ref().map(|l| l.synced_at),
        age_seconds: lock.as_ref().and_then(|l| {
            Utc::now()
                .signed_duration_since(l.synced_at)
                .to_std()
                .ok()
                .map(|d| d.as_secs())
        }),
        stale: lock
            .as_ref()
            .is_some_and(|l| settings.is_stale(l.synced_at)),
        pinned: lock.as_ref().and_then(|l| l.pinned.clone()),
        verified: false,
        problem: None,
        artifacts: Vec::new(),
        snapshots: store.snapshots(),
    };
    if let Some(id) = &commit {
        match settings.key().and_then(|key| store.verify(id, &key)) {
            Ok(index) => {
                out.verified = true;
                out.serial = Some(index.serial);
                out.published = Some(index.published);
                out.artifacts = index.artifacts;
            }
            Err(e) => out.problem = Some(e.to_string()),
        }
    }
    Ok(out)
}

/// Whether a background refresh is due: the registry was synced before (a machine that never
/// used it is not sent to the network), no pin holds it, auto-refresh is on, and neither the
/// last sync nor the last attempt is younger than the refresh age. Reads two small files.
pub(crate) fn refresh_due(paths: &Paths, settings: &Settings) -> bool {
    if !settings.auto_refresh {
        return false;
    }
    let store = Store::new(paths);
    let Ok(Some(lock)) = store.read_lock() else {
        return false;
    };
    if lock.pinned.is_some() || !settings.is_stale(lock.synced_at) {
        return false;
    }
    let attempted = std::fs::metadata(store.attempt_path())
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from);
    attempted.is_none_or(|t| settings.is_stale(t))
}

pub(crate) use sync::{pin, sync};
