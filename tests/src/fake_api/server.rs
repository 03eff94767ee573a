//! The axum server: one catch-all handler that records the request, routes it by hand, and asks
//! the per-format modules to render the answer.
//!
//! Routing by hand (rather than with axum's router) keeps one place where every request —
//! including ones to routes nobody expected — is recorded the same way, and copes with Gemini's
//! `models/{model}:{action}` segments.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::record::{self, RecordedRequest, WireShape};
use super::{Reply, Shared, Usage, anthropic, gemini, lock, openai, schema};

/// Serves until `shutdown` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("ringlet-fake-api: cannot register listener with tokio: {err}");
            return;
        }
    };
    let app = Router::new()
        .fallback(handle)
        .with_state(shared)
        // Agents send their whole conversation and tool list every turn; the default 2 MB
        // limit would turn a long session into a confusing 413.
        .layer(DefaultBodyLimit::disable());
    tokio::select! {
        result = axum::serve(listener, app) => {
            if let Err(err) = result {
                eprintln!("ringlet-fake-api: server error: {err}");
            }
        }
        _ = shutdown => {}
    }
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Route {
    AnthropicMessages,
    AnthropicCountTokens,
    OpenAiResponses,
    OpenAiChat,
    /// `models/{model}:{action}`; `stream` for `streamGenerateContent`.
    GeminiGenerate {
        model: String,
        stream: bool,
    },
    GeminiCountTokens {
        model: String,
    },
    /// `GET /v1/models` (OpenAI/Anthropic list shape).
    ListModels,
    /// `GET /v1/models/{id}`.
    GetModel(String),
    /// `GET /v1beta/models` (Gemini list shape).
    GeminiListModels,
    /// `GET /v1beta/models/{id}`.
    GeminiGetModel(String),
    Unknown,
}

impl Route {
    fn shape(&self) -> WireShape {
        match self {
            Route::AnthropicMessages => WireShape::AnthropicMessages,
            Route::AnthropicCountTokens => WireShape::AnthropicCountTokens,
            Route::OpenAiResponses => WireShape::OpenAiResponses,
            Route::OpenAiChat => WireShape::OpenAiChatCompletions,
            Route::GeminiGenerate { stream: true, .. } => WireShape::GeminiStreamGenerateContent,
            Route::GeminiGenerate { stream: false, .. } => WireShape::GeminiGenerateContent,
            Route::GeminiCountTokens { .. } => WireShape::GeminiCountTokens,
            Route::ListModels
            | Route::GetModel(_)
            | Route::GeminiListModels
            | Route::GeminiGetModel(_) => WireShape::Models,
            Route::Unknown => WireShape::Unknown,
        }
    }
}

/// Maps method + path to a route. A trailing slash is ignored, and the OpenAI routes are also
/// accepted without `/v1` because some clients are configured with a base URL lacking it.
pub(crate) fn route(method: &Method, path: &str) -> Route {
    let path = path.trim_end_matches('/');
    if method == Method::POST {
        match path {
            "/v1/messages" => return Route::AnthropicMessages,
            "/v1/messages/count_tokens" => return Route::AnthropicCountTokens,
            "/v1/responses" | "/responses" => return Route::OpenAiResponses,
            "/v1/chat/completions" | "/chat/completions" => return Route::OpenAiChat,
            _ => {}
        }
        let gemini_rest = path
            .strip_prefix("/v1beta/models/")
            .or_else(|| path.strip_prefix("/v1/models/"))
            .or_else(|| path.strip_prefix("/v1alpha/models/"));
        if let Some((model, action)) = gemini_rest.and_then(|rest| rest.rsplit_once(':')) {
            let model = model.to_string();
            return match action {
                "generateContent" => Route::GeminiGenerate {
                    model,
                    stream: false,
                },
                "streamGenerateContent" => Route::GeminiGenerate {
                    model,
                    stream: true,
                },
                "countTokens" => Route::GeminiCountTokens { model },
                _ => Route::Unknown,
            };
        }
        return Route::Unknown;
    }
    if method == Method::GET {
        match path {
            "/v1/models" | "/models" => return Route::ListModels,
            "/v1beta/models" => return Route::GeminiListModels,
            _ => {}
        }
        if let Some(id) = path.strip_prefix("/v1/models/") {
            return Route::GetModel(id.to_string());
        }
        if let Some(id) = path.strip_prefix("/v1beta/models/") {
            return Route::GeminiGetModel(id.to_string());
        }
    }
    Route::Unknown
}

/// What the renderers need to write one response.
#[derive(Debug)]
pub(crate) struct Turn<'a> {
    /// Model to echo back.
    pub model: &'a str,
    /// Text or tool call (errors never reach the renderers).
    pub reply: &'a Reply,
    pub usage: &'a Usage,
    /// Unique suffix for the ids in this response (`fake_<instance>_<n>`): unique across fake API
    /// instances too, so usage importers that deduplicate by message id don't merge the responses
    /// of two test runs.
    pub id: String,
    /// Unix seconds.
    pub created: u64,
}

/// A rendered answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    pub streamed: bool,
}

impl Answer {
    pub(crate) fn json(status: StatusCode, body: &Value) -> Answer {
        Answer {
            status,
            content_type: "application/json",
            body: body.to_string(),
            streamed: false,
        }
    }

    pub(crate) fn sse(body: String) -> Answer {
        Answer {
            status: StatusCode::OK,
            content_type: "text/event-stream",
            body,
            streamed: true,
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let headers = record::headers_to_map(&headers);
    let query = uri.query().map(str::to_string);
    let body = record::parse_body(&body);
    let route = route(&method, uri.path());

    let body_model = body
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string);
    let model = body_model.or_else(|| match &route {
        Route::GeminiGenerate { model, .. } | Route::GeminiCountTokens { model } => {
            Some(model.clone())
        }
        _ => None,
    });

    let answer = answer(
        &shared,
        &route,
        &body,
        query.as_deref(),
        model.as_deref(),
        now.as_secs(),
    );

    let recorded = RecordedRequest {
        ts_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
        method: method.as_str().to_string(),
        path: uri.path().to_string(),
        api_key: record::extract_api_key(&headers, query.as_deref()),
        query,
        headers,
        body,
        model,
        shape: route.shape(),
        streamed: answer.streamed,
        status: answer.status.as_u16(),
    };
    // Record before answering, so once an agent has its answer the test can already see the
    // request that produced it.
    shared.record(recorded);

    (
        answer.status,
        [(header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response()
}

fn answer(
    shared: &Shared,
    route: &Route,
    body: &Value,
    query: Option<&str>,
    model: Option<&str>,
    created: u64,
) -> Answer {
    let model_or_default = model.unwrap_or("fake-model");
    match route {
        Route::ListModels => Answer::json(StatusCode::OK, &openai::list_models(&shared.models)),
        Route::GetModel(id) => Answer::json(StatusCode::OK, &openai::model_object(id)),
        Route::GeminiListModels => {
            Answer::json(StatusCode::OK, &gemini::list_models(&shared.models))
        }
        Route::GeminiGetModel(id) => Answer::json(StatusCode::OK, &gemini::model_object(id)),
        Route::AnthropicCountTokens => {
            Answer::json(StatusCode::OK, &anthropic::count_tokens(&shared.usage))
        }
        Route::GeminiCountTokens { .. } => {
            Answer::json(StatusCode::OK, &gemini::count_tokens(&shared.usage))
        }
        Route::Unknown => Answer::json(
            StatusCode::NOT_FOUND,
            &json!({"error": {"type": "not_found_error", "message": "route not served by the fake API"}}),
        ),
        Route::AnthropicMessages
        | Route::OpenAiResponses
        | Route::OpenAiChat
        | Route::GeminiGenerate { .. } => {
            let reply = next_reply(shared, route, body);
            if let Reply::Error { status, message } = &reply {
                let status =
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let error = match route {
                    Route::AnthropicMessages => anthropic::error(status, message),
                    Route::GeminiGenerate { .. } => gemini::error(status, message),
                    _ => openai::error(status, message),
                };
                return Answer::json(status, &error);
            }
            let turn = Turn {
                model: model_or_default,
                reply: &reply,
                usage: &shared.usage,
                id: format!(
                    "fake_{}_{:06}",
                    shared.instance,
                    shared.next_seq.fetch_add(1, Ordering::Relaxed)
                ),
                created,
            };
            let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
            match route {
                Route::AnthropicMessages => anthropic::messages(&turn, stream),
                Route::OpenAiResponses => openai::responses(&turn, stream),
                Route::OpenAiChat => {
                    let include_usage = body
                        .pointer("/stream_options/include_usage")
                        .and_then(Value::as_bool)
                        == Some(true);
                    openai::chat(&turn, stream, include_usage)
                }
                Route::GeminiGenerate { stream, .. } => {
                    let sse = record::query_param(query, "alt").as_deref() == Some("sse");
                    gemini::generate(&turn, *stream, sse)
                }
                // The outer match only lets generation routes through.
                _ => Answer::json(
                    StatusCode::NOT_FOUND,
                    &json!({"error": "not a generation route"}),
                ),
            }
        }
    }
}

/// Picks the reply for a generation request: a schema-shaped JSON value when the request asks
/// for one, else the next scripted reply (subject to `script_only_tool_requests`), else the
/// default text.
fn next_reply(shared: &Shared, route: &Route, body: &Value) -> Reply {
    if let Some(schema) = requested_schema(route, body) {
        let value = schema::synthesize(schema, &shared.default_text);
        return Reply::Text(value.to_string());
    }
    let has_tools = body
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|tools| !tools.is_empty());
    if (!shared.script_only_tool_requests || has_tools)
        && let Some(reply) = lock(&shared.replies).pop_front()
    {
        return reply;
    }
    Reply::Text(shared.default_text.clone())
}

/// The JSON schema a request wants its answer to match, if any.
fn requested_schema<'a>(route: &Route, body: &'a Value) -> Option<&'a Value> {
    match route {
        Route::GeminiGenerate { .. } => {
            let config = body.get("generationConfig")?;
            config
                .get("responseJsonSchema")
                .or_else(|| config.get("responseSchema"))
                .or_else(|| {
                    // JSON mode without a schema: any object will do.
                    (config.get("responseMimeType")?.as_str()? == "application/json")
                        .then_some(&Value::Null)
                })
        }
        Route::OpenAiChat => {
            let format = body.get("response_format")?;
            match format.get("type")?.as_str()? {
                "json_schema" => format.pointer("/json_schema/schema"),
                "json_object" => Some(&Value::Null),
                _ => None,
            }
        }
        Route::OpenAiResponses => {
            let format = body.pointer("/text/format")?;
            (format.get("type")?.as_str()? == "json_schema").then(|| format.get("schema"))?
        }
        _ => None,
    }
}
