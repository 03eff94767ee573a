//! The setup document: one JSON object holding what makes a ringlet setup, and nothing that
//! belongs to one machine. Its schema is documented in docs/setup.md; `version` changes with
//! any change to it, and an import refuses a version it does not know.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::hooks::HookRule;
use crate::profile::Profile;

/// The `format` field of every setup document.
pub const SETUP_FORMAT: &str = "ringlet-setup";

/// The schema version this ringlet writes and reads.
pub const SETUP_VERSION: u32 = 1;

/// The largest setup document an import reads (16 MiB): far above any real setup, low enough
/// that a wrong file is refused before it fills memory.
pub const MAX_SETUP_BYTES: u64 = 16 * 1024 * 1024;

/// The largest routing file carried (1 MiB).
pub(crate) const MAX_ROUTING_BYTES: u64 = 1024 * 1024;

/// The routing rules' file name, in the config directory (every profile) and in a profile's
/// directory (that profile).
pub const ROUTING_FILE: &str = "routing.toml";

/// The registry's record of its snapshot and pin, below the cache directory (docs/registry.md).
pub(crate) const REGISTRY_LOCK: &str = "registry/registry.lock";

/// The commit a registry lock (JSON) pins, when it pins one. Read as plain JSON so a setup
/// travels whether or not this ringlet syncs a registry.
pub(crate) fn registry_pin(lock_text: &str) -> Option<String> {
    serde_json::from_str::<Value>(lock_text)
        .ok()?
        .get("pinned")?
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

/// A whole setup: `ringlet export` writes it, `ringlet import FILE` recreates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SetupDocument {
    /// Always [`SETUP_FORMAT`]: tells a setup from any other JSON.
    pub format: String,
    /// The schema version ([`SETUP_VERSION`]).
    pub version: u32,
    /// When it was exported.
    pub exported_at: DateTime<Utc>,
    /// The ringlet that exported it.
    pub ringlet_version: String,
    /// `config.toml` as a JSON object, without `[remotes]` (in `remotes`). config.toml holds no
    /// secret: tokens and passwords live in the credential store.
    #[serde(default)]
    pub config: Map<String, Value>,
    /// The text of `<config>/routing.toml` (the routing rules for every profile), verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// The hook rules for every profile.
    #[serde(default)]
    pub hooks: Vec<HookRule>,
    /// The profiles, sorted by alias.
    #[serde(default)]
    pub profiles: Vec<PortableProfile>,
    /// The remotes (`ringlet remotes`), without their tokens.
    #[serde(default)]
    pub remotes: Vec<PortableRemote>,
    /// The credentials the setup uses, by name only: what must be stored on the new machine.
    #[serde(default)]
    pub keys: Vec<KeyRef>,
    /// The registry commit this machine is pinned to (`ringlet registry pin`, recorded in
    /// `<cache>/registry/registry.lock`), when there is one. The import does not fetch it: its
    /// report says to pin it (`registry_pin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_pin: Option<String>,
}

/// One profile of a setup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PortableProfile {
    /// The fields of its `profile.toml` (alias, agent, provider, model, key alias, env, args,
    /// sandbox, tasks, …) except `metadata`: creation time and run counters are this machine's.
    pub settings: Map<String, Value>,
    /// Its own hook rules.
    #[serde(default)]
    pub hooks: Vec<HookRule>,
    /// The text of its `routing.toml`, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<String>,
    /// Environment variables it sets whose names say they hold a secret (`*KEY*`, `*TOKEN*`,
    /// `*SECRET*`, `*PASSWORD*`): left out of `settings`, named here so the import can say to
    /// set them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld_env: Vec<String>,
}

impl PortableProfile {
    /// The profile's alias (`settings.alias`).
    pub fn alias(&self) -> &str {
        self.settings
            .get("alias")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// A remote server of a setup: its name and URL; its token stays behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PortableRemote {
    /// Its name.
    pub name: String,
    /// Its base URL.
    pub url: String,
}

/// A credential a setup uses, by name: `<provider>/<alias>` in the credential store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyRef {
    /// The provider id (`ringlet-remote` for a remote's token).
    pub provider: String,
    /// The key alias.
    pub alias: String,
    /// The profiles (or the remote) that use it.
    pub used_by: Vec<String>,
}

/// Whether an environment variable's name says it holds a secret. Such a value is never
/// exported, whatever the profile put there.
pub(crate) fn secret_looking(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"]
        .iter()
        .any(|w| upper.contains(w))
}

/// A profile as its portable settings: profile.toml's fields without `metadata` and without
/// secret-looking environment variables (named in the second value).
pub(crate) fn portable_settings(profile: &Profile) -> Result<(Map<String, Value>, Vec<String>)> {
    let mut value = serde_json::to_value(profile)
        .map_err(|e| Error::InvalidInput(format!("serialising profile: {e}")))?;
    let mut withheld = Vec::new();
    let Some(map) = value.as_object_mut() else {
        return Err(Error::InvalidInput(
            "a profile did not serialise as an object".into(),
        ));
    };
    map.remove("metadata");
    if let Some(env) = map.get_mut("env").and_then(Value::as_object_mut) {
        let names: Vec<String> = env.keys().filter(|n| secret_looking(n)).cloned().collect();
        for name in names {
            env.remove(&name);
            withheld.push(name);
        }
        if env.is_empty() {
            map.remove("env");
        }
    }
    Ok((std::mem::take(map), withheld))
}

/// A profile from portable settings, created now, with `alias` (a rename applied). Fails
/// with the field at fault when the settings are not a valid profile.
pub(crate) fn profile_from_settings(settings: &Map<String, Value>, alias: &str) -> Result<Profile> {
    let mut map = settings.clone();
    map.insert("alias".into(), Value::String(alias.to_string()));
    map.insert(
        "metadata".into(),
        serde_json::json!({ "created_at": Utc::now() }),
    );
    serde_json::from_value(Value::Object(map)).map_err(|e| {
        Error::InvalidInput(format!(
            "the setup's profile '{alias}' is not a valid profile: {e}"
        ))
    })
}

impl SetupDocument {
    /// Parses a setup document, checking its format and version.
    pub fn parse(text: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::InvalidInput(format!("the setup is not valid JSON: {e}")))?;
        match value.get("format").and_then(Value::as_str) {
            Some(SETUP_FORMAT) => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "this JSON is not a ringlet setup (its \"format\" is not \"{SETUP_FORMAT}\"); `ringlet export` writes one"
                )));
            }
        }
        match value.get("version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(SETUP_VERSION) => {}
            Some(v) if v > u64::from(SETUP_VERSION) => {
                return Err(Error::InvalidInput(format!(
                    "the setup is version {v}, newer than this ringlet reads ({SETUP_VERSION}); upgrade ringlet to import it"
                )));
            }
            other => {
                return Err(Error::InvalidInput(format!(
                    "the setup's version {} is not one this ringlet reads ({SETUP_VERSION})",
                    other.map_or_else(|| "(missing)".to_string(), |v| v.to_string())
                )));
            }
        }
        serde_json::from_value(value)
            .map_err(|e| Error::InvalidInput(format!("the setup is malformed: {e}")))
    }

    /// A new, empty document stamped now.
    pub(crate) fn new() -> Self {
        Self {
            format: SETUP_FORMAT.into(),
            version: SETUP_VERSION,
            exported_at: Utc::now(),
            ringlet_version: env!("CARGO_PKG_VERSION").into(),
            config: Map::new(),
            routing: None,
            hooks: Vec::new(),
            profiles: Vec::new(),
            remotes: Vec::new(),
            keys: Vec::new(),
            registry_pin: None,
        }
    }
}

/// Collects key references: each `(provider, alias)` once, with who uses it.
pub(crate) fn key_refs(uses: impl IntoIterator<Item = (String, String, String)>) -> Vec<KeyRef> {
    let mut by: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (provider, alias, user) in uses {
        by.entry((provider, alias)).or_default().push(user);
    }
    by.into_iter()
        .map(|((provider, alias), used_by)| KeyRef {
            provider,
            alias,
            used_by,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_looking_names() {
        for n in ["OPENAI_API_KEY", "gh_token", "MY_SECRET", "DB_PASSWORD"] {
            assert!(secret_looking(n), "{n}");
        }
        for n in ["RUST_LOG", "HTTP_PROXY", "EDITOR"] {
            assert!(!secret_looking(n), "{n}");
        }
    }

    #[test]
    fn the_pin_is_read_from_the_registry_lock() {
        assert_eq!(
            registry_pin(r#"{"commit": "a", "pinned": "b"}"#).as_deref(),
            Some("b")
        );
        assert_eq!(registry_pin(r#"{"commit": "a"}"#), None);
        assert_eq!(registry_pin(r#"{"pinned": ""}"#), None);
        assert_eq!(registry_pin("not json"), None);
    }

    #[test]
    fn parse_checks_format_and_version() {
        let ok = serde_json::to_string(&SetupDocument::new()).expect("ser");
        SetupDocument::parse(&ok).expect("parses");
        let e = SetupDocument::parse("{\"profiles\": []}").expect_err("no format");
        assert!(e.to_string().contains("not a ringlet setup"), "{e}");
        let newer = ok.replace("\"version\":1", "\"version\":9");
        let e = SetupDocument::parse(&newer).expect_err("newer");
        assert!(e.to_string().contains("upgrade ringlet"), "{e}");
        let e = SetupDocument::parse("[1").expect_err("not json");
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        let extra = ok.replacen('{', "{\"cursor\": 3,", 1);
        let e = SetupDocument::parse(&extra).expect_err("unknown field");
        assert!(e.to_string().contains("cursor"), "{e}");
    }
}
