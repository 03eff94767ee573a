//! Where ringlet keeps its files.
//!
//! By default the platform's conventions (XDG on Linux) through the `directories` crate;
//! `RINGLET_HOME` puts config, data and cache under one root, which tests and portable
//! installs rely on.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The environment variable that puts every ringlet file under one directory.
pub const RINGLET_HOME_ENV: &str = "RINGLET_HOME";

/// The three roots ringlet writes to, and the well-known paths below them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    config: PathBuf,
    data: PathBuf,
    cache: PathBuf,
}

impl Paths {
    /// Resolves the roots from `RINGLET_HOME`, or else the platform's directories.
    pub fn from_env() -> Result<Self> {
        match std::env::var_os(RINGLET_HOME_ENV) {
            Some(root) if !root.is_empty() => {
                let root = PathBuf::from(root);
                let root = if root.is_absolute() {
                    root
                } else {
                    std::env::current_dir()
                        .map_err(|e| Error::io("resolving", &root, e))?
                        .join(root)
                };
                Ok(Self::under(root))
            }
            _ => {
                let dirs = directories::ProjectDirs::from("", "", "ringlet").ok_or_else(|| {
                    Error::NoHome("no home directory for the current user".into())
                })?;
                Ok(Self {
                    config: dirs.config_dir().to_path_buf(),
                    data: dirs.data_dir().to_path_buf(),
                    cache: dirs.cache_dir().to_path_buf(),
                })
            }
        }
    }

    /// Explicit roots (how `ringlet hooks dispatch`, run by an agent whose HOME is the profile's,
    /// is told where ringlet's files are).
    pub fn from_dirs(
        config: impl Into<PathBuf>,
        data: impl Into<PathBuf>,
        cache: impl Into<PathBuf>,
    ) -> Self {
        Self {
            config: config.into(),
            data: data.into(),
            cache: cache.into(),
        }
    }

    /// All three roots under one directory: `<root>/config`, `<root>/data`, `<root>/cache`.
    pub fn under(root: impl AsRef<Path>) -> Self {
        let root = root.as_ref();
        Self {
            config: root.join("config"),
            data: root.join("data"),
            cache: root.join("cache"),
        }
    }

    /// The config root: `config.toml`, `agents.d/`, `providers.d/`, `scripts/`, `hooks/`.
    pub fn config_dir(&self) -> &Path {
        &self.config
    }

    /// The data root: profiles and the usage ledger.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The cache root: detection results and downloaded snapshots.
    pub fn cache_dir(&self) -> &Path {
        &self.cache
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    /// User agent manifests, `agents.d/*.toml`.
    pub fn agents_dir(&self) -> PathBuf {
        self.config.join("agents.d")
    }

    /// User provider manifests, `providers.d/*.toml`.
    pub fn providers_dir(&self) -> PathBuf {
        self.config.join("providers.d")
    }

    /// User config scripts that override the built-in ones, `scripts/*.rhai`.
    pub fn scripts_dir(&self) -> PathBuf {
        self.config.join("scripts")
    }

    /// The 0600 file credential store.
    pub fn credentials_file(&self) -> PathBuf {
        self.config.join("credentials.toml")
    }

    /// The directory holding one sub-directory per profile.
    pub fn profiles_dir(&self) -> PathBuf {
        self.data.join("profiles")
    }

    /// Cached agent detection results.
    pub fn detection_cache(&self) -> PathBuf {
        self.cache.join("agent-detections.json")
    }

    /// Refuses roots whose paths are not UTF-8. Agents are given paths under them in their
    /// environment (`HOME`, `TMPDIR`, `CODEX_HOME`), in JSON and TOML settings (hook commands)
    /// and through the Rhai config scripts, all of which hold only UTF-8: such a path would
    /// reach the agent changed, and the agent would keep its state, and its usage, somewhere
    /// ringlet never looks.
    pub fn ensure_utf8(&self) -> Result<()> {
        for (what, dir) in [
            ("config", &self.config),
            ("data", &self.data),
            ("cache", &self.cache),
        ] {
            utf8_path(
                dir,
                &format!("ringlet's {what} directory"),
                "give ringlet a home directory (RINGLET_HOME) whose path is UTF-8",
            )?;
        }
        Ok(())
    }

    /// Creates the directories ringlet writes to (idempotent).
    pub fn ensure(&self) -> Result<()> {
        for dir in [
            self.config.clone(),
            self.agents_dir(),
            self.providers_dir(),
            self.scripts_dir(),
            self.profiles_dir(),
            self.cache.clone(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating", &dir, e))?;
        }
        Ok(())
    }
}

/// `path` as UTF-8, for handing to an agent exactly; otherwise an error naming `what` (the
/// path shown with its bad bytes escaped) and `fix`. Never a lossy conversion: the agent would
/// be given another path.
pub(crate) fn utf8_path<'a>(path: &'a Path, what: &str, fix: &str) -> Result<&'a str> {
    path.to_str().ok_or_else(|| {
        Error::InvalidInput(format!(
            "{what} {path:?} is not valid UTF-8, and agents are given paths only as UTF-8 (in their environment, settings files and hook commands), so this one would reach the agent changed; {fix}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn under_puts_everything_below_one_root() {
        let p = Paths::under("/r");
        assert_eq!(p.config_file(), Path::new("/r/config/config.toml"));
        assert_eq!(p.profiles_dir(), Path::new("/r/data/profiles"));
        assert_eq!(
            p.detection_cache(),
            Path::new("/r/cache/agent-detections.json")
        );
        p.ensure_utf8().expect("UTF-8 roots");
    }

    #[cfg(unix)]
    #[test]
    fn a_non_utf8_root_is_refused_with_its_bytes_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let root = Path::new("/r").join(std::ffi::OsStr::from_bytes(b"home-\xff"));
        let err = Paths::under(root).ensure_utf8().expect_err("refused");
        let msg = err.to_string();
        assert!(msg.contains(r"home-\xFF/config"), "{msg}");
        assert!(msg.contains("RINGLET_HOME"), "{msg}");
    }
}
