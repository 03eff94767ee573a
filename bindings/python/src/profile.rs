//! `ringlet.Profile`: a read-only view of one [`ringlet::Profile`].
//!
//! The object holds the Rust value and converts a field only when it is read, so listing many
//! profiles creates one small object each instead of a tree of dicts. It reads both ways: as
//! attributes (`p.alias`, `p.model` — `None` when unset) and, as profiles were plain dicts
//! before, as a read-only mapping with the same keys and values as `to_dict()` (`p["alias"]`,
//! `"model" in p`, `dict(p)`).

use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::to_py;

/// The mapping keys in order, as `to_dict()` has them (serde's field order).
const KEYS: [&str; 13] = [
    "alias",
    "agent",
    "provider",
    "endpoint",
    "endpoint_url",
    "shape",
    "model",
    "key_alias",
    "binary",
    "working_dir",
    "args",
    "env",
    "metadata",
];

/// A path as Python gets every path: a `str` (lossy for a non-UTF-8 path).
fn lossy(path: Option<&std::path::Path>) -> Option<String> {
    path.map(|p| p.to_string_lossy().into_owned())
}

/// One profile: agent + provider + key alias (never the key) + its own HOME. Read-only.
#[pyclass(frozen, module = "ringlet._ringlet", name = "Profile")]
#[derive(Debug)]
pub(crate) struct PyProfile {
    inner: ringlet::Profile,
}

impl From<ringlet::Profile> for PyProfile {
    fn from(inner: ringlet::Profile) -> Self {
        Self { inner }
    }
}

impl PyProfile {
    /// Whether `to_dict()` has `key`: every field but an unset option, empty args or an empty
    /// env. Answered from the Rust value, so `keys()`, `len()` and `in` convert nothing.
    fn has(&self, key: &str) -> bool {
        let p = &self.inner;
        match key {
            "alias" | "agent" | "provider" | "shape" | "metadata" => true,
            "endpoint" => p.endpoint.is_some(),
            "endpoint_url" => p.endpoint_url.is_some(),
            "model" => p.model.is_some(),
            "key_alias" => p.key_alias.is_some(),
            "binary" => p.binary.is_some(),
            "working_dir" => p.working_dir.is_some(),
            "args" => !p.args.is_empty(),
            "env" => !p.env.is_empty(),
            _ => false,
        }
    }

    /// The value under `key` as `to_dict()` has it, or None where `to_dict()` leaves the key
    /// out (an unset option, no args, no env) or for a key a profile never has.
    fn field<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        if !self.has(key) {
            return Ok(None);
        }
        // The getters' own conversions: an option `has` let through is set, so none is None.
        let value = match key {
            "alias" => self.alias().into_bound_py_any(py)?,
            "agent" => self.agent().into_bound_py_any(py)?,
            "provider" => self.provider().into_bound_py_any(py)?,
            "endpoint" => self.endpoint().into_bound_py_any(py)?,
            "endpoint_url" => self.endpoint_url().into_bound_py_any(py)?,
            "shape" => self.shape().into_bound_py_any(py)?,
            "model" => self.model().into_bound_py_any(py)?,
            "key_alias" => self.key_alias().into_bound_py_any(py)?,
            "binary" => self.binary().into_bound_py_any(py)?,
            "working_dir" => self.working_dir().into_bound_py_any(py)?,
            "args" => self.args(py)?.into_any(),
            "env" => self.env(py)?,
            "metadata" => self.metadata(py)?,
            _ => return Ok(None),
        };
        Ok(Some(value))
    }
}

#[pymethods]
impl PyProfile {
    /// The profile's name; also its directory name.
    #[getter]
    fn alias(&self) -> &str {
        &self.inner.alias
    }

    /// The agent id.
    #[getter]
    fn agent(&self) -> &str {
        &self.inner.agent
    }

    /// The provider id.
    #[getter]
    fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// The provider endpoint name, or None.
    #[getter]
    fn endpoint(&self) -> Option<&str> {
        self.inner.endpoint.as_deref()
    }

    /// A base URL that overrides the endpoint's, or None.
    #[getter]
    fn endpoint_url(&self) -> Option<&str> {
        self.inner.endpoint_url.as_deref()
    }

    /// The wire format the agent and provider talk.
    #[getter]
    fn shape(&self) -> &'static str {
        self.inner.shape.as_str()
    }

    /// The pinned model, or None.
    #[getter]
    fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// The alias the key is stored under, or None for a provider that needs no key.
    #[getter]
    fn key_alias(&self) -> Option<&str> {
        self.inner.key_alias.as_deref()
    }

    /// A binary that overrides the agent manifest's, or None.
    #[getter]
    fn binary(&self) -> Option<String> {
        lossy(self.inner.binary.as_deref())
    }

    /// The directory the agent starts in, or None (the caller's).
    #[getter]
    fn working_dir(&self) -> Option<String> {
        lossy(self.inner.working_dir.as_deref())
    }

    /// Arguments always passed to the agent (a new list each time).
    #[getter]
    fn args<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, &self.inner.args)
    }

    /// Extra environment variables (a new dict each time).
    #[getter]
    fn env<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.env)
    }

    /// `created_at`, `last_used` (absent until the first run), `total_runs` (a new dict each
    /// time).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.inner.metadata)
    }

    /// The profile as a plain dict (unset options left out), as `profiles()` returned before.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        Ok(to_py(py, &self.inner)?.cast_into::<PyDict>()?)
    }

    /// The keys `to_dict()` has, in its order.
    fn keys(&self) -> Vec<&'static str> {
        KEYS.into_iter().filter(|key| self.has(key)).collect()
    }

    /// `p[key]`, as on `to_dict()`: KeyError for an unset option.
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        self.field(py, key)?
            .ok_or_else(|| PyKeyError::new_err(key.to_string()))
    }

    /// `p.get(key, default)`, as on `to_dict()`.
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.field(py, key)?.or(default))
    }

    fn __contains__(&self, key: &str) -> bool {
        self.has(key)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(PyList::new(py, self.keys())?.try_iter()?.into_any())
    }

    fn __len__(&self) -> usize {
        self.keys().len()
    }

    /// A `Profile` is immutable, so a copy is the object itself (as for `str` or `tuple`);
    /// without these `copy.copy` / `copy.deepcopy` would fail for want of a constructor, where
    /// they worked on the dicts profiles used to be.
    /// Pickles as its `to_dict()`, rebuilt by `_profile_from_dict` (for `multiprocessing`,
    /// caches): the same fields, no file read.
    fn __reduce__<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyDict>,))> {
        let rebuild = py
            .import("ringlet._ringlet")?
            .getattr("_profile_from_dict")?;
        Ok((rebuild, (self.to_dict(py)?,)))
    }

    fn __copy__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __deepcopy__(slf: Py<Self>, _memo: &Bound<'_, PyAny>) -> Py<Self> {
        slf
    }

    /// Equal to another `Profile` with the same fields, or to its `to_dict()`.
    fn __eq__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if let Ok(other) = other.cast::<PyProfile>() {
            let equal = self.inner == other.get().inner;
            return Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind());
        }
        if other.is_instance_of::<PyDict>() {
            let equal = self.to_dict(py)?.eq(other)?;
            return Ok(equal.into_pyobject(py)?.to_owned().into_any().unbind());
        }
        Ok(py.NotImplemented())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let repr = |s: &str| -> PyResult<String> { Ok(PyString::new(py, s).repr()?.to_string()) };
        let p = &self.inner;
        let mut out = format!(
            "Profile(alias={}, agent={}, provider={}",
            repr(&p.alias)?,
            repr(&p.agent)?,
            repr(&p.provider)?
        );
        if let Some(model) = &p.model {
            out.push_str(&format!(", model={}", repr(model)?));
        }
        out.push(')');
        Ok(out)
    }
}

/// Rebuilds a pickled `Profile` from its `to_dict()`. Not public API: what `__reduce__` names.
#[pyfunction(name = "_profile_from_dict")]
pub(crate) fn profile_from_dict(fields: &Bound<'_, PyDict>) -> PyResult<PyProfile> {
    let profile: ringlet::Profile = pythonize::depythonize(fields.as_any()).map_err(|e| {
        crate::error::to_py(ringlet::Error::InvalidInput(format!(
            "not a pickled ringlet Profile: {e}"
        )))
    })?;
    Ok(profile.into())
}
