//! Where a request goes and how the real key travels there. [`pick_upstream`] is the one place
//! that chooses the target of a request.

use hyper::http::request::Parts;

use crate::catalog::provider::AuthScheme;
use crate::catalog::wire::WireShape;
use crate::credentials::Secret;

/// How the real key is sent upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpstreamAuth {
    /// No key (a local server).
    None,
    /// `x-api-key: <key>` (Anthropic's own API).
    XApiKey(Secret),
    /// `Authorization: Bearer <key>` (OpenAI shapes, Anthropic-compatible gateways).
    Bearer(Secret),
    /// `x-goog-api-key: <key>` (Gemini).
    GoogApiKey(Secret),
}

impl UpstreamAuth {
    /// The provider's scheme for `shape`: Anthropic-shaped endpoints as the provider's manifest
    /// says (`x-api-key` or bearer), OpenAI-shaped ones bearer, Gemini `x-goog-api-key`.
    pub fn for_shape(shape: WireShape, scheme: AuthScheme, key: Option<Secret>) -> UpstreamAuth {
        let Some(key) = key else {
            return UpstreamAuth::None;
        };
        match shape {
            WireShape::Anthropic => match scheme {
                AuthScheme::Bearer => UpstreamAuth::Bearer(key),
                _ => UpstreamAuth::XApiKey(key),
            },
            WireShape::OpenaiChat | WireShape::OpenaiResponses => UpstreamAuth::Bearer(key),
            WireShape::Gemini => UpstreamAuth::GoogApiKey(key),
        }
    }

    /// The header carrying the key, if any.
    pub(crate) fn header(&self) -> Option<(hyper::header::HeaderName, hyper::header::HeaderValue)> {
        let (name, value) = match self {
            UpstreamAuth::None => return None,
            UpstreamAuth::XApiKey(k) => ("x-api-key", k.expose().to_string()),
            UpstreamAuth::Bearer(k) => ("authorization", format!("Bearer {}", k.expose())),
            UpstreamAuth::GoogApiKey(k) => ("x-goog-api-key", k.expose().to_string()),
        };
        let mut value = hyper::header::HeaderValue::from_str(&value).ok()?;
        value.set_sensitive(true);
        Some((hyper::header::HeaderName::from_static(name), value))
    }
}

/// One upstream: a provider's base URL for one wire shape, and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamTarget {
    /// The provider id (for the ledger).
    pub provider: String,
    /// The base URL, following the shape's convention (`https://api.openai.com/v1`,
    /// `https://api.anthropic.com`).
    pub base_url: String,
    /// The shape it serves.
    pub shape: WireShape,
    /// How the key travels.
    pub auth: UpstreamAuth,
}

impl UpstreamTarget {
    /// The upstream URI for a request the agent sent to the proxy at `path_and_query`: the
    /// agent's base URL is the proxy's root (plus `/v1` for OpenAI shapes), so what follows it
    /// is appended to this base URL. The `key` query parameter (the agent's token) is dropped.
    pub(crate) fn uri_for(
        &self,
        agent_shape: WireShape,
        path: &str,
        query: Option<&str>,
    ) -> String {
        let rest = if agent_shape.base_url_has_v1() {
            path.strip_prefix("/v1").unwrap_or(path)
        } else {
            path
        };
        let mut uri = format!("{}{rest}", self.base_url.trim_end_matches('/'));
        if let Some(query) = query {
            let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
                .filter(|(k, _)| k != "key")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if !kept.is_empty() {
                uri.push('?');
                uri.push_str(
                    &url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(kept)
                        .finish(),
                );
            }
        }
        uri
    }
}

/// The upstream a request goes to. Today a proxy has one, the profile's provider; rules that
/// choose among several (by model, tools, size) extend this function, which sees the request
/// head and the body it has read (`body` is `None` when the body was not read).
pub fn pick_upstream<'a>(
    targets: &'a [UpstreamTarget],
    _parts: &Parts,
    _body: Option<&serde_json::Value>,
) -> Option<&'a UpstreamTarget> {
    targets.first()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(base: &str, shape: WireShape) -> UpstreamTarget {
        UpstreamTarget {
            provider: "p".into(),
            base_url: base.into(),
            shape,
            auth: UpstreamAuth::None,
        }
    }

    #[test]
    fn paths_follow_each_shapes_base_url_convention() {
        let openai = target("https://openrouter.ai/api/v1", WireShape::OpenaiChat);
        assert_eq!(
            openai.uri_for(WireShape::OpenaiChat, "/v1/chat/completions", None),
            "https://openrouter.ai/api/v1/chat/completions"
        );
        let anthropic = target("https://api.anthropic.com/", WireShape::Anthropic);
        assert_eq!(
            anthropic.uri_for(WireShape::Anthropic, "/v1/messages", Some("beta=true")),
            "https://api.anthropic.com/v1/messages?beta=true"
        );
        let gemini = target("http://127.0.0.1:9", WireShape::Gemini);
        assert_eq!(
            gemini.uri_for(
                WireShape::Gemini,
                "/v1beta/models/g:streamGenerateContent",
                Some("alt=sse&key=rl-proxy-x")
            ),
            "http://127.0.0.1:9/v1beta/models/g:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn each_shape_gets_its_providers_scheme() {
        let k = || Some(Secret::new("sk"));
        assert!(matches!(
            UpstreamAuth::for_shape(WireShape::Anthropic, AuthScheme::XApiKey, k()),
            UpstreamAuth::XApiKey(_)
        ));
        assert!(matches!(
            UpstreamAuth::for_shape(WireShape::Anthropic, AuthScheme::Bearer, k()),
            UpstreamAuth::Bearer(_)
        ));
        assert!(matches!(
            UpstreamAuth::for_shape(WireShape::OpenaiResponses, AuthScheme::XApiKey, k()),
            UpstreamAuth::Bearer(_)
        ));
        let (name, value) = UpstreamAuth::for_shape(WireShape::Gemini, AuthScheme::XApiKey, k())
            .header()
            .expect("a header");
        assert_eq!(name, "x-goog-api-key");
        assert!(value.is_sensitive());
        assert_eq!(
            UpstreamAuth::for_shape(WireShape::Gemini, AuthScheme::XApiKey, None),
            UpstreamAuth::None
        );
    }
}
