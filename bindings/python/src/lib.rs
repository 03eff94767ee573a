//! Python bindings for ringlet: `ringlet.Ringlet`, a thin shell over [`ringlet::Ringlet`].
//!
//! Each method converts its arguments, calls the facade with the GIL released, and converts the
//! result to plain Python data (dicts, lists, strings) with `pythonize`. Errors become the
//! exception hierarchy in [`error`]. No ringlet logic lives here.

mod error;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use ringlet::{
    AgentSignaller, CredentialKey, EnvPolicy, ImportRequest, NewHook, NewProfile, ProfileUpdate,
    PtyReader, PtyResizer, PtyWriter, RunOptions, RunOutcome, Secret, UsageQuery,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::IntoPy;

/// Converts serde data (a profile, a plan) into Python dicts and lists.
fn to_py<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    Ok(pythonize::pythonize(py, value)?)
}

/// ringlet as a library: agents, providers, profiles, keys and launching.
///
/// `Ringlet(home=None)` opens ringlet under `home` (like `RINGLET_HOME`), else under
/// `RINGLET_HOME` or the platform's directories. Safe to share between threads; every method
/// releases the GIL while it works.
#[pyclass(frozen, module = "ringlet._ringlet", name = "Ringlet")]
#[derive(Debug)]
struct PyRinglet {
    inner: ringlet::Ringlet,
}

/// Builds a core request from its required fields (`base`) and keyword options, refusing an
/// option the core does not know (serde would silently ignore it) or one of the `fixed` fields
/// (given positionally).
fn request<T: Serialize + DeserializeOwned>(
    base: T,
    what: &str,
    fixed: &[&str],
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let Some(options) = options else {
        return Ok(base);
    };
    let py = options.py();
    let fields = to_py(py, &base)?.cast_into::<PyDict>()?;
    for (name, value) in options.iter() {
        let name: String = name.extract()?;
        if !fields.contains(&name)? || fixed.contains(&name.as_str()) {
            return Err(PyTypeError::new_err(format!(
                "unexpected {what} option '{name}'"
            )));
        }
        // None means "not given", as the stubs say, for every option.
        if value.is_none() {
            continue;
        }
        // Accept pathlib.Path (and any os.PathLike) where the core takes a path.
        let value = if value.hasattr("__fspath__")? {
            value.call_method0("__fspath__")?
        } else {
            value
        };
        fields.set_item(name, value)?;
    }
    // A value of the wrong type or an unknown name (`group="fortnight"`) is the caller's input,
    // as in the other bindings: `InvalidInput`, with serde's message naming what is accepted.
    pythonize::depythonize(fields.as_any()).map_err(|e| {
        error::to_py(ringlet::Error::InvalidInput(format!(
            "invalid {what} option: {e}"
        )))
    })
}

fn new_profile(
    agent: String,
    alias: String,
    provider: String,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<NewProfile> {
    let base = NewProfile::new(agent, alias, provider);
    request(base, "profile", &["agent", "alias", "provider"], options)
}

/// A [`UsageQuery`] from keyword filters (`profile`, `since`, `group`, …).
fn usage_query(options: Option<&Bound<'_, PyDict>>) -> PyResult<UsageQuery> {
    request(UsageQuery::default(), "usage query", &[], options)
}

#[pymethods]
impl PyRinglet {
    #[new]
    #[pyo3(signature = (home=None, *, hook_program=None))]
    fn new(py: Python<'_>, home: Option<PathBuf>, hook_program: Option<PathBuf>) -> PyResult<Self> {
        let mut builder = ringlet::Ringlet::builder();
        if let Some(home) = home {
            builder = builder.home(home);
        }
        if let Some(program) = hook_program {
            builder = builder.hook_program(program);
        }
        let inner = py.detach(|| builder.build()).py_err()?;
        Ok(Self { inner })
    }

    /// The directories in use: `config_dir`, `data_dir`, `cache_dir`.
    fn paths<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let paths = self.inner.paths();
        let dict = PyDict::new(py);
        // Strings, like every path in the dicts the other methods return.
        dict.set_item("config_dir", paths.config_dir().to_string_lossy())?;
        dict.set_item("data_dir", paths.data_dir().to_string_lossy())?;
        dict.set_item("cache_dir", paths.cache_dir().to_string_lossy())?;
        Ok(dict)
    }

    /// The warnings (`code`, `message`) of this thread's calls since the last `warnings()`,
    /// oldest first (and then forgotten), after those that hold for the whole session (a
    /// broken manifest). Another thread's calls never show up here.
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.warnings())
    }

    /// Makes sure the credential backend can be used now.
    fn check_credentials(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.inner.check_credentials()).py_err()
    }

    /// Creates ringlet's directories and detects agents.
    fn init<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.init()).py_err()?;
        to_py(py, &report)
    }

    /// Every agent with its detection result.
    fn agents<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let agents = py.detach(|| self.inner.agents()).py_err()?;
        to_py(py, &agents)
    }

    /// One agent with its detection result.
    fn agent<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let agent = py.detach(|| self.inner.agent(id)).py_err()?;
        to_py(py, &agent)
    }

    /// Every provider.
    fn providers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let providers = py.detach(|| self.inner.providers());
        to_py(py, &providers)
    }

    /// One provider.
    fn provider<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let provider = py.detach(|| self.inner.provider(id)).py_err()?;
        to_py(py, &provider)
    }

    /// Every profile, sorted by alias.
    fn profiles<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let profiles = py.detach(|| self.inner.profiles()).py_err()?;
        to_py(py, &profiles)
    }

    /// One profile.
    fn profile<'py>(&self, py: Python<'py>, alias: &str) -> PyResult<Bound<'py, PyAny>> {
        let profile = py.detach(|| self.inner.profile(alias)).py_err()?;
        to_py(py, &profile)
    }

    /// The profile's HOME directory.
    fn profile_home(&self, py: Python<'_>, alias: &str) -> PyResult<String> {
        let home = py.detach(|| self.inner.profile_home(alias)).py_err()?;
        Ok(home.to_string_lossy().into_owned())
    }

    /// Whether a profile exists (even one whose manifest is unreadable).
    fn has_profile(&self, py: Python<'_>, alias: &str) -> PyResult<bool> {
        py.detach(|| self.inner.has_profile(alias)).py_err()
    }

    /// The profile a request would create, validated, without writing anything.
    #[pyo3(signature = (agent, alias, provider, **options))]
    fn resolve_profile<'py>(
        &self,
        py: Python<'py>,
        agent: String,
        alias: String,
        provider: String,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = new_profile(agent, alias, provider, options)?;
        let profile = py.detach(|| self.inner.resolve_profile(&req)).py_err()?;
        to_py(py, &profile)
    }

    /// The key a request would need that is not stored yet (`provider`, `alias`), or None.
    #[pyo3(signature = (agent, alias, provider, **options))]
    fn missing_key<'py>(
        &self,
        py: Python<'py>,
        agent: String,
        alias: String,
        provider: String,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = new_profile(agent, alias, provider, options)?;
        let key = py.detach(|| self.inner.missing_key(&req)).py_err()?;
        to_py(py, &key)
    }

    /// Creates a profile; `key` is stored under its key alias first.
    #[pyo3(signature = (agent, alias, provider, *, key=None, **options))]
    fn create_profile<'py>(
        &self,
        py: Python<'py>,
        agent: String,
        alias: String,
        provider: String,
        key: Option<String>,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = new_profile(agent, alias, provider, options)?;
        let key = key.map(Secret::new);
        let profile = py
            .detach(|| self.inner.create_profile(&req, key.as_ref()))
            .py_err()?;
        to_py(py, &profile)
    }

    /// Changes a profile's settings (`sandbox`, `model`, `endpoint`, `set_env`, `unset_env`,
    /// `args`, `working_dir`, `clear_working_dir`, …); returns the profile as stored.
    #[pyo3(signature = (alias, **options))]
    fn update_profile<'py>(
        &self,
        py: Python<'py>,
        alias: &str,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let update = request(ProfileUpdate::default(), "profile update", &[], options)?;
        let profile = py
            .detach(|| self.inner.update_profile(alias, &update))
            .py_err()?;
        to_py(py, &profile)
    }

    /// Deletes a profile and its HOME, and its key unless another profile uses it. `key`:
    /// "if-unused" (default), "keep" or "remove"; `dry_run` only reports. Returns what became
    /// of the key (`key_outcome`, `shared_with`).
    #[pyo3(signature = (alias, key=None, dry_run=false))]
    fn delete_profile<'py>(
        &self,
        py: Python<'py>,
        alias: &str,
        key: Option<&str>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let key = key
            .map(ringlet::KeyOnDelete::parse)
            .transpose()
            .py_err()?
            .unwrap_or_default();
        let options = ringlet::DeleteOptions::new().key(key).dry_run(dry_run);
        let report = py
            .detach(|| self.inner.delete_profile_with(alias, &options))
            .py_err()?;
        to_py(py, &report)
    }

    /// The launch plan for a profile, as a dict. Writes nothing and holds no secret: the key is
    /// only named (`secret_env`) and shown masked in `masked_env`.
    #[pyo3(signature = (alias, args=Vec::new()))]
    fn plan_run<'py>(
        &self,
        py: Python<'py>,
        alias: &str,
        args: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let plan = py.detach(|| self.inner.plan_run(alias, &args)).py_err()?;
        let dict = to_py(py, &plan)?.cast_into::<PyDict>()?;
        dict.set_item("masked_env", to_py(py, &plan.masked_env())?)?;
        Ok(dict.into_any())
    }

    /// Runs a profile's agent and waits for it, with the GIL released; the agent inherits this
    /// process's stdin, stdout and stderr. Installs no signal handlers.
    #[pyo3(signature = (alias, args=Vec::new()))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        alias: &str,
        args: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let outcome = py
            .detach(|| self.inner.run(alias, &args, RunOptions::embedded()))
            .py_err()?;
        to_py(py, &outcome)
    }

    /// Runs a profile's agent non-interactively on `prompt` (the agent's one-shot form, whatever
    /// the agent) and returns `{"answer", "exit_code", "stdout", "stderr"}`; `working_dir`: where
    /// the agent runs (default: this process's).
    #[pyo3(signature = (alias, prompt, *, working_dir=None))]
    fn prompt<'py>(
        &self,
        py: Python<'py>,
        alias: &str,
        prompt: &str,
        working_dir: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut options = RunOptions::embedded();
        if let Some(dir) = working_dir {
            options = options.working_dir(dir);
        }
        let answer = py
            .detach(|| self.inner.prompt(alias, prompt, options))
            .py_err()?;
        to_py(py, &answer)
    }

    /// Starts a profile's agent and returns its `RunHandle` without waiting. `io`: `"inherit"`
    /// (this process's streams), `"pty"` (a new terminal of `rows` × `cols`) or `"piped"`;
    /// `env`: `"inherit"` or `"clean"` (the core's allowlist), or `env_allow` (exactly those
    /// names); `grace` in seconds. Installs no signal handlers.
    #[pyo3(signature = (
        alias, args=Vec::new(), *, io="inherit", rows=24, cols=80, working_dir=None,
        search_path=None, env="inherit", env_allow=None, grace=None, sandbox=None,
        time_zone=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn start(
        &self,
        py: Python<'_>,
        alias: &str,
        args: Vec<String>,
        io: &str,
        rows: u16,
        cols: u16,
        working_dir: Option<PathBuf>,
        search_path: Option<String>,
        env: &str,
        env_allow: Option<Vec<String>>,
        grace: Option<f64>,
        sandbox: Option<bool>,
        time_zone: Option<String>,
    ) -> PyResult<PyRunHandle> {
        let mut options = RunOptions::embedded();
        options = match io {
            "inherit" => options,
            "pty" => options.pty(rows, cols),
            "piped" => options.piped(),
            other => {
                return Err(invalid(format!(
                    "io must be \"inherit\", \"pty\" or \"piped\", not {other:?}"
                )));
            }
        };
        options = match (env, env_allow) {
            ("inherit", None) => options,
            ("inherit" | "clean", Some(names)) => options.env(EnvPolicy::CleanPlusAllowlist(names)),
            ("clean", None) => options.env(EnvPolicy::clean()),
            (other, _) => {
                return Err(invalid(format!(
                    "env must be \"inherit\" or \"clean\", not {other:?}"
                )));
            }
        };
        if let Some(dir) = working_dir {
            options = options.working_dir(dir);
        }
        if let Some(path) = search_path {
            options = options.search_path(path);
        }
        if let Some(grace) = grace {
            let grace = Duration::try_from_secs_f64(grace)
                .map_err(|e| invalid(format!("grace must be a number of seconds: {e}")))?;
            options = options.grace(grace);
        }
        if let Some(on) = sandbox {
            options = options.sandbox(on);
        }
        if let Some(zone) = time_zone {
            options = options.time_zone(zone);
        }
        let handle = py
            .detach(|| self.inner.start(alias, &args, options))
            .py_err()?;
        Ok(PyRunHandle::new(handle))
    }

    /// Subscribes to this facade's events from now on: a `Subscription` to iterate (blocking)
    /// or poll with `next(timeout)`.
    fn subscribe(&self) -> PySubscription {
        PySubscription {
            inner: Mutex::new(self.inner.subscribe()),
            _facade: self.inner.clone(),
        }
    }

    /// Moves the keys in the credentials file into the OS keychain.
    fn migrate_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.migrate_keys()).py_err()?;
        to_py(py, &report)
    }

    /// Stores a key; refuses to overwrite one unless `replace`.
    #[pyo3(signature = (provider, alias, secret, *, replace=false))]
    fn set_key(
        &self,
        py: Python<'_>,
        provider: String,
        alias: String,
        secret: String,
        replace: bool,
    ) -> PyResult<()> {
        let key = CredentialKey::new(provider, alias);
        let secret = Secret::new(secret);
        py.detach(|| self.inner.set_key(&key, &secret, replace))
            .py_err()
    }

    /// Removes a key.
    fn remove_key(&self, py: Python<'_>, provider: String, alias: String) -> PyResult<()> {
        let key = CredentialKey::new(provider, alias);
        py.detach(|| self.inner.remove_key(&key)).py_err()
    }

    /// The names of stored keys (`provider`, `alias`); never their values.
    fn list_keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys = py.detach(|| self.inner.list_keys()).py_err()?;
        Ok(to_py(py, &keys)?.cast_into::<PyList>()?)
    }

    /// Aggregated usage (tokens, cost) per profile, or grouped by `group` (`day`, `week`,
    /// `month`, `model`, `session`, …). Keyword filters: `profile`, `agent`, `provider`, `model`,
    /// `since`, `until` (`2026-05-01`, RFC 3339, `today`, `7d`), `timezone` (`Europe/Berlin`).
    #[pyo3(signature = (**query))]
    fn usage<'py>(
        &self,
        py: Python<'py>,
        query: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = usage_query(query)?;
        let report = py.detach(|| self.inner.usage(&query)).py_err()?;
        to_py(py, &report)
    }

    /// The events behind a usage report, oldest first; the same filters as `usage`.
    #[pyo3(signature = (**query))]
    fn usage_events<'py>(
        &self,
        py: Python<'py>,
        query: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = usage_query(query)?;
        let events = py.detach(|| self.inner.usage_events(&query)).py_err()?;
        to_py(py, &events)
    }

    /// Reads new usage from every profile's HOME.
    fn sync_usage<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.sync_usage()).py_err()?;
        to_py(py, &report)
    }

    /// Imports an agent's existing logs into a profile: from `source` (a HOME, a log directory
    /// or one log file), else from the user's real HOME. `progress`, when given, is called with
    /// an `ImportProgress` dict before each file and once at the end.
    #[pyo3(signature = (agent, profile, source=None, progress=None))]
    fn import_usage<'py>(
        &self,
        py: Python<'py>,
        agent: String,
        profile: String,
        source: Option<PathBuf>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = ImportRequest {
            agent,
            profile,
            from: source,
        };
        // The import runs without the GIL; each report takes it back to call Python. The core's
        // callback cannot stop an import, so the first exception the callback raises is kept,
        // later reports are skipped, and it is raised once the import has finished (what was
        // imported stays: importing again reads only what is new).
        let mut raised: Option<PyErr> = None;
        let mut report = |p: &ringlet::ImportProgress| {
            if raised.is_none()
                && let Some(callback) = &progress
            {
                Python::attach(|py| {
                    if let Err(e) = to_py(py, p).and_then(|p| callback.call1(py, (p,))) {
                        raised = Some(e);
                    }
                });
            }
        };
        let result = py.detach(|| self.inner.import_usage(&req, Some(&mut report)));
        let result = result.py_err()?;
        if let Some(e) = raised {
            return Err(e);
        }
        to_py(py, &result)
    }

    /// Agents whose logs are in the user's real HOME, which could be imported.
    fn import_candidates<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let candidates = py.detach(|| self.inner.import_candidates()).py_err()?;
        to_py(py, &candidates)
    }

    /// Replaces the pricing snapshot with LiteLLM's feed from `source` (a file or an http(s)
    /// URL; LiteLLM's own URL when None) and re-prices the ledger.
    #[pyo3(signature = (source=None))]
    fn update_pricing<'py>(
        &self,
        py: Python<'py>,
        source: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let source = source.map(|s| s.to_string_lossy().into_owned());
        let report = py
            .detach(|| self.inner.update_pricing(source.as_deref()))
            .py_err()?;
        to_py(py, &report)
    }

    /// Where prices come from now.
    fn pricing_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let status = py.detach(|| self.inner.pricing_status()).py_err()?;
        to_py(py, &status)
    }

    /// What can go wrong on this machine, each check with its fix; `healthy` is false when one
    /// failed.
    fn doctor<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.doctor()).py_err()?;
        to_py(py, &report)
    }

    /// The registry snapshot in use, its signature and checksums verified now.
    fn registry_status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let status = py.detach(|| self.inner.registry_status()).py_err()?;
        to_py(py, &status)
    }

    /// Run statistics per profile (or per agent with `group="agent"`); the same filters as
    /// `usage`.
    #[pyo3(signature = (**query))]
    fn stats<'py>(
        &self,
        py: Python<'py>,
        query: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = usage_query(query)?;
        let report = py.detach(|| self.inner.stats(&query)).py_err()?;
        to_py(py, &report)
    }

    /// Where the usage ledger lives.
    fn usage_db_path(&self) -> String {
        self.inner.usage_db_path().to_string_lossy().into_owned()
    }

    /// Every hook rule: global ones, then each profile's.
    fn hooks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let hooks = py.detach(|| self.inner.hooks()).py_err()?;
        to_py(py, &hooks)
    }

    /// The rules that apply to one profile (global ones first).
    fn hooks_for<'py>(&self, py: Python<'py>, alias: &str) -> PyResult<Bound<'py, PyAny>> {
        let hooks = py.detach(|| self.inner.hooks_for(alias)).py_err()?;
        to_py(py, &hooks)
    }

    /// Adds a hook on `event` and returns it with its new id. Exactly one action: `shell`,
    /// `rhai_file`, `rhai_script` or `webhook`; `profile=None` applies it to every profile.
    #[pyo3(signature = (event, **options))]
    fn add_hook<'py>(
        &self,
        py: Python<'py>,
        event: String,
        options: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let base = NewHook {
            event,
            ..NewHook::default()
        };
        let req = request(base, "hook", &["event"], options)?;
        let entry = py.detach(|| self.inner.add_hook(&req)).py_err()?;
        to_py(py, &entry)
    }

    /// Removes a hook and returns it.
    fn remove_hook<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let entry = py.detach(|| self.inner.remove_hook(id)).py_err()?;
        to_py(py, &entry)
    }

    /// Every rule as one TOML document.
    fn export_hooks(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.export_hooks()).py_err()
    }

    /// Adds the rules of an exported TOML document.
    fn import_hooks<'py>(&self, py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.inner.import_hooks(text)).py_err()?;
        to_py(py, &report)
    }

    /// This machine's setup as one document (a dict; `ringlet export` writes it as JSON):
    /// profiles, hooks, routing, config and remotes, with the names of the keys they use.
    /// Never a key, token or password, nor machine-local state.
    fn export_setup<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let doc = py.detach(|| self.inner.export_setup()).py_err()?;
        to_py(py, &doc)
    }

    /// Recreates an exported setup: `document` is what `export_setup()` returned, or its JSON
    /// text. Everything is checked before anything is written; `rename` maps a setup alias
    /// to a new one, `skip_existing` keeps this machine's version of conflicting items.
    /// Returns what became of each item and the keys still to store.
    #[pyo3(signature = (document, dry_run=false, rename=None, skip_existing=false))]
    fn import_setup<'py>(
        &self,
        py: Python<'py>,
        document: &Bound<'py, PyAny>,
        dry_run: bool,
        rename: Option<std::collections::BTreeMap<String, String>>,
        skip_existing: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = match document.extract::<String>() {
            Ok(text) => text,
            Err(_) => {
                let value: serde_json::Value = pythonize::depythonize(document)?;
                value.to_string()
            }
        };
        let mut options = ringlet::SetupImportOptions::new()
            .dry_run(dry_run)
            .skip_existing(skip_existing);
        for (from, to) in rename.unwrap_or_default() {
            options = options.rename(from, to);
        }
        let report = py
            .detach(|| {
                let doc = ringlet::SetupDocument::parse(&text)?;
                self.inner.import_setup(&doc, &options)
            })
            .py_err()?;
        to_py(py, &report)
    }

    /// Runs one hook against `payload` (a dict in the agent's hook shape or ringlet's field
    /// names) and reports what it decided or did. Actions really run.
    #[pyo3(signature = (id, payload=None, profile=None))]
    fn test_hook<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        payload: Option<&Bound<'py, PyAny>>,
        profile: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let payload: serde_json::Value = match payload {
            Some(p) => pythonize::depythonize(p)?,
            None => serde_json::Value::Object(serde_json::Map::new()),
        };
        let report = py
            .detach(|| self.inner.test_hook(id, &payload, profile))
            .py_err()?;
        to_py(py, &report)
    }

    /// Runs the scheduled `cost-threshold` and `daily-rollup` checks now; returns what fired.
    /// Problems become warnings, never exceptions.
    fn run_scheduled_hooks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let fired = py.detach(|| self.inner.run_scheduled_hooks());
        to_py(py, &fired)
    }

    fn __repr__(&self) -> String {
        format!("Ringlet(config_dir={:?})", self.inner.paths().config_dir())
    }
}

/// A core `InvalidInput` error as its Python exception.
fn invalid(message: String) -> PyErr {
    error::to_py(ringlet::Error::InvalidInput(message))
}

/// A run's output stream (a PTY's, or a pipe's).
type Output = Box<dyn Read + Send>;

/// Locks a mutex, recovering it if a panic poisoned it (the data is only handles).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads one chunk (at most `size` bytes) from `reader` without the GIL: bytes, or None at
/// end of file.
fn read_chunk<'py, R: Read + Send>(
    py: Python<'py>,
    reader: &Mutex<Option<R>>,
    size: usize,
    what: &str,
) -> PyResult<Option<Bound<'py, PyBytes>>> {
    let result = py.detach(|| {
        let mut guard = lock(reader);
        let Some(reader) = guard.as_mut() else {
            return Ok(None);
        };
        let mut buf = vec![0u8; size.max(1)];
        reader.read(&mut buf).map(|n| {
            buf.truncate(n);
            Some(buf)
        })
    });
    match result {
        Ok(Some(buf)) if !buf.is_empty() => Ok(Some(PyBytes::new(py, &buf))),
        Ok(_) => Ok(None),
        Err(e) => Err(error::to_py(ringlet::Error::io(
            "reading the output of",
            what,
            e,
        ))),
    }
}

/// A started agent (`Ringlet.start`). Use it as a context manager: leaving the block kills an
/// agent still running and waits for it, so the run is always finished and recorded.
///
/// `read()` gives the terminal's output (`io="pty"`) or standard output (`io="piped"`) chunk
/// by chunk, None at end of file; `read_stderr()` a piped run's errors; `write()` types into
/// the terminal. `wait()` blocks (GIL released) until the agent ends and returns its
/// `RunOutcome`; `signal()`, `kill()` and `resize()` work from any thread meanwhile.
#[pyclass(frozen, module = "ringlet._ringlet", name = "RunHandle")]
struct PyRunHandle {
    pid: u32,
    handle: Mutex<Option<ringlet::RunHandle>>,
    outcome: Mutex<Option<RunOutcome>>,
    signaller: Option<AgentSignaller>,
    resizer: Option<PtyResizer>,
    writer: Option<Mutex<PtyWriter>>,
    output: Mutex<Option<Box<dyn Read + Send>>>,
    stderr: Mutex<Option<std::process::ChildStderr>>,
}

impl std::fmt::Debug for PyRunHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunHandle")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl PyRunHandle {
    fn new(mut handle: ringlet::RunHandle) -> Self {
        let piped = handle.take_output();
        let pty_reader: Option<PtyReader> = handle.pty().and_then(|p| p.reader().ok());
        let (output, stderr): (Option<Output>, _) = match piped {
            Some(p) => (Some(Box::new(p.stdout)), Some(p.stderr)),
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

    fn wait_outcome(&self, py: Python<'_>) -> PyResult<RunOutcome> {
        py.detach(|| {
            // One waiter finishes the run; a second waits for the lock and gets the same outcome.
            let mut outcome = lock(&self.outcome);
            if let Some(done) = outcome.as_ref() {
                return Ok(done.clone());
            }
            let handle = lock(&self.handle).take();
            let Some(handle) = handle else {
                return Err(ringlet::Error::InvalidInput(
                    "this run's wait() failed before; it has no outcome".into(),
                ));
            };
            let done = handle.wait()?;
            *outcome = Some(done.clone());
            Ok(done)
        })
        .py_err()
    }
}

#[pymethods]
impl PyRunHandle {
    /// The agent's process id.
    #[getter]
    fn pid(&self) -> u32 {
        self.pid
    }

    /// Waits for the agent to end (GIL released) and finishes the run: its `RunOutcome`. Later
    /// calls return the same outcome.
    fn wait<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let outcome = self.wait_outcome(py)?;
        to_py(py, &outcome)
    }

    /// Sends signal number `signal` to the agent (its process group); nothing once it ended.
    fn signal(&self, signal: i32) -> PyResult<()> {
        match &self.signaller {
            Some(s) => s.signal(signal).py_err(),
            None => match lock(&self.handle).as_ref() {
                Some(h) => h.signal(signal).py_err(),
                None => Ok(()),
            },
        }
    }

    /// Kills the agent (SIGKILL); `wait()` then reports 137.
    fn kill(&self) -> PyResult<()> {
        self.signal(9)
    }

    /// Resizes the agent's terminal (`io="pty"`); the agent gets SIGWINCH.
    fn resize(&self, rows: u16, cols: u16) -> PyResult<()> {
        match (&self.resizer, lock(&self.handle).as_ref()) {
            (Some(r), _) => r.resize(rows, cols).py_err(),
            (None, Some(h)) => h.resize(rows, cols).py_err(),
            (None, None) => Err(invalid("this run has ended".into())),
        }
    }

    /// Types `data` into the agent's terminal (`io="pty"`).
    fn write(&self, py: Python<'_>, data: &[u8]) -> PyResult<()> {
        let Some(writer) = &self.writer else {
            return Err(invalid(
                "this run has no terminal to write to; start it with io=\"pty\"".into(),
            ));
        };
        let data = data.to_vec();
        py.detach(|| {
            let mut w = lock(writer);
            w.write_all(&data).and_then(|()| w.flush())
        })
        .map_err(|e| {
            error::to_py(ringlet::Error::io(
                "writing to the terminal of",
                format!("pid {}", self.pid),
                e,
            ))
        })
    }

    /// The next chunk of the terminal's output (`io="pty"`) or standard output
    /// (`io="piped"`), at most `size` bytes; blocks (GIL released) until there is some; None at
    /// end of file and for an `io="inherit"` run.
    #[pyo3(signature = (size=65536))]
    fn read<'py>(&self, py: Python<'py>, size: usize) -> PyResult<Option<Bound<'py, PyBytes>>> {
        read_chunk(py, &self.output, size, &format!("pid {}", self.pid))
    }

    /// The next chunk of a piped run's standard error; None at end of file and for other runs.
    #[pyo3(signature = (size=65536))]
    fn read_stderr<'py>(
        &self,
        py: Python<'py>,
        size: usize,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        read_chunk(py, &self.stderr, size, &format!("pid {}", self.pid))
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Kills an agent still running and waits for it, so the run is finished and recorded.
    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        if lock(&self.outcome).is_none() && lock(&self.handle).is_some() {
            self.kill()?;
            self.wait_outcome(py)?;
        }
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("RunHandle(pid={})", self.pid)
    }
}

/// Events from a `Ringlet` (`subscribe()`): iterate (blocks for each) or poll with
/// `next(timeout)`. Each event is a dict tagged by `type` (`profile-created`, `run-ended`, …).
#[pyclass(frozen, module = "ringlet._ringlet", name = "Subscription")]
#[derive(Debug)]
struct PySubscription {
    inner: Mutex<ringlet::Subscription>,
    /// Keeps the facade, so a subscription outlives the Python name of the `Ringlet` it came
    /// from: iterating blocks for the next event instead of ending.
    _facade: ringlet::Ringlet,
}

#[pymethods]
impl PySubscription {
    /// The next event, waiting at most `timeout` seconds (GIL released); None when none came.
    #[pyo3(signature = (timeout=0.0))]
    fn next<'py>(&self, py: Python<'py>, timeout: f64) -> PyResult<Option<Bound<'py, PyAny>>> {
        let timeout = Duration::try_from_secs_f64(timeout)
            .map_err(|e| invalid(format!("timeout must be a number of seconds: {e}")))?;
        let event = py.detach(|| lock(&self.inner).recv_timeout(timeout));
        event.ok().map(|e| to_py(py, &e)).transpose()
    }

    /// How many events were dropped because this subscription was not read fast enough.
    #[getter]
    fn missed(&self) -> u64 {
        lock(&self.inner).missed()
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Blocks (GIL released, waking to let Ctrl-C through) until the next event.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        loop {
            match py.detach(|| lock(&self.inner).recv_timeout(Duration::from_millis(200))) {
                Ok(event) => return to_py(py, &event).map(Some),
                // Unreachable while `_facade` lives, but an ended stream ends the iteration.
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            }
        }
    }
}

#[pymodule]
fn _ringlet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRinglet>()?;
    m.add_class::<PyRunHandle>()?;
    m.add_class::<PySubscription>()?;
    error::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
