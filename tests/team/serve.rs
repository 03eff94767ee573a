//! The server's team routes: `/api/usage?team=true` (and later `/metrics`) over a real socket.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::pg::fresh_schema;
use crate::push::Machine;

/// A running `ringlet serve` of one machine, killed on drop.
pub struct Served {
    child: Child,
    pub port: u16,
    token: String,
}

impl Served {
    pub fn start(m: &Machine) -> Self {
        let mut child =
            m.sb.command(["serve", "--listen", "127.0.0.1:0"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("ringlet serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
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
            .recv_timeout(Duration::from_secs(20))
            .expect("the server starts");
        let port = line
            .split("127.0.0.1:")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        let token = std::fs::read_to_string(m.sb.ringlet_home().join("config/http_token"))
            .expect("token")
            .trim()
            .to_string();
        Self { child, port, token }
    }

    /// GET `path` with the token; the status and the body.
    pub fn get(&self, path: &str, with_token: bool) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut req = agent.get(format!("http://127.0.0.1:{}{path}", self.port));
        if with_token {
            req = req.header("Authorization", format!("Bearer {}", self.token));
        }
        let mut res = req.call().expect("request");
        let status = res.status().as_u16();
        (status, res.body_mut().read_to_string().expect("body"))
    }

    pub fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path, true);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("json")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_usage_api_reports_the_team_with_the_cli_json() {
    let schema = fresh_schema();
    let a = Machine::new(&schema, "hana");
    let b = Machine::new(&schema, "ivan");
    a.import(0..40);
    b.import(20..90);
    a.push(&[]);
    b.push(&[]);
    let server = Served::start(&a);
    for (query, cli) in [
        ("team=true", &["--team"][..]),
        ("team=true&group=user", &["--team", "--by-user"]),
        ("team=true&group=machine", &["--team", "--by-machine"]),
        ("team=true&group=day", &["--team", "--by-day"]),
        (
            "team=true&group=model&model=claude-opus-4-1",
            &["--team", "--by-model", "--model", "claude-opus-4-1"],
        ),
    ] {
        // Both in the machine's zone (neither passes one).
        let api = server.json(&format!("/api/usage?{query}"));
        let cli_json = a.usage(cli);
        assert_eq!(api["rows"], cli_json["rows"], "{query}");
        assert_eq!(api["total"], cli_json["total"], "{query}");
        assert_eq!(api["group"], cli_json["group"], "{query}");
    }
    let team = server.json("/api/usage?team=true");
    assert_eq!(team["total"]["events"], 110);
    let local = server.json("/api/usage");
    assert_eq!(local["total"]["events"], 40);
    // Like every route: no token, no report.
    assert_eq!(server.get("/api/usage?team=true", false).0, 401);
    // The team groupings need the team ledger.
    assert_eq!(server.get("/api/usage?group=user", true).0, 400);
}
