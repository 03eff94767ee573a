//! The one place a failure becomes an HTTP answer: the status from the core's
//! [`ErrorKind`](ringlet::ErrorKind), and a stable JSON body
//! `{"error": {"code", "message", "hint"?}}`.
//!
//! The body never holds a path of this machine: ringlet's own directories and the user's HOME
//! in a message are replaced by `<config>`, `<data>`, `<cache>` and `~`, and an internal error
//! (ringlet's own files and stores failed) says only its code; the server's log has the rest.
//! The hint is the core's [`Hint`] worded for an HTTP caller (a route and a body field, not a
//! command and a flag).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ringlet::{ErrorKind, Hint, Paths};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer (boxed: handlers return it in every `Result`).
#[derive(Debug, Clone)]
pub struct ApiError(Box<Repr>);

#[derive(Debug, Clone)]
struct Repr {
    status: StatusCode,
    body: ErrorDetail,
    /// What the log gets in place of the body's message (an internal error's detail).
    log: Option<String>,
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable identifier: the core's error code (`profile_not_found`, `key_exists`, …) or
    /// the server's own (`unauthorized`, `forbidden_host`, `forbidden_origin`,
    /// `path_not_allowed`, `url_not_allowed`, `bad_request`).
    pub code: String,
    /// The class of the error: `not_found`, `conflict`, `invalid_input`, `unavailable`,
    /// `internal`, or the server's `unauthorized` and `forbidden`.
    pub kind: String,
    /// One line saying what happened and what to do.
    pub message: String,
    /// The next step, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// For a profile, agent or provider that does not exist: the existing name most likely
    /// meant (also in `message`, as "did you mean 'work'?").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, kind: &str, message: impl Into<String>) -> Self {
        Self(Box::new(Repr {
            status,
            body: ErrorDetail {
                code: code.into(),
                kind: kind.into(),
                message: message.into(),
                hint: None,
                suggestion: None,
            },
            log: None,
        }))
    }

    /// 401: no token, a wrong one, or one in the wrong place.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unauthorized",
            message,
        )
    }

    /// 403 with the server's own code.
    pub fn forbidden(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "forbidden", message)
    }

    /// 400: a request the server cannot read (bad JSON, a bad query parameter).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid_input",
            message,
        )
    }

    /// 404 for a path no route has.
    pub fn not_found_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "route_not_found",
            "not_found",
            "no route has this path; the routes are listed in GET /api/openapi.json",
        )
    }

    /// 500 for a failure of the server itself (a task that panicked); `detail` goes to the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal",
            "internal error; the server's log has the details",
        );
        e.0.log = Some(detail.into());
        e
    }

    /// A core error: its kind's status, its code, its message with local paths hidden, and its
    /// hint worded for HTTP.
    pub fn from_core(err: &ringlet::Error, paths: &Paths) -> Self {
        let kind = err.kind();
        let status =
            StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let full = err.to_string();
        let (message, log) = if kind == ErrorKind::Internal {
            (
                format!(
                    "internal error ({}); the server's log has the details",
                    err.code()
                ),
                Some(full),
            )
        } else {
            (hide_paths(&full, paths), None)
        };
        Self(Box::new(Repr {
            status,
            body: ErrorDetail {
                code: err.code().into(),
                kind: kind.as_str().into(),
                message: one_line(&message),
                hint: err.hint().map(|h| hide_paths(&http_hint(&h), paths)),
                suggestion: err.suggestion().map(str::to_string),
            },
            log,
        }))
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The body's code.
    pub fn code(&self) -> &str {
        &self.0.body.code
    }

    /// What the server's log says about it (never the token: no error is made from it).
    pub fn log_line(&self) -> String {
        let Repr { body, log, .. } = &*self.0;
        match log {
            Some(detail) => format!("{}: {}", body.code, one_line(detail)),
            None => format!("{}: {}", body.code, body.message),
        }
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// `text` with ringlet's directories and the user's HOME replaced by names, longest first (the
/// data dir may lie inside HOME).
fn hide_paths(text: &str, paths: &Paths) -> String {
    let mut dirs: Vec<(String, &str)> = vec![
        (paths.config_dir().display().to_string(), "<config>"),
        (paths.data_dir().display().to_string(), "<data>"),
        (paths.cache_dir().display().to_string(), "<cache>"),
    ];
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        dirs.push((std::path::PathBuf::from(home).display().to_string(), "~"));
    }
    dirs.sort_by_key(|(d, _)| std::cmp::Reverse(d.len()));
    let mut out = text.to_string();
    for (dir, name) in dirs {
        if !dir.is_empty() && dir != "/" {
            out = out.replace(&dir, name);
        }
    }
    out
}

/// The core's hint for an HTTP caller: a route and a body field.
fn http_hint(hint: &Hint) -> String {
    match hint {
        Hint::ListProfiles => "see GET /api/profiles".into(),
        Hint::DeleteProfile { alias } => {
            format!("pick another alias or delete it first with DELETE /api/profiles/{alias}")
        }
        Hint::InstallAgent { install } => format!(
            "install it on the server ({install}) or give the profile the path of its binary"
        ),
        Hint::SetKey { provider, alias } => {
            format!("store one with PUT /api/keys/{provider}/{alias}")
        }
        Hint::ListKeys => "see GET /api/keys".into(),
        Hint::MigrateKeys => "move it there on the server with `ringlet keychain migrate` (or set `[credentials] backend = \"file\"` in config.toml)".into(),
        Hint::Replace => "send \"replace\": true to overwrite it".into(),
        Hint::ReplaceKeyOrOtherAlias { provider, alias } => format!(
            "replace it with PUT /api/keys/{provider}/{alias} and \"replace\": true, or choose another key_alias"
        ),
        Hint::ListHooks => "see GET /api/hooks".into(),
        Hint::ListSessions => "see GET /api/sessions".into(),
        Hint::ListRemotes => "remotes are configured on the client (`ringlet remotes list`)".into(),
        Hint::RemoveHook { id } => {
            format!("remove it first with DELETE /api/hooks/{id} or pick another id")
        }
        // A hint this table does not know yet: the core's own wording beats none.
        other => other.to_string(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status;
        let log = self.log_line();
        let mut response = (status, Json(ErrorBody { error: self.0.body })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // The request log line reads this to say why (the body's message, never a secret).
        response.extensions_mut().insert(ErrorLog(log));
        response
    }
}

/// An error's log text, carried to the request log in the response's extensions.
#[derive(Debug, Clone)]
pub(crate) struct ErrorLog(pub(crate) String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_their_statuses_and_hints_name_routes() {
        let paths = Paths::under("/srv/r");
        let e = ApiError::from_core(
            &ringlet::Error::ProfileExists {
                alias: "work".into(),
            },
            &paths,
        );
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.0.body.code, "profile_exists");
        assert_eq!(e.0.body.kind, "conflict");
        assert_eq!(
            e.0.body.hint.as_deref(),
            Some("pick another alias or delete it first with DELETE /api/profiles/work")
        );
        let e = ApiError::from_core(&ringlet::Error::profile_not_found("x", []), &paths);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
        assert_eq!(e.0.body.hint.as_deref(), Some("see GET /api/profiles"));
        assert_eq!(e.0.body.suggestion, None);
        let e = ApiError::from_core(&ringlet::Error::profile_not_found("wrok", ["work"]), &paths);
        assert_eq!(e.0.body.suggestion.as_deref(), Some("work"));
        assert!(
            e.0.body.message.contains("did you mean 'work'?"),
            "{}",
            e.0.body.message
        );
    }

    #[test]
    fn internal_errors_hide_their_detail_and_others_hide_local_paths() {
        let paths = Paths::under("/srv/r");
        let io = std::io::Error::from_raw_os_error(28);
        let inner = paths.data_dir().join("profiles/w/profile.toml");
        let e = ApiError::from_core(&ringlet::Error::io("writing", &inner, io), &paths);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!e.0.body.message.contains("/srv/r"), "{}", e.0.body.message);
        assert!(e.log_line().contains("/srv/r"), "the log keeps the detail");

        let e = ApiError::from_core(
            &ringlet::Error::InvalidInput(format!(
                "bad thing in {}",
                paths.config_dir().join("config.toml").display()
            )),
            &paths,
        );
        assert_eq!(e.0.body.message, "bad thing in <config>/config.toml");
    }
}
