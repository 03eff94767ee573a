//! The request path: token, budget, upstream, and both bodies streamed frame by frame, the
//! response through the usage tap.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::sync::OwnedMutexGuard;

use super::budget::{Admit, Guard};
use super::record::{Events, Message};
use super::reply::{Why, error_body};
use super::routing::Routes;
use super::tap::UsageTap;
use super::token::{self, RunToken};
use super::upstream::{UpstreamTarget, pick_upstream};
use super::{Attribution, BudgetLimit, Counters, headers};
use crate::catalog::wire::WireShape;
use crate::error::{Error, Result};
use crate::usage::{CostSource, UsageEvent};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type ProxyBody = BoxBody<Bytes, BoxError>;
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A proxy's rank in the ledger: above any importer's, so the wire's figures win over a log's
/// for the same response (see [`UsageEvent::rank`]).
pub(crate) const PROXY_RANK: i64 = 1 << 50;

/// The largest request body read to add `stream_options.include_usage` (Chat Completions).
pub(crate) const MAX_REWRITTEN_BODY: usize = 64 << 20;

/// What every request of one proxy shares.
pub(crate) struct State {
    /// The profile's routing; `None` sends everything to `targets`.
    routes: Option<Routes>,
    shape: WireShape,
    targets: Vec<UpstreamTarget>,
    token: Option<RunToken>,
    attribution: Attribution,
    events: Option<Events>,
    guard: Option<Guard>,
    counters: Arc<Counters>,
    client: Client<Connector, ProxyBody>,
    /// Names responses without an id: `proxy:<nonce>:<n>`.
    nonce: String,
    seq: AtomicU64,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("shape", &self.shape)
            .field("targets", &self.targets)
            .finish_non_exhaustive()
    }
}

impl State {
    pub(crate) fn new(
        shape: WireShape,
        upstream: UpstreamTarget,
        token: Option<RunToken>,
        attribution: Attribution,
        events: Option<Events>,
        budgets: Vec<BudgetLimit>,
        counters: Arc<Counters>,
    ) -> Result<State> {
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Proxy {
            message: format!("no TLS configuration: {e}"),
        })?
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
        // No Nagle: a request's head and body go in separate writes, and waiting for the ACK
        // of the first (delayed up to 40 ms) would stall every request with a body.
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let guard = match (&events, budgets.is_empty()) {
            (Some(events), false) => Some(Guard::new(budgets, Arc::clone(&events.store))),
            _ => None,
        };
        let nonce = super::RunToken::generate()?
            .secret()
            .expose()
            .chars()
            .rev()
            .take(12)
            .collect();
        Ok(State {
            routes: None,
            shape,
            targets: vec![upstream],
            token,
            attribution,
            events,
            guard,
            counters,
            client,
            nonce,
            seq: AtomicU64::new(0),
        })
    }

    /// Routes generation requests by the profile's rules.
    pub(crate) fn with_routes(mut self, routes: Option<Routes>) -> State {
        self.routes = routes;
        self
    }

    /// The shape the agent speaks.
    pub(crate) fn shape(&self) -> WireShape {
        self.shape
    }

    /// The HTTP client upstream requests go through.
    pub(crate) fn client(&self) -> &Client<Connector, ProxyBody> {
        &self.client
    }

    /// The proxy's counters.
    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Whether responses are metered (usage read on the wire).
    pub(crate) fn metering(&self) -> bool {
        self.events.is_some()
    }

    pub(crate) fn own_reply(&self, why: Why, message: &str) -> Response<ProxyBody> {
        let (status, body) = error_body(self.shape, why, message);
        json_response(status, &body)
    }
}

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response<ProxyBody> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let mut response = Response::new(Full::new(bytes).map_err(|e| match e {}).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// Accepts connections until `stop` fires, then ends those still open.
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors, say: wait a little rather than spin.
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                connections.spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        handle(Arc::clone(&state), req)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    // The run is over: a response still streaming is cut, and its tap records what it read.
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
) -> std::result::Result<Response<ProxyBody>, Infallible> {
    let (mut parts, body) = request.into_parts();
    if let Some(token) = &state.token
        && !token::check(&parts, token)
    {
        Counters::bump(&state.counters.unauthorized);
        return Ok(state.own_reply(
            Why::Unauthorized,
            "ringlet proxy: this request does not carry this run's token; only the agent ringlet started for this run can use this proxy",
        ));
    }
    let permit = match &state.guard {
        Some(guard) => match guard.admit().await {
            Admit::Go(permit) => Some(permit),
            Admit::Refused(refusal) => {
                Counters::bump(&state.counters.refused);
                let reply = state.own_reply(Why::Budget, &refusal.message);
                if let Some(events) = &state.events {
                    events.send(Message::Refusal(Box::new(refusal)));
                }
                return Ok(reply);
            }
        },
        None => None,
    };

    if let Some(routes) = &state.routes
        && super::routing::forward::routes_request(state.shape, &parts)
    {
        let response =
            super::routing::forward::forward(Arc::clone(&state), routes, parts, body, permit).await;
        return Ok(response);
    }

    let first = state.targets.first().map(|t| t.shape);
    let rewrite = first == Some(WireShape::OpenaiChat)
        && parts.method == Method::POST
        && parts.uri.path().ends_with("/chat/completions")
        && state.events.is_some();
    let (body, json): (ProxyBody, Option<Value>) = if rewrite {
        match with_stream_usage(body).await {
            Ok((bytes, json)) => {
                parts.headers.remove(hyper::header::CONTENT_LENGTH);
                (Full::new(bytes).map_err(|e| match e {}).boxed(), json)
            }
            Err(e) => {
                return Ok(state.own_reply(
                    Why::Upstream,
                    &format!("ringlet proxy: the request body could not be read: {e}"),
                ));
            }
        }
    } else {
        (body.map_err(|e| Box::new(e) as BoxError).boxed(), None)
    };

    let Some(target) = pick_upstream(&state.targets, &parts, json.as_ref()) else {
        return Ok(state.own_reply(Why::Upstream, "ringlet proxy: no upstream for this request"));
    };
    let model_hint = json
        .as_ref()
        .and_then(|j| j.get("model"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| gemini_model(parts.uri.path()));
    let uri = target.uri_for(state.shape, parts.uri.path(), parts.uri.query());
    let Ok(uri) = uri.parse::<hyper::Uri>() else {
        return Ok(state.own_reply(
            Why::Upstream,
            "ringlet proxy: the upstream URL is not valid",
        ));
    };
    headers::upstream_request(&mut parts.headers);
    if let Some((name, value)) = target.auth.header() {
        parts.headers.insert(name, value);
    }
    parts.uri = uri;
    let metered = parts.method == Method::POST && state.events.is_some();
    let upstream_shape = target.shape;

    let response = match state.client.request(Request::from_parts(parts, body)).await {
        Ok(response) => response,
        Err(e) => {
            Counters::bump(&state.counters.upstream_errors);
            return Ok(state.own_reply(
                Why::Upstream,
                &format!("ringlet proxy: the provider could not be reached: {e}"),
            ));
        }
    };
    Counters::bump(&state.counters.forwarded);
    let (mut head, body) = response.into_parts();
    headers::strip_hop_by_hop(&mut head.headers);
    let header = |name| {
        head.headers
            .get(name)
            .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
    };
    let tap = if metered && head.status.is_success() {
        UsageTap::new(
            upstream_shape,
            header(hyper::header::CONTENT_TYPE),
            header(hyper::header::CONTENT_ENCODING),
        )
    } else {
        None
    };
    let body = TapBody::new(
        body,
        tap,
        End::new(Arc::clone(&state), upstream_shape, model_hint, permit),
    );
    Ok(Response::from_parts(head, body.boxed()))
}

/// Reads a Chat Completions request and asks for the usage chunk of a stream
/// (`stream_options.include_usage`), which OpenAI sends only when asked.
async fn with_stream_usage(
    body: Incoming,
) -> std::result::Result<(Bytes, Option<Value>), BoxError> {
    let bytes = Limited::new(body, MAX_REWRITTEN_BODY)
        .collect()
        .await?
        .to_bytes();
    let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok((bytes, None));
    };
    let streamed = json.get("stream").and_then(Value::as_bool) == Some(true);
    let asked = json
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    if !streamed || asked {
        return Ok((bytes, Some(json)));
    }
    let Some(object) = json.as_object_mut() else {
        return Ok((bytes, Some(json)));
    };
    let options = object
        .entry("stream_options")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(options) = options.as_object_mut() {
        options.insert("include_usage".into(), Value::Bool(true));
    }
    let rewritten = Bytes::from(serde_json::to_vec(&json)?);
    Ok((rewritten, Some(json)))
}

/// The model in a Gemini path, `/v1beta/models/<model>:generateContent`.
pub(crate) fn gemini_model(path: &str) -> Option<String> {
    let rest = path.split("/models/").nth(1)?;
    let model = rest.split(':').next()?;
    (!model.is_empty()).then(|| model.to_string())
}

/// What is done when a response ends.
pub(crate) struct End {
    state: Arc<State>,
    shape: WireShape,
    model_hint: Option<String>,
    permit: Option<OwnedMutexGuard<()>>,
    /// The provider that answered, when routing chose another than the profile's.
    provider: Option<String>,
    /// The routing rule that chose it.
    rule: Option<String>,
}

impl End {
    pub(crate) fn new(
        state: Arc<State>,
        shape: WireShape,
        model_hint: Option<String>,
        permit: Option<OwnedMutexGuard<()>>,
    ) -> End {
        End {
            state,
            shape,
            model_hint,
            permit,
            provider: None,
            rule: None,
        }
    }

    /// Records that `rule` routed the response (`usage --by-rule`).
    pub(crate) fn rule(mut self, rule: String) -> End {
        self.rule = Some(rule);
        self
    }

    /// Attributes the usage to `provider` (a routed target's).
    pub(crate) fn provider(mut self, provider: String) -> End {
        self.provider = Some(provider);
        self
    }
}

/// A response body forwarded frame by frame through the usage tap.
pub(crate) struct TapBody {
    inner: Incoming,
    tap: Option<UsageTap>,
    end: Option<End>,
}

impl TapBody {
    pub(crate) fn new(inner: Incoming, tap: Option<UsageTap>, end: End) -> TapBody {
        TapBody {
            inner,
            tap,
            end: Some(end),
        }
    }

    /// The body ended, failed or was dropped: record what the tap read, once.
    fn complete(&mut self) {
        let Some(end) = self.end.take() else {
            return;
        };
        let usage = self.tap.take().map(UsageTap::finish).unwrap_or_default();
        let (Some(tokens), Some(events)) = (usage.tokens, &end.state.events) else {
            return;
        };
        if tokens.is_zero() {
            return;
        }
        Counters::bump(&end.state.counters.metered);
        let state = &end.state;
        let a = &state.attribution;
        let dedup_key = match usage.id.as_deref() {
            // Keyed on the agent's shape: a routed response translated for Claude Code keeps the
            // upstream's id, which is the id Claude Code logs.
            Some(id) if a.agent == "claude" && state.shape == WireShape::Anthropic => {
                format!("claude:{id}")
            }
            Some(id) => format!("proxy:{}:{id}", end.shape.as_str()),
            None => format!(
                "proxy:{}:{}",
                state.nonce,
                state.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
        };
        let event = UsageEvent {
            time: chrono::Utc::now(),
            profile: a.profile.clone(),
            agent: a.agent.clone(),
            provider: end.provider.clone().unwrap_or_else(|| a.provider.clone()),
            model: usage
                .model
                .or(end.model_hint)
                .unwrap_or_else(|| "unknown".into()),
            tokens,
            cost_nanos: None,
            cost_source: CostSource::Unpriced,
            session_id: None,
            origin: "proxy".into(),
            dedup_key,
            rank: PROXY_RANK,
            project: a.project.clone(),
        };
        let route = end.rule.map(|rule| (event.dedup_key.clone(), rule));
        events.send(Message::Usage(Box::new(event), end.permit));
        if let Some((key, rule)) = route {
            events.send(Message::Route(key, rule));
        }
    }
}

impl Body for TapBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(tap), Some(data)) = (&mut this.tap, frame.data_ref()) {
                    tap.feed(data);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.complete();
                Poll::Ready(Some(Err(Box::new(e))))
            }
            Poll::Ready(None) => {
                this.complete();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for TapBody {
    fn drop(&mut self) {
        self.complete();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_of_a_gemini_path() {
        assert_eq!(
            gemini_model("/v1beta/models/gemini-2.5-flash:streamGenerateContent").as_deref(),
            Some("gemini-2.5-flash")
        );
        assert_eq!(gemini_model("/v1/messages"), None);
    }
}
