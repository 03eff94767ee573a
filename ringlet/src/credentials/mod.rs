//! Credentials: API keys stored by (provider, alias). Profiles hold only the alias; the key is
//! looked up at launch and travels only in the agent's environment.

mod env;
mod file;
mod memory;
mod secret;

use std::fmt::{self, Debug};

use serde::{Deserialize, Serialize};

pub use env::EnvCredentialStore;
pub use file::FileCredentialStore;
pub use memory::MemoryCredentialStore;
pub use secret::Secret;

use crate::error::Result;

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
