//! Remote terminal sessions over REST: create, list, get and terminate the core's
//! [`SessionManager`](ringlet::session::SessionManager) sessions. Their terminals are reached
//! through `/ws/terminal/{id}` ([`crate::terminal`]); docs/remote.md has the whole protocol.

use std::path::Path as FsPath;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ringlet::session::NewSession;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{Body, Segments, call, core, json};
use crate::error::ApiError;

/// A request to start a session: the profile's agent in a new terminal on the server.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct CreateSession {
    /// The profile's alias.
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    profile: String,
    /// Arguments for the agent after the profile's own.
    args: Vec<String>,
    /// The directory the agent starts in, on the server (must lie under an allowed path;
    /// default: the profile's).
    working_dir: Option<String>,
    /// Terminal rows (default 24).
    #[schema(minimum = 1, maximum = 65535)]
    rows: Option<u16>,
    /// Terminal columns (default 80).
    #[schema(minimum = 1, maximum = 65535)]
    cols: Option<u16>,
}

/// Every session, running and recently ended, oldest first.
#[utoipa::path(get, path = "/api/sessions", tag = "sessions",
    responses((status = 200, description = "Sessions: id, profile, agent, state, exit_code, pid, run_id, created_at, ended_at, rows, cols, clients, scrollback_bytes", body = Vec<serde_json::Value>)))]
pub(crate) async fn list_sessions(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json(state.sessions().list()))
}

/// Starts a session: the profile's agent in a new terminal, sandboxed unless the profile says
/// `sandbox = "off"`. Answers once the agent has started; attach with `/ws/terminal/{id}`.
#[utoipa::path(post, path = "/api/sessions", tag = "sessions", request_body = CreateSession,
    responses((status = 201, description = "The started session", body = serde_json::Value)))]
pub(crate) async fn create_session(
    State(state): State<AppState>,
    Body(body): Body<CreateSession>,
) -> Result<Response, ApiError> {
    if body.profile.is_empty() {
        return Err(ApiError::bad_request(
            "give `profile`: the alias of the profile whose agent the session runs",
        ));
    }
    let mut new = NewSession::new(body.profile)
        .args(body.args)
        .size(body.rows.unwrap_or(24), body.cols.unwrap_or(80));
    if let Some(dir) = body.working_dir.as_deref() {
        new = new.working_dir(state.allowed_path(FsPath::new(dir), "working_dir")?);
    }
    let sessions = state.sessions().clone();
    // Starting forks an agent and writes its profile's files: off the async threads.
    let info = call(&state, move |r| sessions.create(&new).map_err(core(r))).await?;
    Ok((StatusCode::CREATED, Json(info)).into_response())
}

/// One session.
#[utoipa::path(get, path = "/api/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "The session id")),
    responses((status = 200, description = "The session", body = serde_json::Value)))]
pub(crate) async fn get_session(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    state
        .sessions()
        .get(&id)
        .map(json)
        .map_err(core(state.ringlet()))
}

/// Ends a session: SIGHUP to the agent's process group now, SIGKILL to what is left after the
/// grace period. Answers at once with the session as it is; its clients see it end. An ended
/// session is left as it is.
#[utoipa::path(delete, path = "/api/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "The session id")),
    responses((status = 200, description = "The session, ending", body = serde_json::Value)))]
pub(crate) async fn terminate_session(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    state
        .sessions()
        .terminate(&id)
        .map(json)
        .map_err(core(state.ringlet()))
}
