//! `registry.json`: the signed list of every artifact of one registry commit.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The index format this ringlet reads; an index with another `schema` is refused.
pub const INDEX_SCHEMA: u32 = 1;

/// The index file's name, in a channel, a published commit and a snapshot.
pub const INDEX_FILE: &str = "registry.json";

/// Its detached minisign signature, beside it.
pub const SIGNATURE_FILE: &str = "registry.json.minisig";

/// The most artifacts one index may list (the real registry has a few dozen).
const MAX_ARTIFACTS: usize = 4096;

/// One registry commit: what it holds, each artifact with its checksum. Signed as a whole,
/// byte for byte, so nothing in it can change without the signature failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryIndex {
    /// The index format ([`INDEX_SCHEMA`]).
    pub schema: u32,
    /// The channel this commit was published to (`stable`, `beta`…). A sync of one channel
    /// refuses an index signed for another, so a mirror cannot swap them.
    pub channel: String,
    /// The commit's id (the registry repository's commit hash): letters, digits, `-`, `_`, `.`.
    pub commit: String,
    /// A number that grows with every commit published to the channel. ringlet refuses an
    /// index whose serial is below the highest it accepted, so an old, validly signed index
    /// replayed by a mirror cannot roll a machine back.
    pub serial: u64,
    /// When it was published (RFC 3339).
    pub published: String,
    /// Every file of the commit.
    pub artifacts: Vec<RegistryArtifact>,
}

/// One file of a registry commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryArtifact {
    /// What it is.
    pub kind: ArtifactKind,
    /// Where it goes in a snapshot: `<kind folder>/<file name>` (`providers/acme.toml`).
    pub path: String,
    /// Its SHA-256, lowercase hex; also its name in the registry's `objects/`.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// The kinds of artifact a registry holds, each in its own folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ArtifactKind {
    /// An agent manifest (`agents/<id>.toml`), between the user's `agents.d/` and the built-ins.
    Agent,
    /// A provider manifest (`providers/<id>.toml`).
    Provider,
    /// A Rhai config script (`scripts/<name>.rhai`).
    Script,
    /// A profile template (`templates/<name>.toml`).
    Template,
    /// The model catalogue (`models/<name>.json`).
    Models,
    /// LiteLLM's price feed (`pricing/litellm.json`), between `pricing update`'s snapshot and
    /// the built-in table.
    Pricing,
}

impl ArtifactKind {
    /// Every kind.
    pub const ALL: [ArtifactKind; 6] = [
        ArtifactKind::Agent,
        ArtifactKind::Provider,
        ArtifactKind::Script,
        ArtifactKind::Template,
        ArtifactKind::Models,
        ArtifactKind::Pricing,
    ];

    /// The folder its files are in, in a registry source tree and in a snapshot.
    pub fn folder(self) -> &'static str {
        match self {
            ArtifactKind::Agent => "agents",
            ArtifactKind::Provider => "providers",
            ArtifactKind::Script => "scripts",
            ArtifactKind::Template => "templates",
            ArtifactKind::Models => "models",
            ArtifactKind::Pricing => "pricing",
        }
    }

    /// The kind whose folder is `folder`.
    pub fn from_folder(folder: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.folder() == folder)
    }
}

/// A commit id or channel name: 1–64 letters, digits, `-`, `_` or `.`, not starting with `.`
/// (both become path components).
pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl RegistryIndex {
    /// Parses and checks an index: the schema, names that are safe path components, artifact
    /// paths of exactly `<kind folder>/<file>`, lowercase SHA-256 hex, no path twice.
    /// `origin` names it in errors.
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Self> {
        let bad = |message: String| Error::Registry {
            message: format!("{origin}: {message}"),
        };
        let index: RegistryIndex =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("not a registry index: {e}")))?;
        if index.schema != INDEX_SCHEMA {
            return Err(bad(format!(
                "index schema {} is not {INDEX_SCHEMA}, the one this ringlet reads; upgrade ringlet",
                index.schema
            )));
        }
        if !valid_name(&index.channel) {
            return Err(bad(format!("bad channel name {:?}", index.channel)));
        }
        if !valid_name(&index.commit) {
            return Err(bad(format!("bad commit id {:?}", index.commit)));
        }
        if index.artifacts.len() > MAX_ARTIFACTS {
            return Err(bad(format!(
                "{} artifacts (at most {MAX_ARTIFACTS})",
                index.artifacts.len()
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for a in &index.artifacts {
            check_artifact(a).map_err(|why| bad(format!("artifact {:?}: {why}", a.path)))?;
            if !seen.insert(a.path.as_str()) {
                return Err(bad(format!("artifact {:?} is listed twice", a.path)));
            }
        }
        Ok(index)
    }

    /// The artifacts of one kind.
    pub fn of_kind(&self, kind: ArtifactKind) -> impl Iterator<Item = &RegistryArtifact> {
        self.artifacts.iter().filter(move |a| a.kind == kind)
    }
}

fn check_artifact(a: &RegistryArtifact) -> std::result::Result<(), String> {
    let Some((folder, file)) = a.path.split_once('/') else {
        return Err("must be <folder>/<file>".into());
    };
    if folder != a.kind.folder() {
        return Err(format!(
            "a {:?} artifact must be in {}/",
            a.kind,
            a.kind.folder()
        ));
    }
    if !valid_name(file) {
        return Err("the file name must be letters, digits, '-', '_' or '.'".into());
    }
    if a.sha256.len() != 64
        || !a
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err("sha256 must be 64 lowercase hex digits".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(path: &str, kind: &str) -> String {
        format!(
            r#"{{"schema":1,"channel":"stable","commit":"abc","serial":1,"published":"2026-01-01T00:00:00Z",
            "artifacts":[{{"kind":"{kind}","path":"{path}","sha256":"{}","size":1}}]}}"#,
            "a".repeat(64)
        )
    }

    #[test]
    fn artifact_paths_cannot_leave_their_folder() {
        RegistryIndex::parse(index("providers/acme.toml", "provider").as_bytes(), "t")
            .expect("good");
        for (path, kind) in [
            ("providers/../../etc/passwd", "provider"),
            ("../x.toml", "provider"),
            ("/etc/passwd", "provider"),
            ("providers/a/b.toml", "provider"),
            ("providers/.hidden", "provider"),
            ("agents/acme.toml", "provider"),
            ("acme.toml", "provider"),
        ] {
            let err = RegistryIndex::parse(index(path, kind).as_bytes(), "t")
                .expect_err(path)
                .to_string();
            assert!(err.contains("artifact"), "{path}: {err}");
        }
    }

    #[test]
    fn names_are_safe_path_components() {
        for good in ["abc", "0f3a9c", "v1.2", "stable", "beta-2"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", ".", "..", ".x", "a/b", "a\\b", "a b", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
