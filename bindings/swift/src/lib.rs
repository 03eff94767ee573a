//! Swift bindings for ringlet (uniffi, proc-macros): `Ringlet`, a thin object over
//! [`ringlet::Ringlet`].
//!
//! Methods are synchronous and may block (disk, keychain, a running agent): call them off the
//! main thread. Results are the records in [`types`]; errors the enum in [`error`]. The Swift
//! sources in `Sources/` are generated from the built library by the `uniffi-bindgen` binary of
//! this crate (see README.md) and checked for staleness by `tests/bindings.sh`.

mod error;
mod types;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use ringlet::{AgentSignaller, PtyResizer, PtyWriter, RunOptions, Secret};

pub use crate::error::RingletError;
pub use crate::types::{
    AgentInfo, CredentialKey, DoctorCheck, DoctorReport, EnvEntry, FireReport, HookEntry,
    HookImportReport, HookTestReport, ImportCandidate, ImportProgress, ImportReport, ImportRequest,
    ImportSummary, InitReport, LaunchPlan, MigrationReport, NewHook, NewProfile, Paths,
    PlannedFile, PricingReport, PricingStatus, Profile, ProfileSync, ProfileUpdate, PromptAnswer,
    ProviderInfo, RunEnv, RunIo, RunOutcome, SecretEnv, SetupImportOptions, SetupImportReport,
    StartOptions, StatsReport, StatsRow, SyncReport, UsageEvent, UsageQuery, UsageReport, UsageRow,
    Warning,
};

uniffi::setup_scaffolding!();

type Result<T> = std::result::Result<T, RingletError>;

fn each<T: Into<J>, J>(items: Vec<T>) -> Vec<J> {
    items.into_iter().map(Into::into).collect()
}

/// Told an import's progress: implement it in Swift and pass it to `importUsage`. Called on the
/// thread running the import, before each log file and once at the end.
#[uniffi::export(with_foreign)]
pub trait ImportProgressListener: Send + Sync {
    /// One report.
    fn on_progress(&self, progress: ImportProgress);
}

/// ringlet as a library: agents, providers, profiles, keys and launching. Thread-safe.
#[derive(Debug, uniffi::Object)]
pub struct Ringlet {
    inner: ringlet::Ringlet,
}

#[uniffi::export]
impl Ringlet {
    /// Opens ringlet under `home` (like `RINGLET_HOME`), else under `RINGLET_HOME` or the
    /// platform's directories.
    /// `hookProgram`: the `ringlet` binary agents call back through for hooks; by default
    /// `ringlet` on PATH. Without one, a profile with pre-tool-use hooks refuses to start
    /// (`hookTransportMissing`).
    #[uniffi::constructor(default(home = None, hook_program = None))]
    pub fn new(home: Option<String>, hook_program: Option<String>) -> Result<Arc<Self>> {
        let mut builder = ringlet::Ringlet::builder();
        if let Some(home) = home {
            builder = builder.home(home);
        }
        if let Some(program) = hook_program {
            builder = builder.hook_program(program);
        }
        Ok(Arc::new(Self {
            inner: builder.build()?,
        }))
    }

    /// The directories in use.
    pub fn paths(&self) -> Paths {
        self.inner.paths().into()
    }

    /// The warnings of this thread's calls since the last `warnings()`, oldest first (and
    /// then forgotten), after those that hold for the whole session (a broken manifest).
    /// Another thread's calls never show up here.
    pub fn warnings(&self) -> Vec<Warning> {
        each(self.inner.warnings())
    }

    /// Makes sure the credential backend can be used now.
    pub fn check_credentials(&self) -> Result<()> {
        Ok(self.inner.check_credentials()?)
    }

    /// Creates ringlet's directories and detects agents.
    pub fn init(&self) -> Result<InitReport> {
        Ok(self.inner.init()?.into())
    }

    /// Every agent with its detection result.
    pub fn agents(&self) -> Result<Vec<AgentInfo>> {
        Ok(each(self.inner.agents()?))
    }

    /// One agent with its detection result.
    pub fn agent(&self, id: String) -> Result<AgentInfo> {
        Ok(self.inner.agent(&id)?.into())
    }

    /// Every provider.
    pub fn providers(&self) -> Vec<ProviderInfo> {
        each(self.inner.providers())
    }

    /// One provider.
    pub fn provider(&self, id: String) -> Result<ProviderInfo> {
        Ok(self.inner.provider(&id)?.into())
    }

    /// Every profile, sorted by alias.
    pub fn profiles(&self) -> Result<Vec<Profile>> {
        Ok(each(self.inner.profiles()?))
    }

    /// One profile.
    pub fn profile(&self, alias: String) -> Result<Profile> {
        Ok(self.inner.profile(&alias)?.into())
    }

    /// The profile's HOME directory.
    pub fn profile_home(&self, alias: String) -> Result<String> {
        Ok(self
            .inner
            .profile_home(&alias)?
            .to_string_lossy()
            .into_owned())
    }

    /// Whether a profile exists (even one whose manifest is unreadable).
    pub fn has_profile(&self, alias: String) -> Result<bool> {
        Ok(self.inner.has_profile(&alias)?)
    }

    /// The profile a request would create, validated, without writing anything.
    pub fn resolve_profile(&self, req: NewProfile) -> Result<Profile> {
        Ok(self.inner.resolve_profile(&req.into())?.into())
    }

    /// The key a request would need that is not stored yet, or nil.
    pub fn missing_key(&self, req: NewProfile) -> Result<Option<CredentialKey>> {
        Ok(self.inner.missing_key(&req.into())?.map(Into::into))
    }

    /// Creates a profile; `key` is stored under its key alias first.
    #[uniffi::method(default(key = None))]
    pub fn create_profile(&self, req: NewProfile, key: Option<String>) -> Result<Profile> {
        let key = key.map(Secret::new);
        Ok(self.inner.create_profile(&req.into(), key.as_ref())?.into())
    }

    /// Changes a profile's settings; returns the profile as stored.
    pub fn update_profile(&self, alias: String, update: ProfileUpdate) -> Result<Profile> {
        Ok(self
            .inner
            .update_profile(&alias, &update.try_into()?)?
            .into())
    }

    /// Deletes a profile and its HOME.
    pub fn delete_profile(&self, alias: String) -> Result<()> {
        Ok(self.inner.delete_profile(&alias)?)
    }

    /// The launch plan for a profile. Writes nothing; holds no secret.
    #[uniffi::method(default(args = []))]
    pub fn plan_run(&self, alias: String, args: Vec<String>) -> Result<LaunchPlan> {
        Ok(self.inner.plan_run(&alias, &args)?.into())
    }

    /// Runs a profile's agent and waits for it (blocking). The agent inherits this process's
    /// stdio; no signal handlers are installed.
    #[uniffi::method(default(args = []))]
    pub fn run(&self, alias: String, args: Vec<String>) -> Result<RunOutcome> {
        Ok(self
            .inner
            .run(&alias, &args, RunOptions::embedded())?
            .into())
    }

    /// Starts a profile's agent and returns its `RunHandle` without waiting for it. No signal
    /// handlers are installed.
    #[uniffi::method(default(args = [], options = None))]
    pub fn start(
        &self,
        alias: String,
        args: Vec<String>,
        options: Option<StartOptions>,
    ) -> Result<Arc<RunHandle>> {
        let options = options.map_or_else(|| Ok(RunOptions::embedded()), RunOptions::try_from)?;
        let handle = self.inner.start(&alias, &args, options)?;
        Ok(Arc::new(RunHandle::new(handle)))
    }

    /// Moves the keys in the credentials file into the OS keychain.
    pub fn migrate_keys(&self) -> Result<MigrationReport> {
        Ok(self.inner.migrate_keys()?.into())
    }

    /// Stores a key; refuses to overwrite one unless `replace`.
    #[uniffi::method(default(replace = false))]
    pub fn set_key(
        &self,
        provider: String,
        alias: String,
        secret: String,
        replace: bool,
    ) -> Result<()> {
        let key = ringlet::CredentialKey::new(provider, alias);
        Ok(self.inner.set_key(&key, &Secret::new(secret), replace)?)
    }

    /// Removes a key.
    pub fn remove_key(&self, provider: String, alias: String) -> Result<()> {
        let key = ringlet::CredentialKey::new(provider, alias);
        Ok(self.inner.remove_key(&key)?)
    }

    /// The names of stored keys; never their values.
    pub fn list_keys(&self) -> Result<Vec<CredentialKey>> {
        Ok(each(self.inner.list_keys()?))
    }
    /// Aggregated usage (tokens, cost) per profile, or grouped by `query.group`.
    #[uniffi::method(default(query = None))]
    pub fn usage(&self, query: Option<UsageQuery>) -> Result<UsageReport> {
        let query = query.unwrap_or_default().try_into()?;
        Ok(self.inner.usage(&query)?.into())
    }

    /// The events behind a usage report, oldest first.
    #[uniffi::method(default(query = None))]
    pub fn usage_events(&self, query: Option<UsageQuery>) -> Result<Vec<UsageEvent>> {
        let query = query.unwrap_or_default().try_into()?;
        Ok(each(self.inner.usage_events(&query)?))
    }

    /// Reads new usage from every profile's HOME.
    pub fn sync_usage(&self) -> Result<SyncReport> {
        Ok(self.inner.sync_usage()?.into())
    }

    /// Imports an agent's existing logs into a profile (from `req.from`, else the user's HOME),
    /// telling `progress`, when given, before each log file and once at the end.
    #[uniffi::method(default(progress = None))]
    pub fn import_usage(
        &self,
        req: ImportRequest,
        progress: Option<Arc<dyn ImportProgressListener>>,
    ) -> Result<ImportReport> {
        let mut report = |p: &ringlet::ImportProgress| {
            if let Some(listener) = &progress {
                listener.on_progress(p.into());
            }
        };
        Ok(self
            .inner
            .import_usage(&req.into(), Some(&mut report))?
            .into())
    }

    /// Agents whose logs are in the user's real HOME, which could be imported.
    pub fn import_candidates(&self) -> Result<Vec<ImportCandidate>> {
        Ok(each(self.inner.import_candidates()?))
    }

    /// Replaces the pricing snapshot with LiteLLM's feed from `source` (a file or an http(s)
    /// URL; LiteLLM's own URL when nil) and re-prices the ledger.
    #[uniffi::method(default(source = None))]
    pub fn update_pricing(&self, source: Option<String>) -> Result<PricingReport> {
        Ok(self.inner.update_pricing(source.as_deref())?.into())
    }

    /// Where prices come from now.
    pub fn pricing_status(&self) -> Result<PricingStatus> {
        Ok(self.inner.pricing_status()?.into())
    }

    /// Runs a profile's agent non-interactively on `prompt` (the agent's one-shot form, whatever
    /// the agent) and returns its answer, exit code and output. `working_dir`: where the agent
    /// runs (default: this process's).
    #[uniffi::method(default(working_dir = None))]
    pub fn prompt(
        &self,
        alias: String,
        prompt: String,
        working_dir: Option<String>,
    ) -> Result<PromptAnswer> {
        let mut options = ringlet::RunOptions::embedded();
        if let Some(dir) = working_dir {
            options = options.working_dir(dir);
        }
        Ok(self.inner.prompt(&alias, &prompt, options)?.into())
    }

    /// What can go wrong on this machine, each check with its fix; `healthy` is false when one
    /// failed.
    pub fn doctor(&self) -> Result<DoctorReport> {
        Ok(self.inner.doctor()?.into())
    }

    /// Run statistics per profile (or per agent with `group: "agent"`).
    #[uniffi::method(default(query = None))]
    pub fn stats(&self, query: Option<UsageQuery>) -> Result<StatsReport> {
        let query = query.unwrap_or_default().try_into()?;
        Ok(self.inner.stats(&query)?.into())
    }

    /// Where the usage ledger lives.
    pub fn usage_db_path(&self) -> String {
        self.inner.usage_db_path().to_string_lossy().into_owned()
    }

    /// Every hook rule: global ones, then each profile's.
    pub fn hooks(&self) -> Result<Vec<HookEntry>> {
        Ok(each(self.inner.hooks()?))
    }

    /// The rules that apply to one profile (global ones first).
    pub fn hooks_for(&self, alias: String) -> Result<Vec<HookEntry>> {
        Ok(each(self.inner.hooks_for(&alias)?))
    }

    /// Adds a hook and returns it with its new id.
    pub fn add_hook(&self, req: NewHook) -> Result<HookEntry> {
        Ok(self.inner.add_hook(&req.into())?.into())
    }

    /// Removes a hook and returns it.
    pub fn remove_hook(&self, id: String) -> Result<HookEntry> {
        Ok(self.inner.remove_hook(&id)?.into())
    }

    /// Every rule as one TOML document.
    pub fn export_hooks(&self) -> Result<String> {
        Ok(self.inner.export_hooks()?)
    }

    /// Adds the rules of an exported TOML document.
    pub fn import_hooks(&self, text: String) -> Result<HookImportReport> {
        Ok(self.inner.import_hooks(&text)?.into())
    }

    /// This machine's setup as one JSON document (what `ringlet export` writes): profiles,
    /// hooks, routing, config and remotes with the names of their keys; never a key, token or
    /// password.
    pub fn export_setup(&self) -> Result<String> {
        let doc = self.inner.export_setup()?;
        Ok(serde_json::to_string_pretty(&doc)
            .map_err(|e| ringlet::Error::InvalidInput(format!("serialising the setup: {e}")))?)
    }

    /// Recreates an exported setup from its JSON text: everything is checked before anything
    /// is written; returns what became of each item and the keys still to store.
    #[uniffi::method(default(options = None))]
    pub fn import_setup(
        &self,
        document: String,
        options: Option<SetupImportOptions>,
    ) -> Result<SetupImportReport> {
        let doc = ringlet::SetupDocument::parse(&document)?;
        let options: ringlet::SetupImportOptions = options.unwrap_or_default().into();
        Ok(self.inner.import_setup(&doc, &options)?.into())
    }

    /// Runs one hook against a payload (JSON text in the agent's hook shape or ringlet's field
    /// names; `{}` when nil) and reports what it decided or did. Actions really run.
    #[uniffi::method(default(payload_json = None, profile = None))]
    pub fn test_hook(
        &self,
        id: String,
        payload_json: Option<String>,
        profile: Option<String>,
    ) -> Result<HookTestReport> {
        let payload = match payload_json.as_deref() {
            Some(text) => serde_json::from_str(text).map_err(|e| {
                ringlet::Error::InvalidInput(format!("the hook payload is not JSON: {e}"))
            })?,
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        Ok(self
            .inner
            .test_hook(&id, &payload, profile.as_deref())?
            .into())
    }

    /// Runs the scheduled `cost-threshold` and `daily-rollup` checks now; returns what fired.
    /// Problems become warnings, never errors.
    pub fn run_scheduled_hooks(&self) -> Vec<FireReport> {
        each(self.inner.run_scheduled_hooks())
    }
}

/// A run's output stream (a PTY's, or a pipe's).
type Output = Box<dyn Read + Send>;

/// Locks a mutex, recovering it if a panic poisoned it (the data is only handles).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

type Reader = Mutex<Option<Box<dyn Read + Send>>>;

/// A started agent (`Ringlet.start`). Every method blocks at most as long as it says; call
/// `wait()` and `read()` off the main thread. `read()` gives the terminal's output (`.pty`)
/// or standard output (`.piped`) chunk by chunk, nil at end of file; `readStderr()` a piped
/// run's errors; `write()` types into the terminal. `wait()` blocks until the agent ended and
/// its run is finished; `signal()`, `kill()` and `resize()` work from other threads meanwhile.
/// Always `wait()`: a handle never waited for leaves its run unrecorded.
#[derive(uniffi::Object)]
pub struct RunHandle {
    pid: u32,
    handle: Mutex<Option<ringlet::RunHandle>>,
    outcome: Mutex<Option<ringlet::RunOutcome>>,
    signaller: Option<AgentSignaller>,
    resizer: Option<PtyResizer>,
    writer: Option<Mutex<PtyWriter>>,
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
            writer: handle.pty().map(|p| Mutex::new(p.writer())),
            output: Mutex::new(output),
            stderr: Mutex::new(stderr),
            outcome: Mutex::new(None),
            handle: Mutex::new(Some(handle)),
        }
    }

    fn read_from(&self, reader: &Reader) -> Result<Option<Vec<u8>>> {
        let mut guard = lock(reader);
        let Some(reader) = guard.as_mut() else {
            return Ok(None);
        };
        let mut buf = vec![0u8; 65536];
        let n = reader.read(&mut buf).map_err(|e| {
            ringlet::Error::io("reading the output of", format!("pid {}", self.pid), e)
        })?;
        buf.truncate(n);
        Ok((n > 0).then_some(buf))
    }
}

#[uniffi::export]
impl RunHandle {
    /// The agent's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Blocks until the agent has ended and its run is finished (stop hooks, usage, the
    /// ledger). Later calls return the same outcome.
    pub fn wait(&self) -> Result<RunOutcome> {
        // One waiter finishes the run; another waits for the lock and gets the same outcome.
        let mut outcome = lock(&self.outcome);
        if let Some(done) = outcome.as_ref() {
            return Ok(done.clone().into());
        }
        let Some(handle) = lock(&self.handle).take() else {
            return Err(ringlet::Error::InvalidInput(
                "this run's wait() failed before; it has no outcome".into(),
            )
            .into());
        };
        let done = handle.wait()?;
        *outcome = Some(done.clone());
        Ok(done.into())
    }

    /// Sends signal number `signal` to the agent (its process group); nothing once it ended.
    pub fn signal(&self, signal: i32) -> Result<()> {
        match &self.signaller {
            Some(s) => Ok(s.signal(signal)?),
            None => match lock(&self.handle).as_ref() {
                Some(h) => Ok(h.signal(signal)?),
                None => Ok(()),
            },
        }
    }

    /// Kills the agent (SIGKILL); `wait()` then reports 137.
    pub fn kill(&self) -> Result<()> {
        self.signal(9)
    }

    /// Resizes the agent's terminal (`.pty`); the agent gets SIGWINCH.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<()> {
        match (&self.resizer, lock(&self.handle).as_ref()) {
            (Some(r), _) => Ok(r.resize(rows, cols)?),
            (None, Some(h)) => Ok(h.resize(rows, cols)?),
            (None, None) => Err(ringlet::Error::InvalidInput("this run has ended".into()).into()),
        }
    }

    /// Types `data` into the agent's terminal (`.pty`).
    pub fn write(&self, data: Vec<u8>) -> Result<()> {
        let Some(writer) = &self.writer else {
            return Err(ringlet::Error::InvalidInput(
                "this run has no terminal to write to; start it with io: .pty".into(),
            )
            .into());
        };
        let mut w = lock(writer);
        w.write_all(&data).and_then(|()| w.flush()).map_err(|e| {
            ringlet::Error::io("writing to the terminal of", format!("pid {}", self.pid), e).into()
        })
    }

    /// The next chunk of the terminal's output (`.pty`) or standard output (`.piped`),
    /// blocking until there is some; nil at end of file and for an `.inherit` run.
    pub fn read(&self) -> Result<Option<Vec<u8>>> {
        self.read_from(&self.output)
    }

    /// The next chunk of a piped run's standard error; nil at end of file and for other runs.
    pub fn read_stderr(&self) -> Result<Option<Vec<u8>>> {
        self.read_from(&self.stderr)
    }
}

#[cfg(test)]
mod tests {
    //! The glue, exercised from Rust where no Swift compiler exists: conversions and the error
    //! mapping. The XCTest suite in Tests/ runs the same paths through Swift.
    use super::*;

    fn open() -> (tempfile::TempDir, Arc<Ringlet>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        std::fs::create_dir_all(dir.path().join("config")).expect("config dir");
        std::fs::write(
            dir.path().join("config/config.toml"),
            "[credentials]\nbackend = \"file\"\n",
        )
        .expect("config.toml");
        let r = Ringlet::new(Some(dir.path().display().to_string()), None).expect("open");
        (dir, r)
    }

    fn req(alias: &str) -> NewProfile {
        NewProfile {
            agent: "claude".into(),
            alias: alias.into(),
            provider: "minimax".into(),
            model: Some("MiniMax-M2".into()),
            ..NewProfile::default()
        }
    }

    /// `prompt` runs the agent's one-shot form (Claude's: `-p PROMPT`) and returns what it
    /// answered: here an agent that answers with the prompt it was given.
    #[cfg(unix)]
    #[test]
    fn prompt_runs_the_one_shot_form_and_returns_the_answer() {
        use std::os::unix::fs::PermissionsExt;
        let (dir, r) = open();
        let agent = dir.path().join("echo-agent");
        std::fs::write(
            &agent,
            "#!/bin/sh\n[ \"$1\" = -p ] && printf 'answer: %s\\n' \"$2\"\n",
        )
        .expect("agent");
        std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let new = NewProfile {
            binary: Some(agent.display().to_string()),
            ..req("work")
        };
        r.create_profile(new, Some("sk-test-swift".into()))
            .expect("create");
        let got = r
            .prompt("work".into(), "what is 2+2?".into(), None)
            .expect("prompt");
        assert_eq!(got.exit_code, 0, "{got:?}");
        assert_eq!(got.answer, "answer: what is 2+2?", "{got:?}");
        assert!(
            r.prompt("work".into(), "   ".into(), None).is_err(),
            "an empty prompt is refused"
        );
    }

    #[test]
    fn a_setup_exports_and_imports_into_another_home() {
        let (_dir, r) = open();
        r.create_profile(req("work"), Some("sk-canary-swift".into()))
            .expect("create");
        let text = r.export_setup().expect("export");
        assert!(!text.contains("sk-canary-swift"), "{text}");
        let (_other_dir, other) = open();
        let dry = other
            .import_setup(
                text.clone(),
                Some(SetupImportOptions {
                    dry_run: true,
                    ..SetupImportOptions::default()
                }),
            )
            .expect("dry run");
        assert!(dry.dry_run);
        assert!(other.profiles().expect("list").is_empty());
        let report = other
            .import_setup(
                text.clone(),
                Some(SetupImportOptions {
                    rename: [("work".to_string(), "job".to_string())].into(),
                    ..SetupImportOptions::default()
                }),
            )
            .expect("import");
        let item = report
            .items
            .iter()
            .find(|i| i.kind == "profile")
            .expect("the profile");
        assert_eq!(
            (
                item.name.as_str(),
                item.renamed_from.as_deref(),
                item.outcome.as_str()
            ),
            ("job", Some("work"), "created")
        );
        assert_eq!(report.keys_to_set[0].alias, "work");
        assert!(matches!(
            other.import_setup("{}".into(), None),
            Err(RingletError::InvalidInput { .. })
        ));
    }

    #[test]
    fn update_profile_changes_clears_and_refuses() {
        let (dir, r) = open();
        r.create_profile(req("work"), Some("sk-canary-swift".into()))
            .expect("create");
        let cwd = dir.path().display().to_string();
        let updated = r
            .update_profile(
                "work".into(),
                ProfileUpdate {
                    sandbox: Some("always".into()),
                    model: Some("MiniMax-M3".into()),
                    endpoint: Some("china".into()),
                    set_env: [("A".to_string(), "1".to_string())].into(),
                    args: Some(vec!["--x".into()]),
                    working_dir: Some(cwd.clone()),
                    ..ProfileUpdate::default()
                },
            )
            .expect("update");
        assert_eq!(updated.sandbox, "always");
        assert_eq!(updated.model.as_deref(), Some("MiniMax-M3"));
        assert_eq!(updated.endpoint.as_deref(), Some("china"));
        assert_eq!(updated.env.get("A").map(String::as_str), Some("1"));
        assert_eq!(updated.args, ["--x"]);
        assert_eq!(updated.working_dir.as_deref(), Some(cwd.as_str()));
        let cleared = r
            .update_profile(
                "work".into(),
                ProfileUpdate {
                    unset_env: vec!["A".into()],
                    args: Some(Vec::new()),
                    clear_working_dir: true,
                    ..ProfileUpdate::default()
                },
            )
            .expect("clear");
        assert!(cleared.env.is_empty() && cleared.args.is_empty());
        assert_eq!(cleared.working_dir, None);
        assert!(matches!(
            r.update_profile(
                "work".into(),
                ProfileUpdate {
                    sandbox: Some("never".into()),
                    ..ProfileUpdate::default()
                }
            ),
            Err(RingletError::InvalidInput { message, .. }) if message.contains("off, always, remote")
        ));
        assert!(matches!(
            r.update_profile("work".into(), ProfileUpdate::default()),
            Err(RingletError::InvalidInput { message, .. }) if message.contains("nothing to change")
        ));
        assert!(matches!(
            r.update_profile(
                "nobody".into(),
                ProfileUpdate {
                    model: Some("m".into()),
                    ..ProfileUpdate::default()
                }
            ),
            Err(RingletError::ProfileNotFound { .. })
        ));
        assert_eq!(r.profile("work".into()).expect("read").sandbox, "always");
    }

    #[test]
    fn profile_round_trip_and_plan_without_secret() {
        let (_dir, r) = open();
        let created = r
            .create_profile(req("work"), Some("sk-canary-swift".into()))
            .expect("create");
        assert_eq!(created.alias, "work");
        assert_eq!(r.profiles().expect("list").len(), 1);
        let plan = r.plan_run("work".into(), vec!["-p".into()]).expect("plan");
        assert_eq!(plan.home, r.profile_home("work".into()).expect("home"));
        assert_eq!(plan.env.get("HOME"), Some(&plan.home));
        assert!(!format!("{plan:?}").contains("sk-canary-swift"));
        assert!(
            plan.masked_env
                .iter()
                .any(|e| e.secret && e.value == "********")
        );
        assert_eq!(
            r.list_keys().expect("keys"),
            vec![CredentialKey {
                provider: "minimax".into(),
                alias: "work".into()
            }]
        );
    }

    #[test]
    fn import_reports_progress_to_a_listener() {
        #[derive(Default)]
        struct Seen(std::sync::Mutex<Vec<ImportProgress>>);
        impl ImportProgressListener for Seen {
            fn on_progress(&self, progress: ImportProgress) {
                self.0.lock().expect("not poisoned").push(progress);
            }
        }
        let (dir, r) = open();
        r.create_profile(req("work"), Some("sk-canary-swift".into()))
            .expect("create");
        // Two sessions of Claude Code logs, one response each.
        let logs = dir.path().join("logs/.claude/projects/-p");
        std::fs::create_dir_all(&logs).expect("log dir");
        for (i, session) in ["a", "b"].iter().enumerate() {
            let line = format!(
                concat!(
                    r#"{{"type":"assistant","sessionId":"{s}","timestamp":"2026-11-0{d}T10:00:00Z","#,
                    r#""requestId":"req_{s}","message":{{"id":"msg_{s}","model":"claude-sonnet-4-5","#,
                    r#""role":"assistant","content":[],"usage":{{"input_tokens":10,"output_tokens":5}}}}}}"#,
                    "\n"
                ),
                s = session,
                d = i + 1
            );
            std::fs::write(logs.join(format!("{session}.jsonl")), line).expect("log");
        }
        let seen = Arc::new(Seen::default());
        let report = r
            .import_usage(
                ImportRequest {
                    agent: "claude".into(),
                    profile: "work".into(),
                    from: Some(dir.path().join("logs").display().to_string()),
                },
                Some(seen.clone()),
            )
            .expect("import");
        assert_eq!(report.summary.inserted, 2);
        let seen = seen.0.lock().expect("not poisoned");
        let done: Vec<i64> = seen.iter().map(|p| p.files_done).collect();
        assert_eq!(done, [0, 1, 2]);
        assert!(seen.iter().all(|p| p.files_total == 2));
        assert_eq!(seen.last().map(|p| p.inserted), Some(2));
    }

    #[test]
    fn errors_map_to_their_cases() {
        let (_dir, r) = open();
        assert!(matches!(
            r.profile("nobody".into()),
            Err(RingletError::ProfileNotFound { .. })
        ));
        assert!(matches!(
            r.create_profile(req("../evil"), None),
            Err(RingletError::InvalidAlias { .. })
        ));
        assert!(matches!(
            r.remove_key("minimax".into(), "none".into()),
            Err(RingletError::Key { code, .. }) if code == "key_not_found"
        ));
    }

    #[test]
    fn usage_is_empty_on_a_fresh_home() {
        let (_dir, r) = open();
        let report = r.usage(None).expect("usage");
        assert_eq!(report.group, "profile");
        assert!(report.rows.is_empty());
        assert_eq!(report.total.events, 0);
        assert!(r.usage_events(None).expect("events").is_empty());
        assert!(r.stats(None).expect("stats").rows.is_empty());
        let by_day = UsageQuery {
            group: Some("day".into()),
            since: Some("today".into()),
            ..UsageQuery::default()
        };
        assert_eq!(r.usage(Some(by_day)).expect("by day").group, "day");
        let bad = UsageQuery {
            group: Some("fortnight".into()),
            ..UsageQuery::default()
        };
        assert!(matches!(
            r.usage(Some(bad)),
            Err(RingletError::InvalidInput { .. })
        ));
    }

    #[test]
    fn hooks_add_list_remove_and_the_typed_not_found() {
        let (_dir, r) = open();
        r.create_profile(req("work"), Some("sk-canary-swift".into()))
            .expect("create");
        let added = r
            .add_hook(NewHook {
                profile: Some("work".into()),
                event: "stop".into(),
                shell: Some("true".into()),
                ..NewHook::default()
            })
            .expect("add");
        assert_eq!(added.action, "shell");
        assert_eq!(added.command.as_deref(), Some("true"));
        assert_eq!(r.hooks().expect("list").len(), 1);
        let tested = r
            .test_hook(
                added.id.clone(),
                Some(r#"{"session_id":"s1"}"#.into()),
                None,
            )
            .expect("test");
        assert!(tested.applies);
        assert!(tested.fired.is_some_and(|f| f.ok));
        assert!(tested.context_json.contains("\"s1\""));
        assert_eq!(
            r.remove_hook(added.id.clone()).expect("remove").id,
            added.id
        );
        assert!(r.hooks().expect("list").is_empty());
        assert!(matches!(
            r.remove_hook(added.id),
            Err(RingletError::HookNotFound { .. })
        ));
    }

    /// The fake agent of `ringlet-tests`, built beside this test binary (`cargo build
    /// --workspace --bins`, as tests/run.sh does) or named by RINGLET_FAKE_AGENT.
    fn fake_agent() -> String {
        let path = std::env::var_os("RINGLET_FAKE_AGENT")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                let exe = std::env::current_exe().expect("test binary path");
                // target/<profile>/deps/<test> → target/<profile>/fake-agent
                exe.parent()
                    .and_then(std::path::Path::parent)
                    .expect("target dir")
                    .join("fake-agent")
            });
        assert!(
            path.is_file(),
            "{} is missing: build it with `cargo build -p ringlet-tests --bin fake-agent` (or set RINGLET_FAKE_AGENT)",
            path.display()
        );
        path.display().to_string()
    }

    fn agent_profile(r: &Ringlet, alias: &str) {
        r.create_profile(
            NewProfile {
                binary: Some(fake_agent()),
                ..req(alias)
            },
            Some("sk-canary-swift".into()),
        )
        .expect("create");
    }

    /// Output read on a thread, collected as it arrives.
    struct Output {
        chunks: std::sync::mpsc::Receiver<Vec<u8>>,
        seen: String,
    }

    impl Output {
        fn of(handle: &Arc<RunHandle>) -> Self {
            let (tx, rx) = std::sync::mpsc::channel();
            let handle = Arc::clone(handle);
            std::thread::spawn(move || {
                while let Ok(Some(chunk)) = handle.read() {
                    if tx.send(chunk).is_err() {
                        break;
                    }
                }
            });
            Self {
                chunks: rx,
                seen: String::new(),
            }
        }

        /// Waits for `needle`; fails on timeout or end of file.
        fn wait_for(&mut self, needle: &str) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while !self.seen.contains(needle) {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match self.chunks.recv_timeout(left) {
                    Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                    Err(e) => panic!("no {needle:?} ({e}); output: {:?}", self.seen),
                }
            }
        }

        /// Waits for end of file.
        fn ends(&mut self) {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                match self.chunks.recv_timeout(left) {
                    Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                    Err(e) => panic!("output never ended ({e}): {:?}", self.seen),
                }
            }
        }
    }

    fn in_dir(dir: &tempfile::TempDir, io: RunIo) -> Option<StartOptions> {
        Some(StartOptions {
            io: Some(io),
            working_dir: Some(dir.path().display().to_string()),
            ..StartOptions::default()
        })
    }

    #[test]
    fn a_pty_run_sees_its_size_and_resize_input_and_exit_code_reach_it() {
        let (dir, r) = open();
        agent_profile(&r, "tty");
        let handle = r
            .start(
                "tty".into(),
                vec!["--exit".into(), "7".into(), "--interactive".into()],
                in_dir(&dir, RunIo::Pty { rows: 24, cols: 80 }),
            )
            .expect("start");
        let mut out = Output::of(&handle);
        out.wait_for(&format!("size 24 80 pid {}", handle.pid()));
        // wait() blocks on another thread while this one resizes and types.
        let waiter = {
            let handle = Arc::clone(&handle);
            std::thread::spawn(move || handle.wait())
        };
        handle.resize(30, 100).expect("resize");
        out.wait_for("winch 30 100");
        handle.write(b"hello\n".to_vec()).expect("write");
        out.wait_for("got hello");
        handle.write(b"quit\n".to_vec()).expect("write");
        let outcome = waiter.join().expect("waiter").expect("wait");
        assert_eq!(outcome.exit_code, 7);
        assert_eq!(outcome.pid, handle.pid());
        assert_eq!(handle.wait().expect("again").exit_code, 7);
        out.ends();
        assert_eq!(r.profile("tty".into()).expect("profile").total_runs, 1);
    }

    #[test]
    fn a_piped_run_is_read_and_kill_ends_a_run() {
        let (dir, r) = open();
        agent_profile(&r, "pipe");
        let handle = r
            .start(
                "pipe".into(),
                vec!["--interactive".into()],
                in_dir(&dir, RunIo::Piped),
            )
            .expect("start");
        let mut out = Output::of(&handle);
        out.wait_for(&format!("pid {}", handle.pid()));
        // Standard input is /dev/null: the interactive agent sees end of input and exits 0.
        assert_eq!(handle.wait().expect("wait").exit_code, 0);
        out.ends();
        assert!(matches!(
            handle.write(b"x".to_vec()),
            Err(RingletError::InvalidInput { .. })
        ));
        for io in [RunIo::Piped, RunIo::Pty { rows: 24, cols: 80 }] {
            let handle = r
                .start(
                    "pipe".into(),
                    vec!["--sleep-ms".into(), "60000".into()],
                    in_dir(&dir, io),
                )
                .expect("start");
            handle.kill().expect("kill");
            assert_eq!(handle.wait().expect("wait").exit_code, 128 + 9);
        }
    }

    #[test]
    fn a_gated_profile_needs_a_hook_program() {
        let (dir, _) = open();
        let home = dir.path().display().to_string();
        // Without hook_program the facade looks for `ringlet` on PATH: there must be none.
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            assert!(
                !dir.join("ringlet").exists(),
                "{} holds a ringlet; this test needs a PATH without one",
                dir.display()
            );
        }
        let r = Ringlet::new(Some(home.clone()), None).expect("open");
        agent_profile(&r, "gated");
        r.add_hook(NewHook {
            profile: Some("gated".into()),
            event: "pre-tool-use".into(),
            shell: Some("true".into()),
            ..NewHook::default()
        })
        .expect("add");
        assert!(matches!(
            r.start("gated".into(), vec![], in_dir(&dir, RunIo::Piped)),
            Err(RingletError::HookTransportMissing { .. })
        ));
        // Any program path will do for the check: the fake agent never calls back.
        let r = Ringlet::new(Some(home), Some(fake_agent())).expect("open");
        let handle = r
            .start("gated".into(), vec![], in_dir(&dir, RunIo::Piped))
            .expect("a hook program lets it start");
        assert_eq!(handle.wait().expect("wait").exit_code, 0);
    }
}
