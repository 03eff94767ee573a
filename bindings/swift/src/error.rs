//! The one place `ringlet::Error` becomes the Swift error enum.

use ringlet::{Field, Hint};

/// The class of an error: what went wrong from the caller's side (the core's
/// `ringlet::ErrorKind`). A server answers them with HTTP 404, 409, 400, 503 and 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ErrorKind {
    /// The request names something that does not exist.
    NotFound,
    /// The current state stands in the way (a name is taken, a key must be stored or moved).
    Conflict,
    /// A value given is not acceptable.
    InvalidInput,
    /// Something on this machine is missing or unreachable (the agent, the keychain, the
    /// sandbox, a download).
    Unavailable,
    /// ringlet's own files, stores or processes failed.
    Internal,
}

impl From<ringlet::ErrorKind> for ErrorKind {
    fn from(kind: ringlet::ErrorKind) -> Self {
        match kind {
            ringlet::ErrorKind::NotFound => Self::NotFound,
            ringlet::ErrorKind::Conflict => Self::Conflict,
            ringlet::ErrorKind::InvalidInput => Self::InvalidInput,
            ringlet::ErrorKind::Unavailable => Self::Unavailable,
            // Internal, and any kind the core adds before this binding knows it.
            _ => Self::Internal,
        }
    }
}

/// Errors thrown to Swift. The common cases are their own cases; everything else is `Other`
/// with the core's stable code. Every case carries the core's message (ending with the hint),
/// its `kind`, and its `hint`: the fix in Swift's terms (`pass replace: true`, not the CLI's
/// `--replace`), or nil; `kind()` and `hint()` read them whatever the case.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum RingletError {
    /// No profile with this alias exists.
    #[error("{message}")]
    ProfileNotFound {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// A profile with this alias already exists.
    #[error("{message}")]
    ProfileExists {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// The alias cannot be used as a profile name.
    #[error("{message}")]
    InvalidAlias {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// No agent or provider with this id is known.
    #[error("{message}")]
    Unknown {
        code: String,
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// A value given is not acceptable.
    #[error("{message}")]
    InvalidInput {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// The agent's binary cannot be found.
    #[error("{message}")]
    AgentNotInstalled {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// An API key is missing, not stored under that name, already stored, or not migrated.
    #[error("{message}")]
    Key {
        code: String,
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// No hook with this id exists.
    #[error("{message}")]
    HookNotFound {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// A profile with pre-tool-use hooks cannot start: the agent would have no way to ask
    /// ringlet, so its tool calls would go ungated: create the `Ringlet` with `hookProgram:`.
    #[error("{message}")]
    HookTransportMissing {
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
    /// Any other failure (I/O, keychain, scripts, the usage ledger, downloads, hooks, …): `code` is the core's stable code.
    #[error("{message}")]
    Other {
        code: String,
        message: String,
        kind: ErrorKind,
        hint: Option<String>,
    },
}

#[uniffi::export]
impl RingletError {
    /// The class of the error, whatever the case.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::ProfileNotFound { kind, .. }
            | Self::ProfileExists { kind, .. }
            | Self::InvalidAlias { kind, .. }
            | Self::Unknown { kind, .. }
            | Self::InvalidInput { kind, .. }
            | Self::AgentNotInstalled { kind, .. }
            | Self::Key { kind, .. }
            | Self::HookNotFound { kind, .. }
            | Self::HookTransportMissing { kind, .. }
            | Self::Other { kind, .. } => *kind,
        }
    }

    /// The fix in Swift's terms, whatever the case; nil when the message says it all.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ProfileNotFound { hint, .. }
            | Self::ProfileExists { hint, .. }
            | Self::InvalidAlias { hint, .. }
            | Self::Unknown { hint, .. }
            | Self::InvalidInput { hint, .. }
            | Self::AgentNotInstalled { hint, .. }
            | Self::Key { hint, .. }
            | Self::HookNotFound { hint, .. }
            | Self::HookTransportMissing { hint, .. }
            | Self::Other { hint, .. } => hint.clone(),
        }
    }
}

/// A Swift string literal for `s` (Rust's escapes, `\u{1b}` included, are Swift's).
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// A field as a Swift caller gives it: the argument label of `NewProfile` or `ProfileUpdate`.
fn label(field: Field) -> &'static str {
    match field {
        Field::Model => "model:",
        Field::Endpoint => "endpoint:",
        Field::CustomEndpoint => "customEndpoint:",
        Field::Shape => "shape:",
        Field::Env => "env:",
        Field::SetEnv => "setEnv:",
        Field::UnsetEnv => "unsetEnv:",
        Field::Args => "args:",
        Field::WorkingDir => "workingDir:",
        Field::ClearWorkingDir => "clearWorkingDir: true",
        Field::Binary => "binary:",
        Field::ClearBinary => "clearBinary: true",
        Field::Sandbox => "sandbox:",
        Field::KeyAlias => "keyAlias:",
        Field::Period => "period:",
        Field::Threshold => "threshold:",
        Field::Budget => "of:",
        Field::HookAction => "shell:, rhaiFile:, rhaiScript: or webhook:",
        Field::Webhook => "webhook:",
        Field::WebhookTemplate => "webhookTemplate:",
        Field::Tool => "\"tool_name\" in payloadJson:",
    }
}

/// The core's hint in Swift's terms: `Ringlet` methods with their argument labels, not CLI
/// commands and flags.
pub fn hint_text(hint: &Hint) -> String {
    match hint {
        Hint::ListProfiles => "see profiles()".into(),
        Hint::DeleteProfile { alias } => format!(
            "pick another alias or delete it first with deleteProfile(alias: {})",
            lit(alias)
        ),
        Hint::InstallAgent { install } => {
            format!("install it ({install}) or create the profile with NewProfile(binary:) set to its path")
        }
        Hint::SetKey { provider, alias } => format!(
            "add one with setKey(provider: {}, alias: {}, secret:)",
            lit(provider),
            lit(alias)
        ),
        Hint::ListKeys => "see listKeys()".into(),
        Hint::MigrateKeys => "move it there with migrateKeys() (or set `[credentials] backend = \"file\"` in config.toml)".into(),
        Hint::Replace => "pass replace: true to overwrite it".into(),
        Hint::ReplaceKeyOrOtherAlias { provider, alias } => format!(
            "replace it with setKey(provider: {}, alias: {}, secret:, replace: true) or choose another keyAlias",
            lit(provider),
            lit(alias)
        ),
        Hint::ListHooks => "see hooks()".into(),
        // Sessions live in a server (`SessionManager`), which this binding does not run.
        Hint::ListSessions => "list the server's sessions (GET /api/sessions)".into(),
        Hint::ListRemotes => "remotes are configured with the CLI (`ringlet remotes list`)".into(),
        Hint::RemoveHook { id } => format!(
            "remove it first with removeHook(id: {}) or pick another id",
            lit(id)
        ),
        Hint::GiveField(field) => format!("pass {}", label(*field)),
        Hint::CheckField(field) => format!("check {}", label(*field)),
        Hint::OneOfFields(a, b) => format!("pass {} or {}, not both", label(*a), label(*b)),
        // A hint this binding does not word yet: the core's (CLI) wording beats none.
        other => other.to_string(),
    }
}

impl From<ringlet::Error> for RingletError {
    fn from(err: ringlet::Error) -> Self {
        let code = err.code();
        let kind = ErrorKind::from(err.kind());
        let hint = err.hint().map(|h| hint_text(&h));
        // The source (an I/O error, …) is part of the message: Swift errors have no cause chain.
        let mut message = match std::error::Error::source(&err) {
            Some(source) if !err.to_string().contains(&source.to_string()) => {
                format!("{err}: {source}")
            }
            _ => err.to_string(),
        };
        if let Some(h) = &hint {
            message = format!("{message}; {h}");
        }
        match code {
            "profile_not_found" => Self::ProfileNotFound {
                message,
                kind,
                hint,
            },
            "profile_exists" => Self::ProfileExists {
                message,
                kind,
                hint,
            },
            "invalid_alias" => Self::InvalidAlias {
                message,
                kind,
                hint,
            },
            "unknown_agent" | "unknown_provider" | "unknown_endpoint" | "unknown_model" => {
                Self::Unknown {
                    code: code.into(),
                    message,
                    kind,
                    hint,
                }
            }
            "invalid_input" => Self::InvalidInput {
                message,
                kind,
                hint,
            },
            "agent_not_installed" => Self::AgentNotInstalled {
                message,
                kind,
                hint,
            },
            "missing_key" | "key_not_found" | "key_exists" | "key_alias_taken"
            | "key_not_migrated" => Self::Key {
                code: code.into(),
                message,
                kind,
                hint,
            },
            "hook_not_found" => Self::HookNotFound {
                message,
                kind,
                hint,
            },
            "hook_transport_missing" => Self::HookTransportMissing {
                message,
                kind,
                hint,
            },
            _ => Self::Other {
                code: code.into(),
                message,
                kind,
                hint,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An embedder catches the fail-closed refusal by its case, to create the `Ringlet` with
    /// `hookProgram:`.
    #[test]
    fn a_missing_hook_transport_is_its_own_case() {
        let err = RingletError::from(ringlet::Error::HookTransportMissing {
            alias: "gated".into(),
        });
        assert!(
            matches!(&err, RingletError::HookTransportMissing { .. }),
            "{err:?}"
        );
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert!(err.to_string().contains("'gated'"), "{err}");
    }

    #[test]
    fn every_case_carries_the_kind_and_a_swift_worded_hint() {
        let err = RingletError::from(ringlet::Error::KeyExists {
            provider: "minimax".into(),
            alias: "k".into(),
        });
        assert!(matches!(&err, RingletError::Key { code, .. } if code == "key_exists"));
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(
            err.hint().as_deref(),
            Some("pass replace: true to overwrite it")
        );
        assert_eq!(
            err.to_string(),
            "a key is already stored for minimax/k; pass replace: true to overwrite it"
        );

        let err = RingletError::from(ringlet::Error::ProfileExists {
            alias: "work".into(),
        });
        assert!(matches!(err, RingletError::ProfileExists { .. }));
        assert_eq!(
            err.hint().as_deref(),
            Some("pick another alias or delete it first with deleteProfile(alias: \"work\")")
        );

        let err = RingletError::from(ringlet::Error::io(
            "reading",
            "/x",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        ));
        assert!(matches!(&err, RingletError::Other { code, .. } if code == "io"));
        assert_eq!((err.kind(), err.hint()), (ErrorKind::Internal, None));
        // A field is named by its argument label, never by a CLI flag; it is an InvalidInput.
        let err = RingletError::from(ringlet::Error::InvalidField {
            field: Field::Model,
            message: "provider 'custom' has no default model".into(),
            problem: ringlet::FieldProblem::Missing,
        });
        assert!(matches!(err, RingletError::InvalidInput { .. }));
        assert_eq!(err.hint().as_deref(), Some("pass model:"));
        assert_eq!(
            err.to_string(),
            "provider 'custom' has no default model; pass model:"
        );
        assert_eq!(
            hint_text(&Hint::OneOfFields(
                Field::WorkingDir,
                Field::ClearWorkingDir
            )),
            "pass workingDir: or clearWorkingDir: true, not both"
        );
        for field in Field::ALL {
            assert!(!label(field).contains("--"), "{field}");
        }
    }
}
