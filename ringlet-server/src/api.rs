//! The routes: each turns a request into one facade call on the blocking pool and its result
//! into JSON. No behaviour lives here beyond what HTTP needs: reading the request, restricting
//! the server-side paths and URLs a request may name, and the status codes.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use ringlet::{
    CredentialKey, ImportRequest, NewHook, NewProfile, ProfileUpdate, Ringlet, Secret, UsageGroup,
    UsageQuery,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDoc, RefOr, Response as OaResponse};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

// ---------------------------------------------------------------------------------------------
// Extractors whose rejections are `ApiError`s (JSON like every other error), and whose
// messages never quote the request's values (a key sent in the wrong field must not come back
// in an error).

/// A JSON body.
#[derive(Debug)]
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(e) => Err(ApiError::bad_request(json_rejection(&e))),
        }
    }
}

fn json_rejection(e: &JsonRejection) -> String {
    match e {
        JsonRejection::MissingJsonContentType(_) => {
            "send the body as JSON with `Content-Type: application/json`".into()
        }
        other => format!(
            "the JSON body is not valid: {}",
            unquote(&other.body_text())
        ),
    }
}

/// `text` with every double-quoted part (a value serde quotes back) replaced by `"…"`.
fn unquote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for c in text.chars() {
        if c == '"' {
            if inside {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

/// Query parameters.
#[derive(Debug)]
pub(crate) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => Err(ApiError::bad_request(query_rejection(&e))),
        }
    }
}

fn query_rejection(e: &QueryRejection) -> String {
    format!("the query string is not valid: {}", unquote(&e.body_text()))
}

/// Path segments.
#[derive(Debug)]
pub(crate) struct Segments<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(Segments(v)),
            Err(e) => Err(ApiError::bad_request(path_rejection(&e))),
        }
    }
}

fn path_rejection(e: &PathRejection) -> String {
    format!("the path is not valid: {}", unquote(&e.body_text()))
}

// ---------------------------------------------------------------------------------------------
// Running facade calls off the async runtime.

/// Runs `f` on the blocking pool: the facade does file, SQLite and keychain I/O, and some calls
/// (a download, a hook test) take seconds.
pub(crate) async fn call<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Ringlet) -> Result<T, ApiError> + Send + 'static,
{
    let ringlet = state.ringlet().clone();
    tokio::task::spawn_blocking(move || {
        let result = f(&ringlet);
        // Warnings are kept per thread: taken on the thread that made the call, they are
        // exactly this request's (a profile skipped as unreadable, a keychain fallback). The
        // log is the server's way of showing them.
        for w in ringlet.take_warnings() {
            crate::log::line(&format!("warning: {} ({})", w.message, w.code));
        }
        result
    })
    .await
    .map_err(|e| ApiError::internal(format!("a request's task failed: {e}")))?
}

/// Maps a core error with the state's paths hidden.
pub(crate) fn core(ringlet: &Ringlet) -> impl Fn(ringlet::Error) -> ApiError + '_ {
    move |e| ApiError::from_core(&e, ringlet.paths())
}

pub(crate) fn json<T: Serialize>(value: T) -> Response {
    Json(value).into_response()
}

// ---------------------------------------------------------------------------------------------
// What a request may name on the server.

impl AppState {
    /// `path` when it lies under a directory the server allows (`--allow-path`), resolved
    /// (symlinks and `..` included); an error naming the rule otherwise.
    pub(crate) fn allowed_path(&self, path: &FsPath, what: &str) -> Result<PathBuf, ApiError> {
        let refuse = |why: &str| {
            ApiError::forbidden(
                "path_not_allowed",
                format!(
                    "{what}: {why}; a request may name only files under a directory the server allows (start it with --allow-path DIR)"
                ),
            )
        };
        if self.inner.allowed_paths.is_empty() {
            return Err(refuse("this server allows no server-side paths"));
        }
        if !path.is_absolute() {
            return Err(refuse("give an absolute path"));
        }
        let real = std::fs::canonicalize(path).map_err(|_| refuse("it does not exist"))?;
        if self
            .inner
            .allowed_paths
            .iter()
            .any(|root| real.starts_with(root))
        {
            Ok(real)
        } else {
            Err(refuse("it is outside the allowed directories"))
        }
    }

    /// A pricing source: LiteLLM's feed (or another URL the server allows), or an allowed file.
    fn allowed_pricing_source(&self, source: Option<&str>) -> Result<Option<String>, ApiError> {
        let Some(source) = source.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        if source.contains("://") {
            return if self.inner.pricing_urls.iter().any(|u| u == source) {
                Ok(Some(source.to_string()))
            } else {
                Err(ApiError::forbidden(
                    "url_not_allowed",
                    "the server downloads prices only from the URLs it allows (LiteLLM's feed unless started with --allow-pricing-url URL); leave `source` out for LiteLLM's",
                ))
            };
        }
        let path = self.allowed_path(FsPath::new(source), "source")?;
        Ok(Some(path.display().to_string()))
    }
}

// ---------------------------------------------------------------------------------------------
// Health and the document.

/// The health check's answer.
#[derive(Debug, Serialize, ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Whether the server is up. The only route without a token; it says nothing else.
#[utoipa::path(get, path = "/api/health", tag = "server", security(()),
    responses((status = 200, description = "The server is up", body = Health)))]
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Prometheus metrics: tokens, cost and events by profile, agent, provider and model, runs and
/// active sessions (docs/team.md), from the team ledger when one is configured.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "The Prometheus text format (0.0.4)",
        content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let snap = call(&state, |r| r.metrics().map_err(core(r))).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        snap.to_prometheus(),
    )
        .into_response())
}

/// This document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "server",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Value)))]
async fn openapi_json() -> Response {
    json(openapi())
}

// ---------------------------------------------------------------------------------------------
// Agents and providers.

/// Every agent with its detection result and profile count.
#[utoipa::path(get, path = "/api/agents", tag = "catalog",
    responses((status = 200, description = "Agents", body = Vec<Value>)))]
async fn list_agents(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.agents().map_err(core(r)))
        .await
        .map(json)
}

/// One agent.
#[utoipa::path(get, path = "/api/agents/{id}", tag = "catalog",
    params(("id" = String, Path, description = "The agent id")),
    responses((status = 200, description = "The agent", body = Value)))]
async fn get_agent(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    call(&state, move |r| r.agent(&id).map_err(core(r)))
        .await
        .map(json)
}

/// Every provider.
#[utoipa::path(get, path = "/api/providers", tag = "catalog",
    responses((status = 200, description = "Providers", body = Vec<Value>)))]
async fn list_providers(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| Ok(r.providers())).await.map(json)
}

/// One provider.
#[utoipa::path(get, path = "/api/providers/{id}", tag = "catalog",
    params(("id" = String, Path, description = "The provider id")),
    responses((status = 200, description = "The provider", body = Value)))]
async fn get_provider(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    call(&state, move |r| r.provider(&id).map_err(core(r)))
        .await
        .map(json)
}

// ---------------------------------------------------------------------------------------------
// Profiles.

/// A request to create a profile. Only `agent`, `alias` and `provider` are required.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
struct CreateProfile {
    /// The agent id (`claude`, `codex`, …).
    agent: String,
    /// The new profile's alias.
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    alias: String,
    /// The provider id.
    provider: String,
    /// A named endpoint of the provider (`china`).
    endpoint: Option<String>,
    /// A base URL overriding the provider's (required for `custom`).
    custom_endpoint: Option<String>,
    /// The custom endpoint's wire shape: `anthropic`, `openai`, `openai-chat`,
    /// `openai-responses` or `gemini`.
    shape: Option<String>,
    /// The model (default: the provider's).
    model: Option<String>,
    /// The credential alias the key is stored under (default: the profile alias).
    #[schema(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    key_alias: Option<String>,
    /// Extra environment variables for the agent.
    env: BTreeMap<String, String>,
    /// The directory the agent starts in, on the server (must lie under an allowed path).
    working_dir: Option<String>,
    /// The agent binary: a name looked up on the server's PATH, or a path under an allowed
    /// directory.
    binary: Option<String>,
    /// Default arguments for the agent.
    args: Vec<String>,
    /// The API key to store under the key alias (never returned by any route).
    #[schema(write_only)]
    key: Option<String>,
}

/// A change to a profile: only the fields given change (`ringlet profiles set`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
struct UpdateProfile {
    /// When runs are sandboxed: `off`, `always` or `remote`.
    #[schema(pattern = "^(off|always|remote)$")]
    sandbox: Option<String>,
    /// The model; an empty string means the provider's default.
    model: Option<String>,
    /// A named endpoint of the provider; it replaces a custom base URL unless
    /// `custom_endpoint` is given too.
    endpoint: Option<String>,
    /// A base URL overriding the endpoint's.
    custom_endpoint: Option<String>,
    /// The custom endpoint's wire shape: `anthropic`, `openai`, `openai-chat`,
    /// `openai-responses` or `gemini`.
    shape: Option<String>,
    /// Environment variables to add or replace.
    set_env: BTreeMap<String, String>,
    /// Environment variables to remove; each must be set in the profile.
    unset_env: Vec<String>,
    /// New default arguments, replacing the old ones (empty: none).
    args: Option<Vec<String>>,
    /// The directory the agent starts in, on the server (must lie under an allowed path).
    working_dir: Option<String>,
    /// Start the agent in the server's directory again.
    clear_working_dir: bool,
    /// The agent binary: a name looked up on the server's PATH, or a path under an allowed
    /// directory.
    binary: Option<String>,
    /// Run the agent manifest's binary again.
    clear_binary: bool,
}

/// Every readable profile, by alias (unreadable ones are left out).
#[utoipa::path(get, path = "/api/profiles", tag = "profiles",
    responses((status = 200, description = "Profiles", body = Vec<Value>)))]
async fn list_profiles(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.profiles().map_err(core(r)))
        .await
        .map(json)
}

/// Creates a profile (and stores its key when one is given).
#[utoipa::path(post, path = "/api/profiles", tag = "profiles", request_body = CreateProfile,
    responses((status = 201, description = "The created profile", body = Value)))]
async fn create_profile(
    State(state): State<AppState>,
    Body(body): Body<CreateProfile>,
) -> Result<Response, ApiError> {
    let working_dir = body
        .working_dir
        .as_deref()
        .map(|d| state.allowed_path(FsPath::new(d), "working_dir"))
        .transpose()?;
    let binary = match body.binary.as_deref() {
        Some(b) if FsPath::new(b).components().count() > 1 => {
            Some(state.allowed_path(FsPath::new(b), "binary")?)
        }
        Some(b) => Some(PathBuf::from(b)),
        None => None,
    };
    let key = body.key.map(Secret::new);
    let req = NewProfile {
        agent: body.agent,
        alias: body.alias,
        provider: body.provider,
        endpoint: body.endpoint,
        custom_endpoint: body.custom_endpoint,
        shape: body.shape,
        model: body.model,
        key_alias: body.key_alias,
        env: body.env,
        working_dir,
        binary,
        args: body.args,
        // Set with an update (`PATCH`), whose body is the facade's `ProfileUpdate`.
        ..NewProfile::default()
    };
    let profile = call(&state, move |r| {
        r.create_profile(&req, key.as_ref()).map_err(core(r))
    })
    .await?;
    Ok((StatusCode::CREATED, Json(profile)).into_response())
}

/// One profile.
#[utoipa::path(get, path = "/api/profiles/{alias}", tag = "profiles",
    params(("alias" = String, Path, description = "The profile alias", pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")),
    responses((status = 200, description = "The profile", body = Value)))]
async fn get_profile(
    State(state): State<AppState>,
    Segments(alias): Segments<String>,
) -> Result<Response, ApiError> {
    call(&state, move |r| r.profile(&alias).map_err(core(r)))
        .await
        .map(json)
}

/// Changes a profile: only the fields given change.
#[utoipa::path(patch, path = "/api/profiles/{alias}", tag = "profiles", request_body = UpdateProfile,
    params(("alias" = String, Path, description = "The profile alias", pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")),
    responses((status = 200, description = "The updated profile", body = Value)))]
async fn update_profile(
    State(state): State<AppState>,
    Segments(alias): Segments<String>,
    Body(body): Body<UpdateProfile>,
) -> Result<Response, ApiError> {
    let mut update = ProfileUpdate::new();
    if let Some(model) = body.model {
        update = update.model(model);
    }
    if let Some(endpoint) = body.endpoint {
        update = update.endpoint(endpoint);
    }
    if let Some(url) = body.custom_endpoint {
        update = update.custom_endpoint(url);
    }
    if let Some(shape) = body.shape {
        update = update.shape(shape);
    }
    for (name, value) in body.set_env {
        update = update.set_env(name, value);
    }
    for name in body.unset_env {
        update = update.unset_env(name);
    }
    if let Some(args) = body.args {
        update = update.args(args);
    }
    // Server-side paths follow the same rule as at creation: under an allowed directory.
    if let Some(dir) = body.working_dir.as_deref() {
        update = update.working_dir(state.allowed_path(FsPath::new(dir), "working_dir")?);
    }
    if body.clear_working_dir {
        update = update.clear_working_dir();
    }
    match body.binary.as_deref() {
        Some(b) if FsPath::new(b).components().count() > 1 => {
            update = update.binary(state.allowed_path(FsPath::new(b), "binary")?);
        }
        Some(b) => update = update.binary(b),
        None => {}
    }
    if body.clear_binary {
        update = update.clear_binary();
    }
    let sandbox = body.sandbox;
    call(&state, move |r| {
        // The mode's name is checked by the core, so its error reads as everywhere else.
        let update = match sandbox.as_deref() {
            Some(mode) => update.sandbox_named(mode).map_err(core(r))?,
            None => update,
        };
        r.update_profile(&alias, &update).map_err(core(r))
    })
    .await
    .map(json)
}

/// What `DELETE /api/profiles/{alias}` does with the profile's key.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DeleteParams {
    /// `if-unused` (default: removed unless another profile uses it), `keep` or `remove`
    /// (refused when another profile uses it).
    key: Option<String>,
    /// Only report what would happen; nothing is deleted.
    dry_run: Option<bool>,
}

/// Deletes a profile and its HOME, and its key unless another profile uses it (or as `key`
/// says); answers what became of the key.
#[utoipa::path(delete, path = "/api/profiles/{alias}", tag = "profiles",
    params(("alias" = String, Path, description = "The profile alias", pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"),
           DeleteParams),
    responses((status = 200, description = "Deleted: `key`, `key_outcome` (`no-key`, `removed`, `kept`, `shared`, `not-stored`, `failed`), `shared_with`", body = Value)))]
async fn delete_profile(
    State(state): State<AppState>,
    Segments(alias): Segments<String>,
    Params(params): Params<DeleteParams>,
) -> Result<Response, ApiError> {
    call(&state, move |r| {
        let key = match params.key.as_deref() {
            Some(name) => ringlet::KeyOnDelete::parse(name).map_err(core(r))?,
            None => ringlet::KeyOnDelete::default(),
        };
        let options = ringlet::DeleteOptions::new()
            .key(key)
            .dry_run(params.dry_run.unwrap_or(false));
        r.delete_profile_with(&alias, &options).map_err(core(r))
    })
    .await
    .map(json)
}

/// The launch plan of a profile: program, arguments, environment and files. It never holds
/// the key: the key's variable is named in `secret_env`, and files carry a placeholder.
#[utoipa::path(get, path = "/api/profiles/{alias}/plan", tag = "profiles",
    params(("alias" = String, Path, description = "The profile alias", pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")),
    responses((status = 200, description = "The launch plan (no secret in it)", body = Value)))]
async fn plan_profile(
    State(state): State<AppState>,
    Segments(alias): Segments<String>,
) -> Result<Response, ApiError> {
    call(&state, move |r| r.plan_run(&alias, &[]).map_err(core(r)))
        .await
        .map(json)
}

// ---------------------------------------------------------------------------------------------
// Keys.

/// The name of a stored key.
#[derive(Debug, Serialize, ToSchema)]
struct KeyName {
    /// The provider id.
    provider: String,
    /// The key alias.
    alias: String,
}

/// A key to store.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SetKey {
    /// The key's value (never returned by any route).
    #[schema(write_only)]
    key: String,
    /// Overwrite a key stored under this name.
    #[serde(default)]
    replace: bool,
}

/// The names of stored keys (never their values).
#[utoipa::path(get, path = "/api/keys", tag = "keys",
    responses((status = 200, description = "Key names", body = Vec<KeyName>)))]
async fn list_keys(State(state): State<AppState>) -> Result<Response, ApiError> {
    let keys = call(&state, |r| r.list_keys().map_err(core(r))).await?;
    Ok(json(
        keys.into_iter()
            .map(|k| KeyName {
                provider: k.provider,
                alias: k.alias,
            })
            .collect::<Vec<_>>(),
    ))
}

/// Stores a key under `<provider>/<alias>`.
#[utoipa::path(put, path = "/api/keys/{provider}/{alias}", tag = "keys", request_body = SetKey,
    params(("provider" = String, Path, description = "The provider id"),
           ("alias" = String, Path, description = "The key alias", pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")),
    responses((status = 204, description = "Stored")))]
async fn set_key(
    State(state): State<AppState>,
    Segments((provider, alias)): Segments<(String, String)>,
    Body(body): Body<SetKey>,
) -> Result<StatusCode, ApiError> {
    let secret = Secret::new(body.key);
    let replace = body.replace;
    call(&state, move |r| {
        r.set_key(&CredentialKey::new(provider, alias), &secret, replace)
            .map_err(core(r))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a key.
#[utoipa::path(delete, path = "/api/keys/{provider}/{alias}", tag = "keys",
    params(("provider" = String, Path, description = "The provider id"),
           ("alias" = String, Path, description = "The key alias", pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")),
    responses((status = 204, description = "Removed")))]
async fn remove_key(
    State(state): State<AppState>,
    Segments((provider, alias)): Segments<(String, String)>,
) -> Result<StatusCode, ApiError> {
    call(&state, move |r| {
        r.remove_key(&CredentialKey::new(provider, alias))
            .map_err(core(r))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Usage, stats, pricing.

/// The usage filters of `ringlet usage` and `ringlet stats`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default, deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UsageParams {
    /// Only this profile.
    profile: Option<String>,
    /// Only this agent.
    agent: Option<String>,
    /// Only this provider.
    provider: Option<String>,
    /// Only this model (as the agent logged it).
    model: Option<String>,
    /// From this day (`2026-05-01`), time (RFC 3339), `today`, `yesterday` or `Nd`.
    since: Option<String>,
    /// Up to and including this day, or before this time (RFC 3339).
    until: Option<String>,
    /// Group rows by `day`, `week`, `month`, `model`, `profile`, `agent`, `provider`,
    /// `session`, `project` or `total` (usage); `profile` or `agent` (stats). Default: per
    /// profile.
    #[param(inline, value_type = Option<Group>)]
    group: Option<String>,
    /// The reader's time zone for dates and day, week and month boundaries: an IANA name
    /// (`Europe/Berlin`) or `UTC` (default: the server's zone).
    timezone: Option<String>,
    /// Split each grouped row by `model`, `agent`, `profile` or `provider` (usage).
    #[param(inline, value_type = Option<Group>)]
    breakdown: Option<String>,
    /// Only this project: usage in this directory (an absolute path) or below it.
    project: Option<String>,
    /// For `/api/usage/events`: `json` (default) or `csv`.
    #[param(inline)]
    format: Option<ExportFormat>,
    /// For `/api/usage`: the whole team's usage from the team ledger (`[team] ledger`;
    /// docs/team.md), where `group` may also be `user` or `machine`.
    team: Option<bool>,
    /// For `/api/usage/sessions`: `asc` (oldest first, the default) or `desc`.
    #[param(inline, value_type = Option<String>)]
    order: Option<ringlet::SortOrder>,
    /// For `/api/usage/sessions`: only the N most recently started sessions.
    last: Option<usize>,
    /// For `/api/usage/blocks`: only the active block.
    active: Option<bool>,
    /// For `/api/usage/blocks`: only blocks of the last three days.
    recent: Option<bool>,
    /// For `/api/usage/blocks`: measure blocks against this many tokens, or `max` (the most any
    /// finished block used).
    token_limit: Option<String>,
}

/// A usage grouping (the core's `UsageGroup` names), for the document.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum Group {
    /// One row with the total.
    Total,
    /// Per day.
    Day,
    /// Per ISO week.
    Week,
    /// Per month.
    Month,
    /// Per model.
    Model,
    /// Per profile.
    Profile,
    /// Per agent.
    Agent,
    /// Per provider.
    Provider,
    /// Per agent session.
    Session,
    /// Per project (the agent's working directory).
    Project,
    /// Per user (`team=true` only).
    User,
    /// Per machine (`team=true` only).
    Machine,
}

/// A hook event (the core's `HookEvent` names), for the document.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
enum HookEventName {
    /// Before a tool call (gates).
    PreToolUse,
    /// After a tool call.
    ToolUse,
    /// The agent stopped.
    Stop,
    /// A run started.
    Start,
    /// The agent notified.
    Notify,
    /// Spend crossed a threshold.
    CostThreshold,
    /// Once a day.
    DailyRollup,
}

/// An export format.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum ExportFormat {
    /// A JSON array of events, each with `cost_usd`.
    #[default]
    Json,
    /// CSV, the same as `ringlet usage --export csv`.
    Csv,
}

impl UsageParams {
    fn query(self) -> Result<UsageQuery, ringlet::Error> {
        if self.team == Some(true) {
            return Err(ringlet::Error::InvalidInput(
                "team=true is for /api/usage only; drop it".into(),
            ));
        }
        Ok(UsageQuery {
            profile: self.profile,
            agent: self.agent,
            provider: self.provider,
            model: self.model,
            since: self.since,
            until: self.until,
            group: self.group.as_deref().map(UsageGroup::parse).transpose()?,
            timezone: self.timezone,
            breakdown: self
                .breakdown
                .as_deref()
                .map(UsageGroup::parse)
                .transpose()?,
            project: self.project,
        })
    }
}

/// Tokens and cost, per profile (with agent and provider) or grouped.
#[utoipa::path(get, path = "/api/usage", tag = "usage", params(UsageParams),
    responses((status = 200, description = "The usage report", body = Value)))]
async fn usage(
    State(state): State<AppState>,
    Params(params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    call(&state, move |r| {
        if params.team == Some(true) {
            return team_usage(r, params).map_err(core(r));
        }
        let query = params.query().map_err(core(r))?;
        r.usage(&query).map_err(core(r))
    })
    .await
    .map(json)
}

/// `/api/usage?team=true`: the team ledger's report, with the team groupings too.
#[cfg(feature = "team")]
fn team_usage(
    r: &Ringlet,
    mut params: UsageParams,
) -> Result<ringlet::UsageReport, ringlet::Error> {
    let group = params
        .group
        .take()
        .as_deref()
        .map(ringlet::TeamGroup::parse)
        .transpose()?;
    params.team = None;
    r.team_usage(&params.query()?, group)
}

#[cfg(not(feature = "team"))]
fn team_usage(_: &Ringlet, _: UsageParams) -> Result<ringlet::UsageReport, ringlet::Error> {
    Err(ringlet::Error::InvalidInput(
        "this server was built without the team ledger (cargo feature `team`); drop team=true"
            .into(),
    ))
}

/// The agent sessions with usage matching the filters, sorted by start (`order`), with `last`
/// only the N most recently started.
#[utoipa::path(get, path = "/api/usage/sessions", tag = "usage", params(UsageParams),
    responses((status = 200, description = "The session report", body = Value)))]
async fn usage_sessions(
    State(state): State<AppState>,
    Params(mut params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    let (order, last) = (params.order.take().unwrap_or_default(), params.last.take());
    call(&state, move |r| {
        let query = params.query().map_err(core(r))?;
        r.usage_sessions(&query, order, last).map_err(core(r))
    })
    .await
    .map(json)
}

/// One agent session, by its id or an unambiguous prefix of it, with its responses.
#[utoipa::path(get, path = "/api/usage/sessions/{id}", tag = "usage",
    params(("id" = String, Path, description = "The session id, or a unique prefix of it"), UsageParams),
    responses((status = 200, description = "The session and its responses", body = Value)))]
async fn usage_session(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Params(params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    call(&state, move |r| {
        let query = params.query().map_err(core(r))?;
        r.usage_session(&id, &query).map_err(core(r))
    })
    .await
    .map(json)
}

/// 5-hour billing blocks, oldest first, with the active block's burn rate and projection.
#[utoipa::path(get, path = "/api/usage/blocks", tag = "usage", params(UsageParams),
    responses((status = 200, description = "The billing blocks", body = Value)))]
async fn usage_blocks(
    State(state): State<AppState>,
    Params(mut params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    let blocks = ringlet::BlocksQuery {
        active: params.active.take().unwrap_or(false),
        recent: params.recent.take().unwrap_or(false),
        token_limit: None,
    };
    let limit = params.token_limit.take();
    call(&state, move |r| {
        let token_limit = match limit.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("max") => Some(ringlet::TokenLimit::Max),
            Some(n) => Some(ringlet::TokenLimit::Tokens(n.parse().map_err(|_| {
                core(r)(ringlet::Error::InvalidInput(format!(
                    "token_limit '{}' is not a number of tokens or `max`",
                    n.escape_debug()
                )))
            })?)),
        };
        let query = params.query().map_err(core(r))?;
        r.usage_blocks(
            &query,
            &ringlet::BlocksQuery {
                token_limit,
                ..blocks
            },
        )
        .map_err(core(r))
    })
    .await
    .map(json)
}

/// Every event behind a usage report, oldest first, as JSON or CSV.
#[utoipa::path(get, path = "/api/usage/events", tag = "usage", params(UsageParams),
    responses((status = 200, description = "The events", content(
        (Vec<Value> = "application/json"),
        (String = "text/csv")))))]
async fn usage_events(
    State(state): State<AppState>,
    Params(params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    let format = params.format.unwrap_or_default();
    let events = call(&state, move |r| {
        let query = params.query().map_err(core(r))?;
        r.usage_events(&query).map_err(core(r))
    })
    .await?;
    Ok(match format {
        ExportFormat::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            ringlet::usage_csv(&events),
        )
            .into_response(),
        ExportFormat::Json => {
            #[derive(Serialize)]
            struct Exported<'a> {
                #[serde(flatten)]
                event: &'a ringlet::UsageEvent,
                cost_usd: Option<f64>,
            }
            json(
                events
                    .iter()
                    .map(|event| Exported {
                        event,
                        cost_usd: event.cost_usd(),
                    })
                    .collect::<Vec<_>>(),
            )
        }
    })
}

/// Reads new usage from every profile's HOME now.
#[utoipa::path(post, path = "/api/usage/sync", tag = "usage",
    responses((status = 200, description = "What was read", body = Value)))]
async fn sync_usage(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.sync_usage().map_err(core(r)))
        .await
        .map(json)
}

/// A request to import an agent's existing logs into a profile.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ImportBody {
    /// The agent whose logs to read.
    agent: String,
    /// The profile the usage is attributed to.
    profile: String,
    /// A HOME, log directory or log file on the server, under an allowed path (default: the
    /// server user's own HOME).
    #[serde(default)]
    from: Option<String>,
}

/// Imports an agent's existing usage logs into a profile.
#[utoipa::path(post, path = "/api/usage/import", tag = "usage", request_body = ImportBody,
    responses((status = 200, description = "What was imported", body = Value)))]
async fn import_usage(
    State(state): State<AppState>,
    Body(body): Body<ImportBody>,
) -> Result<Response, ApiError> {
    let from = body
        .from
        .as_deref()
        .map(|f| state.allowed_path(FsPath::new(f), "from"))
        .transpose()?;
    let req = ImportRequest {
        agent: body.agent,
        profile: body.profile,
        from,
    };
    call(&state, move |r| r.import_usage(&req, None).map_err(core(r)))
        .await
        .map(json)
}

/// Runs per profile (or per agent with `group=agent`): count, duration, memory, CPU.
#[utoipa::path(get, path = "/api/stats", tag = "usage", params(UsageParams),
    responses((status = 200, description = "The run statistics", body = Value)))]
async fn stats(
    State(state): State<AppState>,
    Params(params): Params<UsageParams>,
) -> Result<Response, ApiError> {
    call(&state, move |r| {
        let query = params.query().map_err(core(r))?;
        r.stats(&query).map_err(core(r))
    })
    .await
    .map(json)
}

/// What can go wrong on the server's machine, each with its fix (`ringlet doctor`).
#[utoipa::path(get, path = "/api/doctor", tag = "server",
    responses((status = 200, description = "The checks: name, status (ok, warn, fail), detail, fix; and healthy", body = Value)))]
async fn doctor(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.doctor().map_err(core(r)))
        .await
        .map(json)
}

/// The registry snapshot in use, verified now (`ringlet registry inspect`).
#[utoipa::path(get, path = "/api/registry", tag = "server",
    responses((status = 200, description = "URL, channel, key origin, commit, age, pin, verified, artifacts", body = Value)))]
async fn registry_status(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.registry_status().map_err(core(r)))
        .await
        .map(json)
}

/// Where prices come from now.
#[utoipa::path(get, path = "/api/pricing", tag = "usage",
    responses((status = 200, description = "The pricing status", body = Value)))]
async fn pricing_status(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.pricing_status().map_err(core(r)))
        .await
        .map(json)
}

/// A pricing update.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
struct PricingUpdate {
    /// LiteLLM's feed by default; another URL the server allows, or a file under an allowed
    /// path.
    source: Option<String>,
}

/// Replaces the price snapshot (from LiteLLM's feed by default) and re-prices the ledger.
#[utoipa::path(post, path = "/api/pricing/update", tag = "usage", request_body = PricingUpdate,
    responses((status = 200, description = "What the update did", body = Value)))]
async fn update_pricing(
    State(state): State<AppState>,
    Body(body): Body<PricingUpdate>,
) -> Result<Response, ApiError> {
    let source = state.allowed_pricing_source(body.source.as_deref())?;
    call(&state, move |r| {
        r.update_pricing(source.as_deref()).map_err(core(r))
    })
    .await
    .map(json)
}

// ---------------------------------------------------------------------------------------------
// Hooks.

/// A hook to add. Exactly one of `shell`, `rhai_file`, `rhai_script` and `webhook`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
struct AddHook {
    /// The profile it belongs to; every profile when absent.
    profile: Option<String>,
    /// `pre-tool-use`, `tool-use`, `stop`, `start`, `notify`, `cost-threshold` or
    /// `daily-rollup`.
    #[schema(inline, value_type = HookEventName)]
    event: String,
    /// A shell command.
    shell: Option<String>,
    /// A Rhai gate script file on the server, under an allowed path.
    rhai_file: Option<String>,
    /// A Rhai gate script's source.
    rhai_script: Option<String>,
    /// A webhook URL.
    webhook: Option<String>,
    /// The webhook's JSON template.
    webhook_template: Option<String>,
    /// Tool matcher for tool events (`Bash`, `Write|Edit`).
    matcher: Option<String>,
    /// Timeout in milliseconds.
    timeout_ms: Option<u64>,
    /// `day` or `month`, for `cost-threshold`.
    period: Option<String>,
    /// USD threshold, for `cost-threshold`.
    threshold: Option<f64>,
    /// The budget the threshold is part of, for `cost-threshold`.
    of: Option<f64>,
    /// For `cost-threshold`: `profile` (default: each profile's spend on this machine) or
    /// `team` (the team ledger's spend, fired once for the whole team; docs/team.md).
    #[schema(value_type = Option<String>, pattern = "^(profile|team)$")]
    scope: Option<String>,
}

/// A hook test.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
struct TestHook {
    /// The event payload, in the agent's hook shape or ringlet's field names.
    payload: Option<Value>,
    /// The profile to test as (for a global hook).
    profile: Option<String>,
    /// The tool the call is for.
    tool: Option<String>,
}

/// Every hook rule: global ones, then each profile's.
#[utoipa::path(get, path = "/api/hooks", tag = "hooks",
    responses((status = 200, description = "Hooks", body = Vec<Value>)))]
async fn list_hooks(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.hooks().map_err(core(r))).await.map(json)
}

/// Adds a hook; answers it with its new id.
#[utoipa::path(post, path = "/api/hooks", tag = "hooks", request_body = AddHook,
    responses((status = 201, description = "The added hook", body = Value)))]
async fn add_hook(
    State(state): State<AppState>,
    Body(body): Body<AddHook>,
) -> Result<Response, ApiError> {
    let rhai_file = body
        .rhai_file
        .as_deref()
        .map(|f| state.allowed_path(FsPath::new(f), "rhai_file"))
        .transpose()?;
    let req = NewHook {
        profile: body.profile,
        event: body.event,
        shell: body.shell,
        rhai_file,
        rhai_script: body.rhai_script,
        webhook: body.webhook,
        webhook_template: body.webhook_template,
        matcher: body.matcher,
        timeout_ms: body.timeout_ms,
        period: body.period,
        threshold: body.threshold,
        of: body.of,
        scope: body.scope,
    };
    let entry = call(&state, move |r| r.add_hook(&req).map_err(core(r))).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

/// Removes a hook; answers what was removed.
#[utoipa::path(delete, path = "/api/hooks/{id}", tag = "hooks",
    params(("id" = String, Path, description = "The hook id")),
    responses((status = 200, description = "The removed hook", body = Value)))]
async fn remove_hook(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> Result<Response, ApiError> {
    call(&state, move |r| r.remove_hook(&id).map_err(core(r)))
        .await
        .map(json)
}

/// Runs one hook against a payload and reports what it decided or did (its action really runs).
#[utoipa::path(post, path = "/api/hooks/{id}/test", tag = "hooks", request_body = TestHook,
    params(("id" = String, Path, description = "The hook id")),
    responses((status = 200, description = "What the hook did", body = Value)))]
async fn test_hook(
    State(state): State<AppState>,
    Segments(id): Segments<String>,
    Body(body): Body<TestHook>,
) -> Result<Response, ApiError> {
    call(&state, move |r| {
        let payload = body.payload.unwrap_or(Value::Object(Default::default()));
        r.test_hook_on_tool(&id, &payload, body.profile.as_deref(), body.tool.as_deref())
            .map_err(core(r))
    })
    .await
    .map(json)
}

// ---------------------------------------------------------------------------------------------
// The document and the router.

// ---------------------------------------------------------------------------------------------
// The whole setup (docs/setup.md).

/// This machine's setup as one document (`ringlet export`): profiles, hooks, routing, config
/// and remotes, with the names of the keys they use; never a key, token or password.
#[utoipa::path(get, path = "/api/export", tag = "setup",
    responses((status = 200, description = "The setup document", body = Value)))]
async fn export_setup(State(state): State<AppState>) -> Result<Response, ApiError> {
    call(&state, |r| r.export_setup().map_err(core(r)))
        .await
        .map(json)
}

/// A request to import a setup.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ImportSetup {
    /// The document `GET /api/export` answers.
    document: Value,
    /// Check and report only; write nothing.
    #[serde(default)]
    dry_run: bool,
    /// Profiles to import under another alias: setup alias → new alias.
    #[serde(default)]
    rename: BTreeMap<String, String>,
    /// Keep this server's version of anything that exists with other settings.
    #[serde(default)]
    skip_existing: bool,
}

/// Recreates an exported setup (`ringlet import FILE`); answers what became of each item and
/// the keys still to store. A conflict is a 400 naming each, and nothing is written.
#[utoipa::path(post, path = "/api/import", tag = "setup", request_body = ImportSetup,
    responses((status = 200, description = "The import report", body = Value)))]
async fn import_setup(
    State(state): State<AppState>,
    Body(body): Body<ImportSetup>,
) -> Result<Response, ApiError> {
    let text = body.document.to_string();
    let mut options = ringlet::SetupImportOptions::new()
        .dry_run(body.dry_run)
        .skip_existing(body.skip_existing);
    for (from, to) in body.rename {
        options = options.rename(from, to);
    }
    call(&state, move |r| {
        let doc = ringlet::SetupDocument::parse(&text).map_err(core(r))?;
        r.import_setup(&doc, &options).map_err(core(r))
    })
    .await
    .map(json)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ringlet",
        description = "ringlet's HTTP API: profiles, keys, usage, hooks and live events. Every route but /api/health needs `Authorization: Bearer <token>` (the token is in the server's `<config>/http_token`)."
    ),
    tags(
        (name = "server", description = "Health and this document"),
        (name = "catalog", description = "Agents and providers"),
        (name = "profiles", description = "Profiles"),
        (name = "keys", description = "Stored API keys (names only come back)"),
        (name = "usage", description = "Usage, run statistics and prices"),
        (name = "hooks", description = "Hook rules"),
        (name = "setup", description = "The whole setup, exported and imported"),
        (name = "events", description = "Live events"),
        (name = "sessions", description = "Remote terminal sessions (docs/remote.md)")
    )
)]
struct ApiDoc;

/// The routes with their document.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(openapi_json))
        .routes(routes!(metrics))
        .routes(routes!(list_agents))
        .routes(routes!(get_agent))
        .routes(routes!(list_providers))
        .routes(routes!(get_provider))
        .routes(routes!(list_profiles, create_profile))
        .routes(routes!(get_profile, update_profile, delete_profile))
        .routes(routes!(plan_profile))
        .routes(routes!(list_keys))
        .routes(routes!(set_key, remove_key))
        .routes(routes!(usage))
        .routes(routes!(usage_events))
        .routes(routes!(usage_sessions))
        .routes(routes!(usage_session))
        .routes(routes!(usage_blocks))
        .routes(routes!(sync_usage))
        .routes(routes!(import_usage))
        .routes(routes!(stats))
        .routes(routes!(pricing_status))
        .routes(routes!(doctor))
        .routes(routes!(registry_status))
        .routes(routes!(update_pricing))
        .routes(routes!(list_hooks, add_hook))
        .routes(routes!(remove_hook))
        .routes(routes!(test_hook))
        .routes(routes!(export_setup))
        .routes(routes!(import_setup))
        .routes(routes!(crate::events::events))
        .routes(routes!(
            crate::sessions::list_sessions,
            crate::sessions::create_session
        ))
        .routes(routes!(
            crate::sessions::get_session,
            crate::sessions::terminate_session
        ))
        .routes(routes!(crate::terminal::terminal))
}

/// The router, every route of the document in it.
pub(crate) fn router(state: AppState) -> Router {
    let (router, _) = routes().split_for_parts();
    router
        // The dashboard's files and client routes, or the API's 404 for anything else.
        .fallback(crate::web::fallback)
        .with_state(state)
}

/// The OpenAPI 3.1 document of every route, with the bearer scheme and the error answers every
/// route may give.
pub fn openapi() -> OpenApiDoc {
    let (_, mut doc) = routes().split_for_parts();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("The token in the server's <config>/http_token"))
                .build(),
        ),
    );
    let name = <ErrorBody as ToSchema>::name().into_owned();
    let mut schemas = vec![(name.clone(), <ErrorBody as utoipa::PartialSchema>::schema())];
    <ErrorBody as ToSchema>::schemas(&mut schemas);
    for (n, s) in schemas {
        components.schemas.insert(n, s);
    }
    let error = |description: &str| -> RefOr<OaResponse> {
        RefOr::T(
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name(name.clone())))
                        .build(),
                )
                .build(),
        )
    };
    doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
        "bearer",
        Vec::<String>::new(),
    )]);
    for (path, item) in doc.paths.paths.iter_mut() {
        let open = path == crate::guard::HEALTH_PATH;
        for op in operations(item) {
            let responses = &mut op.responses.responses;
            if !open {
                responses.insert(
                    "401".into(),
                    error("No token, a wrong one, or one in the URL"),
                );
            }
            responses.insert(
                "403".into(),
                error("A foreign Host or Origin, or a server-side path or URL the server does not allow"),
            );
            if !open {
                responses.insert(
                    "default".into(),
                    error("An error: 400 invalid input, 404 not found, 409 conflict, 503 unavailable, 500 internal"),
                );
            }
        }
    }
    doc
}

fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}
