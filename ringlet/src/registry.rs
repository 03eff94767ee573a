//! The agents and providers known to this installation: built-ins plus user manifests.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::agent::{Agent, AgentManifest, ManifestAgent};
use crate::error::{Error, Result};
use crate::manifest::load_all;
use crate::paths::Paths;
use crate::provider::{ManifestProvider, Provider, ProviderManifest};
use crate::wire::{self, WireShape};

/// Known agents and providers, keyed by id.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    agents: BTreeMap<String, Arc<dyn Agent>>,
    providers: BTreeMap<String, Arc<dyn Provider>>,
}

impl Registry {
    /// Built-ins plus `agents.d/` and `providers.d/` under `paths`.
    pub fn load(paths: &Paths) -> Result<Self> {
        let mut reg = Self::default();
        for (id, (m, source)) in
            load_all::<AgentManifest>(crate::builtin::AGENTS, &paths.agents_dir())?
        {
            reg.agents
                .insert(id, Arc::new(ManifestAgent::new(m, source)));
        }
        for (id, (m, source)) in
            load_all::<ProviderManifest>(crate::builtin::PROVIDERS, &paths.providers_dir())?
        {
            reg.providers
                .insert(id, Arc::new(ManifestProvider::new(m, source)));
        }
        Ok(reg)
    }

    /// Adds or replaces an agent (for embedders with their own implementations).
    pub fn add_agent(&mut self, agent: Arc<dyn Agent>) {
        self.agents.insert(agent.id().to_string(), agent);
    }

    /// Adds or replaces a provider.
    pub fn add_provider(&mut self, provider: Arc<dyn Provider>) {
        self.providers.insert(provider.id().to_string(), provider);
    }

    /// All agents, sorted by id.
    pub fn agents(&self) -> impl Iterator<Item = &Arc<dyn Agent>> {
        self.agents.values()
    }

    /// All providers, sorted by id.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values()
    }

    /// One agent.
    pub fn agent(&self, id: &str) -> Result<&Arc<dyn Agent>> {
        self.agents.get(id).ok_or_else(|| Error::UnknownAgent {
            id: id.escape_debug().to_string(),
            known: self.agents.keys().cloned().collect::<Vec<_>>().join(", "),
        })
    }

    /// One provider.
    pub fn provider(&self, id: &str) -> Result<&Arc<dyn Provider>> {
        self.providers
            .get(id)
            .ok_or_else(|| Error::UnknownProvider {
                id: id.escape_debug().to_string(),
                known: self
                    .providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The wire shape `agent` should use with `served`, or an error listing the providers the
    /// agent can use.
    pub fn negotiate(
        &self,
        agent: &dyn Agent,
        provider: &dyn Provider,
        served: &[WireShape],
    ) -> Result<WireShape> {
        agent
            .speaks()
            .iter()
            .copied()
            .find(|s| served.contains(s))
            .ok_or_else(|| Error::Incompatible {
                agent: agent.id().to_string(),
                provider: provider.id().to_string(),
                speaks: wire::join(agent.speaks()),
                serves: if served.is_empty() {
                    "nothing yet (give --custom-endpoint)".into()
                } else {
                    wire::join(served)
                },
                compatible: self.compatible_providers(agent).join(", "),
            })
    }

    /// Providers with at least one endpoint in a shape the agent speaks (plus `custom`).
    pub fn compatible_providers(&self, agent: &dyn Agent) -> Vec<String> {
        self.providers
            .values()
            .filter(|p| {
                p.manifest().endpoints.is_empty()
                    || p.shapes(None).iter().any(|s| agent.speaks().contains(s))
            })
            .map(|p| p.id().to_string())
            .collect()
    }

    /// Every variable a known agent or provider reads for its provider settings. The launcher
    /// removes them all from the inherited environment unless the plan sets them, so a stale
    /// `OPENAI_BASE_URL` in the shell can never reach an agent.
    pub fn conflicting_env(&self) -> BTreeSet<String> {
        let mut vars = BTreeSet::new();
        for agent in self.agents.values() {
            let env = &agent.manifest().env;
            vars.extend(env.reads.iter().cloned());
            vars.extend(
                [&env.api_key, &env.base_url, &env.model]
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        for provider in self.providers.values() {
            vars.extend(provider.manifest().auth.env.iter().cloned());
        }
        vars
    }
}
