//! The checks every request passes before a handler sees it, in this order:
//!
//! 1. `Host` must name this server: `localhost`, its own IP literal, or a name the operator
//!    allowed (`--allow-host`), with the port it listens on. A page on `evil.example` whose DNS
//!    answer was rebound to 127.0.0.1 sends `Host: evil.example`, and is refused here, before
//!    the token matters (DNS rebinding).
//! 2. `Origin`, when a browser sends one, must be this server's own origin or one the operator
//!    allowed (`--allow-origin`). Cross-site pages (and their WebSocket upgrades, which no CORS
//!    rule covers) are refused. No CORS header is ever sent: the API is closed to other origins.
//! 3. Every route but `/api/health` and the dashboard's files (which hold no data; see
//!    [`crate::web`]) needs the token: `Authorization: Bearer <token>`, or for a
//!    WebSocket upgrade (browsers cannot set headers there) the subprotocol
//!    `bearer.<token>` beside [`WS_PROTOCOL`] in `Sec-WebSocket-Protocol`. A token in the query
//!    string is refused with a message saying why (URLs end up in logs, history and Referer).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// The subprotocol a WebSocket client offers (with `bearer.<token>`) and the server accepts.
/// The server answers with this one only, never echoing the token's.
pub const WS_PROTOCOL: &str = "ringlet";

/// The prefix of the subprotocol that carries the token on a WebSocket upgrade.
pub const WS_TOKEN_PREFIX: &str = "bearer.";

/// The route that needs no token (it says only that the server is up).
pub const HEALTH_PATH: &str = "/api/health";

/// Query parameters that look like a credential: refused, never read.
const TOKEN_PARAMS: [&str; 6] = [
    "token",
    "access_token",
    "bearer",
    "auth",
    "api_key",
    "authorization",
];

/// Who may call, by `Host` and `Origin`.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    bound: SocketAddr,
    tls: bool,
    /// Extra names, lower-case, each with a port or `None` for any port (behind a proxy the
    /// `Host` carries the proxy's port).
    names: Vec<(String, Option<u16>)>,
    origins: Vec<String>,
}

impl HostPolicy {
    /// The policy of a server bound to `bound`, serving TLS or not, with extra allowed `Host`
    /// names (`name` or `name:port`) and origins (`https://dash.example`).
    pub fn new(bound: SocketAddr, tls: bool, names: &[String], origins: &[String]) -> Self {
        Self {
            bound,
            tls,
            names: names
                .iter()
                .filter_map(|n| {
                    let n = n.trim().to_ascii_lowercase();
                    let (host, port) = split_host_port(&n)?;
                    Some((host.to_string(), port))
                })
                .collect(),
            origins: origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    fn default_port(&self) -> u16 {
        if self.tls { 443 } else { 80 }
    }

    /// Whether a `Host` value (`name[:port]`) names this server.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let Some((name, port)) = split_host_port(&host) else {
            return false;
        };
        let port_ok = port.unwrap_or(self.default_port()) == self.bound.port();
        if self
            .names
            .iter()
            .any(|(n, p)| n == name && p.is_none_or(|p| Some(p) == port))
        {
            return true;
        }
        if !port_ok {
            return false;
        }
        if name == "localhost" {
            return true;
        }
        // An IP literal cannot be rebound: a browser sends one only to that address.
        match name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            Ok(ip) => {
                let bound = self.bound.ip();
                ip == bound || bound.is_unspecified() || (bound.is_loopback() && ip.is_loopback())
            }
            Err(_) => false,
        }
    }

    /// Whether a browser `Origin` may call.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        let (scheme, authority) = match origin.split_once("://") {
            Some(parts) => parts,
            None => return false,
        };
        let expected = if self.tls { "https" } else { "http" };
        if scheme != expected || authority.contains(['/', '@', '?', '#']) {
            return false;
        }
        self.host_allowed(authority)
    }
}

/// `name` / `name:port` / `[v6]` / `[v6]:port`; `None` when malformed.
fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.is_empty() {
        return None;
    }
    if s.starts_with('[') {
        let end = s.find(']')?;
        let (host, rest) = s.split_at(end + 1);
        return match rest.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if rest.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && !host.is_empty() => {
            Some((host, Some(port.parse().ok()?)))
        }
        Some(_) => None,
        None => Some((s, None)),
    }
}

/// The token a WebSocket upgrade carries in `Sec-WebSocket-Protocol`, if any.
pub fn websocket_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(|p| p.strip_prefix(WS_TOKEN_PREFIX))
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn token_in_query(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&').any(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            TOKEN_PARAMS.iter().any(|t| key.eq_ignore_ascii_case(t))
        })
    })
}

/// Checks `Host`, `Origin` and the token (see the module's docs).
fn check(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    let headers = &parts.headers;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    match host {
        Some(h) if state.inner.hosts.host_allowed(h) => {}
        _ => {
            return Err(ApiError::forbidden(
                "forbidden_host",
                "this server does not answer to that Host name; use the address it listens on, or start it with --allow-host NAME",
            ));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin
            .to_str()
            .is_ok_and(|o| state.inner.hosts.origin_allowed(o));
        if !ok {
            return Err(ApiError::forbidden(
                "forbidden_origin",
                "requests from that Origin are refused; serve the page from this server, or start it with --allow-origin ORIGIN",
            ));
        }
    }
    if parts.uri.path() == HEALTH_PATH || crate::web::is_public(&parts.method, parts.uri.path()) {
        return Ok(());
    }
    if token_in_query(parts.uri.query()) {
        return Err(ApiError::unauthorized(
            "a token in the URL is never accepted (URLs end up in logs and history); send it as `Authorization: Bearer <token>`",
        ));
    }
    let presented = match bearer(headers) {
        Some(t) => Some(t),
        None if is_websocket_upgrade(headers) => websocket_token(headers),
        None => None,
    };
    let Some(presented) = presented else {
        return Err(ApiError::unauthorized(
            "this route needs the server's token: send `Authorization: Bearer <token>` (the token is in the server's http_token file)",
        ));
    };
    match state.inner.token.verify(presented) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::unauthorized(
            "the token is wrong or was rotated; read the current one from the server's http_token file",
        )),
        Err(e) => {
            crate::log::line(&format!("token: {e}"));
            Err(ApiError::unauthorized(
                "the server cannot read its token file, so it refuses every request; see its log",
            ))
        }
    }
}

/// The middleware around every route.
pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(e) = check(&state, &parts) {
        return e.into_response();
    }
    let mut response = next.run(Request::from_parts(parts, body)).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A WebSocket route's proof that the upgrade was authenticated by its subprotocol (the guard
/// has checked the token by then) and the subprotocol to answer with: [`WS_PROTOCOL`], never
/// the one holding the token. Refuses a request that offered no [`WS_PROTOCOL`].
#[derive(Debug, Clone, Copy)]
pub struct WsProtocol;

impl WsProtocol {
    /// The subprotocol to accept.
    pub const fn accept(self) -> &'static str {
        WS_PROTOCOL
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WsProtocol {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let offered = parts
            .headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|p| p.trim() == WS_PROTOCOL);
        if offered
            && (websocket_token(&parts.headers).is_some() || bearer(&parts.headers).is_some())
        {
            Ok(WsProtocol)
        } else {
            Err(ApiError::bad_request(format!(
                "a WebSocket client offers the subprotocols `{WS_PROTOCOL}` and `{WS_TOKEN_PREFIX}<token>`"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bound: &str, names: &[&str]) -> HostPolicy {
        HostPolicy::new(
            bound.parse().expect("addr"),
            false,
            &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            &[],
        )
    }

    #[test]
    fn hosts_are_this_server_or_named() {
        let p = policy("127.0.0.1:8765", &["dev.example", "proxy.example:443"]);
        for ok in [
            "127.0.0.1:8765",
            "localhost:8765",
            "LOCALHOST:8765",
            "[::1]:8765",
            "dev.example",
            "dev.example:9999",
            "proxy.example:443",
        ] {
            assert!(p.host_allowed(ok), "{ok}");
        }
        for refused in [
            "evil.example:8765",
            "127.0.0.1:8766",
            "127.0.0.1",
            "localhost",
            "10.0.0.1:8765",
            "proxy.example:80",
            "",
            "127.0.0.1:8765:1",
            "localhost.evil.example:8765",
        ] {
            assert!(!p.host_allowed(refused), "{refused}");
        }
        let any = policy("0.0.0.0:8765", &[]);
        assert!(any.host_allowed("192.168.1.5:8765"));
        assert!(!any.host_allowed("box.local:8765"));
    }

    #[test]
    fn origins_are_this_server_or_named() {
        let p = HostPolicy::new(
            "127.0.0.1:8765".parse().expect("addr"),
            false,
            &[],
            &["https://dash.example".into()],
        );
        assert!(p.origin_allowed("http://127.0.0.1:8765"));
        assert!(p.origin_allowed("http://localhost:8765"));
        assert!(p.origin_allowed("https://dash.example/"));
        for refused in [
            "https://127.0.0.1:8765",
            "http://evil.example:8765",
            "http://localhost:8765@evil.example",
            "null",
            "file://",
        ] {
            assert!(!p.origin_allowed(refused), "{refused}");
        }
    }

    #[test]
    fn query_tokens_are_spotted_and_ws_tokens_read_from_the_subprotocol() {
        assert!(token_in_query(Some("a=1&token=x")));
        assert!(token_in_query(Some("Access_Token=x")));
        assert!(!token_in_query(Some("profile=token")));
        let mut h = HeaderMap::new();
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("ringlet, bearer.abc"),
        );
        assert_eq!(websocket_token(&h), Some("abc"));
    }
}
