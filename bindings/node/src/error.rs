//! The one place `ringlet::Error` becomes a JavaScript error.
//!
//! The error's `code` is the core's stable `Error::code()` (`profile_not_found`,
//! `invalid_alias`, …), its message the core's message, and its `cause` the source error when
//! there is one (an I/O error's text, with its errno when known).

use napi::{Env, JsError, Status};

/// Builds the JavaScript error for a core error; rejecting a promise with it keeps `code`.
pub fn to_js(env: Env, err: ringlet::Error) -> napi::Error {
    let mut js = napi::Error::new(err.code().to_string(), err.to_string());
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
    napi::Error::from(JsError::from(js).into_unknown(env))
}
