//! The file-backed profile store: `profiles/<alias>/profile.toml` plus `profiles/<alias>/home/`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::run_stats::{self, RunStats};
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
        let mut profile = self.read_manifest(alias)?;
        // The counters live in run-stats; a profile.toml written before they moved there
        // still holds its own, which count until the first run or edit carries them over.
        if let Some(stats) = run_stats::read(&self.profile_dir(alias))? {
            stats.apply(&mut profile.metadata);
        }
        Ok(profile)
    }

    /// profile.toml alone, without the counters in run-stats (whose lock the caller may hold).
    fn read_manifest(&self, alias: &str) -> Result<Profile> {
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

    /// Writes profile.toml without the run counters, which live in run-stats.
    fn write(&self, dir: &Path, profile: &Profile) -> Result<()> {
        let cannot = |e: &dyn std::fmt::Display| {
            Error::InvalidInput(format!("cannot serialise profile: {e}"))
        };
        let mut table = toml::Table::try_from(profile).map_err(|e| cannot(&e))?;
        if let Some(toml::Value::Table(metadata)) = table.get_mut("metadata") {
            metadata.remove("total_runs");
            metadata.remove("last_used");
        }
        let text = toml::to_string_pretty(&table).map_err(|e| cannot(&e))?;
        fsio::write_atomic(&dir.join(MANIFEST), text.as_bytes(), Some(0o644))
    }

    fn lock(&self, alias: &str) -> Result<std::fs::File> {
        fsio::open_locked(&self.profile_dir(alias).join(".lock"))
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
        let mut aliases: Vec<String> = Vec::new();
        for entry in entries.filter_map(|e| e.ok()) {
            let Some(alias) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if validate_alias(&alias).is_err() {
                continue;
            }
            if !entry.path().join(MANIFEST).is_file() {
                continue;
            }
            aliases.push(alias);
        }
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
            self.write(&staging, profile)?;
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
        let current = self.read_manifest(&profile.alias)?;
        let _lock = self.lock(&profile.alias)?;
        let dir = self.profile_dir(&profile.alias);
        // The counters are run-stats' to keep (runs may have been counted since `profile` was
        // read); an old profile.toml's own are carried there before it is rewritten without.
        run_stats::carry_over(&dir, RunStats::of(&current.metadata))?;
        self.write(&dir, profile)
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

    fn record_run(&self, alias: &str, at: DateTime<Utc>) -> Result<()> {
        // The counters file is created in the profile's directory: make sure there is a
        // profile first (a stat, not a parse).
        validate_alias(alias)?;
        let manifest = self.manifest_path(alias);
        if !manifest.is_file() {
            return Err(Error::ProfileNotFound {
                alias: alias.to_string(),
            });
        }
        // profile.toml is parsed only for a profile that has never been counted in run-stats:
        // its own counters (from before they moved) are where the count starts.
        run_stats::count(&self.profile_dir(alias), at, || {
            Ok(RunStats::of(&self.read_manifest(alias)?.metadata))
        })
    }

    fn profile_dir(&self, alias: &str) -> PathBuf {
        self.root.join(alias)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::catalog::wire::WireShape;
    use crate::profile::ProfileMetadata;

    pub(in crate::profile) fn profile(alias: &str) -> Profile {
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
    fn counters_stay_out_of_profile_toml_and_survive_edits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("w")).expect("create");
        let stale = store.get("w").expect("get");
        store.record_run("w", Utc::now()).expect("record");
        store.record_run("w", Utc::now()).expect("record");
        // An edit made from a copy read before those runs does not undo them.
        store.update(&stale).expect("update");
        let p = store.get("w").expect("get");
        assert_eq!(p.metadata.total_runs, 2);
        assert!(p.metadata.last_used.is_some());
        let text = std::fs::read_to_string(store.manifest_path("w")).expect("read");
        assert!(
            !text.contains("total_runs") && !text.contains("last_used"),
            "{text}"
        );
        assert!(text.starts_with("alias = \"w\""), "{text}");
    }

    #[test]
    fn counters_of_an_older_profile_toml_carry_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("a")).expect("create a");
        store.create(&profile("b")).expect("create b");
        // profile.toml as written before the counters moved to run-stats.
        let mut old = profile("a");
        old.metadata.total_runs = 7;
        old.metadata.last_used = Some(Utc::now());
        for alias in ["a", "b"] {
            old.alias = alias.into();
            let text = toml::to_string_pretty(&old).expect("toml");
            std::fs::write(store.manifest_path(alias), text).expect("write");
            assert_eq!(store.get(alias).expect("get").metadata.total_runs, 7);
        }
        // The first run counts on from them; so does an edit made before any run.
        store.record_run("a", Utc::now()).expect("record");
        assert_eq!(store.get("a").expect("get").metadata.total_runs, 8);
        store.update(&profile("b")).expect("update");
        assert_eq!(store.get("b").expect("get").metadata.total_runs, 7);
        store.record_run("b", Utc::now()).expect("record");
        assert_eq!(store.get("b").expect("get").metadata.total_runs, 8);
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
