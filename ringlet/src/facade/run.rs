//! The facade's run path: the config script, the launch plan, the key, and the run itself with

//! its hooks and bookkeeping.

use super::Ringlet;
use crate::catalog::agent::Agent;
use crate::catalog::provider::Provider;
use crate::credentials::{CredentialKey, CredentialStore, FileCredentialStore, Secret};
use crate::error::{Error, Result};
use crate::launch::script::{
    KEY_PLACEHOLDER, KEY_SUFFIX_PLACEHOLDER, Script, ScriptContext, ScriptOutput, ScriptSource,
};
use crate::launch::script_cache::ScriptCache;
use crate::launch::{LaunchPlan, PlanInput, RunOptions, RunOutcome, build_plan};
use crate::profile::Profile;

impl Ringlet {
    /// Where the agent's config script comes from: `scripts/<name>` when the user has one,
    /// else the built-in.
    fn script_source(&self, agent: &dyn Agent) -> Result<ScriptSource> {
        let name = &agent.manifest().script;
        let user = self.paths().scripts_dir().join(name);
        if user.is_file() {
            return Ok(ScriptSource::File(user));
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
        let cwd = self.run_dir(profile)?;
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
            "run the agent from a directory whose path is UTF-8 (or give the profile one with --working-dir)",
        )?;
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
        // Until the agent has started and the run is counted, a delete waits: the launcher
        // creates the HOME and writes into it, which must never recreate a deleted profile.
        let hold = self.inner.profiles.hold(alias)?;
        let started = self.fire_start(&mut plan);
        let pending = self.usage_run_starting(&profile);
        // An agent that could not be started is no run: nothing is recorded.
        let running = self.inner.launcher.start(&plan, key.as_ref(), options)?;
        // The bookkeeping is done while the agent runs, so the agent never waits for SQLite or
        // for profile.toml. Its errors wait until the agent has ended: the agent must be waited
        // for whatever happens here.
        let session = self.usage_record_start(pending);
        let counted = self.inner.profiles.record_run(alias, running.started_at());
        drop(hold);
        let outcome = running.wait();
        if let Ok(outcome) = &outcome {
            self.fire_stop(&plan, outcome, started);
        }
        self.usage_run_finished(&profile, session, outcome.as_ref().ok());
        let outcome = outcome?;
        // Bookkeeping never replaces the agent's exit code.
        if let Err(e) = counted {
            self.inner.warnings.push(
                "run_not_counted",
                format!("this run of '{alias}' was not counted in its run-stats: {e}"),
            );
        }
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
}
