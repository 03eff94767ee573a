//! The one error type of the core. Every variant carries the context a user needs to act on it,
//! and its message says what to do next, except a step each frontend words for itself (a CLI
//! command or flag): that is its [`hint`](Error::hint), beside the message (see `error_kind.rs`).

use std::path::PathBuf;

use crate::error_kind::{Field, FieldProblem};
use crate::suggest::did_you_mean;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in ringlet's core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No profile with this alias exists.
    #[error("profile '{alias}' not found{dym}", alias = shown(alias), dym = did_you_mean(suggestion))]
    ProfileNotFound {
        /// The alias that was asked for.
        alias: String,
        /// The existing profile most likely meant (see [`Error::suggestion`]).
        suggestion: Option<String>,
    },

    /// A profile with this alias already exists.
    #[error("profile '{alias}' already exists", alias = shown(alias))]
    ProfileExists {
        /// The alias that is taken.
        alias: String,
    },

    /// The alias cannot be used as a profile name.
    #[error(
        "invalid profile alias '{alias}': {reason}; use 1-64 letters, digits, '-', '_' or '.', not starting with '.' or '-'",
        alias = shown(alias)
    )]
    InvalidAlias {
        /// The alias as given, with control characters escaped.
        alias: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// No agent with this id is known.
    #[error("unknown agent '{id}'{dym}; known agents: {known}", id = shown(id), dym = did_you_mean(suggestion))]
    UnknownAgent {
        /// The id that was asked for.
        id: String,
        /// Comma-separated ids of the known agents.
        known: String,
        /// The known agent most likely meant (see [`Error::suggestion`]).
        suggestion: Option<String>,
    },

    /// No provider with this id is known.
    #[error("unknown provider '{id}'{dym}; known providers: {known}", id = shown(id), dym = did_you_mean(suggestion))]
    UnknownProvider {
        /// The id that was asked for.
        id: String,
        /// Comma-separated ids of the known providers.
        known: String,
        /// The known provider most likely meant (see [`Error::suggestion`]).
        suggestion: Option<String>,
    },

    /// A usage filter names a model that matches no model in the ledger (by id, prefix or
    /// normalised name).
    #[error("no model in the ledger matches '{model}'; models recorded: {present}", model = shown(model))]
    UnknownModel {
        /// The model filter that was given.
        model: String,
        /// Comma-separated ids of the models the ledger holds (`none` when it is empty).
        present: String,
    },

    /// The provider has no endpoint with this name.
    #[error(
        "provider '{provider}' has no endpoint '{endpoint}'; its endpoints: {known}",
        endpoint = shown(endpoint)
    )]
    UnknownEndpoint {
        /// The provider id.
        provider: String,
        /// The endpoint name that was asked for.
        endpoint: String,
        /// Comma-separated endpoint names of the provider.
        known: String,
    },

    /// The agent cannot speak any wire format the provider serves.
    #[error(
        "agent '{agent}' speaks {speaks} but provider '{provider}' serves {serves}; providers '{agent}' can use: {compatible}"
    )]
    Incompatible {
        /// The agent id.
        agent: String,
        /// The provider id.
        provider: String,
        /// Wire formats the agent speaks.
        speaks: String,
        /// Wire formats the provider serves.
        serves: String,
        /// Comma-separated providers that would work.
        compatible: String,
    },

    /// A value given on the command line or through the API is not acceptable.
    #[error("{0}")]
    InvalidInput(String),

    /// A value given for one field of a request (a profile's model, working directory, …) is
    /// not acceptable, a field the request needs is missing, or two fields contradict each
    /// other. The message names the field as every frontend can ("model", "working
    /// directory"); the [`hint`](Error::hint) names it as the frontend spells it (`--model`,
    /// `model=`). Its [`code`](Error::code) is `invalid_input`, as [`Error::InvalidInput`]'s:
    /// it is that error with the field known, and is caught as one.
    #[error("{message}")]
    InvalidField {
        /// The field at fault.
        field: Field,
        /// What is wrong, with the value given (cut to 64 characters).
        message: String,
        /// Missing, not acceptable, or contradicting another field.
        problem: FieldProblem,
    },

    /// The agent's binary cannot be found.
    #[error("agent '{agent}' is not installed: '{binary}' was not found in {searched}")]
    AgentNotInstalled {
        /// The agent id.
        agent: String,
        /// The binary name or path looked for.
        binary: String,
        /// Where it was looked for.
        searched: String,
        /// How to install it (the hint says it, with the frontend's way to name a binary).
        install: String,
    },

    /// The profile needs an API key and none is stored under its alias.
    #[error(
        "no API key stored for {provider}/{alias} (backend: {backend})",
        provider = shown(provider),
        alias = shown(alias)
    )]
    MissingKey {
        /// The provider id.
        provider: String,
        /// The key alias.
        alias: String,
        /// The credential backend that was asked.
        backend: String,
    },

    /// `keychain remove` (or another key operation) named a key that is not stored.
    #[error(
        "no key stored for {provider}/{alias} (backend: {backend})",
        provider = shown(provider),
        alias = shown(alias)
    )]
    KeyNotFound {
        /// The provider id.
        provider: String,
        /// The key alias.
        alias: String,
        /// The credential backend that was asked.
        backend: String,
    },

    /// A key is already stored under this name, and the call did not ask to replace it.
    #[error(
        "a key is already stored for {provider}/{alias}",
        provider = shown(provider),
        alias = shown(alias)
    )]
    KeyExists {
        /// The provider id.
        provider: String,
        /// The key alias.
        alias: String,
    },

    /// Creating a profile with a key, when a different key is stored under its key alias
    /// (which other profiles may share): the stored one is not overwritten.
    #[error(
        "a different key is already stored for {provider}/{alias}",
        provider = shown(provider),
        alias = shown(alias)
    )]
    KeyAliasTaken {
        /// The provider id.
        provider: String,
        /// The key alias.
        alias: String,
    },

    /// The key is still in the credentials file, but the configured backend is the keychain.
    #[error(
        "the key for {provider}/{alias} is in {file} but the credential backend is the system keychain", file = file.display()
    )]
    KeyNotMigrated {
        /// The provider id.
        provider: String,
        /// The key alias.
        alias: String,
        /// The credentials file that holds it.
        file: PathBuf,
    },

    /// The OS keychain cannot be reached at all (no D-Bus session, no Secret Service, no
    /// default keyring).
    #[error("the system keychain is not available: {reason}; {fix}")]
    KeychainUnavailable {
        /// Why, as specifically as the platform says.
        reason: String,
        /// What to do about it on this platform.
        fix: String,
    },

    /// The OS keychain is there but locked, and unlocking it was refused or impossible here.
    #[error(
        "the system keychain is locked, so {what} cannot be read or written ({detail}); unlock it (log in to your desktop session, or open Passwords and Keys; headless: `gnome-keyring-daemon --replace --unlock` with the password on stdin) and run the command again"
    )]
    KeychainLocked {
        /// What was being accessed (`anthropic/work`, `the key list`).
        what: String,
        /// The platform's own words.
        detail: String,
    },

    /// A file ringlet reads could not be parsed.
    #[error("{path}{location}: {message}", path = path.display(), location = line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },

    /// A file has permissions that would expose secrets.
    #[error("{path} has mode {mode:o}, which lets other users read it; fix it with `chmod 600 {path}`", path = path.display())]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its current permission bits.
        mode: u32,
    },

    /// A Rhai config script failed.
    #[error("config script {script} failed: {message}")]
    Script {
        /// Which script (file path or built-in name).
        script: String,
        /// What went wrong, including the script position when known.
        message: String,
    },

    /// A credential backend failed.
    #[error("credential store ({backend}): {message}")]
    Credential {
        /// The backend name.
        backend: String,
        /// What went wrong.
        message: String,
    },

    /// An I/O operation on a named path failed.
    #[error("{action} {path}: {source}", path = path.display())]
    Io {
        /// What was being done ("reading", "writing", …).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// Starting or waiting for the agent process failed.
    #[error("launching {program}: {source}", program = program.display())]
    Spawn {
        /// The program that was being started.
        program: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The ringlet proxy of a run could not start (docs/proxy.md).
    #[error("the ringlet proxy could not start: {message}")]
    Proxy {
        /// What went wrong and what to do about it.
        message: String,
    },

    /// The usage ledger (SQLite) could not be opened, read or written.
    #[error("usage ledger {path}: {message}", path = path.display())]
    UsageStore {
        /// The database file (`:memory:` for an in-memory ledger).
        path: PathBuf,
        /// What went wrong and what to do about it.
        message: String,
    },

    /// Downloading something (the pricing feed) failed.
    #[error("downloading {url}: {message}")]
    Download {
        /// What was being downloaded.
        url: String,
        /// What went wrong and what to do about it.
        message: String,
    },

    /// The registry refused: a bad signature, a tampered artifact, a rollback, a malformed
    /// index, or a pin whose snapshot is gone. The snapshot in use is left as it was.
    #[error("registry: {message}")]
    Registry {
        /// What was refused, why, and what stays in use.
        message: String,
    },

    /// A hook rule is invalid, or a hook failed to run.
    #[error("hook {hook}: {message}")]
    Hook {
        /// The hook id.
        hook: String,
        /// What is wrong and what to do about it.
        message: String,
    },

    /// No hook with this id exists.
    #[error("no hook with id '{id}'", id = shown(id))]
    HookNotFound {
        /// The id that was asked for.
        id: String,
    },

    /// A hook with this id exists already (adding or importing one under the same id).
    #[error("a hook with id '{id}' exists already", id = shown(id))]
    HookExists {
        /// The id that is taken.
        id: String,
    },

    /// The state that makes `cost-threshold` and `daily-rollup` fire once could not be read or
    /// written.
    #[error("hook state {path}: {message}", path = path.display())]
    HookState {
        /// The database file.
        path: PathBuf,
        /// What went wrong and what to do about it.
        message: String,
    },

    /// The OS sandbox cannot start here: bwrap is missing, or the kernel refuses it namespaces.
    /// A sandboxed run never falls back to an unsandboxed one.
    #[error("the sandbox cannot start: {reason}; {fix}")]
    SandboxUnavailable {
        /// What is missing or refused, in the platform's words where it gave some.
        reason: String,
        /// What to do about it.
        fix: String,
    },

    /// A profile has pre-tool-use hooks but agents have no way to call back into ringlet to
    /// ask them: the run is refused rather than started with its gates silently off.
    #[error(
        "profile '{alias}' has pre-tool-use hooks, but there is no ringlet program for the agent to call them through, so they could not gate its tool calls; put the `ringlet` binary on PATH (an embedding gives its path with RingletBuilder::hook_program), or remove the profile's pre-tool-use hooks",
        alias = shown(alias)
    )]
    HookTransportMissing {
        /// The profile.
        alias: String,
    },

    /// No terminal session with this id (it never existed, or it ended and its retention
    /// passed).
    #[error("no terminal session '{id}'", id = shown(id))]
    SessionNotFound {
        /// The id asked for.
        id: String,
    },

    /// No remote ringlet server with this name is configured.
    #[error("no remote named '{name}'", name = shown(name))]
    RemoteNotFound {
        /// The name asked for.
        name: String,
    },

    /// A remote with this name is already configured.
    #[error("a remote named '{name}' already exists", name = shown(name))]
    RemoteExists {
        /// The name that is taken.
        name: String,
    },

    /// No usable home/config directory could be determined.
    #[error("cannot determine where ringlet keeps its files: {0}; set RINGLET_HOME to a directory")]
    NoHome(String),
}

/// The longest piece of user input an error message repeats, in characters: a 100 KB alias is
/// shown as its first 64 characters and an ellipsis (the field keeps all of it).
pub(crate) const ECHO_MAX: usize = 64;

/// `input` as an error message repeats it: at most [`ECHO_MAX`] characters.
pub(crate) fn shown(input: &str) -> std::borrow::Cow<'_, str> {
    match input.char_indices().nth(ECHO_MAX) {
        None => input.into(),
        Some((end, _)) => format!("{}…", &input[..end]).into(),
    }
}

impl Error {
    /// [`Error::ProfileNotFound`] for `alias`, suggesting the closest of `known` (the aliases
    /// that exist) when one is close.
    pub fn profile_not_found<'a>(
        alias: impl Into<String>,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let alias = alias.into();
        let suggestion = crate::suggest::suggest(&alias, known);
        Error::ProfileNotFound { alias, suggestion }
    }

    /// The name the caller most likely meant, for a profile, agent or provider that does not
    /// exist ("did you mean 'work'?"); also in the message. `None` for other errors.
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            Error::ProfileNotFound { suggestion, .. }
            | Error::UnknownAgent { suggestion, .. }
            | Error::UnknownProvider { suggestion, .. } => suggestion.as_deref(),
            _ => None,
        }
    }

    /// Wraps an I/O error with the action and path it happened on.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// A field's value is not acceptable: `message` names the field neutrally and says why.
    pub(crate) fn invalid_field(field: Field, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field,
            message: message.into(),
            problem: FieldProblem::Invalid,
        }
    }

    /// A field the request needs was not given: `message` says why it is needed.
    pub(crate) fn missing_field(field: Field, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field,
            message: message.into(),
            problem: FieldProblem::Missing,
        }
    }

    /// `field` and `other` were both given, and only one of them can be.
    pub(crate) fn contradicting_fields(
        field: Field,
        other: Field,
        message: impl Into<String>,
    ) -> Self {
        Error::InvalidField {
            field,
            message: message.into(),
            problem: FieldProblem::Contradicts(other),
        }
    }

    /// The field an [`Error::InvalidField`] is about; `None` for every other error.
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::InvalidField { field, .. } => Some(*field),
            _ => None,
        }
    }

    /// A stable machine-readable code for this error, used by `--json` output and the bindings.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ProfileNotFound { .. } => "profile_not_found",
            Error::ProfileExists { .. } => "profile_exists",
            Error::InvalidAlias { .. } => "invalid_alias",
            Error::UnknownAgent { .. } => "unknown_agent",
            Error::UnknownProvider { .. } => "unknown_provider",
            Error::UnknownEndpoint { .. } => "unknown_endpoint",
            Error::UnknownModel { .. } => "unknown_model",
            Error::Incompatible { .. } => "incompatible",
            Error::InvalidInput(_) => "invalid_input",
            // The same error as `InvalidInput`, with the field known: every binding raises it
            // as that one, so a caller catching invalid input catches it too.
            Error::InvalidField { .. } => "invalid_input",
            Error::AgentNotInstalled { .. } => "agent_not_installed",
            Error::MissingKey { .. } => "missing_key",
            Error::KeyNotFound { .. } => "key_not_found",
            Error::KeyExists { .. } => "key_exists",
            Error::KeyAliasTaken { .. } => "key_alias_taken",
            Error::KeyNotMigrated { .. } => "key_not_migrated",
            Error::KeychainUnavailable { .. } => "keychain_unavailable",
            Error::KeychainLocked { .. } => "keychain_locked",
            Error::Parse { .. } => "parse",
            Error::InsecurePermissions { .. } => "insecure_permissions",
            Error::Script { .. } => "script",
            Error::Credential { .. } => "credential",
            Error::Io { .. } => "io",
            Error::Spawn { .. } => "spawn",
            Error::UsageStore { .. } => "usage_store",
            Error::Proxy { .. } => "proxy",
            Error::Download { .. } => "download",
            Error::Registry { .. } => "registry",
            Error::Hook { .. } => "hook",
            Error::HookNotFound { .. } => "hook_not_found",
            Error::HookExists { .. } => "hook_exists",
            Error::HookState { .. } => "hook_state",
            Error::SandboxUnavailable { .. } => "sandbox_unavailable",
            Error::HookTransportMissing { .. } => "hook_transport_missing",
            Error::SessionNotFound { .. } => "session_not_found",
            Error::RemoteNotFound { .. } => "remote_not_found",
            Error::RemoteExists { .. } => "remote_exists",
            Error::NoHome(_) => "no_home",
        }
    }

    /// Builds a [`Error::Parse`] from a TOML error, turning its byte span into a line number.
    pub(crate) fn toml(path: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        let line = err.span().map(|span| {
            let end = span.start.min(text.len());
            text.as_bytes()[..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        });
        Error::Parse {
            path: path.into(),
            line,
            message: err.message().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_input_is_echoed_at_most_64_characters() {
        let long = "a".repeat(100_000);
        for err in [
            Error::ProfileNotFound {
                alias: long.clone(),
                suggestion: None,
            },
            Error::ProfileExists {
                alias: long.clone(),
            },
            Error::InvalidAlias {
                alias: long.clone(),
                reason: "it is longer than 64 characters",
            },
            Error::UnknownAgent {
                id: long.clone(),
                known: "claude".into(),
                suggestion: None,
            },
            Error::UnknownProvider {
                id: long.clone(),
                known: "anthropic".into(),
                suggestion: None,
            },
            Error::HookNotFound { id: long.clone() },
            Error::HookExists { id: long.clone() },
            Error::KeyExists {
                provider: "anthropic".into(),
                alias: long.clone(),
            },
            Error::KeyAliasTaken {
                provider: "anthropic".into(),
                alias: long.clone(),
            },
        ] {
            let msg = err.to_string();
            assert!(msg.len() < 400, "{} bytes: {msg}", msg.len());
            assert!(msg.contains(&format!("{}…", "a".repeat(64))), "{msg}");
        }
        // Multi-byte characters are cut on a boundary; short input is kept whole.
        assert_eq!(shown(&"é".repeat(65)), format!("{}…", "é".repeat(64)));
        assert_eq!(shown("work"), "work");
        assert_eq!(shown(&"x".repeat(64)), "x".repeat(64));
    }
}
