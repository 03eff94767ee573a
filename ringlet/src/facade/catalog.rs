//! The facade's view of the catalogue: installed agents and known providers, with how many
//! profiles use each.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Ringlet;
use crate::catalog::agent::{
    Agent, DetectProgress, Detection, detect_all, detect_all_with_progress,
};
use crate::catalog::manifest::Source;
use crate::catalog::provider::Provider;
use crate::catalog::wire::WireShape;
use crate::error::{Error, Result};

/// An agent as reported by `agents list` / `inspect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// The id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Whether its binary is on PATH.
    pub installed: bool,
    /// Its resolved binary.
    pub path: Option<PathBuf>,
    /// Its version, when it answered.
    pub version: Option<String>,
    /// Why no version could be read.
    pub version_error: Option<String>,
    /// When detection ran (or was cached).
    pub checked_at: DateTime<Utc>,
    /// Wire formats it speaks.
    pub speaks: Vec<WireShape>,
    /// How many profiles use it.
    pub profiles: usize,
    /// How to install it.
    pub install: String,
    /// `built-in` or the manifest file.
    pub source: Source,
    /// Its one-shot form (`profiles run ALIAS --prompt …`): the arguments, `{prompt}` standing
    /// for the prompt; empty when it has none.
    pub one_shot: Vec<String>,
}

/// A provider as reported by `providers list` / `inspect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// The id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Named endpoints: wire shape → base URL.
    pub endpoints: BTreeMap<String, BTreeMap<WireShape, String>>,
    /// The endpoint used by default.
    pub default_endpoint: Option<String>,
    /// Every wire shape served.
    pub shapes: Vec<WireShape>,
    /// The env var its own tools read the key from.
    pub auth_env: Option<String>,
    /// Whether a key is required.
    pub needs_key: bool,
    /// The default model.
    pub default_model: Option<String>,
    /// Known models.
    pub models: Vec<String>,
    /// How many profiles use it.
    pub profiles: usize,
    /// `built-in` or the manifest file.
    pub source: Source,
}

impl Ringlet {
    /// Every agent with its detection result, probed in parallel. A version probe that failed
    /// or timed out is in [`AgentInfo::version_error`] and becomes a warning naming the agent.
    pub fn agents(&self) -> Result<Vec<AgentInfo>> {
        self.agents_with_progress(&|_| {})
    }

    /// [`Ringlet::agents`], telling `progress` when each `--version` probe starts and ends (a
    /// first listing can take seconds; a frontend shows which agents it is waiting for).
    pub fn agents_with_progress(
        &self,
        progress: &(dyn Fn(DetectProgress<'_>) + Sync),
    ) -> Result<Vec<AgentInfo>> {
        let agents: Vec<Arc<dyn Agent>> = self.catalogue().agents().cloned().collect();
        let detections = detect_all_with_progress(
            &agents,
            std::env::var_os("PATH"),
            &self.paths().detection_cache(),
            progress,
        );
        self.warn_probe_errors(&detections);
        let (counts, _) = self.usage_counts();
        Ok(agents
            .iter()
            .zip(detections)
            .map(|(a, d)| agent_info(a.as_ref(), d, &counts))
            .collect())
    }

    /// A probe that failed is not cached, so the next detection asks again.
    fn warn_probe_errors(&self, detections: &[Detection]) {
        for d in detections {
            if let Some(error) = &d.error {
                self.inner.warnings.push(
                    "agent_version",
                    format!(
                        "agent {}: {error}, so its version is unknown (it is asked again next time)",
                        d.agent
                    ),
                );
            }
        }
    }

    /// One agent with its detection result.
    pub fn agent(&self, id: &str) -> Result<AgentInfo> {
        let agent = Arc::clone(self.catalogue().agent(id)?);
        let detection = detect_all(
            std::slice::from_ref(&agent),
            std::env::var_os("PATH"),
            &self.paths().detection_cache(),
        );
        self.warn_probe_errors(&detection);
        let (counts, _) = self.usage_counts();
        let d = detection.into_iter().next().ok_or_else(|| {
            Error::InvalidInput(format!("detection returned nothing for agent '{id}'"))
        })?;
        Ok(agent_info(agent.as_ref(), d, &counts))
    }

    /// Every provider.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        let (_, counts) = self.usage_counts();
        self.catalogue()
            .providers()
            .map(|p| provider_info(p.as_ref(), &counts))
            .collect()
    }

    /// One provider.
    pub fn provider(&self, id: &str) -> Result<ProviderInfo> {
        let (_, counts) = self.usage_counts();
        Ok(provider_info(
            self.catalogue().provider(id)?.as_ref(),
            &counts,
        ))
    }
}

fn agent_info(agent: &dyn Agent, d: Detection, counts: &BTreeMap<String, usize>) -> AgentInfo {
    let m = agent.manifest();
    AgentInfo {
        id: m.id.clone(),
        name: m.name.clone(),
        installed: d.installed,
        path: d.path,
        version: d.version,
        version_error: d.error,
        checked_at: d.checked_at,
        speaks: m.speaks.clone(),
        one_shot: m.one_shot.clone(),
        profiles: counts.get(&m.id).copied().unwrap_or(0),
        install: m.install.clone(),
        source: agent.source().clone(),
    }
}

fn provider_info(p: &dyn Provider, counts: &BTreeMap<String, usize>) -> ProviderInfo {
    let m = p.manifest();
    ProviderInfo {
        id: m.id.clone(),
        name: m.name.clone(),
        endpoints: m.endpoints.clone(),
        default_endpoint: p.default_endpoint().map(str::to_string),
        shapes: p.shapes(None),
        auth_env: m.auth.env.clone(),
        needs_key: m.auth.required,
        default_model: m.models.default.clone(),
        models: m.models.available.clone(),
        profiles: counts.get(&m.id).copied().unwrap_or(0),
        source: p.source().clone(),
    }
}
