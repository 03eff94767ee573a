//! The facade's key methods: store, remove and list keys, and migrate the credentials file into
//! the OS keychain.

use std::sync::Arc;

use super::Ringlet;
use crate::alias::validate_alias;
use crate::credentials::{
    AuditedCredentialStore, CredentialKey, CredentialStore, FileCredentialStore, MigrationReport,
    Secret, migrate_credentials,
};
use crate::error::{Error, Result};

impl Ringlet {
    /// Moves the keys in the credentials file into the OS keychain and removes them from the
    /// file (`ringlet keychain migrate`). Needs `[credentials] backend` = `system` or
    /// `system-only`, and a reachable keychain. A key the keychain already holds with a
    /// different value is left in the file and reported as a conflict.
    pub fn migrate_keys(&self) -> Result<MigrationReport> {
        let config_file = self.paths().config_file();
        let backend = self.inner.config.credentials.backend(&config_file)?;
        if !backend.uses_keychain() {
            return Err(Error::InvalidInput(format!(
                "the credential backend is \"{backend}\", and migrate moves keys from {} into the system keychain; set `[credentials] backend = \"system\"` in {} first",
                self.paths().credentials_file().display(),
                config_file.display()
            )));
        }
        let system = crate::credentials::system_store(self.paths());
        system.connect()?;
        let mut from: Arc<dyn CredentialStore> =
            Arc::new(FileCredentialStore::new(self.paths().credentials_file()));
        let mut to: Arc<dyn CredentialStore> = Arc::new(system);
        if let Some(log) = self.inner.config.credentials.audit_log_path(self.paths()) {
            from = Arc::new(AuditedCredentialStore::new(from, &log));
            to = Arc::new(AuditedCredentialStore::new(to, log));
        }
        migrate_credentials(from.as_ref(), to.as_ref())
    }

    /// Stores a key. Refuses to overwrite an existing one unless `replace`.
    pub fn set_key(&self, key: &CredentialKey, secret: &Secret, replace: bool) -> Result<()> {
        validate_alias(&key.alias)?;
        // MCP servers' secrets have their own namespace (`mcp/NAME`, see `add_mcp_server`).
        if key.provider != crate::mcp::MCP_SECRET_PROVIDER {
            self.catalogue().provider(&key.provider)?;
        }
        if secret.is_empty() {
            return Err(Error::InvalidInput("the API key given is empty".into()));
        }
        if replace {
            return self.credentials().set(key, secret);
        }
        // One step, not a lookup and then a write: of two concurrent calls, one must lose.
        if self.credentials().set_new(key, secret)? {
            Ok(())
        } else {
            Err(Error::KeyExists {
                provider: key.provider.clone(),
                alias: key.alias.clone(),
            })
        }
    }

    /// Removes a key.
    pub fn remove_key(&self, key: &CredentialKey) -> Result<()> {
        if self.credentials().delete(key)? {
            Ok(())
        } else {
            Err(Error::KeyNotFound {
                provider: key.provider.clone(),
                alias: key.alias.clone(),
                backend: self.credentials().backend().to_string(),
            })
        }
    }

    /// The names of stored keys.
    pub fn list_keys(&self) -> Result<Vec<CredentialKey>> {
        self.credentials().list()
    }
}
