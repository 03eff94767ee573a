//! What the fake API remembers about each request it received.
//!
//! Tests assert on these records ("claude sent the profile's key as x-api-key, for the profile's
//! model, to /v1/messages"), so they keep everything a test might need and nothing secret is
//! redacted: the keys here are test keys.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which wire format (API family and endpoint) a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireShape {
    /// `POST /v1/messages` (Anthropic Messages API).
    AnthropicMessages,
    /// `POST /v1/messages/count_tokens`.
    AnthropicCountTokens,
    /// `POST /v1/responses` (OpenAI Responses API).
    OpenAiResponses,
    /// `POST /v1/chat/completions` (OpenAI Chat Completions API).
    OpenAiChatCompletions,
    /// `POST /v1beta/models/{model}:generateContent`.
    GeminiGenerateContent,
    /// `POST /v1beta/models/{model}:streamGenerateContent`.
    GeminiStreamGenerateContent,
    /// `POST /v1beta/models/{model}:countTokens`.
    GeminiCountTokens,
    /// `GET /v1/models`, `GET /v1beta/models` and single-model look-ups.
    Models,
    /// Anything else: answered 404, but still recorded so tests can see stray traffic.
    Unknown,
}

/// One request as the fake API received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Milliseconds since the Unix epoch when the request arrived.
    pub ts_ms: u64,
    /// HTTP method, upper case.
    pub method: String,
    /// Path without the query string, e.g. `/v1/messages`.
    pub path: String,
    /// Raw query string without `?`, if any (e.g. `beta=true`, `alt=sse`).
    pub query: Option<String>,
    /// Headers with lower-case names. Repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON; a JSON string holding the raw text if it was not JSON; `null` if
    /// empty.
    pub body: Value,
    /// The API key the request carried (`x-api-key`, `authorization: Bearer`, `x-goog-api-key`,
    /// `api-key`, or the `key` query parameter, in that order).
    pub api_key: Option<String>,
    /// The model asked for: body `model`, else the model named in a Gemini path.
    pub model: Option<String>,
    /// Which wire format the request hit.
    pub shape: WireShape,
    /// Whether the fake answered with a stream (SSE).
    pub streamed: bool,
    /// HTTP status the fake answered with.
    pub status: u16,
}

impl RecordedRequest {
    /// Header value by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The path plus `?query` when there is one, as the client wrote it.
    pub fn path_and_query(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    /// Whether this request asked a model for output (as opposed to listing models, counting
    /// tokens, or hitting an unknown route).
    pub fn is_generation(&self) -> bool {
        matches!(
            self.shape,
            WireShape::AnthropicMessages
                | WireShape::OpenAiResponses
                | WireShape::OpenAiChatCompletions
                | WireShape::GeminiGenerateContent
                | WireShape::GeminiStreamGenerateContent
        )
    }
}

/// Lower-cases header names and joins repeated values, so records compare and serialize simply.
pub(crate) fn headers_to_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_ascii_lowercase())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    map
}

/// Finds the API key wherever the wire format puts it.
///
/// The order matters only when a client sends more than one; Anthropic-style `x-api-key` wins
/// because that is what ringlet most often sets explicitly.
pub(crate) fn extract_api_key(
    headers: &BTreeMap<String, String>,
    query: Option<&str>,
) -> Option<String> {
    if let Some(key) = headers.get("x-api-key") {
        return Some(key.clone());
    }
    if let Some(auth) = headers.get("authorization") {
        let auth = auth.trim();
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
            .unwrap_or(auth);
        return Some(token.trim().to_string());
    }
    for name in ["x-goog-api-key", "api-key"] {
        if let Some(key) = headers.get(name) {
            return Some(key.clone());
        }
    }
    query_param(query, "key")
}

/// Value of one query parameter, percent-decoded so a key sent as `?key=` compares equal to the
/// same key sent in a header.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a request body: JSON if possible, else the raw text, else `null` when empty.
pub(crate) fn parse_body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn key_from_each_place() {
        assert_eq!(
            extract_api_key(&map(&[("x-api-key", "a")]), None).as_deref(),
            Some("a")
        );
        assert_eq!(
            extract_api_key(&map(&[("authorization", "Bearer b")]), None).as_deref(),
            Some("b")
        );
        assert_eq!(
            extract_api_key(&map(&[("x-goog-api-key", "c")]), None).as_deref(),
            Some("c")
        );
        assert_eq!(
            extract_api_key(&map(&[]), Some("alt=sse&key=d%2Be")).as_deref(),
            Some("d+e")
        );
        assert_eq!(extract_api_key(&map(&[]), Some("alt=sse")), None);
    }

    #[test]
    fn body_parsing() {
        assert_eq!(parse_body(b""), Value::Null);
        assert_eq!(parse_body(b"{\"a\":1}")["a"], 1);
        assert_eq!(parse_body(b"not json"), Value::String("not json".into()));
    }
}
