//! The [`Ringlet`] facade: the one entry point every frontend uses.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::agent::{Agent, Detection, detect_all};
use crate::alias::validate_alias;
use crate::config::Config;
use crate::credentials::{
    AuditedCredentialStore, CredentialKey, CredentialStore, FileCredentialStore, MigrationReport,
    Secret, SystemCredentialStore, migrate_credentials,
};
use crate::error::{Error, Result};
use crate::launch::{
    LaunchPlan, Launcher, PlanInput, ProcessLauncher, RunOptions, RunOutcome, build_plan,
};
use crate::manifest::Source;
use crate::paths::Paths;
use crate::profile::{FileProfileStore, Profile, ProfileMetadata, ProfileStore};
use crate::provider::Provider;
use crate::registry::Registry;
use crate::script::{KEY_PLACEHOLDER, Script, ScriptContext, ScriptOutput, ScriptSource};
use crate::script_cache::ScriptCache;
use crate::warning::{Warning, Warnings};
use crate::wire::WireShape;

// The usage methods of the facade live in their own file (a child module, so they can reach
// `Inner`).
#[path = "facade_hooks.rs"]
mod facade_hooks;
#[path = "facade_usage.rs"]
pub(crate) mod facade_usage;
pub use facade_hooks::{HookImportReport, HookTestReport, NewHook, RUN_STARTED_ENV};

/// ringlet as a library: agents, providers, profiles, credentials and launching, assembled from
/// [`Paths`]. Cheap to clone; safe to share between threads.
#[derive(Debug, Clone)]
pub struct Ringlet {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    paths: Paths,
    registry: Registry,
    profiles: Arc<dyn ProfileStore>,
    credentials: Arc<dyn CredentialStore>,
    launcher: Arc<dyn Launcher>,
    config: Config,
    warnings: Warnings,
    usage: facade_usage::UsageState,
}

/// Builds a [`Ringlet`] with some parts replaced (a memory credential store in tests, a PTY
/// launcher in a server).
#[derive(Debug, Default)]
pub struct RingletBuilder {
    paths: Option<Paths>,
    registry: Option<Registry>,
    profiles: Option<Arc<dyn ProfileStore>>,
    credentials: Option<Arc<dyn CredentialStore>>,
    launcher: Option<Arc<dyn Launcher>>,
    usage_store: Option<Arc<dyn crate::usage::UsageStore>>,
}

impl RingletBuilder {
    /// Uses these paths instead of `RINGLET_HOME` / the platform defaults.
    pub fn paths(mut self, paths: Paths) -> Self {
        self.paths = Some(paths);
        self
    }

    /// Puts everything under one directory, like `RINGLET_HOME`.
    pub fn home(self, root: impl Into<PathBuf>) -> Self {
        self.paths(Paths::under(root.into()))
    }

    /// Uses this registry instead of loading manifests.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Uses this profile store.
    pub fn profile_store(mut self, store: Arc<dyn ProfileStore>) -> Self {
        self.profiles = Some(store);
        self
    }

    /// Uses this credential store instead of the one `config.toml` selects.
    pub fn credential_store(mut self, store: Arc<dyn CredentialStore>) -> Self {
        self.credentials = Some(store);
        self
    }

    /// Uses this launcher.
    pub fn launcher(mut self, launcher: Arc<dyn Launcher>) -> Self {
        self.launcher = Some(launcher);
        self
    }

    /// Uses this usage ledger instead of `<data>/usage.db`.
    pub fn usage_store(mut self, store: Arc<dyn crate::usage::UsageStore>) -> Self {
        self.usage_store = Some(store);
        self
    }

    /// Loads config and manifests and assembles the facade.
    pub fn build(self) -> Result<Ringlet> {
        let paths = match self.paths {
            Some(p) => p,
            None => Paths::from_env()?,
        };
        let config = Config::load(&paths)?;
        let registry = match self.registry {
            Some(r) => r,
            None => Registry::load(&paths)?,
        };
        let warnings = Warnings::default();
        let backend = config.credentials.backend(&paths.config_file())?;
        let mut credentials: Arc<dyn CredentialStore> = match self.credentials {
            Some(c) => c,
            None => crate::credentials::open_configured(backend, &paths, &warnings)?,
        };
        if let Some(log) = config.credentials.audit_log_path(&paths) {
            credentials = Arc::new(AuditedCredentialStore::new(credentials, log));
        }
        let profiles = self
            .profiles
            .unwrap_or_else(|| Arc::new(FileProfileStore::new(paths.profiles_dir())));
        let launcher = self
            .launcher
            .unwrap_or_else(|| Arc::new(ProcessLauncher::new()));
        Ok(Ringlet {
            inner: Arc::new(Inner {
                paths,
                registry,
                profiles,
                credentials,
                launcher,
                config,
                warnings,
                usage: facade_usage::UsageState::with_store(self.usage_store),
            }),
        })
    }
}

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

/// What `init` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitReport {
    /// The config directory.
    pub config_dir: PathBuf,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The cache directory.
    pub cache_dir: PathBuf,
    /// What was detected.
    pub agents: Vec<AgentInfo>,
}

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
    /// Opens ringlet with the default paths (`RINGLET_HOME` or the platform's).
    pub fn open() -> Result<Self> {
        Self::builder().build()
    }

    /// A builder for replacing parts.
    pub fn builder() -> RingletBuilder {
        RingletBuilder::default()
    }

    /// The paths in use.
    pub fn paths(&self) -> &Paths {
        &self.inner.paths
    }

    /// The agent and provider registry.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The credential store in use.
    pub fn credentials(&self) -> &dyn CredentialStore {
        self.inner.credentials.as_ref()
    }

    /// Warnings recorded so far, oldest first: for example that keys are kept in the file
    /// because no OS keychain could be reached, and why. Frontends show each once; the library
    /// never prints.
    pub fn warnings(&self) -> Vec<Warning> {
        self.inner.warnings.all()
    }

    /// Makes sure the credential backend can be used now (connecting to the keychain, or
    /// settling on the file and recording the warning), so a frontend can report that before
    /// starting an agent. Key operations do this themselves.
    pub fn check_credentials(&self) -> Result<()> {
        self.credentials().ensure_ready()
    }

    /// Creates ringlet's directories and detects agents.
    pub fn init(&self) -> Result<InitReport> {
        self.paths().ensure()?;
        Ok(InitReport {
            config_dir: self.paths().config_dir().to_path_buf(),
            data_dir: self.paths().data_dir().to_path_buf(),
            cache_dir: self.paths().cache_dir().to_path_buf(),
            agents: self.agents()?,
        })
    }

    fn usage_counts(&self) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
        let mut agents = BTreeMap::new();
        let mut providers = BTreeMap::new();
        // Counts are informational: a corrupt profile must not break a listing of agents.
        for p in self.inner.profiles.list().unwrap_or_default() {
            *agents.entry(p.agent).or_insert(0) += 1;
            *providers.entry(p.provider).or_insert(0) += 1;
        }
        (agents, providers)
    }

    /// Every agent with its detection result, probed in parallel.
    pub fn agents(&self) -> Result<Vec<AgentInfo>> {
        let agents: Vec<Arc<dyn Agent>> = self.registry().agents().cloned().collect();
        let detections = detect_all(
            &agents,
            std::env::var_os("PATH"),
            &self.paths().detection_cache(),
        );
        let (counts, _) = self.usage_counts();
        Ok(agents
            .iter()
            .zip(detections)
            .map(|(a, d)| agent_info(a.as_ref(), d, &counts))
            .collect())
    }

    /// One agent with its detection result.
    pub fn agent(&self, id: &str) -> Result<AgentInfo> {
        let agent = Arc::clone(self.registry().agent(id)?);
        let detection = detect_all(
            std::slice::from_ref(&agent),
            std::env::var_os("PATH"),
            &self.paths().detection_cache(),
        );
        let (counts, _) = self.usage_counts();
        let d = detection.into_iter().next().ok_or_else(|| {
            Error::InvalidInput(format!("detection returned nothing for agent '{id}'"))
        })?;
        Ok(agent_info(agent.as_ref(), d, &counts))
    }

    /// Every provider.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        let (_, counts) = self.usage_counts();
        self.registry()
            .providers()
            .map(|p| provider_info(p.as_ref(), &counts))
            .collect()
    }

    /// One provider.
    pub fn provider(&self, id: &str) -> Result<ProviderInfo> {
        let (_, counts) = self.usage_counts();
        Ok(provider_info(
            self.registry().provider(id)?.as_ref(),
            &counts,
        ))
    }

    /// Every profile, sorted by alias.
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        self.inner.profiles.list()
    }

    /// Every profile, sorted by alias, if they can be given from memory at once: the store kept
    /// the last listing and knows nothing changed since (on Linux, from the second listing on;
    /// docs/profiles.md, "Listing from memory"). `None` means [`profiles`](Self::profiles)
    /// must read the files. For callers that must not wait, such as an event loop: this reads
    /// no file and takes no lock another thread holds. The listing is shared, not copied (a
    /// `profiles()` served from memory copies it).
    pub fn cached_profiles(&self) -> Option<Arc<[Profile]>> {
        self.inner.profiles.list_cached()
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

    /// Where the agent's config script comes from: `scripts/<name>` when the user has one,
    /// else the built-in.
    fn script_source(&self, agent: &dyn Agent) -> Result<ScriptSource> {
        let name = &agent.manifest().script;
        let user = self.paths().scripts_dir().join(name);
        if user.is_file() {
            return Ok(ScriptSource::File(user));
        }
        crate::builtin::SCRIPTS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(n, text)| ScriptSource::BuiltIn(n, text))
            .ok_or_else(|| Error::Script {
                script: name.clone(),
                message: format!(
                    "not found in {} nor built in",
                    self.paths().scripts_dir().display()
                ),
            })
    }

    /// Runs the agent's config script, or reuses its last output for the same source and
    /// context (see [`ScriptCache`]). Only a run remembers a new output: planning writes
    /// nothing.
    fn script_output(
        &self,
        agent: &dyn Agent,
        ctx: &ScriptContext,
        remember: bool,
    ) -> Result<ScriptOutput> {
        let (name, text) = self.script_source(agent)?.read()?;
        let remembered = ScriptCache::new(self.paths().cache_dir()).open(&ctx.alias, &name, &text);
        if let Some(output) = remembered.get(ctx) {
            return Ok(output);
        }
        let output = Script::compile(name, &text)?.run(ctx)?;
        if remember {
            remembered.put(ctx, &output);
        }
        Ok(output)
    }

    fn base_url(&self, profile: &Profile, provider: &dyn Provider) -> Result<String> {
        if let Some(url) = &profile.endpoint_url {
            return Ok(url.clone());
        }
        let endpoint = profile.endpoint.as_deref().unwrap_or_default();
        provider
            .base_url(endpoint, profile.shape)
            .map(str::to_string)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "provider '{}' no longer serves {} at endpoint '{endpoint}'; recreate profile '{}'",
                    provider.id(),
                    profile.shape,
                    profile.alias
                ))
            })
    }

    /// The launch plan for a profile: program, args, env, files. Writes nothing; holds no secret.
    pub fn plan_run(&self, alias: &str, args: &[String]) -> Result<LaunchPlan> {
        self.plan_for(&self.profile(alias)?, args, false)
    }

    fn plan_for(&self, profile: &Profile, args: &[String], remember: bool) -> Result<LaunchPlan> {
        let alias = profile.alias.as_str();
        let agent = self.registry().agent(&profile.agent)?;
        let provider = self.registry().provider(&profile.provider)?;
        let home = self.inner.profiles.home_dir(alias);
        let cwd = match &profile.working_dir {
            Some(d) => d.clone(),
            None => std::env::current_dir().map_err(|e| Error::io("reading", ".", e))?,
        };
        let base_url = self.base_url(profile, provider.as_ref())?;
        let manifest = agent.manifest();
        let (hook_command, hook_gate_command) = self.hook_commands(&profile.alias);
        let ctx = ScriptContext {
            alias: profile.alias.clone(),
            agent: manifest.id.clone(),
            provider: provider.id().to_string(),
            provider_name: provider.manifest().name.clone(),
            shape: profile.shape.as_str().to_string(),
            base_url: base_url.clone(),
            model: profile.model.clone().unwrap_or_default(),
            has_key: profile.key_alias.is_some(),
            auth_scheme: match provider.manifest().auth.scheme {
                crate::provider::AuthScheme::XApiKey => "x-api-key".into(),
                crate::provider::AuthScheme::Bearer => "bearer".into(),
            },
            key_env: manifest
                .env
                .api_key
                .clone()
                .unwrap_or_else(|| "RINGLET_API_KEY".into()),
            key_placeholder: KEY_PLACEHOLDER.into(),
            home: home.display().to_string(),
            working_dir: cwd.display().to_string(),
            hook_command,
            hook_gate_command,
        };
        let script = self.script_output(agent.as_ref(), &ctx, remember)?;
        let conflicting = self.registry().conflicting_env();
        build_plan(PlanInput {
            profile,
            agent: manifest,
            base_url,
            home,
            cwd,
            script,
            conflicting: &conflicting,
            extra_args: args,
        })
    }

    /// Runs a profile's agent and waits for it: resolves the binary and the key, writes the
    /// config files, starts the agent with its HOME and provider env, and counts the run.
    /// `start` and `stop` hooks fire around the agent. The run is recorded in the usage ledger
    /// (duration, exit code, peak memory, CPU time) and the usage the agent logged is read
    /// afterwards; problems there become warnings and never change the outcome. The scheduled
    /// hook checks (cost thresholds the new usage crossed, the daily rollup) run last.
    pub fn run(&self, alias: &str, args: &[String], options: RunOptions) -> Result<RunOutcome> {
        let profile = self.profile(alias)?;
        let mut plan = self.plan_for(&profile, args, true)?;
        let agent = self.registry().agent(&profile.agent)?;
        plan.program = agent.locate(profile.binary.as_deref(), std::env::var_os("PATH"))?;
        let key = self.key_for(&plan)?;
        let started = self.fire_start(&mut plan);
        let pending = self.usage_run_starting(&profile);
        // An agent that could not be started is no run: nothing is recorded.
        let running = self.inner.launcher.start(&plan, key.as_ref(), options)?;
        // The bookkeeping is done while the agent runs, so the agent never waits for SQLite or
        // for profile.toml. Its errors wait until the agent has ended: the agent must be waited
        // for whatever happens here.
        let session = self.usage_record_start(pending);
        let counted = self.inner.profiles.record_run(alias, running.started_at());
        let outcome = running.wait();
        if let Ok(outcome) = &outcome {
            self.fire_stop(&plan, outcome, started);
        }
        self.usage_run_finished(&profile, session, outcome.as_ref().ok());
        let outcome = outcome?;
        counted?;
        // After the run's usage is in the ledger: cost thresholds it crossed fire now.
        self.run_scheduled_hooks();
        Ok(outcome)
    }

    fn key_for(&self, plan: &LaunchPlan) -> Result<Option<Secret>> {
        let Some(secret) = &plan.secret_env else {
            return Ok(None);
        };
        let required = self
            .registry()
            .provider(&plan.provider)?
            .manifest()
            .auth
            .required;
        let name = CredentialKey::new(secret.provider.clone(), secret.alias.clone());
        match self.credentials().get_for(&name, Some(&plan.profile))? {
            Some(key) => Ok(Some(key)),
            None if !required => Ok(None),
            None if self.key_left_in_file(&name) => Err(Error::KeyNotMigrated {
                provider: name.provider,
                alias: name.alias,
                file: self.paths().credentials_file(),
            }),
            None => Err(Error::MissingKey {
                provider: secret.provider.clone(),
                alias: secret.alias.clone(),
                backend: self.credentials().backend().to_string(),
            }),
        }
    }

    /// Whether a key the keychain lacks is still in the credentials file (from before the
    /// keychain was the backend), so the error can point at `keychain migrate`.
    fn key_left_in_file(&self, key: &CredentialKey) -> bool {
        self.credentials().backend() == "system"
            && FileCredentialStore::new(self.paths().credentials_file())
                .get(key)
                .is_ok_and(|found| found.is_some())
    }

    /// Moves the keys in the credentials file into the OS keychain and removes them from the
    /// file (`ringlet keychain migrate`). Needs `[credentials] backend` = `system` or
    /// `system-only`, and a reachable keychain. A key the keychain already holds with a
    /// different value is left in the file and reported as a conflict.
    pub fn migrate_keys(&self) -> Result<MigrationReport> {
        let config_file = self.paths().config_file();
        let backend = self.inner.config.credentials.backend(&config_file)?;
        if !backend.uses_keychain() {
            return Err(Error::InvalidInput(format!(
                "the credential backend is \"{backend}\", and migrate moves keys from {} into the system keychain; set `[credentials] backend = \"system\"` in {} first",
                self.paths().credentials_file().display(),
                config_file.display()
            )));
        }
        let system = SystemCredentialStore::new();
        system.connect()?;
        let mut from: Arc<dyn CredentialStore> =
            Arc::new(FileCredentialStore::new(self.paths().credentials_file()));
        let mut to: Arc<dyn CredentialStore> = Arc::new(system);
        if let Some(log) = self.inner.config.credentials.audit_log_path(self.paths()) {
            from = Arc::new(AuditedCredentialStore::new(from, &log));
            to = Arc::new(AuditedCredentialStore::new(to, log));
        }
        migrate_credentials(from.as_ref(), to.as_ref())
    }

    /// Stores a key. Refuses to overwrite an existing one unless `replace`.
    pub fn set_key(&self, key: &CredentialKey, secret: &Secret, replace: bool) -> Result<()> {
        validate_alias(&key.alias)?;
        self.registry().provider(&key.provider)?;
        if secret.is_empty() {
            return Err(Error::InvalidInput("the API key given is empty".into()));
        }
        if !replace && self.credentials().get(key)?.is_some() {
            return Err(Error::InvalidInput(format!(
                "a key is already stored for {key}; pass --replace to overwrite it"
            )));
        }
        self.credentials().set(key, secret)
    }

    /// Removes a key.
    pub fn remove_key(&self, key: &CredentialKey) -> Result<()> {
        if self.credentials().delete(key)? {
            Ok(())
        } else {
            Err(Error::KeyNotFound {
                provider: key.provider.clone(),
                alias: key.alias.clone(),
                backend: self.credentials().backend().to_string(),
            })
        }
    }

    /// The names of stored keys.
    pub fn list_keys(&self) -> Result<Vec<CredentialKey>> {
        self.credentials().list()
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
