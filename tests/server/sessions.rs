//! Remote terminal sessions through the real server: `/api/sessions` and `/ws/terminal/{id}`
//! over real sockets, a real PTY and the fake agent's `--interactive` mode (it prints its size,
//! `winch R C` on SIGWINCH and `got LINE` per line; `quit` exits with its `--exit` code).
//! Sessions are sandboxed by default, so every installation lives outside `/tmp`.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Sandbox, fake_agent_bin, outside_tmp};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use super::{Events, Server};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A sandbox with the `tty` profile running the fake agent, and a server allowed to start
/// sessions in the sandbox's directory.
fn setup() -> (Sandbox, Server) {
    let sb = Sandbox::new_in(&outside_tmp());
    sb.run([
        "profiles",
        "create",
        "codex",
        "tty",
        "--provider",
        "ollama",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8 path"),
    ])
    .ok();
    // The workspace: a project directory (the sandbox refuses to give an agent all of HOME).
    std::fs::create_dir_all(project(&sb)).expect("project");
    // The user's HOME the sandbox hides (bwrap mounts over it, so it must exist).
    std::fs::create_dir_all(sb.root().join("user-home")).expect("user home");
    let root = project(&sb).to_str().expect("utf-8").to_string();
    let server = Server::start(&sb, &["--allow-path", &root]);
    (sb, server)
}

fn project(sb: &Sandbox) -> std::path::PathBuf {
    sb.root().join("project")
}

fn create(server: &Server, sb: &Sandbox, args: &[&str]) -> Value {
    let created = server.call(
        "POST",
        "/api/sessions",
        Some(json!({
            "profile": "tty", "args": args, "rows": 24, "cols": 80,
            "working_dir": project(sb),
        })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    let info = created.json();
    assert_eq!(info["state"], "running", "{info}");
    info
}

/// One WebSocket client of a session's terminal, with what it has received.
struct Term {
    ws: WebSocket<TcpStream>,
    bytes: Vec<u8>,
    texts: Vec<Value>,
    closed: Option<(CloseCode, String)>,
}

/// Opens `/ws/terminal/{id}{query}` with these `Sec-WebSocket-Protocol` and extra headers.
fn connect(
    server: &Server,
    target: &str,
    protocols: &str,
    extra: &[(&str, String)],
) -> Result<WebSocket<TcpStream>, tungstenite::Error> {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut req = format!("ws://{}{target}", server.host())
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(protocols).expect("header"),
    );
    for (k, v) in extra {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            HeaderValue::from_str(v).expect("value"),
        );
    }
    tungstenite::client::client(req, stream)
        .map(|(ws, response)| {
            let protocol = response.headers().get("sec-websocket-protocol");
            assert_eq!(
                protocol.and_then(|p| p.to_str().ok()),
                Some("ringlet"),
                "the server answers `ringlet`, never the token's subprotocol"
            );
            ws
        })
        .map_err(|e| match e {
            tungstenite::HandshakeError::Failure(e) => e,
            tungstenite::HandshakeError::Interrupted(_) => panic!("handshake timed out"),
        })
}

/// The HTTP status of a refused upgrade.
fn refused(result: Result<WebSocket<TcpStream>, tungstenite::Error>) -> (u16, String) {
    match result {
        Err(tungstenite::Error::Http(response)) => (
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
        ),
        Err(other) => panic!("refused otherwise: {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

impl Term {
    fn attach(server: &Server, id: &str, query: &str) -> Self {
        let ws = connect(
            server,
            &format!("/ws/terminal/{id}{query}"),
            &format!("ringlet, bearer.{}", server.token()),
            &[],
        )
        .expect("upgrade");
        let mut term = Self {
            ws,
            bytes: Vec::new(),
            texts: Vec::new(),
            closed: None,
        };
        term.until(|t| !t.texts.is_empty(), "the state message");
        assert_eq!(term.texts[0]["type"], "state", "{:?}", term.texts);
        assert_eq!(term.texts[0]["id"], id);
        term
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Reads frames until `done` holds; fails after [`TIMEOUT`].
    fn until(&mut self, done: impl Fn(&Self) -> bool, what: &str) {
        let deadline = Instant::now() + TIMEOUT;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "no {what} within {TIMEOUT:?}; output {:?}, messages {:?}",
                self.text(),
                self.texts
            );
            assert!(
                self.closed.is_none(),
                "closed before {what}: {:?}; output {:?}, messages {:?}",
                self.closed,
                self.text(),
                self.texts
            );
            match self.ws.read() {
                Ok(Message::Binary(b)) => self.bytes.extend_from_slice(&b),
                Ok(Message::Text(t)) => {
                    let value: Value = serde_json::from_str(t.as_str()).expect("JSON text frame");
                    if value["type"] == "resync" {
                        self.bytes.clear();
                    }
                    self.texts.push(value);
                }
                Ok(Message::Close(frame)) => {
                    self.closed = Some(
                        frame
                            .map(|f| (f.code, f.reason.to_string()))
                            .unwrap_or((CloseCode::Status, String::new())),
                    );
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("reading the terminal before {what}: {e}"),
            }
        }
    }

    fn wait_for(&mut self, needle: &str) {
        self.until(|t| t.text().contains(needle), needle);
    }

    fn type_keys(&mut self, keys: &str) {
        self.ws
            .send(Message::Binary(keys.as_bytes().to_vec().into()))
            .expect("send keys");
    }

    fn resize(&mut self, rows: u16, cols: u16) {
        self.ws
            .send(Message::Text(
                json!({"type": "resize", "rows": rows, "cols": cols})
                    .to_string()
                    .into(),
            ))
            .expect("send resize");
    }

    /// Reads until the server's `exit` message and its close; returns the `exit` message.
    fn until_exit(&mut self) -> Value {
        // The close frame comes right after the exit message; reading past it answers it.
        self.until(
            |t| t.texts.iter().any(|m| m["type"] == "exit") && t.closed.is_some(),
            "the exit message and close",
        );
        assert_eq!(
            self.closed.as_ref().map(|c| c.0),
            Some(CloseCode::Normal),
            "{:?}",
            self.closed
        );
        self.texts
            .iter()
            .find(|m| m["type"] == "exit")
            .cloned()
            .expect("exit")
    }
}

#[test]
fn a_session_over_rest_and_websockets_types_resizes_shares_reattaches_and_exits() {
    let (_sb_keep, server) = setup();
    let sb = &_sb_keep;
    let events = Events::open(&server);
    let info = create(&server, sb, &["--exit", "7", "--interactive"]);
    let id = info["id"].as_str().expect("id").to_string();
    assert_eq!(info["profile"], "tty");
    assert_eq!(info["agent"], "codex");
    let run_id = info["run_id"].as_i64().expect("the run is in the ledger");

    let listed = server.call("GET", "/api/sessions", None);
    assert_eq!(listed.status, 200);
    assert!(
        listed
            .json()
            .as_array()
            .expect("list")
            .iter()
            .any(|s| s["id"] == id.as_str()),
        "{listed:?}"
    );
    let one = server.call("GET", &format!("/api/sessions/{id}"), None);
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["id"], id.as_str());

    let mut a = Term::attach(&server, &id, "");
    assert_eq!(a.texts[0]["read_only"], false);
    a.wait_for("size 24 80");
    let mut b = Term::attach(&server, &id, "");
    b.wait_for("size 24 80");
    assert_eq!(
        server
            .call("GET", &format!("/api/sessions/{id}"), None)
            .json()["clients"],
        2
    );

    a.type_keys("hello\r");
    a.wait_for("got hello");
    b.wait_for("got hello");
    b.resize(30, 100);
    a.wait_for("winch 30 100");
    b.wait_for("winch 30 100");
    assert_eq!(a.text(), b.text(), "both clients see the same bytes");

    // A read-only client: told so, and its keys and resizes change nothing.
    let mut watcher = Term::attach(&server, &id, "?readonly");
    assert_eq!(watcher.texts[0]["read_only"], true);
    watcher.wait_for("winch 30 100");
    watcher.type_keys("sneaky\r");
    watcher.resize(10, 10);

    // b leaves; the session goes on; b comes back to the scrollback.
    drop(b);
    a.type_keys("while away\r");
    a.wait_for("got while away");
    let mut b = Term::attach(&server, &id, "");
    b.wait_for("got while away");
    assert!(b.text().contains("size 24 80"), "{}", b.text());
    assert!(!b.text().contains("sneaky"), "{}", b.text());
    assert!(!b.text().contains("winch 10 10"), "{}", b.text());

    a.type_keys("quit\r");
    for term in [&mut a, &mut b, &mut watcher] {
        let exit = term.until_exit();
        assert_eq!(
            exit,
            json!({"type": "exit", "state": "exited", "exit_code": 7})
        );
    }
    let ended = server
        .call("GET", &format!("/api/sessions/{id}"), None)
        .json();
    assert_eq!(ended["state"], "exited", "{ended}");
    assert_eq!(ended["exit_code"], 7, "{ended}");

    // A remote run is a run: it is in /api/events with its ledger id.
    events.wait_for("event: run-ended", TIMEOUT);
    let seen = events.text();
    assert!(seen.contains(&format!("\"run_id\":{run_id}")), "{seen}");
    assert!(seen.contains("event: run-started"), "{seen}");
    assert!(
        !server.log().contains(&server.token()),
        "the log holds the token"
    );
}

#[test]
fn terminate_ends_a_session_and_unknown_ids_are_not_found() {
    let (sb, server) = setup();
    let info = create(&server, &sb, &["--interactive"]);
    let id = info["id"].as_str().expect("id").to_string();
    let mut term = Term::attach(&server, &id, "");
    term.wait_for("size 24 80");
    let ending = server.call("DELETE", &format!("/api/sessions/{id}"), None);
    assert_eq!(ending.status, 200, "{ending:?}");
    let exit = term.until_exit();
    assert_eq!(exit["state"], "terminated", "{exit}");
    // SIGHUP: 128 + 1.
    assert_eq!(exit["exit_code"], 129, "{exit}");
    let ended = server
        .call("GET", &format!("/api/sessions/{id}"), None)
        .json();
    assert_eq!(ended["state"], "terminated", "{ended}");

    for (method, path) in [
        ("GET", "/api/sessions/nope"),
        ("DELETE", "/api/sessions/nope"),
    ] {
        let missing = server.call(method, path, None);
        assert_eq!(missing.status, 404, "{method} {path}: {missing:?}");
        assert_eq!(missing.json()["error"]["code"], "session_not_found");
    }
    let (status, body) = refused(connect(
        &server,
        "/ws/terminal/nope",
        &format!("ringlet, bearer.{}", server.token()),
        &[],
    ));
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("session_not_found"), "{body}");
}

#[test]
fn bad_session_requests_are_refused_with_the_reason() {
    let (sb, server) = setup();
    let outside = server.call(
        "POST",
        "/api/sessions",
        Some(json!({"profile": "tty", "working_dir": "/etc"})),
    );
    assert_eq!(outside.status, 403, "{outside:?}");
    assert_eq!(outside.json()["error"]["code"], "path_not_allowed");
    let unknown = server.call("POST", "/api/sessions", Some(json!({"profile": "ghost"})));
    assert_eq!(unknown.status, 404, "{unknown:?}");
    assert_eq!(unknown.json()["error"]["code"], "profile_not_found");
    let flat = server.call(
        "POST",
        "/api/sessions",
        Some(json!({"profile": "tty", "rows": 0, "cols": 80})),
    );
    assert_eq!(flat.status, 400, "{flat:?}");
    let typo = server.call(
        "POST",
        "/api/sessions",
        Some(json!({"profile": "tty", "sandbox": false})),
    );
    assert_eq!(
        typo.status, 400,
        "a client cannot turn the sandbox off: {typo:?}"
    );
    assert!(
        server.call("GET", "/api/sessions", None).json() == json!([]),
        "nothing was started"
    );
    drop(sb);
}

#[test]
fn the_terminal_refuses_no_token_a_wrong_one_a_url_token_a_foreign_origin_or_host() {
    let (sb, server) = setup();
    let info = create(&server, &sb, &["--interactive"]);
    let id = info["id"].as_str().expect("id").to_string();
    let target = format!("/ws/terminal/{id}");
    let good = format!("ringlet, bearer.{}", server.token());

    let (status, _) = refused(connect(&server, &target, "ringlet", &[]));
    assert_eq!(status, 401, "no token");
    let wrong = format!("ringlet, bearer.{}", "0".repeat(64));
    let (status, _) = refused(connect(&server, &target, &wrong, &[]));
    assert_eq!(status, 401, "a wrong token");
    let (status, body) = refused(connect(
        &server,
        &format!("{target}?token={}", server.token()),
        &good,
        &[],
    ));
    assert_eq!(status, 401, "a token in the URL: {body}");
    let (status, body) = refused(connect(
        &server,
        &target,
        &good,
        &[("Origin", "http://evil.example".into())],
    ));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("forbidden_origin"), "{body}");
    let (status, body) = refused(connect(
        &server,
        &target,
        &good,
        &[("Host", format!("evil.example:{}", server.port))],
    ));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("forbidden_host"), "{body}");
    // The token without the `ringlet` subprotocol: refused, so a server never has to echo the
    // token's subprotocol back.
    let (status, body) = refused(connect(
        &server,
        &target,
        &format!("bearer.{}", server.token()),
        &[],
    ));
    assert_eq!(status, 400, "{body}");
    // Not an upgrade at all.
    let plain = server.call("GET", &target, None);
    assert_eq!(plain.status, 400, "{plain:?}");
    // The server's own origin is fine.
    let own = connect(
        &server,
        &target,
        &good,
        &[("Origin", format!("http://{}", server.host()))],
    );
    assert!(own.is_ok(), "the server's own origin: {:?}", own.err());
    assert!(
        !server.log().contains(&server.token()),
        "the log holds the token"
    );
    server.call("DELETE", &format!("/api/sessions/{id}"), None);
}
