//! The opt-in audit log (`[credentials] audit-log = "PATH"`): a store that wraps another and
//! appends one JSON line per key operation, never the key:
//!
//! ```json
//! {"time":"2026-05-26T09:14:03.118Z","op":"get","profile":"work","provider":"anthropic","alias":"work","backend":"system","found":true}
//! ```
//!
//! `op` is `get`, `set` or `delete`; `profile` is the profile a lookup was made for (`null`
//! for `keychain` commands); `found` is whether a key was there (`null` for a `set` that
//! replaces; for one that stores only a new key, `true` means one was there and nothing was
//! stored); `error`
//! is the error code when the operation failed. The file is created 0600. If a line cannot be
//! written the operation fails: an audit log that silently misses lookups would be worse than
//! none.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use serde::Serialize;

use super::{CredentialKey, CredentialStore, Secret};
use crate::error::{Error, Result};

/// Records every key operation of the store it wraps.
#[derive(Debug, Clone)]
pub struct AuditedCredentialStore {
    inner: Arc<dyn CredentialStore>,
    path: PathBuf,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    op: &'a str,
    profile: Option<&'a str>,
    provider: &'a str,
    alias: &'a str,
    backend: &'a str,
    found: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

impl AuditedCredentialStore {
    /// Wraps `inner`, logging to `path` (created 0600 on first use, appended to after).
    pub fn new(inner: Arc<dyn CredentialStore>, path: impl Into<PathBuf>) -> Self {
        Self {
            inner,
            path: path.into(),
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record<T>(
        &self,
        op: &str,
        profile: Option<&str>,
        key: &CredentialKey,
        result: &Result<T>,
        found: impl FnOnce(&T) -> Option<bool>,
    ) -> Result<()> {
        let line = Line {
            time: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            op,
            profile,
            provider: &key.provider,
            alias: &key.alias,
            backend: self.inner.backend(),
            found: result.as_ref().ok().and_then(found),
            error: result.as_ref().err().map(Error::code),
        };
        let mut text = serde_json::to_string(&line).map_err(|e| Error::Credential {
            backend: "audit".into(),
            message: format!("serialising an audit line: {e}"),
        })?;
        text.push('\n');
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts
            .open(&self.path)
            .map_err(|e| Error::io("opening the audit log", &self.path, e))?;
        // One write of one line: with O_APPEND, concurrent ringlet processes never interleave.
        file.write_all(text.as_bytes())
            .map_err(|e| Error::io("appending to the audit log", &self.path, e))
    }

    /// Returns `result`, or the audit failure when the operation itself succeeded.
    fn logged<T>(
        &self,
        op: &str,
        profile: Option<&str>,
        key: &CredentialKey,
        result: Result<T>,
        found: impl FnOnce(&T) -> Option<bool>,
    ) -> Result<T> {
        let recorded = self.record(op, profile, key, &result, found);
        match (result, recorded) {
            (Ok(_), Err(e)) => Err(e),
            (result, _) => result,
        }
    }
}

impl CredentialStore for AuditedCredentialStore {
    fn backend(&self) -> &str {
        self.inner.backend()
    }

    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>> {
        self.get_for(key, None)
    }

    fn get_for(&self, key: &CredentialKey, profile: Option<&str>) -> Result<Option<Secret>> {
        let result = self.inner.get_for(key, profile);
        self.logged("get", profile, key, result, |s| Some(s.is_some()))
    }

    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()> {
        let result = self.inner.set(key, secret);
        self.logged("set", None, key, result, |_| None)
    }

    fn set_new(&self, key: &CredentialKey, secret: &Secret) -> Result<bool> {
        let result = self.inner.set_new(key, secret);
        self.logged("set", None, key, result, |stored| Some(!stored))
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool> {
        let result = self.inner.delete(key);
        self.logged("delete", None, key, result, |found| Some(*found))
    }

    fn list(&self) -> Result<Vec<CredentialKey>> {
        // Names only; not a lookup of any key.
        self.inner.list()
    }

    fn ensure_ready(&self) -> Result<()> {
        self.inner.ensure_ready()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::MemoryCredentialStore;

    #[test]
    fn logs_lookups_without_values_and_conforms() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("logs/audit.jsonl");
        let store = AuditedCredentialStore::new(Arc::new(MemoryCredentialStore::new()), &log);
        super::super::conformance::run(&store);
        super::super::conformance::run_concurrent_set_new(&store);
        let key = CredentialKey::new("anthropic", "canary");
        store
            .set(&key, &Secret::new("sk-canary-value"))
            .expect("set");
        store.get_for(&key, Some("work")).expect("get");
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(!text.contains("sk-"), "no value is ever logged: {text}");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect();
        let last = lines.last().expect("lines");
        assert_eq!(last["op"], "get");
        assert_eq!(last["profile"], "work");
        assert_eq!(last["provider"], "anthropic");
        assert_eq!(last["alias"], "canary");
        assert_eq!(last["backend"], "memory");
        assert_eq!(last["found"], true);
        assert!(last["time"].as_str().expect("time").ends_with('Z'));
        // The suite's first lookup found nothing.
        assert_eq!(lines[0]["op"], "get");
        assert_eq!(lines[0]["found"], false);
        assert!(lines[0]["profile"].is_null());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&log).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn an_unwritable_log_fails_the_lookup() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A directory where the file should be.
        let store = AuditedCredentialStore::new(Arc::new(MemoryCredentialStore::new()), dir.path());
        let err = store
            .get(&CredentialKey::new("a", "b"))
            .expect_err("cannot log");
        assert!(err.to_string().contains("audit log"), "{err}");
    }
}
