//! Server-sent-event framing.
//!
//! The whole stream is built up front and sent as one body: the clients parse events off the
//! byte stream and do not care whether they arrive together, and a prebuilt body needs no
//! streaming machinery in the server.

use serde_json::Value;

/// `event: NAME` + `data: JSON` + blank line (Anthropic and OpenAI Responses style).
pub(crate) fn event(out: &mut String, name: &str, data: &Value) {
    out.push_str("event: ");
    out.push_str(name);
    out.push('\n');
    data_only(out, data);
}

/// `data: JSON` + blank line (Chat Completions and Gemini style).
pub(crate) fn data_only(out: &mut String, data: &Value) {
    out.push_str("data: ");
    out.push_str(&data.to_string());
    out.push_str("\n\n");
}

/// `data: [DONE]`, the Chat Completions end-of-stream marker.
pub(crate) fn done(out: &mut String) {
    out.push_str("data: [DONE]\n\n");
}
