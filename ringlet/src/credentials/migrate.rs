//! Moving keys from one store to another (`ringlet keychain migrate`: the file into the
//! keychain). Each key is written, read back and compared before it is removed from the
//! source, so an interrupted migration never loses a key; at worst a key is in both places.

use serde::{Deserialize, Serialize};

use super::{CredentialKey, CredentialStore};
use crate::error::{Error, Result};

/// What a migration did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationReport {
    /// Copied into the target and removed from the source.
    pub moved: Vec<CredentialKey>,
    /// The target already held the same key; removed from the source.
    pub already_present: Vec<CredentialKey>,
    /// The target holds a different key under the same name; left in the source untouched.
    pub conflicts: Vec<CredentialKey>,
}

impl MigrationReport {
    /// Whether nothing was left behind.
    pub fn is_complete(&self) -> bool {
        self.conflicts.is_empty()
    }
}

/// Moves every key of `from` into `to`. A name the target already holds with a different
/// value is a conflict: neither copy is changed, and the report lists it.
pub fn migrate_credentials(
    from: &dyn CredentialStore,
    to: &dyn CredentialStore,
) -> Result<MigrationReport> {
    let mut report = MigrationReport::default();
    for key in from.list()? {
        // Listed a moment ago; another process may have removed it since.
        let Some(secret) = from.get(&key)? else {
            continue;
        };
        // Create-only, so a key another process stores meanwhile is never overwritten.
        if to.set_new(&key, &secret)? {
            if to.get(&key)?.as_ref() != Some(&secret) {
                return Err(Error::Credential {
                    backend: to.backend().to_string(),
                    message: format!(
                        "{key} did not read back as written, so it was left in the {} store; check the {} store and run the migration again",
                        from.backend(),
                        to.backend()
                    ),
                });
            }
            from.delete(&key)?;
            report.moved.push(key);
        } else if to.get(&key)?.as_ref() == Some(&secret) {
            from.delete(&key)?;
            report.already_present.push(key);
        } else {
            report.conflicts.push(key);
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{MemoryCredentialStore, Secret};

    #[test]
    fn moves_keeps_conflicts_and_dedupes() {
        let from = MemoryCredentialStore::new();
        let to = MemoryCredentialStore::new();
        let a = CredentialKey::new("anthropic", "a");
        let b = CredentialKey::new("anthropic", "b");
        let c = CredentialKey::new("openai", "c");
        from.set(&a, &Secret::new("sk-a")).expect("set");
        from.set(&b, &Secret::new("sk-b")).expect("set");
        from.set(&c, &Secret::new("sk-c-file")).expect("set");
        to.set(&b, &Secret::new("sk-b")).expect("set");
        to.set(&c, &Secret::new("sk-c-keychain")).expect("set");
        let report = migrate_credentials(&from, &to).expect("migrate");
        assert_eq!(report.moved, vec![a.clone()]);
        assert_eq!(report.already_present, vec![b.clone()]);
        assert_eq!(report.conflicts, vec![c.clone()]);
        assert!(!report.is_complete());
        assert_eq!(from.list().expect("list"), vec![c.clone()]);
        assert_eq!(to.get(&a).expect("get").expect("moved").expose(), "sk-a");
        assert_eq!(
            to.get(&c).expect("get").expect("kept").expose(),
            "sk-c-keychain"
        );
        assert_eq!(
            from.get(&c).expect("get").expect("kept").expose(),
            "sk-c-file"
        );
        // Running it again changes nothing.
        let again = migrate_credentials(&from, &to).expect("migrate");
        assert_eq!(again.conflicts, vec![c]);
        assert!(again.moved.is_empty() && again.already_present.is_empty());
    }

    #[test]
    fn a_read_only_target_leaves_the_source_intact() {
        let from = MemoryCredentialStore::new();
        let a = CredentialKey::new("anthropic", "a");
        from.set(&a, &Secret::new("sk-a")).expect("set");
        let err = migrate_credentials(&from, &crate::credentials::EnvCredentialStore)
            .expect_err("env is read-only");
        assert_eq!(err.code(), "credential");
        assert_eq!(from.list().expect("list"), vec![a]);
    }
}
