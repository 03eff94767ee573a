//! What a frontend needs to present an [`Error`] in its own terms: its [`ErrorKind`] (the HTTP
//! status class a server answers with, the exception family a binding raises) and its [`Hint`]
//! (the next step, which each frontend words for its own callers: the CLI names a command or a
//! flag, Python a method and a keyword argument).
//!
//! The message ([`Error`]'s `Display`) holds what is true in every frontend, including advice
//! that is not about a frontend (`chmod 600 …`, a `config.toml` key, an install command). A hint
//! holds only the step whose wording depends on the frontend, so it is never part of the
//! message: the CLI prints `message; hint`, and a Python caller is told `replace=True`, not
//! `--replace`.

use std::fmt;

use crate::error::{Error, shown};

/// The class of an [`Error`]: what went wrong from the caller's side, independent of which
/// variant says it. Stable; a server maps it to an HTTP status with
/// [`http_status`](Self::http_status), the bindings to an exception family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request names something that does not exist: a profile, key, hook, agent or
    /// provider (HTTP 404).
    NotFound,
    /// The request is well-formed but the current state stands in its way: the alias or key is
    /// taken, or a key the run needs is not stored where it must be. Changing that state (not
    /// the request) and retrying works (HTTP 409).
    Conflict,
    /// A value in the request is not acceptable; the message says which and why (HTTP 400).
    InvalidInput,
    /// Something the request needs on this machine is missing or not reachable right now: the
    /// agent's binary, the keychain, the sandbox, a download (HTTP 503).
    Unavailable,
    /// ringlet's own files, stores or processes failed: I/O, a damaged file, the usage ledger,
    /// a config script. Nothing the caller sent is at fault (HTTP 500).
    Internal,
}

impl ErrorKind {
    /// Every kind, for tables and exhaustive tests.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::InvalidInput,
        ErrorKind::Unavailable,
        ErrorKind::Internal,
    ];

    /// The HTTP status a server answers an error of this kind with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::InvalidInput => 400,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// A stable machine-readable name (`not_found`, `conflict`, `invalid_input`,
    /// `unavailable`, `internal`), used by `--json` output and the bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field of a request: a setting of [`NewProfile`](crate::NewProfile) or
/// [`ProfileUpdate`](crate::ProfileUpdate) or [`NewHook`](crate::NewHook) that an [`Error::InvalidField`] is about. Each
/// frontend names it as its callers spell it (`--working-dir`, `working_dir=`, `workingDir`,
/// `workingDir:`) in one `match` in its error mapping.
///
/// Deliberately not `#[non_exhaustive]`: every frontend is in this workspace, and a field they
/// did not name would reach a caller in another frontend's spelling. A new field is one variant
/// here, and the build then fails in each frontend until its `match` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The model.
    Model,
    /// A named endpoint of the provider.
    Endpoint,
    /// A custom base URL.
    CustomEndpoint,
    /// The wire shape a custom endpoint serves.
    Shape,
    /// The environment variables of a new profile.
    Env,
    /// Environment variables an update adds or replaces.
    SetEnv,
    /// Environment variables an update removes.
    UnsetEnv,
    /// The agent's default arguments.
    Args,
    /// The directory the agent starts in.
    WorkingDir,
    /// Clearing the working directory (an update).
    ClearWorkingDir,
    /// The agent binary to run.
    Binary,
    /// Clearing the binary (an update).
    ClearBinary,
    /// When runs are sandboxed.
    Sandbox,
    /// The alias the API key is stored under.
    KeyAlias,
    /// A cost-threshold hook's period (`day` or `month`).
    Period,
    /// A cost-threshold hook's threshold, in USD.
    Threshold,
    /// The budget a cost-threshold hook's threshold is part of (`of`), in USD.
    Budget,
    /// A hook's action: a shell command, a Rhai script (file or text) or a webhook.
    HookAction,
    /// A hook's webhook URL.
    Webhook,
    /// A webhook hook's body template.
    WebhookTemplate,
    /// The tool a hook test pretends the agent called.
    Tool,
}

impl Field {
    /// Every field, for tables and exhaustive tests.
    pub const ALL: [Field; 21] = [
        Field::Model,
        Field::Endpoint,
        Field::CustomEndpoint,
        Field::Shape,
        Field::Env,
        Field::SetEnv,
        Field::UnsetEnv,
        Field::Args,
        Field::WorkingDir,
        Field::ClearWorkingDir,
        Field::Binary,
        Field::ClearBinary,
        Field::Sandbox,
        Field::KeyAlias,
        Field::Period,
        Field::Threshold,
        Field::Budget,
        Field::HookAction,
        Field::Webhook,
        Field::WebhookTemplate,
        Field::Tool,
    ];

    /// The field's name in the Rust API (`model`, `custom_endpoint`, `clear_working_dir`):
    /// stable, and the `field` a server reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Model => "model",
            Field::Endpoint => "endpoint",
            Field::CustomEndpoint => "custom_endpoint",
            Field::Shape => "shape",
            Field::Env => "env",
            Field::SetEnv => "set_env",
            Field::UnsetEnv => "unset_env",
            Field::Args => "args",
            Field::WorkingDir => "working_dir",
            Field::ClearWorkingDir => "clear_working_dir",
            Field::Binary => "binary",
            Field::ClearBinary => "clear_binary",
            Field::Sandbox => "sandbox",
            Field::KeyAlias => "key_alias",
            Field::Period => "period",
            Field::Threshold => "threshold",
            Field::Budget => "of",
            Field::HookAction => "action",
            Field::Webhook => "webhook",
            Field::WebhookTemplate => "webhook_template",
            Field::Tool => "tool",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with the field of an [`Error::InvalidField`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldProblem {
    /// The request needs it and did not give it.
    Missing,
    /// The value given is not acceptable.
    Invalid,
    /// It was given together with this other field, and only one of them can be.
    Contradicts(Field),
}

/// The next step for an [`Error`], as data: each frontend words it for its callers. `Display`
/// gives the CLI's wording (`pass --replace to overwrite it`); the bindings word the ones that
/// name a command or flag themselves and may fall back to `Display` for a hint they do not know
/// yet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// See which profiles exist.
    ListProfiles,
    /// Pick another alias, or delete the profile that has this one.
    DeleteProfile {
        /// The alias that is taken.
        alias: String,
    },
    /// Install the agent, or give the profile the path of its binary.
    InstallAgent {
        /// The agent's own install instructions (`npm install -g …`), the same everywhere.
        install: String,
    },
    /// Store the API key the profile needs.
    SetKey {
        /// The provider id.
        provider: String,
        /// The key alias.
        alias: String,
    },
    /// See which keys are stored.
    ListKeys,
    /// Move the keys from the credentials file into the keychain (or keep using the file).
    MigrateKeys,
    /// Ask again with the call's replace option, to overwrite what is there.
    Replace,
    /// Overwrite the key stored under this name, or give the profile another key alias.
    ReplaceKeyOrOtherAlias {
        /// The provider id.
        provider: String,
        /// The key alias that holds a different key.
        alias: String,
    },
    /// See which hooks exist.
    ListHooks,
    /// Remove the hook that has this id, or use another id.
    RemoveHook {
        /// The id that is taken.
        id: String,
    },
    /// See which terminal sessions the server has.
    ListSessions,
    /// See which remotes are configured.
    ListRemotes,
    /// Give this field: the request needs it.
    GiveField(Field),
    /// Give this field another value.
    CheckField(Field),
    /// Give one of these fields, not both.
    OneOfFields(Field, Field),
}

/// The CLI's wording, except for the field hints ([`Hint::GiveField`], …): those name the
/// field as the Rust API does (`` give `model` ``), and each frontend, the CLI included, words
/// them with its own spelling of the field (`pass --model`).
impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hint::ListProfiles => f.write_str("see `ringlet profiles list`"),
            Hint::DeleteProfile { alias } => write!(
                f,
                "pick another alias or delete it first with `ringlet profiles delete {alias}`"
            ),
            Hint::InstallAgent { install } => write!(
                f,
                "install it ({install}) or set a binary path with `--binary`"
            ),
            Hint::SetKey { provider, alias } => {
                write!(f, "add one with `ringlet keychain set {provider} {alias}`")
            }
            Hint::ListKeys => f.write_str("see `ringlet keychain list`"),
            Hint::MigrateKeys => f.write_str(
                "move it there with `ringlet keychain migrate` (or set `[credentials] backend = \"file\"` in config.toml)",
            ),
            Hint::Replace => f.write_str("pass --replace to overwrite it"),
            Hint::ReplaceKeyOrOtherAlias { provider, alias } => write!(
                f,
                "replace it with `ringlet keychain set {provider} {alias} --replace` or choose another --key-alias"
            ),
            Hint::ListHooks => f.write_str("see `ringlet hooks list`"),
            Hint::ListSessions => f.write_str("see `ringlet remotes sessions NAME`"),
            Hint::ListRemotes => f.write_str(
                "see `ringlet remotes list`, or add one with `ringlet remotes add NAME --url URL`",
            ),
            Hint::RemoveHook { id } => write!(
                f,
                "remove it first with `ringlet hooks remove {id}` or pick another id"
            ),
            Hint::GiveField(field) => write!(f, "give `{field}`"),
            Hint::CheckField(field) => write!(f, "check `{field}`"),
            Hint::OneOfFields(a, b) => write!(f, "give `{a}` or `{b}`, not both"),
        }
    }
}

impl Error {
    /// The class of this error; see [`ErrorKind`].
    pub fn kind(&self) -> ErrorKind {
        use ErrorKind::*;
        match self {
            Error::ProfileNotFound { .. }
            | Error::KeyNotFound { .. }
            | Error::HookNotFound { .. }
            | Error::SessionNotFound { .. }
            | Error::RemoteNotFound { .. }
            // Asked for by id (`agent("x")`) or named in a request (`create_profile`): either
            // way the catalogue has no such entry.
            | Error::UnknownAgent { .. }
            | Error::UnknownProvider { .. }
            | Error::UnknownEndpoint { .. }
            | Error::UnknownModel { .. } => NotFound,
            Error::ProfileExists { .. }
            | Error::KeyExists { .. }
            | Error::KeyAliasTaken { .. }
            | Error::HookExists { .. }
            | Error::RemoteExists { .. }
            // The profile is fine; the key store must change first (store the key, migrate
            // it), then the same request succeeds.
            | Error::MissingKey { .. }
            | Error::KeyNotMigrated { .. } => Conflict,
            Error::InvalidAlias { .. }
            | Error::Incompatible { .. }
            | Error::InvalidInput(_)
            | Error::InvalidField { .. }
            // Rule validation and the `--rhai` script check at add/import time.
            | Error::Hook { .. } => InvalidInput,
            Error::AgentNotInstalled { .. }
            | Error::KeychainUnavailable { .. }
            | Error::KeychainLocked { .. }
            | Error::SandboxUnavailable { .. }
            // Gates exist but nothing on this machine can carry the agent's call to them.
            | Error::HookTransportMissing { .. }
            // No port to listen on, or no runtime: this machine, not the input.
            | Error::Proxy { .. }
            | Error::Download { .. }
            // The registry's content cannot be trusted now; what is in use stays.
            | Error::Registry { .. } => Unavailable,
            // ringlet's own files and stores: config, manifests, profiles and the credentials
            // file (`Parse`, `InsecurePermissions`), config scripts, the ledgers, processes.
            Error::Parse { .. }
            | Error::InsecurePermissions { .. }
            | Error::Script { .. }
            | Error::Credential { .. }
            | Error::Io { .. }
            | Error::Spawn { .. }
            | Error::UsageStore { .. }
            | Error::HookState { .. }
            | Error::NoHome(_) => Internal,
        }
    }

    /// The next step whose wording depends on the frontend, if there is one; the message
    /// (`Display`) does not contain it. The CLI prints `message; hint`. Input the hint repeats
    /// (an alias, an id) is cut as the message cuts it, to 64 characters and `…`: the error's
    /// own fields keep all of it.
    pub fn hint(&self) -> Option<Hint> {
        let cut = |s: &str| shown(s).into_owned();
        Some(match self {
            Error::ProfileNotFound { .. } => Hint::ListProfiles,
            Error::ProfileExists { alias } => Hint::DeleteProfile { alias: cut(alias) },
            Error::AgentNotInstalled { install, .. } => Hint::InstallAgent {
                install: install.clone(),
            },
            Error::MissingKey {
                provider, alias, ..
            } => Hint::SetKey {
                provider: cut(provider),
                alias: cut(alias),
            },
            Error::KeyNotFound { .. } => Hint::ListKeys,
            Error::KeyNotMigrated { .. } => Hint::MigrateKeys,
            Error::KeyExists { .. } => Hint::Replace,
            Error::KeyAliasTaken { provider, alias } => Hint::ReplaceKeyOrOtherAlias {
                provider: cut(provider),
                alias: cut(alias),
            },
            Error::HookNotFound { .. } => Hint::ListHooks,
            Error::HookExists { id } => Hint::RemoveHook { id: cut(id) },
            Error::SessionNotFound { .. } => Hint::ListSessions,
            Error::RemoteNotFound { .. } => Hint::ListRemotes,
            Error::RemoteExists { .. } => Hint::Replace,
            Error::InvalidField { field, problem, .. } => match problem {
                FieldProblem::Missing => Hint::GiveField(*field),
                FieldProblem::Invalid => Hint::CheckField(*field),
                FieldProblem::Contradicts(other) => Hint::OneOfFields(*field, *other),
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    fn io() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::PermissionDenied)
    }

    /// One error of every variant, with its expected kind. The `match` in `variant_is_listed`
    /// has no wildcard, so a new variant does not compile until it is added here.
    fn every_variant() -> Vec<(Error, ErrorKind)> {
        use ErrorKind::*;
        let s = |v: &str| v.to_string();
        vec![
            (
                Error::ProfileNotFound {
                    alias: s("w"),
                    suggestion: None,
                },
                NotFound,
            ),
            (Error::ProfileExists { alias: s("w") }, Conflict),
            (
                Error::InvalidAlias {
                    alias: s(".x"),
                    reason: "it starts with '.'",
                },
                InvalidInput,
            ),
            (
                Error::UnknownAgent {
                    id: s("clod"),
                    known: s("claude"),
                    suggestion: None,
                },
                NotFound,
            ),
            (
                Error::UnknownProvider {
                    id: s("p"),
                    known: s("anthropic"),
                    suggestion: None,
                },
                NotFound,
            ),
            (
                Error::UnknownModel {
                    model: s("sonnet-9"),
                    present: s("claude-sonnet-4-5"),
                },
                NotFound,
            ),
            (
                Error::UnknownEndpoint {
                    provider: s("minimax"),
                    endpoint: s("mars"),
                    known: s("china"),
                },
                NotFound,
            ),
            (
                Error::Incompatible {
                    agent: s("codex"),
                    provider: s("anthropic"),
                    speaks: s("openai-responses"),
                    serves: s("anthropic"),
                    compatible: s("openai"),
                },
                InvalidInput,
            ),
            (Error::InvalidInput(s("bad")), InvalidInput),
            (
                Error::missing_field(Field::Model, "provider 'p' has no default model"),
                InvalidInput,
            ),
            (
                Error::AgentNotInstalled {
                    agent: s("claude"),
                    binary: s("claude"),
                    searched: s("PATH (/bin)"),
                    install: s("npm install -g x"),
                },
                Unavailable,
            ),
            (
                Error::MissingKey {
                    provider: s("anthropic"),
                    alias: s("w"),
                    backend: s("file"),
                },
                Conflict,
            ),
            (
                Error::KeyNotFound {
                    provider: s("anthropic"),
                    alias: s("w"),
                    backend: s("file"),
                },
                NotFound,
            ),
            (
                Error::KeyExists {
                    provider: s("anthropic"),
                    alias: s("w"),
                },
                Conflict,
            ),
            (
                Error::KeyAliasTaken {
                    provider: s("anthropic"),
                    alias: s("w"),
                },
                Conflict,
            ),
            (
                Error::KeyNotMigrated {
                    provider: s("anthropic"),
                    alias: s("w"),
                    file: PathBuf::from("/c/credentials.toml"),
                },
                Conflict,
            ),
            (
                Error::KeychainUnavailable {
                    reason: s("no D-Bus"),
                    fix: s("start one"),
                },
                Unavailable,
            ),
            (
                Error::KeychainLocked {
                    what: s("anthropic/w"),
                    detail: s("locked"),
                },
                Unavailable,
            ),
            (
                Error::Parse {
                    path: PathBuf::from("/c/config.toml"),
                    line: Some(2),
                    message: s("bad"),
                },
                Internal,
            ),
            (
                Error::InsecurePermissions {
                    path: PathBuf::from("/c/credentials.toml"),
                    mode: 0o644,
                },
                Internal,
            ),
            (
                Error::Script {
                    script: s("x.rhai"),
                    message: s("bad"),
                },
                Internal,
            ),
            (
                Error::Credential {
                    backend: s("file"),
                    message: s("bad"),
                },
                Internal,
            ),
            (Error::io("reading", "/x", io()), Internal),
            (
                Error::Spawn {
                    program: PathBuf::from("/bin/claude"),
                    source: io(),
                },
                Internal,
            ),
            (
                Error::UsageStore {
                    path: PathBuf::from("/d/usage.db"),
                    message: s("locked"),
                },
                Internal,
            ),
            (
                Error::Download {
                    url: s("https://x"),
                    message: s("timed out"),
                },
                Unavailable,
            ),
            (
                Error::Registry {
                    message: s("bad signature"),
                },
                Unavailable,
            ),
            (
                Error::Hook {
                    hook: s("h1"),
                    message: s("bad"),
                },
                InvalidInput,
            ),
            (Error::HookNotFound { id: s("h1") }, NotFound),
            (Error::HookExists { id: s("h1") }, Conflict),
            (
                Error::HookState {
                    path: PathBuf::from("/d/hooks.db"),
                    message: s("bad"),
                },
                Internal,
            ),
            (
                Error::SandboxUnavailable {
                    reason: s("bwrap missing"),
                    fix: s("install bubblewrap"),
                },
                Unavailable,
            ),
            (Error::HookTransportMissing { alias: s("w") }, Unavailable),
            (Error::SessionNotFound { id: s("s1") }, NotFound),
            (Error::RemoteNotFound { name: s("box") }, NotFound),
            (Error::RemoteExists { name: s("box") }, Conflict),
            (Error::NoHome(s("no HOME")), Internal),
        ]
    }

    /// Fails to compile when a variant is added without a row in [`every_variant`] (there is
    /// no wildcard arm), and fails at run time when a row is missing for a listed variant.
    fn variant_is_listed(e: &Error) -> &'static str {
        match e {
            Error::ProfileNotFound { .. } => "ProfileNotFound",
            Error::ProfileExists { .. } => "ProfileExists",
            Error::InvalidAlias { .. } => "InvalidAlias",
            Error::UnknownAgent { .. } => "UnknownAgent",
            Error::UnknownProvider { .. } => "UnknownProvider",
            Error::UnknownEndpoint { .. } => "UnknownEndpoint",
            Error::UnknownModel { .. } => "UnknownModel",
            Error::Incompatible { .. } => "Incompatible",
            Error::InvalidInput(_) => "InvalidInput",
            Error::InvalidField { .. } => "InvalidField",
            Error::AgentNotInstalled { .. } => "AgentNotInstalled",
            Error::MissingKey { .. } => "MissingKey",
            Error::KeyNotFound { .. } => "KeyNotFound",
            Error::KeyExists { .. } => "KeyExists",
            Error::KeyAliasTaken { .. } => "KeyAliasTaken",
            Error::KeyNotMigrated { .. } => "KeyNotMigrated",
            Error::KeychainUnavailable { .. } => "KeychainUnavailable",
            Error::KeychainLocked { .. } => "KeychainLocked",
            Error::Parse { .. } => "Parse",
            Error::InsecurePermissions { .. } => "InsecurePermissions",
            Error::Script { .. } => "Script",
            Error::Credential { .. } => "Credential",
            Error::Io { .. } => "Io",
            Error::Spawn { .. } => "Spawn",
            Error::UsageStore { .. } => "UsageStore",
            Error::Proxy { .. } => "Proxy",
            Error::Download { .. } => "Download",
            Error::Registry { .. } => "Registry",
            Error::Hook { .. } => "Hook",
            Error::HookNotFound { .. } => "HookNotFound",
            Error::HookExists { .. } => "HookExists",
            Error::HookState { .. } => "HookState",
            Error::SandboxUnavailable { .. } => "SandboxUnavailable",
            Error::HookTransportMissing { .. } => "HookTransportMissing",
            Error::SessionNotFound { .. } => "SessionNotFound",
            Error::RemoteNotFound { .. } => "RemoteNotFound",
            Error::RemoteExists { .. } => "RemoteExists",
            Error::NoHome(_) => "NoHome",
        }
    }

    /// How many variants [`Error`] has: each has exactly one `#[error(...)]` attribute.
    fn variant_count() -> usize {
        include_str!("error.rs").matches("\n    #[error(").count()
    }

    #[test]
    fn every_variant_has_its_kind_and_a_distinct_code() {
        let table = every_variant();
        let variants = variant_count();
        let names: BTreeSet<_> = table.iter().map(|(e, _)| variant_is_listed(e)).collect();
        assert_eq!(names.len(), table.len(), "a variant is listed twice");
        assert_eq!(names.len(), variants, "a variant has no row: {names:?}");
        let codes: BTreeSet<_> = table.iter().map(|(e, _)| e.code()).collect();
        // `InvalidField` is `InvalidInput` with the field known, and shares its code.
        assert_eq!(codes.len(), variants - 1, "two variants share a code");
        assert_eq!(
            Error::invalid_field(Field::Model, "bad").code(),
            Error::InvalidInput("bad".into()).code()
        );
        for (err, kind) in &table {
            assert_eq!(err.kind(), *kind, "{}: {err}", variant_is_listed(err));
        }
        // Every kind is used by some variant.
        let used: BTreeSet<_> = table.iter().map(|(e, _)| e.kind().as_str()).collect();
        assert_eq!(used.len(), ErrorKind::ALL.len(), "{used:?}");
    }

    #[test]
    fn kinds_map_to_http_statuses_and_stable_names() {
        let got: Vec<_> = ErrorKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.http_status()))
            .collect();
        assert_eq!(
            got,
            [
                ("not_found", 404),
                ("conflict", 409),
                ("invalid_input", 400),
                ("unavailable", 503),
                ("internal", 500),
            ]
        );
        assert_eq!(ErrorKind::Conflict.to_string(), "conflict");
    }

    /// The message holds no CLI command or flag; the hint does, in the CLI's wording, and
    /// `message; hint` is the line users have always seen.
    #[test]
    fn cli_wording_lives_in_the_hint_not_the_message() {
        for (err, _) in every_variant() {
            let message = err.to_string();
            let cli_words = ["`ringlet ", "--replace", "--binary", "--key-alias"];
            if let Some(hint) = err.hint() {
                assert!(
                    !cli_words.iter().any(|w| message.contains(w)),
                    "{}: the message names the CLI: {message}",
                    variant_is_listed(&err)
                );
                assert!(!hint.to_string().is_empty());
            }
        }
        let line = |e: Error| match e.hint() {
            Some(h) => format!("{e}; {h}"),
            None => e.to_string(),
        };
        let s = |v: &str| v.to_string();
        assert_eq!(
            line(Error::ProfileExists { alias: s("work") }),
            "profile 'work' already exists; pick another alias or delete it first with `ringlet profiles delete work`"
        );
        assert_eq!(
            line(Error::MissingKey {
                provider: s("anthropic"),
                alias: s("w"),
                backend: s("file")
            }),
            "no API key stored for anthropic/w (backend: file); add one with `ringlet keychain set anthropic w`"
        );
        assert_eq!(
            line(Error::KeyExists {
                provider: s("minimax"),
                alias: s("k")
            }),
            "a key is already stored for minimax/k; pass --replace to overwrite it"
        );
        assert_eq!(
            line(Error::AgentNotInstalled {
                agent: s("claude"),
                binary: s("claude"),
                searched: s("PATH (/nonexistent)"),
                install: s("npm install -g @anthropic-ai/claude-code@latest"),
            }),
            "agent 'claude' is not installed: 'claude' was not found in PATH (/nonexistent); install it (npm install -g @anthropic-ai/claude-code@latest) or set a binary path with `--binary`"
        );
        assert_eq!(
            line(Error::KeyNotMigrated {
                provider: s("anthropic"),
                alias: s("w"),
                file: PathBuf::from("/c/credentials.toml"),
            }),
            "the key for anthropic/w is in /c/credentials.toml but the credential backend is the system keychain; move it there with `ringlet keychain migrate` (or set `[credentials] backend = \"file\"` in config.toml)"
        );
        assert_eq!(
            line(Error::InvalidInput(s("bad"))),
            "bad",
            "no hint, no suffix"
        );
    }

    /// A field error's hint says what to do with the field; its `Display` (a frontend's
    /// fallback) names the field as the Rust API does, never as a CLI flag.
    #[test]
    fn field_errors_hint_at_the_field() {
        let cases = [
            (
                Error::missing_field(Field::Model, "provider 'p' has no default model"),
                Hint::GiveField(Field::Model),
                "give `model`",
            ),
            (
                Error::invalid_field(Field::WorkingDir, "working directory /x is not a directory"),
                Hint::CheckField(Field::WorkingDir),
                "check `working_dir`",
            ),
            (
                Error::contradicting_fields(Field::Binary, Field::ClearBinary, "both"),
                Hint::OneOfFields(Field::Binary, Field::ClearBinary),
                "give `binary` or `clear_binary`, not both",
            ),
        ];
        for (err, hint, shown) in cases {
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert_eq!(err.code(), "invalid_input");
            assert_eq!(err.hint().as_ref(), Some(&hint));
            assert_eq!(hint.to_string(), shown);
        }
        assert_eq!(
            Error::invalid_field(Field::Shape, "x").field(),
            Some(Field::Shape)
        );
        assert_eq!(Error::InvalidInput("x".into()).field(), None);
        // Names are distinct, and `ALL` lists each field once.
        let names: BTreeSet<_> = Field::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(names.len(), Field::ALL.len());
    }

    /// Taken names are conflicts with their own codes (they were `invalid_input` with the CLI's
    /// fix in the text), and the CLI wording is only in the hint.
    #[test]
    fn the_facade_reports_taken_names_as_conflicts() {
        use std::sync::Arc;

        use crate::{CredentialKey, MemoryCredentialStore, NewHook, NewProfile, Ringlet, Secret};

        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = Ringlet::builder()
            .home(dir.path())
            .credential_store(Arc::new(MemoryCredentialStore::new()))
            .build()
            .expect("build");
        let key = CredentialKey::new("minimax", "k");
        ringlet
            .set_key(&key, &Secret::new("sk-one"), false)
            .expect("first key");

        let err = ringlet
            .set_key(&key, &Secret::new("sk-two"), false)
            .expect_err("taken");
        assert_eq!(
            (err.code(), err.kind(), err.hint()),
            ("key_exists", ErrorKind::Conflict, Some(Hint::Replace))
        );
        assert_eq!(err.to_string(), "a key is already stored for minimax/k");
        ringlet
            .set_key(&key, &Secret::new("sk-two"), true)
            .expect("replace");

        let req = NewProfile::new("claude", "p", "minimax")
            .model("MiniMax-M2")
            .key_alias("k");
        let err = ringlet
            .create_profile(&req, Some(&Secret::new("sk-three")))
            .expect_err("a different key under k");
        assert_eq!(
            (err.code(), err.kind()),
            ("key_alias_taken", ErrorKind::Conflict)
        );
        assert_eq!(
            format!("{err}; {}", err.hint().expect("hint")),
            "a different key is already stored for minimax/k; replace it with `ringlet keychain set minimax k --replace` or choose another --key-alias"
        );

        let hook = ringlet
            .add_hook(&NewHook {
                event: "stop".into(),
                shell: Some("echo one".into()),
                ..NewHook::default()
            })
            .expect("hook");
        let changed = ringlet
            .export_hooks()
            .expect("export")
            .replace("echo one", "echo two");
        let err = ringlet.import_hooks(&changed).expect_err("same id");
        assert_eq!(
            (err.code(), err.kind(), err.hint()),
            (
                "hook_exists",
                ErrorKind::Conflict,
                Some(Hint::RemoveHook {
                    id: hook.rule.id.clone()
                })
            )
        );
        assert_eq!(
            format!("{err}; {}", err.hint().expect("hint")),
            format!(
                "a hook with id '{0}' exists already; remove it first with `ringlet hooks remove {0}` or pick another id",
                hook.rule.id
            )
        );
    }

    /// A hint repeats input no longer than the message does.
    #[test]
    fn hints_cut_long_input_as_messages_do() {
        let long = "a".repeat(100_000);
        let cut = format!("{}…", "a".repeat(64));
        for err in [
            Error::ProfileExists {
                alias: long.clone(),
            },
            Error::MissingKey {
                provider: long.clone(),
                alias: long.clone(),
                backend: "file".into(),
            },
            Error::KeyAliasTaken {
                provider: long.clone(),
                alias: long.clone(),
            },
            Error::HookExists { id: long.clone() },
        ] {
            let hint = err.hint().expect("a hint").to_string();
            assert!(hint.len() < 400, "{} bytes: {hint}", hint.len());
            assert!(hint.contains(&cut), "{hint}");
        }
    }

    #[test]
    fn sources_are_kept() {
        use std::error::Error as _;
        let err = Error::io("reading", "/x", io());
        assert_eq!(err.kind(), ErrorKind::Internal);
        let source = err.source().expect("the io::Error is the source");
        assert_eq!(
            source
                .downcast_ref::<std::io::Error>()
                .expect("an io::Error")
                .kind(),
            std::io::ErrorKind::PermissionDenied
        );
    }
}
