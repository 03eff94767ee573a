//! Profiles: agent + provider + key alias + its own HOME, as plain data, and the store that
//! keeps them.

mod file_store;
mod proxy_settings;
mod run_stats;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use file_store::FileProfileStore;
pub use proxy_settings::{Budget, ProxyConfig, ProxyMode};

use crate::catalog::wire::WireShape;
use crate::error::Result;
use crate::launch::sandbox::ProfileSandbox;

/// One profile. Serialised as `profiles/<alias>/profile.toml`. It never holds a key, only the
/// alias the key is stored under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// When runs are sandboxed (`sandbox = "off" | "always" | "remote"`, the default `remote`)
    /// and what the profile's `[sandbox]` table adds to config.toml's.
    #[serde(default, skip_serializing_if = "ProfileSandbox::is_default")]
    pub sandbox: ProfileSandbox,
    /// Whether runs go through the ringlet proxy (`proxy = "on"`, docs/proxy.md).
    #[serde(default, skip_serializing_if = "ProxyMode::is_off")]
    pub proxy: ProxyMode,
    /// `[budget]`: what the proxy lets this profile spend per day and month.
    #[serde(default, skip_serializing_if = "Budget::is_empty")]
    pub budget: Budget,
    /// `[tasks.NAME]`: setup tasks `ringlet env setup` runs on request (they override the
    /// agent manifest's of the same name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tasks: BTreeMap<String, crate::setup::SetupTask>,
    /// `[mcp.NAME]`: MCP servers of this profile only (`ringlet mcp add --profile`), on top of
    /// the global ones in `config.toml` (a same-named one here wins).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mcp: BTreeMap<String, crate::mcp::McpServer>,
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

/// What a listing found: the profiles that could be read, and the entries that could not. One
/// broken profile never hides the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileListing {
    /// Every readable profile, sorted by alias.
    pub profiles: Vec<Profile>,
    /// Every entry that looks like a profile but cannot be used, sorted by alias.
    pub broken: Vec<BrokenProfile>,
}

/// A profile directory that holds no usable profile. `ringlet profiles delete <alias>` removes
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenProfile {
    /// The directory's name: the profile's alias.
    pub alias: String,
    /// What is wrong.
    pub kind: BrokenKind,
    /// The file at fault: the profile's `profile.toml` (missing, for [`BrokenKind::Incomplete`]).
    pub path: PathBuf,
    /// The 1-based line of the problem in `path`, when known.
    pub line: Option<usize>,
    /// One line: what is wrong and how to fix it.
    pub message: String,
}

/// Why a [`BrokenProfile`] cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum BrokenKind {
    /// Its `profile.toml` (or run counters) cannot be read or parsed.
    Unreadable,
    /// The directory has no `profile.toml`: left behind by an interrupted delete, or by an agent
    /// that kept writing into its HOME after the profile was deleted.
    Incomplete,
}

/// Where profiles are kept.
pub trait ProfileStore: Send + Sync + Debug {
    /// Every profile, sorted by alias, and the entries that could not be read. Fails only when
    /// the store itself cannot be read.
    fn list(&self) -> Result<ProfileListing>;

    /// One profile.
    fn get(&self, alias: &str) -> Result<Profile>;

    /// Whether the alias is taken: by a profile, even one whose manifest is unreadable, or by a
    /// [`BrokenProfile`] directory (so it can be deleted).
    fn exists(&self, alias: &str) -> Result<bool>;

    /// Creates a profile and its empty HOME. Fails if the alias is taken; never leaves a
    /// half-created profile behind.
    fn create(&self, profile: &Profile) -> Result<()>;

    /// Replaces a profile's data.
    fn update(&self, profile: &Profile) -> Result<()>;

    /// Reads a profile, hands it to `change` and stores what that returns, as one step against
    /// other edits of the same profile (two edits of different settings never lose one). An
    /// error from `change` leaves the profile as it was. Returns the stored profile.
    ///
    /// The default reads with [`get`](Self::get) and writes with [`update`](Self::update), so
    /// a concurrent edit can slip in between; the file store does both under the profile's lock.
    fn edit(
        &self,
        alias: &str,
        change: &mut dyn FnMut(&Profile) -> Result<Profile>,
    ) -> Result<Profile> {
        let current = self.get(alias)?;
        let changed = change(&current)?;
        self.update(&changed)?;
        Ok(changed)
    }

    /// Deletes a profile with its HOME; also removes a [`BrokenProfile`] directory. Waits for
    /// runs holding the profile (see [`hold`](Self::hold)).
    fn delete(&self, alias: &str) -> Result<()>;

    /// Keeps the profile from being deleted until the returned [`ProfileHold`] is dropped (a
    /// delete waits), so a run that writes the agent's files into its HOME and starts the agent
    /// never recreates the directory of a profile deleted meanwhile. Fails with
    /// [`Error::ProfileNotFound`](crate::Error::ProfileNotFound) when the profile is gone. Any
    /// number of holds can be taken at once. The default checks that the profile exists and
    /// holds nothing.
    fn hold(&self, alias: &str) -> Result<ProfileHold> {
        if self.exists(alias)? {
            Ok(ProfileHold::default())
        } else {
            Err(self.not_found(alias))
        }
    }

    /// [`Error::ProfileNotFound`](crate::Error::ProfileNotFound) for `alias`, suggesting the
    /// closest existing alias ("did you mean 'work'?"). Called on the error path only. The
    /// default takes the names from [`list`](Self::list).
    fn not_found(&self, alias: &str) -> crate::error::Error {
        let listing = self.list().unwrap_or_default();
        let names = listing.profiles.iter().map(|p| p.alias.as_str());
        let broken = listing.broken.iter().map(|b| b.alias.as_str());
        crate::error::Error::profile_not_found(alias, names.chain(broken))
    }

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

/// A profile kept from being deleted while it lives; see [`ProfileStore::hold`].
#[derive(Debug, Default)]
#[must_use = "the profile is held only while this lives"]
pub struct ProfileHold {
    /// The profile's lock file, locked shared (file store).
    _lock: Option<std::fs::File>,
}

impl ProfileHold {
    /// A hold kept by a shared lock on `lock`, released when the hold is dropped.
    pub(crate) fn locked(lock: std::fs::File) -> Self {
        Self { _lock: Some(lock) }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::launch::sandbox::{SandboxMode, SandboxPolicy};

    const OLD: &str = "alias = \"work\"\nagent = \"claude\"\nprovider = \"anthropic\"\nshape = \"anthropic\"\n\n[metadata]\ncreated_at = \"2025-01-01T00:00:00Z\"\n";

    #[test]
    fn sandbox_defaults_to_remote_and_stays_out_of_old_files() {
        let p: Profile = toml::from_str(OLD).expect("a profile.toml from before the field");
        assert_eq!(p.sandbox.mode, SandboxMode::Remote);
        assert!(!toml::to_string(&p).expect("ser").contains("sandbox"));
    }

    #[test]
    fn sandbox_mode_and_table_round_trip() {
        let text = OLD.replace("\n\n[metadata]", "\nsandbox = \"always\"\n\n[metadata]");
        let p: Profile = toml::from_str(&text).expect("mode");
        assert_eq!(p.sandbox, ProfileSandbox::new(SandboxMode::Always));
        let mut p = p;
        p.sandbox = ProfileSandbox::new(SandboxMode::Off)
            .policy(SandboxPolicy::new().extra_rw("/var/log/app"));
        let written = toml::to_string(&p).expect("ser");
        assert!(
            written.contains("[sandbox]\nmode = \"off\"\nextra-rw = [\"/var/log/app\"]\n"),
            "{written}"
        );
        assert_eq!(toml::from_str::<Profile>(&written).expect("back"), p);
    }

    #[test]
    fn a_bad_sandbox_names_the_profile_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        let manifest = dir.path().join("work/profile.toml");
        std::fs::create_dir_all(dir.path().join("work/home")).expect("mkdir");
        for (bad, says) in [
            (
                "sandbox = \"never\"",
                "sandbox 'never' is not one of: off, always, remote",
            ),
            (
                "sandbox = { mode = \"always\", extra-ro = [\"data\"] }",
                "'data' is not absolute",
            ),
            (
                "sandbox = { network = \"none\", bind = [] }",
                "unknown field `bind`",
            ),
        ] {
            let text = OLD.replace("\n\n[metadata]", &format!("\n{bad}\n\n[metadata]"));
            std::fs::write(&manifest, text).expect("write");
            let e = store.get("work").expect_err(bad).to_string();
            assert!(e.starts_with(&manifest.display().to_string()), "{e}");
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
