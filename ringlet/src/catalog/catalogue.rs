//! The agents and providers known to this installation: built-ins plus user manifests.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::catalog::agent::{Agent, AgentManifest, ManifestAgent};
use crate::catalog::manifest::{Broken, Source, load_user, parse};
use crate::catalog::provider::{ManifestProvider, Provider, ProviderManifest};
use crate::catalog::wire::{self, WireShape};
use crate::error::{Error, Result};
use crate::paths::Paths;

/// Known agents and providers, keyed by id.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    agents: BTreeMap<String, Slot<dyn Agent>>,
    providers: BTreeMap<String, Slot<dyn Provider>>,
    /// User manifests that failed to load, by the id they stand for: those agents and
    /// providers are unavailable (with the reason) while everything else works.
    disabled: Vec<Disabled>,
    /// Registry manifests that did not load: the entry they would have replaced stays (a
    /// signed snapshot is not the user's intent, so nothing is disabled), with a warning.
    registry_problems: Vec<String>,
}

/// An agent or provider whose user manifest is broken.
#[derive(Debug, Clone)]
struct Disabled {
    kind: &'static str,
    id: String,
    reason: String,
}

impl Disabled {
    fn new(kind: &'static str, broken: Broken) -> Self {
        Self {
            kind,
            id: broken.id,
            reason: broken.error.to_string(),
        }
    }

    fn message(&self) -> String {
        format!(
            "{kind} '{id}' is disabled: {reason}; fix the file or remove it",
            kind = self.kind,
            id = self.id.escape_debug(),
            reason = self.reason
        )
    }
}

/// A catalogue entry. Built-in manifests are parsed when first asked for: a launch needs one
/// agent and one provider, and parsing all 18 built-ins took 1 M instructions, a sixth of a
/// whole `profiles run`.
#[derive(Debug)]
enum Slot<T: ?Sized> {
    Ready(Arc<T>),
    BuiltIn {
        file: &'static str,
        text: &'static str,
        parsed: OnceLock<Arc<T>>,
    },
}

// By hand: derive(Clone) would ask for `T: Clone`, which a trait object is not.
impl<T: ?Sized> Clone for Slot<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Ready(it) => Self::Ready(Arc::clone(it)),
            Self::BuiltIn { file, text, parsed } => Self::BuiltIn {
                file,
                text,
                parsed: parsed.clone(),
            },
        }
    }
}

impl<T: ?Sized> Slot<T> {
    fn built_in(file: &'static str, text: &'static str) -> Self {
        Self::BuiltIn {
            file,
            text,
            parsed: OnceLock::new(),
        }
    }

    fn get(&self, make: fn(&'static str, &'static str) -> Arc<T>) -> &Arc<T> {
        match self {
            Self::Ready(it) => it,
            Self::BuiltIn { file, text, parsed } => parsed.get_or_init(|| make(file, text)),
        }
    }
}

fn builtin_agent(file: &'static str, text: &'static str) -> Arc<dyn Agent> {
    let m: AgentManifest = parse(Path::new(file), text)
        .expect("built-in agent manifests parse (checked by builtin::tests)");
    Arc::new(ManifestAgent::new(m, Source::BuiltIn))
}

fn builtin_provider(file: &'static str, text: &'static str) -> Arc<dyn Provider> {
    let m: ProviderManifest = parse(Path::new(file), text)
        .expect("built-in provider manifests parse (checked by builtin::tests)");
    Arc::new(ManifestProvider::new(m, Source::BuiltIn))
}

/// The built-ins keyed by id, which is their file name without `.toml` (checked by
/// builtin::tests).
fn builtins<T: ?Sized>(files: &[(&'static str, &'static str)]) -> BTreeMap<String, Slot<T>> {
    files
        .iter()
        .map(|&(file, text)| {
            let id = file.strip_suffix(".toml").unwrap_or(file);
            (id.to_string(), Slot::built_in(file, text))
        })
        .collect()
}

/// A manifest read from the registry snapshot is named as such.
fn registry_source(source: Source) -> Source {
    match source {
        Source::File(path) => Source::Registry(path),
        other => other,
    }
}

/// A user provider manifest's endpoint URLs are checked like `--custom-endpoint` (the
/// built-ins by a test).
fn check_endpoints(m: &ProviderManifest, source: &Source) -> Result<()> {
    for (name, urls) in &m.endpoints {
        for (shape, url) in urls {
            if let Err(why) = crate::base_url::parse(url) {
                return Err(Error::Parse {
                    path: match source {
                        Source::File(path) | Source::Registry(path) => path.clone(),
                        Source::BuiltIn => format!("{}.toml", m.id).into(),
                    },
                    line: None,
                    message: format!("endpoint '{name}' ({shape}): URL {why}"),
                });
            }
        }
    }
    Ok(())
}

impl Catalogue {
    /// Built-ins, overlaid with the registry snapshot's manifests (when one was synced), then
    /// with `agents.d/` and `providers.d/` under `paths`: user files win, then the registry,
    /// then the built-ins. User and registry manifests are read and checked now; built-ins are
    /// parsed on first use.
    pub fn load(paths: &Paths) -> Result<Self> {
        let mut reg = Self {
            agents: builtins(crate::catalog::builtin::AGENTS),
            providers: builtins(crate::catalog::builtin::PROVIDERS),
            disabled: Vec::new(),
            registry_problems: Vec::new(),
        };
        reg.overlay_registry(paths);
        let (agents, broken_agents) = load_user::<AgentManifest>(&paths.agents_dir())?;
        for (id, (m, source)) in agents {
            reg.agents
                .insert(id, Slot::Ready(Arc::new(ManifestAgent::new(m, source))));
        }
        let (providers, broken_providers) = load_user::<ProviderManifest>(&paths.providers_dir())?;
        for (id, (m, source)) in providers {
            // A provider whose endpoints are not usable URLs is disabled like an unparsable one.
            if let Err(error) = check_endpoints(&m, &source) {
                reg.providers.remove(&id);
                reg.disabled
                    .push(Disabled::new("provider", Broken { id, error }));
                continue;
            }
            reg.providers
                .insert(id, Slot::Ready(Arc::new(ManifestProvider::new(m, source))));
        }
        for b in broken_agents {
            reg.agents.remove(&b.id);
            reg.disabled.push(Disabled::new("agent", b));
        }
        for b in broken_providers {
            reg.providers.remove(&b.id);
            reg.disabled.push(Disabled::new("provider", b));
        }
        Ok(reg)
    }

    /// One line per user manifest that failed to load (which agent or provider it disabled,
    /// and why), then per registry manifest left out. The facade reports them as warnings.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self.disabled.iter().map(Disabled::message).collect();
        out.extend(self.registry_problems.iter().cloned());
        out
    }

    /// Puts the registry snapshot's agents and providers over the built-ins.
    fn overlay_registry(&mut self, paths: &Paths) {
        let Some(agents_dir) = crate::registry::snapshot_folder(paths, "agents") else {
            return;
        };
        let providers_dir = agents_dir.with_file_name("providers");
        let left_out = |kind: &str, b: Broken| {
            format!(
                "registry {kind} '{}' is left out: {}; run `ringlet registry sync --force`",
                b.id.escape_debug(),
                b.error
            )
        };
        match load_user::<AgentManifest>(&agents_dir) {
            Ok((agents, broken)) => {
                for (id, (m, source)) in agents {
                    let source = registry_source(source);
                    self.agents
                        .insert(id, Slot::Ready(Arc::new(ManifestAgent::new(m, source))));
                }
                self.registry_problems
                    .extend(broken.into_iter().map(|b| left_out("agent", b)));
            }
            Err(e) => self.registry_problems.push(format!("registry agents: {e}")),
        }
        match load_user::<ProviderManifest>(&providers_dir) {
            Ok((providers, broken)) => {
                for (id, (m, source)) in providers {
                    let source = registry_source(source);
                    if let Err(error) = check_endpoints(&m, &source) {
                        self.registry_problems
                            .push(left_out("provider", Broken { id, error }));
                        continue;
                    }
                    self.providers
                        .insert(id, Slot::Ready(Arc::new(ManifestProvider::new(m, source))));
                }
                self.registry_problems
                    .extend(broken.into_iter().map(|b| left_out("provider", b)));
            }
            Err(e) => self
                .registry_problems
                .push(format!("registry providers: {e}")),
        }
    }

    /// The error for asking for a disabled agent or provider.
    fn disabled(&self, kind: &str, id: &str) -> Option<Error> {
        self.disabled
            .iter()
            .find(|d| d.kind == kind && d.id == id)
            .map(|d| Error::InvalidInput(d.message()))
    }

    /// Adds or replaces an agent (for embedders with their own implementations).
    pub fn add_agent(&mut self, agent: Arc<dyn Agent>) {
        self.agents
            .insert(agent.id().to_string(), Slot::Ready(agent));
    }

    /// Adds or replaces a provider.
    pub fn add_provider(&mut self, provider: Arc<dyn Provider>) {
        self.providers
            .insert(provider.id().to_string(), Slot::Ready(provider));
    }

    /// All agents, sorted by id.
    pub fn agents(&self) -> impl Iterator<Item = &Arc<dyn Agent>> {
        self.agents.values().map(|s| s.get(builtin_agent))
    }

    /// All providers, sorted by id.
    pub fn providers(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.providers.values().map(|s| s.get(builtin_provider))
    }

    /// One agent.
    pub fn agent(&self, id: &str) -> Result<&Arc<dyn Agent>> {
        if let Some(e) = self.disabled("agent", id) {
            return Err(e);
        }
        self.agents
            .get(id)
            .map(|s| s.get(builtin_agent))
            .ok_or_else(|| Error::UnknownAgent {
                id: id.escape_debug().to_string(),
                known: self.agents.keys().cloned().collect::<Vec<_>>().join(", "),
                suggestion: crate::suggest::suggest(id, self.agents.keys().map(String::as_str)),
            })
    }

    /// One provider.
    pub fn provider(&self, id: &str) -> Result<&Arc<dyn Provider>> {
        if let Some(e) = self.disabled("provider", id) {
            return Err(e);
        }
        self.providers
            .get(id)
            .map(|s| s.get(builtin_provider))
            .ok_or_else(|| Error::UnknownProvider {
                id: id.escape_debug().to_string(),
                known: self
                    .providers
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                suggestion: crate::suggest::suggest(id, self.providers.keys().map(String::as_str)),
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
                    "nothing yet (give a custom endpoint URL)".into()
                } else {
                    wire::join(served)
                },
                compatible: self.compatible_providers(agent).join(", "),
            })
    }

    /// Providers with at least one endpoint in a shape the agent speaks (plus `custom`).
    pub fn compatible_providers(&self, agent: &dyn Agent) -> Vec<String> {
        self.providers()
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
        // The built-ins' variables are listed in the binary, so this parses no manifest. An
        // overridden built-in's variables stay in: removing one more stale variable is safe.
        let mut vars: BTreeSet<String> = crate::catalog::builtin::PROVIDER_ENV
            .iter()
            .map(|v| v.to_string())
            .collect();
        for slot in self.agents.values() {
            if let Slot::Ready(agent) = slot {
                vars.extend(agent_env(agent.manifest()));
            }
        }
        for slot in self.providers.values() {
            if let Slot::Ready(provider) = slot {
                vars.extend(provider.manifest().auth.env.iter().cloned());
            }
        }
        vars
    }
}

/// The variables an agent reads for its provider settings.
pub(crate) fn agent_env(m: &AgentManifest) -> impl Iterator<Item = String> + '_ {
    let env = &m.env;
    env.reads
        .iter()
        .chain(
            [&env.api_key, &env.base_url, &env.model]
                .into_iter()
                .flatten(),
        )
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_user_manifest_disables_only_its_entry() {
        let dir = tempfile::tempdir().expect("tempdir");
        let paths = Paths::under(dir.path());
        std::fs::create_dir_all(paths.agents_dir()).expect("agents.d");
        std::fs::create_dir_all(paths.providers_dir()).expect("providers.d");
        // A typo in an override of a built-in: the built-in must not quietly take its place.
        std::fs::write(
            paths.agents_dir().join("claude.toml"),
            "id = \"claude\"\nspeaks = [\n",
        )
        .expect("write");
        std::fs::write(paths.providers_dir().join("mine.toml"), "id = 3\n").expect("write");

        let reg = Catalogue::load(&paths).expect("loads despite broken manifests");
        let err = reg
            .agent("claude")
            .expect_err("claude is disabled")
            .to_string();
        assert!(err.contains("agent 'claude' is disabled"), "{err}");
        assert!(err.contains("claude.toml:"), "{err}");
        let err = reg
            .provider("mine")
            .expect_err("mine is disabled")
            .to_string();
        assert!(err.contains("provider 'mine' is disabled"), "{err}");
        assert!(reg.agent("codex").is_ok());
        assert!(reg.provider("anthropic").is_ok());
        assert!(reg.agents().all(|a| a.id() != "claude"));
        assert_eq!(reg.problems().len(), 2, "{:?}", reg.problems());
    }
}
