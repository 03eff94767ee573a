//! The file-backed profile store: `profiles/<alias>/profile.toml` plus `profiles/<alias>/home/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::run_stats::{self, RunStats};
use super::{BrokenKind, BrokenProfile, Profile, ProfileHold, ProfileListing, ProfileStore};
use crate::alias::validate_alias;
use crate::error::{Error, Result};
use crate::fsio;

const MANIFEST: &str = "profile.toml";
/// The profile's lock file: edits and deletes lock it exclusively, runs setting up the HOME
/// shared.
const LOCK: &str = ".lock";

/// Profiles as directories under one root.
#[derive(Debug, Clone)]
pub struct FileProfileStore {
    root: PathBuf,
    /// Profiles already read by a listing, with the stamps of the files they were read from.
    /// A server lists profiles for every dashboard poll (the target is 1,000 listings a second
    /// of 100 profiles); re-reading and re-parsing 200 files each time cost ≈ 1 ms of CPU a
    /// listing, two stats a profile cost a fraction. Shared by the store's clones.
    memo: Arc<Mutex<HashMap<String, Memo>>>,
}

/// A profile as a listing last read it.
#[derive(Debug)]
struct Memo {
    manifest: Stamp,
    stats: Option<Stamp>,
    profile: Profile,
}

/// What changes when a file is replaced or written: which file it is, its size and its
/// modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    modified: SystemTime,
}

/// How old a file's modification time must be before a stamp can stand for its content. File
/// times come from a coarse clock (a kernel tick, up to 4 ms on Linux), so two writes in the
/// same tick leave equal stamps; a file written within this long may be written again without
/// its stamp changing, and is read again next time (the way git treats a "racily clean" file).
const SETTLED: Duration = Duration::from_millis(100);

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Option<Self> {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Some(Self {
            dev,
            ino,
            len: meta.len(),
            modified: meta.modified().ok()?,
        })
    }

    /// Whether the file has not been written for [`SETTLED`] as of `now`.
    fn settled(&self, now: SystemTime) -> bool {
        now.duration_since(self.modified)
            .is_ok_and(|age| age >= SETTLED)
    }
}

impl FileProfileStore {
    /// A store rooted at `root` (normally `<data>/profiles`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            memo: Arc::default(),
        }
    }

    /// A listed profile: the one read before when neither of its files has changed since,
    /// else read now. `manifest` is profile.toml's metadata (following a symlink), taken
    /// before anything is read, so a write racing this read changes the stamp kept with it.
    fn read_listed(&self, alias: &str, manifest: Option<Stamp>) -> Result<Profile> {
        let stats = match std::fs::metadata(self.profile_dir(alias).join(run_stats::FILE)) {
            Ok(meta) => Stamp::of(&meta),
            Err(_) => None,
        };
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(manifest), Some(hit)) = (manifest, memo.get(alias))
            && hit.manifest == manifest
            && hit.stats == stats
        {
            return Ok(hit.profile.clone());
        }
        drop(memo);
        let profile = self.read(alias)?;
        let now = SystemTime::now();
        if let Some(manifest) = manifest
            && manifest.settled(now)
            && stats.is_none_or(|s| s.settled(now))
        {
            memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
            memo.insert(
                alias.to_string(),
                Memo {
                    manifest,
                    stats,
                    profile: profile.clone(),
                },
            );
        }
        Ok(profile)
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
                return Err(self.not_found(alias));
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
        // Edited by hand or not, the URL the agent is pointed at is checked like a given one.
        if let Some(url) = &profile.endpoint_url
            && let Err(why) = crate::base_url::parse(url)
        {
            return Err(Error::Parse {
                line: text
                    .lines()
                    .position(|l| l.trim_start().starts_with("endpoint_url"))
                    .map(|i| i + 1),
                path,
                message: format!(
                    "endpoint_url {why} (fix the file, or remove the profile with `ringlet profiles delete {alias}`)"
                ),
            });
        }
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
        fsio::open_locked(&self.profile_dir(alias).join(LOCK))
    }

    /// The profile's lock file, opened but not locked. Never creates the profile's directory:
    /// a profile deleted (renamed away) meanwhile is [`Error::ProfileNotFound`].
    fn open_lock(&self, alias: &str) -> Result<(std::fs::File, PathBuf)> {
        let path = self.profile_dir(alias).join(LOCK);
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => self.not_found(alias),
                _ => Error::io("opening", &path, e),
            })?;
        Ok((file, path))
    }

    /// After waiting for the lock: a delete may have renamed the directory away meanwhile, so
    /// the locked file must still be the one at the profile's path.
    fn still_in_place(&self, alias: &str, file: &std::fs::File, path: &Path) -> Result<()> {
        let gone = || self.not_found(alias);
        let at_path = match std::fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(gone()),
            Err(e) => return Err(Error::io("inspecting", path, e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let held = file
                .metadata()
                .map_err(|e| Error::io("inspecting", path, e))?;
            if (held.dev(), held.ino()) != (at_path.dev(), at_path.ino()) {
                return Err(gone());
            }
        }
        #[cfg(not(unix))]
        let _ = (file, at_path);
        Ok(())
    }

    fn scratch(&self, kind: &str, alias: &str) -> PathBuf {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        self.root
            .join(format!(".{kind}-{alias}-{}-{nanos}", std::process::id()))
    }
}

impl ProfileStore for FileProfileStore {
    /// From the directory names alone: no profile is parsed and no lock taken (a delete holding
    /// one may be the caller).
    fn not_found(&self, alias: &str) -> Error {
        let names: Vec<String> = std::fs::read_dir(&self.root)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .filter(|name| !name.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        Error::profile_not_found(alias, names.iter().map(String::as_str))
    }

    fn list(&self) -> Result<ProfileListing> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ProfileListing::default());
            }
            Err(e) => return Err(Error::io("listing", &self.root, e)),
        };
        let mut aliases: Vec<(String, Option<Stamp>)> = Vec::new();
        let mut broken: Vec<BrokenProfile> = Vec::new();
        for entry in entries.filter_map(|e| e.ok()) {
            // Staging and trash directories start with '.', which no alias does.
            let Some(alias) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if validate_alias(&alias).is_err() {
                continue;
            }
            let dir = entry.path();
            let manifest = dir.join(MANIFEST);
            // lstat first: a dangling symlinked profile.toml is incomplete, not unreadable.
            let Ok(meta) = manifest.symlink_metadata() else {
                if dir.is_dir() {
                    broken.push(incomplete(&alias, &manifest));
                }
                continue;
            };
            let is_link = meta.is_symlink();
            if !(meta.is_file() || is_link && manifest.is_file()) {
                broken.push(incomplete(&alias, &manifest));
                continue;
            }
            // A symlinked profile.toml is stamped by its target.
            let stamp = if is_link {
                std::fs::metadata(&manifest)
                    .ok()
                    .and_then(|m| Stamp::of(&m))
            } else {
                Stamp::of(&meta)
            };
            aliases.push((alias, stamp));
        }
        aliases.sort_by(|a, b| a.0.cmp(&b.0));
        {
            // Forget what is no longer listed.
            let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
            memo.retain(|alias, _| aliases.binary_search_by(|(a, _)| a.cmp(alias)).is_ok());
        }
        let mut profiles = Vec::with_capacity(aliases.len());
        for (alias, stamp) in aliases {
            match self.read_listed(&alias, stamp) {
                Ok(profile) => profiles.push(profile),
                // Deleted since the directory was read: it is simply gone.
                Err(Error::ProfileNotFound { .. }) => {}
                Err(e) => broken.push(unreadable(&alias, self.manifest_path(&alias), e)),
            }
        }
        broken.sort_by(|a, b| a.alias.cmp(&b.alias));
        Ok(ProfileListing { profiles, broken })
    }

    fn get(&self, alias: &str) -> Result<Profile> {
        self.read(alias)
    }

    fn exists(&self, alias: &str) -> Result<bool> {
        validate_alias(alias)?;
        Ok(self.profile_dir(alias).is_dir())
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

    fn edit(
        &self,
        alias: &str,
        change: &mut dyn FnMut(&Profile) -> Result<Profile>,
    ) -> Result<Profile> {
        validate_alias(alias)?;
        // Locked before reading, so two edits of one profile run one after the other and the
        // second sees the first's result; a delete that won the lock leaves nothing to edit.
        let (lock, lock_path) = self.open_lock(alias)?;
        lock.lock()
            .map_err(|e| Error::io("locking", &lock_path, e))?;
        self.still_in_place(alias, &lock, &lock_path)?;
        let dir = self.profile_dir(alias);
        let manifest = self.read_manifest(alias)?;
        let mut current = manifest.clone();
        if let Some(stats) = run_stats::read(&dir)? {
            stats.apply(&mut current.metadata);
        }
        let changed = change(&current)?;
        if changed.alias != alias {
            return Err(Error::InvalidInput(format!(
                "an edit of profile '{alias}' cannot rename it to '{}'",
                changed.alias.escape_debug()
            )));
        }
        run_stats::carry_over(&dir, RunStats::of(&manifest.metadata))?;
        self.write(&dir, &changed)?;
        Ok(changed)
    }

    fn delete(&self, alias: &str) -> Result<()> {
        validate_alias(alias)?;
        let dir = self.profile_dir(alias);
        // A directory without profile.toml is deleted too: it can only be a leftover.
        if !dir.is_dir() {
            return Err(self.not_found(alias));
        }
        // Exclusive: waits for runs setting the HOME up (they hold it shared), and a run that
        // comes after finds the directory gone.
        let (lock, lock_path) = self.open_lock(alias)?;
        lock.lock()
            .map_err(|e| Error::io("locking", &lock_path, e))?;
        self.still_in_place(alias, &lock, &lock_path)?;
        // Move aside first so the alias disappears atomically, then remove at leisure.
        let trash = self.scratch("deleted", alias);
        std::fs::rename(&dir, &trash).map_err(|e| Error::io("removing", &dir, e))?;
        drop(lock);
        remove_trash(&trash)
    }

    fn hold(&self, alias: &str) -> Result<ProfileHold> {
        validate_alias(alias)?;
        let (lock, lock_path) = self.open_lock(alias)?;
        lock.lock_shared()
            .map_err(|e| Error::io("locking", &lock_path, e))?;
        self.still_in_place(alias, &lock, &lock_path)?;
        // A leftover directory (no profile.toml) is no profile to run.
        if !self.manifest_path(alias).is_file() {
            return Err(self.not_found(alias));
        }
        Ok(ProfileHold::locked(lock))
    }

    fn record_run(&self, alias: &str, at: DateTime<Utc>) -> Result<()> {
        // The counters file is created in the profile's directory: make sure there is a
        // profile first (a stat, not a parse).
        validate_alias(alias)?;
        let manifest = self.manifest_path(alias);
        if !manifest.is_file() {
            return Err(self.not_found(alias));
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

/// A profile directory without its profile.toml.
fn incomplete(alias: &str, manifest: &Path) -> BrokenProfile {
    let dir = manifest.parent().unwrap_or(manifest);
    BrokenProfile {
        alias: alias.to_string(),
        kind: BrokenKind::Incomplete,
        path: manifest.to_path_buf(),
        line: None,
        message: format!(
            "{} has no {MANIFEST} (left by an interrupted delete, or written by an agent after its profile was deleted); remove it with `ringlet profiles delete {alias}`",
            dir.display()
        ),
    }
}

/// A profile whose files cannot be read; the error already names the file and the fix.
fn unreadable(alias: &str, manifest: PathBuf, error: Error) -> BrokenProfile {
    let (path, line) = match &error {
        Error::Parse { path, line, .. } => (path.clone(), *line),
        Error::Io { path, .. } => (path.clone(), None),
        _ => (manifest, None),
    };
    let mut message = error.to_string().replace('\n', " ");
    if !message.contains("ringlet profiles delete") {
        message.push_str(&format!(
            " (fix it, or remove the profile with `ringlet profiles delete {alias}`)"
        ));
    }
    BrokenProfile {
        alias: alias.to_string(),
        kind: BrokenKind::Unreadable,
        path,
        line,
        message,
    }
}

/// Removes a profile directory already moved aside. An agent still running from it may write
/// a file between `remove_dir_all` emptying a directory and removing it (ENOTEMPTY): the alias
/// is already gone, so try again briefly rather than fail the delete.
fn remove_trash(trash: &Path) -> Result<()> {
    let mut tries = 0;
    loop {
        match std::fs::remove_dir_all(trash) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty && tries < 50 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(Error::io("removing", trash, e)),
        }
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
            sandbox: Default::default(),
            proxy: Default::default(),
            budget: Default::default(),
            tasks: Default::default(),
            mcp: Default::default(),
            metadata: ProfileMetadata {
                created_at: Utc::now(),
                last_used: None,
                total_runs: 0,
            },
        }
    }

    /// Backdates a file, as if written long ago.
    fn age(path: &Path) {
        let old = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(old))
            .expect("backdate");
    }

    fn listed(store: &FileProfileStore, alias: &str) -> Profile {
        store
            .list()
            .expect("list")
            .profiles
            .into_iter()
            .find(|p| p.alias == alias)
            .expect("listed")
    }

    /// A listing re-reads only what changed: an untouched profile comes from memory, and every
    /// kind of change — an edit, a run counted, a delete, a write just now — is seen at once.
    #[test]
    fn a_listing_reads_again_exactly_what_changed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("a")).expect("create");
        let manifest = store.manifest_path("a");
        age(&manifest);
        assert_eq!(listed(&store, "a").model.as_deref(), Some("m"));

        // Rewritten in place with the same size and the old time put back: only a listing
        // that did not read the file again still says "m". (No writer does this; it shows the
        // memo is what answered.)
        let text = std::fs::read_to_string(&manifest).expect("read");
        let meta = std::fs::metadata(&manifest).expect("meta");
        std::fs::write(&manifest, text.replace("model = \"m\"", "model = \"n\"")).expect("write");
        std::fs::File::options()
            .write(true)
            .open(&manifest)
            .and_then(|f| f.set_modified(meta.modified().expect("mtime")))
            .expect("restore the time");
        assert_eq!(
            listed(&store, "a").model.as_deref(),
            Some("m"),
            "from memory"
        );

        // Real changes are seen at once, though the files were written within the same
        // clock tick as the listing before.
        let mut edited = profile("a");
        edited.model = Some("edited".into());
        store.update(&edited).expect("update");
        assert_eq!(listed(&store, "a").model.as_deref(), Some("edited"));
        store.record_run("a", Utc::now()).expect("count");
        assert_eq!(listed(&store, "a").metadata.total_runs, 1);
        store.record_run("a", Utc::now()).expect("count");
        assert_eq!(
            listed(&store, "a").metadata.total_runs,
            2,
            "same size, same tick"
        );
        age(&manifest);
        age(&store.profile_dir("a").join(run_stats::FILE));
        assert_eq!(listed(&store, "a").metadata.total_runs, 2);
        store.record_run("a", Utc::now()).expect("count");
        assert_eq!(listed(&store, "a").metadata.total_runs, 3, "after a memo");

        // A clone shares the memo; a deleted profile leaves it.
        let clone = store.clone();
        clone.delete("a").expect("delete");
        assert!(store.list().expect("list").profiles.is_empty());
        assert!(store.memo.lock().expect("memo").is_empty());
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
            .profiles
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
    fn one_broken_profile_never_hides_the_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        for alias in ["a", "broken", "c"] {
            store.create(&profile(alias)).expect("create");
        }
        let bad = store.manifest_path("broken");
        std::fs::write(&bad, "alias = \"broken\"\nagent = [\n").expect("corrupt");
        // A directory left without its profile.toml, and entries that are no profile at all.
        std::fs::create_dir_all(store.home_dir("leftover")).expect("leftover");
        std::fs::create_dir(dir.path().join(".deleted-x-1-2")).expect("trash");
        std::fs::write(dir.path().join("stray-file"), "").expect("stray");
        // Listed twice: the broken entries are reported on every listing.
        for _ in 0..2 {
            let listing = store.list().expect("the healthy ones are listed");
            let aliases: Vec<_> = listing.profiles.iter().map(|p| p.alias.as_str()).collect();
            assert_eq!(aliases, ["a", "c"]);
            assert_eq!(listing.broken.len(), 2, "{:?}", listing.broken);
            let broken = &listing.broken[0];
            assert_eq!(broken.alias, "broken");
            assert_eq!(broken.kind, BrokenKind::Unreadable);
            assert_eq!(broken.path, bad);
            assert_eq!(broken.line, Some(2));
            assert!(
                broken.message.contains("profile.toml:2:"),
                "{}",
                broken.message
            );
            assert!(
                broken.message.contains("ringlet profiles delete broken"),
                "{}",
                broken.message
            );
            let leftover = &listing.broken[1];
            assert_eq!(leftover.alias, "leftover");
            assert_eq!(leftover.kind, BrokenKind::Incomplete);
            assert!(
                leftover
                    .message
                    .contains("ringlet profiles delete leftover"),
                "{}",
                leftover.message
            );
        }
        // Asked about by name, the broken one is an error naming the file and line.
        let err = store.get("broken").expect_err("broken").to_string();
        assert!(err.contains("profile.toml:2:"), "{err}");
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
