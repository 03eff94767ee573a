//! The one place `ringlet::Error` becomes a JavaScript error.
//!
//! The error's `code` is the core's stable `Error::code()` (`profile_not_found`,
//! `invalid_alias`, …), its `kind` the core's `Error::kind()` (`not_found`, `conflict`,
//! `invalid_input`, `unavailable`, `internal`), its `hint` the core's fix worded for JavaScript
//! callers (`pass replace = true`, not the CLI's `--replace`; `null` when there is none), its
//! message the core's message followed by that hint, and its `cause` the source error when
//! there is one (an I/O error's text, with its errno when known). Declared as `RingletError`
//! in index.d.ts (by its header, errors.d.ts.in).

use napi::bindgen_prelude::{JsObjectValue, JsValue};
use napi::{Env, JsError, Status};
use ringlet::{Field, Hint};

/// A JavaScript string literal for `s`.
fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A field as a JavaScript caller sets it: the property of `createProfile`'s or
/// `updateProfile`'s options object.
fn property(field: Field) -> &'static str {
    match field {
        Field::Model => "model",
        Field::Endpoint => "endpoint",
        Field::CustomEndpoint => "customEndpoint",
        Field::Shape => "shape",
        Field::Env => "env",
        Field::SetEnv => "setEnv",
        Field::UnsetEnv => "unsetEnv",
        Field::Args => "args",
        Field::WorkingDir => "workingDir",
        Field::ClearWorkingDir => "clearWorkingDir: true",
        Field::Binary => "binary",
        Field::ClearBinary => "clearBinary: true",
        Field::Sandbox => "sandbox",
        Field::KeyAlias => "keyAlias",
        Field::Period => "period",
        Field::Threshold => "threshold",
        Field::Budget => "of",
        Field::HookAction => "shell, rhaiFile, rhaiScript or webhook",
        Field::Webhook => "webhook",
        Field::WebhookTemplate => "webhookTemplate",
        Field::Tool => "payload.tool_name",
    }
}

/// The core's hint in this binding's terms: `Ringlet` methods and their arguments, not CLI
/// commands and flags.
pub fn hint_text(hint: &Hint) -> String {
    match hint {
        Hint::ListProfiles => "see profiles()".into(),
        Hint::DeleteProfile { alias } => format!(
            "pick another alias or delete it first with deleteProfile({})",
            lit(alias)
        ),
        Hint::InstallAgent { install } => {
            format!("install it ({install}) or create the profile with `binary` set to its path")
        }
        Hint::SetKey { provider, alias } => format!(
            "add one with setKey({}, {}, secret)",
            lit(provider),
            lit(alias)
        ),
        Hint::ListKeys => "see listKeys()".into(),
        Hint::MigrateKeys => "move it there with migrateKeys() (or set `[credentials] backend = \"file\"` in config.toml)".into(),
        Hint::Replace => "pass replace = true to overwrite it".into(),
        Hint::ReplaceKeyOrOtherAlias { provider, alias } => format!(
            "replace it with setKey({}, {}, secret, true) or choose another keyAlias",
            lit(provider),
            lit(alias)
        ),
        Hint::ListHooks => "see hooks()".into(),
        // Sessions live in a server (`SessionManager`), which this binding does not run.
        Hint::ListSessions => "list the server's sessions (GET /api/sessions)".into(),
        Hint::ListRemotes => "remotes are configured with the CLI (`ringlet remotes list`)".into(),
        Hint::RemoveHook { id } => format!(
            "remove it first with removeHook({}) or pick another id",
            lit(id)
        ),
        Hint::GiveField(field) => format!("set `{}`", property(*field)),
        Hint::CheckField(field) => format!("check `{}`", property(*field)),
        Hint::OneOfFields(a, b) => {
            format!("set `{}` or `{}`, not both", property(*a), property(*b))
        }
        // A hint this binding does not word yet: the core's (CLI) wording beats none.
        other => other.to_string(),
    }
}

/// Builds the JavaScript error for a core error; rejecting a promise with it keeps `code`,
/// `kind` and `hint`.
pub fn to_js(env: Env, err: ringlet::Error) -> napi::Error {
    let hint = err.hint().map(|h| hint_text(&h));
    let message = match &hint {
        Some(h) => format!("{err}; {h}"),
        None => err.to_string(),
    };
    let mut js = napi::Error::new(err.code().to_string(), message);
    if let Some(source) = std::error::Error::source(&err) {
        let text = match source.downcast_ref::<std::io::Error>() {
            Some(io) => match io.raw_os_error() {
                Some(errno) => format!("{io} (errno {errno})"),
                None => io.to_string(),
            },
            None => source.to_string(),
        };
        js.cause = Some(Box::new(napi::Error::new(Status::GenericFailure, text)));
    }
    let value = JsError::from(js).into_unknown(env);
    // Setting properties on a fresh Error object cannot fail in practice; if it did, the error
    // still has its code and message.
    if let Ok(mut object) = value.coerce_to_object() {
        let _ = object.set_named_property("kind", err.kind().as_str());
        let _ = object.set_named_property("hint", hint);
    }
    napi::Error::from(value)
}
