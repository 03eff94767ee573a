//! Request bodies: Anthropic Messages ↔ OpenAI Chat Completions.
//!
//! What has no counterpart is dropped, not guessed: Anthropic's `thinking`, `top_k`,
//! `cache_control` and server tools (tools without an `input_schema`); OpenAI's `n`,
//! `logprobs`, `response_format`, penalties and `seed`. Images travel as data URLs one way and
//! base64 sources the other.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// What the response translation needs to know about the request it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The request asked for a stream.
    pub stream: bool,
    /// An OpenAI Chat client asked for a final usage chunk (`stream_options.include_usage`).
    pub include_usage: bool,
    /// The model asked of the upstream.
    pub model: String,
}

/// Anthropic's `max_tokens` is required; OpenAI's is not. The value sent when a Chat request
/// names none: large enough for any agent turn, small enough for every current Claude model.
pub const DEFAULT_MAX_TOKENS: u64 = 8192;

fn parse(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::InvalidInput(
            "the request body is not a JSON object".into(),
        )),
        Err(e) => Err(Error::InvalidInput(format!(
            "the request body is not JSON: {e}"
        ))),
    }
}

fn text_of_blocks(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| match b {
                Value::String(s) => Some(s.as_str()),
                _ => b.get("text").and_then(Value::as_str),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// An Anthropic image block as an OpenAI `image_url` part.
fn image_part(block: &Value) -> Option<Value> {
    let source = block.get("source")?;
    let url = match source.get("type").and_then(Value::as_str)? {
        "base64" => format!(
            "data:{};base64,{}",
            source.get("media_type")?.as_str()?,
            source.get("data")?.as_str()?
        ),
        "url" => source.get("url")?.as_str()?.to_string(),
        _ => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// An OpenAI `image_url` part as an Anthropic image block.
fn image_block(part: &Value) -> Option<Value> {
    let url = part.get("image_url")?.get("url")?.as_str()?;
    let source = match url
        .strip_prefix("data:")
        .and_then(|r| r.split_once(";base64,"))
    {
        Some((media_type, data)) => {
            json!({"type": "base64", "media_type": media_type, "data": data})
        }
        None => json!({"type": "url", "url": url}),
    };
    Some(json!({"type": "image", "source": source}))
}

/// Anthropic Messages → OpenAI Chat Completions. `model` replaces the request's when given.
pub fn anthropic_to_chat(body: &[u8], model: Option<&str>) -> Result<(Vec<u8>, RequestInfo)> {
    let req = parse(body)?;
    let mut out = Map::new();
    let model = model
        .map(str::to_string)
        .or_else(|| req.get("model").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    out.insert("model".into(), json!(model));
    let mut messages = Vec::new();
    if let Some(system) = req.get("system") {
        let text = text_of_blocks(system);
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        let content = m.get("content").unwrap_or(&Value::Null);
        let Some(blocks) = content.as_array() else {
            messages.push(json!({"role": role, "content": text_of_blocks(content)}));
            continue;
        };
        if role == "assistant" {
            let mut text = Vec::new();
            let mut calls = Vec::new();
            for b in blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => text.extend(b.get("text").and_then(Value::as_str)),
                    Some("tool_use") => calls.push(json!({
                        "id": b.get("id").cloned().unwrap_or(Value::Null),
                        "type": "function",
                        "function": {
                            "name": b.get("name").cloned().unwrap_or(Value::Null),
                            "arguments": b.get("input").unwrap_or(&json!({})).to_string(),
                        }
                    })),
                    // thinking, redacted_thinking: Chat has no way to send them back.
                    _ => {}
                }
            }
            let mut msg = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text.join("")) }});
            if !calls.is_empty() {
                msg["tool_calls"] = json!(calls);
            }
            messages.push(msg);
            continue;
        }
        // A user turn: tool results become `tool` messages, which must directly follow the
        // assistant's tool calls, so they go first; the rest stays one user message.
        let mut parts = Vec::new();
        for b in blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("tool_result") => {
                    let mut text = text_of_blocks(b.get("content").unwrap_or(&Value::Null));
                    if b.get("is_error").and_then(Value::as_bool) == Some(true) {
                        text = format!("Error: {text}");
                    }
                    messages.push(json!({
                        "role": "tool",
                        "tool_call_id": b.get("tool_use_id").cloned().unwrap_or(Value::Null),
                        "content": text,
                    }));
                }
                Some("text") => parts.push(
                    json!({"type": "text", "text": b.get("text").cloned().unwrap_or(json!(""))}),
                ),
                Some("image") => parts.extend(image_part(b)),
                _ => {}
            }
        }
        if parts.is_empty() {
            continue;
        }
        let all_text = parts.iter().all(|p| p["type"] == "text");
        let content = if all_text {
            json!(
                parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        } else {
            json!(parts)
        };
        messages.push(json!({"role": role, "content": content}));
    }
    out.insert("messages".into(), json!(messages));
    if let Some(tools) = req.get("tools").and_then(Value::as_array) {
        let tools: Vec<_> = tools
            .iter()
            .filter(|t| t.get("input_schema").is_some())
            .map(|t| {
                let mut f = json!({"name": t.get("name").cloned().unwrap_or(Value::Null), "parameters": t["input_schema"].clone()});
                if let Some(d) = t.get("description") {
                    f["description"] = d.clone();
                }
                json!({"type": "function", "function": f})
            })
            .collect();
        if !tools.is_empty() {
            out.insert("tools".into(), json!(tools));
        }
    }
    if let Some(choice) = req.get("tool_choice") {
        let mapped = match choice.get("type").and_then(Value::as_str) {
            Some("auto") => Some(json!("auto")),
            Some("any") => Some(json!("required")),
            Some("none") => Some(json!("none")),
            Some("tool") => Some(
                json!({"type": "function", "function": {"name": choice.get("name").cloned().unwrap_or(Value::Null)}}),
            ),
            _ => None,
        };
        if out.contains_key("tools") || mapped == Some(json!("none")) {
            out.extend(mapped.map(|m| ("tool_choice".to_string(), m)));
        }
        if choice
            .get("disable_parallel_tool_use")
            .and_then(Value::as_bool)
            == Some(true)
            && out.contains_key("tools")
        {
            out.insert("parallel_tool_calls".into(), json!(false));
        }
    }
    for (from, to) in [
        ("max_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("stop_sequences", "stop"),
    ] {
        if let Some(v) = req.get(from) {
            out.insert(to.into(), v.clone());
        }
    }
    if let Some(user) = req.get("metadata").and_then(|m| m.get("user_id")) {
        out.insert("user".into(), user.clone());
    }
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    if stream {
        out.insert("stream".into(), json!(true));
        // Without it an OpenAI stream carries no usage, and the translated message_delta would
        // report none.
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    let bytes =
        serde_json::to_vec(&Value::Object(out)).map_err(|e| Error::InvalidInput(e.to_string()))?;
    Ok((
        bytes,
        RequestInfo {
            stream,
            include_usage: stream,
            model,
        },
    ))
}

/// Appends `block` to the last message when it has `role`, else starts a new one: Anthropic
/// wants user and assistant turns to alternate.
fn push_block(messages: &mut Vec<Value>, role: &str, block: Value) {
    if let Some(last) = messages.last_mut()
        && last["role"] == role
        && let Some(blocks) = last["content"].as_array_mut()
    {
        blocks.push(block);
        return;
    }
    messages.push(json!({"role": role, "content": [block]}));
}

/// OpenAI Chat's content (a string or parts) as Anthropic blocks.
fn chat_blocks(content: &Value) -> Vec<Value> {
    match content {
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(s) => vec![json!({"type": "text", "text": s})],
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                Some("text") => Some(
                    json!({"type": "text", "text": p.get("text").cloned().unwrap_or(json!(""))}),
                ),
                Some("image_url") => image_block(p),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// OpenAI Chat Completions → Anthropic Messages. `model` replaces the request's when given.
pub fn chat_to_anthropic(body: &[u8], model: Option<&str>) -> Result<(Vec<u8>, RequestInfo)> {
    let req = parse(body)?;
    let mut out = Map::new();
    let model = model
        .map(str::to_string)
        .or_else(|| req.get("model").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    out.insert("model".into(), json!(model));
    let mut system = Vec::new();
    let mut messages: Vec<Value> = Vec::new();
    for m in req
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let content = m.get("content").unwrap_or(&Value::Null);
        match m.get("role").and_then(Value::as_str) {
            Some("system" | "developer") => system.push(text_of_blocks(content)),
            Some("assistant") => {
                for b in chat_blocks(content) {
                    push_block(&mut messages, "assistant", b);
                }
                for call in m
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let f = call.get("function").unwrap_or(&Value::Null);
                    let args = f.get("arguments").and_then(Value::as_str).unwrap_or("{}");
                    // A model can emit arguments that are not JSON; Anthropic needs an object.
                    let input = match serde_json::from_str::<Value>(args) {
                        Ok(v @ Value::Object(_)) => v,
                        _ => json!({}),
                    };
                    push_block(
                        &mut messages,
                        "assistant",
                        json!({"type": "tool_use", "id": call.get("id").cloned().unwrap_or(Value::Null), "name": f.get("name").cloned().unwrap_or(Value::Null), "input": input}),
                    );
                }
            }
            Some("tool") => push_block(
                &mut messages,
                "user",
                json!({"type": "tool_result", "tool_use_id": m.get("tool_call_id").cloned().unwrap_or(Value::Null), "content": text_of_blocks(content)}),
            ),
            _ => {
                for b in chat_blocks(content) {
                    push_block(&mut messages, "user", b);
                }
            }
        }
    }
    let system: Vec<_> = system.into_iter().filter(|s| !s.is_empty()).collect();
    if !system.is_empty() {
        out.insert("system".into(), json!(system.join("\n\n")));
    }
    out.insert("messages".into(), json!(messages));
    let max_tokens = req
        .get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_TOKENS);
    out.insert("max_tokens".into(), json!(max_tokens));
    if let Some(tools) = req.get("tools").and_then(Value::as_array) {
        let tools: Vec<_> = tools
            .iter()
            .filter_map(|t| t.get("function"))
            .map(|f| {
                let mut tool = json!({
                    "name": f.get("name").cloned().unwrap_or(Value::Null),
                    "input_schema": f.get("parameters").cloned().unwrap_or(json!({"type": "object", "properties": {}})),
                });
                if let Some(d) = f.get("description") {
                    tool["description"] = d.clone();
                }
                tool
            })
            .collect();
        if !tools.is_empty() {
            out.insert("tools".into(), json!(tools));
        }
    }
    let mut choice = match req.get("tool_choice") {
        Some(Value::String(s)) if s == "required" => Some(json!({"type": "any"})),
        Some(Value::String(s)) if s == "none" => Some(json!({"type": "none"})),
        Some(Value::String(s)) if s == "auto" => Some(json!({"type": "auto"})),
        Some(Value::Object(o)) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .map(|name| json!({"type": "tool", "name": name})),
        _ => None,
    };
    if req.get("parallel_tool_calls").and_then(Value::as_bool) == Some(false)
        && out.contains_key("tools")
    {
        let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
        c["disable_parallel_tool_use"] = json!(true);
    }
    if let Some(c) = choice
        && (out.contains_key("tools") || c["type"] == "none")
    {
        out.insert("tool_choice".into(), c);
    }
    if let Some(t) = req.get("temperature").and_then(Value::as_f64) {
        // OpenAI's range is 0-2, Anthropic's 0-1.
        out.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
    }
    if let Some(p) = req.get("top_p") {
        out.insert("top_p".into(), p.clone());
    }
    match req.get("stop") {
        Some(Value::String(s)) => {
            out.insert("stop_sequences".into(), json!([s]));
        }
        Some(Value::Array(a)) => {
            out.insert("stop_sequences".into(), json!(a));
        }
        _ => {}
    }
    if let Some(user) = req.get("user") {
        out.insert("metadata".into(), json!({"user_id": user}));
    }
    let stream = req.get("stream").and_then(Value::as_bool) == Some(true);
    if stream {
        out.insert("stream".into(), json!(true));
    }
    let include_usage = req
        .get("stream_options")
        .and_then(|o| o.get("include_usage"))
        .and_then(Value::as_bool)
        == Some(true);
    let bytes =
        serde_json::to_vec(&Value::Object(out)).map_err(|e| Error::InvalidInput(e.to_string()))?;
    Ok((
        bytes,
        RequestInfo {
            stream,
            include_usage,
            model,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a2c(v: Value) -> Value {
        let (bytes, _) =
            anthropic_to_chat(&serde_json::to_vec(&v).expect("json"), None).expect("translates");
        serde_json::from_slice(&bytes).expect("json")
    }

    fn c2a(v: Value) -> Value {
        let (bytes, _) =
            chat_to_anthropic(&serde_json::to_vec(&v).expect("json"), None).expect("translates");
        serde_json::from_slice(&bytes).expect("json")
    }

    fn claude_code_turn() -> Value {
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 32000,
            "stream": true,
            "temperature": 1,
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "tools": [
                {"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}},
                {"type": "web_search_20250305", "name": "web_search"}
            ],
            "tool_choice": {"type": "auto"},
            "metadata": {"user_id": "u1"},
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "list files"}]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "text", "text": "Running ls."},
                    {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "a.txt"}]},
                    {"type": "text", "text": "now count them"}
                ]}
            ]
        })
    }

    #[test]
    fn a_claude_code_turn_becomes_a_chat_request() {
        let out = a2c(claude_code_turn());
        assert_eq!(
            out,
            json!({
                "model": "claude-sonnet-4-5",
                "messages": [
                    {"role": "system", "content": "You are Claude Code."},
                    {"role": "user", "content": "list files"},
                    {"role": "assistant", "content": "Running ls.", "tool_calls": [
                        {"id": "toolu_1", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "toolu_1", "content": "a.txt"},
                    {"role": "user", "content": "now count them"}
                ],
                "tools": [{"type": "function", "function": {"name": "Bash", "parameters": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}, "description": "Run a command"}}],
                "tool_choice": "auto",
                "max_tokens": 32000,
                "temperature": 1,
                "user": "u1",
                "stream": true,
                "stream_options": {"include_usage": true}
            })
        );
    }

    #[test]
    fn the_model_is_replaced_when_the_route_names_one() {
        let (bytes, info) =
            anthropic_to_chat(br#"{"model":"claude","messages":[]}"#, Some("llama")).expect("ok");
        assert!(String::from_utf8_lossy(&bytes).contains("\"llama\""));
        assert_eq!(
            info,
            RequestInfo {
                stream: false,
                include_usage: false,
                model: "llama".into()
            }
        );
        let (_, info) = chat_to_anthropic(br#"{"model":"gpt","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#, Some("claude")).expect("ok");
        assert_eq!(
            info,
            RequestInfo {
                stream: true,
                include_usage: true,
                model: "claude".into()
            }
        );
    }

    #[test]
    fn a_chat_request_becomes_alternating_anthropic_turns() {
        let out = c2a(json!({
            "model": "gpt-5",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{\"path\":\"a\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "read", "arguments": "not json"}}
                ]},
                {"role": "tool", "tool_call_id": "call_1", "content": "A"},
                {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "B"}]},
                {"role": "user", "content": [{"type": "text", "text": "and?"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}}]}
            ],
            "tools": [{"type": "function", "function": {"name": "read", "description": "Read", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
            "parallel_tool_calls": false,
            "max_completion_tokens": 100,
            "temperature": 1.5,
            "stop": "END",
            "user": "u"
        }));
        assert_eq!(
            out,
            json!({
                "model": "gpt-5",
                "system": "sys\n\ndev",
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                    {"role": "assistant", "content": [
                        {"type": "tool_use", "id": "call_1", "name": "read", "input": {"path": "a"}},
                        {"type": "tool_use", "id": "call_2", "name": "read", "input": {}}
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "call_1", "content": "A"},
                        {"type": "tool_result", "tool_use_id": "call_2", "content": "B"},
                        {"type": "text", "text": "and?"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}}
                    ]}
                ],
                "max_tokens": 100,
                "tools": [{"name": "read", "input_schema": {"type": "object"}, "description": "Read"}],
                "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
                "temperature": 1.0,
                "stop_sequences": ["END"],
                "metadata": {"user_id": "u"}
            })
        );
    }

    #[test]
    fn max_tokens_is_supplied_when_a_chat_request_has_none() {
        let out = c2a(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}));
        assert_eq!(out["max_tokens"], DEFAULT_MAX_TOKENS);
    }

    #[test]
    fn tool_choice_for_one_tool_maps_both_ways() {
        let a = a2c(
            json!({"model": "m", "messages": [], "tools": [{"name": "f", "input_schema": {}}], "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true}}),
        );
        assert_eq!(
            a["tool_choice"],
            json!({"type": "function", "function": {"name": "f"}})
        );
        assert_eq!(a["parallel_tool_calls"], false);
        let c = c2a(
            json!({"model": "m", "messages": [], "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "f"}}}),
        );
        assert_eq!(c["tool_choice"], json!({"type": "tool", "name": "f"}));
        assert_eq!(
            c["tools"][0]["input_schema"],
            json!({"type": "object", "properties": {}})
        );
    }

    /// Anthropic → Chat → Anthropic keeps what both can say (text, tool calls and results,
    /// system, limits), in alternating turns.
    #[test]
    fn a_round_trip_keeps_the_conversation() {
        let original = claude_code_turn();
        let (chat, _) =
            anthropic_to_chat(&serde_json::to_vec(&original).expect("json"), None).expect("there");
        let (back, _) = chat_to_anthropic(&chat, None).expect("back");
        let back: Value = serde_json::from_slice(&back).expect("json");
        assert_eq!(back["system"], "You are Claude Code.");
        assert_eq!(back["max_tokens"], 32000);
        assert_eq!(
            back["messages"][1]["content"][1],
            json!({"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}})
        );
        assert_eq!(
            back["messages"][2]["content"][0],
            json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"})
        );
        assert_eq!(back["tools"][0]["name"], "Bash");
        assert_eq!(
            back["tools"].as_array().map(Vec::len),
            Some(1),
            "the server tool has no Chat form"
        );
    }

    #[test]
    fn bodies_that_are_not_objects_are_refused() {
        assert!(anthropic_to_chat(b"[1]", None).is_err());
        assert!(chat_to_anthropic(b"{", None).is_err());
    }
}
