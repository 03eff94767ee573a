//! `config.toml`: user settings.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::Paths;

/// The user's settings. Missing file or fields mean defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where API keys are kept.
    #[serde(default)]
    pub credentials: CredentialsConfig,
}

/// `[credentials]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CredentialsConfig {
    /// `file` (the 0600 credentials.toml) or `env` (read-only `RINGLET_KEY_*` variables).
    #[serde(default = "default_backend")]
    pub backend: String,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        Self {
            backend: default_backend(),
        }
    }
}

fn default_backend() -> String {
    "file".into()
}

impl Config {
    /// Reads `config.toml`, or defaults when it does not exist.
    pub fn load(paths: &Paths) -> Result<Self> {
        let path = paths.config_file();
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| Error::toml(&path, &text, &e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io("reading", &path, e)),
        }
    }
}
