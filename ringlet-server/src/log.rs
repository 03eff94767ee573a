//! The server's log: one line per request on stderr (method, path without the query, status,
//! milliseconds, and an error's code and message). Headers are never logged, so the token,
//! which travels only in headers, cannot reach the log; nor do request bodies (where keys
//! travel).

use std::io::Write;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;
use crate::error::ErrorLog;

/// Writes one line to stderr, prefixed with the time. A failing stderr is ignored.
pub fn line(text: &str) {
    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let _ = writeln!(std::io::stderr().lock(), "{now} ringlet-server: {clean}");
}

/// Logs each request when the state asks for it.
pub(crate) async fn requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.inner.log_requests {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let why = response
        .extensions()
        .get::<ErrorLog>()
        .map(|e| format!(" ({})", e.0))
        .unwrap_or_default();
    line(&format!(
        "{method} {path} {} {ms:.1}ms{why}",
        response.status().as_u16()
    ));
    response
}
