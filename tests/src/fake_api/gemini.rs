//! Gemini API responses (`POST /v1beta/models/{model}:generateContent`,
//! `:streamGenerateContent`, `:countTokens`, `GET /v1beta/models`), used by Gemini CLI.
//!
//! Usage follows Gemini's accounting: `promptTokenCount` includes `cachedContentTokenCount`;
//! `candidatesTokenCount` excludes `thoughtsTokenCount`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::server::{Answer, Turn};
use super::{Reply, Usage, sse};

fn usage_metadata(u: &Usage) -> Value {
    let mut meta = json!({
        "promptTokenCount": u.prompt_tokens(),
        "candidatesTokenCount": u.output_tokens.saturating_sub(u.reasoning_tokens),
        "totalTokenCount": u.total_tokens(),
        "cachedContentTokenCount": u.cache_read_input_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": u.prompt_tokens()}]
    });
    if u.reasoning_tokens > 0 {
        meta["thoughtsTokenCount"] = json!(u.reasoning_tokens);
    }
    meta
}

fn response(turn: &Turn) -> Value {
    let part = match turn.reply {
        Reply::ToolUse { name, input } => json!({"functionCall": {"name": name, "args": input}}),
        Reply::Text(text) | Reply::Error { message: text, .. } => json!({"text": text}),
    };
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": [part]},
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": usage_metadata(turn.usage),
        "modelVersion": turn.model,
        "responseId": turn.id.clone()
    })
}

/// Answer for `generateContent` and `streamGenerateContent`.
///
/// The stream is a single chunk that carries the whole reply and the usage: `?alt=sse` gets it
/// as one SSE `data:` event (what the genai SDK asks for), without `alt=sse` as a JSON array of
/// chunks (the API's other streaming form).
pub(crate) fn generate(turn: &Turn, stream: bool, sse_format: bool) -> Answer {
    let body = response(turn);
    if !stream {
        return Answer::json(StatusCode::OK, &body);
    }
    if sse_format {
        let mut out = String::new();
        sse::data_only(&mut out, &body);
        return Answer::sse(out);
    }
    let mut answer = Answer::json(StatusCode::OK, &json!([body]));
    answer.streamed = true;
    answer
}

/// Answer for `:countTokens`.
pub(crate) fn count_tokens(u: &Usage) -> Value {
    json!({"totalTokens": u.prompt_tokens(), "cachedContentTokenCount": u.cache_read_input_tokens})
}

/// One model in Gemini's format.
pub(crate) fn model_object(id: &str) -> Value {
    let id = id.strip_prefix("models/").unwrap_or(id);
    json!({
        "name": format!("models/{id}"),
        "baseModelId": id,
        "version": "001",
        "displayName": id,
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens"]
    })
}

/// `GET /v1beta/models`.
pub(crate) fn list_models(models: &[String]) -> Value {
    json!({"models": models.iter().map(|m| model_object(m)).collect::<Vec<_>>()})
}

/// Gemini (Google API) error body.
pub(crate) fn error(status: StatusCode, message: &str) -> Value {
    let kind = match status.as_u16() {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => "INTERNAL",
    };
    json!({"error": {"code": status.as_u16(), "message": message, "status": kind}})
}
