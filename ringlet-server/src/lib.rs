//! # ringlet-server
//!
//! ringlet's HTTP face: the [`Ringlet`] facade as authenticated JSON routes under `/api`, live
//! events over Server-Sent Events, and the OpenAPI 3.1 document of it all at
//! `/api/openapi.json`. `ringlet serve` (and `ringlet daemon --stay-alive`) runs it; tests and
//! embedders drive [`app`] in-process.
//!
//! A token is as good as a shell on this machine (routes add hooks that run commands and start
//! agents), so every request passes the checks in [`guard`]: the `Host` names this server
//! (DNS rebinding), a browser's `Origin` is this server's, and the bearer token from
//! `<config>/http_token` is presented in a header, never in a URL. See docs/server.md.
//!
//! The facade is synchronous; every call runs on tokio's blocking pool, so a slow one (a
//! pricing download, a hook test) never stalls other requests.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
pub mod client;
pub mod error;
mod events;
pub mod guard;
mod listen;
pub mod log;
mod sessions;
pub mod terminal;
pub mod token;
pub mod web;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use ringlet::Ringlet;
use ringlet::session::{SessionConfig, SessionManager};

pub use api::openapi;
pub use error::ApiError;
pub use guard::{HostPolicy, WS_PROTOCOL, WS_TOKEN_PREFIX, WsProtocol};
pub use listen::{ServeError, run, serve};

/// Where the server listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8765";

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain (leaf first).
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// How a server runs: where it listens and what it lets requests name.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// Serve HTTPS with this certificate.
    pub tls: Option<TlsFiles>,
    /// The operator terminates TLS in front of this server (a reverse proxy), so plain HTTP on
    /// a non-loopback address is acceptable.
    pub tls_terminated_elsewhere: bool,
    /// `Host` names besides `localhost` and the listen address (`name` for any port, or
    /// `name:port`).
    pub allowed_hosts: Vec<String>,
    /// Browser origins besides the server's own (`https://dash.example`).
    pub allowed_origins: Vec<String>,
    /// Directories under which a request may name server-side files (an import source, a
    /// pricing file, a Rhai script, a profile's binary or working directory). None by default.
    pub allowed_paths: Vec<PathBuf>,
    /// URLs a pricing update may download from. LiteLLM's feed by default.
    pub pricing_urls: Vec<String>,
    /// Log one line per request on stderr.
    pub log_requests: bool,
    /// How long an ended terminal session stays listable, with its scrollback.
    pub session_retention: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8765)),
            tls: None,
            tls_terminated_elsewhere: false,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            allowed_paths: Vec::new(),
            pricing_urls: vec![ringlet::LITELLM_PRICES_URL.to_string()],
            log_requests: true,
            session_retention: SessionConfig::default().retention,
        }
    }
}

impl ServerConfig {
    /// Refuses a plain-HTTP listener reachable from other machines: the token would cross the
    /// network in clear text.
    pub fn check(&self) -> Result<(), ServeError> {
        let ip = self.listen.ip();
        if !ip.is_loopback() && self.tls.is_none() && !self.tls_terminated_elsewhere {
            return Err(ServeError::new(format!(
                "refusing to listen on {} without TLS: the token would cross the network in clear text; pass --tls-cert and --tls-key, or --tls-terminated-elsewhere when a proxy in front of the server does TLS",
                self.listen
            )));
        }
        Ok(())
    }
}

/// What the routes share: the facade, the token file, the request policy and the event hub.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<StateInner>,
}

#[derive(Debug)]
struct StateInner {
    ringlet: Ringlet,
    token: token::TokenFile,
    hosts: HostPolicy,
    allowed_paths: Vec<PathBuf>,
    pricing_urls: Vec<String>,
    log_requests: bool,
    events: events::EventHub,
    sessions: SessionManager,
}

impl AppState {
    /// The state of a server bound to `bound` (the real address: with port 0 asked for, the
    /// port the system gave). Creates the token file when there is none, and starts watching
    /// the data directory for other processes' changes.
    pub fn new(
        ringlet: Ringlet,
        config: &ServerConfig,
        bound: SocketAddr,
    ) -> Result<Self, ServeError> {
        ringlet
            .paths()
            .ensure()
            .map_err(|e| ServeError::new(e.to_string()))?;
        let token_path = token::token_path(ringlet.paths().config_dir());
        token::ensure(&token_path).map_err(|e| ServeError::new(e.to_string()))?;
        let allowed_paths = config
            .allowed_paths
            .iter()
            .map(|p| {
                std::fs::canonicalize(p)
                    .map_err(|e| ServeError::new(format!("--allow-path {}: {e}", p.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let events = events::EventHub::start(&ringlet);
        let sessions = SessionManager::new(
            ringlet.clone(),
            SessionConfig::default().retention(config.session_retention),
        );
        if let Some((endpoint, seconds)) = ringlet.otlp_settings() {
            export_metrics_every(ringlet.clone(), endpoint, seconds);
        }
        Ok(Self {
            inner: Arc::new(StateInner {
                hosts: HostPolicy::new(
                    bound,
                    config.tls.is_some(),
                    &config.allowed_hosts,
                    &config.allowed_origins,
                ),
                token: token::TokenFile::new(token_path),
                allowed_paths,
                pricing_urls: config.pricing_urls.clone(),
                log_requests: config.log_requests,
                events,
                sessions,
                ringlet,
            }),
        })
    }

    /// The facade.
    pub fn ringlet(&self) -> &Ringlet {
        &self.inner.ringlet
    }

    /// The terminal sessions this server runs.
    pub fn sessions(&self) -> &SessionManager {
        &self.inner.sessions
    }

    /// The token file requests are checked against.
    pub fn token_path(&self) -> &Path {
        self.inner.token.path()
    }
}

/// Pushes the metrics to the OTLP endpoint now and every `seconds`, on a thread of its own (the
/// export is blocking I/O); a failure is one log line, and the next round tries again.
fn export_metrics_every(ringlet: Ringlet, endpoint: String, seconds: u64) {
    let start = chrono::Utc::now();
    log::line(&format!(
        "exporting metrics to {endpoint} (OTLP/HTTP) every {seconds}s"
    ));
    let spawned = std::thread::Builder::new()
        .name("otlp-export".into())
        .spawn(move || {
            loop {
                if let Err(e) = ringlet.export_metrics(start) {
                    log::line(&format!("warning: OTLP export failed: {e}"));
                }
                std::thread::sleep(std::time::Duration::from_secs(seconds));
            }
        });
    if let Err(e) = spawned {
        log::line(&format!("warning: the OTLP exporter did not start: {e}"));
    }
}

/// The whole API as a router: every route under `/api` and `/metrics`, behind the request checks of
/// [`guard`] and the request log.
pub fn app(state: AppState) -> Router {
    api::router(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(state, log::requests))
}
