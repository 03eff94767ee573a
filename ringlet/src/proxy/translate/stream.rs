//! Streamed responses, translated event by event as the upstream's bytes arrive: nothing is held
//! back beyond the line being read, so the agent's time to first token is the upstream's.
//!
//! OpenAI streams parallel tool calls one after another (each call's id and name, then its
//! argument fragments); Anthropic's content blocks are strictly sequential too, so a call maps
//! to one block. A fragment for a call whose block was already closed (an upstream that
//! interleaves calls) cannot be sent in Anthropic's shape and is dropped.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use super::response::{anthropic_usage, chat_usage, finish_reason, stop_reason};
use super::sse::{SseEvent, SseParser, write_event};

/// A streamed response being translated: bytes of the upstream's SSE in, the agent's out.
pub trait StreamTranslator: Send + Sync {
    /// Translates `chunk`, appending what can be sent now to `out`.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>);
    /// The upstream's stream ended; appends whatever closes the agent's.
    fn finish(&mut self, out: &mut Vec<u8>);
}

fn event(out: &mut Vec<u8>, name: &str, data: &Value) {
    write_event(out, Some(name), &data.to_string());
}

/// The block open in the Anthropic stream being written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    /// A tool call: OpenAI's index of the call.
    Tool(u64),
}

/// OpenAI Chat chunks → Anthropic Messages events (Claude Code routed to an OpenAI-compatible
/// provider).
#[derive(Debug)]
pub struct ChatToAnthropic {
    sse: SseParser,
    model: String,
    started: bool,
    done: bool,
    open: Option<Open>,
    next_block: u64,
    seen_tools: HashSet<u64>,
    stop_reason: Option<&'static str>,
    usage: Option<Value>,
}

impl ChatToAnthropic {
    /// A translator for a response to a request for `model` (used when chunks name none).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            sse: SseParser::default(),
            model: model.into(),
            started: false,
            done: false,
            open: None,
            next_block: 0,
            seen_tools: HashSet::new(),
            stop_reason: None,
            usage: None,
        }
    }

    fn start(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let model = chunk
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(&self.model);
        event(
            out,
            "message_start",
            &json!({
                "type": "message_start",
                "message": {
                    "id": chunk.get("id").cloned().unwrap_or(json!("msg_ringlet")),
                    "type": "message", "role": "assistant", "model": model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": 0, "output_tokens": 0},
                }
            }),
        );
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            event(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": self.next_block - 1}),
            );
        }
    }

    fn open(&mut self, kind: Open, block: Value, out: &mut Vec<u8>) {
        self.close(out);
        event(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": self.next_block, "content_block": block}),
        );
        self.next_block += 1;
        self.open = Some(kind);
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if let Some(error) = chunk.get("error") {
            self.start(chunk, out);
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("upstream error");
            event(
                out,
                "error",
                &json!({"type": "error", "error": {"type": "api_error", "message": message}}),
            );
            self.done = true;
            return;
        }
        self.start(chunk, out);
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(u.clone());
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return;
        };
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(text) = delta
            .get("content")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            if self.open != Some(Open::Text) {
                self.open(Open::Text, json!({"type": "text", "text": ""}), out);
            }
            let index = self.next_block - 1;
            event(
                out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
            );
        }
        for (position, call) in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let idx = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(position as u64);
            let f = call.get("function").unwrap_or(&Value::Null);
            if self.seen_tools.insert(idx) {
                let block = json!({
                    "type": "tool_use",
                    "id": call.get("id").cloned().unwrap_or_else(|| json!(format!("toolu_ringlet_{idx}"))),
                    "name": f.get("name").cloned().unwrap_or(json!("")),
                    "input": {},
                });
                self.open(Open::Tool(idx), block, out);
            }
            let args = f
                .get("arguments")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !args.is_empty() && self.open == Some(Open::Tool(idx)) {
                let index = self.next_block - 1;
                event(
                    out,
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": args}}),
                );
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.stop_reason = Some(stop_reason(reason));
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.start(&Value::Null, out);
        self.close(out);
        let usage = anthropic_usage(self.usage.as_ref().unwrap_or(&Value::Null));
        event(
            out,
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": self.stop_reason.unwrap_or("end_turn"), "stop_sequence": null},
                "usage": usage,
            }),
        );
        event(out, "message_stop", &json!({"type": "message_stop"}));
        self.done = true;
    }

    fn on(&mut self, e: SseEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if e.data.trim() == "[DONE]" {
            self.end(out);
        } else if let Ok(chunk) = serde_json::from_str::<Value>(&e.data) {
            self.chunk(&chunk, out);
        }
    }
}

impl StreamTranslator for ChatToAnthropic {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut events = Vec::new();
        self.sse.feed(chunk, |e| events.push(e));
        for e in events {
            self.on(e, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        let mut events = Vec::new();
        self.sse.finish(|e| events.push(e));
        for e in events {
            self.on(e, out);
        }
        // An upstream that closes without `[DONE]` still gets a well-formed end.
        self.end(out);
    }
}

/// Anthropic Messages events → OpenAI Chat chunks (an OpenAI-Chat agent routed to an
/// Anthropic provider).
#[derive(Debug)]
pub struct AnthropicToChat {
    sse: SseParser,
    include_usage: bool,
    created: u64,
    id: Value,
    model: Value,
    started: bool,
    done: bool,
    tools: HashMap<u64, u64>,
    usage: Value,
}

impl AnthropicToChat {
    /// A translator for a response to a request for `model`; `include_usage` when the agent
    /// asked for a usage chunk; `created` the Unix time stamped on chunks.
    pub fn new(model: impl Into<String>, include_usage: bool, created: u64) -> Self {
        Self {
            sse: SseParser::default(),
            include_usage,
            created,
            id: json!("chatcmpl-ringlet"),
            model: json!(model.into()),
            started: false,
            done: false,
            tools: HashMap::new(),
            usage: json!({}),
        }
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: Value, finish: Option<&str>) {
        let c = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        write_event(out, None, &c.to_string());
    }

    fn merge_usage(&mut self, u: Option<&Value>) {
        for (k, v) in u.and_then(Value::as_object).into_iter().flatten() {
            if v.is_u64() {
                self.usage[k] = v.clone();
            }
        }
    }

    fn on(&mut self, e: SseEvent, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let Ok(ev) = serde_json::from_str::<Value>(&e.data) else {
            return;
        };
        let kind = ev
            .get("type")
            .and_then(Value::as_str)
            .or(e.event.as_deref())
            .unwrap_or_default();
        match kind {
            "message_start" => {
                let m = ev.get("message").unwrap_or(&Value::Null);
                if let Some(id) = m.get("id") {
                    self.id = id.clone();
                }
                if let Some(model) = m.get("model") {
                    self.model = model.clone();
                }
                self.merge_usage(m.get("usage"));
                self.started = true;
                self.chunk(out, json!({"role": "assistant", "content": ""}), None);
            }
            "content_block_start" => {
                let b = ev.get("content_block").unwrap_or(&Value::Null);
                let index = ev.get("index").and_then(Value::as_u64).unwrap_or(0);
                match b.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let k = self.tools.len() as u64;
                        self.tools.insert(index, k);
                        self.chunk(out, json!({"tool_calls": [{"index": k, "id": b.get("id"), "type": "function", "function": {"name": b.get("name"), "arguments": ""}}]}), None);
                    }
                    Some("text") => {
                        if let Some(t) = b
                            .get("text")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty())
                        {
                            self.chunk(out, json!({"content": t}), None);
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let d = ev.get("delta").unwrap_or(&Value::Null);
                let index = ev.get("index").and_then(Value::as_u64).unwrap_or(0);
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => self.chunk(out, json!({"content": d.get("text")}), None),
                    Some("input_json_delta") => {
                        if let Some(k) = self.tools.get(&index) {
                            self.chunk(out, json!({"tool_calls": [{"index": k, "function": {"arguments": d.get("partial_json")}}]}), None);
                        }
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                self.merge_usage(ev.get("usage"));
                let stop = ev
                    .pointer("/delta/stop_reason")
                    .and_then(Value::as_str)
                    .unwrap_or("end_turn");
                self.chunk(out, json!({}), Some(finish_reason(stop)));
            }
            "message_stop" => self.end(out),
            "error" => {
                let message = ev
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("upstream error");
                let kind = ev
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .unwrap_or("api_error");
                write_event(
                    out,
                    None,
                    &json!({"error": {"message": message, "type": kind, "code": null}}).to_string(),
                );
                self.done = true;
            }
            _ => {}
        }
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if self.include_usage && self.started {
            let c = json!({
                "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": chat_usage(&self.usage),
            });
            write_event(out, None, &c.to_string());
        }
        write_event(out, None, "[DONE]");
        self.done = true;
    }
}

impl StreamTranslator for AnthropicToChat {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut events = Vec::new();
        self.sse.feed(chunk, |e| events.push(e));
        for e in events {
            self.on(e, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        let mut events = Vec::new();
        self.sse.finish(|e| events.push(e));
        for e in events {
            self.on(e, out);
        }
        self.end(out);
    }
}

#[cfg(test)]
mod tests;
