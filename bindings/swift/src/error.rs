//! The one place `ringlet::Error` becomes the Swift error enum.

/// Errors thrown to Swift. The common cases are their own cases; everything else is `Other`
/// with the core's stable code. Every case carries the core's message, which says what to do.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum RingletError {
    /// No profile with this alias exists.
    #[error("{message}")]
    ProfileNotFound { message: String },
    /// A profile with this alias already exists.
    #[error("{message}")]
    ProfileExists { message: String },
    /// The alias cannot be used as a profile name.
    #[error("{message}")]
    InvalidAlias { message: String },
    /// No agent or provider with this id is known.
    #[error("{message}")]
    Unknown { code: String, message: String },
    /// A value given is not acceptable.
    #[error("{message}")]
    InvalidInput { message: String },
    /// The agent's binary cannot be found.
    #[error("{message}")]
    AgentNotInstalled { message: String },
    /// An API key is missing or not stored under that name.
    #[error("{message}")]
    Key { code: String, message: String },
    /// No hook with this id exists.
    #[error("{message}")]
    HookNotFound { message: String },
    /// Any other failure (I/O, keychain, scripts, the usage ledger, downloads, hooks, …): `code` is the core's stable code.
    #[error("{message}")]
    Other { code: String, message: String },
}

impl From<ringlet::Error> for RingletError {
    fn from(err: ringlet::Error) -> Self {
        let code = err.code();
        // The source (an I/O error, …) is part of the message: Swift errors have no cause chain.
        let message = match std::error::Error::source(&err) {
            Some(source) if !err.to_string().contains(&source.to_string()) => {
                format!("{err}: {source}")
            }
            _ => err.to_string(),
        };
        match code {
            "profile_not_found" => Self::ProfileNotFound { message },
            "profile_exists" => Self::ProfileExists { message },
            "invalid_alias" => Self::InvalidAlias { message },
            "unknown_agent" | "unknown_provider" | "unknown_endpoint" => Self::Unknown {
                code: code.into(),
                message,
            },
            "invalid_input" => Self::InvalidInput { message },
            "agent_not_installed" => Self::AgentNotInstalled { message },
            "missing_key" | "key_not_found" | "key_not_migrated" => Self::Key {
                code: code.into(),
                message,
            },
            "hook_not_found" => Self::HookNotFound { message },
            _ => Self::Other {
                code: code.into(),
                message,
            },
        }
    }
}
