//! Credentials: API keys stored by (provider, alias). Profiles hold only the alias; the key is
//! looked up at launch and travels only in the agent's environment.

mod audit;
mod env;
mod fallback;
mod file;
mod memory;
mod migrate;
mod secret;
mod system;

use std::fmt::{self, Debug};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use audit::AuditedCredentialStore;
pub use env::EnvCredentialStore;
pub(crate) use fallback::KeychainOrFileStore;
pub use file::FileCredentialStore;
pub use memory::MemoryCredentialStore;
pub use migrate::{MigrationReport, migrate_credentials};
pub use secret::Secret;
pub use system::{KEYCHAIN_SERVICE, SystemCredentialStore};

use crate::config::CredentialBackend;
use crate::error::Result;
use crate::paths::Paths;
use crate::warning::Warnings;

/// Names one stored key: `<provider>/<alias>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CredentialKey {
    /// The provider id.
    pub provider: String,
    /// The key alias.
    pub alias: String,
}

impl CredentialKey {
    /// Builds a key name.
    pub fn new(provider: impl Into<String>, alias: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            alias: alias.into(),
        }
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.alias)
    }
}

/// A place API keys are kept. Implementations never log or print a value, and pass the
/// conformance suite (`ringlet::conformance::credential_store`).
pub trait CredentialStore: Send + Sync + Debug {
    /// A short backend name for messages (`file`, `env`, `memory`, `system`).
    fn backend(&self) -> &str;

    /// The key stored under `key`, if any.
    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>>;

    /// Stores (or replaces) a key.
    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()>;

    /// Stores a key only when none is stored under `key` yet; returns whether it did (`false`:
    /// one was already there, and it is left as it was). This is what "set without
    /// `--replace`" means, and it must decide and write in one step: of any number of
    /// concurrent callers for one name, exactly one may get `true`.
    ///
    /// The default checks with [`get`](Self::get) and then writes with [`set`](Self::set),
    /// so another writer can slip in between; a store that can do better overrides it (the
    /// file store under its lock, the keychain under a lock file, memory under its mutex).
    fn set_new(&self, key: &CredentialKey, secret: &Secret) -> Result<bool> {
        if self.get(key)?.is_some() {
            return Ok(false);
        }
        self.set(key, secret)?;
        Ok(true)
    }

    /// Removes a key; returns whether one was there.
    fn delete(&self, key: &CredentialKey) -> Result<bool>;

    /// The names of all stored keys, sorted.
    fn list(&self) -> Result<Vec<CredentialKey>>;

    /// [`get`](Self::get) for a lookup made on behalf of a profile, so a wrapping store (the
    /// audit log) can record which one.
    fn get_for(&self, key: &CredentialKey, profile: Option<&str>) -> Result<Option<Secret>> {
        let _ = profile;
        self.get(key)
    }

    /// Makes sure the backend can be used, connecting if that is done lazily, so a frontend
    /// can report a fallback before it starts something long-running. A no-op by default.
    fn ensure_ready(&self) -> Result<()> {
        Ok(())
    }
}

/// The store `[credentials] backend` selects. `system-only` fails here when the keychain
/// certainly cannot be reached; `system` falls back to the file, recording the warning in
/// `warnings` the first time a key is used.
pub(crate) fn open_configured(
    backend: CredentialBackend,
    fallback_warning: crate::config::FallbackWarning,
    paths: &Paths,
    warnings: &Warnings,
) -> Result<Arc<dyn CredentialStore>> {
    Ok(match backend {
        CredentialBackend::File => Arc::new(FileCredentialStore::new(paths.credentials_file())),
        CredentialBackend::Env => Arc::new(EnvCredentialStore),
        CredentialBackend::SystemOnly => {
            if let Some(reason) = SystemCredentialStore::unavailable_reason() {
                return Err(system::unavailable(reason));
            }
            Arc::new(system_store(paths))
        }
        CredentialBackend::System => Arc::new(
            KeychainOrFileStore::new(
                system_store(paths),
                FileCredentialStore::new(paths.credentials_file()),
                paths.config_file(),
                warnings.clone(),
            )
            .notice(
                fallback_warning,
                paths.data_dir().join(fallback::STAMP_FILE),
            ),
        ),
    })
}

/// The keychain store ringlet uses, with the lock file that makes its create-only writes
/// atomic among ringlet processes (see [`SystemCredentialStore::with_lock_file`]).
pub(crate) fn system_store(paths: &Paths) -> SystemCredentialStore {
    SystemCredentialStore::new().with_lock_file(system::lock_file(paths.config_dir()))
}

pub(crate) mod conformance {
    //! The suite every writable credential store runs, public as
    //! [`ringlet::conformance::credential_store`](crate::conformance::credential_store)
    //! so a store in another crate runs the same one; and the checks a
    //! read-only store passes. Test support: it panics on the first difference.
    use super::*;

    /// Runs the writable credential-store suite. `make` returns a new, empty store each time it
    /// is called (for the keychain: a service name of its own); each section gets its own.
    /// Stores keys only under the providers `anthropic` and `openai`, and leaves the store
    /// empty when it passes.
    ///
    /// ```ignore
    /// #[test]
    /// fn the_vault_store_conforms() {
    ///     ringlet::conformance::credential_store(|| VaultStore::new(&fresh_mount()));
    /// }
    /// ```
    pub fn credential_store<S: CredentialStore>(mut make: impl FnMut() -> S) {
        run(&make());
        names_and_values_round_trip_exactly(&make());
        run_concurrent_set_new(&make());
    }

    /// Checks a read-only store (like the `env` backend): a key it does not hold is `None`,
    /// every write is refused with an error naming its backend, and refusing changes nothing.
    pub fn read_only_credential_store(store: &dyn CredentialStore) {
        let key = CredentialKey::new("anthropic", "ringlet-conformance-absent");
        assert!(store.get(&key).expect("get missing").is_none());
        let before = store.list().expect("list");
        let secret = Secret::new("sk-refused");
        for (what, refused) in [
            ("set", store.set(&key, &secret).err()),
            ("set_new", store.set_new(&key, &secret).err()),
            ("delete", store.delete(&key).err()),
        ] {
            let err = refused.unwrap_or_else(|| panic!("{what} on a read-only store succeeded"));
            assert!(
                err.to_string().contains(store.backend()),
                "{what}: the error names the backend: {err}"
            );
        }
        assert!(store.get(&key).expect("get after").is_none());
        assert_eq!(store.list().expect("list after"), before);
    }

    /// Names that differ only in punctuation are different keys, and values come back byte
    /// for byte, whatever they hold (a store that quotes, trims or re-encodes breaks keys).
    fn names_and_values_round_trip_exactly(store: &dyn CredentialStore) {
        let values = [
            "sk-ant-api03-abc_DEF-123",
            " spaced  and \"quoted\" = 'x' ",
            "multi\nline\ttab",
            "ünïcödé-🔑",
            &"k".repeat(4096),
        ];
        // Not names differing only in case: some keychains (Windows) fold it.
        let names: Vec<CredentialKey> = ["a.b", "a-b", "a_b", "ab"]
            .into_iter()
            .enumerate()
            .map(|(i, alias)| {
                CredentialKey::new(if i % 2 == 0 { "anthropic" } else { "openai" }, alias)
            })
            .collect();
        for (name, value) in names.iter().zip(values) {
            store.set(name, &Secret::new(value)).expect("set");
        }
        for (name, value) in names.iter().zip(values) {
            let got = store.get(name).expect("get").expect("present");
            assert_eq!(got.expose(), value, "{name}");
        }
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(store.list().expect("list"), sorted, "listed sorted");
        let long = CredentialKey::new("openai", "long");
        store.set(&long, &Secret::new(values[4])).expect("set long");
        assert_eq!(
            store.get(&long).expect("get").expect("present").expose(),
            values[4]
        );
        for name in names.iter().chain([&long]) {
            assert!(store.delete(name).expect("delete"), "{name}");
        }
        assert!(store.list().expect("list").is_empty());
    }

    /// The basic operations, and create-only writes.
    pub fn run(store: &dyn CredentialStore) {
        let a = CredentialKey::new("anthropic", "work");
        let b = CredentialKey::new("openai", "default");
        assert!(store.get(&a).expect("get missing").is_none());
        store.set(&a, &Secret::new("sk-one")).expect("set a");
        store.set(&b, &Secret::new("sk-two")).expect("set b");
        assert_eq!(
            store.get(&a).expect("get a").expect("a present").expose(),
            "sk-one"
        );
        store.set(&a, &Secret::new("sk-three")).expect("replace a");
        assert_eq!(
            store.get(&a).expect("get a").expect("a present").expose(),
            "sk-three"
        );
        assert_eq!(store.list().expect("list"), vec![a.clone(), b.clone()]);
        assert!(store.delete(&a).expect("delete a"));
        assert!(!store.delete(&a).expect("delete a again"));
        assert_eq!(store.list().expect("list"), vec![b.clone()]);

        // Create-only: stores when absent, leaves a stored key alone.
        assert!(
            store
                .set_new(&a, &Secret::new("sk-new"))
                .expect("set_new a")
        );
        assert_eq!(
            store.get(&a).expect("get a").expect("a present").expose(),
            "sk-new"
        );
        assert!(
            !store
                .set_new(&a, &Secret::new("sk-other"))
                .expect("set_new a again")
        );
        assert!(
            !store
                .set_new(&b, &Secret::new("sk-other"))
                .expect("set_new b")
        );
        assert_eq!(
            store.get(&a).expect("get a").expect("a present").expose(),
            "sk-new"
        );
        assert_eq!(
            store.get(&b).expect("get b").expect("b present").expose(),
            "sk-two"
        );
        assert!(store.delete(&a).expect("delete a"));
        assert!(store.delete(&b).expect("delete b"));
        assert!(store.list().expect("list").is_empty());
    }

    /// Twenty threads store a key under one name at once with `set_new`: exactly one is
    /// told it stored its key, and that key is the one kept.
    pub fn run_concurrent_set_new(store: &dyn CredentialStore) {
        let key = CredentialKey::new("anthropic", "contended");
        let barrier = std::sync::Barrier::new(20);
        let stored: Vec<usize> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..20)
                .map(|i| {
                    let (key, barrier) = (&key, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        store
                            .set_new(key, &Secret::new(format!("sk-racer-{i}")))
                            .expect("set_new")
                    })
                })
                .collect();
            threads
                .into_iter()
                .enumerate()
                .filter_map(|(i, t)| t.join().expect("thread").then_some(i))
                .collect()
        });
        assert_eq!(stored.len(), 1, "exactly one stores: {stored:?}");
        assert_eq!(
            store.get(&key).expect("get").expect("present").expose(),
            format!("sk-racer-{}", stored[0])
        );
        assert!(store.delete(&key).expect("delete"));
    }
}
