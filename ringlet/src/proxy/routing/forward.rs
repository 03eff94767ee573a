//! The request path of a routed proxy: the body is read whole (rules match on it, and a
//! fallback resends it), the first matching rule's targets are tried in order — the next one on
//! a connect error, a 429 or a 5xx, before any byte reached the agent — and a target of the
//! other wire shape gets the request translated and its response translated back, a stream
//! event by event.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use serde_json::Value;
use tokio::sync::OwnedMutexGuard;

use super::{RequestFacts, RoutedTarget, Routes};
use crate::catalog::wire::WireShape;
use crate::proxy::Counters;
use crate::proxy::forward::{
    BoxError, End, MAX_REWRITTEN_BODY, ProxyBody, State, TapBody, gemini_model, json_response,
};
use crate::proxy::headers;
use crate::proxy::reply::Why;
use crate::proxy::tap::UsageTap;
use crate::proxy::translate::{Direction, RequestInfo, StreamTranslator};

/// The Anthropic API version sent when an OpenAI Chat request is translated for Anthropic.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Whether a request is one routing decides: a generation (or, for Anthropic, a token count).
pub(crate) fn routes_request(shape: WireShape, parts: &Parts) -> bool {
    if parts.method != hyper::Method::POST {
        return false;
    }
    let path = parts.uri.path();
    match shape {
        WireShape::Anthropic => {
            path.ends_with("/messages") || path.ends_with("/messages/count_tokens")
        }
        WireShape::OpenaiChat => path.ends_with("/chat/completions"),
        WireShape::OpenaiResponses => path.ends_with("/responses"),
        WireShape::Gemini => {
            path.contains(":generateContent") || path.contains(":streamGenerateContent")
        }
    }
}

/// Why a target was passed over for the next.
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The body for one target, its path, and what the response side needs.
struct Prepared {
    body: Bytes,
    uri: String,
    direction: Option<Direction>,
    info: RequestInfo,
}

/// The request as `target` takes it: translated when its shape differs, the model replaced
/// when the route names one, and a Chat stream asked for its usage chunk.
fn prepare(
    state: &State,
    parts: &Parts,
    body: &Bytes,
    target: &RoutedTarget,
) -> Result<Prepared, String> {
    let upstream = &target.upstream;
    let path = parts.uri.path();
    if let Some(direction) = Direction::between(state.shape(), upstream.shape) {
        let (bytes, info) = direction
            .request(body, target.model.as_deref())
            .map_err(|e| e.to_string())?;
        let uri = format!(
            "{}{}",
            upstream.base_url.trim_end_matches('/'),
            direction.upstream_path()
        );
        return Ok(Prepared {
            body: Bytes::from(bytes),
            uri,
            direction: Some(direction),
            info,
        });
    }
    let mut uri = upstream.uri_for(state.shape(), path, parts.uri.query());
    let chat_stream = upstream.shape == WireShape::OpenaiChat;
    let rewrite_model = target.model.is_some() && upstream.shape != WireShape::Gemini;
    let mut out = body.clone();
    if (rewrite_model || chat_stream)
        && let Ok(Value::Object(mut json)) = serde_json::from_slice::<Value>(body)
    {
        if let Some(model) = &target.model
            && rewrite_model
        {
            json.insert("model".into(), Value::String(model.clone()));
        }
        let streamed = json.get("stream").and_then(Value::as_bool) == Some(true);
        if chat_stream && streamed {
            let options = json
                .entry("stream_options")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(o) = options.as_object_mut() {
                o.insert("include_usage".into(), Value::Bool(true));
            }
        }
        out = Bytes::from(serde_json::to_vec(&json).map_err(|e| e.to_string())?);
    }
    if let (Some(model), WireShape::Gemini) = (&target.model, upstream.shape) {
        // Gemini names the model in the path: `/models/<model>:generateContent`.
        if let Some(old) = gemini_model(path) {
            uri = uri.replacen(&format!("/models/{old}:"), &format!("/models/{model}:"), 1);
        }
    }
    Ok(Prepared {
        body: out,
        uri,
        direction: None,
        info: RequestInfo::default(),
    })
}

/// The headers for one attempt: the agent's, less hop-by-hop and credentials, plus the
/// target's key; a translated request also loses the other API's version headers and asks for
/// an unencoded response (it is rewritten).
fn headers_for(original: &HeaderMap, target: &RoutedTarget, prepared: &Prepared) -> HeaderMap {
    let mut h = original.clone();
    headers::upstream_request(&mut h);
    h.remove(header::CONTENT_LENGTH);
    if let Some(direction) = prepared.direction {
        drop_api_headers(&mut h);
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if direction == Direction::ChatToAnthropic {
            h.insert(
                "anthropic-version",
                HeaderValue::from_static(ANTHROPIC_VERSION),
            );
        }
    }
    if let Some((name, value)) = target.upstream.auth.header() {
        h.insert(name, value);
    }
    h
}

/// Removes Anthropic's and OpenAI's API-specific headers (versions, betas, SDK details) before
/// a request goes to the other API.
fn drop_api_headers(h: &mut HeaderMap) {
    let api_specific: Vec<_> = h
        .keys()
        .filter(|k| {
            let k = k.as_str();
            k.starts_with("anthropic-") || k.starts_with("openai-") || k.starts_with("x-stainless-")
        })
        .cloned()
        .collect();
    for k in api_specific {
        h.remove(k);
    }
}

/// Routes and forwards one request.
pub(crate) async fn forward(
    state: Arc<State>,
    routes: &Routes,
    parts: Parts,
    body: Incoming,
    permit: Option<OwnedMutexGuard<()>>,
) -> Response<ProxyBody> {
    let body = match Limited::new(body, MAX_REWRITTEN_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return state.own_reply(
                Why::Upstream,
                &format!("ringlet proxy: the request body could not be read: {e}"),
            );
        }
    };
    let route = routes.pick(&body);
    let count_tokens = parts.uri.path().ends_with("/count_tokens");
    let mut last_failure = String::from("ringlet proxy: the route has no target");
    for (i, target) in route.targets.iter().enumerate() {
        let is_last = i + 1 == route.targets.len();
        if count_tokens && target.upstream.shape != WireShape::Anthropic {
            // OpenAI has no token-counting endpoint: answer with the estimate rules use.
            let n = RequestFacts::scan(&body).input_tokens;
            return json_response(StatusCode::OK, &serde_json::json!({"input_tokens": n}));
        }
        let prepared = match prepare(&state, &parts, &body, target) {
            Ok(p) => p,
            Err(e) => {
                return state.own_reply(
                    Why::Upstream,
                    &format!("ringlet proxy: the request could not be translated: {e}"),
                );
            }
        };
        let Ok(uri) = prepared.uri.parse::<hyper::Uri>() else {
            return state.own_reply(
                Why::Upstream,
                "ringlet proxy: the upstream URL is not valid",
            );
        };
        let mut request = Request::new(
            Full::new(prepared.body.clone())
                .map_err(|e| match e {})
                .boxed(),
        );
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = uri;
        *request.headers_mut() = headers_for(&parts.headers, target, &prepared);
        let response = match state.client().request(request).await {
            Ok(r) => r,
            Err(e) => {
                Counters::bump(&state.counters().upstream_errors);
                last_failure = format!(
                    "ringlet proxy: the provider '{}' could not be reached: {e}",
                    target.upstream.provider
                );
                if is_last {
                    return state.own_reply(Why::Upstream, &last_failure);
                }
                continue;
            }
        };
        if retryable(response.status()) && !is_last {
            // Nothing of it reached the agent: the next target gets the same request.
            continue;
        }
        Counters::bump(&state.counters().forwarded);
        return respond(&state, &parts, target, prepared, response, permit).await;
    }
    state.own_reply(Why::Upstream, &last_failure)
}

/// The agent's response from a target's: through the usage tap, translated when needed.
async fn respond(
    state: &Arc<State>,
    parts: &Parts,
    target: &RoutedTarget,
    prepared: Prepared,
    response: Response<Incoming>,
    permit: Option<OwnedMutexGuard<()>>,
) -> Response<ProxyBody> {
    let (mut head, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut head.headers);
    let header = |name| {
        head.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let tap = if state.metering() && head.status.is_success() {
        UsageTap::new(
            target.upstream.shape,
            header(header::CONTENT_TYPE),
            header(header::CONTENT_ENCODING),
        )
    } else {
        None
    };
    let model_hint = target
        .model
        .clone()
        .or_else(|| Some(prepared.info.model.clone()).filter(|m| !m.is_empty()))
        .or_else(|| gemini_model(parts.uri.path()));
    let tapped = TapBody::new(
        body,
        tap,
        End::new(Arc::clone(state), target.upstream.shape, model_hint, permit)
            .provider(target.upstream.provider.clone()),
    );
    let Some(direction) = prepared.direction else {
        return Response::from_parts(head, tapped.boxed());
    };
    head.headers.remove(header::CONTENT_LENGTH);
    head.headers.remove(header::CONTENT_ENCODING);
    let status = head.status;
    if !status.is_success() {
        let bytes = tapped
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let translated = direction.error(status.as_u16(), &bytes);
        return with_body(head, "application/json", Bytes::from(translated));
    }
    if prepared.info.stream {
        let translator = direction.stream(&prepared.info, unix_now());
        head.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        let body = Translated {
            inner: tapped,
            translator,
            done: false,
        };
        return Response::from_parts(head, body.boxed());
    }
    let bytes = match tapped.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return state.own_reply(
                Why::Upstream,
                &format!("ringlet proxy: the provider's response ended early: {e}"),
            );
        }
    };
    match direction.response(&bytes, unix_now()) {
        Ok(translated) => with_body(head, "application/json", Bytes::from(translated)),
        Err(e) => state.own_reply(Why::Upstream, &format!("ringlet proxy: {e}")),
    }
}

fn with_body(
    mut head: hyper::http::response::Parts,
    content_type: &'static str,
    bytes: Bytes,
) -> Response<ProxyBody> {
    head.headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    head.headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(head, Full::new(bytes).map_err(|e| match e {}).boxed())
}

/// A streamed response translated frame by frame: each upstream frame goes through the
/// translator and whatever it completes is sent at once.
struct Translated {
    inner: TapBody,
    translator: Box<dyn StreamTranslator>,
    done: bool,
}

impl Body for Translated {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    let mut out = Vec::new();
                    this.translator.feed(&data, &mut out);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    let mut out = Vec::new();
                    this.translator.finish(&mut out);
                    if out.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
