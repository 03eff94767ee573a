//! The last listing of a [`FileProfileStore`](super::FileProfileStore), kept in memory while the
//! kernel says nothing under `profiles/` has changed since it was read.
//!
//! Listing 100 profiles opens and parses 200 small files (≈ 0.7 ms). A long-lived embedder — an
//! editor extension, a dashboard, a launcher menu — lists again and again while nothing
//! changes. Here an inotify instance watches `profiles/` and every profile's directory (not
//! recursively: an agent writing under `home/` is not a change), and the listing is served from
//! memory until any event arrives. File mtimes cannot do this job: ext4 stamps them from a
//! clock that ticks every few milliseconds, so two writes in one tick look like one.
//!
//! Why it is exact: the kernel queues an inotify event inside the writing system call (rename,
//! write, unlink…), before that call returns to the writer. Every listing first drains the
//! queue without blocking, so a change that finished before the listing started is always seen,
//! whichever process made it. The watch on a directory is added before that directory is read,
//! so a change made while a listing is being built leaves an event for the next one.
//!
//! Where it is not exact, the cache stays off and every listing reads the files: outside Linux;
//! on filesystems where another machine may write (NFS, SMB, FUSE… — only known local ones
//! qualify); when a profile.toml is a symlink (its target's directory is not watched); when the
//! kernel refuses an instance or a watch (`fs.inotify.max_user_instances` / `max_user_watches`);
//! and when `RINGLET_PROFILE_CACHE=off` is set. A change made through a hard link from outside
//! `profiles/`, or through a shared memory map, is not seen; nothing ringlet or an editor does
//! makes one. A forked child watches with an instance of its own, leaving the shared queue to
//! its parent. The cache arms on the second listing of a store, so a one-shot command
//! (the CLI's `profiles list`) never pays for the watches, and a process holds at most 16
//! inotify instances (one per armed store; the per-user limit is shared with every other
//! program): further stores read the files until one is dropped.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use super::Profile;

/// The cache of one store. All methods are cheap when the cache is off.
#[derive(Debug, Default)]
pub(super) struct ListingCache {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Listings read from the files so far (the cache arms on the second).
    reads: u32,
    /// Set once arming failed or cannot work here; the cache then stays off.
    off: bool,
    watch: Option<imp::Watch>,
    /// The last listing, while no event has arrived since its files were read.
    current: Option<Arc<[Profile]>>,
}

impl State {
    /// The snapshot, if it is still current: drains the watch's events first.
    fn current(&mut self) -> Option<&Arc<[Profile]>> {
        let watch = self.watch.as_ref()?;
        match watch.changed() {
            imp::Changed::No => {}
            imp::Changed::Yes => self.current = None,
            // A watched directory went away (a profile deleted, `profiles/` itself replaced) or
            // events were lost: start again with a new instance on the next listing.
            imp::Changed::Rewatch => {
                self.watch = None;
                self.current = None;
            }
            imp::Changed::Unreadable => self.turn_off(),
        }
        self.current.as_ref()
    }

    fn turn_off(&mut self) {
        self.off = true;
        self.watch = None;
        self.current = None;
    }
}

/// What a listing that reads the files must tell the cache, in order: [`ListingCache::begin`]
/// before reading the directory, [`Reading::watch`] with each profile found, before reading it,
/// and [`Reading::finish`] with the result. While watching it holds the cache's lock, so
/// listings of one store wait for the one reading the files and are then served from memory;
/// unwatched listings run side by side.
pub(super) struct Reading<'a> {
    state: Option<MutexGuard<'a, State>>,
}

impl ListingCache {
    /// The listing from memory, if it is known to be current. Never waits: `None` when
    /// another thread is busy with the cache or the files would have to be read.
    pub(super) fn try_current(&self) -> Option<Arc<[Profile]>> {
        let mut state = self.state.try_lock().ok()?;
        state.current().map(Arc::clone)
    }

    /// The listing from memory if it is current (`Ok`), else a [`Reading`] to build it with:
    /// the watch on `root` is armed, if due, before the caller reads the directory.
    pub(super) fn begin(&self, root: &Path) -> Result<Vec<Profile>, Reading<'_>> {
        // Poisoned only if a listing panicked half-way: stop caching rather than trust it.
        let mut state = self.state.lock().unwrap_or_else(|poisoned| {
            let mut state = poisoned.into_inner();
            state.turn_off();
            state
        });
        if let Some(current) = state.current() {
            return Ok(current.to_vec());
        }
        state.reads = state.reads.saturating_add(1);
        if state.watch.is_none() && !state.off && state.reads >= 2 {
            match watch(root) {
                Ok(watch) => state.watch = Some(watch),
                // No `profiles/` yet, or no instance free: try again on the next listing.
                Err(imp::Refused::NotYet) => {}
                Err(imp::Refused::Never) => state.off = true,
            }
        }
        let watching = state.watch.is_some();
        Err(Reading {
            state: watching.then_some(state),
        })
    }
}

impl Reading<'_> {
    /// Watches a profile's directory, before it is read (nothing when not watching). `manifest_is_link`: its profile.toml
    /// is a symlink, whose target's changes would go unseen, so the cache turns off.
    pub(super) fn watch(&mut self, dir: &Path, manifest_is_link: bool) {
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let added = state.watch.as_ref().is_some_and(|w| w.add(dir));
        if manifest_is_link || !added {
            state.turn_off();
            self.state = None;
        }
    }

    /// Keeps a successful listing while nothing changes.
    pub(super) fn finish(self, listing: &[Profile]) {
        if let Some(mut state) = self.state {
            state.current = Some(Arc::from(listing));
        }
    }
}

/// `RINGLET_PROFILE_CACHE=off` (or `0`, `false`, `no`) keeps every listing reading the files: an
/// escape hatch, and how benches/bindings_overhead.sh times the uncached path.
const SWITCH: &str = "RINGLET_PROFILE_CACHE";

/// A watch on `root`, unless switched off.
fn watch(root: &Path) -> Result<imp::Watch, Refused> {
    let off = std::env::var_os(SWITCH)
        .is_some_and(|v| matches!(v.to_str(), Some("off" | "0" | "false" | "no")));
    if off {
        return Err(Refused::Never);
    }
    imp::Watch::new(root)
}

/// Why a watch was not set up.
#[derive(Debug)]
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
enum Refused {
    /// Not now: `profiles/` does not exist yet, or no inotify instance is to be had.
    NotYet,
    /// Not here: another OS, a network filesystem, inotify refused for good, switched off.
    Never,
}

/// What a watch saw since it was last asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
enum Changed {
    No,
    /// Something under `profiles/` changed.
    Yes,
    /// A watched directory went away, the kernel dropped events, or this is a forked child of
    /// the instance's owner: watch afresh.
    Rewatch,
    /// The events cannot be read: give up watching.
    Unreadable,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use nix::errno::Errno;
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
    use nix::sys::statfs::{self, FsType};

    pub(super) use super::{Changed, Refused};

    /// Filesystems only this machine writes to, where inotify sees every change.
    const LOCAL: &[FsType] = &[
        statfs::EXT4_SUPER_MAGIC, // also ext2 and ext3: one magic
        statfs::XFS_SUPER_MAGIC,
        statfs::BTRFS_SUPER_MAGIC,
        statfs::TMPFS_MAGIC,
        statfs::F2FS_SUPER_MAGIC,
        statfs::OVERLAYFS_SUPER_MAGIC,
        statfs::REISERFS_SUPER_MAGIC,
        statfs::NILFS_SUPER_MAGIC,
        // ZFS and bcachefs have no constants in libc (`as _`: the word is 32 bits on some targets).
        FsType(0x2fc1_2fc1_u32 as _),
        FsType(0xca45_1a4e_u32 as _),
    ];

    /// Every change a listing could see: entries created, removed, renamed, written or
    /// re-permissioned, and the watched directory itself going away.
    fn changes() -> AddWatchFlags {
        AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_ATTRIB
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_MOVE_SELF
            | AddWatchFlags::IN_ONLYDIR
    }

    /// Most inotify instances this process holds at once, one per armed store. The per-user
    /// limit (`fs.inotify.max_user_instances`, often 128) is shared with every program the user
    /// runs, editors' file watchers included, and an embedder with a garbage collector (Node)
    /// may keep stores it no longer uses alive for a long while. Past this many, a store lists
    /// from the files until another lets go of its instance.
    pub(super) const MAX_INSTANCES: usize = 16;

    /// Instances held now, by [`Slot`]s.
    static INSTANCES: AtomicUsize = AtomicUsize::new(0);

    /// One of the [`MAX_INSTANCES`], given back when dropped.
    #[derive(Debug)]
    struct Slot(());

    impl Slot {
        fn take() -> Option<Self> {
            INSTANCES
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < MAX_INSTANCES).then_some(n + 1)
                })
                .ok()
                .map(|_| Slot(()))
        }
    }

    impl Drop for Slot {
        fn drop(&mut self) {
            INSTANCES.fetch_sub(1, Ordering::AcqRel);
        }
    }

    #[derive(Debug)]
    pub(super) struct Watch {
        // Close-on-exec, so launched agents do not inherit it; non-blocking, so draining an
        // empty queue returns at once.
        inotify: Inotify,
        /// The process that made the instance. A forked child (Python's `multiprocessing`)
        /// shares its queue: were the child to drain it, the parent would miss the events.
        owner: u32,
        _slot: Slot,
    }

    impl Watch {
        /// Watches `root`, if it is on a local filesystem and the kernel grants an instance.
        pub(super) fn new(root: &Path) -> Result<Self, Refused> {
            let fs = match statfs::statfs(root) {
                Ok(fs) => fs.filesystem_type(),
                Err(Errno::ENOENT) => return Err(Refused::NotYet),
                Err(_) => return Err(Refused::Never),
            };
            if !LOCAL.contains(&fs) {
                return Err(Refused::Never);
            }
            // Out of instances, here or for the user: try again on a later listing.
            let slot = Slot::take().ok_or(Refused::NotYet)?;
            let inotify = match Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK) {
                Ok(inotify) => inotify,
                Err(Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM) => return Err(Refused::NotYet),
                Err(_) => return Err(Refused::Never),
            };
            match inotify.add_watch(root, changes()) {
                Ok(_) => Ok(Self {
                    inotify,
                    owner: std::process::id(),
                    _slot: slot,
                }),
                Err(Errno::ENOENT) => Err(Refused::NotYet),
                Err(_) => Err(Refused::Never),
            }
        }

        /// Adds a watch on a profile directory (the same one again is a no-op in the kernel).
        /// A directory gone meanwhile is no failure: its going left an event on `profiles/`.
        pub(super) fn add(&self, dir: &Path) -> bool {
            match self.inotify.add_watch(dir, changes()) {
                Ok(_) | Err(Errno::ENOENT | Errno::ENOTDIR) => true,
                Err(_) => false,
            }
        }

        /// What arrived since the last call.
        pub(super) fn changed(&self) -> Changed {
            // In a forked child: leave the shared queue to the parent, whose events they are
            // as much as ours, and watch afresh with an instance of this process's own.
            if std::process::id() != self.owner {
                return Changed::Rewatch;
            }
            let mut changed = Changed::No;
            loop {
                match self.inotify.read_events() {
                    Ok(events) => {
                        let gone = AddWatchFlags::IN_IGNORED
                            | AddWatchFlags::IN_DELETE_SELF
                            | AddWatchFlags::IN_MOVE_SELF
                            | AddWatchFlags::IN_Q_OVERFLOW;
                        // A dropped instance's other events do not matter.
                        if events.iter().any(|e| e.mask.intersects(gone)) {
                            return Changed::Rewatch;
                        }
                        if !events.is_empty() {
                            changed = Changed::Yes;
                        }
                    }
                    Err(Errno::EAGAIN) => return changed,
                    Err(Errno::EINTR) => {}
                    Err(_) => return Changed::Unreadable,
                }
            }
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::path::Path;

    pub(super) use super::{Changed, Refused};

    /// No watch outside Linux: every listing reads the files.
    #[derive(Debug)]
    pub(super) struct Watch;

    impl Watch {
        pub(super) fn new(_root: &Path) -> Result<Self, Refused> {
            Err(Refused::Never)
        }

        pub(super) fn add(&self, _dir: &Path) -> bool {
            false
        }

        pub(super) fn changed(&self) -> Changed {
            Changed::Unreadable
        }
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use chrono::Utc;
    use proptest::prelude::*;

    use super::super::file_store::tests::profile;
    use super::super::{FileProfileStore, ProfileStore};

    /// What a store with no memory of earlier listings reads.
    fn fresh(store_root: &std::path::Path) -> Vec<super::Profile> {
        FileProfileStore::new(store_root)
            .list()
            .expect("uncached list")
            .profiles
    }

    fn aliases(list: &[super::Profile]) -> Vec<&str> {
        list.iter().map(|p| p.alias.as_str()).collect()
    }

    #[test]
    fn arms_on_the_second_listing_and_serves_from_memory_until_a_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("a")).expect("create");
        assert!(store.list_cached().is_none());
        store.list().expect("first");
        assert!(
            store.list_cached().is_none(),
            "a one-shot listing keeps nothing"
        );
        store.list().expect("second");
        let cached = store.list_cached().expect("kept after the second listing");
        assert_eq!(aliases(&cached), ["a"]);

        // Another writer, back to back with no pause: the next listing sees each change, even
        // within one tick of the filesystem's clock.
        let other = FileProfileStore::new(dir.path());
        for i in 0..20 {
            let mut p = profile("a");
            p.model = Some(format!("m{i}"));
            other.update(&p).expect("update");
            assert!(store.list_cached().is_none(), "change {i} unseen");
            assert_eq!(store.list().expect("list").profiles[0].model, p.model);
            assert!(store.list_cached().is_some());
        }
    }

    #[test]
    fn sees_hand_edits_run_counts_new_and_deleted_profiles() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = FileProfileStore::new(dir.path());
        store.create(&profile("a")).expect("create");
        store.list().expect("first");
        store.list().expect("second");

        // A hand edit, written in place the way a careless editor does.
        let manifest = dir.path().join("a/profile.toml");
        let text = std::fs::read_to_string(&manifest).expect("read");
        std::fs::write(
            &manifest,
            text.replace("model = \"m\"", "model = \"edited\""),
        )
        .expect("write");
        assert_eq!(
            store.list().expect("list").profiles[0].model.as_deref(),
            Some("edited")
        );

        store.record_run("a", Utc::now()).expect("record");
        assert_eq!(
            store.list().expect("list").profiles[0].metadata.total_runs,
            1
        );

        store.create(&profile("b")).expect("create b");
        assert_eq!(aliases(&store.list().expect("list").profiles), ["a", "b"]);
        // A profile created inside b after the listing armed watches on it.
        let mut b = profile("b");
        b.model = Some("b2".into());
        store.update(&b).expect("update b");
        assert_eq!(
            store.list().expect("list").profiles[1].model.as_deref(),
            Some("b2")
        );

        store.delete("a").expect("delete");
        assert_eq!(aliases(&store.list().expect("list").profiles), ["b"]);
        // Deleting dropped the watch; the next listings watch afresh and keep serving.
        store.list().expect("list");
        assert!(store.list_cached().is_some());
        let mut b = profile("b");
        b.model = Some("b3".into());
        store.update(&b).expect("update b");
        assert_eq!(
            store.list().expect("list").profiles[0].model.as_deref(),
            Some("b3")
        );
    }

    #[test]
    fn waits_for_the_profiles_directory_and_survives_its_replacement() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("profiles");
        let store = FileProfileStore::new(&root);
        assert!(store.list().expect("none").profiles.is_empty());
        assert!(store.list().expect("none").profiles.is_empty());
        store.create(&profile("a")).expect("create");
        assert_eq!(aliases(&store.list().expect("list").profiles), ["a"]);
        store.list().expect("list");
        assert!(store.list_cached().is_some(), "armed once profiles/ exists");

        // profiles/ moved away and a new one put in its place.
        std::fs::rename(&root, dir.path().join("old")).expect("move");
        let other = FileProfileStore::new(&root);
        other.create(&profile("z")).expect("create z");
        assert_eq!(aliases(&store.list().expect("list").profiles), ["z"]);
        store.list().expect("list");
        other.create(&profile("y")).expect("create y");
        assert_eq!(aliases(&store.list().expect("list").profiles), ["y", "z"]);
    }

    #[test]
    fn a_symlinked_manifest_is_listed_but_never_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("profiles");
        let store = FileProfileStore::new(&root);
        store.create(&profile("a")).expect("create");
        let elsewhere = dir.path().join("dotfiles.toml");
        std::fs::rename(root.join("a/profile.toml"), &elsewhere).expect("move");
        std::os::unix::fs::symlink(&elsewhere, root.join("a/profile.toml")).expect("link");
        for _ in 0..3 {
            assert_eq!(aliases(&store.list().expect("list").profiles), ["a"]);
        }
        assert!(store.list_cached().is_none());
        let text = std::fs::read_to_string(&elsewhere).expect("read");
        std::fs::write(&elsewhere, text.replace("model = \"m\"", "model = \"x\"")).expect("write");
        assert_eq!(
            store.list().expect("list").profiles[0].model.as_deref(),
            Some("x")
        );
    }

    #[derive(Debug, Clone)]
    enum Op {
        Create(u8),
        Update(u8, u8),
        Delete(u8),
        Run(u8),
        HandEdit(u8, u8),
        List,
    }

    fn op() -> impl Strategy<Value = Op> {
        let alias = 0u8..4;
        prop_oneof![
            alias.clone().prop_map(Op::Create),
            (alias.clone(), any::<u8>()).prop_map(|(a, m)| Op::Update(a, m)),
            alias.clone().prop_map(Op::Delete),
            alias.clone().prop_map(Op::Run),
            (alias, any::<u8>()).prop_map(|(a, m)| Op::HandEdit(a, m)),
            Just(Op::List),
            Just(Op::List),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Whatever another writer does, a listing equals what a store with no cache reads.
        #[test]
        fn a_listing_always_equals_a_fresh_read(ops in proptest::collection::vec(op(), 1..40)) {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = FileProfileStore::new(dir.path());
            let other = FileProfileStore::new(dir.path());
            let name = |a: u8| format!("p{a}");
            for op in ops {
                // Failures (an alias taken or missing) are part of the sequence, not the test.
                match op {
                    Op::Create(a) => { let _ = other.create(&profile(&name(a))); }
                    Op::Update(a, m) => {
                        let mut p = profile(&name(a));
                        p.model = Some(format!("m{m}"));
                        let _ = other.update(&p);
                    }
                    Op::Delete(a) => { let _ = other.delete(&name(a)); }
                    Op::Run(a) => { let _ = other.record_run(&name(a), Utc::now()); }
                    Op::HandEdit(a, m) => {
                        let path = dir.path().join(name(a)).join("profile.toml");
                        if let Ok(text) = std::fs::read_to_string(&path) {
                            let edited = text.replace("model = \"", &format!("model = \"h{m}"));
                            std::fs::write(&path, edited).expect("hand edit");
                        }
                    }
                    Op::List => {}
                }
                let listed = store.list().expect("list").profiles;
                prop_assert_eq!(&listed, &fresh(dir.path()));
                if let Some(cached) = store.list_cached() {
                    prop_assert_eq!(&cached[..], &listed[..]);
                }
            }
        }
    }
}
