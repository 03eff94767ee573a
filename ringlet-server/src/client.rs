//! A client of a ringlet server's terminal sessions: the REST routes over blocking HTTP (ureq)
//! and `/ws/terminal/{id}` over a WebSocket (tokio-tungstenite on a thread of its own), for
//! `ringlet remotes …` and `ringlet profiles run --remote` (docs/remote.md).
//!
//! The token goes in `Authorization` (REST) and in `Sec-WebSocket-Protocol` (the upgrade),
//! never in a URL, an error or a `Debug` output.

use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use ringlet::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::guard::{WS_PROTOCOL, WS_TOKEN_PREFIX};

/// How long a REST call may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Output frames a slow reader of an [`Attachment`] may leave unread before the WebSocket stops
/// being read (the server then queues, and at worst resyncs this client).
const EVENT_QUEUE: usize = 256;

/// What went wrong talking to a server: its message (with the server's hint), and its stable
/// error code when the server gave one (`session_not_found`, `unauthorized`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientError {
    code: Option<String>,
    status: Option<u16>,
    message: String,
}

impl ClientError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            code: None,
            status: None,
            message: message.into(),
        }
    }

    /// The server's error code, when the server answered with one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The server's `{"error": …}` body (or what it said instead) as an error.
    fn from_answer(status: u16, body: &str) -> Self {
        let error = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v.get("error").cloned());
        let Some(error) = error else {
            let body = body.trim();
            let said = if body.is_empty() || body.len() > 300 {
                String::new()
            } else {
                format!(": {body}")
            };
            return Self {
                code: None,
                status: Some(status),
                message: format!("the server answered HTTP {status}{said}"),
            };
        };
        let text = |k: &str| error.get(k).and_then(Value::as_str).map(str::to_string);
        let mut message = text("message").unwrap_or_else(|| format!("HTTP {status}"));
        if let Some(hint) = text("hint") {
            message = format!("{message}; {hint}");
        }
        Self {
            code: text("code"),
            status: Some(status),
            message,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ClientError {}

/// A session on a server, as `/api/sessions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoteSession {
    /// Its id.
    pub id: String,
    /// The profile it runs.
    pub profile: String,
    /// The profile's agent.
    pub agent: String,
    /// `starting`, `running`, `exited` or `terminated`.
    pub state: String,
    /// The agent's exit code, once it has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The agent's pid on the server.
    #[serde(default)]
    pub pid: Option<u32>,
    /// The run's id in the server's usage ledger.
    #[serde(default)]
    pub run_id: Option<i64>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the agent ended.
    #[serde(default)]
    pub ended_at: Option<DateTime<Utc>>,
    /// Terminal rows.
    pub rows: u16,
    /// Terminal columns.
    pub cols: u16,
    /// Clients attached now.
    pub clients: usize,
    /// Bytes of scrollback kept.
    #[serde(default)]
    pub scrollback_bytes: usize,
}

/// A session to start on a server (`POST /api/sessions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewRemoteSession {
    /// The profile's alias (on the server).
    pub profile: String,
    /// Arguments for the agent after the profile's own.
    pub args: Vec<String>,
    /// The working directory on the server (under one of its `--allow-path` directories).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// Terminal rows.
    pub rows: u16,
    /// Terminal columns.
    pub cols: u16,
}

impl NewRemoteSession {
    /// A session of `profile` in a `rows` × `cols` terminal.
    pub fn new(profile: impl Into<String>, rows: u16, cols: u16) -> Self {
        Self {
            profile: profile.into(),
            args: Vec::new(),
            working_dir: None,
            rows,
            cols,
        }
    }

    /// Sets the agent's extra arguments.
    pub fn args(mut self, args: Vec<String>) -> Self {
        self.args = args;
        self
    }
}

/// A server's sessions, reached at its base URL with its token.
pub struct Client {
    base: String,
    token: Secret,
    http: ureq::Agent,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `url` (`http://127.0.0.1:8765`, `https://box.example:8765`;
    /// a path prefix behind a proxy is kept).
    pub fn new(url: &str, token: Secret) -> Result<Self, ClientError> {
        let base = url.trim().trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::new(format!(
                "the server's URL {base:?} is not http:// or https://"
            )));
        }
        let http: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(HTTP_TIMEOUT))
            .http_status_as_error(false)
            .user_agent(concat!("ringlet/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(Self { base, token, http })
    }

    /// The server's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token.expose());
        let sent = match (method, body) {
            ("GET", _) => self.http.get(&url).header("authorization", &auth).call(),
            ("DELETE", _) => self.http.delete(&url).header("authorization", &auth).call(),
            (_, body) => self
                .http
                .post(&url)
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .send(body.map(Value::to_string).unwrap_or_default()),
        };
        let mut answer = sent.map_err(|e| {
            ClientError::new(format!("could not reach the server at {}: {e}", self.base))
        })?;
        let status = answer.status().as_u16();
        let text = answer
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| ClientError::new(format!("the server's answer was cut off: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(ClientError::from_answer(status, &text));
        }
        serde_json::from_str(&text).map_err(|e| {
            ClientError::new(format!(
                "the server's answer is not the JSON expected ({e}); is {} a ringlet server?",
                self.base
            ))
        })
    }

    fn parse<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, ClientError> {
        serde_json::from_value(value).map_err(|e| {
            ClientError::new(format!(
                "the server's answer is not what this ringlet expects ({e}); update one of them"
            ))
        })
    }

    /// Every session on the server, running and recently ended.
    pub fn sessions(&self) -> Result<Vec<RemoteSession>, ClientError> {
        Self::parse(self.call("GET", "/api/sessions", None)?)
    }

    /// One session.
    pub fn session(&self, id: &str) -> Result<RemoteSession, ClientError> {
        Self::parse(self.call("GET", &format!("/api/sessions/{}", segment(id)), None)?)
    }

    /// Starts a session; returns once its agent runs.
    pub fn create_session(&self, new: &NewRemoteSession) -> Result<RemoteSession, ClientError> {
        let body = serde_json::to_value(new).map_err(|e| ClientError::new(e.to_string()))?;
        Self::parse(self.call("POST", "/api/sessions", Some(&body))?)
    }

    /// Terminates a session (SIGHUP, then SIGKILL after the server's grace period).
    pub fn terminate(&self, id: &str) -> Result<RemoteSession, ClientError> {
        Self::parse(self.call("DELETE", &format!("/api/sessions/{}", segment(id)), None)?)
    }

    /// Attaches to a session's terminal: the scrollback comes first, then the live output.
    pub fn attach(&self, id: &str, read_only: bool) -> Result<Attachment, ClientError> {
        Attachment::open(self, id, read_only)
    }
}

/// A session id as one path segment (ids are hex; anything else is escaped, never a path).
fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What an attached terminal receives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TerminalEvent {
    /// Terminal output: write it to the terminal as it is.
    Output(Vec<u8>),
    /// The client fell behind and this is the screen now: reset the terminal, then write it.
    Resync(Vec<u8>),
    /// The agent ended.
    Exit {
        /// `exited` or `terminated`.
        state: String,
        /// Its exit code.
        exit_code: i32,
    },
    /// The server dropped this client (it fell behind twice); the session goes on.
    Dropped {
        /// Why.
        reason: String,
    },
    /// The server did not understand a control message.
    Error {
        /// What it said.
        message: String,
    },
    /// The connection ended (the last event): after `Exit` or `Dropped`, on detach, or when
    /// the network failed.
    Closed {
        /// Why, when known.
        reason: String,
    },
}

enum Outgoing {
    Keys(Vec<u8>),
    Resize(u16, u16),
    Detach,
}

/// Sends keys and resizes to an [`Attachment`]'s session, from any thread.
#[derive(Debug, Clone)]
pub struct TerminalInput {
    tx: tokio::sync::mpsc::UnboundedSender<Outgoing>,
}

impl fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keys(k) => write!(f, "Keys({} bytes)", k.len()),
            Self::Resize(r, c) => write!(f, "Resize({r}, {c})"),
            Self::Detach => f.write_str("Detach"),
        }
    }
}

impl TerminalInput {
    /// Types `keys`; `false` once the connection is gone.
    pub fn keys(&self, keys: &[u8]) -> bool {
        self.tx.send(Outgoing::Keys(keys.to_vec())).is_ok()
    }

    /// Says the terminal is `rows` × `cols` now; `false` once the connection is gone.
    pub fn resize(&self, rows: u16, cols: u16) -> bool {
        self.tx.send(Outgoing::Resize(rows, cols)).is_ok()
    }

    /// Closes the connection; the session goes on. The attachment's last event is `Closed`.
    pub fn detach(&self) {
        let _ = self.tx.send(Outgoing::Detach);
    }
}

/// A terminal attached to a session ([`Client::attach`]). Dropping it detaches.
#[derive(Debug)]
pub struct Attachment {
    session: RemoteSession,
    read_only: bool,
    events: Receiver<TerminalEvent>,
    input: TerminalInput,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Attachment {
    fn open(client: &Client, id: &str, read_only: bool) -> Result<Self, ClientError> {
        let scheme_less = client
            .base
            .strip_prefix("http")
            .ok_or_else(|| ClientError::new("the server's URL is not http(s)"))?;
        let mut url = format!("ws{scheme_less}/ws/terminal/{}", segment(id));
        if read_only {
            url.push_str("?readonly=1");
        }
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::new(format!("cannot open {url}: {e}")))?;
        let protocols = format!("{WS_PROTOCOL}, {WS_TOKEN_PREFIX}{}", client.token.expose());
        let mut value = HeaderValue::from_str(&protocols).map_err(|_| {
            ClientError::new("the remote's token holds characters a header cannot carry")
        })?;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert("sec-websocket-protocol", value);
        let tls = url.starts_with("wss://");
        let host = request
            .uri()
            .host()
            .ok_or_else(|| ClientError::new(format!("{url} names no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = request
            .uri()
            .port_u16()
            .unwrap_or(if tls { 443 } else { 80 });

        let (ready_tx, ready_rx) = sync_channel::<Result<RemoteSession, ClientError>>(1);
        let (events_tx, events) = sync_channel::<TerminalEvent>(EVENT_QUEUE);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Outgoing>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ClientError::new(format!("cannot start the terminal's runtime: {e}")))?;
        std::thread::Builder::new()
            .name("ringlet-terminal".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let stream = match connect(&host, port, tls).await {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let mut ws = match tokio_tungstenite::client_async(request, stream).await {
                        Ok((ws, _)) => ws,
                        Err(e) => {
                            let _ = ready_tx.send(Err(handshake_error(e)));
                            return;
                        }
                    };
                    // The first frame is the session's state.
                    let first = tokio::time::timeout(HTTP_TIMEOUT, ws.next()).await;
                    let session = match first {
                        Ok(Some(Ok(Message::Text(t)))) => {
                            serde_json::from_str::<RemoteSession>(t.as_str()).map_err(|e| {
                                ClientError::new(format!(
                                    "the server's first message is not a session ({e})"
                                ))
                            })
                        }
                        Ok(other) => Err(ClientError::new(format!(
                            "the server sent no session state first ({})",
                            match other {
                                Some(Ok(m)) => format!("{} bytes of something else", m.len()),
                                Some(Err(e)) => e.to_string(),
                                None => "the connection closed".into(),
                            }
                        ))),
                        Err(_) => Err(ClientError::new("the server sent nothing within a minute")),
                    };
                    let ok = session.is_ok();
                    let _ = ready_tx.send(session);
                    if ok {
                        pump(ws, rx, events_tx).await;
                    }
                });
            })
            .map_err(|e| ClientError::new(format!("cannot start the terminal's thread: {e}")))?;
        let session = ready_rx
            .recv()
            .map_err(|_| ClientError::new("the terminal's thread ended before connecting"))??;
        Ok(Self {
            session,
            read_only,
            events,
            input: TerminalInput { tx },
        })
    }

    /// The session as it was when this client attached.
    pub fn session(&self) -> &RemoteSession {
        &self.session
    }

    /// Whether this client's input is ignored.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// A handle to type, resize and detach from other threads.
    pub fn input(&self) -> TerminalInput {
        self.input.clone()
    }

    /// The next event, waiting for it; `None` after `Closed`.
    pub fn next(&self) -> Option<TerminalEvent> {
        self.events.recv().ok()
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` after `Closed`, `Err(())` when
    /// none came in time.
    #[allow(clippy::result_unit_err)]
    pub fn next_timeout(&self, timeout: Duration) -> Result<Option<TerminalEvent>, ()> {
        match self.events.recv_timeout(timeout) {
            Ok(e) => Ok(Some(e)),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
            Err(RecvTimeoutError::Timeout) => Err(()),
        }
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.input.detach();
    }
}

async fn connect(host: &str, port: u16, tls: bool) -> Result<Box<dyn Io>, ClientError> {
    let tcp = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| ClientError::new(format!("could not reach {host}:{port}: {e}")))?;
    // Keystrokes go out at once, not after Nagle's delay.
    let _ = tcp.set_nodelay(true);
    if !tls {
        return Ok(Box::new(tcp));
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ClientError::new(format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| ClientError::new(format!("TLS: {host} is not a server name: {e}")))?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| ClientError::new(format!("TLS with {host}:{port} failed: {e}")))?;
    Ok(Box::new(stream))
}

fn handshake_error(e: tokio_tungstenite::tungstenite::Error) -> ClientError {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned();
            ClientError::from_answer(status, &body)
        }
        other => ClientError::new(format!("the WebSocket upgrade failed: {other}")),
    }
}

/// Moves frames until the connection ends: server frames become events, input becomes frames.
async fn pump<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    mut input: tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    events: SyncSender<TerminalEvent>,
) {
    // `send` on a full queue blocks this thread: the socket is then not read, and the server
    // queues for this client (resyncing it at worst). That is the flow control.
    let emit = |e: TerminalEvent| events.send(e).is_ok();
    let mut resync_next = false;
    let reason = loop {
        tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    let event = if std::mem::take(&mut resync_next) {
                        TerminalEvent::Resync(bytes.to_vec())
                    } else {
                        TerminalEvent::Output(bytes.to_vec())
                    };
                    if !emit(event) {
                        break "the reader went away".to_string();
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    let field = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                    let event = match value.get("type").and_then(Value::as_str) {
                        Some("resync") => {
                            resync_next = true;
                            None
                        }
                        Some("exit") => Some(TerminalEvent::Exit {
                            state: field("state"),
                            exit_code: value
                                .get("exit_code")
                                .and_then(Value::as_i64)
                                .and_then(|c| i32::try_from(c).ok())
                                .unwrap_or(1),
                        }),
                        Some("dropped") => Some(TerminalEvent::Dropped { reason: field("reason") }),
                        Some("error") => Some(TerminalEvent::Error { message: field("message") }),
                        // `state` again, or a message a newer server sends: nothing to do.
                        _ => None,
                    };
                    if let Some(event) = event
                        && !emit(event)
                    {
                        break "the reader went away".to_string();
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    break frame.map(|f| f.reason.to_string()).unwrap_or_default();
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => break format!("the connection failed: {e}"),
                None => break "the connection closed".to_string(),
            },
            out = input.recv() => {
                let sent = match out {
                    Some(Outgoing::Keys(keys)) => ws.send(Message::Binary(keys.into())).await,
                    Some(Outgoing::Resize(rows, cols)) => {
                        let resize = json!({"type": "resize", "rows": rows, "cols": cols});
                        ws.send(Message::Text(resize.to_string().into())).await
                    }
                    Some(Outgoing::Detach) | None => {
                        let _ = ws.close(None).await;
                        break "detached".to_string();
                    }
                };
                if let Err(e) = sent {
                    break format!("the connection failed: {e}");
                }
            }
        }
    };
    let _ = events.send(TerminalEvent::Closed { reason });
}
