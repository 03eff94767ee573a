//! Building and signing a registry, as ringlet's own is published and as the tests serve one:
//! a source tree (`agents/`, `providers/`, `scripts/`, `templates/`, `models/`, `pricing/`) in,
//! the published layout out (docs/registry.md):
//!
//! ```text
//! <out>/<channel>/registry.json(.minisig)          the channel's head
//! <out>/commits/<commit>/registry.json(.minisig)   every published commit, for `registry pin`
//! <out>/objects/<sha256>                           the artifacts, by content
//! ```
//!
//! The `ringlet-registry` binary (src/bin/registry.rs) is this module on the command line.

use std::path::{Path, PathBuf};

use ringlet::{
    ArtifactKind, INDEX_FILE, INDEX_SCHEMA, RegistryArtifact, RegistryIndex, SIGNATURE_FILE,
};
use sha2::{Digest, Sha256};

/// A signing key pair: the public half as minisign's `.pub` file text.
pub struct Keys {
    /// The `.pub` file: an untrusted comment line and the `RW…` key line.
    pub public: String,
    secret: minisign::SecretKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// What went wrong building a registry.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

impl Keys {
    /// A new key pair (unencrypted: the tests and CI sign without a password).
    pub fn generate() -> Result<Self, Error> {
        let pair = minisign::KeyPair::generate_unencrypted_keypair()?;
        Ok(Self {
            public: pair.pk.to_box()?.into_string(),
            secret: pair.sk,
        })
    }

    /// The `RW…` line alone (what `[registry] public-key` takes).
    pub fn public_line(&self) -> String {
        self.public
            .lines()
            .find(|l| l.starts_with("RW"))
            .unwrap_or_default()
            .to_string()
    }

    /// The secret key as minisign's (unencrypted) `.key` file text.
    pub fn secret_file(&self) -> Result<String, Error> {
        Ok(self.secret.to_box(None)?.into_string())
    }

    /// Reads a `.key` file written by [`secret_file`](Self::secret_file) (with its `.pub`).
    pub fn read(secret: &str, public: &str) -> Result<Self, Error> {
        Ok(Self {
            public: public.to_string(),
            secret: minisign::SecretKeyBox::from_string(secret)?.into_unencrypted_secret_key()?,
        })
    }

    /// The minisign signature (`.minisig` text) of `bytes`.
    pub fn sign(&self, bytes: &[u8]) -> Result<String, Error> {
        let sig = minisign::sign(None, &self.secret, bytes, None, Some("ringlet registry"))?;
        Ok(sig.into_string())
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One commit to publish.
#[derive(Debug, Clone)]
pub struct Commit<'a> {
    /// Its channel.
    pub channel: &'a str,
    /// Its id.
    pub commit: &'a str,
    /// Its serial (greater than the channel's previous one).
    pub serial: u64,
}

/// Publishes the source tree `src` as `commit` into `out` (added to what is there: earlier
/// commits stay pinnable), signed with `keys`. Returns the index.
pub fn publish(
    src: &Path,
    out: &Path,
    keys: &Keys,
    commit: &Commit<'_>,
) -> Result<RegistryIndex, Error> {
    let mut artifacts = Vec::new();
    for kind in ArtifactKind::ALL {
        let dir = src.join(kind.folder());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file)?;
            let sha256 = sha256_hex(&data);
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| format!("{}: not a UTF-8 name", file.display()))?;
            write(&out.join("objects").join(&sha256), &data)?;
            artifacts.push(RegistryArtifact {
                kind,
                path: format!("{}/{name}", kind.folder()),
                sha256,
                size: data.len() as u64,
            });
        }
    }
    let index = RegistryIndex {
        schema: INDEX_SCHEMA,
        channel: commit.channel.to_string(),
        commit: commit.commit.to_string(),
        serial: commit.serial,
        published: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        artifacts,
    };
    let bytes = serde_json::to_vec_pretty(&index)?;
    let sig = keys.sign(&bytes)?;
    for dir in [
        out.join(commit.channel),
        out.join("commits").join(commit.commit),
    ] {
        write(&dir.join(INDEX_FILE), &bytes)?;
        write(&dir.join(SIGNATURE_FILE), sig.as_bytes())?;
    }
    Ok(index)
}

fn write(path: &Path, data: &[u8]) -> Result<(), Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, data)?;
    Ok(())
}
