//! Translation between Anthropic Messages and OpenAI Chat Completions, both ways: request bodies
//! (`request`), whole responses, usage and errors (`response`), and streams, event by event
//! (`stream`, over the incremental SSE reader in `sse`). With it a profile's routing can send
//! Claude Code to an OpenAI-compatible provider, or an OpenAI-Chat agent to Anthropic.

pub mod request;
pub mod response;
pub mod sse;
pub mod stream;

use crate::catalog::wire::WireShape;
use crate::error::Result;

pub use request::{DEFAULT_MAX_TOKENS, RequestInfo};
pub use stream::{AnthropicToChat, ChatToAnthropic, StreamTranslator};

/// Which way a request is translated: from the agent's shape to the upstream's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// An Anthropic-speaking agent, an OpenAI Chat upstream.
    AnthropicToChat,
    /// An OpenAI-Chat-speaking agent, an Anthropic upstream.
    ChatToAnthropic,
}

impl Direction {
    /// The translation between an agent's shape and an upstream's; `None` when they are the same
    /// or no translation exists.
    pub fn between(agent: WireShape, upstream: WireShape) -> Option<Self> {
        match (agent, upstream) {
            (WireShape::Anthropic, WireShape::OpenaiChat) => Some(Self::AnthropicToChat),
            (WireShape::OpenaiChat, WireShape::Anthropic) => Some(Self::ChatToAnthropic),
            _ => None,
        }
    }

    /// The upstream's path for a generation request, to append to its base URL (which ends in
    /// `/v1` for OpenAI shapes and carries no version for Anthropic).
    pub fn upstream_path(self) -> &'static str {
        match self {
            Self::AnthropicToChat => "/chat/completions",
            Self::ChatToAnthropic => "/v1/messages",
        }
    }

    /// The request body in the upstream's shape, with `model` when the route names one.
    pub fn request(self, body: &[u8], model: Option<&str>) -> Result<(Vec<u8>, RequestInfo)> {
        match self {
            Self::AnthropicToChat => request::anthropic_to_chat(body, model),
            Self::ChatToAnthropic => request::chat_to_anthropic(body, model),
        }
    }

    /// A whole successful response in the agent's shape.
    pub fn response(self, body: &[u8], created: u64) -> Result<Vec<u8>> {
        match self {
            Self::AnthropicToChat => response::chat_to_anthropic(body),
            Self::ChatToAnthropic => response::anthropic_to_chat(body, created),
        }
    }

    /// An error response (any shape, or text) in the agent's shape, for `status`.
    pub fn error(self, status: u16, body: &[u8]) -> Vec<u8> {
        match self {
            Self::AnthropicToChat => response::anthropic_error(status, body),
            Self::ChatToAnthropic => response::chat_error(status, body),
        }
    }

    /// A translator for the streamed response to a request described by `info`.
    pub fn stream(self, info: &RequestInfo, created: u64) -> Box<dyn StreamTranslator> {
        match self {
            Self::AnthropicToChat => Box::new(ChatToAnthropic::new(info.model.clone())),
            Self::ChatToAnthropic => Box::new(AnthropicToChat::new(
                info.model.clone(),
                info.include_usage,
                created,
            )),
        }
    }
}
