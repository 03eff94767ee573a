//! Python bindings for ringlet: `ringlet.Ringlet`, a thin shell over [`ringlet::Ringlet`].
//!
//! Each method converts its arguments, calls the facade with the GIL released, and converts the
//! result to plain Python data (dicts, lists, strings) with `pythonize`. Errors become the
//! exception hierarchy in [`error`]. No ringlet logic lives here.

mod error;

use std::path::PathBuf;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use ringlet::{
    CredentialKey, ImportRequest, NewHook, NewProfile, ProfileUpdate, RunOptions, Secret,
    UsageQuery,
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
    #[pyo3(signature = (home=None))]
    fn new(py: Python<'_>, home: Option<PathBuf>) -> PyResult<Self> {
        let inner = py
            .detach(|| match home {
                Some(home) => ringlet::Ringlet::builder().home(home).build(),
                None => ringlet::Ringlet::open(),
            })
            .py_err()?;
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

    /// Deletes a profile and its HOME.
    fn delete_profile(&self, py: Python<'_>, alias: &str) -> PyResult<()> {
        py.detach(|| self.inner.delete_profile(alias)).py_err()
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
    /// `since`, `until` (`2026-05-01`, RFC 3339, `today`, `7d`), `utc_offset_minutes`.
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

#[pymodule]
fn _ringlet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRinglet>()?;
    error::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
