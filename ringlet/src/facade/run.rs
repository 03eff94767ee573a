//! The facade's run path: the config script, the launch plan, the key, and the run itself —
//! [`Ringlet::start`] and its [`RunHandle`] — with its hooks, sandbox and bookkeeping.

use super::Ringlet;
use crate::catalog::agent::Agent;
use crate::catalog::provider::Provider;
use crate::credentials::{CredentialKey, CredentialStore, FileCredentialStore, Secret};
use crate::error::{Error, Result};
use crate::launch::sandbox::{
    AgentRuntime, HookAccess, RingletDirs, SandboxRun, Terminal, WorkspaceGuard, bwrap_command,
    find_bwrap, probe_remembered,
};
use crate::launch::script::{
    KEY_PLACEHOLDER, KEY_SUFFIX_PLACEHOLDER, Script, ScriptContext, ScriptOutput, ScriptSource,
};
use crate::launch::script_cache::ScriptCache;
use crate::launch::{
    AgentCommand, LaunchPlan, PipedOutput, PlanInput, RunIo, RunOptions, RunOutcome, RunningAgent,
    build_plan, materialise,
};
use crate::profile::Profile;

use super::Event;
use super::hooks::StartedHooks;
use super::usage::UsageSession;

impl Ringlet {
    /// Where the agent's config script comes from: `scripts/<name>` when the user has one,
    /// else the registry snapshot's, else the built-in.
    fn script_source(&self, agent: &dyn Agent) -> Result<ScriptSource> {
        let name = &agent.manifest().script;
        let user = self.paths().scripts_dir().join(name);
        if user.is_file() {
            return Ok(ScriptSource::File(user));
        }
        if crate::registry::valid_file_name(name)
            && let Some(synced) = crate::registry::snapshot_file(self.paths(), "scripts", name)
        {
            return Ok(ScriptSource::File(synced));
        }
        crate::catalog::builtin::SCRIPTS
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

    pub(super) fn base_url(&self, profile: &Profile, provider: &dyn Provider) -> Result<String> {
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
        self.plan_for(&self.profile(alias)?, args, false, None, None)
    }

    /// The plan; `via_proxy` is the base URL of the run's proxy, which replaces the provider's
    /// before the config script runs, so everything the script writes points at the proxy.
    pub(super) fn plan_for(
        &self,
        profile: &Profile,
        args: &[String],
        remember: bool,
        working_dir: Option<&std::path::Path>,
        via_proxy: Option<String>,
    ) -> Result<LaunchPlan> {
        let alias = profile.alias.as_str();
        let agent = self.catalogue().agent(&profile.agent)?;
        let provider = self.catalogue().provider(&profile.provider)?;
        let home = self.inner.profiles.home_dir(alias);
        let cwd = match working_dir {
            Some(dir) if dir.is_dir() => dir.to_path_buf(),
            Some(dir) => {
                return Err(Error::InvalidInput(format!(
                    "the working directory given for this run of '{}', {}, is not a directory; create it, or give another",
                    profile.alias,
                    dir.display()
                )));
            }
            None => self.run_dir(profile)?,
        };
        // The script gets both as strings and writes them into the agent's env and files: they
        // must be exact (then `display()` below is), never lossy.
        crate::paths::utf8_path(
            &home,
            "the profile HOME",
            "keep profiles under a UTF-8 path",
        )?;
        crate::paths::utf8_path(
            &cwd,
            "the working directory",
            "run the agent from a directory whose path is UTF-8 (or give the profile a working directory)",
        )?;
        let base_url = match via_proxy {
            Some(url) => url,
            None => self.base_url(profile, provider.as_ref())?,
        };
        let manifest = agent.manifest();
        let (hook_command, hook_gate_command) = self.hook_commands(&profile.alias);
        let mcp = self.mcp_for(profile)?;
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
                crate::catalog::provider::AuthScheme::XApiKey => "x-api-key".into(),
                crate::catalog::provider::AuthScheme::Bearer => "bearer".into(),
            },
            key_env: manifest
                .env
                .api_key
                .clone()
                .unwrap_or_else(|| "RINGLET_API_KEY".into()),
            key_placeholder: KEY_PLACEHOLDER.into(),
            key_suffix_placeholder: KEY_SUFFIX_PLACEHOLDER.into(),
            home: home.display().to_string(),
            working_dir: cwd.display().to_string(),
            hook_command,
            hook_gate_command,
            mcp: mcp
                .iter()
                .map(|e| (e.name.clone(), (&e.server).into()))
                .collect(),
        };
        let script = self.script_output(agent.as_ref(), &ctx, remember)?;
        let conflicting = self.catalogue().conflicting_env();
        let mut plan = build_plan(PlanInput {
            profile,
            agent: manifest,
            base_url,
            home,
            cwd,
            script,
            conflicting: &conflicting,
            extra_args: args,
        })?;
        self.plan_mcp_secrets(&mut plan, &mcp)?;
        Ok(plan)
    }

    /// Runs a profile's agent and waits for it: [`Ringlet::start`], then [`RunHandle::wait`].
    pub fn run(&self, alias: &str, args: &[String], options: RunOptions) -> Result<RunOutcome> {
        self.start(alias, args, options)?.wait()
    }

    /// Starts a profile's agent: resolves the binary and the key, writes the config files,
    /// starts the agent with its HOME and provider env (in a sandbox when the profile or
    /// `options` ask for one; a sandbox that cannot start is an error, never an unsandboxed
    /// run), fires `start` hooks and records the run's start. The returned handle controls the
    /// agent; [`RunHandle::wait`] finishes the run's bookkeeping. Every frontend runs agents
    /// through here.
    pub fn start(&self, alias: &str, args: &[String], options: RunOptions) -> Result<RunHandle> {
        if let Some(zone) = &options.time_zone {
            crate::launch::check_time_zone(zone)?;
        }
        let profile = self.profile(alias)?;
        // The proxy's port is taken before the plan, which points the agent at it.
        let listener = self.proxy_listener(&profile)?;
        let via_proxy = listener.as_ref().map(|l| l.base_url().to_string());
        let mut plan = self.plan_for(
            &profile,
            args,
            true,
            options.working_dir.as_deref(),
            via_proxy,
        )?;
        let agent = self.catalogue().agent(&profile.agent)?;
        let search_path = options
            .search_path
            .clone()
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_default();
        plan.program = agent.locate(profile.binary.as_deref(), Some(search_path.clone()))?;
        let key = self.key_for(&plan)?;
        let mcp_secrets = self.mcp_secret_values(&plan)?;
        self.check_hook_transport(&plan)?;
        // With the proxy, the real key goes to the proxy and the agent gets the run's token.
        let (proxy, key) = match listener {
            Some(listener) => {
                let (handle, token) = self.start_proxy(&profile, &plan, listener, key)?;
                (Some(handle), token)
            }
            None => (None, key),
        };
        // The final command, sandbox included, is settled (bwrap found and probed, the
        // workspace checked) before anything is written or any hook fires: a sandbox that
        // cannot start leaves no trace, and never falls back to an unsandboxed run.
        let mut command = AgentCommand::from_plan(
            &plan,
            key.as_ref(),
            options.env.inherited(std::env::vars_os()),
        );
        let mut unguarded = Vec::new();
        if let Some(bwrap) = self.sandbox_for(&profile, &options, &search_path)? {
            (command, unguarded) =
                self.sandboxed(command, &plan, &profile, &options, &bwrap, &search_path)?;
        }
        // Until the agent has started and the run is counted, a delete waits: the run writes
        // into the HOME, which must never recreate a deleted profile.
        let hold = self.inner.profiles.hold(alias)?;
        let started = self.fire_start(&mut plan);
        // `fire_start` stamped the run's start into the plan's env; bwrap passes its own
        // environment to the agent, so the variable is set on the final command either way.
        if let Some(stamp) = plan.env.get(super::RUN_STARTED_ENV) {
            command = command.env(super::RUN_STARTED_ENV, stamp);
        }
        if let Some(zone) = &options.time_zone {
            command = command.env("TZ", zone);
        }
        if let Some(term) = &options.term {
            command = command.env("TERM", term);
        }
        // The MCP servers' secrets, last and in the agent's environment only (bwrap passes its
        // own on): the files the agent reads refer to them by name.
        for (var, secret) in &mcp_secrets {
            command = command.env(var, secret.expose());
        }
        std::fs::create_dir_all(&plan.home).map_err(|e| Error::io("creating", &plan.home, e))?;
        for note in materialise(&plan, key.as_ref())? {
            self.inner.warnings.push("mcp_entry_kept", note);
        }
        let pending = self.usage_run_starting(&profile);
        // An agent that could not be started is no run: nothing is recorded.
        let running = self.inner.launcher.start(&command, &options)?;
        // The bookkeeping is done while the agent runs, so the agent never waits for SQLite or
        // for profile.toml. Its errors wait until the agent has ended.
        let session = self.usage_record_start(pending);
        let counted = self.inner.profiles.record_run(alias, running.started_at());
        drop(hold);
        self.emit(Event::RunStarted {
            alias: alias.to_string(),
            pid: running.pid(),
            started_at: running.started_at(),
            run_id: session.run_id(),
        });
        Ok(RunHandle {
            ringlet: self.clone(),
            profile,
            plan,
            agent: running,
            started,
            session,
            counted,
            unguarded,
            proxy,
        })
    }

    /// With pre-tool-use rules, the agent must be able to call back into ringlet to ask:
    /// without a transport the rules would silently not apply (fail open), so the run is
    /// refused instead.
    fn check_hook_transport(&self, plan: &LaunchPlan) -> Result<()> {
        if self.hook_program().is_some() {
            return Ok(());
        }
        let gates = self
            .hook_store()
            .for_profile(&plan.profile)?
            .into_iter()
            .any(|e| e.rule.event == crate::hooks::HookEvent::PreToolUse);
        if gates {
            return Err(Error::HookTransportMissing {
                alias: plan.profile.clone(),
            });
        }
        Ok(())
    }

    /// `Some(bwrap)` when this run is sandboxed.
    fn sandbox_for(
        &self,
        profile: &Profile,
        options: &RunOptions,
        search_path: &std::ffi::OsStr,
    ) -> Result<Option<std::path::PathBuf>> {
        let on = options
            .sandbox
            .unwrap_or_else(|| profile.sandbox.mode.applies(options.remote));
        if !on {
            return Ok(None);
        }
        if !cfg!(target_os = "linux") {
            return Err(Error::SandboxUnavailable {
                reason: "ringlet sandboxes runs with bubblewrap, on Linux only for now".into(),
                fix: "run without the sandbox (turn it off for this run, or set the profile's sandbox mode to off)".into(),
            });
        }
        let bwrap = find_bwrap(search_path)?;
        let policy = self.inner.config.sandbox.merge(&profile.sandbox.policy);
        policy.validate()?;
        // Once per bwrap and network setting for the life of the facade: the probe starts a
        // sandbox itself, which a server starting many runs should not pay each time.
        let probed = (bwrap.clone(), policy.network);
        let mut seen = self
            .inner
            .sandbox_probed
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if !seen.contains(&probed) {
            // And across processes (each CLI run is one): see `probe_remembered`.
            probe_remembered(&bwrap, policy.network, self.paths().cache_dir())?;
            seen.insert(probed);
        }
        Ok(Some(bwrap))
    }

    /// Wraps the agent's command in bwrap; also the guarded paths bwrap could not protect
    /// (they did not exist yet), to look at after the run.
    fn sandboxed(
        &self,
        command: AgentCommand,
        plan: &LaunchPlan,
        profile: &Profile,
        options: &RunOptions,
        bwrap: &std::path::Path,
        search_path: &std::ffi::OsStr,
    ) -> Result<(AgentCommand, Vec<std::path::PathBuf>)> {
        let policy = self.inner.config.sandbox.merge(&profile.sandbox.policy);
        let user_home = std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .filter(|h| h.is_absolute())
            .ok_or_else(|| Error::SandboxUnavailable {
                reason: "HOME is not set to an absolute path, so the sandbox cannot hide it".into(),
                fix: "set HOME".into(),
            })?;
        let runtime = AgentRuntime::resolve(&plan.program, search_path, &user_home)?;
        let dirs = RingletDirs::from_paths(self.paths());
        let hooks = match self.hook_program() {
            Some(program) => HookAccess::dispatch(program, &dirs, &profile.alias),
            None => HookAccess::none(),
        };
        let mut roots = vec![plan.cwd.clone()];
        roots.extend(policy.extra_rw.iter().cloned());
        let guard = WorkspaceGuard::scan(&roots);
        // The environment goes to bwrap and through it to the agent; the key is added after,
        // so it is never part of what the transform sees.
        let secret_var = plan.secret_env.as_ref().map(|s| s.var.as_str());
        let env = command
            .resolved_env()
            .into_iter()
            .filter_map(|(n, v)| Some((n.to_str()?.to_string(), v.to_str()?.to_string())))
            .filter(|(n, _)| Some(n.as_str()) != secret_var)
            .collect();
        let terminal = match options.io {
            RunIo::Inherit => Terminal::Shared,
            RunIo::Pty { .. } => Terminal::Private,
            RunIo::Piped => Terminal::None,
        };
        let mut run = SandboxRun::new(
            runtime.program.clone(),
            &plan.cwd,
            &plan.home,
            &user_home,
            dirs,
        )
        .args(plan.args.iter().cloned())
        .env(env)
        .agent_runtime(runtime)
        .hooks(hooks)
        .guard(guard)
        .terminal(terminal);
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
            run = run.runtime_dir(dir);
        }
        let wrapped = bwrap_command(bwrap, &policy, &run)?;
        let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> = wrapped
            .env
            .iter()
            .filter(|(n, _)| !wrapped.env_remove.contains(n))
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        if let Some(var) = secret_var
            && let Some((_, value)) = command.resolved_env().into_iter().find(|(n, _)| *n == var)
        {
            env.push((var.into(), value.clone()));
        }
        let mut out = AgentCommand::new(&wrapped.program, &wrapped.cwd).args(wrapped.args.clone());
        out.env = env;
        Ok((out, wrapped.unguarded))
    }

    pub(super) fn key_for(&self, plan: &LaunchPlan) -> Result<Option<Secret>> {
        let Some(secret) = &plan.secret_env else {
            return Ok(None);
        };
        let required = self
            .catalogue()
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
}

/// A started agent. Control it while it runs (its PTY, signals), then [`RunHandle::wait`]:
/// that waits for the agent and finishes the run — `stop` hooks, the ledger, usage from the
/// agent's logs, run counters, the scheduled hook checks. Problems there become warnings; they
/// never change the agent's exit code. Dropping a handle without waiting leaves the agent
/// running and its run unrecorded (a PTY agent is killed: its terminal goes with the handle).
pub struct RunHandle {
    ringlet: Ringlet,
    profile: Profile,
    plan: LaunchPlan,
    agent: Box<dyn RunningAgent>,
    started: StartedHooks,
    session: UsageSession,
    counted: Result<()>,
    /// Guarded paths the sandbox could not make read-only because they did not exist yet.
    unguarded: Vec<std::path::PathBuf>,
    /// The run's proxy, stopped when the agent ends.
    proxy: Option<super::proxy::RunProxy>,
}

impl std::fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The facade and the plan are long and said elsewhere; the run is these.
        f.debug_struct("RunHandle")
            .field("profile", &self.profile.alias)
            .field("agent", &self.agent)
            .finish_non_exhaustive()
    }
}

impl RunHandle {
    /// The agent's process id.
    pub fn pid(&self) -> u32 {
        self.agent.pid()
    }

    /// When the agent started.
    pub fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.agent.started_at()
    }

    /// The run's id in the usage ledger (`None` when the ledger could not be reached), as
    /// [`Event::RunStarted`] and [`Event::RunEnded`] carry it.
    pub fn run_id(&self) -> Option<i64> {
        self.session.run_id()
    }

    /// The plan the agent was started from (no secret in it).
    pub fn plan(&self) -> &LaunchPlan {
        &self.plan
    }

    /// Sends a Unix signal to the agent.
    pub fn signal(&self, signal: i32) -> Result<()> {
        self.agent.signal(signal)
    }

    /// A way to signal the agent from another thread, also while this handle waits in
    /// [`wait`](Self::wait) (which takes it). `None` only from a launcher without one. For a
    /// PTY run it keeps the terminal open while it is kept.
    pub fn signaller(&self) -> Option<crate::launch::AgentSignaller> {
        self.agent.signaller()
    }

    /// The agent's pseudo-terminal (a [`RunIo::Pty`] run): read its output, type into it,
    /// resize it.
    #[cfg(unix)]
    pub fn pty(&self) -> Option<&crate::launch::PtyChild> {
        self.agent.pty()
    }

    /// A way to resize the agent's terminal from any thread, also while this handle waits in
    /// [`wait`](Self::wait) (a [`RunIo::Pty`] run; `None` otherwise).
    #[cfg(unix)]
    pub fn resizer(&self) -> Option<crate::launch::PtyResizer> {
        self.agent.pty().map(crate::launch::PtyChild::resizer)
    }

    /// Resizes the agent's terminal (a [`RunIo::Pty`] run; an error otherwise).
    pub fn resize(&self, rows: u16, cols: u16) -> Result<()> {
        #[cfg(unix)]
        if let Some(pty) = self.agent.pty() {
            return pty.resize(rows, cols);
        }
        let _ = (rows, cols);
        Err(Error::InvalidInput(
            "this run has no terminal of its own to resize; start it with RunOptions::pty".into(),
        ))
    }

    /// The agent's output, once (a [`RunIo::Piped`] run).
    pub fn take_output(&mut self) -> Option<PipedOutput> {
        self.agent.take_output()
    }

    /// Waits for the agent to end and finishes the run.
    pub fn wait(self) -> Result<RunOutcome> {
        let Self {
            ringlet,
            profile,
            plan,
            agent,
            started,
            session,
            counted,
            unguarded,
            proxy,
        } = self;
        let outcome = agent.wait();
        // Before the logs are read: the wire's usage is in the ledger first.
        if let Some(proxy) = proxy {
            ringlet.stop_proxy(&profile, proxy);
        }
        let run_id = session.run_id();
        if let Ok(outcome) = &outcome {
            ringlet.fire_stop(&plan, outcome, started);
        }
        ringlet.usage_run_finished(&profile, session, outcome.as_ref().ok());
        let outcome = outcome?;
        // Bookkeeping never replaces the agent's exit code.
        if let Err(e) = counted {
            ringlet.inner.warnings.push(
                "run_not_counted",
                format!(
                    "this run of '{}' was not counted in its run-stats: {e}",
                    profile.alias
                ),
            );
        }
        let appeared: Vec<String> = unguarded
            .iter()
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !appeared.is_empty() {
            ringlet.inner.warnings.push(
                "sandbox_guard_created",
                format!(
                    "the sandboxed agent created {}, which the sandbox could not keep read-only because it did not exist when the run started; look at it before git, your editor or your shell runs it",
                    appeared.join(", ")
                ),
            );
        }
        ringlet.emit(Event::RunEnded {
            alias: profile.alias.clone(),
            outcome: outcome.clone(),
            run_id,
        });
        // After the run's usage is in the ledger: cost thresholds it crossed fire now.
        ringlet.run_scheduled_hooks();
        Ok(outcome)
    }
}
