//! Usage read from one wire shape's JSON: Anthropic Messages (`message_start`, `message_delta`,
//! or the whole message), OpenAI Chat Completions (a chunk's or the response's `usage`), OpenAI
//! Responses (`response.completed`, or the whole response) and Gemini (`usageMetadata`). Each
//! provider's accounting is turned into ringlet's disjoint buckets the way the log importers
//! turn the same numbers from the agents' logs.

use serde_json::Value;

use crate::catalog::wire::WireShape;
use crate::usage::TokenCounts;

/// What one response said about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WireUsage {
    /// The provider's id of the response (`msg_…`, `chatcmpl-…`, `resp_…`, Gemini's
    /// `responseId`).
    pub id: Option<String>,
    /// The model that answered.
    pub model: Option<String>,
    /// The tokens, once any usage was seen.
    pub tokens: Option<TokenCounts>,
}

impl WireUsage {
    /// Takes in one JSON document of the response: an SSE event's data, or the whole body.
    pub(crate) fn absorb(&mut self, shape: WireShape, doc: &Value) {
        match shape {
            WireShape::Anthropic => self.anthropic(doc),
            WireShape::OpenaiChat => self.openai_chat(doc),
            WireShape::OpenaiResponses => self.openai_responses(doc),
            WireShape::Gemini => match doc {
                // A non-SSE stream is one JSON array of chunks.
                Value::Array(chunks) => chunks.iter().for_each(|c| self.gemini(c)),
                chunk => self.gemini(chunk),
            },
        }
    }

    fn ids(&mut self, id: Option<&Value>, model: Option<&Value>) {
        if let Some(id) = id.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            self.id.get_or_insert_with(|| id.to_string());
        }
        if let Some(model) = model.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            self.model = Some(model.to_string());
        }
    }

    fn anthropic(&mut self, doc: &Value) {
        match doc.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                let Some(message) = doc.get("message") else {
                    return;
                };
                self.ids(message.get("id"), message.get("model"));
                if let Some(u) = message.get("usage") {
                    self.tokens = Some(anthropic_tokens(u, TokenCounts::default()));
                }
            }
            // Counts in message_delta are cumulative: they replace message_start's.
            Some("message_delta") => {
                if let Some(u) = doc.get("usage") {
                    let base = self.tokens.unwrap_or_default();
                    self.tokens = Some(anthropic_tokens(u, base));
                }
            }
            Some("message") => {
                self.ids(doc.get("id"), doc.get("model"));
                if let Some(u) = doc.get("usage") {
                    self.tokens = Some(anthropic_tokens(u, TokenCounts::default()));
                }
            }
            _ => {}
        }
    }

    fn openai_chat(&mut self, doc: &Value) {
        self.ids(doc.get("id"), doc.get("model"));
        if let Some(u) = doc.get("usage").filter(|u| u.is_object()) {
            self.tokens = Some(openai_tokens(
                n(u, "prompt_tokens"),
                n(
                    u.get("prompt_tokens_details").unwrap_or(&Value::Null),
                    "cached_tokens",
                ),
                n(u, "completion_tokens"),
                n(
                    u.get("completion_tokens_details").unwrap_or(&Value::Null),
                    "reasoning_tokens",
                ),
            ));
        }
    }

    fn openai_responses(&mut self, doc: &Value) {
        let response = match doc.get("type").and_then(Value::as_str) {
            Some("response.completed" | "response.incomplete" | "response.failed") => {
                doc.get("response")
            }
            Some("response.created" | "response.in_progress") => {
                if let Some(r) = doc.get("response") {
                    self.ids(r.get("id"), r.get("model"));
                }
                return;
            }
            _ if doc.get("object").and_then(Value::as_str) == Some("response") => Some(doc),
            _ => None,
        };
        let Some(r) = response else {
            return;
        };
        self.ids(r.get("id"), r.get("model"));
        if let Some(u) = r.get("usage").filter(|u| u.is_object()) {
            self.tokens = Some(openai_tokens(
                n(u, "input_tokens"),
                n(
                    u.get("input_tokens_details").unwrap_or(&Value::Null),
                    "cached_tokens",
                ),
                n(u, "output_tokens"),
                n(
                    u.get("output_tokens_details").unwrap_or(&Value::Null),
                    "reasoning_tokens",
                ),
            ));
        }
    }

    fn gemini(&mut self, chunk: &Value) {
        self.ids(chunk.get("responseId"), chunk.get("modelVersion"));
        if let Some(u) = chunk.get("usageMetadata").filter(|u| u.is_object()) {
            let prompt = n(u, "promptTokenCount");
            let cached = n(u, "cachedContentTokenCount");
            let thoughts = n(u, "thoughtsTokenCount");
            self.tokens = Some(
                TokenCounts {
                    input: prompt.saturating_sub(cached),
                    cache_read: cached,
                    output: n(u, "candidatesTokenCount").saturating_add(thoughts),
                    reasoning: thoughts,
                    ..TokenCounts::default()
                }
                .normalized(),
            );
        }
    }
}

/// A count, 0 when absent or not a number.
fn n(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// Anthropic's buckets are already disjoint; fields a `message_delta` leaves out keep `base`.
fn anthropic_tokens(u: &Value, base: TokenCounts) -> TokenCounts {
    let field = |key: &str, old: u64| u.get(key).and_then(Value::as_u64).unwrap_or(old);
    let split = u.get("cache_creation");
    let split_field = |key: &str, old: u64| {
        split
            .and_then(|s| s.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(old)
    };
    TokenCounts {
        input: field("input_tokens", base.input),
        output: field("output_tokens", base.output),
        cache_creation: field("cache_creation_input_tokens", base.cache_creation),
        cache_creation_5m: split_field("ephemeral_5m_input_tokens", base.cache_creation_5m),
        cache_creation_1h: split_field("ephemeral_1h_input_tokens", base.cache_creation_1h),
        cache_read: field("cache_read_input_tokens", base.cache_read),
        reasoning: 0,
    }
    .normalized()
}

/// OpenAI counts cached tokens inside the input, and reasoning inside the output.
fn openai_tokens(input: u64, cached: u64, output: u64, reasoning: u64) -> TokenCounts {
    TokenCounts {
        input: input.saturating_sub(cached),
        cache_read: cached,
        output,
        reasoning,
        ..TokenCounts::default()
    }
    .normalized()
}
