//! OpenAI responses: Responses API (`POST /v1/responses`, Codex and Droid's `openai` provider),
//! Chat Completions (`POST /v1/chat/completions`, Grok CLI, OpenCode's openai-compatible
//! providers, Droid's `generic-chat-completion-api`) and the model list.
//!
//! Usage follows OpenAI's accounting: `input_tokens` includes the cached part
//! (`input_tokens_details.cached_tokens`), `output_tokens` includes reasoning.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::server::{Answer, Turn};
use super::{Reply, Usage, sse};

fn responses_usage(u: &Usage) -> Value {
    json!({
        "input_tokens": u.prompt_tokens(),
        "input_tokens_details": {"cached_tokens": u.cache_read_input_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total_tokens()
    })
}

fn chat_usage(u: &Usage) -> Value {
    json!({
        "prompt_tokens": u.prompt_tokens(),
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total_tokens(),
        "prompt_tokens_details": {"cached_tokens": u.cache_read_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens}
    })
}

/// Text of a reply, or `None` for a tool call.
fn text_of(reply: &Reply) -> Option<&str> {
    match reply {
        Reply::Text(text) => Some(text),
        Reply::Error { message, .. } => Some(message),
        Reply::ToolUse { .. } => None,
    }
}

/// The finished output item of a Responses API answer.
fn response_item(turn: &Turn) -> Value {
    match turn.reply {
        Reply::ToolUse { name, input } => json!({
            "type": "function_call",
            "id": format!("fc_{}", turn.id),
            "call_id": format!("call_{}", turn.id),
            "name": name,
            "arguments": input.to_string(),
            "status": "completed"
        }),
        reply => json!({
            "type": "message",
            "id": format!("msg_{}", turn.id),
            "status": "completed",
            "role": "assistant",
            "content": [{
                "type": "output_text",
                "text": text_of(reply).unwrap_or_default(),
                "annotations": []
            }]
        }),
    }
}

fn response_object(turn: &Turn, status: &str, output: Vec<Value>, usage: Value) -> Value {
    json!({
        "id": format!("resp_{}", turn.id),
        "object": "response",
        "created_at": turn.created,
        "status": status,
        "model": turn.model,
        "output": output,
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage
    })
}

/// Answer for `POST /v1/responses`.
///
/// Streams the full event sequence for one output item, ending in `response.completed` with the
/// usage; Codex reads its token counts from that last event and errors out if the stream ends
/// without it.
pub(crate) fn responses(turn: &Turn, stream: bool) -> Answer {
    let item = response_item(turn);
    if !stream {
        return Answer::json(
            StatusCode::OK,
            &response_object(turn, "completed", vec![item], responses_usage(turn.usage)),
        );
    }

    let mut out = String::new();
    let mut seq = 0u64;
    let mut emit = |out: &mut String, name: &str, mut data: Value| {
        data["type"] = json!(name);
        data["sequence_number"] = json!(seq);
        seq += 1;
        sse::event(out, name, &data);
    };
    let item_id = item["id"].clone();

    emit(
        &mut out,
        "response.created",
        json!({"response": response_object(turn, "in_progress", vec![], Value::Null)}),
    );
    emit(
        &mut out,
        "response.in_progress",
        json!({"response": response_object(turn, "in_progress", vec![], Value::Null)}),
    );
    match turn.reply {
        Reply::ToolUse { .. } => {
            let mut added = item.clone();
            added["arguments"] = json!("");
            added["status"] = json!("in_progress");
            emit(
                &mut out,
                "response.output_item.added",
                json!({"output_index": 0, "item": added}),
            );
            emit(
                &mut out,
                "response.function_call_arguments.delta",
                json!({"item_id": item_id, "output_index": 0, "delta": item["arguments"]}),
            );
            emit(
                &mut out,
                "response.function_call_arguments.done",
                json!({"item_id": item_id, "output_index": 0, "arguments": item["arguments"]}),
            );
        }
        reply => {
            let text = text_of(reply).unwrap_or_default();
            let mut added = item.clone();
            added["status"] = json!("in_progress");
            added["content"] = json!([]);
            emit(
                &mut out,
                "response.output_item.added",
                json!({"output_index": 0, "item": added}),
            );
            let part_at = json!({"item_id": item_id, "output_index": 0, "content_index": 0});
            let with = |mut base: Value, key: &str, value: Value| {
                base[key] = value;
                base
            };
            emit(
                &mut out,
                "response.content_part.added",
                with(
                    part_at.clone(),
                    "part",
                    json!({"type": "output_text", "text": "", "annotations": []}),
                ),
            );
            emit(
                &mut out,
                "response.output_text.delta",
                with(part_at.clone(), "delta", json!(text)),
            );
            emit(
                &mut out,
                "response.output_text.done",
                with(part_at.clone(), "text", json!(text)),
            );
            emit(
                &mut out,
                "response.content_part.done",
                with(
                    part_at,
                    "part",
                    json!({"type": "output_text", "text": text, "annotations": []}),
                ),
            );
        }
    }
    emit(
        &mut out,
        "response.output_item.done",
        json!({"output_index": 0, "item": item}),
    );
    emit(
        &mut out,
        "response.completed",
        json!({"response": response_object(turn, "completed", vec![item], responses_usage(turn.usage))}),
    );
    Answer::sse(out)
}

/// Answer for `POST /v1/chat/completions`. When streaming, usage goes in an extra final chunk
/// with empty `choices` only if the client asked for it with `stream_options.include_usage`,
/// as the real API does.
pub(crate) fn chat(turn: &Turn, stream: bool, include_usage: bool) -> Answer {
    let id = format!("chatcmpl-{}", turn.id);
    let (message, finish_reason) = match turn.reply {
        Reply::ToolUse { name, input } => (
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": format!("call_{}", turn.id),
                    "type": "function",
                    "function": {"name": name, "arguments": input.to_string()}
                }]
            }),
            "tool_calls",
        ),
        reply => (
            json!({"role": "assistant", "content": text_of(reply).unwrap_or_default()}),
            "stop",
        ),
    };

    if !stream {
        return Answer::json(
            StatusCode::OK,
            &json!({
                "id": id,
                "object": "chat.completion",
                "created": turn.created,
                "model": turn.model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
                "usage": chat_usage(turn.usage)
            }),
        );
    }

    let chunk = |choices: Value| {
        json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": turn.created,
            "model": turn.model,
            "choices": choices
        })
    };
    let mut out = String::new();
    sse::data_only(
        &mut out,
        &chunk(json!([{
            "index": 0,
            "delta": {"role": "assistant", "content": ""},
            "finish_reason": null
        }])),
    );
    let delta = match message.get("tool_calls") {
        Some(calls) => {
            let mut calls = calls.clone();
            calls[0]["index"] = json!(0);
            json!({"tool_calls": calls})
        }
        None => json!({"content": message["content"]}),
    };
    sse::data_only(
        &mut out,
        &chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}])),
    );
    sse::data_only(
        &mut out,
        &chunk(json!([{"index": 0, "delta": {}, "finish_reason": finish_reason}])),
    );
    if include_usage {
        let mut last = chunk(json!([]));
        last["usage"] = chat_usage(turn.usage);
        sse::data_only(&mut out, &last);
    }
    sse::done(&mut out);
    Answer::sse(out)
}

/// One model entry, with the fields of both the OpenAI and the Anthropic list formats so either
/// kind of client parses it.
pub(crate) fn model_object(id: &str) -> Value {
    json!({
        "id": id,
        "object": "model",
        "type": "model",
        "created": 0,
        "created_at": "2025-01-01T00:00:00Z",
        "owned_by": "ringlet-fake-api",
        "display_name": id
    })
}

/// `GET /v1/models`: OpenAI's `{object: "list", data}` plus Anthropic's paging fields.
pub(crate) fn list_models(models: &[String]) -> Value {
    json!({
        "object": "list",
        "data": models.iter().map(|m| model_object(m)).collect::<Vec<_>>(),
        "has_more": false,
        "first_id": models.first(),
        "last_id": models.last()
    })
}

/// OpenAI error body.
pub(crate) fn error(status: StatusCode, message: &str) -> Value {
    let kind = match status.as_u16() {
        401 => "invalid_api_key",
        429 => "rate_limit_exceeded",
        400 => "invalid_request_error",
        _ => "server_error",
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": kind}})
}
