//! The file-backed profile store: `profiles/<alias>/profile.toml` plus `profiles/<alias>/home/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{Profile, ProfileStore};
use crate::alias::validate_alias;
use crate::error::{Error, Result};
use crate::fsio;

const MANIFEST: &str = "profile.toml";

/// Profiles as directories under one root.
#[derive(Debug, Clone)]
pub struct FileProfileStore {
    root: PathBuf,
}

impl FileProfileStore {
    /// A store rooted at `root` (normally `<data>/profiles`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn manifest_path(&self, alias: &str) -> PathBuf {
        self.profile_dir(alias).join(MANIFEST)
    }

    fn read(&self, alias: &str) -> Result<Profile> {
        validate_alias(alias)?;
        let path = self.manifest_path(alias);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::ProfileNotFound {
                    alias: alias.to_string(),
                });
            }
            Err(e) => return Err(Error::io("reading", &path, e)),
        };
        let profile: Profile = toml::from_str(&text).map_err(|e| match Error::toml(&path, &text, &e) {
            Error::Parse {
                path,
                line,
                message,
            } => Error::Parse {
                path,
                line,
                message: format!(
                    "{message} (fix the file, or remove the profile with `ringlet profiles delete {alias}`)"
                ),
            },
            other => other,
        })?;
        if profile.alias != alias {
            return Err(Error::Parse {
                path,
                line: None,
                message: format!(
                    "alias '{}' does not match its directory '{alias}'",
                    profile.alias.escape_debug()
                ),
            });
        }
        Ok(profile)
    }

    fn write(&self, dir: &Path, profile: &Profile, durable: bool) -> Result<()> {
        let text = toml::to_string_pretty(profile)
            .map_err(|e| Error::InvalidInput(format!("cannot serialise profile: {e}")))?;
        let path = dir.join(MANIFEST);
        if durable {
            fsio::write_atomic(&path, text.as_bytes(), Some(0o644))
        } else {
            fsio::write_atomic_volatile(&path, text.as_bytes(), Some(0o644))
        }
    }

    fn lock(&self, alias: &str) -> Result<std::fs::File> {
        let path = self.profile_dir(alias).join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("opening", &path, e))?;
        file.lock().map_err(|e| Error::io("locking", &path, e))?;
        Ok(file)
    }

    fn scratch(&self, kind: &str, alias: &str) -> PathBuf {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        self.root
            .join(format!(".{kind}-{alias}-{}-{nanos}", std::process::id()))
    }
}

impl ProfileStore for FileProfileStore {
    fn list(&self) -> Result<Vec<Profile>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("listing", &self.root, e)),
        };
        let mut aliases: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(MANIFEST).is_file())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|name| validate_alias(name).is_ok())
            .collect();
        aliases.sort();
        aliases.iter().map(|a| self.read(a)).collect()
    }

    fn get(&self, alias: &str) -> Result<Profile> {
        self.read(alias)
    }

    fn exists(&self, alias: &str) -> Result<bool> {
        validate_alias(alias)?;
        Ok(self.manifest_path(alias).exists())
    }

    fn create(&self, profile: &Profile) -> Result<()> {
        validate_alias(&profile.alias)?;
        let target = self.profile_dir(&profile.alias);
        if target.exists() {
            return Err(Error::ProfileExists {
                alias: profile.alias.clone(),
            });
        }
        std::fs::create_dir_all(&self.root).map_err(|e| Error::io("creating", &self.root, e))?;
        // Build the whole profile in a scratch directory, then rename it into place: the rename
        // is atomic and fails if another process created the alias meanwhile.
        let staging = self.scratch("new", &profile.alias);
        let result = (|| {
            let home = staging.join("home");
            std::fs::create_dir_all(&home).map_err(|e| Error::io("creating", &staging, e))?;
            // The HOME holds the agent's conversations and, for some agents, a config file with
            // the key: private to the user.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| Error::io("setting permissions of", &home, e))?;
            }
            self.write(&staging, profile, true)?;
            match std::fs::rename(&staging, &target) {
                Ok(()) => Ok(()),
                Err(_) if target.exists() => Err(Error::ProfileExists {
                    alias: profile.alias.clone(),
                }),
                Err(e) => Err(Error::io("creating", &target, e)),
            }
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        result
    }

    fn update(&self, profile: &Profile) -> Result<()> {
        self.read(&profile.alias)?;
        let _lock = self.lock(&profile.alias)?;
        self.write(&self.profile_dir(&profile.alias), profile, true)
    }

    fn delete(&self, alias: &str) -> Result<()> {
        validate_alias(alias)?;
        let dir = self.profile_dir(alias);
        if !dir.join(MANIFEST).exists() {
            return Err(Error::ProfileNotFound {
                alias: alias.to_string(),
            });
        }
        // Move aside first so the alias disappears atomically, then remove at leisure.
        let trash = self.scratch("deleted", alias);
        std::fs::rename(&dir, &trash).map_err(|e| Error::io("removing", &dir, e))?;
        std::fs::remove_dir_all(&trash).map_err(|e| Error::io("removing", &trash, e))
    }

    fn record_run(&self, alias: &str, at: DateTime<Utc>) -> Result<Profile> {
        // The lock file is created in the profile's directory: make sure there is a profile
        // first (a stat; the read under the lock parses the file).
        validate_alias(alias)?;
        if !self.manifest_path(alias).is_file() {
            return Err(Error::ProfileNotFound {
                alias: alias.to_string(),
            });
        }
        let _lock = self.lock(alias)?;
        let mut profile = self.read(alias)?;
        profile.metadata.total_runs += 1;
        profile.metadata.last_used =
            Some(profile.metadata.last_used.map_or(at, |prev| prev.max(at)));
        // Run counters are bookkeeping: losing the last increment to a power cut is acceptable,
        // an fsync on every launch is not.
        self.write(&self.profile_dir(alias), &profile, false)?;
        Ok(profile)
    }

    fn profile_dir(&self, alias: &str) -> PathBuf {
        self.root.join(alias)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileMetadata;
    use crate::wire::WireShape;

    fn profile(alias: &str) -> Profile {
        Profile {
            alias: alias.into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            endpoint: Some("default".into()),
            endpoint_url: None,
            shape: WireShape::Anthropic,
            model: Some("m".into()),
            key_alias: Some(alias.into()),
            binary: None,
            working_dir: None,
            args: vec![],
            env: Default::default(),
            metadata: ProfileMetadata {
                created_at: Utc::now(),
                last_used: None,
                total_runs: 0,
            },
        }
    }

    #[test]
    fn create_get_list_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("b")).expect("create b");
        store.create(&profile("a")).expect("create a");
        assert!(store.home_dir("a").is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.home_dir("a"))
                .expect("home")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        assert!(matches!(
            store.create(&profile("a")),
            Err(Error::ProfileExists { .. })
        ));
        let aliases: Vec<_> = store
            .list()
            .expect("list")
            .into_iter()
            .map(|p| p.alias)
            .collect();
        assert_eq!(aliases, ["a", "b"]);
        store.delete("a").expect("delete");
        assert!(matches!(store.get("a"), Err(Error::ProfileNotFound { .. })));
        assert!(matches!(
            store.delete("a"),
            Err(Error::ProfileNotFound { .. })
        ));
        // Nothing but the remaining profile is left in the root.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readdir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["b"]);
    }

    #[test]
    fn corrupt_manifest_names_file_line_and_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("w")).expect("create");
        std::fs::write(
            store.profile_dir("w").join(MANIFEST),
            "alias = \"w\"\nagent = [\n",
        )
        .expect("corrupt");
        let msg = store.get("w").expect_err("corrupt").to_string();
        assert!(msg.contains("profile.toml:"), "{msg}");
        assert!(msg.contains("ringlet profiles delete w"), "{msg}");
        store
            .delete("w")
            .expect("a corrupt profile can still be deleted");
    }

    #[test]
    fn record_run_is_safe_across_threads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("w")).expect("create");
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..5 {
                        store.record_run("w", Utc::now()).expect("record");
                    }
                });
            }
        });
        let p = store.get("w").expect("get");
        assert_eq!(p.metadata.total_runs, 40);
        assert!(p.metadata.last_used.is_some());
    }

    #[test]
    fn hostile_aliases_never_touch_the_filesystem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path().join("profiles"));
        for bad in ["../x", "..", "a/b"] {
            assert!(matches!(store.get(bad), Err(Error::InvalidAlias { .. })));
            assert!(matches!(store.delete(bad), Err(Error::InvalidAlias { .. })));
            assert!(matches!(
                store.create(&profile(bad)),
                Err(Error::InvalidAlias { .. })
            ));
        }
        assert!(!dir.path().join("x").exists());
    }
}
