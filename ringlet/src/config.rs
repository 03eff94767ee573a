//! `config.toml`: user settings.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::launch::sandbox::SandboxPolicy;
use crate::paths::Paths;
use crate::profile::{Budget, ProxyConfig};

/// The user's settings. Missing file or fields mean defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where API keys are kept.
    #[serde(default)]
    pub credentials: CredentialsConfig,
    /// `[sandbox]`: what every profile's sandbox adds to the default (a profile's own
    /// `[sandbox]` adds more; see [`SandboxPolicy::merge`]).
    #[serde(default, skip_serializing_if = "is_default_sandbox")]
    pub sandbox: SandboxPolicy,
    /// `[team]`: the shared team ledger this machine pushes to (docs/team.md).
    #[serde(default, skip_serializing_if = "TeamConfig::is_unset")]
    pub team: TeamConfig,
    /// `[telemetry]`: metrics for Prometheus and OpenTelemetry (docs/team.md).
    #[serde(default, skip_serializing_if = "TelemetryConfig::is_unset")]
    pub telemetry: TelemetryConfig,
    /// `[remotes.NAME]`: ringlet servers this machine attaches to (`ringlet remotes`). Their
    /// tokens are in the credential store, never here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub remotes: BTreeMap<String, RemoteConfig>,
    /// `[proxy]`: where the ringlet proxy listens (docs/proxy.md).
    #[serde(default, skip_serializing_if = "ProxyConfig::is_unset")]
    pub proxy: ProxyConfig,
    /// `[budget]`: what all profiles together may spend per day and month, enforced by the
    /// proxy on proxied runs.
    #[serde(default, skip_serializing_if = "Budget::is_empty")]
    pub budget: Budget,
}

/// `[telemetry]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TelemetryConfig {
    /// An OpenTelemetry collector's OTLP/HTTP endpoint (`http://collector:4318`); `ringlet
    /// serve` pushes the metrics there every `otlp-interval-seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_endpoint: Option<String>,
    /// Seconds between OTLP exports (default 60, at least 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp_interval_seconds: Option<u64>,
    /// Which ledger `/metrics` and the OTLP export read: `auto` (the team ledger when `[team]`
    /// has one, the default), `local` or `team`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_source: Option<String>,
}

impl TelemetryConfig {
    fn is_unset(&self) -> bool {
        *self == TelemetryConfig::default()
    }
}

/// `[team]`: where the team ledger is. Parsed whether or not this build has the `team` feature,
/// so one `config.toml` works with every ringlet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TeamConfig {
    /// `postgres://user@host:5432/database`, without a password (ringlet refuses one here: the
    /// password lives in the credential store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    /// The Postgres schema holding ringlet's tables (default `ringlet`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The user name recorded with this machine's events (default: `$USER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Push in the background after every `profiles run` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_after_run: Option<bool>,
    /// PEM file of the CA (or the self-signed certificate) the team's Postgres presents, trusted
    /// besides the Mozilla roots; relative to the config directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl TeamConfig {
    fn is_unset(&self) -> bool {
        *self == TeamConfig::default()
    }
}

/// `[remotes.NAME]`: one remote ringlet server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteConfig {
    /// Its base URL (`https://box.example:8765`).
    pub url: String,
}

fn is_default_sandbox(p: &SandboxPolicy) -> bool {
    *p == SandboxPolicy::default()
}

/// `[credentials]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CredentialsConfig {
    /// `system` (the OS keychain, else the 0600 credentials.toml with a warning; the default),
    /// `system-only` (the OS keychain or nothing), `file` (the 0600 credentials.toml only) or
    /// `env` (read-only `RINGLET_KEY_*` variables). See [`CredentialBackend`].
    #[serde(default = "default_backend")]
    pub backend: String,

    /// Appends one JSON line per key lookup (time, profile, provider/alias, backend, found) to
    /// this file, never the key itself. A relative path is taken from the config directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_log: Option<PathBuf>,

    /// How often the `system` backend says it fell back to the file: `daily` (the default),
    /// `always` (every command that uses a key) or `never`.
    #[serde(default, skip_serializing_if = "FallbackWarning::is_default")]
    pub fallback_warning: FallbackWarning,
}

impl Default for CredentialsConfig {
    fn default() -> Self {
        Self {
            backend: default_backend(),
            audit_log: None,
            fallback_warning: FallbackWarning::default(),
        }
    }
}

/// `[credentials] fallback-warning`: how often the `system` backend's "no system keychain,
/// keeping keys in the file" warning is given. Once known, the warning every command repeats is
/// noise, and a script's stderr fills with it; once a day still reminds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FallbackWarning {
    /// At most once a day per data directory (a stamp file in it records the last time).
    #[default]
    Daily,
    /// Every command (every facade) that uses a key while the keychain is missing.
    Always,
    /// Never; `backend = "file"` also silences it, by using the file on purpose.
    Never,
}

impl FallbackWarning {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

fn default_backend() -> String {
    CredentialBackend::System.as_str().into()
}

/// The credential backends `[credentials] backend` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CredentialBackend {
    /// The OS keychain when one is reachable; otherwise the 0600 credentials file, with a
    /// warning saying why.
    System,
    /// The OS keychain; ringlet refuses to work without it.
    SystemOnly,
    /// The 0600 credentials file; the keychain is never touched.
    File,
    /// Read-only `RINGLET_KEY_<PROVIDER>_<ALIAS>` variables.
    Env,
}

impl CredentialBackend {
    /// Every backend, in the order they are documented.
    pub const ALL: [CredentialBackend; 4] = [
        CredentialBackend::System,
        CredentialBackend::SystemOnly,
        CredentialBackend::File,
        CredentialBackend::Env,
    ];

    /// The name used in `config.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialBackend::System => "system",
            CredentialBackend::SystemOnly => "system-only",
            CredentialBackend::File => "file",
            CredentialBackend::Env => "env",
        }
    }

    /// Parses a `config.toml` name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == name)
    }

    /// Whether this backend uses the OS keychain.
    pub fn uses_keychain(self) -> bool {
        matches!(
            self,
            CredentialBackend::System | CredentialBackend::SystemOnly
        )
    }
}

impl fmt::Display for CredentialBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CredentialsConfig {
    /// The configured backend; `config_file` is named in the error for an unknown one.
    pub fn backend(&self, config_file: &std::path::Path) -> Result<CredentialBackend> {
        CredentialBackend::from_name(&self.backend).ok_or_else(|| Error::Parse {
            path: config_file.to_path_buf(),
            line: None,
            message: format!(
                "[credentials] backend '{}' is not one of: {}",
                self.backend.escape_debug(),
                CredentialBackend::ALL
                    .map(CredentialBackend::as_str)
                    .join(", ")
            ),
        })
    }

    /// The audit log file, resolved against the config directory.
    pub fn audit_log_path(&self, paths: &Paths) -> Option<PathBuf> {
        self.audit_log.as_ref().map(|p| paths.config_dir().join(p))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_parse_and_default_to_system() {
        let c: Config = toml::from_str("").expect("empty");
        let file = std::path::Path::new("config.toml");
        assert_eq!(
            c.credentials.backend(file).expect("default"),
            CredentialBackend::System
        );
        for b in CredentialBackend::ALL {
            let c: Config =
                toml::from_str(&format!("[credentials]\nbackend = \"{b}\"\n")).expect("parses");
            assert_eq!(c.credentials.backend(file).expect("known"), b);
        }
        let c: Config = toml::from_str("[credentials]\nbackend = \"keychain\"\n").expect("toml");
        let err = c.credentials.backend(file).expect_err("unknown");
        assert!(
            err.to_string()
                .contains("'keychain' is not one of: system, system-only, file, env"),
            "{err}"
        );
    }

    #[test]
    fn sandbox_section_parses_and_names_the_file_when_wrong() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        std::fs::create_dir_all(paths.config_dir()).expect("mkdir");
        let file = paths.config_file();
        std::fs::write(
            &file,
            "[sandbox]\nextra-ro = [\"/opt/data\"]\nnetwork = \"none\"\n",
        )
        .expect("write");
        let c = Config::load(&paths).expect("loads");
        assert_eq!(
            c.sandbox,
            SandboxPolicy::new()
                .extra_ro("/opt/data")
                .network(crate::launch::sandbox::Network::None)
        );
        assert_eq!(Config::default().sandbox, SandboxPolicy::default());
        for (text, says) in [
            (
                "[sandbox]\nextra-rw = [\"logs\"]\n",
                "'logs' is not absolute",
            ),
            ("[sandbox]\nallow-bind = []\n", "unknown field `allow-bind`"),
            ("[sandbox]\nnetwork = \"off\"\n", "unknown variant `off`"),
        ] {
            std::fs::write(&file, text).expect("write");
            let e = Config::load(&paths).expect_err(text).to_string();
            assert!(e.starts_with(&format!("{}:2: ", file.display())), "{e}");
            assert!(e.contains(says), "{e}");
        }
    }

    #[test]
    fn the_fallback_warning_is_daily_unless_set() {
        let c: Config = toml::from_str("").expect("empty");
        assert_eq!(c.credentials.fallback_warning, FallbackWarning::Daily);
        for (name, want) in [
            ("daily", FallbackWarning::Daily),
            ("always", FallbackWarning::Always),
            ("never", FallbackWarning::Never),
        ] {
            let c: Config =
                toml::from_str(&format!("[credentials]\nfallback-warning = \"{name}\"\n"))
                    .expect("parses");
            assert_eq!(c.credentials.fallback_warning, want);
        }
        assert!(
            toml::from_str::<Config>("[credentials]\nfallback-warning = \"hourly\"\n").is_err()
        );
    }

    #[test]
    fn audit_log_is_relative_to_the_config_dir() {
        let c: Config =
            toml::from_str("[credentials]\naudit-log = \"audit.jsonl\"\n").expect("parses");
        let paths = Paths::under("/r");
        assert_eq!(
            c.credentials.audit_log_path(&paths),
            Some(PathBuf::from("/r/config/audit.jsonl"))
        );
        let c: Config =
            toml::from_str("[credentials]\naudit-log = \"/var/log/k.jsonl\"\n").expect("parses");
        assert_eq!(
            c.credentials.audit_log_path(&paths),
            Some(PathBuf::from("/var/log/k.jsonl"))
        );
    }
}
