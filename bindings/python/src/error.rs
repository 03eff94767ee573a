//! The one place `ringlet::Error` becomes a Python exception.
//!
//! Every exception derives from `ringlet.RingletError` and carries `code`, the core's stable
//! `Error::code()`. The class is chosen by that code, so a core variant this table does not know
//! yet still raises `RingletError` with the right `code` (and tests/bindings/parity.py fails
//! until it is added here). The source chain is kept as `__cause__` (an `OSError` with its
//! errno for I/O failures).

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError};
use pyo3::prelude::*;

create_exception!(
    ringlet,
    RingletError,
    PyException,
    "Base class of every ringlet error; `code` is the stable error code."
);

macro_rules! exceptions {
    ($($name:ident = $code:literal: $doc:literal;)*) => {
        $(create_exception!(ringlet, $name, RingletError, $doc);)*

        /// The exception class for a stable error code; `RingletError` for an unknown code.
        fn class_for<'py>(py: Python<'py>, code: &str) -> Bound<'py, pyo3::types::PyType> {
            match code {
                $($code => py.get_type::<$name>(),)*
                _ => py.get_type::<RingletError>(),
            }
        }

        /// Adds `RingletError` and every subclass to the module.
        pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            m.add("RingletError", py.get_type::<RingletError>())?;
            $(
                let class = py.get_type::<$name>();
                class.setattr("code", $code)?;
                m.add(stringify!($name), class)?;
            )*
            Ok(())
        }
    };
}

exceptions! {
    ProfileNotFound = "profile_not_found": "No profile with this alias exists.";
    ProfileExists = "profile_exists": "A profile with this alias already exists.";
    InvalidAlias = "invalid_alias": "The alias cannot be used as a profile name.";
    UnknownAgent = "unknown_agent": "No agent with this id is known.";
    UnknownProvider = "unknown_provider": "No provider with this id is known.";
    UnknownEndpoint = "unknown_endpoint": "The provider has no endpoint with this name.";
    Incompatible = "incompatible": "The agent speaks no wire format the provider serves.";
    InvalidInput = "invalid_input": "A value given is not acceptable.";
    AgentNotInstalled = "agent_not_installed": "The agent's binary cannot be found.";
    MissingKey = "missing_key": "The profile needs an API key and none is stored.";
    KeyNotFound = "key_not_found": "The named key is not stored.";
    KeyNotMigrated = "key_not_migrated": "The key is in the credentials file, not the keychain.";
    KeychainUnavailable = "keychain_unavailable": "The OS keychain cannot be reached.";
    KeychainLocked = "keychain_locked": "The OS keychain is locked.";
    ParseError = "parse": "A file ringlet reads could not be parsed.";
    InsecurePermissions = "insecure_permissions": "A file's permissions would expose secrets.";
    ScriptError = "script": "A Rhai config script failed.";
    CredentialError = "credential": "A credential backend failed.";
    IoError = "io": "An I/O operation on a named path failed.";
    SpawnError = "spawn": "Starting or waiting for the agent process failed.";
    UsageStoreError = "usage_store": "The usage ledger could not be used.";
    DownloadError = "download": "Downloading something (the pricing feed) failed.";
    HookError = "hook": "A hook rule is invalid, or a hook failed to run.";
    HookNotFound = "hook_not_found": "No hook with this id exists.";
    HookStateError = "hook_state": "The state of once-only hooks could not be used.";
    NoHome = "no_home": "No directory for ringlet's files could be determined.";
    SandboxUnavailable = "sandbox_unavailable": "The sandbox a run asked for cannot start here.";
}

/// Converts a core error into the Python exception for its code, with `code` set and the
/// source chain as `__cause__`.
pub fn to_py(err: ringlet::Error) -> PyErr {
    Python::attach(|py| {
        let exc = PyErr::from_type(class_for(py, err.code()), err.to_string());
        // Setting an attribute on a fresh exception instance cannot fail in practice; if it
        // did, the exception is still the right class with the right message.
        let _ = exc.value(py).setattr("code", err.code());
        if let Some(cause) = cause_of(&err) {
            exc.set_cause(py, Some(cause));
        }
        exc
    })
}

fn cause_of(err: &ringlet::Error) -> Option<PyErr> {
    let source = std::error::Error::source(err)?;
    Some(match source.downcast_ref::<std::io::Error>() {
        Some(io) => match io.raw_os_error() {
            Some(errno) => PyOSError::new_err((errno, io.to_string())),
            None => PyOSError::new_err(io.to_string()),
        },
        None => PyErr::new::<RingletError, _>(source.to_string()),
    })
}

/// `?` on a core result inside a `#[pymethods]` body.
pub trait IntoPy<T> {
    /// Maps the error with [`to_py`].
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for ringlet::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
