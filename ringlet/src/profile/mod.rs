//! Profiles: agent + provider + key alias + its own HOME, as plain data, and the store that
//! keeps them.

mod file_store;
mod run_stats;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use file_store::FileProfileStore;

use crate::catalog::wire::WireShape;
use crate::error::Result;

/// One profile. Serialised as `profiles/<alias>/profile.toml`. It never holds a key, only the
/// alias the key is stored under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The profile's name; also its directory name.
    pub alias: String,
    /// The agent id.
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The provider endpoint name, when the provider has named endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// A base URL that overrides the endpoint's (required for the `custom` provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_url: Option<String>,
    /// The wire format the agent and provider talk, chosen at creation.
    pub shape: WireShape,
    /// The model, when the profile pins one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The alias of the key in the credential store (`<provider>/<key_alias>`); none for
    /// providers that need no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_alias: Option<String>,
    /// A binary path (or name) that overrides the agent manifest's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<PathBuf>,
    /// The directory the agent starts in; the caller's working directory when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<PathBuf>,
    /// Arguments always passed to the agent, before the ones given at run time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Extra environment variables; they win over everything the plan sets, except HOME.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Bookkeeping.
    pub metadata: ProfileMetadata,
}

/// Bookkeeping kept up to date by ringlet. The file store keeps `last_used` and `total_runs`
/// out of `profile.toml`, in the profile's `run-stats` file, which every run rewrites in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileMetadata {
    /// When the profile was created.
    pub created_at: DateTime<Utc>,
    /// When it was last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<DateTime<Utc>>,
    /// How many times it has been run.
    #[serde(default)]
    pub total_runs: u64,
}

/// Where profiles are kept.
pub trait ProfileStore: Send + Sync + Debug {
    /// Every profile, sorted by alias.
    fn list(&self) -> Result<Vec<Profile>>;

    /// One profile.
    fn get(&self, alias: &str) -> Result<Profile>;

    /// Whether a profile with this alias exists (even if its manifest is unreadable).
    fn exists(&self, alias: &str) -> Result<bool>;

    /// Creates a profile and its empty HOME. Fails if the alias is taken; never leaves a
    /// half-created profile behind.
    fn create(&self, profile: &Profile) -> Result<()>;

    /// Replaces a profile's data.
    fn update(&self, profile: &Profile) -> Result<()>;

    /// Deletes a profile with its HOME.
    fn delete(&self, alias: &str) -> Result<()>;

    /// Counts a run that started at `at`: bumps `total_runs` and sets `last_used`, safely against
    /// concurrent runs of the same profile.
    fn record_run(&self, alias: &str, at: DateTime<Utc>) -> Result<()>;

    /// The directory holding the profile (its manifest, `home/`, `hooks/`).
    fn profile_dir(&self, alias: &str) -> PathBuf;

    /// The profile's HOME, which becomes the agent's `$HOME`.
    fn home_dir(&self, alias: &str) -> PathBuf {
        self.profile_dir(alias).join("home")
    }
}

/// Joins a relative path onto a profile HOME, refusing anything that would escape it.
pub(crate) fn join_inside(home: &Path, relative: &str) -> Option<PathBuf> {
    let rel = Path::new(relative);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return None;
    }
    Some(home.join(rel))
}
