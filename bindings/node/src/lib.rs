//! Node.js bindings for ringlet: `Ringlet`, a thin shell over [`ringlet::Ringlet`].
//!
//! Every method that can touch the disk, the keychain or a process returns a Promise: the facade
//! call runs on another thread and settles the promise from there, so the event loop never waits
//! (a `run` lasts as long as the agent does). Results are converted to the plain objects in
//! [`types`]; errors carry the core's stable `code` ([`error`]).

mod error;
mod types;

use napi::bindgen_prelude::{Object, ToNapiValue, spawn_blocking};
use napi::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi::{Env, Result, Status};
use napi_derive::napi;
use ringlet::{CredentialKey, RunOptions, Secret};

use crate::types::{
    AgentInfo, FireReport, HookEntry, HookImportReport, HookTestReport, ImportCandidate,
    ImportProgress, ImportReport, ImportRequest, InitReport, LaunchPlan, MigrationReport, NewHook,
    NewProfile, Paths, PricingReport, PricingStatus, Profile, ProfileUpdate, ProviderInfo,
    RunOutcome, StatsReport, SyncReport, UsageEvent, UsageQuery, UsageReport, Warning,
};

/// A JavaScript function called from the import's thread with one [`ImportProgress`]: not
/// error-first (`CalleeHandled = false`), its return value ignored.
type ProgressCallback =
    ThreadsafeFunction<ImportProgress, UnknownReturnValue, ImportProgress, Status, false>;

/// Runs `work` on tokio's blocking thread pool and returns a promise settled with its result,
/// converted with `Into`; a core error rejects it with a coded error. For work that may take
/// long (a run, a download, a keychain prompt, hooks): the pool grows as needed, so a long call
/// holds up nothing else.
fn promise<'env, T, J, F>(env: &'env Env, work: F) -> Result<Object<'env>>
where
    F: FnOnce() -> ringlet::Result<T> + Send + 'static,
    T: Into<J> + Send + 'static,
    J: ToNapiValue + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    spawn_blocking(move || {
        let result = work();
        // The call's warnings were recorded on this pool thread; hand them to the JavaScript
        // thread, where `warnings()` is called.
        let warnings = ringlet::ThreadWarnings::take();
        deferred.resolve(move |env| {
            warnings.restore();
            result
                .map(Into::<J>::into)
                .map_err(|e| error::to_js(env, e))
        });
    });
    Ok(promise)
}

/// Converts each element of a list result.
fn each<T: Into<J>, J>(items: Vec<T>) -> Vec<J> {
    items.into_iter().map(Into::into).collect()
}

/// ringlet as a library: agents, providers, profiles, keys and launching. Create one with
/// `await Ringlet.open(home?)`; it is cheap to keep and safe to use from many calls at once.
#[napi]
#[derive(Debug, Clone)]
pub struct Ringlet {
    inner: ringlet::Ringlet,
}

#[napi]
impl Ringlet {
    /// Opens ringlet under `home` (like `RINGLET_HOME`), else under `RINGLET_HOME` or the
    /// platform's directories.
    #[napi(ts_return_type = "Promise<Ringlet>")]
    pub fn open<'env>(env: &'env Env, home: Option<String>) -> Result<Object<'env>> {
        promise::<_, Ringlet, _>(env, move || {
            let inner = match home {
                Some(home) => ringlet::Ringlet::builder().home(home).build()?,
                None => ringlet::Ringlet::open()?,
            };
            Ok(Ringlet { inner })
        })
    }

    /// The directories in use.
    #[napi]
    pub fn paths(&self) -> Paths {
        self.inner.paths().into()
    }

    /// The warnings of the calls settled since the last `warnings()`, oldest first (and then
    /// forgotten), after those that hold for the whole session (a broken manifest).
    #[napi]
    pub fn warnings(&self) -> Vec<Warning> {
        each(self.inner.warnings())
    }

    /// Makes sure the credential backend can be used now.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn check_credentials<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, (), _>(env, move || r.check_credentials())
    }

    /// Creates ringlet's directories and detects agents.
    #[napi(ts_return_type = "Promise<InitReport>")]
    pub fn init<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, InitReport, _>(env, move || r.init())
    }

    /// Every agent with its detection result.
    #[napi(ts_return_type = "Promise<Array<AgentInfo>>")]
    pub fn agents<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<AgentInfo>, _>(env, move || r.agents().map(each))
    }

    /// One agent with its detection result.
    #[napi(ts_return_type = "Promise<AgentInfo>")]
    pub fn agent<'env>(&self, env: &'env Env, id: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, AgentInfo, _>(env, move || r.agent(&id))
    }

    /// Every provider.
    #[napi(ts_return_type = "Promise<Array<ProviderInfo>>")]
    pub fn providers<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<ProviderInfo>, _>(env, move || Ok(each(r.providers())))
    }

    /// One provider.
    #[napi(ts_return_type = "Promise<ProviderInfo>")]
    pub fn provider<'env>(&self, env: &'env Env, id: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, ProviderInfo, _>(env, move || r.provider(&id))
    }

    /// Every profile, sorted by alias.
    #[napi(ts_return_type = "Promise<Array<Profile>>")]
    pub fn profiles<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<Profile>, _>(env, move || r.profiles().map(each))
    }

    /// One profile.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn profile<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Profile, _>(env, move || r.profile(&alias))
    }

    /// The profile's HOME directory.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn profile_home<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, String, _>(env, move || {
            r.profile_home(&alias)
                .map(|p| p.to_string_lossy().into_owned())
        })
    }

    /// Whether a profile exists (even one whose manifest is unreadable).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn has_profile<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, bool, _>(env, move || r.has_profile(&alias))
    }

    /// The profile a request would create, validated, without writing anything.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn resolve_profile<'env>(&self, env: &'env Env, req: NewProfile) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Profile, _>(env, move || r.resolve_profile(&req.into()))
    }

    /// The key a request would need that is not stored yet, or null.
    #[napi(ts_return_type = "Promise<CredentialKey | null>")]
    pub fn missing_key<'env>(&self, env: &'env Env, req: NewProfile) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Option<types::CredentialKey>, _>(env, move || {
            r.missing_key(&req.into()).map(|k| k.map(Into::into))
        })
    }

    /// Creates a profile; `key` is stored under its key alias first.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn create_profile<'env>(
        &self,
        env: &'env Env,
        req: NewProfile,
        key: Option<String>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let key = key.map(Secret::new);
        promise::<_, Profile, _>(env, move || r.create_profile(&req.into(), key.as_ref()))
    }

    /// Changes a profile's settings; resolves with the profile as stored.
    #[napi(ts_return_type = "Promise<Profile>")]
    pub fn update_profile<'env>(
        &self,
        env: &'env Env,
        alias: String,
        update: ProfileUpdate,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Profile, _>(env, move || r.update_profile(&alias, &update.try_into()?))
    }

    /// Deletes a profile and its HOME.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete_profile<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, (), _>(env, move || r.delete_profile(&alias))
    }

    /// The launch plan for a profile. Writes nothing; holds no secret.
    #[napi(ts_return_type = "Promise<LaunchPlan>")]
    pub fn plan_run<'env>(
        &self,
        env: &'env Env,
        alias: String,
        args: Option<Vec<String>>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let args = args.unwrap_or_default();
        promise::<_, LaunchPlan, _>(env, move || r.plan_run(&alias, &args))
    }

    /// Runs a profile's agent and resolves when it exits. The agent inherits this process's
    /// stdio; no signal handlers are installed.
    #[napi(ts_return_type = "Promise<RunOutcome>")]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        alias: String,
        args: Option<Vec<String>>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let args = args.unwrap_or_default();
        promise::<_, RunOutcome, _>(env, move || r.run(&alias, &args, RunOptions::embedded()))
    }

    /// Moves the keys in the credentials file into the OS keychain.
    #[napi(ts_return_type = "Promise<MigrationReport>")]
    pub fn migrate_keys<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, MigrationReport, _>(env, move || r.migrate_keys())
    }

    /// Stores a key; refuses to overwrite one unless `replace`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_key<'env>(
        &self,
        env: &'env Env,
        provider: String,
        alias: String,
        secret: String,
        replace: Option<bool>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let key = CredentialKey::new(provider, alias);
        let secret = Secret::new(secret);
        promise::<_, (), _>(env, move || {
            r.set_key(&key, &secret, replace.unwrap_or(false))
        })
    }

    /// Removes a key.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_key<'env>(
        &self,
        env: &'env Env,
        provider: String,
        alias: String,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let key = CredentialKey::new(provider, alias);
        promise::<_, (), _>(env, move || r.remove_key(&key))
    }

    /// The names of stored keys; never their values.
    #[napi(ts_return_type = "Promise<Array<CredentialKey>>")]
    pub fn list_keys<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<types::CredentialKey>, _>(env, move || r.list_keys().map(each))
    }

    /// Aggregated usage (tokens, cost) per profile, or grouped by `query.group`.
    #[napi(ts_return_type = "Promise<UsageReport>")]
    pub fn usage<'env>(&self, env: &'env Env, query: Option<UsageQuery>) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, UsageReport, _>(env, move || r.usage(&query.unwrap_or_default().try_into()?))
    }

    /// The events behind a usage report, oldest first.
    #[napi(ts_return_type = "Promise<Array<UsageEvent>>")]
    pub fn usage_events<'env>(
        &self,
        env: &'env Env,
        query: Option<UsageQuery>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<UsageEvent>, _>(env, move || {
            r.usage_events(&query.unwrap_or_default().try_into()?)
                .map(each)
        })
    }

    /// Reads new usage from every profile's HOME.
    #[napi(ts_return_type = "Promise<SyncReport>")]
    pub fn sync_usage<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, SyncReport, _>(env, move || r.sync_usage())
    }

    /// Imports an agent's existing logs into a profile (from `req.from`, else the user's HOME).
    /// `onProgress`, when given, is called on the event loop, in order, before each log file and
    /// once at the end. The import does not wait for it, so the last call can come just after
    /// the promise settles.
    #[napi(
        ts_args_type = "req: ImportRequest, onProgress?: (progress: ImportProgress) => void",
        ts_return_type = "Promise<ImportReport>"
    )]
    pub fn import_usage<'env>(
        &self,
        env: &'env Env,
        req: ImportRequest,
        on_progress: Option<ProgressCallback>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, ImportReport, _>(env, move || {
            // Queued to the event loop, never waited for: a slow callback cannot slow the import,
            // and the import never blocks on a busy loop. The queue keeps every report in order.
            let mut report = |p: &ringlet::ImportProgress| {
                if let Some(callback) = &on_progress {
                    callback.call(p.into(), ThreadsafeFunctionCallMode::NonBlocking);
                }
            };
            r.import_usage(&req.into(), Some(&mut report))
        })
    }

    /// Agents whose logs are in the user's real HOME, which could be imported.
    #[napi(ts_return_type = "Promise<Array<ImportCandidate>>")]
    pub fn import_candidates<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<ImportCandidate>, _>(env, move || r.import_candidates().map(each))
    }

    /// Replaces the pricing snapshot with LiteLLM's feed from `source` (a file or an http(s)
    /// URL; LiteLLM's own URL when unset) and re-prices the ledger.
    #[napi(ts_return_type = "Promise<PricingReport>")]
    pub fn update_pricing<'env>(
        &self,
        env: &'env Env,
        source: Option<String>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, PricingReport, _>(env, move || r.update_pricing(source.as_deref()))
    }

    /// Where prices come from now.
    #[napi(ts_return_type = "Promise<PricingStatus>")]
    pub fn pricing_status<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, PricingStatus, _>(env, move || r.pricing_status())
    }

    /// Run statistics per profile (or per agent with `group: 'agent'`).
    #[napi(ts_return_type = "Promise<StatsReport>")]
    pub fn stats<'env>(&self, env: &'env Env, query: Option<UsageQuery>) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, StatsReport, _>(env, move || r.stats(&query.unwrap_or_default().try_into()?))
    }

    /// Where the usage ledger lives (no I/O).
    #[napi]
    pub fn usage_db_path(&self) -> String {
        self.inner.usage_db_path().to_string_lossy().into_owned()
    }

    /// Every hook rule: global ones, then each profile's.
    #[napi(ts_return_type = "Promise<Array<HookEntry>>")]
    pub fn hooks<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<HookEntry>, _>(env, move || r.hooks().map(each))
    }

    /// The rules that apply to one profile (global ones first).
    #[napi(ts_return_type = "Promise<Array<HookEntry>>")]
    pub fn hooks_for<'env>(&self, env: &'env Env, alias: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<HookEntry>, _>(env, move || r.hooks_for(&alias).map(each))
    }

    /// Adds a hook and resolves with it and its new id.
    #[napi(ts_return_type = "Promise<HookEntry>")]
    pub fn add_hook<'env>(&self, env: &'env Env, req: NewHook) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, HookEntry, _>(env, move || r.add_hook(&req.into()))
    }

    /// Removes a hook and resolves with it.
    #[napi(ts_return_type = "Promise<HookEntry>")]
    pub fn remove_hook<'env>(&self, env: &'env Env, id: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, HookEntry, _>(env, move || r.remove_hook(&id))
    }

    /// Every rule as one TOML document.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn export_hooks<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, String, _>(env, move || r.export_hooks())
    }

    /// Adds the rules of an exported TOML document.
    #[napi(ts_return_type = "Promise<HookImportReport>")]
    pub fn import_hooks<'env>(&self, env: &'env Env, text: String) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, HookImportReport, _>(env, move || r.import_hooks(&text))
    }

    /// Runs one hook against a payload (JSON text in the agent's hook shape or ringlet's field
    /// names; `{}` when unset) and reports what it decided or did. Actions really run.
    #[napi(ts_return_type = "Promise<HookTestReport>")]
    pub fn test_hook<'env>(
        &self,
        env: &'env Env,
        id: String,
        payload_json: Option<String>,
        profile: Option<String>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, HookTestReport, _>(env, move || {
            let payload = match payload_json.as_deref() {
                Some(text) => serde_json::from_str(text).map_err(|e| {
                    ringlet::Error::InvalidInput(format!("the hook payload is not JSON: {e}"))
                })?,
                None => serde_json::Value::Object(serde_json::Map::new()),
            };
            r.test_hook(&id, &payload, profile.as_deref())
        })
    }

    /// Runs the scheduled `cost-threshold` and `daily-rollup` checks now; resolves with what
    /// fired. Problems become warnings, never rejections.
    #[napi(ts_return_type = "Promise<Array<FireReport>>")]
    pub fn run_scheduled_hooks<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, Vec<FireReport>, _>(env, move || Ok(each(r.run_scheduled_hooks())))
    }
}
