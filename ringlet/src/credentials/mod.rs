//! Credentials: API keys stored by (provider, alias). Profiles hold only the alias; the key is
//! looked up at launch and travels only in the agent's environment.

mod audit;
mod env;
mod fallback;
mod file;
mod memory;
mod migrate;
mod secret;
mod system;

use std::fmt::{self, Debug};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use audit::AuditedCredentialStore;
pub use env::EnvCredentialStore;
pub(crate) use fallback::KeychainOrFileStore;
pub use file::FileCredentialStore;
pub use memory::MemoryCredentialStore;
pub use migrate::{MigrationReport, migrate_credentials};
pub use secret::Secret;
pub use system::{KEYCHAIN_SERVICE, SystemCredentialStore};

use crate::config::CredentialBackend;
use crate::error::Result;
use crate::paths::Paths;
use crate::warning::Warnings;

/// Names one stored key: `<provider>/<alias>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CredentialKey {
    /// The provider id.
    pub provider: String,
    /// The key alias.
    pub alias: String,
}

impl CredentialKey {
    /// Builds a key name.
    pub fn new(provider: impl Into<String>, alias: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            alias: alias.into(),
        }
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.alias)
    }
}

/// A place API keys are kept. Implementations never log or print a value.
pub trait CredentialStore: Send + Sync + Debug {
    /// A short backend name for messages (`file`, `env`, `memory`, `system`).
    fn backend(&self) -> &str;

    /// The key stored under `key`, if any.
    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>>;

    /// Stores (or replaces) a key.
    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()>;

    /// Removes a key; returns whether one was there.
    fn delete(&self, key: &CredentialKey) -> Result<bool>;

    /// The names of all stored keys, sorted.
    fn list(&self) -> Result<Vec<CredentialKey>>;

    /// [`get`](Self::get) for a lookup made on behalf of a profile, so a wrapping store (the
    /// audit log) can record which one.
    fn get_for(&self, key: &CredentialKey, profile: Option<&str>) -> Result<Option<Secret>> {
        let _ = profile;
        self.get(key)
    }

    /// Makes sure the backend can be used, connecting if that is done lazily, so a frontend
    /// can report a fallback before it starts something long-running. A no-op by default.
    fn ensure_ready(&self) -> Result<()> {
        Ok(())
    }
}

/// The store `[credentials] backend` selects. `system-only` fails here when the keychain
/// certainly cannot be reached; `system` falls back to the file, recording the warning in
/// `warnings` the first time a key is used.
pub(crate) fn open_configured(
    backend: CredentialBackend,
    paths: &Paths,
    warnings: &Warnings,
) -> Result<Arc<dyn CredentialStore>> {
    Ok(match backend {
        CredentialBackend::File => Arc::new(FileCredentialStore::new(paths.credentials_file())),
        CredentialBackend::Env => Arc::new(EnvCredentialStore),
        CredentialBackend::SystemOnly => {
            if let Some(reason) = SystemCredentialStore::unavailable_reason() {
                return Err(system::unavailable(reason));
            }
            Arc::new(SystemCredentialStore::new())
        }
        CredentialBackend::System => Arc::new(KeychainOrFileStore::new(
            SystemCredentialStore::new(),
            FileCredentialStore::new(paths.credentials_file()),
            paths.config_file(),
            warnings.clone(),
        )),
    })
}

#[cfg(test)]
pub(crate) mod conformance {
    //! The suite every writable credential store runs.
    use super::*;

    pub fn run(store: &dyn CredentialStore) {
        let a = CredentialKey::new("anthropic", "work");
        let b = CredentialKey::new("openai", "default");
        assert!(store.get(&a).expect("get missing").is_none());
        store.set(&a, &Secret::new("sk-one")).expect("set a");
        store.set(&b, &Secret::new("sk-two")).expect("set b");
        assert_eq!(
            store.get(&a).expect("get a").expect("a present").expose(),
            "sk-one"
        );
        store.set(&a, &Secret::new("sk-three")).expect("replace a");
        assert_eq!(
            store.get(&a).expect("get a").expect("a present").expose(),
            "sk-three"
        );
        assert_eq!(store.list().expect("list"), vec![a.clone(), b.clone()]);
        assert!(store.delete(&a).expect("delete a"));
        assert!(!store.delete(&a).expect("delete a again"));
        assert_eq!(store.list().expect("list"), vec![b]);
    }
}
