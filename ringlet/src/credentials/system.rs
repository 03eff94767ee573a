//! The OS keychain, through the `keyring` crate (4.x, its `v1` platform stores):
//!
//! - Linux and the BSDs: the Secret Service (GNOME Keyring, KWallet, KeePassXC) over the D-Bus
//!   session bus, spoken in pure Rust by `zbus`, so nothing needs libdbus;
//! - macOS: Keychain Services; Windows: Credential Manager.
//!
//! Every key is one generic password: service `ringlet`, account `<provider>/<alias>`.
//!
//! Connecting is lazy: building a store touches nothing, and the first read or write connects
//! (once per process; `keyring` keeps the connection). [`SystemCredentialStore::unavailable_reason`]
//! is the cheap check to run first: with no D-Bus session it answers from the environment
//! alone, so the common headless case costs no time at all.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use keyring_core::Error as KeyringError;

use super::{CredentialKey, CredentialStore, Secret};
use crate::error::{Error, Result};

/// The service name every ringlet key is stored under.
pub const KEYCHAIN_SERVICE: &str = "ringlet";

/// Keys in the OS keychain.
#[derive(Debug, Clone)]
pub struct SystemCredentialStore {
    service: String,
    lock_file: Option<PathBuf>,
}

impl Default for SystemCredentialStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemCredentialStore {
    /// The store ringlet uses: service `ringlet`.
    pub fn new() -> Self {
        Self::with_service(KEYCHAIN_SERVICE)
    }

    /// A store under another service name, so tests and side-by-side installs never touch the
    /// real `ringlet` entries.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            lock_file: None,
        }
    }

    /// Serialises [`set_new`](CredentialStore::set_new) through an exclusive `flock` on
    /// `path` (created if missing). No keychain ringlet uses can create an item only if it is
    /// absent: the Secret Service's `CreateItem` either replaces an item with the same
    /// attributes or adds a duplicate, and `keyring` offers only "set". So the check and the
    /// write are made under this lock, and every process that uses the same lock file sees
    /// them as one step. Without one, `set_new` checks and then writes, unguarded.
    pub fn with_lock_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.lock_file = Some(path.into());
        self
    }

    /// The service name entries are stored under.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Why the keychain certainly cannot be reached, decided from the environment alone (no
    /// I/O): on Linux and the BSDs, no `DBUS_SESSION_BUS_ADDRESS`. `None` means "worth
    /// trying", not "available": [`SystemCredentialStore::connect`] says for sure.
    pub fn unavailable_reason() -> Option<String> {
        platform::unavailable_reason()
    }

    /// Connects to the keychain (once per process), or says why it cannot.
    pub fn connect(&self) -> Result<()> {
        if let Some(reason) = Self::unavailable_reason() {
            return Err(unavailable(reason));
        }
        match keyring::Entry::store_status() {
            Ok(()) => Ok(()),
            Err(e) => Err(unavailable(platform::describe_connect_error(e))),
        }
    }

    fn entry(&self, key: &CredentialKey) -> Result<keyring_core::Entry> {
        self.connect()?;
        let account = key.to_string();
        platform::entry(&self.service, &account).map_err(|e| map_error(e, &account))
    }
}

/// The lock file ringlet's create-only keychain writes take. The keychain belongs to the
/// user, not to one `RINGLET_HOME`, so the lock is per user where there is a per-user runtime
/// directory (`$XDG_RUNTIME_DIR`, private to the user), which every ringlet of the login
/// session shares whatever its `RINGLET_HOME`; elsewhere (macOS, Windows, no session) it is
/// in ringlet's config directory, shared by the processes using that directory.
pub(crate) fn lock_file(config_dir: &Path) -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() && dir.is_dir() => dir.join("ringlet-keychain.lock"),
        _ => config_dir.join("keychain.lock"),
    }
}

/// [`Error::KeychainUnavailable`] with this platform's fix.
pub(crate) fn unavailable(reason: String) -> Error {
    Error::KeychainUnavailable {
        reason,
        fix: platform::FIX.to_string(),
    }
}

/// Turns a keyring error into ours. Only `Display` of the platform error is used: some keyring
/// errors carry the secret's bytes (`BadEncoding`), which must never reach a message.
fn map_error(err: KeyringError, what: &str) -> Error {
    let credential = |message: String| Error::Credential {
        backend: "system".into(),
        message,
    };
    match err {
        KeyringError::NoStorageAccess(inner) => match platform::no_access_kind(inner.as_ref()) {
            NoAccess::NoDefaultKeyring(reason) => unavailable(reason),
            NoAccess::Locked => Error::KeychainLocked {
                what: what.to_string(),
                detail: inner.to_string(),
            },
        },
        KeyringError::PlatformFailure(inner) if platform::is_unavailable(inner.as_ref()) => {
            unavailable(inner.to_string())
        }
        KeyringError::PlatformFailure(inner) => {
            credential(format!("the keychain failed on {what}: {inner}"))
        }
        KeyringError::NoDefaultStore => {
            unavailable("the platform keychain store could not be set up".into())
        }
        KeyringError::Ambiguous(items) => credential(format!(
            "{} keychain items match {what}; keep one with your keychain's own tool (Passwords and Keys, Keychain Access, Credential Manager) and run the command again",
            items.len()
        )),
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => credential(format!(
            "the keychain item for {what} is not UTF-8 text; store the key again with `ringlet keychain set <provider> <alias> --replace`"
        )),
        other => credential(format!("the keychain refused {what}: {other}")),
    }
}

/// What a "no storage access" error means.
enum NoAccess {
    /// The keychain works but has nowhere to store items.
    NoDefaultKeyring(String),
    /// Locked, and unlocking was refused or impossible (no prompt can be shown).
    Locked,
}

/// `provider/alias` back into a key; anything else under our service is not ours.
fn parse_account(account: &str) -> Option<CredentialKey> {
    let (provider, alias) = account.split_once('/')?;
    (!provider.is_empty() && !alias.is_empty() && !alias.contains('/'))
        .then(|| CredentialKey::new(provider, alias))
}

impl CredentialStore for SystemCredentialStore {
    fn backend(&self) -> &str {
        "system"
    }

    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>> {
        match self.entry(key)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e, &key.to_string())),
        }
    }

    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()> {
        self.entry(key)?
            .set_password(secret.expose())
            .map_err(|e| map_error(e, &key.to_string()))
    }

    /// Under the lock file (see [`SystemCredentialStore::with_lock_file`]): the residual
    /// window is a writer that does not take the same lock (another program, or a ringlet
    /// using another lock file), whose item this may replace.
    fn set_new(&self, key: &CredentialKey, secret: &Secret) -> Result<bool> {
        let entry = self.entry(key)?;
        let _lock = match &self.lock_file {
            Some(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
                }
                Some(crate::fsio::open_locked(path)?)
            }
            None => None,
        };
        match entry.get_password() {
            Ok(_) => return Ok(false),
            // Stored, though unreadable as text, or stored twice: either way, there is one.
            Err(
                KeyringError::BadEncoding(_)
                | KeyringError::BadDataFormat(..)
                | KeyringError::Ambiguous(_),
            ) => return Ok(false),
            Err(KeyringError::NoEntry) => {}
            Err(e) => return Err(map_error(e, &key.to_string())),
        }
        entry
            .set_password(secret.expose())
            .map_err(|e| map_error(e, &key.to_string()))?;
        Ok(true)
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool> {
        match self.entry(key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e, &key.to_string())),
        }
    }

    /// Lists by asking the keychain itself (a search on the service), not a names index kept
    /// beside it: the keychain stays the only source of truth, so entries added or removed
    /// with the OS's own tools (Passwords and Keys, `secret-tool`, Keychain Access) show up
    /// correctly, and there is no second file that could drift or reveal which keys exist.
    fn list(&self) -> Result<Vec<CredentialKey>> {
        self.connect()?;
        let spec = platform::search_spec(&self.service);
        let spec: HashMap<&str, &str> = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let entries =
            keyring_core::Entry::search(&spec).map_err(|e| map_error(e, "the key list"))?;
        let mut keys: Vec<CredentialKey> = entries
            .iter()
            .filter_map(keyring_core::Entry::get_specifiers)
            .filter(|(service, _)| *service == self.service)
            .filter_map(|(_, account)| parse_account(&account))
            .collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    fn ensure_ready(&self) -> Result<()> {
        self.connect()
    }
}

/// The Secret Service (Linux, the BSDs).
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
mod platform {
    use std::collections::HashMap;

    use super::{KeyringError, NoAccess};

    pub(super) const FIX: &str = "install and start a Secret Service (`apt install gnome-keyring` and use a desktop session, or KWallet, or KeePassXC), or keep keys in the 0600 file with `[credentials] backend = \"file\"` in config.toml";

    pub(super) fn unavailable_reason() -> Option<String> {
        match std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
            Some(addr) if !addr.is_empty() => None,
            _ => Some(
                "DBUS_SESSION_BUS_ADDRESS is not set, so there is no D-Bus session bus to reach a Secret Service on"
                    .into(),
            ),
        }
    }

    pub(super) fn describe_connect_error(err: &KeyringError) -> String {
        let addr = std::env::var("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default();
        let detail = match err {
            KeyringError::PlatformFailure(inner) | KeyringError::NoStorageAccess(inner) => {
                match inner.downcast_ref::<secret_service::Error>() {
                    Some(secret_service::Error::Unavailable) => {
                        "no Secret Service answered (is gnome-keyring, KWallet or KeePassXC running?)"
                            .to_string()
                    }
                    _ => inner.to_string(),
                }
            }
            other => other.to_string(),
        };
        format!("cannot use a Secret Service on the D-Bus session bus {addr}: {detail}")
    }

    pub(super) fn is_unavailable(err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        matches!(
            err.downcast_ref::<secret_service::Error>(),
            Some(secret_service::Error::Unavailable)
        )
    }

    pub(super) fn no_access_kind(
        err: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> NoAccess {
        match err.downcast_ref::<secret_service::Error>() {
            // The zbus store reports a missing default collection as "no result".
            Some(secret_service::Error::NoResult) => NoAccess::NoDefaultKeyring(
                "the Secret Service has no default keyring to store keys in (headless: create and unlock one with `gnome-keyring-daemon --unlock`, the new keyring's password on stdin)"
                    .into(),
            ),
            _ => NoAccess::Locked,
        }
    }

    pub(super) fn search_spec(service: &str) -> Vec<(&'static str, String)> {
        vec![("service", service.to_string())]
    }

    pub(super) fn entry(service: &str, account: &str) -> keyring_core::Result<keyring_core::Entry> {
        // A label people recognise in Passwords and Keys / seahorse.
        let label = format!("{service} API key {account}");
        let modifiers = HashMap::from([("label", label.as_str())]);
        keyring_core::Entry::new_with_modifiers(service, account, &modifiers)
    }
}

/// Keychain Services (macOS).
#[cfg(target_os = "macos")]
mod platform {
    use super::{KeyringError, NoAccess};

    pub(super) const FIX: &str = "make sure your login keychain exists and is unlocked (Keychain Access), or keep keys in the 0600 file with `[credentials] backend = \"file\"` in config.toml";

    pub(super) fn unavailable_reason() -> Option<String> {
        None
    }

    pub(super) fn describe_connect_error(err: &KeyringError) -> String {
        format!("cannot open the macOS keychain: {err}")
    }

    pub(super) fn is_unavailable(_err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }

    pub(super) fn no_access_kind(
        _err: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> NoAccess {
        NoAccess::Locked
    }

    pub(super) fn search_spec(service: &str) -> Vec<(&'static str, String)> {
        vec![("service", service.to_string())]
    }

    pub(super) fn entry(service: &str, account: &str) -> keyring_core::Result<keyring_core::Entry> {
        keyring_core::Entry::new(service, account)
    }
}

/// Credential Manager (Windows).
#[cfg(target_os = "windows")]
mod platform {
    use super::{KeyringError, NoAccess};

    pub(super) const FIX: &str = "make sure Windows Credential Manager is available to this user, or keep keys in the file with `[credentials] backend = \"file\"` in config.toml";

    pub(super) fn unavailable_reason() -> Option<String> {
        None
    }

    pub(super) fn describe_connect_error(err: &KeyringError) -> String {
        format!("cannot open Windows Credential Manager: {err}")
    }

    pub(super) fn is_unavailable(_err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }

    pub(super) fn no_access_kind(
        _err: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> NoAccess {
        NoAccess::Locked
    }

    /// Credential Manager names a generic credential `<account>.<service>` and searches by a
    /// regular expression over that name.
    pub(super) fn search_spec(service: &str) -> Vec<(&'static str, String)> {
        let escaped: String = service
            .chars()
            .flat_map(|c| {
                let escape = !c.is_ascii_alphanumeric();
                escape.then_some('\\').into_iter().chain(std::iter::once(c))
            })
            .collect();
        vec![("pattern", format!(r"\.{escaped}$"))]
    }

    pub(super) fn entry(service: &str, account: &str) -> keyring_core::Result<keyring_core::Entry> {
        keyring_core::Entry::new(service, account)
    }
}

/// Everything else: `keyring` has no store here, and connecting says so.
#[cfg(not(any(
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ),
    target_os = "macos",
    target_os = "windows"
)))]
mod platform {
    use super::{KeyringError, NoAccess};

    pub(super) const FIX: &str = "this platform has no keychain ringlet can use; keep keys in the file with `[credentials] backend = \"file\"` in config.toml";

    pub(super) fn unavailable_reason() -> Option<String> {
        None
    }

    pub(super) fn describe_connect_error(err: &KeyringError) -> String {
        err.to_string()
    }

    pub(super) fn is_unavailable(_err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
        false
    }

    pub(super) fn no_access_kind(
        _err: &(dyn std::error::Error + Send + Sync + 'static),
    ) -> NoAccess {
        NoAccess::Locked
    }

    pub(super) fn search_spec(service: &str) -> Vec<(&'static str, String)> {
        vec![("service", service.to_string())]
    }

    pub(super) fn entry(service: &str, account: &str) -> keyring_core::Result<keyring_core::Entry> {
        keyring_core::Entry::new(service, account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_parse_back_into_keys() {
        assert_eq!(
            parse_account("anthropic/work"),
            Some(CredentialKey::new("anthropic", "work"))
        );
        for bad in ["", "anthropic", "/work", "anthropic/", "a/b/c"] {
            assert_eq!(parse_account(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_never_carry_the_secret_bytes() {
        let err = map_error(
            KeyringError::BadEncoding(b"sk-canary-\xff".to_vec()),
            "anthropic/work",
        );
        let msg = err.to_string();
        assert!(!msg.contains("canary"), "{msg}");
        assert!(msg.contains("anthropic/work"), "{msg}");
    }

    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    #[test]
    fn no_session_bus_is_decided_without_io() {
        // Only the pure function: the real environment is left alone (tests run in parallel).
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            let reason = SystemCredentialStore::unavailable_reason().expect("no bus");
            assert!(reason.contains("DBUS_SESSION_BUS_ADDRESS"), "{reason}");
            let err = SystemCredentialStore::new()
                .get(&CredentialKey::new("anthropic", "work"))
                .expect_err("no keychain");
            assert_eq!(err.code(), "keychain_unavailable");
            assert!(err.to_string().contains("backend = \"file\""), "{err}");
        }
    }

    /// The public conformance suite against the real keychain, under throwaway service names
    /// so a developer's own `ringlet` entries are never touched. Here rather than in
    /// ringlet/tests/conformance.rs with the other stores because tests/run.sh runs
    /// `--lib credentials::` inside a private D-Bus session with gnome-keyring. Skips without a
    /// D-Bus session unless `RINGLET_KEYCHAIN_REQUIRED=1` (as run.sh sets there).
    #[test]
    fn conforms_against_the_real_keychain() {
        if let Some(reason) = SystemCredentialStore::unavailable_reason() {
            assert!(
                std::env::var("RINGLET_KEYCHAIN_REQUIRED").as_deref() != Ok("1"),
                "RINGLET_KEYCHAIN_REQUIRED=1 but the keychain is unavailable: {reason}"
            );
            // Straight to stderr: libtest captures eprintln!, and a skip should be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipping the keychain conformance test: {reason}"
            );
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let mut stores = Vec::new();
        crate::conformance::credential_store(|| {
            let n = stores.len();
            let store = SystemCredentialStore::with_service(format!(
                "ringlet-unit-test-{}-{n}",
                std::process::id()
            ))
            .with_lock_file(dir.path().join(format!("keychain-{n}.lock")));
            // Leftovers from an aborted run would break the suite's expectations.
            for key in store.list().expect("list") {
                store.delete(&key).expect("clean up");
            }
            stores.push(store.clone());
            store
        });
        for store in stores {
            assert!(
                store.list().expect("list").is_empty(),
                "the suite cleans up"
            );
        }
    }
}
