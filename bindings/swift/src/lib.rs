//! Swift bindings for ringlet (uniffi, proc-macros): `Ringlet`, a thin object over
//! [`ringlet::Ringlet`].
//!
//! Methods are synchronous and may block (disk, keychain, a running agent): call them off the
//! main thread. Results are the records in [`types`]; errors the enum in [`error`]. The Swift
//! sources in `Sources/` are generated from the built library by the `uniffi-bindgen` binary of
//! this crate (see README.md) and checked for staleness by `tests/bindings.sh`.

mod error;
mod types;

use std::sync::Arc;

use ringlet::{RunOptions, Secret};

pub use crate::error::RingletError;
pub use crate::types::{
    AgentInfo, CredentialKey, EnvEntry, InitReport, LaunchPlan, MigrationReport, NewProfile, Paths,
    PlannedFile, Profile, ProviderInfo, RunOutcome, SecretEnv, Warning,
};

uniffi::setup_scaffolding!();

type Result<T> = std::result::Result<T, RingletError>;

fn each<T: Into<J>, J>(items: Vec<T>) -> Vec<J> {
    items.into_iter().map(Into::into).collect()
}

/// ringlet as a library: agents, providers, profiles, keys and launching. Thread-safe.
#[derive(Debug, uniffi::Object)]
pub struct Ringlet {
    inner: ringlet::Ringlet,
}

#[uniffi::export]
impl Ringlet {
    /// Opens ringlet under `home` (like `RINGLET_HOME`), else under `RINGLET_HOME` or the
    /// platform's directories.
    #[uniffi::constructor(default(home = None))]
    pub fn new(home: Option<String>) -> Result<Arc<Self>> {
        let inner = match home {
            Some(home) => ringlet::Ringlet::builder().home(home).build()?,
            None => ringlet::Ringlet::open()?,
        };
        Ok(Arc::new(Self { inner }))
    }

    /// The directories in use.
    pub fn paths(&self) -> Paths {
        self.inner.paths().into()
    }

    /// Warnings recorded so far, oldest first.
    pub fn warnings(&self) -> Vec<Warning> {
        each(self.inner.warnings())
    }

    /// Makes sure the credential backend can be used now.
    pub fn check_credentials(&self) -> Result<()> {
        Ok(self.inner.check_credentials()?)
    }

    /// Creates ringlet's directories and detects agents.
    pub fn init(&self) -> Result<InitReport> {
        Ok(self.inner.init()?.into())
    }

    /// Every agent with its detection result.
    pub fn agents(&self) -> Result<Vec<AgentInfo>> {
        Ok(each(self.inner.agents()?))
    }

    /// One agent with its detection result.
    pub fn agent(&self, id: String) -> Result<AgentInfo> {
        Ok(self.inner.agent(&id)?.into())
    }

    /// Every provider.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        each(self.inner.providers())
    }

    /// One provider.
    pub fn provider(&self, id: String) -> Result<ProviderInfo> {
        Ok(self.inner.provider(&id)?.into())
    }

    /// Every profile, sorted by alias.
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        Ok(each(self.inner.profiles()?))
    }

    /// One profile.
    pub fn profile(&self, alias: String) -> Result<Profile> {
        Ok(self.inner.profile(&alias)?.into())
    }

    /// The profile's HOME directory.
    pub fn profile_home(&self, alias: String) -> Result<String> {
        Ok(self
            .inner
            .profile_home(&alias)?
            .to_string_lossy()
            .into_owned())
    }

    /// Whether a profile exists (even one whose manifest is unreadable).
    pub fn has_profile(&self, alias: String) -> Result<bool> {
        Ok(self.inner.has_profile(&alias)?)
    }

    /// The profile a request would create, validated, without writing anything.
    pub fn resolve_profile(&self, req: NewProfile) -> Result<Profile> {
        Ok(self.inner.resolve_profile(&req.into())?.into())
    }

    /// The key a request would need that is not stored yet, or nil.
    pub fn missing_key(&self, req: NewProfile) -> Result<Option<CredentialKey>> {
        Ok(self.inner.missing_key(&req.into())?.map(Into::into))
    }

    /// Creates a profile; `key` is stored under its key alias first.
    #[uniffi::method(default(key = None))]
    pub fn create_profile(&self, req: NewProfile, key: Option<String>) -> Result<Profile> {
        let key = key.map(Secret::new);
        Ok(self.inner.create_profile(&req.into(), key.as_ref())?.into())
    }

    /// Deletes a profile and its HOME.
    pub fn delete_profile(&self, alias: String) -> Result<()> {
        Ok(self.inner.delete_profile(&alias)?)
    }

    /// The launch plan for a profile. Writes nothing; holds no secret.
    #[uniffi::method(default(args = []))]
    pub fn plan_run(&self, alias: String, args: Vec<String>) -> Result<LaunchPlan> {
        Ok(self.inner.plan_run(&alias, &args)?.into())
    }

    /// Runs a profile's agent and waits for it (blocking). The agent inherits this process's
    /// stdio; no signal handlers are installed.
    #[uniffi::method(default(args = []))]
    pub fn run(&self, alias: String, args: Vec<String>) -> Result<RunOutcome> {
        Ok(self
            .inner
            .run(&alias, &args, RunOptions::embedded())?
            .into())
    }

    /// Moves the keys in the credentials file into the OS keychain.
    pub fn migrate_keys(&self) -> Result<MigrationReport> {
        Ok(self.inner.migrate_keys()?.into())
    }

    /// Stores a key; refuses to overwrite one unless `replace`.
    #[uniffi::method(default(replace = false))]
    pub fn set_key(
        &self,
        provider: String,
        alias: String,
        secret: String,
        replace: bool,
    ) -> Result<()> {
        let key = ringlet::CredentialKey::new(provider, alias);
        Ok(self.inner.set_key(&key, &Secret::new(secret), replace)?)
    }

    /// Removes a key.
    pub fn remove_key(&self, provider: String, alias: String) -> Result<()> {
        let key = ringlet::CredentialKey::new(provider, alias);
        Ok(self.inner.remove_key(&key)?)
    }

    /// The names of stored keys; never their values.
    pub fn list_keys(&self) -> Result<Vec<CredentialKey>> {
        Ok(each(self.inner.list_keys()?))
    }
}

#[cfg(test)]
mod tests {
    //! The glue, exercised from Rust where no Swift compiler exists: conversions and the error
    //! mapping. The XCTest suite in Tests/ runs the same paths through Swift.
    use super::*;

    fn open() -> (tempfile::TempDir, Arc<Ringlet>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir_all(dir.path().join("config")).expect("config dir");
        std::fs::write(
            dir.path().join("config/config.toml"),
            "[credentials]\nbackend = \"file\"\n",
        )
        .expect("config.toml");
        let r = Ringlet::new(Some(dir.path().display().to_string())).expect("open");
        (dir, r)
    }

    fn req(alias: &str) -> NewProfile {
        NewProfile {
            agent: "claude".into(),
            alias: alias.into(),
            provider: "minimax".into(),
            model: Some("MiniMax-M2".into()),
            ..NewProfile::default()
        }
    }

    #[test]
    fn profile_round_trip_and_plan_without_secret() {
        let (_dir, r) = open();
        let created = r
            .create_profile(req("work"), Some("sk-canary-swift".into()))
            .expect("create");
        assert_eq!(created.alias, "work");
        assert_eq!(r.profiles().expect("list").len(), 1);
        let plan = r.plan_run("work".into(), vec!["-p".into()]).expect("plan");
        assert_eq!(plan.home, r.profile_home("work".into()).expect("home"));
        assert_eq!(plan.env.get("HOME"), Some(&plan.home));
        assert!(!format!("{plan:?}").contains("sk-canary-swift"));
        assert!(
            plan.masked_env
                .iter()
                .any(|e| e.secret && e.value == "********")
        );
        assert_eq!(
            r.list_keys().expect("keys"),
            vec![CredentialKey {
                provider: "minimax".into(),
                alias: "work".into()
            }]
        );
    }

    #[test]
    fn errors_map_to_their_cases() {
        let (_dir, r) = open();
        assert!(matches!(
            r.profile("nobody".into()),
            Err(RingletError::ProfileNotFound { .. })
        ));
        assert!(matches!(
            r.create_profile(req("../evil"), None),
            Err(RingletError::InvalidAlias { .. })
        ));
        assert!(matches!(
            r.remove_key("minimax".into(), "none".into()),
            Err(RingletError::Key { code, .. }) if code == "key_not_found"
        ));
    }
}
