//! Remote terminal sessions from the CLI, in a real pseudo-terminal (tmux) against a real
//! `ringlet serve`: `remotes add`, `profiles run --remote` (output, typing, resize, detach with
//! Ctrl-]), `remotes sessions`, `remotes attach` (the scrollback replayed) and the remote
//! agent's exit code as ringlet's; and the real Claude Code in a remote session against the
//! fake API.
//!
//! The server and the client share one installation (the client's remote points at the
//! server's own token); sessions are sandboxed by default, so it lives outside `/tmp`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ringlet_tests::harness::{Sandbox, fake_agent_bin, outside_tmp, ringlet_bin};

use crate::terminal::{Terminal, tmux};

/// A running `ringlet serve` on a free port, killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts the server in `cwd` (the sessions' working directory: not HOME, which the
    /// sandbox refuses to give an agent whole).
    fn start(sb: &Sandbox, cwd: &std::path::Path) -> Self {
        let mut child = sb
            .command(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(cwd)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ringlet serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("serving the API on")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(line);
                }
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server says where it listens");
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An installation outside /tmp with a project directory, the user's HOME, a running server
/// and the remote `box` pointing at it.
fn setup() -> (Sandbox, Server) {
    let mut sb = Sandbox::new_in(&outside_tmp());
    std::fs::create_dir_all(sb.root().join("user-home")).expect("user home");
    let project = sb.root().join("project");
    std::fs::create_dir_all(&project).expect("project");
    let server = Server::start(&sb, &project);
    let token = std::fs::read_to_string(sb.ringlet_home().join("config/http_token"))
        .expect("token file")
        .trim()
        .to_string();
    sb.env("BOX_TOKEN", token.clone());
    sb.run([
        "remotes",
        "add",
        "box",
        "--url",
        &server.url,
        "--token-from-env",
        "BOX_TOKEN",
    ])
    .ok();
    let config =
        std::fs::read_to_string(sb.ringlet_home().join("config/config.toml")).expect("config.toml");
    assert!(config.contains("[remotes.box]"), "{config}");
    assert!(!config.contains(&token), "the token is not in config.toml");
    (sb, server)
}

/// `ringlet ARGS` in a pane, then its exit status on the screen, then the pane stays.
fn in_pane(tmux: std::path::PathBuf, sb: &Sandbox, args: &[&str]) -> Terminal {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let script = format!(
        "'{}' {}; echo RINGLET-EXIT=$?; exec sleep 600",
        ringlet_bin().display(),
        quoted.join(" ")
    );
    Terminal::start_program(tmux, sb, &["sh".into(), "-c".into(), script.into()], &[])
}

#[test]
fn profiles_run_remote_types_resizes_detaches_reattaches_and_exits_with_the_agents_code() {
    let Some(tmux) = tmux() else {
        return;
    };
    let (sb, _server) = setup();
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

    // The pane is 160 × 50: the remote terminal starts at that size.
    let term = in_pane(
        tmux.clone(),
        &sb,
        &[
            "profiles",
            "run",
            "tty",
            "--remote",
            "box",
            "--",
            "--exit",
            "5",
            "--interactive",
        ],
    );
    term.wait_for(&["size 50 160"]);
    term.send(&["-l", "hello"]);
    term.send(&["Enter"]);
    term.wait_for(&["got hello"]);
    term.resize(120, 40);
    term.wait_for(&["winch 40 120"]);
    // Ctrl-] detaches: ringlet exits 0, the session goes on.
    term.send(&["C-]"]);
    let (_, screen) = term.wait_for(&["RINGLET-EXIT="]);
    assert!(screen.contains("RINGLET-EXIT=0"), "{screen}");
    assert!(screen.contains("detached from session"), "{screen}");

    let listed = sb.run(["remotes", "sessions", "box", "--json"]).ok().json();
    let sessions = listed.as_array().expect("list");
    assert_eq!(sessions.len(), 1, "{listed}");
    let id = sessions[0]["id"].as_str().expect("id").to_string();
    assert_eq!(sessions[0]["state"], "running", "{listed}");
    assert_eq!(sessions[0]["clients"], 0, "{listed}");
    let table = sb.run(["remotes", "sessions", "box"]).ok().stdout;
    assert!(
        table.contains(&id) && table.contains("tty") && table.contains("codex"),
        "{table}"
    );
    assert!(table.contains("0 (detached)"), "{table}");

    // Attach again: the scrollback is replayed; `quit` ends the agent with its code, 5.
    let again = in_pane(tmux, &sb, &["remotes", "attach", "box", &id]);
    again.wait_for(&["got hello"]);
    again.send(&["-l", "quit"]);
    again.send(&["Enter"]);
    let (_, screen) = again.wait_for(&["RINGLET-EXIT="]);
    assert!(screen.contains("RINGLET-EXIT=5"), "{screen}");

    let ended = sb.run(["remotes", "sessions", "box", "--json"]).ok().json();
    assert_eq!(ended[0]["state"], "exited", "{ended}");
    assert_eq!(ended[0]["exit_code"], 5, "{ended}");
    let missing = sb.run(["remotes", "attach", "box", "nope"]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no terminal session"),
        "{}",
        missing.stderr
    );
    // The remote's profile counted the run.
    let profile = sb.run(["profiles", "inspect", "tty", "--json"]).ok().json();
    assert_eq!(profile["metadata"]["total_runs"], 1, "{profile}");
}

/// The fake model's answer; the prompt typed does not contain it.
const PONG: &str = "pong-4417";
/// An Anthropic-looking key for the remote profile.
const KEY: &str = "sk-ant-api03-e2e-remote-Wq8Zr3Tn6Lp1Ks5Dx9Mv2";

/// A WebSocket client of a session's terminal (what a browser's xterm.js is).
struct Ws {
    ws: tungstenite::WebSocket<std::net::TcpStream>,
    bytes: Vec<u8>,
}

impl Ws {
    fn attach(url: &str, token: &str, id: &str) -> Self {
        use tungstenite::client::IntoClientRequest;
        let addr = url.trim_start_matches("http://");
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut req = format!("ws://{addr}/ws/terminal/{id}")
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            format!("ringlet, bearer.{token}").parse().expect("header"),
        );
        let (ws, _) = tungstenite::client::client(req, stream).expect("upgrade");
        Self {
            ws,
            bytes: Vec::new(),
        }
    }

    /// The output so far with the terminal's escape sequences taken out.
    fn screen_text(&self) -> String {
        strip_escapes(&String::from_utf8_lossy(&self.bytes))
    }

    fn wait_for(&mut self, needle: &str) {
        let deadline = std::time::Instant::now() + crate::terminal::SCREEN_TIMEOUT;
        while !self.screen_text().contains(needle) {
            assert!(
                std::time::Instant::now() < deadline,
                "no {needle:?} within {:?}; the output:\n{}",
                crate::terminal::SCREEN_TIMEOUT,
                self.screen_text()
            );
            match self.ws.read() {
                Ok(tungstenite::Message::Binary(b)) => self.bytes.extend_from_slice(&b),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => panic!("reading the terminal: {e}; output:\n{}", self.screen_text()),
            }
        }
    }

    fn type_keys(&mut self, keys: &str) {
        self.ws
            .send(tungstenite::Message::Binary(
                keys.as_bytes().to_vec().into(),
            ))
            .expect("send keys");
    }
}

/// `text` without CSI (`ESC [ … final`), OSC (`ESC ] … BEL/ST`) and two-byte escapes.
fn strip_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[test]
fn claude_code_in_a_remote_session_draws_answers_and_is_in_the_ledger() {
    let Some(bin_dir) = crate::agent_bin_dir("claude") else {
        return;
    };
    let api = ringlet_tests::FakeApi::start_with(ringlet_tests::FakeApiConfig {
        default_text: PONG.into(),
        ..ringlet_tests::FakeApiConfig::default()
    })
    .expect("fake API starts");
    let mut sb = crate::agent_sandbox_from(Sandbox::new_in(&outside_tmp()), &bin_dir);
    crate::create_profile(
        &mut sb,
        &crate::ProfileSpec {
            agent: "claude",
            alias: "work",
            provider: "anthropic",
            base_url: api.base_url(),
            model: "claude-test-1",
            key: KEY,
        },
    );
    let project = sb.root().join("project");
    std::fs::create_dir_all(&project).expect("project");
    let server = Server::start(&sb, &project);
    let token = std::fs::read_to_string(sb.ringlet_home().join("config/http_token"))
        .expect("token file")
        .trim()
        .to_string();

    // Created over REST, as a browser's dashboard does: sandboxed (the profile's default).
    let created = ureq_post(
        &format!("{}/api/sessions", server.url),
        &token,
        &serde_json::json!({"profile": "work", "rows": 40, "cols": 120}),
    );
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["agent"], "claude", "{created}");
    let mut term = Ws::attach(&server.url, &token, &id);
    // The banner (spaces are cursor moves, gone with the escapes).
    term.wait_for("Claude Code");
    term.wait_for("❯");
    // Let the input box settle before typing: keys sent during start-up can be lost.
    std::thread::sleep(Duration::from_secs(2));
    term.type_keys("Say the magic word.");
    std::thread::sleep(Duration::from_millis(500));
    term.type_keys("\r");
    term.wait_for(PONG);
    let keys: Vec<Option<String>> = api
        .generation_requests()
        .into_iter()
        .map(|r| r.api_key)
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.as_deref() == Some(KEY)),
        "requests carried {keys:?}"
    );

    // Ended the user's way (`/exit`: Claude Code writes its transcript out; a SIGHUP from
    // DELETE may cut the last lines), the run is in the ledger with its usage.
    term.type_keys("/exit");
    std::thread::sleep(Duration::from_millis(500));
    term.type_keys("\r");
    let deadline = std::time::Instant::now() + crate::terminal::SCREEN_TIMEOUT;
    let ended = loop {
        let now = ureq_get(&format!("{}/api/sessions/{id}", server.url), &token);
        if now["ended_at"].is_string() {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "never ended: {now}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(ended["state"], "exited", "{ended}");
    assert_eq!(ended["exit_code"], 0, "{ended}");
    let run_id = ended["run_id"].as_i64().expect("a run id");
    let stats = sb.run(["stats", "--json"]).ok().json();
    let text = stats.to_string();
    assert!(
        text.contains("\"work\""),
        "the run is in the ledger: {text}"
    );
    let usage = sb.run(["usage", "--json", "--profile", "work"]).ok().json();
    let requests = api.generation_requests().len() as u64;
    let per_request = ringlet_tests::Usage::default();
    assert_eq!(usage["total"]["events"], requests, "run {run_id}: {usage}");
    assert_eq!(
        usage["total"]["input"],
        requests * per_request.input_tokens,
        "run {run_id}: {usage}"
    );
}

fn ureq_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn answer(mut resp: ureq::http::Response<ureq::Body>, what: &str) -> serde_json::Value {
    let status = resp.status();
    let text = resp.body_mut().read_to_string().expect("body");
    assert!(status.is_success(), "{what}: {status} {text}");
    serde_json::from_str(&text).expect("JSON")
}

fn ureq_post(url: &str, token: &str, body: &serde_json::Value) -> serde_json::Value {
    let resp = ureq_agent()
        .post(url)
        .header("authorization", &format!("Bearer {token}"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .expect("POST");
    answer(resp, url)
}

fn ureq_get(url: &str, token: &str) -> serde_json::Value {
    let resp = ureq_agent()
        .get(url)
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .expect("GET");
    answer(resp, url)
}
