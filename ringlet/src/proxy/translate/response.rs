//! Whole (non-streamed) responses, usage and errors: Anthropic Messages ↔ OpenAI Chat.
//!
//! The response id is kept as the upstream sent it, so the ledger's dedup key is the same
//! whether the proxy reads the upstream's answer or an importer reads the agent's log of the
//! translated one.

use serde_json::{Value, json};

use crate::error::{Error, Result};

/// Anthropic's `stop_reason` for an OpenAI `finish_reason`.
pub fn stop_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    }
}

/// OpenAI's `finish_reason` for an Anthropic `stop_reason`.
pub fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// OpenAI usage as Anthropic's. OpenAI's `prompt_tokens` include the cached ones; Anthropic's
/// `input_tokens` do not, so the cached part moves to `cache_read_input_tokens`.
pub fn anthropic_usage(chat: &Value) -> Value {
    let prompt = chat
        .get("prompt_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let cached = chat
        .pointer("/prompt_tokens_details/cached_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(prompt);
    json!({
        "input_tokens": prompt - cached,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
        "output_tokens": chat.get("completion_tokens").and_then(Value::as_u64).unwrap_or(0),
    })
}

/// Anthropic usage as OpenAI's: prompt tokens are all input, cache reads and writes included.
pub fn chat_usage(anthropic: &Value) -> Value {
    let n = |k: &str| anthropic.get(k).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("cache_read_input_tokens");
    let prompt = n("input_tokens") + cached + n("cache_creation_input_tokens");
    let completion = n("output_tokens");
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    })
}

fn parse(body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body)
        .map_err(|e| Error::InvalidInput(format!("the upstream's response is not JSON: {e}")))
}

fn to_bytes(v: &Value) -> Vec<u8> {
    // A `Value` always serialises.
    serde_json::to_vec(v).unwrap_or_default()
}

/// An OpenAI Chat completion as an Anthropic message.
pub fn chat_to_anthropic(body: &[u8]) -> Result<Vec<u8>> {
    let r = parse(body)?;
    let choice = r.pointer("/choices/0").unwrap_or(&Value::Null);
    let message = choice.get("message").unwrap_or(&Value::Null);
    let mut content = Vec::new();
    if let Some(text) = message
        .get("content")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        content.push(json!({"type": "text", "text": text}));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let f = call.get("function").unwrap_or(&Value::Null);
        let input = match f
            .get("arguments")
            .and_then(Value::as_str)
            .map(serde_json::from_str::<Value>)
        {
            Some(Ok(v @ Value::Object(_))) => v,
            _ => json!({}),
        };
        content.push(json!({"type": "tool_use", "id": call.get("id").cloned().unwrap_or(Value::Null), "name": f.get("name").cloned().unwrap_or(Value::Null), "input": input}));
    }
    let finish = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .unwrap_or("stop");
    Ok(to_bytes(&json!({
        "id": r.get("id").cloned().unwrap_or(Value::Null),
        "type": "message",
        "role": "assistant",
        "model": r.get("model").cloned().unwrap_or(Value::Null),
        "content": content,
        "stop_reason": stop_reason(finish),
        "stop_sequence": null,
        "usage": anthropic_usage(r.get("usage").unwrap_or(&Value::Null)),
    })))
}

/// An Anthropic message as an OpenAI Chat completion. `created` is the Unix time to stamp it
/// with (Anthropic's messages carry none).
pub fn anthropic_to_chat(body: &[u8], created: u64) -> Result<Vec<u8>> {
    let r = parse(body)?;
    let mut text = String::new();
    let mut calls = Vec::new();
    for b in r
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match b.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or_default()),
            Some("tool_use") => calls.push(json!({
                "id": b.get("id").cloned().unwrap_or(Value::Null),
                "type": "function",
                "function": {"name": b.get("name").cloned().unwrap_or(Value::Null), "arguments": b.get("input").unwrap_or(&json!({})).to_string()},
            })),
            _ => {}
        }
    }
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }});
    if !calls.is_empty() {
        message["tool_calls"] = json!(calls);
    }
    let stop = r
        .get("stop_reason")
        .and_then(Value::as_str)
        .unwrap_or("end_turn");
    Ok(to_bytes(&json!({
        "id": r.get("id").cloned().unwrap_or(Value::Null),
        "object": "chat.completion",
        "created": created,
        "model": r.get("model").cloned().unwrap_or(Value::Null),
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(stop)}],
        "usage": chat_usage(r.get("usage").unwrap_or(&Value::Null)),
    })))
}

/// Anthropic's error `type` for an HTTP status.
pub fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// The message of an error body in either shape, else the body as text.
fn error_message(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    v.pointer("/error/message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(2000).collect())
}

/// An error body (either shape, or text) in Anthropic's shape, for `status`.
pub fn anthropic_error(status: u16, body: &[u8]) -> Vec<u8> {
    to_bytes(
        &json!({"type": "error", "error": {"type": anthropic_error_type(status), "message": error_message(body)}}),
    )
}

/// An error body (either shape, or text) in OpenAI's shape, for `status`.
pub fn chat_error(status: u16, body: &[u8]) -> Vec<u8> {
    let (kind, code) = match status {
        401 => ("invalid_request_error", "invalid_api_key"),
        429 => ("rate_limit_exceeded", "rate_limit_exceeded"),
        400..=499 => ("invalid_request_error", "invalid_request"),
        _ => ("server_error", "server_error"),
    };
    to_bytes(
        &json!({"error": {"message": error_message(body), "type": kind, "param": null, "code": code}}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(b: Vec<u8>) -> Value {
        serde_json::from_slice(&b).expect("json")
    }

    #[test]
    fn a_chat_tool_call_becomes_a_tool_use_message() {
        let chat = json!({
            "id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "llama",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": "Let me look.",
                "tool_calls": [{"id": "call_7", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}}]}}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150, "prompt_tokens_details": {"cached_tokens": 20}}
        });
        let out = v(chat_to_anthropic(&serde_json::to_vec(&chat).expect("json")).expect("ok"));
        assert_eq!(
            out,
            json!({
                "id": "chatcmpl-9", "type": "message", "role": "assistant", "model": "llama",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "id": "call_7", "name": "Bash", "input": {"command": "ls"}}
                ],
                "stop_reason": "tool_use", "stop_sequence": null,
                "usage": {"input_tokens": 100, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 20, "output_tokens": 30}
            })
        );
    }

    #[test]
    fn an_anthropic_message_becomes_a_chat_completion() {
        let msg = json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
            "content": [{"type": "thinking", "thinking": "…"}, {"type": "tool_use", "id": "toolu_1", "name": "read", "input": {"p": 1}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 2, "output_tokens": 7}
        });
        let out = v(anthropic_to_chat(&serde_json::to_vec(&msg).expect("json"), 42).expect("ok"));
        assert_eq!(
            out,
            json!({
                "id": "msg_1", "object": "chat.completion", "created": 42, "model": "claude-haiku-4-5",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
                    "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "read", "arguments": "{\"p\":1}"}}]}}],
                "usage": {"prompt_tokens": 17, "completion_tokens": 7, "total_tokens": 24, "prompt_tokens_details": {"cached_tokens": 5}}
            })
        );
    }

    #[test]
    fn usage_round_trips_through_both_accountings() {
        let a = json!({"input_tokens": 90, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0, "output_tokens": 5});
        let back = anthropic_usage(&chat_usage(&a));
        assert_eq!(
            back,
            json!({"input_tokens": 90, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 10, "output_tokens": 5})
        );
    }

    #[test]
    fn stop_and_finish_reasons_map_both_ways() {
        for (finish, stop) in [
            ("stop", "end_turn"),
            ("length", "max_tokens"),
            ("tool_calls", "tool_use"),
            ("content_filter", "refusal"),
        ] {
            assert_eq!(stop_reason(finish), stop);
            assert_eq!(finish_reason(stop), finish);
        }
        assert_eq!(finish_reason("stop_sequence"), "stop");
    }

    #[test]
    fn errors_keep_their_message_in_the_agents_shape() {
        let openai = br#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        assert_eq!(
            v(anthropic_error(429, openai)),
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limit reached"}})
        );
        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            v(chat_error(529, anthropic))["error"]["message"],
            "Overloaded"
        );
        assert_eq!(
            v(chat_error(503, b"upstream down"))["error"]["message"],
            "upstream down"
        );
        assert_eq!(v(chat_error(401, b""))["error"]["code"], "invalid_api_key");
    }

    #[test]
    fn a_response_that_is_not_json_is_an_error() {
        assert!(chat_to_anthropic(b"<html>").is_err());
        assert!(anthropic_to_chat(b"", 0).is_err());
    }
}
