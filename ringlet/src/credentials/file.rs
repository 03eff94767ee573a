//! The 0600 TOML file store: `[<provider>.<alias>] key = "…"`. The fallback where no OS keychain
//! is available. It refuses to read a file other users could read, and every write goes through
//! a lock file and an atomic rename, so concurrent ringlet processes never lose an entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{CredentialKey, CredentialStore, Secret};
use crate::error::{Error, Result};
use crate::fsio;

/// Keys in a private TOML file.
#[derive(Debug, Clone)]
pub struct FileCredentialStore {
    path: PathBuf,
}

#[derive(Default, Serialize, Deserialize)]
struct Entry {
    key: String,
}

type Table = BTreeMap<String, BTreeMap<String, Entry>>;

impl FileCredentialStore {
    /// A store backed by `path` (created on first write, mode 0600).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file this store uses.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Table> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Table::new()),
            Err(e) => return Err(Error::io("reading", &self.path, e)),
        };
        fsio::ensure_private(&self.path)?;
        toml::from_str(&text).map_err(|e| Error::toml(&self.path, &text, &e))
    }

    /// Reads, changes and rewrites the file under its lock, so concurrent writers never lose
    /// an entry and a check made by `f` holds while it writes. `f` says whether it changed
    /// anything; an unchanged table is not rewritten.
    fn modify<T>(&self, f: impl FnOnce(&mut Table) -> (T, bool)) -> Result<T> {
        let lock_path = self.path.with_extension("toml.lock");
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let _lock = fsio::open_locked(&lock_path)?;
        let mut table = self.read()?;
        let (out, changed) = f(&mut table);
        if !changed {
            return Ok(out);
        }
        table.retain(|_, aliases| !aliases.is_empty());
        let text = toml::to_string(&table).map_err(|e| Error::Credential {
            backend: "file".into(),
            message: format!("serialising the credentials file: {e}"),
        })?;
        fsio::write_atomic(&self.path, text.as_bytes(), Some(0o600))?;
        Ok(out)
    }
}

impl CredentialStore for FileCredentialStore {
    fn backend(&self) -> &str {
        "file"
    }

    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>> {
        Ok(self
            .read()?
            .get(&key.provider)
            .and_then(|aliases| aliases.get(&key.alias))
            .map(|entry| Secret::new(entry.key.clone())))
    }

    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()> {
        self.modify(|table| {
            table.entry(key.provider.clone()).or_default().insert(
                key.alias.clone(),
                Entry {
                    key: secret.expose().to_string(),
                },
            );
            ((), true)
        })
    }

    /// Checked and written under the file's lock: atomic among all ringlet processes.
    fn set_new(&self, key: &CredentialKey, secret: &Secret) -> Result<bool> {
        self.modify(|table| {
            let aliases = table.entry(key.provider.clone()).or_default();
            if aliases.contains_key(&key.alias) {
                return (false, false);
            }
            aliases.insert(
                key.alias.clone(),
                Entry {
                    key: secret.expose().to_string(),
                },
            );
            (true, true)
        })
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool> {
        if !self.path.exists() {
            return Ok(false);
        }
        self.modify(|table| {
            let removed = table
                .get_mut(&key.provider)
                .and_then(|aliases| aliases.remove(&key.alias))
                .is_some();
            (removed, removed)
        })
    }

    fn list(&self) -> Result<Vec<CredentialKey>> {
        let table = self.read()?;
        Ok(table
            .iter()
            .flat_map(|(provider, aliases)| {
                aliases
                    .keys()
                    .map(move |alias| CredentialKey::new(provider.clone(), alias.clone()))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The conformance suite runs in ringlet/tests/conformance.rs.

    #[test]
    fn concurrent_create_only_writes_store_exactly_one_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileCredentialStore::new(dir.path().join("c.toml"));
        // Another key in the file, so each racer really rewrites a table.
        store
            .set(&CredentialKey::new("openai", "x"), &Secret::new("sk-x"))
            .expect("set");
        for _ in 0..5 {
            super::super::conformance::run_concurrent_set_new(&store);
        }
    }

    #[cfg(unix)]
    #[test]
    fn creates_private_file_and_refuses_loose_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("credentials.toml");
        let store = FileCredentialStore::new(&path);
        store
            .set(
                &CredentialKey::new("anthropic", "work"),
                &Secret::new("sk-x"),
            )
            .expect("set");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = store
            .get(&CredentialKey::new("anthropic", "work"))
            .expect_err("0644 must be refused");
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }

    #[test]
    fn corrupt_file_names_path_and_line_without_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("credentials.toml");
        fsio::write_atomic(&path, b"[a.b]\nkey = \"sk-secret\nbroken", Some(0o600)).expect("write");
        let err = FileCredentialStore::new(&path).list().expect_err("corrupt");
        let msg = err.to_string();
        assert!(msg.contains("credentials.toml:3:"), "{msg}");
        assert!(!msg.contains("sk-secret"), "{msg}");
    }
}
