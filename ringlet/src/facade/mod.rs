//! The [`Ringlet`] facade: the one entry point every frontend uses.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::catalog::catalogue::Catalogue;
use crate::config::Config;
use crate::credentials::{AuditedCredentialStore, CredentialStore};
use crate::error::Result;
use crate::launch::{Launcher, ProcessLauncher};
use crate::paths::Paths;
use crate::profile::{FileProfileStore, ProfileStore};
use crate::warning::{Warning, Warnings};

// The hook and usage methods of the facade live in child modules, so they can reach `Inner`.
mod aliases;
mod catalog;
mod delete;
mod doctor;
mod events;
mod hooks;
mod keys;
mod mcp;
mod profiles;
mod prompt;
mod proxy;
mod registry;
mod remotes;
#[cfg(feature = "proxy")]
mod routing;
mod run;
mod setup;
mod state;
mod statusline;
mod tasks;
#[cfg(feature = "team")]
mod team;
mod telemetry;
pub(crate) mod usage;
pub use aliases::{ShimReport, ShimRequest};
pub use catalog::{AgentInfo, ProviderInfo};
pub use delete::{DeleteOptions, DeleteReport, KeyOnDelete, KeyOutcome};
pub(crate) use events::EventBus;
pub use events::{EVENT_QUEUE, Event, Subscription};
pub use hooks::{HookImportReport, HookTestReport, NewHook, RUN_STARTED_ENV};
pub use profiles::{NewProfile, ProfileUpdate};
pub use prompt::{MAX_PROMPT_OUTPUT, PromptAnswer};
pub use proxy::ReconcileLine;
pub use remotes::{REMOTE_TOKEN_PROVIDER, Remote};
pub use run::RunHandle;
pub use setup::{
    EnvToSet, ImportOutcome, ImportedItem, KeyToSet, SetupImportOptions, SetupImportReport,
    SetupItemKind,
};
pub use statusline::{
    StatusLine, StatuslineBlock, StatuslineContext, StatuslineInput, StatuslineModel,
};

/// ringlet as a library: agents, providers, profiles, credentials and launching, assembled from
/// [`Paths`]. Cheap to clone; safe to share between threads.
#[derive(Debug, Clone)]
pub struct Ringlet {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    paths: Paths,
    catalogue: Catalogue,
    profiles: Arc<dyn ProfileStore>,
    credentials: Arc<dyn CredentialStore>,
    launcher: Arc<dyn Launcher>,
    config: Config,
    warnings: Warnings,
    events: EventBus,
    hook_program: Option<PathBuf>,
    /// The (bwrap, network) pairs whose probe succeeded (see `Ringlet::start`).
    sandbox_probed: std::sync::Mutex<std::collections::HashSet<(PathBuf, crate::Network)>>,
    usage: usage::UsageState,
    /// Why the configured credential store could not be opened, when the builder was told to
    /// go on without it (`ringlet doctor`): (message, hint).
    credentials_problem: Option<(String, Option<String>)>,
}

/// Builds a [`Ringlet`] with some parts replaced (a memory credential store in tests, a PTY
/// launcher in a server).
#[derive(Debug, Default)]
pub struct RingletBuilder {
    paths: Option<Paths>,
    catalogue: Option<Catalogue>,
    profiles: Option<Arc<dyn ProfileStore>>,
    credentials: Option<Arc<dyn CredentialStore>>,
    launcher: Option<Arc<dyn Launcher>>,
    usage_store: Option<Arc<dyn crate::usage::UsageStore>>,
    hook_program: Option<PathBuf>,
    tolerate_credentials: bool,
}

impl RingletBuilder {
    /// Builds even when the configured credential store cannot be opened (a `system-only`
    /// backend without a keychain): keys are then unavailable (an empty in-memory store stands
    /// in) and [`Ringlet::doctor`] reports the reason as its failed `credentials` check. For
    /// diagnostics only.
    pub fn tolerate_credential_errors(mut self) -> Self {
        self.tolerate_credentials = true;
        self
    }

    /// Uses these paths instead of `RINGLET_HOME` / the platform defaults.
    pub fn paths(mut self, paths: Paths) -> Self {
        self.paths = Some(paths);
        self
    }

    /// Puts everything under one directory, like `RINGLET_HOME`.
    pub fn home(self, root: impl Into<PathBuf>) -> Self {
        self.paths(Paths::under(root.into()))
    }

    /// Uses this catalogue instead of loading manifests.
    pub fn catalogue(mut self, catalogue: Catalogue) -> Self {
        self.catalogue = Some(catalogue);
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

    /// The program agents call back through for hooks (`<program> hooks dispatch …`): a
    /// `ringlet` binary. Embedders (Python, Node, a server) whose own process is not one set
    /// it; by default it is this process when it is `ringlet`, else `ringlet` on PATH. Without
    /// one, a profile with pre-tool-use hooks refuses to start (its gates could not apply).
    pub fn hook_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.hook_program = Some(program.into());
        self
    }

    /// Loads config and manifests and assembles the facade.
    pub fn build(self) -> Result<Ringlet> {
        let paths = match self.paths {
            Some(p) => p,
            None => Paths::from_env()?,
        };
        paths.ensure_utf8()?;
        let config = Config::load(&paths)?;
        let catalogue = match self.catalogue {
            Some(r) => r,
            None => Catalogue::load(&paths)?,
        };
        let events = EventBus::default();
        let warnings = Warnings::new(events.clone());
        // A broken manifest holds for the facade's whole life: every call may meet it.
        for problem in catalogue.problems() {
            warnings.push_standing("manifest", problem);
        }
        let backend = config.credentials.backend(&paths.config_file())?;
        let mut credentials_problem = None;
        let mut credentials: Arc<dyn CredentialStore> = match self.credentials {
            Some(c) => c,
            None => match crate::credentials::open_configured(
                backend,
                config.credentials.fallback_warning,
                &paths,
                &warnings,
            ) {
                Ok(c) => c,
                Err(e) if self.tolerate_credentials => {
                    credentials_problem = Some((e.to_string(), e.hint().map(|h| h.to_string())));
                    Arc::new(crate::credentials::MemoryCredentialStore::new())
                }
                Err(e) => return Err(e),
            },
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
                catalogue,
                profiles,
                credentials,
                launcher,
                config,
                warnings,
                events,
                hook_program: self.hook_program.or_else(hooks::detect_hook_program),
                sandbox_probed: Default::default(),
                usage: usage::UsageState::with_store(self.usage_store),
                credentials_problem,
            }),
        })
    }
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

    /// The agent and provider catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    /// The credential store in use.
    pub fn credentials(&self) -> &dyn CredentialStore {
        self.inner.credentials.as_ref()
    }

    /// The warnings of this thread's calls on this facade since the last `warnings()` or
    /// [`take_warnings`](Self::take_warnings), after the [standing](Self::standing_warnings)
    /// ones; the former are forgotten. For example that keys are kept in the file because no
    /// OS keychain could be reached, and why. One caller per thread (a CLI, a script) calls
    /// this after each call; the library never prints.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut all = self.standing_warnings();
        all.extend(self.take_warnings());
        all
    }

    /// The warnings that the calls made on this thread through this facade (any clone)
    /// produced since the last take, oldest first, and forgets them. Warnings belong to the
    /// thread they were recorded on, so concurrent calls on other threads never show up here:
    /// a server answering a request takes them on the request's thread right after its call.
    /// A thread that never takes keeps only its latest 256.
    pub fn take_warnings(&self) -> Vec<Warning> {
        self.inner.warnings.take()
    }

    /// What holds for the facade's whole life, found while building it: a broken manifest in
    /// `agents.d/` or `providers.d/` (that agent or provider is left out). Not forgotten.
    pub fn standing_warnings(&self) -> Vec<Warning> {
        self.inner.warnings.standing()
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
        // Counts are informational: an unreadable profile must not break a listing of agents.
        // It is left out of them, with a warning (from `profiles()`) saying so.
        let profiles = self.profiles().unwrap_or_else(|e| {
            self.inner.warnings.push(
                "profiles_unreadable",
                format!("profile counts are missing: {e}"),
            );
            Vec::new()
        });
        for p in profiles {
            *agents.entry(p.agent).or_insert(0) += 1;
            *providers.entry(p.provider).or_insert(0) += 1;
        }
        (agents, providers)
    }
}
