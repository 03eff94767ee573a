//! The one place `ringlet::Error` becomes a Python exception.
//!
//! Every exception derives from `ringlet.RingletError` through one class per kind
//! (`NotFoundError`, `ConflictError`, `InvalidInputError`, `UnavailableError`,
//! `InternalError`: the core's `Error::kind()`), and is an instance of the class for its stable
//! `Error::code()` (`ProfileNotFound(NotFoundError)`, …), so callers catch as broadly or as
//! narrowly as they like. Instances carry `code`, `kind` and `hint`: the core's fix worded for
//! Python (`pass replace=True`, not the CLI's `--replace`), also appended to the message. A core
//! code this table does not know yet raises its kind's class (tests/bindings/parity.py fails
//! until the code has a class here, under the kind the core gives it). The source chain is kept
//! as `__cause__` (an `OSError` with its errno for I/O failures).

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyOSError};
use pyo3::prelude::*;
use ringlet::{ErrorKind, Field, Hint};

create_exception!(
    ringlet,
    RingletError,
    PyException,
    "Base class of every ringlet error: `code` is the stable error code, `kind` its class \
     (not_found, conflict, invalid_input, unavailable, internal), `hint` the fix or None."
);

macro_rules! kinds {
    ($($name:ident = $kind:path: $doc:literal;)*) => {
        $(create_exception!(ringlet, $name, RingletError, $doc);)*

        /// The exception class of a kind (`RingletError` for a kind this table lacks).
        fn kind_class<'py>(py: Python<'py>, kind: ErrorKind) -> Bound<'py, pyo3::types::PyType> {
            match kind {
                $($kind => py.get_type::<$name>(),)*
                _ => py.get_type::<RingletError>(),
            }
        }

        /// Adds the kind classes to the module, each with its `kind` name.
        fn register_kinds(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            $(
                let class = py.get_type::<$name>();
                class.setattr("kind", $kind.as_str())?;
                m.add(stringify!($name), class)?;
            )*
            Ok(())
        }
    };
}

kinds! {
    NotFoundError = ErrorKind::NotFound: "The request names something that does not exist.";
    ConflictError = ErrorKind::Conflict: "The current state stands in the way (a name is taken, a key must be stored or moved first).";
    InvalidInputError = ErrorKind::InvalidInput: "A value given is not acceptable.";
    UnavailableError = ErrorKind::Unavailable: "Something on this machine is missing or unreachable (the agent, the keychain, the sandbox, a download).";
    InternalError = ErrorKind::Internal: "ringlet's own files, stores or processes failed.";
}

macro_rules! exceptions {
    ($($name:ident($base:ident) = $code:literal: $doc:literal;)*) => {
        $(create_exception!(ringlet, $name, $base, $doc);)*

        /// The exception class for a stable error code, if this table has one.
        fn class_for<'py>(py: Python<'py>, code: &str) -> Option<Bound<'py, pyo3::types::PyType>> {
            match code {
                $($code => Some(py.get_type::<$name>()),)*
                _ => None,
            }
        }

        /// Adds `RingletError`, the kind classes and every code's class to the module.
        pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
            let py = m.py();
            m.add("RingletError", py.get_type::<RingletError>())?;
            register_kinds(m)?;
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
    ProfileNotFound(NotFoundError) = "profile_not_found": "No profile with this alias exists.";
    ProfileExists(ConflictError) = "profile_exists": "A profile with this alias already exists.";
    InvalidAlias(InvalidInputError) = "invalid_alias": "The alias cannot be used as a profile name.";
    UnknownAgent(NotFoundError) = "unknown_agent": "No agent with this id is known.";
    UnknownProvider(NotFoundError) = "unknown_provider": "No provider with this id is known.";
    UnknownEndpoint(NotFoundError) = "unknown_endpoint": "The provider has no endpoint with this name.";
    UnknownModel(NotFoundError) = "unknown_model": "No model in the usage ledger matches the model filter.";
    Incompatible(InvalidInputError) = "incompatible": "The agent speaks no wire format the provider serves.";
    InvalidInput(InvalidInputError) = "invalid_input": "A value given is not acceptable.";
    AgentNotInstalled(UnavailableError) = "agent_not_installed": "The agent's binary cannot be found.";
    MissingKey(ConflictError) = "missing_key": "The profile needs an API key and none is stored.";
    KeyNotFound(NotFoundError) = "key_not_found": "The named key is not stored.";
    KeyExists(ConflictError) = "key_exists": "A key is already stored under this name (pass replace=True).";
    KeyAliasTaken(ConflictError) = "key_alias_taken": "A different key is stored under the new profile's key alias.";
    KeyNotMigrated(ConflictError) = "key_not_migrated": "The key is in the credentials file, not the keychain.";
    KeychainUnavailable(UnavailableError) = "keychain_unavailable": "The OS keychain cannot be reached.";
    KeychainLocked(UnavailableError) = "keychain_locked": "The OS keychain is locked.";
    ParseError(InternalError) = "parse": "A file ringlet reads could not be parsed.";
    InsecurePermissions(InternalError) = "insecure_permissions": "A file's permissions would expose secrets.";
    ScriptError(InternalError) = "script": "A Rhai config script failed.";
    CredentialError(InternalError) = "credential": "A credential backend failed.";
    IoError(InternalError) = "io": "An I/O operation on a named path failed.";
    SpawnError(InternalError) = "spawn": "Starting or waiting for the agent process failed.";
    UsageStoreError(InternalError) = "usage_store": "The usage ledger could not be used.";
    DownloadError(UnavailableError) = "download": "Downloading something (the pricing feed) failed.";
    RegistryError(UnavailableError) = "registry": "The registry refused: a bad signature, a tampered artifact or a rollback.";
    HookError(InvalidInputError) = "hook": "A hook rule is invalid.";
    HookNotFound(NotFoundError) = "hook_not_found": "No hook with this id exists.";
    HookExists(ConflictError) = "hook_exists": "A hook with this id exists already.";
    HookStateError(InternalError) = "hook_state": "The state of once-only hooks could not be used.";
    SandboxUnavailable(UnavailableError) = "sandbox_unavailable": "The OS sandbox cannot start here.";
    ProxyError(UnavailableError) = "proxy": "The ringlet proxy of a run could not start.";
    HookTransportMissing(UnavailableError) = "hook_transport_missing": "Pre-tool-use hooks exist but agents have no ringlet program to call them through.";
    SessionNotFound(NotFoundError) = "session_not_found": "No terminal session with this id exists (any more).";
    RemoteNotFound(NotFoundError) = "remote_not_found": "No remote ringlet server with this name is configured.";
    RemoteExists(ConflictError) = "remote_exists": "A remote with this name is already configured.";
    NoHome(InternalError) = "no_home": "No directory for ringlet's files could be determined.";
}

/// A Python string literal for `s`.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A field as a Python caller passes it: the keyword argument of `create_profile` or
/// `update_profile`.
fn keyword(field: Field) -> &'static str {
    match field {
        Field::Model => "model=",
        Field::Endpoint => "endpoint=",
        Field::CustomEndpoint => "custom_endpoint=",
        Field::Shape => "shape=",
        Field::Env => "env=",
        Field::SetEnv => "set_env=",
        Field::UnsetEnv => "unset_env=",
        Field::Args => "args=",
        Field::WorkingDir => "working_dir=",
        Field::ClearWorkingDir => "clear_working_dir=True",
        Field::Binary => "binary=",
        Field::ClearBinary => "clear_binary=True",
        Field::Sandbox => "sandbox=",
        Field::KeyAlias => "key_alias=",
        Field::Period => "period=",
        Field::Threshold => "threshold=",
        Field::Budget => "of=",
        Field::HookAction => "shell=, rhai_file=, rhai_script= or webhook=",
        Field::Webhook => "webhook=",
        Field::WebhookTemplate => "webhook_template=",
        Field::Tool => "payload={\"tool_name\": …}",
    }
}

/// The core's hint in Python's terms: methods of `Ringlet` and keyword arguments, not CLI
/// commands and flags.
pub fn hint_text(hint: &Hint) -> String {
    match hint {
        Hint::ListProfiles => "see Ringlet.profiles()".into(),
        Hint::DeleteProfile { alias } => format!(
            "pick another alias or delete it first with Ringlet.delete_profile({})",
            lit(alias)
        ),
        Hint::InstallAgent { install } => {
            format!("install it ({install}) or create the profile with binary=PATH")
        }
        Hint::SetKey { provider, alias } => format!(
            "add one with Ringlet.set_key({}, {}, secret)",
            lit(provider),
            lit(alias)
        ),
        Hint::ListKeys => "see Ringlet.list_keys()".into(),
        Hint::MigrateKeys => "move it there with Ringlet.migrate_keys() (or set `[credentials] backend = \"file\"` in config.toml)".into(),
        Hint::Replace => "pass replace=True to overwrite it".into(),
        Hint::ReplaceKeyOrOtherAlias { provider, alias } => format!(
            "replace it with Ringlet.set_key({}, {}, secret, replace=True) or choose another key_alias",
            lit(provider),
            lit(alias)
        ),
        Hint::ListHooks => "see Ringlet.hooks()".into(),
        // Sessions live in a server (`SessionManager`), which this binding does not run.
        Hint::ListSessions => "list the server's sessions (GET /api/sessions)".into(),
        Hint::ListRemotes => "remotes are configured with the CLI (`ringlet remotes list`)".into(),
        Hint::RemoveHook { id } => format!(
            "remove it first with Ringlet.remove_hook({}) or pick another id",
            lit(id)
        ),
        Hint::GiveField(field) => format!("pass {}", keyword(*field)),
        Hint::CheckField(field) => format!("check {}", keyword(*field)),
        Hint::OneOfFields(a, b) => {
            format!("pass {} or {}, not both", keyword(*a), keyword(*b))
        }
        // A hint this binding does not word yet: the core's (CLI) wording beats none.
        other => other.to_string(),
    }
}

/// Converts a core error into the Python exception for its code (or kind), with `code`,
/// `kind` and `hint` set and the source chain as `__cause__`.
pub fn to_py(err: ringlet::Error) -> PyErr {
    Python::attach(|py| {
        let hint = err.hint().map(|h| hint_text(&h));
        let message = match &hint {
            Some(h) => format!("{err}; {h}"),
            None => err.to_string(),
        };
        let class = class_for(py, err.code()).unwrap_or_else(|| kind_class(py, err.kind()));
        let exc = PyErr::from_type(class, message);
        // Setting attributes on a fresh exception instance cannot fail in practice; if it
        // did, the exception is still the right class with the right message.
        let value = exc.value(py);
        let _ = value.setattr("code", err.code());
        let _ = value.setattr("kind", err.kind().as_str());
        let _ = value.setattr("hint", hint);
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
