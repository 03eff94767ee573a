//! The `system` backend: the OS keychain when it can be reached, otherwise the 0600 file, with
//! a warning that says why and how to get a keychain.
//!
//! The choice is made once per process and as late as possible. With no D-Bus session it is
//! made from the environment when the store is built (no I/O); otherwise the first key
//! operation connects. Commands that never touch a key never connect and never warn.
//!
//! Only "cannot reach a keychain at all" falls back. A keychain that is there but locked, or
//! has no default keyring, is an error: quietly writing keys somewhere else instead would
//! leave them split between two places.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::{CredentialKey, CredentialStore, FileCredentialStore, Secret, SystemCredentialStore};
use crate::config::FallbackWarning;
use crate::error::{Error, Result};
use crate::warning::Warnings;

/// The warning code of a fallback to the file.
pub(crate) const FALLBACK_WARNING: &str = "credentials_fallback";

/// The file in the data directory that records when the fallback warning was last given (Unix
/// seconds), for `fallback-warning = "daily"`.
pub(crate) const STAMP_FILE: &str = "keychain-fallback-warned";

/// How long a daily warning stays quiet after it was given.
const QUIET_FOR: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug)]
enum State {
    /// Not decided yet: the next operation connects.
    Untried,
    /// The keychain answered.
    Keychain,
    /// No keychain, for this reason; the file is used.
    File(String),
}

/// Keychain when available, else the file.
#[derive(Debug)]
pub(crate) struct KeychainOrFileStore {
    system: SystemCredentialStore,
    file: FileCredentialStore,
    config_file: PathBuf,
    state: Mutex<State>,
    warnings: Warnings,
    notice: FallbackWarning,
    stamp: Option<PathBuf>,
}

impl KeychainOrFileStore {
    pub(crate) fn new(
        system: SystemCredentialStore,
        file: FileCredentialStore,
        config_file: PathBuf,
        warnings: Warnings,
    ) -> Self {
        let state = match SystemCredentialStore::unavailable_reason() {
            Some(reason) => State::File(reason),
            None => State::Untried,
        };
        Self {
            system,
            file,
            config_file,
            state: Mutex::new(state),
            warnings,
            notice: FallbackWarning::Always,
            stamp: None,
        }
    }

    /// How often the fallback is told, with the stamp file that spaces daily warnings.
    pub(crate) fn notice(mut self, notice: FallbackWarning, stamp: PathBuf) -> Self {
        self.notice = notice;
        self.stamp = Some(stamp);
        self
    }

    /// Whether this use of the file is to be told. Daily: when the stamp is missing, unreadable,
    /// a day old or from the future (a clock set back), and then the stamp is renewed; a stamp
    /// that cannot be written means telling every time rather than never.
    fn tell(&self) -> bool {
        match (self.notice, &self.stamp) {
            (FallbackWarning::Never, _) => false,
            (FallbackWarning::Daily, Some(stamp)) => {
                let now = SystemTime::now();
                if told_within(stamp, now, QUIET_FOR) {
                    return false;
                }
                let secs = now
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let _ = std::fs::create_dir_all(stamp.parent().unwrap_or(Path::new(".")))
                    .and_then(|()| std::fs::write(stamp, format!("{secs}\n")));
                true
            }
            _ => true,
        }
    }

    /// The store to use, deciding (and warning) on first use.
    fn active(&self) -> Result<&dyn CredentialStore> {
        let mut state = self.state.lock().map_err(|_| Error::Credential {
            backend: "system".into(),
            message: "the store's lock was poisoned by a panic elsewhere".into(),
        })?;
        if matches!(*state, State::Untried) {
            match self.system.connect() {
                Ok(()) => *state = State::Keychain,
                Err(Error::KeychainUnavailable { reason, .. }) => *state = State::File(reason),
                Err(other) => return Err(other),
            }
        }
        match &*state {
            State::File(reason) => {
                if self.tell() {
                    self.warnings
                        .push(FALLBACK_WARNING, self.fallback_message(reason));
                }
                Ok(&self.file)
            }
            _ => Ok(&self.system),
        }
    }

    fn fallback_message(&self, reason: &str) -> String {
        format!(
            "no system keychain ({reason}); keeping API keys in {} (mode 0600) instead. For the keychain: {}. To use the file on purpose and silence this, set `[credentials] backend = \"file\"` in {}",
            self.file.path().display(),
            install_hint(),
            self.config_file.display()
        )
    }
}

/// Whether `stamp` records a warning given less than `quiet` before `now`.
fn told_within(stamp: &Path, now: SystemTime, quiet: Duration) -> bool {
    let Some(secs) = std::fs::read_to_string(stamp)
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
    else {
        return false;
    };
    let told = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    now.duration_since(told).is_ok_and(|ago| ago < quiet)
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn install_hint() -> &'static str {
    "install a Secret Service (`apt install gnome-keyring`, or KWallet) and run ringlet in a desktop session"
}

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn install_hint() -> &'static str {
    "make sure the OS keychain is available to this user"
}

impl CredentialStore for KeychainOrFileStore {
    fn backend(&self) -> &str {
        match self.state.lock().as_deref() {
            Ok(State::File(_)) => "file",
            _ => "system",
        }
    }

    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>> {
        self.active()?.get(key)
    }

    fn set(&self, key: &CredentialKey, secret: &Secret) -> Result<()> {
        self.active()?.set(key, secret)
    }

    fn set_new(&self, key: &CredentialKey, secret: &Secret) -> Result<bool> {
        self.active()?.set_new(key, secret)
    }

    fn delete(&self, key: &CredentialKey) -> Result<bool> {
        self.active()?.delete(key)
    }

    fn list(&self) -> Result<Vec<CredentialKey>> {
        self.active()?.list()
    }

    fn ensure_ready(&self) -> Result<()> {
        self.active().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_session_bus_the_file_is_used_with_one_warning() {
        if SystemCredentialStore::unavailable_reason().is_none() {
            eprintln!("skipping: a D-Bus session is set, so the fallback is not taken");
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let warnings = Warnings::default();
        let store = KeychainOrFileStore::new(
            SystemCredentialStore::with_service("ringlet-unit-test-fallback"),
            FileCredentialStore::new(dir.path().join("credentials.toml")),
            dir.path().join("config.toml"),
            warnings.clone(),
        );
        assert_eq!(store.backend(), "file");
        assert!(
            warnings.take().is_empty(),
            "nothing is said before a key is used"
        );
        super::super::conformance::run(&store);
        let all = warnings.take();
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0].code, FALLBACK_WARNING);
        let msg = &all[0].message;
        assert!(msg.contains("DBUS_SESSION_BUS_ADDRESS"), "{msg}");
        assert!(msg.contains("credentials.toml"), "{msg}");
        assert!(msg.contains("backend = \"file\""), "{msg}");
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn a_daily_warning_is_spaced_by_its_stamp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let stamp = dir.path().join("data").join(STAMP_FILE);
        let store = |notice| {
            KeychainOrFileStore::new(
                SystemCredentialStore::with_service("ringlet-unit-test-daily"),
                FileCredentialStore::new(dir.path().join("credentials.toml")),
                dir.path().join("config.toml"),
                Warnings::default(),
            )
            .notice(notice, stamp.clone())
        };
        let daily = store(FallbackWarning::Daily);
        assert!(daily.tell(), "no stamp yet: told, and the stamp written");
        assert!(stamp.is_file());
        assert!(!daily.tell(), "told less than a day ago");
        assert!(!store(FallbackWarning::Daily).tell(), "another process too");
        assert!(store(FallbackWarning::Always).tell());
        assert!(!store(FallbackWarning::Never).tell());

        let now = SystemTime::now();
        let at = |ago: Duration| {
            let secs = (now - ago)
                .duration_since(SystemTime::UNIX_EPOCH)
                .expect("after 1970")
                .as_secs();
            std::fs::write(&stamp, format!("{secs}\n")).expect("stamp");
        };
        at(QUIET_FOR + Duration::from_secs(60));
        assert!(!told_within(&stamp, now, QUIET_FOR), "a day old");
        assert!(daily.tell(), "told again after a day");
        at(Duration::from_secs(3600));
        assert!(told_within(&stamp, now, QUIET_FOR));
        std::fs::write(&stamp, "garbage").expect("stamp");
        assert!(!told_within(&stamp, now, QUIET_FOR), "unreadable: told");
        let future = now + Duration::from_secs(3600);
        let secs = future
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        std::fs::write(&stamp, secs.to_string()).expect("stamp");
        assert!(
            !told_within(&stamp, now, QUIET_FOR),
            "a clock set back: told"
        );
    }
}
