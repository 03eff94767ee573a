//! Node.js bindings for ringlet: `Ringlet`, a thin shell over [`ringlet::Ringlet`].
//!
//! Every method that can touch the disk, the keychain or a process returns a Promise: the facade
//! call runs on another thread and settles the promise from there, so the event loop never waits
//! (a `run` lasts as long as the agent does). Results are converted to the plain objects in
//! [`types`]; errors carry the core's stable `code` ([`error`]).

mod error;
mod types;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::{Buffer, Object, ToNapiValue, Uint8Array, spawn_blocking};
use napi::threadsafe_function::{
    ThreadsafeFunction, ThreadsafeFunctionCallMode, UnknownReturnValue,
};
use napi::{Env, Result, Status};
use napi_derive::napi;
use ringlet::{
    AgentSignaller, CredentialKey, EnvPolicy, PtyResizer, PtyWriter, RunOptions, Secret,
};

use crate::types::{
    AgentInfo, DoctorReport, FireReport, HookEntry, HookImportReport, HookTestReport,
    ImportCandidate, ImportProgress, ImportReport, ImportRequest, InitReport, LaunchPlan,
    MigrationReport, NewHook, NewProfile, Paths, PricingReport, PricingStatus, Profile,
    ProfileUpdate, PromptAnswer, ProviderInfo, RingletOptions, RunOutcome, SetupImportOptions,
    SetupImportReport, StartOptions, StatsReport, SyncReport, UsageEvent, UsageQuery, UsageReport,
    Warning,
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
    /// `options.hookProgram`: the `ringlet` binary agents call back through for hooks (see
    /// README: a profile with pre-tool-use hooks refuses to start without one).
    #[napi(ts_return_type = "Promise<Ringlet>")]
    pub fn open<'env>(
        env: &'env Env,
        home: Option<String>,
        options: Option<RingletOptions>,
    ) -> Result<Object<'env>> {
        promise::<_, Ringlet, _>(env, move || {
            let mut builder = ringlet::Ringlet::builder();
            if let Some(home) = home {
                builder = builder.home(home);
            }
            if let Some(program) = options.and_then(|o| o.hook_program) {
                builder = builder.hook_program(program);
            }
            Ok(Ringlet {
                inner: builder.build()?,
            })
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

    /// Starts a profile's agent and resolves with its `RunHandle` once it runs (without waiting
    /// for it to end). No signal handlers are installed.
    #[napi(ts_return_type = "Promise<RunHandle>")]
    pub fn start<'env>(
        &self,
        env: &'env Env,
        alias: String,
        args: Option<Vec<String>>,
        options: Option<StartOptions>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let args = args.unwrap_or_default();
        promise::<_, RunHandle, _>(env, move || {
            let options = run_options(options.unwrap_or_default())?;
            r.start(&alias, &args, options).map(RunHandle::new)
        })
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

    /// Runs a profile's agent non-interactively on `prompt` (the agent's one-shot form, whatever
    /// the agent); resolves to its answer, exit code and output. `workingDir`: where the agent
    /// runs (default: this process's).
    #[napi(ts_return_type = "Promise<PromptAnswer>")]
    pub fn prompt<'env>(
        &self,
        env: &'env Env,
        alias: String,
        prompt: String,
        working_dir: Option<String>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, PromptAnswer, _>(env, move || {
            let mut options = ringlet::RunOptions::embedded();
            if let Some(dir) = working_dir {
                options = options.working_dir(dir);
            }
            r.prompt(&alias, &prompt, options)
        })
    }

    /// What can go wrong on this machine, each check with its fix; `healthy` is false when one
    /// failed.
    #[napi(ts_return_type = "Promise<DoctorReport>")]
    pub fn doctor<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, DoctorReport, _>(env, move || r.doctor())
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

    /// This machine's setup as one JSON document (what `ringlet export` writes): profiles,
    /// hooks, routing, config and remotes with the names of their keys; never a key, token or
    /// password.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn export_setup<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let r = self.inner.clone();
        promise::<_, String, _>(env, move || {
            let doc = r.export_setup()?;
            serde_json::to_string_pretty(&doc)
                .map_err(|e| ringlet::Error::InvalidInput(format!("serialising the setup: {e}")))
        })
    }

    /// Recreates an exported setup from its JSON text: everything is checked before anything
    /// is written; resolves with what became of each item and the keys still to store.
    #[napi(ts_return_type = "Promise<SetupImportReport>")]
    pub fn import_setup<'env>(
        &self,
        env: &'env Env,
        document: String,
        options: Option<SetupImportOptions>,
    ) -> Result<Object<'env>> {
        let r = self.inner.clone();
        let options: ringlet::SetupImportOptions = options.unwrap_or_default().into();
        promise::<_, SetupImportReport, _>(env, move || {
            let doc = ringlet::SetupDocument::parse(&document)?;
            r.import_setup(&doc, &options)
        })
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

/// The core's run options from a `start()` options object.
fn run_options(o: StartOptions) -> ringlet::Result<RunOptions> {
    let invalid = |m: String| ringlet::Error::InvalidInput(m);
    let mut options = RunOptions::embedded();
    options = match o.io.as_deref().unwrap_or("inherit") {
        "inherit" => options,
        "pty" => options.pty(o.rows.unwrap_or(24), o.cols.unwrap_or(80)),
        "piped" => options.piped(),
        other => {
            return Err(invalid(format!(
                "io must be 'inherit', 'pty' or 'piped', not '{other}'"
            )));
        }
    };
    options = match (o.env.as_deref().unwrap_or("inherit"), o.env_allow) {
        ("inherit", None) => options,
        ("inherit" | "clean", Some(names)) => options.env(EnvPolicy::CleanPlusAllowlist(names)),
        ("clean", None) => options.env(EnvPolicy::clean()),
        (other, _) => {
            return Err(invalid(format!(
                "env must be 'inherit' or 'clean', not '{other}'"
            )));
        }
    };
    if let Some(dir) = o.working_dir {
        options = options.working_dir(dir);
    }
    if let Some(path) = o.search_path {
        options = options.search_path(path);
    }
    if let Some(ms) = o.grace_ms {
        let grace = std::time::Duration::try_from_secs_f64(ms / 1000.0)
            .map_err(|e| invalid(format!("graceMs must be a number of milliseconds: {e}")))?;
        options = options.grace(grace);
    }
    if let Some(on) = o.sandbox {
        options = options.sandbox(on);
    }
    if let Some(zone) = o.time_zone {
        options = options.time_zone(zone);
    }
    Ok(options)
}

/// A run's output stream (a PTY's, or a pipe's).
type Output = Box<dyn Read + Send>;

/// Locks a mutex, recovering it if a panic poisoned it (the data is only handles).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// One chunk of output, or end of file: a `Buffer` or `null` in JavaScript (typed as its base
/// class `Uint8Array`, so index.d.ts needs no `@types/node`).
struct Chunk(Option<Vec<u8>>);

impl From<Chunk> for Option<Buffer> {
    fn from(c: Chunk) -> Self {
        c.0.map(Buffer::from)
    }
}

type Reader = Arc<Mutex<Option<Box<dyn Read + Send>>>>;

/// Reads one chunk from `reader` on the blocking pool.
fn read_chunk<'env>(env: &'env Env, reader: &Reader, pid: u32) -> Result<Object<'env>> {
    let reader = Arc::clone(reader);
    promise::<_, Option<Buffer>, _>(env, move || {
        let mut guard = lock(&reader);
        let Some(reader) = guard.as_mut() else {
            return Ok(Chunk(None));
        };
        let mut buf = vec![0u8; 65536];
        let n = reader
            .read(&mut buf)
            .map_err(|e| ringlet::Error::io("reading the output of", format!("pid {pid}"), e))?;
        buf.truncate(n);
        Ok(Chunk((n > 0).then_some(buf)))
    })
}

/// A started agent (`Ringlet.start`). `read()` resolves with the next chunk of the terminal's
/// output (`io: 'pty'`) or standard output (`io: 'piped'`), `null` at end of file;
/// `readStderr()` a piped run's errors; `write()` types into the terminal. `wait()` resolves
/// with the `RunOutcome` once the agent ended and its run is finished; `signal()`, `kill()` and
/// `resize()` work meanwhile. Always `wait()`: a handle never waited for leaves its run
/// unrecorded.
#[napi]
pub struct RunHandle {
    pid: u32,
    handle: Arc<Mutex<Option<ringlet::RunHandle>>>,
    outcome: Arc<Mutex<Option<ringlet::RunOutcome>>>,
    signaller: Option<AgentSignaller>,
    resizer: Option<PtyResizer>,
    writer: Option<Arc<Mutex<PtyWriter>>>,
    output: Reader,
    stderr: Reader,
}

impl std::fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunHandle")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl RunHandle {
    fn new(mut handle: ringlet::RunHandle) -> Self {
        let piped = handle.take_output();
        let pty_reader = handle.pty().and_then(|p| p.reader().ok());
        let (output, stderr): (Option<Output>, Option<Output>) = match piped {
            Some(p) => (Some(Box::new(p.stdout)), Some(Box::new(p.stderr))),
            None => (pty_reader.map(|r| Box::new(r) as Output), None),
        };
        Self {
            pid: handle.pid(),
            signaller: handle.signaller(),
            resizer: handle.resizer(),
            writer: handle.pty().map(|p| Arc::new(Mutex::new(p.writer()))),
            output: Arc::new(Mutex::new(output)),
            stderr: Arc::new(Mutex::new(stderr)),
            outcome: Arc::new(Mutex::new(None)),
            handle: Arc::new(Mutex::new(Some(handle))),
        }
    }
}

#[napi]
impl RunHandle {
    /// The agent's process id.
    #[napi(getter)]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Resolves when the agent has ended and its run is finished (stop hooks, usage, the
    /// ledger). Later calls resolve with the same outcome.
    #[napi(ts_return_type = "Promise<RunOutcome>")]
    pub fn wait<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let handle = Arc::clone(&self.handle);
        let outcome = Arc::clone(&self.outcome);
        promise::<_, RunOutcome, _>(env, move || {
            // One waiter finishes the run; another waits for the lock and gets the same outcome.
            let mut outcome = lock(&outcome);
            if let Some(done) = outcome.as_ref() {
                return Ok(done.clone());
            }
            let Some(handle) = lock(&handle).take() else {
                return Err(ringlet::Error::InvalidInput(
                    "this run's wait() failed before; it has no outcome".into(),
                ));
            };
            let done = handle.wait()?;
            *outcome = Some(done.clone());
            Ok(done)
        })
    }

    /// Sends signal number `signal` to the agent (its process group); nothing once it ended.
    #[napi]
    pub fn signal(&self, env: Env, signal: i32) -> Result<()> {
        let sent = match &self.signaller {
            Some(s) => s.signal(signal),
            None => match lock(&self.handle).as_ref() {
                Some(h) => h.signal(signal),
                None => Ok(()),
            },
        };
        sent.map_err(|e| error::to_js(env, e))
    }

    /// Kills the agent (SIGKILL); `wait()` then reports 137.
    #[napi]
    pub fn kill(&self, env: Env) -> Result<()> {
        self.signal(env, 9)
    }

    /// Resizes the agent's terminal (`io: 'pty'`); the agent gets SIGWINCH.
    #[napi]
    pub fn resize(&self, env: Env, rows: u16, cols: u16) -> Result<()> {
        let done = match (&self.resizer, lock(&self.handle).as_ref()) {
            (Some(r), _) => r.resize(rows, cols),
            (None, Some(h)) => h.resize(rows, cols),
            (None, None) => Err(ringlet::Error::InvalidInput("this run has ended".into())),
        };
        done.map_err(|e| error::to_js(env, e))
    }

    /// Types `data` into the agent's terminal (`io: 'pty'`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn write<'env>(&self, env: &'env Env, data: Uint8Array) -> Result<Object<'env>> {
        let writer = self.writer.clone();
        let data = data.to_vec();
        let pid = self.pid;
        promise::<_, (), _>(env, move || {
            let Some(writer) = writer else {
                return Err(ringlet::Error::InvalidInput(
                    "this run has no terminal to write to; start it with io: 'pty'".into(),
                ));
            };
            let mut w = lock(&writer);
            w.write_all(&data).and_then(|()| w.flush()).map_err(|e| {
                ringlet::Error::io("writing to the terminal of", format!("pid {pid}"), e)
            })
        })
    }

    /// The next chunk of the terminal's output (`io: 'pty'`) or standard output
    /// (`io: 'piped'`); `null` at end of file and for an `io: 'inherit'` run.
    #[napi(ts_return_type = "Promise<Uint8Array | null>")]
    pub fn read<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        read_chunk(env, &self.output, self.pid)
    }

    /// The next chunk of a piped run's standard error; `null` at end of file and for other
    /// runs.
    #[napi(ts_return_type = "Promise<Uint8Array | null>")]
    pub fn read_stderr<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        read_chunk(env, &self.stderr, self.pid)
    }
}
