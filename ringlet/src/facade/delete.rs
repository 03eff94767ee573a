//! Deleting a profile and deciding what becomes of its API key: kept when another profile
//! uses it, removed otherwise (by default), or as the caller says.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Event, Ringlet};
use crate::credentials::CredentialKey;
use crate::error::{Error, Result};
use crate::launch::script_cache::ScriptCache;

/// What to do with the deleted profile's API key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyOnDelete {
    /// Remove it unless another profile uses the same key (the default).
    #[default]
    IfUnused,
    /// Keep it stored.
    Keep,
    /// Remove it; refused (before anything is deleted) when another profile uses it.
    Remove,
}

impl KeyOnDelete {
    /// Parses `if-unused`, `keep` or `remove`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "if-unused" => Some(Self::IfUnused),
            "keep" => Some(Self::Keep),
            "remove" => Some(Self::Remove),
            _ => None,
        }
    }

    /// Parses a name given by a caller, or says which names there are.
    pub fn parse(name: &str) -> Result<Self> {
        Self::from_name(name).ok_or_else(|| {
            Error::InvalidInput(format!(
                "'{}' is not a choice for the key of a deleted profile; use if-unused, keep or remove",
                name.escape_debug()
            ))
        })
    }
}

/// How [`Ringlet::delete_profile_with`] deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteOptions {
    /// What becomes of the profile's key.
    pub key: KeyOnDelete,
    /// Only say what would happen (for a confirmation question): nothing is deleted.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// The defaults: the key is removed unless another profile uses it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what becomes of the key.
    pub fn key(mut self, key: KeyOnDelete) -> Self {
        self.key = key;
        self
    }

    /// Only reports what would happen.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// What became of the deleted profile's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyOutcome {
    /// The profile named no key (or its profile.toml could not be read to say which).
    NoKey,
    /// Removed (for a dry run: would be).
    Removed,
    /// Kept, as asked.
    Kept,
    /// Kept because other profiles use it ([`DeleteReport::shared_with`]).
    Shared,
    /// Nothing was stored under its name.
    NotStored,
    /// Removing it failed ([`DeleteReport::key_error`]); the profile is deleted all the same.
    Failed,
}

/// What [`Ringlet::delete_profile_with`] did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeleteReport {
    /// The profile.
    pub alias: String,
    /// Its HOME (conversations, settings, logs), removed with it.
    pub home: PathBuf,
    /// The name of its key, when it had one.
    pub key: Option<CredentialKey>,
    /// What became of the key.
    pub key_outcome: KeyOutcome,
    /// The other profiles that use the same key, sorted.
    pub shared_with: Vec<String>,
    /// Why removing the key failed, for [`KeyOutcome::Failed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_error: Option<String>,
    /// Whether this was a dry run (nothing deleted).
    pub dry_run: bool,
}

impl Ringlet {
    /// Deletes a profile and its HOME, and removes its key unless another profile uses it, or
    /// as `options` say. A profile whose profile.toml cannot be read is deleted too (its key,
    /// unknown, is left alone). With [`DeleteOptions::dry_run`] nothing changes and the report
    /// says what would: a frontend asks its user with it.
    pub fn delete_profile_with(
        &self,
        alias: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteReport> {
        if !self.inner.profiles.exists(alias)? {
            return Err(self.inner.profiles.not_found(alias));
        }
        let home = self.inner.profiles.home_dir(alias);
        let key = self
            .inner
            .profiles
            .get(alias)
            .ok()
            .and_then(|p| p.key_alias.map(|k| CredentialKey::new(p.provider, k)));
        let mut report = DeleteReport {
            alias: alias.to_string(),
            home,
            key: key.clone(),
            key_outcome: KeyOutcome::NoKey,
            shared_with: Vec::new(),
            key_error: None,
            dry_run: options.dry_run,
        };
        if let Some(key) = &key {
            report.shared_with = self
                .inner
                .profiles
                .list()?
                .profiles
                .into_iter()
                .filter(|p| {
                    p.alias != alias
                        && p.provider == key.provider
                        && p.key_alias.as_deref() == Some(key.alias.as_str())
                })
                .map(|p| p.alias)
                .collect();
            report.shared_with.sort();
            report.key_outcome = match options.key {
                KeyOnDelete::Keep => KeyOutcome::Kept,
                _ if !report.shared_with.is_empty() => {
                    if options.key == KeyOnDelete::Remove {
                        return Err(Error::InvalidInput(format!(
                            "the key {key} is also used by {}; it cannot be removed with profile '{alias}' (keep it, or delete those profiles first)",
                            report
                                .shared_with
                                .iter()
                                .map(|a| format!("profile '{a}'"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    KeyOutcome::Shared
                }
                _ => match self.credentials().get(key) {
                    Ok(Some(_)) => KeyOutcome::Removed,
                    Ok(None) => KeyOutcome::NotStored,
                    // Cannot tell (a locked keychain): try, and say so if that fails.
                    Err(_) => KeyOutcome::Removed,
                },
            };
        }
        if options.dry_run {
            return Ok(report);
        }
        self.inner.profiles.delete(alias)?;
        ScriptCache::new(self.paths().cache_dir()).remove(alias);
        // Its proxied run spans: a new profile of the same name starts with none. Missing is
        // the usual case (a profile never proxied).
        let _ = std::fs::remove_file(crate::usage::proxied_runs_file(
            self.paths().data_dir(),
            alias,
        ));
        self.emit(Event::ProfileDeleted {
            alias: alias.to_string(),
        });
        if let (Some(key), KeyOutcome::Removed) = (&key, report.key_outcome) {
            match self.credentials().delete(key) {
                Ok(true) => {}
                Ok(false) => report.key_outcome = KeyOutcome::NotStored,
                Err(e) => {
                    report.key_outcome = KeyOutcome::Failed;
                    report.key_error = Some(e.to_string());
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::credentials::{MemoryCredentialStore, Secret};
    use crate::facade::NewProfile;

    fn ringlet(dir: &std::path::Path) -> Ringlet {
        Ringlet::builder()
            .home(dir)
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build")
    }

    fn create(r: &Ringlet, alias: &str, key_alias: &str) {
        let mut req = NewProfile::new("claude", alias, "anthropic");
        req.key_alias = Some(key_alias.into());
        r.create_profile(&req, Some(&Secret::new("sk-test".to_string())))
            .expect("create");
    }

    fn stored(r: &Ringlet, alias: &str) -> bool {
        r.credentials()
            .get(&CredentialKey::new("anthropic", alias))
            .expect("get")
            .is_some()
    }

    #[test]
    fn the_key_goes_only_when_no_other_profile_uses_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        create(&r, "a", "shared");
        create(&r, "b", "shared");
        create(&r, "c", "own");

        // A dry run says what would happen and changes nothing.
        let plan = r
            .delete_profile_with("a", &DeleteOptions::new().dry_run(true))
            .expect("plan");
        assert_eq!(plan.key_outcome, KeyOutcome::Shared);
        assert_eq!(plan.shared_with, ["b"]);
        assert!(plan.dry_run);
        assert!(r.has_profile("a").expect("has"));

        // Removing a shared key is refused before anything is deleted.
        let err = r
            .delete_profile_with("a", &DeleteOptions::new().key(KeyOnDelete::Remove))
            .expect_err("shared");
        assert!(
            err.to_string().contains("also used by profile 'b'"),
            "{err}"
        );
        assert!(r.has_profile("a").expect("has"));

        let a = r
            .delete_profile_with("a", &DeleteOptions::new())
            .expect("delete");
        assert_eq!(a.key_outcome, KeyOutcome::Shared);
        assert_eq!(a.key, Some(CredentialKey::new("anthropic", "shared")));
        assert!(!r.has_profile("a").expect("has"));
        assert!(stored(&r, "shared"), "b still needs it");

        // The last user takes it with it.
        let b = r
            .delete_profile_with("b", &DeleteOptions::new())
            .expect("delete");
        assert_eq!(b.key_outcome, KeyOutcome::Removed);
        assert!(b.shared_with.is_empty());
        assert!(!stored(&r, "shared"));

        let c = r
            .delete_profile_with("c", &DeleteOptions::new().key(KeyOnDelete::Keep))
            .expect("delete");
        assert_eq!(c.key_outcome, KeyOutcome::Kept);
        assert!(stored(&r, "own"));

        // A key that was never stored.
        create(&r, "d", "own");
        r.remove_key(&CredentialKey::new("anthropic", "own"))
            .expect("rm");
        let d = r
            .delete_profile_with("d", &DeleteOptions::new().key(KeyOnDelete::Remove))
            .expect("delete");
        assert_eq!(d.key_outcome, KeyOutcome::NotStored);
    }

    #[test]
    fn a_missing_profile_is_not_found_with_a_suggestion_and_a_broken_one_is_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ringlet(dir.path());
        create(&r, "work", "work");
        let err = r
            .delete_profile_with("wrok", &DeleteOptions::new())
            .expect_err("missing");
        assert_eq!(err.suggestion(), Some("work"));

        let manifest = r
            .profile_home("work")
            .expect("home")
            .with_file_name("profile.toml");
        std::fs::write(&manifest, "agent = \n").expect("corrupt");
        let report = r
            .delete_profile_with("work", &DeleteOptions::new())
            .expect("delete");
        assert_eq!(report.key_outcome, KeyOutcome::NoKey, "unknown: left alone");
        assert!(!r.has_profile("work").expect("has"));
        assert!(stored(&r, "work"));
    }

    #[test]
    fn key_choices_parse_by_name() {
        for k in [
            KeyOnDelete::IfUnused,
            KeyOnDelete::Keep,
            KeyOnDelete::Remove,
        ] {
            let name = serde_json::to_value(k).expect("json");
            assert_eq!(KeyOnDelete::from_name(name.as_str().expect("str")), Some(k));
        }
        assert_eq!(KeyOnDelete::from_name("maybe"), None);
        let err = KeyOnDelete::parse("maybe").expect_err("unknown");
        assert!(
            err.to_string().contains("use if-unused, keep or remove"),
            "{err}"
        );
    }
}
