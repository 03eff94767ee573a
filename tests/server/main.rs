//! `ringlet serve` as users run it: the real binary on a real socket (port 0, read from its
//! first line on stderr), requests over TCP written by hand so every header is the test's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Sandbox, fake_agent_bin};
use serde_json::{Value, json};

mod sessions;

/// A key set over HTTP; it must never come back in a response, an event or the server's log.
const CANARY: &str = "sk-ant-canary-5e2b7a91";

/// A running `ringlet serve`, killed on drop; its stderr is collected.
struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
    token_path: std::path::PathBuf,
}

impl Server {
    fn start(sb: &Sandbox, extra: &[&str]) -> Self {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = sb
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ringlet serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("serving the API on")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(line.clone());
                }
                let mut log = sink.lock().expect("log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {}", log.lock().expect("log"));
            }
        };
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        Self {
            child,
            port,
            log,
            token_path: sb.ringlet_home().join("config/http_token"),
        }
    }

    fn token(&self) -> String {
        std::fs::read_to_string(&self.token_path)
            .expect("token file")
            .trim()
            .to_string()
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }

    /// One request with exactly these headers (plus Host unless given, Connection: close, and
    /// Content-Length for a body).
    fn raw(&self, method: &str, path: &str, headers: &[(&str, String)], body: &str) -> Answer {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req += &format!("Host: {}\r\n", self.host());
        }
        for (k, v) in headers {
            req += &format!("{k}: {v}\r\n");
        }
        if !body.is_empty() {
            req += &format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        req += "\r\n";
        req += body;
        stream.write_all(req.as_bytes()).expect("send");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        Answer::parse(&raw)
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let auth = ("Authorization", format!("Bearer {}", self.token()));
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.raw(method, path, &[auth], &body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_string()
        };
        Self {
            status,
            head: head.to_string(),
            body,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// An open `GET /api/events`, read in the background.
struct Events {
    seen: Arc<Mutex<String>>,
}

impl Events {
    fn open(server: &Server) -> Self {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        let req = format!(
            "GET /api/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
            server.host(),
            server.token()
        );
        stream.write_all(req.as_bytes()).expect("send");
        let seen = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("events")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let events = Self { seen };
        events.wait_for("event: ready", Duration::from_secs(10));
        events
    }

    fn text(&self) -> String {
        self.seen.lock().expect("events").clone()
    }

    /// Waits until `needle` was received; returns how long that took.
    fn wait_for(&self, needle: &str, limit: Duration) -> Duration {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.text().contains(needle) {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("no {needle:?} within {limit:?}; got:\n{}", self.text());
    }
}

/// Every (method, path) of the OpenAPI document, path parameters filled in.
fn routes(server: &Server) -> Vec<(String, String)> {
    let doc = server.call("GET", "/api/openapi.json", None).json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in item.as_object().expect("item").keys() {
            out.push((method.to_uppercase(), concrete.clone()));
        }
    }
    assert!(out.len() >= 20, "{out:?}");
    out
}

#[test]
fn every_route_refuses_a_missing_wrong_or_query_string_token() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    let token = server.token();
    assert_eq!(token.len(), 64, "256 bits, hex");
    for (method, path) in routes(&server) {
        if path == "/api/health" {
            assert_eq!(server.raw(&method, &path, &[], "").status, 200);
            continue;
        }
        let none = server.raw(&method, &path, &[], "");
        assert_eq!(none.status, 401, "{method} {path}: {none:?}");
        assert!(none.head.contains("www-authenticate: Bearer"), "{none:?}");
        let wrong = server.raw(
            &method,
            &path,
            &[("Authorization", format!("Bearer {}", "0".repeat(64)))],
            "",
        );
        assert_eq!(wrong.status, 401, "{method} {path}");
        for param in ["token", "access_token"] {
            let query = server.raw(&method, &format!("{path}?{param}={token}"), &[], "");
            assert_eq!(query.status, 401, "{method} {path}?{param}=");
        }
    }
    assert!(!server.log().contains(&token), "the token is never logged");
}

#[test]
fn a_foreign_host_or_origin_is_refused_even_with_the_token() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    let auth = ("Authorization", format!("Bearer {}", server.token()));
    let rebound = server.raw(
        "GET",
        "/api/profiles",
        &[
            auth.clone(),
            ("Host", format!("evil.example:{}", server.port)),
        ],
        "",
    );
    assert_eq!(rebound.status, 403, "{rebound:?}");
    assert_eq!(rebound.json()["error"]["code"], "forbidden_host");
    let local = server.raw(
        "GET",
        "/api/profiles",
        &[auth, ("Host", format!("localhost:{}", server.port))],
        "",
    );
    assert_eq!(local.status, 200, "{local:?}");

    // A WebSocket upgrade from a foreign page: refused by Origin, the token notwithstanding.
    let upgrade = |origin: String| {
        server.raw(
            "GET",
            "/api/profiles",
            &[
                ("Upgrade", "websocket".into()),
                ("Connection", "Upgrade".into()),
                ("Sec-WebSocket-Version", "13".into()),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==".into()),
                (
                    "Sec-WebSocket-Protocol",
                    format!("ringlet, bearer.{}", server.token()),
                ),
                ("Origin", origin),
            ],
            "",
        )
    };
    let foreign = upgrade("http://evil.example".into());
    assert_eq!(foreign.status, 403, "{foreign:?}");
    assert_eq!(foreign.json()["error"]["code"], "forbidden_origin");
    assert!(!foreign.head.to_ascii_lowercase().contains("access-control"));
    let own = upgrade(format!("http://{}", server.host()));
    assert_eq!(own.status, 200, "{own:?}");
}

#[test]
fn after_rotate_token_the_old_token_is_refused_at_once() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    let old = server.token();
    let with = |token: &str| {
        server
            .raw(
                "GET",
                "/api/profiles",
                &[("Authorization", format!("Bearer {token}"))],
                "",
            )
            .status
    };
    assert_eq!(with(&old), 200);
    let out = sb.run(["daemon", "rotate-token"]).ok();
    assert!(!out.stdout.contains(&old));
    let new = server.token();
    assert_ne!(old, new);
    assert!(!out.stdout.contains(&new), "the new token is not printed");
    assert_eq!(with(&old), 401);
    assert_eq!(with(&new), 200);
}

#[test]
fn plain_http_beyond_loopback_is_refused_without_tls() {
    let sb = Sandbox::new();
    let run = sb.run(["serve", "--listen", "0.0.0.0:0"]);
    run.fails_with("without TLS");
}

#[test]
fn tls_with_a_certificate_made_here() {
    let sb = Sandbox::new();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
    let cert_file = sb.root().join("cert.pem");
    let key_file = sb.root().join("key.pem");
    std::fs::write(&cert_file, cert.cert.pem()).expect("cert");
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).expect("key");
    let server = Server::start(
        &sb,
        &[
            "--tls-cert",
            cert_file.to_str().expect("utf-8"),
            "--tls-key",
            key_file.to_str().expect("utf-8"),
        ],
    );
    let root = ureq::tls::Certificate::from_der(cert.cert.der()).to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![root])))
                .build(),
        )
        .build()
        .into();
    let url = format!("https://localhost:{}/api/profiles", server.port);
    let mut ok = agent
        .get(&url)
        .header("Authorization", format!("Bearer {}", server.token()))
        .call()
        .expect("https request");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.body_mut().read_to_string().expect("body"), "[]");
    let refused = agent.get(&url).call().expect("https request");
    assert_eq!(refused.status().as_u16(), 401);
    // Plain HTTP to the TLS port gets no answer.
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let _ = stream.write_all(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("\"ok\""));
}

#[test]
fn a_profile_created_over_http_runs_from_the_cli_and_the_run_and_the_canary_stay_where_they_belong()
{
    let sb = Sandbox::new();
    let agent_dir = fake_agent_bin().parent().expect("bin dir");
    let server = Server::start(&sb, &["--allow-path", agent_dir.to_str().expect("utf-8")]);
    let events = Events::open(&server);
    let mut answers = String::new();

    let created = server.call(
        "POST",
        "/api/profiles",
        Some(json!({
            "agent": "claude", "alias": "web", "provider": "anthropic",
            "model": "claude-test-1", "key": CANARY,
            "binary": fake_agent_bin(),
        })),
    );
    assert_eq!(created.status, 201, "{created:?}");
    answers += &created.body;
    events.wait_for("\"alias\":\"web\"", Duration::from_secs(5));
    let set = server.call(
        "PUT",
        "/api/keys/openai/spare",
        Some(json!({"key": CANARY})),
    );
    assert_eq!(set.status, 204, "{set:?}");

    // The CLI, another process, runs it: the fake agent gets the key; the events show the run.
    let record = sb.root().join("record.json");
    let mut cmd = sb.command(["profiles", "run", "web", "--", "-p", "hi"]);
    cmd.env("FAKE_AGENT_RECORD", &record);
    let out = cmd.output().expect("ringlet runs");
    assert!(out.status.success(), "{out:?}");
    let recorded = std::fs::read_to_string(&record).expect("the fake agent ran");
    assert!(recorded.contains(CANARY), "the agent got its key");
    let took = events.wait_for("event: run-ended", Duration::from_secs(5));
    assert!(took < Duration::from_millis(1500), "{took:?}");
    let text = events.text();
    assert!(text.contains("event: run-started"), "{text}");
    assert!(text.contains("\"alias\":\"web\""), "{text}");

    // A CLI create shows up too.
    sb.run([
        "profiles",
        "create",
        "codex",
        "cli-made",
        "--provider",
        "ollama",
    ])
    .ok();
    let took = events.wait_for("\"alias\":\"cli-made\"", Duration::from_secs(5));
    assert!(took < Duration::from_secs(1), "{took:?}");

    for (method, path) in [
        ("GET", "/api/profiles"),
        ("GET", "/api/profiles/web"),
        ("GET", "/api/profiles/web/plan"),
        ("GET", "/api/keys"),
        ("GET", "/api/usage"),
        ("GET", "/api/usage/events"),
        ("GET", "/api/usage/events?format=csv"),
        ("GET", "/api/stats"),
        ("GET", "/api/hooks"),
        ("GET", "/api/export"),
    ] {
        let a = server.call(method, path, None);
        assert_eq!(a.status, 200, "{method} {path}: {a:?}");
        answers += &a.body;
    }
    // The exported setup imports back unchanged; a document that is not one is a 400.
    let doc: Value = serde_json::from_str(&server.call("GET", "/api/export", None).body)
        .expect("the export is JSON");
    let back = server.call(
        "POST",
        "/api/import",
        Some(json!({"document": doc, "dry_run": true})),
    );
    assert_eq!(back.status, 200, "{back:?}");
    let report = back.json();
    let items = report["items"].as_array().expect("items");
    assert!(
        !items.is_empty() && items.iter().all(|i| i["outcome"] == "unchanged"),
        "{report}"
    );
    let junk = server.call("POST", "/api/import", Some(json!({"document": {"a": 1}})));
    assert_eq!(junk.status, 400, "{junk:?}");
    assert!(junk.body.contains("not a ringlet setup"), "{junk:?}");
    // Reports are in the zone the caller names (and say which); an unknown one is a 400 naming it.
    let zoned = server.call("GET", "/api/usage?group=day&timezone=Asia/Kolkata", None);
    assert_eq!(zoned.status, 200, "{zoned:?}");
    assert!(
        zoned.body.contains("\"timezone\":\"Asia/Kolkata\""),
        "{zoned:?}"
    );
    let unknown = server.call("GET", "/api/usage?timezone=Mars/Olympus_Mons", None);
    assert_eq!(unknown.status, 400, "{unknown:?}");
    assert!(
        unknown
            .body
            .contains("unknown time zone 'Mars/Olympus_Mons'"),
        "{unknown:?}"
    );
    // Errors about the key do not quote it either.
    let dup = server.call(
        "PUT",
        "/api/keys/openai/spare",
        Some(json!({"key": CANARY})),
    );
    assert_eq!(dup.status, 409);
    answers += &dup.body;
    let typo = server.call(
        "PUT",
        "/api/keys/openai/spare",
        Some(json!({"key": 5, "kee": CANARY})),
    );
    assert_eq!(typo.status, 400);
    answers += &typo.body;

    assert!(
        answers.contains("\"web\""),
        "the answers were read: {answers}"
    );
    assert!(
        !answers.contains(CANARY),
        "a response holds the key: {answers}"
    );
    assert!(!events.text().contains(CANARY), "an event holds the key");
    assert!(!server.log().contains(CANARY), "the log holds the key");
    assert!(
        !server.log().contains(&server.token()),
        "the log holds the token"
    );
}

#[test]
fn an_unreadable_profile_is_left_out_of_the_listing_and_the_log_says_why() {
    let sb = Sandbox::new();
    sb.run([
        "profiles",
        "create",
        "codex",
        "good",
        "--provider",
        "ollama",
    ])
    .ok();
    sb.run(["profiles", "create", "codex", "bad", "--provider", "ollama"])
        .ok();
    std::fs::write(sb.profile_dir("bad").join("profile.toml"), "agent = 3 4\n").expect("corrupt");
    let server = Server::start(&sb, &[]);
    let listed = server.call("GET", "/api/profiles", None);
    assert_eq!(listed.status, 200, "{listed:?}");
    let aliases: Vec<_> = listed
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["alias"].clone())
        .collect();
    assert_eq!(aliases, [json!("good")]);
    // The server's stderr is read by a thread of this test: the line may arrive a moment after
    // the response.
    let seen = |log: &str| {
        log.contains("warning: profile 'bad' skipped") && log.contains("profile_unreadable")
    };
    let until = Instant::now() + Duration::from_secs(10);
    while !seen(&server.log()) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = server.log();
    assert!(seen(&log), "{log}");
}

#[test]
fn sessions_one_session_and_billing_blocks_over_http_match_the_cli() {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", "sk-test-sessions-http");
    sb.run([
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
    ])
    .ok();
    // Two responses of one session, now-ish (an active block), in a project.
    let now = chrono::Utc::now() - chrono::Duration::minutes(2);
    let log: String = ["m1", "m2"]
        .iter()
        .map(|id| {
            serde_json::json!({"type": "assistant", "sessionId": "sess-http", "cwd": "/src/app",
                "timestamp": now.to_rfc3339(), "message": {"id": id,
                "model": "claude-sonnet-4-5-20250929", "usage": {"input_tokens": 10,
                "output_tokens": 5}}})
            .to_string()
                + "\n"
        })
        .collect();
    let path = sb.root().join("history.jsonl");
    std::fs::write(&path, log).expect("log");
    sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--from",
        path.to_str().expect("utf-8"),
    ])
    .ok();
    let server = Server::start(&sb, &[]);
    let get = |path: &str| {
        let a = server.call("GET", path, None);
        assert_eq!(a.status, 200, "{path}: {a:?}");
        a.json()
    };
    let sessions = get("/api/usage/sessions?timezone=UTC&order=desc&last=5");
    let cli = sb
        .run([
            "usage",
            "--by-session",
            "--json",
            "-z",
            "UTC",
            "--order",
            "desc",
            "--last",
            "5",
        ])
        .ok()
        .json();
    assert_eq!(sessions, cli);
    assert_eq!(sessions["sessions"][0]["session_id"], "sess-http");
    assert_eq!(
        sessions["sessions"][0]["projects"],
        serde_json::json!(["/src/app"])
    );
    assert_eq!(sessions["order"], "desc");
    let in_project = get("/api/usage/sessions?project=/src/app");
    assert_eq!(in_project["sessions"].as_array().map(Vec::len), Some(1));
    let elsewhere = get("/api/usage/sessions?project=/src/apple");
    assert_eq!(elsewhere["sessions"].as_array().map(Vec::len), Some(0));

    // One session by a prefix of its id, with its responses.
    let one = get("/api/usage/sessions/sess-h?timezone=UTC");
    assert_eq!(one["session"]["session_id"], "sess-http");
    assert_eq!(one["events"].as_array().map(Vec::len), Some(2));
    let missing = server.call("GET", "/api/usage/sessions/nope", None);
    assert_eq!(missing.status, 400, "{missing:?}");
    assert!(missing.body.contains("no session 'nope'"), "{missing:?}");

    // Billing blocks: the active one, measured against a limit.
    let blocks = get("/api/usage/blocks?active=true&token_limit=1000&timezone=UTC");
    assert_eq!(blocks["token_limit"], 1000);
    let list = blocks["blocks"].as_array().expect("blocks");
    assert_eq!(list.len(), 1, "{blocks}");
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[0]["events"], 2);
    assert!(
        list[0]["projection"]["cost_per_hour_usd"].is_number(),
        "{blocks}"
    );
    let bad = server.call("GET", "/api/usage/blocks?token_limit=lots", None);
    assert_eq!(bad.status, 400, "{bad:?}");
    assert!(bad.body.contains("token_limit 'lots'"), "{bad:?}");
}

#[test]
fn doctor_and_the_registry_status_are_served() {
    let sb = Sandbox::new();
    let server = Server::start(&sb, &[]);
    let report = server.call("GET", "/api/doctor", None).json();
    let checks = report["checks"].as_array().expect("checks");
    let server_check = checks
        .iter()
        .find(|c| c["name"] == "server")
        .expect("server check");
    // The server made its token file, private.
    assert_eq!(server_check["status"], "ok", "{server_check}");
    assert!(
        server_check["detail"]
            .as_str()
            .expect("detail")
            .contains("is private (0600)"),
        "{server_check}"
    );
    assert!(report["healthy"].is_boolean(), "{report}");
    let registry = server.call("GET", "/api/registry", None).json();
    assert_eq!(registry["commit"], serde_json::Value::Null, "{registry}");
    assert_eq!(registry["channel"], "stable");
    assert!(!registry.to_string().contains(&server.token()));
}
