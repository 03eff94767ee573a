//! An in-memory store, for tests and embedders that manage keys themselves.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{CredentialKey, CredentialStore, Secret};
use crate::error::{Error, Result};

/// Keys held in process memory only.
#[derive(Debug, Default)]
pub struct MemoryCredentialStore {
    entries: Mutex<BTreeMap<CredentialKey, Secret>>,
}

impl MemoryCredentialStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<CredentialKey, Secret>>> {
        self.entries.lock().map_err(|_| Error::Credential {
            backend: "memory".into(),
            message: "the store's lock was poisoned by a panic elsewhere".into(),
        })
    }
}

impl CredentialStore for MemoryCredentialStore {
    fn backend(&self) -> &str {
        "memory"
    }

    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>> {
        Ok(self.lock()?.get(key).cloned())
    }

    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()> {
        self.lock()?.insert(key.clone(), secret.clone());
        Ok(())
    }

    fn set_new(&self, key: &CredentialKey, secret: &Secret) -> Result<bool> {
        let mut entries = self.lock()?;
        if entries.contains_key(key) {
            return Ok(false);
        }
        entries.insert(key.clone(), secret.clone());
        Ok(true)
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool> {
        Ok(self.lock()?.remove(key).is_some())
    }

    fn list(&self) -> Result<Vec<CredentialKey>> {
        Ok(self.lock()?.keys().cloned().collect())
    }
}

// Its conformance test is in ringlet/tests/conformance.rs.
