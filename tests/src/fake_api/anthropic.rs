//! Anthropic Messages API responses (`POST /v1/messages`, `/v1/messages/count_tokens`).
//!
//! Used by Claude Code, Droid's `anthropic` provider and OpenCode's built-in `anthropic`
//! provider. The stream is the documented event sequence: `message_start` (carrying the input
//! usage), one content block (`content_block_start` / `_delta` / `_stop`), `message_delta`
//! (stop reason and final usage) and `message_stop`. Claude Code logs the usage it reads here to
//! `~/.claude/projects/…/*.jsonl`, which is what ringlet's usage importer reads back.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::server::{Answer, Turn};
use super::{Reply, Usage, sse};

/// Full usage object, as the real API sends it at the end of a response.
fn usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_creation_input_tokens,
            "ephemeral_1h_input_tokens": 0
        },
        "output_tokens": u.output_tokens,
        "service_tier": "standard"
    })
}

/// Content block and stop reason for a reply.
fn block(turn: &Turn) -> (Value, &'static str) {
    match turn.reply {
        Reply::ToolUse { name, input } => (
            json!({
                "type": "tool_use",
                "id": format!("toolu_{}", turn.id),
                "name": name,
                "input": input
            }),
            "tool_use",
        ),
        Reply::Text(text) => (json!({"type": "text", "text": text}), "end_turn"),
        Reply::Error { message, .. } => (json!({"type": "text", "text": message}), "end_turn"),
    }
}

/// Answer for `POST /v1/messages`.
pub(crate) fn messages(turn: &Turn, stream: bool) -> Answer {
    let id = format!("msg_{}", turn.id);
    let (block, stop_reason) = block(turn);
    if !stream {
        return Answer::json(
            StatusCode::OK,
            &json!({
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": turn.model,
                "content": [block],
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": usage(turn.usage)
            }),
        );
    }

    let mut out = String::new();
    // message_start carries the input side of the usage; output_tokens is a running count.
    let mut start_usage = usage(turn.usage);
    start_usage["output_tokens"] = json!(1);
    sse::event(
        &mut out,
        "message_start",
        &json!({
            "type": "message_start",
            "message": {
                "id": id,
                "type": "message",
                "role": "assistant",
                "model": turn.model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": start_usage
            }
        }),
    );
    // The block starts empty and its content arrives as deltas, like the real API.
    let (start_block, delta) = match &block["type"].as_str() {
        Some("tool_use") => {
            let mut empty = block.clone();
            empty["input"] = json!({});
            let partial = block["input"].to_string();
            (
                empty,
                json!({"type": "input_json_delta", "partial_json": partial}),
            )
        }
        _ => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": block["text"]}),
        ),
    };
    sse::event(
        &mut out,
        "content_block_start",
        &json!({"type": "content_block_start", "index": 0, "content_block": start_block}),
    );
    sse::event(&mut out, "ping", &json!({"type": "ping"}));
    sse::event(
        &mut out,
        "content_block_delta",
        &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
    );
    sse::event(
        &mut out,
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": 0}),
    );
    sse::event(
        &mut out,
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": usage(turn.usage)
        }),
    );
    sse::event(&mut out, "message_stop", &json!({"type": "message_stop"}));
    Answer::sse(out)
}

/// Answer for `POST /v1/messages/count_tokens`.
pub(crate) fn count_tokens(u: &Usage) -> Value {
    json!({"input_tokens": u.input_tokens})
}

/// Anthropic error body.
pub(crate) fn error(status: StatusCode, message: &str) -> Value {
    let kind = match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}
