//! Providers: the model API backends a profile binds an agent to.

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::{Deserialize, Serialize};

use crate::catalog::manifest::Source;
use crate::catalog::wire::WireShape;

/// A provider described as data. Built-ins live in `ringlet/assets/providers/`; users add or
/// override them in `providers.d/*.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderManifest {
    /// Stable id (`anthropic`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// The endpoint used when a profile names none.
    #[serde(default)]
    pub default_endpoint: Option<String>,
    /// Named endpoints; each maps the wire shapes it serves to a base URL.
    #[serde(default)]
    pub endpoints: BTreeMap<String, BTreeMap<WireShape, String>>,
    /// How the provider authenticates.
    #[serde(default)]
    pub auth: ProviderAuth,
    /// Models it offers.
    #[serde(default)]
    pub models: ProviderModels,
}

/// How a provider authenticates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderAuth {
    /// The environment variable its own tools read the key from (`ANTHROPIC_API_KEY`); offered
    /// as the default for `--key-from-env`.
    #[serde(default)]
    pub env: Option<String>,
    /// Whether a key is needed at all (false for local servers such as Ollama).
    #[serde(default = "yes")]
    pub required: bool,
    /// How the key travels on Anthropic-shaped endpoints: `x-api-key` (Anthropic's own API)
    /// or `bearer` (most Anthropic-compatible gateways).
    #[serde(default)]
    pub scheme: AuthScheme,
}

impl Default for ProviderAuth {
    fn default() -> Self {
        Self {
            env: None,
            required: true,
            scheme: AuthScheme::default(),
        }
    }
}

fn yes() -> bool {
    true
}

/// How a key is presented to an Anthropic-shaped endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuthScheme {
    /// `x-api-key: <key>`.
    #[default]
    XApiKey,
    /// `Authorization: Bearer <key>`.
    Bearer,
}

/// Models a provider offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderModels {
    /// The model used when a profile names none.
    #[serde(default)]
    pub default: Option<String>,
    /// Models known to be available (advisory; any model name is accepted).
    #[serde(default)]
    pub available: Vec<String>,
}

impl crate::catalog::manifest::HasId for ProviderManifest {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A model API backend. The built-in implementation is [`ManifestProvider`].
pub trait Provider: Send + Sync + Debug {
    /// The provider's manifest.
    fn manifest(&self) -> &ProviderManifest;

    /// Where the manifest came from.
    fn source(&self) -> &Source;

    /// The provider's id.
    fn id(&self) -> &str {
        &self.manifest().id
    }

    /// The endpoint used when a profile names none: the manifest's default, else the first.
    fn default_endpoint(&self) -> Option<&str> {
        let m = self.manifest();
        m.default_endpoint
            .as_deref()
            .or_else(|| m.endpoints.keys().next().map(String::as_str))
    }

    /// Wire shapes served at an endpoint (all shapes of all endpoints when `endpoint` is None).
    fn shapes(&self, endpoint: Option<&str>) -> Vec<WireShape> {
        let m = self.manifest();
        let mut shapes: Vec<WireShape> = match endpoint {
            Some(name) => m
                .endpoints
                .get(name)
                .map(|e| e.keys().copied().collect())
                .unwrap_or_default(),
            None => m
                .endpoints
                .values()
                .flat_map(|e| e.keys().copied())
                .collect(),
        };
        shapes.sort();
        shapes.dedup();
        shapes
    }

    /// The base URL of `shape` at `endpoint`.
    fn base_url(&self, endpoint: &str, shape: WireShape) -> Option<&str> {
        self.manifest()
            .endpoints
            .get(endpoint)
            .and_then(|e| e.get(&shape))
            .map(String::as_str)
    }
}

/// A provider defined entirely by its manifest.
#[derive(Debug, Clone)]
pub struct ManifestProvider {
    manifest: ProviderManifest,
    source: Source,
}

impl ManifestProvider {
    /// Wraps a manifest.
    pub fn new(manifest: ProviderManifest, source: Source) -> Self {
        Self { manifest, source }
    }
}

impl Provider for ManifestProvider {
    fn manifest(&self) -> &ProviderManifest {
        &self.manifest
    }

    fn source(&self) -> &Source {
        &self.source
    }
}
