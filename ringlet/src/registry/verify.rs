//! Trust: the registry's minisign public key, the index signature, artifact checksums.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The public key of ringlet's own registry, built into the binary (minisign format). A
/// private registry is trusted through `[registry] public-key` or `RINGLET_REGISTRY_PUBLIC_KEY`
/// instead (docs/registry.md).
pub const BUILTIN_PUBLIC_KEY: &str = include_str!("../../assets/registry.pub");

/// Where the key a sync trusts came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KeyOrigin {
    /// Built into ringlet: its own registry.
    BuiltIn,
    /// `[registry] public-key` in config.toml.
    Config,
    /// The `RINGLET_REGISTRY_PUBLIC_KEY` environment variable.
    Env,
}

impl KeyOrigin {
    fn describe(self) -> &'static str {
        match self {
            KeyOrigin::BuiltIn => "ringlet's built-in registry key",
            KeyOrigin::Config => "the key in config.toml ([registry] public-key)",
            KeyOrigin::Env => "the key in RINGLET_REGISTRY_PUBLIC_KEY",
        }
    }
}

/// The public key index signatures must verify with.
#[derive(Debug, Clone)]
pub(crate) struct TrustedKey {
    key: minisign_verify::PublicKey,
    pub(crate) origin: KeyOrigin,
}

impl TrustedKey {
    /// Parses a key as minisign writes it: the whole `.pub` file (an untrusted comment line and
    /// the key line), or only the base64 key line (`RW…`).
    pub(crate) fn parse(text: &str, origin: KeyOrigin) -> Result<Self> {
        let text = text.trim();
        let key = if text.contains('\n') {
            minisign_verify::PublicKey::decode(text)
        } else {
            minisign_verify::PublicKey::from_base64(text)
        }
        .map_err(|e| Error::Registry {
            message: format!(
                "{} is not a minisign public key ({e}); give the `RW…` line of the registry's .pub file",
                origin.describe()
            ),
        })?;
        Ok(Self { key, origin })
    }

    /// Checks `sig` (a `.minisig` file's text) is this key's signature of `bytes`, a registry
    /// index read from `origin`.
    pub(crate) fn verify(&self, bytes: &[u8], sig: &str, origin: &str) -> Result<()> {
        let refused = |why: String| Error::Registry {
            message: format!(
                "the signature of {origin} {why}; refusing it. If this is a private registry, \
                 trust its key with [registry] public-key in config.toml"
            ),
        };
        let sig = minisign_verify::Signature::decode(sig)
            .map_err(|e| refused(format!("cannot be read ({e})")))?;
        self.key.verify(bytes, &sig, false).map_err(|e| {
            refused(format!(
                "does not verify with {} ({e})",
                self.origin.describe()
            ))
        })
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_key_parses() {
        TrustedKey::parse(BUILTIN_PUBLIC_KEY, KeyOrigin::BuiltIn).expect("built-in key");
    }

    #[test]
    fn a_garbled_key_is_refused_naming_where_it_came_from() {
        let err = TrustedKey::parse("RWnotakey", KeyOrigin::Config)
            .expect_err("garbled")
            .to_string();
        assert!(err.contains("config.toml"), "{err}");
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
