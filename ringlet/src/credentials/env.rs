//! A read-only store over environment variables, for CI and containers where keys arrive as
//! env: `<provider>/<alias>` is read from `RINGLET_KEY_<PROVIDER>_<ALIAS>` (upper-cased,
//! other characters turned into `_`).

use super::{CredentialKey, CredentialStore, Secret};
use crate::error::{Error, Result};

/// Keys read from `RINGLET_KEY_*` variables.
#[derive(Debug, Default, Clone)]
pub struct EnvCredentialStore;

impl EnvCredentialStore {
    /// What every variable this store reads starts with. A launch removes every such variable
    /// from what an agent and its hooks inherit: each holds some profile's key.
    pub const VAR_PREFIX: &'static str = "RINGLET_KEY_";

    /// The variable that holds `key`.
    pub fn var_name(key: &CredentialKey) -> String {
        let clean = |s: &str| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_uppercase()
                    } else {
                        '_'
                    }
                })
                .collect::<String>()
        };
        format!(
            "{}{}_{}",
            Self::VAR_PREFIX,
            clean(&key.provider),
            clean(&key.alias)
        )
    }

    fn read_only(&self) -> Error {
        Error::Credential {
            backend: "env".into(),
            message: "the env backend is read-only; export RINGLET_KEY_<PROVIDER>_<ALIAS> instead"
                .into(),
        }
    }
}

impl CredentialStore for EnvCredentialStore {
    fn backend(&self) -> &str {
        "env"
    }

    fn get(&self, key: &CredentialKey) -> Result<Option<Secret>> {
        Ok(std::env::var(Self::var_name(key))
            .ok()
            .filter(|v| !v.is_empty())
            .map(Secret::new))
    }

    fn set(&self, _key: &CredentialKey, _secret: &Secret) -> Result<()> {
        Err(self.read_only())
    }

    fn set_new(&self, _key: &CredentialKey, _secret: &Secret) -> Result<bool> {
        Err(self.read_only())
    }

    fn delete(&self, _key: &CredentialKey) -> Result<bool> {
        Err(self.read_only())
    }

    fn list(&self) -> Result<Vec<CredentialKey>> {
        // Variable names lose the original casing, so only existence can be reported.
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_variables_predictably() {
        assert_eq!(
            EnvCredentialStore::var_name(&CredentialKey::new("z.ai", "work-2")),
            "RINGLET_KEY_Z_AI_WORK_2"
        );
        assert!(
            EnvCredentialStore
                .set(&CredentialKey::new("a", "b"), &Secret::new("x"))
                .is_err()
        );
        assert!(
            EnvCredentialStore
                .set_new(&CredentialKey::new("a", "b"), &Secret::new("x"))
                .is_err()
        );
    }
}
