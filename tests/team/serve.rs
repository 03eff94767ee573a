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

/// The team totals the metrics must equal: (events, input, output, cost_nanos).
fn team_totals(m: &Machine) -> (u64, u64, u64, i64) {
    let t = &m.usage(&["--team"])["total"];
    (
        t["events"].as_u64().expect("events"),
        t["input"].as_u64().expect("input"),
        t["output"].as_u64().expect("output"),
        t["cost_nanos"].as_i64().expect("cost"),
    )
}

/// Two machines' usage and one run, pushed.
fn two_machines_pushed(schema: &str) -> (Machine, Machine) {
    let a = Machine::new(schema, "nia");
    let b = Machine::new(schema, "oto");
    a.import(0..50);
    b.import(25..100);
    let out =
        a.sb.run(["profiles", "run", "work", "--", "--claude-log", "2"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    a.push(&[]);
    b.push(&[]);
    (a, b)
}

#[test]
fn metrics_parse_as_prometheus_text_and_equal_the_team_ledger() {
    let schema = fresh_schema();
    let (a, _b) = two_machines_pushed(&schema);
    let (events, input, output, cost_nanos) = team_totals(&a);
    assert_eq!(events, 50 + 75 + 2);
    let server = Served::start(&a);
    assert_eq!(
        server.get("/metrics", false).0,
        401,
        "the token is required"
    );
    let (status, body) = server.get("/metrics", true);
    assert_eq!(status, 200, "{body}");
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text format");
    let sum = |name: &str, kind: Option<&str>| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && kind.is_none_or(|k| s.labels.get("kind") == Some(k)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => panic!("{name}: not a plain value"),
            })
            .sum()
    };
    assert_eq!(sum("ringlet_events_total", None), events as f64);
    assert_eq!(sum("ringlet_tokens_total", Some("input")), input as f64);
    assert_eq!(sum("ringlet_tokens_total", Some("output")), output as f64);
    assert_eq!(
        (sum("ringlet_cost_usd_total", None) * 1e9).round() as i64,
        cost_nanos
    );
    assert_eq!(sum("ringlet_runs_total", None), 1.0);
    assert_eq!(sum("ringlet_active_sessions", None), 0.0);
    assert!(
        scrape.docs.contains_key("ringlet_tokens_total"),
        "{:?}",
        scrape.docs
    );
    // Bounded labels: never a session id.
    for s in &scrape.samples {
        for name in s.labels.keys() {
            assert!(
                ["profile", "agent", "provider", "model", "kind"].contains(&name.as_str()),
                "label {name} on {}",
                s.metric
            );
        }
    }
}

/// A one-request-at-a-time OTLP/HTTP receiver: each POSTed body goes to the channel.
fn otlp_receiver() -> (u16, std::sync::mpsc::Receiver<(String, Value)>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if tx.send((request_line.trim().to_string(), json)).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

#[test]
fn the_otlp_export_reaches_a_collector_with_the_ledger_values() {
    let schema = fresh_schema();
    let (a, _b) = two_machines_pushed(&schema);
    let (events, input, _output, cost_nanos) = team_totals(&a);
    let (port, rx) = otlp_receiver();
    let config = a.sb.ringlet_home().join("config/config.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!(
        "\n[telemetry]\notlp-endpoint = \"http://127.0.0.1:{port}\"\notlp-interval-seconds = 1\n"
    ));
    std::fs::write(&config, text).expect("config");
    let _server = Served::start(&a);
    let (request, body) = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("an OTLP export arrives");
    assert_eq!(request, "POST /v1/metrics HTTP/1.1");
    let rm = &body["resourceMetrics"][0];
    let attrs = rm["resource"]["attributes"].to_string();
    assert!(
        attrs.contains("service.name") && attrs.contains("team"),
        "{attrs}"
    );
    let metrics = rm["scopeMetrics"][0]["metrics"]
        .as_array()
        .expect("metrics");
    let points = |name: &str| -> Vec<Value> {
        let m = metrics
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {body}"));
        let data = if m["sum"].is_object() {
            &m["sum"]
        } else {
            &m["gauge"]
        };
        data["dataPoints"].as_array().expect("points").clone()
    };
    let ints = |name: &str, kind: Option<&str>| -> u64 {
        points(name)
            .iter()
            .filter(|p| {
                kind.is_none_or(|k| {
                    p["attributes"]
                        .as_array()
                        .expect("attrs")
                        .iter()
                        .any(|a| a["key"] == "kind" && a["value"]["stringValue"] == k)
                })
            })
            .map(|p| {
                p["asInt"]
                    .as_str()
                    .expect("asInt")
                    .parse::<u64>()
                    .expect("int")
            })
            .sum()
    };
    assert_eq!(ints("ringlet.events", None), events);
    assert_eq!(ints("ringlet.tokens", Some("input")), input);
    assert_eq!(ints("ringlet.runs", None), 1);
    let cost: f64 = points("ringlet.cost")
        .iter()
        .map(|p| p["asDouble"].as_f64().expect("double"))
        .sum();
    assert_eq!((cost * 1e9).round() as i64, cost_nanos);
    // And again a second later: the exporter keeps going.
    assert!(rx.recv_timeout(Duration::from_secs(30)).is_ok());
}
