//! Wire formats: the HTTP API dialects agents speak and providers serve.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// One HTTP API dialect. An agent can use a provider when it speaks a dialect the provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WireShape {
    /// Anthropic Messages (`/v1/messages`). Base URLs carry no `/v1`.
    Anthropic,
    /// OpenAI Chat Completions (`/v1/chat/completions`). Base URLs end in `/v1`.
    OpenaiChat,
    /// OpenAI Responses (`/v1/responses`). Base URLs end in `/v1`.
    OpenaiResponses,
    /// Google Gemini (`/v1beta/models/*:streamGenerateContent`). Base URLs carry no version.
    Gemini,
}

impl WireShape {
    /// Every shape, in a stable order.
    pub const ALL: [WireShape; 4] = [
        WireShape::Anthropic,
        WireShape::OpenaiChat,
        WireShape::OpenaiResponses,
        WireShape::Gemini,
    ];

    /// The name used in manifests, profiles and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            WireShape::Anthropic => "anthropic",
            WireShape::OpenaiChat => "openai-chat",
            WireShape::OpenaiResponses => "openai-responses",
            WireShape::Gemini => "gemini",
        }
    }

    /// Parses a `--shape` value. `openai` stands for both OpenAI dialects, since
    /// OpenAI-compatible gateways usually serve chat completions and often responses too.
    pub fn parse_family(value: &str) -> Result<Vec<WireShape>, Error> {
        match value {
            "openai" => Ok(vec![WireShape::OpenaiChat, WireShape::OpenaiResponses]),
            other => Ok(vec![other.parse()?]),
        }
    }

    /// Whether base URLs of this shape conventionally end in `/v1`.
    pub fn base_url_has_v1(self) -> bool {
        matches!(self, WireShape::OpenaiChat | WireShape::OpenaiResponses)
    }

    /// Normalises a user-given base URL to this shape's convention. An OpenAI-shaped URL with no
    /// path gets `/v1` (gateways that mount it elsewhere, like `/api/v1`, are kept as given);
    /// Anthropic- and Gemini-shaped URLs lose a trailing `/v1`, because those agents append the
    /// version themselves.
    pub fn normalise_base_url(self, url: &str) -> String {
        let trimmed = url.trim_end_matches('/');
        if self.base_url_has_v1() {
            let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
            if after_scheme.contains('/') {
                trimmed.to_string()
            } else {
                format!("{trimmed}/v1")
            }
        } else {
            trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_string()
        }
    }
}

impl fmt::Display for WireShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WireShape {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WireShape::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown wire shape '{}'; use one of: anthropic, openai, openai-chat, openai-responses, gemini",
                    s.escape_debug()
                ))
            })
    }
}

/// Joins shapes for messages: `anthropic, openai-chat`.
pub(crate) fn join(shapes: &[WireShape]) -> String {
    shapes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_base_urls_per_convention() {
        assert_eq!(
            WireShape::OpenaiChat.normalise_base_url("http://h:1/"),
            "http://h:1/v1"
        );
        assert_eq!(
            WireShape::OpenaiResponses.normalise_base_url("http://h:1/v1"),
            "http://h:1/v1"
        );
        assert_eq!(
            WireShape::Anthropic.normalise_base_url("http://h:1/v1/"),
            "http://h:1"
        );
        assert_eq!(
            WireShape::OpenaiChat.normalise_base_url("https://openrouter.ai/api/v1"),
            "https://openrouter.ai/api/v1"
        );
        assert_eq!(
            WireShape::Gemini.normalise_base_url("https://g.example"),
            "https://g.example"
        );
    }

    #[test]
    fn parses_families() {
        assert_eq!(
            WireShape::parse_family("openai").expect("openai"),
            vec![WireShape::OpenaiChat, WireShape::OpenaiResponses]
        );
        assert!(WireShape::parse_family("soap").is_err());
    }
}
