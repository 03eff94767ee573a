//! The facade's profile methods: create (resolving a request against the catalogue), list,
//! read and delete.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::Ringlet;
use crate::alias::validate_alias;
use crate::catalog::wire::WireShape;
use crate::credentials::{CredentialKey, Secret};
use crate::error::{Error, Result};
use crate::launch::script_cache::ScriptCache;
use crate::profile::{Profile, ProfileMetadata};

/// A request to create a profile. Only agent, alias and provider are required.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NewProfile {
    /// The agent id.
    pub agent: String,
    /// The new profile's alias.
    pub alias: String,
    /// The provider id.
    pub provider: String,
    /// A named endpoint of the provider.
    pub endpoint: Option<String>,
    /// A base URL overriding the provider's (required for `custom`).
    pub custom_endpoint: Option<String>,
    /// The wire shape of the custom endpoint: `anthropic`, `openai`, `openai-chat`,
    /// `openai-responses` or `gemini`.
    pub shape: Option<String>,
    /// The model; the provider's default when unset.
    pub model: Option<String>,
    /// The key alias; the profile alias when unset.
    pub key_alias: Option<String>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
    /// The directory the agent starts in.
    pub working_dir: Option<PathBuf>,
    /// A binary overriding the agent manifest's.
    pub binary: Option<PathBuf>,
    /// Default arguments.
    pub args: Vec<String>,
}

impl NewProfile {
    /// A request with the three required fields.
    pub fn new(
        agent: impl Into<String>,
        alias: impl Into<String>,
        provider: impl Into<String>,
    ) -> Self {
        Self {
            agent: agent.into(),
            alias: alias.into(),
            provider: provider.into(),
            ..Self::default()
        }
    }

    /// Sets the model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets a custom base URL.
    pub fn custom_endpoint(mut self, url: impl Into<String>) -> Self {
        self.custom_endpoint = Some(url.into());
        self
    }

    /// Sets the key alias.
    pub fn key_alias(mut self, alias: impl Into<String>) -> Self {
        self.key_alias = Some(alias.into());
        self
    }

    /// Sets the binary.
    pub fn binary(mut self, path: impl Into<PathBuf>) -> Self {
        self.binary = Some(path.into());
        self
    }
}

impl Ringlet {
    /// Every profile, sorted by alias.
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        self.inner.profiles.list()
    }

    /// One profile.
    pub fn profile(&self, alias: &str) -> Result<Profile> {
        self.inner.profiles.get(alias)
    }

    /// The profile's HOME directory.
    pub fn profile_home(&self, alias: &str) -> Result<PathBuf> {
        validate_alias(alias)?;
        Ok(self.inner.profiles.home_dir(alias))
    }

    /// Validates a request and turns it into the profile it would create, without writing
    /// anything.
    pub fn resolve_profile(&self, req: &NewProfile) -> Result<Profile> {
        validate_alias(&req.alias)?;
        let reg = self.registry();
        let agent = reg.agent(&req.agent)?;
        let provider = reg.provider(&req.provider)?;
        let pm = provider.manifest();

        let endpoint = if pm.endpoints.is_empty() {
            if let Some(e) = &req.endpoint {
                return Err(Error::UnknownEndpoint {
                    provider: pm.id.clone(),
                    endpoint: e.escape_debug().to_string(),
                    known: "none (use --custom-endpoint URL)".into(),
                });
            }
            None
        } else {
            let name = req
                .endpoint
                .clone()
                .or_else(|| provider.default_endpoint().map(str::to_string))
                .unwrap_or_default();
            if !pm.endpoints.contains_key(&name) {
                return Err(Error::UnknownEndpoint {
                    provider: pm.id.clone(),
                    endpoint: name.escape_debug().to_string(),
                    known: pm.endpoints.keys().cloned().collect::<Vec<_>>().join(", "),
                });
            }
            Some(name)
        };

        let custom = req.custom_endpoint.as_deref().map(str::trim);
        if let Some(url) = custom
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(Error::InvalidInput(format!(
                "--custom-endpoint '{}' must be an http:// or https:// URL",
                url.escape_debug()
            )));
        }
        if custom.is_none() && endpoint.is_none() {
            return Err(Error::InvalidInput(format!(
                "provider '{}' has no built-in endpoint; give one with --custom-endpoint URL",
                pm.id
            )));
        }
        if req.shape.is_some() && custom.is_none() {
            return Err(Error::InvalidInput(
                "--shape describes a --custom-endpoint; give the URL too".into(),
            ));
        }
        let served = match (&req.shape, custom, &endpoint) {
            (Some(shape), _, _) => WireShape::parse_family(shape)?,
            (None, Some(_), Some(name)) => provider.shapes(Some(name)),
            (None, Some(_), None) => agent.speaks().to_vec(),
            (None, None, name) => provider.shapes(name.as_deref()),
        };
        let shape = reg.negotiate(agent.as_ref(), provider.as_ref(), &served)?;

        let model = req
            .model
            .clone()
            .filter(|m| !m.trim().is_empty())
            .or_else(|| pm.models.default.clone());
        if model.is_none() {
            return Err(Error::InvalidInput(format!(
                "provider '{}' has no default model; pass --model",
                pm.id
            )));
        }

        let key_alias = match (&req.key_alias, pm.auth.required) {
            (Some(k), _) => Some(k.clone()),
            (None, true) => Some(req.alias.clone()),
            (None, false) => None,
        };
        if let Some(k) = &key_alias {
            validate_alias(k).map_err(|_| {
                Error::InvalidInput(format!(
                    "invalid key alias '{}'; use letters, digits, '-', '_' or '.'",
                    k.escape_debug()
                ))
            })?;
        }
        for name in req.env.keys() {
            if name.is_empty() || name.contains('=') || name.contains('\0') || name == "HOME" {
                return Err(Error::InvalidInput(format!(
                    "invalid --env name '{}': it must be non-empty, without '=' and not HOME",
                    name.escape_debug()
                )));
            }
        }
        let working_dir = match &req.working_dir {
            Some(dir) => {
                let abs = std::path::absolute(dir).map_err(|e| Error::io("resolving", dir, e))?;
                if !abs.is_dir() {
                    return Err(Error::InvalidInput(format!(
                        "--working-dir {} is not a directory",
                        abs.display()
                    )));
                }
                Some(abs)
            }
            None => None,
        };
        let binary = match &req.binary {
            Some(b) if b.components().count() > 1 => {
                Some(std::path::absolute(b).map_err(|e| Error::io("resolving", b, e))?)
            }
            other => other.clone(),
        };

        Ok(Profile {
            alias: req.alias.clone(),
            agent: agent.id().to_string(),
            provider: pm.id.clone(),
            endpoint,
            endpoint_url: custom.map(|u| shape.normalise_base_url(u)),
            shape,
            model,
            key_alias,
            binary,
            working_dir,
            args: req.args.clone(),
            env: req.env.clone(),
            metadata: ProfileMetadata {
                created_at: Utc::now(),
                last_used: None,
                total_runs: 0,
            },
        })
    }

    /// The credential a profile request would use, when it needs one that is not stored yet.
    /// Frontends call this to decide whether to ask for a key.
    pub fn missing_key(&self, req: &NewProfile) -> Result<Option<CredentialKey>> {
        let profile = self.resolve_profile(req)?;
        let Some(alias) = profile.key_alias else {
            return Ok(None);
        };
        let key = CredentialKey::new(profile.provider, alias);
        Ok(match self.credentials().get(&key)? {
            Some(_) => None,
            None => Some(key),
        })
    }

    /// Creates a profile. A `key` given here is stored under the profile's key alias first; a
    /// different key already stored there is not overwritten.
    pub fn create_profile(&self, req: &NewProfile, key: Option<&Secret>) -> Result<Profile> {
        let profile = self.resolve_profile(req)?;
        if self.inner.profiles.exists(&profile.alias)? {
            return Err(Error::ProfileExists {
                alias: profile.alias,
            });
        }
        if let (Some(key), Some(alias)) = (key, &profile.key_alias) {
            if key.is_empty() {
                return Err(Error::InvalidInput("the API key given is empty".into()));
            }
            let name = CredentialKey::new(profile.provider.clone(), alias.clone());
            match self.credentials().get_for(&name, Some(&profile.alias))? {
                Some(existing) if existing != *key => {
                    return Err(Error::InvalidInput(format!(
                        "a different key is already stored for {name}; replace it with `ringlet keychain set {} {} --replace` or choose another --key-alias",
                        name.provider, name.alias
                    )));
                }
                Some(_) => {}
                None => self.credentials().set(&name, key)?,
            }
        }
        self.inner.profiles.create(&profile)?;
        Ok(profile)
    }

    /// Whether a profile exists, even one whose manifest is unreadable (so it can be deleted).
    pub fn has_profile(&self, alias: &str) -> Result<bool> {
        self.inner.profiles.exists(alias)
    }

    /// Deletes a profile and its HOME.
    pub fn delete_profile(&self, alias: &str) -> Result<()> {
        self.inner.profiles.delete(alias)?;
        ScriptCache::new(self.paths().cache_dir()).remove(alias);
        Ok(())
    }
}
