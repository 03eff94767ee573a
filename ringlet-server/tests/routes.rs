//! Every route in-process: the router driven by `tower::ServiceExt::oneshot`, a facade on a
//! temporary home with an in-memory credential store.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use ringlet::{MemoryCredentialStore, Ringlet};
use ringlet_server::{AppState, ServerConfig, app};
use serde_json::{Value, json};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8765";
const CANARY: &str = "sk-canary-routes-7f3e1d";

struct Api {
    router: axum::Router,
    token: String,
    dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Api {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = Ringlet::builder()
            .home(dir.path().join("home"))
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build");
        let allowed = dir.path().join("allowed");
        std::fs::create_dir_all(&allowed).expect("allowed dir");
        let config = ServerConfig {
            allowed_paths: vec![allowed],
            log_requests: false,
            ..ServerConfig::default()
        };
        let state = AppState::new(ringlet, &config, HOST.parse().expect("addr")).expect("state");
        let token = std::fs::read_to_string(state.token_path())
            .expect("token file")
            .trim()
            .to_string();
        Self {
            router: app(state),
            token,
            dir,
        }
    }

    fn allowed(&self) -> std::path::PathBuf {
        self.dir.path().join("allowed")
    }

    async fn raw(&self, req: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(req).await.expect("answer");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Answer {
            status,
            content_type,
            text: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Request<Body> {
        let builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token));
        match body {
            Some(b) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => builder.body(Body::empty()),
        }
        .expect("request")
    }

    async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.raw(self.request(method, path, body)).await
    }
}

/// Every (method, path) the document lists.
async fn documented(api: &Api) -> BTreeSet<(String, String)> {
    let doc = api.send("GET", "/api/openapi.json", None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("item").keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_documented_route_needs_the_token_except_health() {
    let api = Api::new();
    for (method, path) in documented(&api).await {
        let uri = concrete(&path);
        let bare = Request::builder()
            .method(method.as_str())
            .uri(&uri)
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request");
        let answer = api.raw(bare).await;
        if path == "/api/health" {
            assert_eq!(answer.status, StatusCode::OK, "{method} {path}");
            continue;
        }
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(answer.json()["error"]["code"], "unauthorized");
        let wrong = Request::builder()
            .method(method.as_str())
            .uri(&uri)
            .header(header::HOST, HOST)
            .header(header::AUTHORIZATION, format!("Bearer {}x", api.token))
            .body(Body::empty())
            .expect("request");
        assert_eq!(
            api.raw(wrong).await.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        let in_query = Request::builder()
            .method(method.as_str())
            .uri(format!("{uri}?token={}", api.token))
            .header(header::HOST, HOST)
            .body(Body::empty())
            .expect("request");
        let answer = api.raw(in_query).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{method} {path}");
        assert!(
            !answer.text.contains(&api.token),
            "the token is never echoed"
        );
    }
}

#[tokio::test]
async fn foreign_hosts_and_origins_are_refused_before_the_token_counts() {
    let api = Api::new();
    let mut req = api.request("GET", "/api/profiles", None);
    req.headers_mut()
        .insert(header::HOST, "evil.example:8765".parse().expect("host"));
    let answer = api.raw(req).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error"]["code"], "forbidden_host");

    let mut req = api.request("GET", "/api/profiles", None);
    req.headers_mut().insert(
        header::ORIGIN,
        "http://evil.example".parse().expect("origin"),
    );
    let answer = api.raw(req).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.json()["error"]["code"], "forbidden_origin");
    assert!(
        !answer.text.contains("access-control"),
        "no CORS header is ever sent"
    );

    let mut req = api.request("GET", "/api/profiles", None);
    req.headers_mut().insert(
        header::ORIGIN,
        "http://127.0.0.1:8765".parse().expect("origin"),
    );
    let response = api.router.clone().oneshot(req).await.expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .keys()
            .all(|k| !k.as_str().starts_with("access-control")),
        "{:?}",
        response.headers()
    );
}

#[tokio::test]
async fn a_websocket_upgrade_carries_the_token_in_its_subprotocol_only() {
    let api = Api::new();
    let upgrade = |protocols: &str| {
        Request::builder()
            .uri("/api/profiles")
            .header(header::HOST, HOST)
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "Upgrade")
            .header(header::SEC_WEBSOCKET_PROTOCOL, protocols)
            .body(Body::empty())
            .expect("request")
    };
    let ok = api
        .raw(upgrade(&format!("ringlet, bearer.{}", api.token)))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let wrong = api.raw(upgrade("ringlet, bearer.nope")).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    // Outside an upgrade the subprotocol header is no credential.
    let plain = Request::builder()
        .uri("/api/profiles")
        .header(header::HOST, HOST)
        .header(
            header::SEC_WEBSOCKET_PROTOCOL,
            format!("ringlet, bearer.{}", api.token),
        )
        .body(Body::empty())
        .expect("request");
    assert_eq!(api.raw(plain).await.status, StatusCode::UNAUTHORIZED);
}

/// Every route with a request that succeeds (and the errors that matter), and a check that
/// this test covers every route of the document.
#[tokio::test]
async fn every_route_answers() {
    let api = Api::new();
    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cover = |m: &str, p: &str| {
        covered.insert((m.to_string(), p.to_string()));
    };
    let mut all_text = String::new();

    cover("GET", "/api/health");
    let a = api.send("GET", "/api/health", None).await;
    assert_eq!(a.json(), json!({"status": "ok"}));

    cover("GET", "/api/openapi.json");

    // The local ledger's metrics (no team ledger here); tests/team checks them against
    // Postgres with a Prometheus parser.
    cover("GET", "/metrics");
    let a = api.send("GET", "/metrics", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(
        a.content_type.starts_with("text/plain; version=0.0.4"),
        "{}",
        a.content_type
    );
    assert!(
        a.text.contains("# TYPE ringlet_events_total counter"),
        "{}",
        a.text
    );

    cover("GET", "/api/agents");
    let a = api.send("GET", "/api/agents", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(
        a.json()
            .as_array()
            .expect("list")
            .iter()
            .any(|x| x["id"] == "claude")
    );
    cover("GET", "/api/agents/{id}");
    assert_eq!(
        api.send("GET", "/api/agents/codex", None).await.json()["id"],
        "codex"
    );
    let a = api.send("GET", "/api/agents/nope", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);

    cover("GET", "/api/providers");
    let a = api.send("GET", "/api/providers", None).await;
    assert!(
        a.json()
            .as_array()
            .expect("list")
            .iter()
            .any(|x| x["id"] == "anthropic")
    );
    cover("GET", "/api/providers/{id}");
    assert_eq!(
        api.send("GET", "/api/providers/ollama", None).await.json()["id"],
        "ollama"
    );

    // Profiles.
    cover("POST", "/api/profiles");
    let a = api
        .send(
            "POST",
            "/api/profiles",
            Some(
                json!({"agent": "claude", "alias": "work", "provider": "anthropic", "key": CANARY}),
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.json()["alias"], "work");
    all_text += &a.text;
    let a = api
        .send(
            "POST",
            "/api/profiles",
            Some(json!({"agent": "claude", "alias": "work", "provider": "anthropic"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    let body = a.json();
    assert_eq!(body["error"]["code"], "profile_exists");
    assert_eq!(
        body["error"]["hint"],
        "pick another alias or delete it first with DELETE /api/profiles/work"
    );
    let a = api
        .send(
            "POST",
            "/api/profiles",
            Some(json!({"agent": "claude", "alias": "x", "provider": "anthropic", "binary": "/usr/bin/env"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert_eq!(a.json()["error"]["code"], "path_not_allowed");
    let a = api
        .send(
            "POST",
            "/api/profiles",
            Some(json!({"agent": 3, "key": CANARY})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    all_text += &a.text;

    cover("GET", "/api/profiles");
    let a = api.send("GET", "/api/profiles", None).await;
    assert_eq!(a.json().as_array().expect("list").len(), 1);
    all_text += &a.text;
    cover("GET", "/api/profiles/{alias}");
    let a = api.send("GET", "/api/profiles/work", None).await;
    assert_eq!(a.json()["provider"], "anthropic");
    cover("PATCH", "/api/profiles/{alias}");
    let a = api
        .send(
            "PATCH",
            "/api/profiles/work",
            Some(json!({"sandbox": "always", "set_env": {"NO_COLOR": "1"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["env"]["NO_COLOR"], "1", "{}", a.text);
    let a = api
        .send(
            "PATCH",
            "/api/profiles/work",
            Some(json!({"sandbox": "sometimes"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    let a = api
        .send(
            "PATCH",
            "/api/profiles/work",
            Some(json!({"working_dir": "/etc"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    let a = api
        .send("PATCH", "/api/profiles/nobody", Some(json!({"model": "m"})))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    cover("GET", "/api/profiles/{alias}/plan");
    let a = api.send("GET", "/api/profiles/work/plan", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["secret_env"]["alias"], "work");
    all_text += &a.text;

    // Keys.
    cover("GET", "/api/keys");
    let a = api.send("GET", "/api/keys", None).await;
    assert_eq!(
        a.json(),
        json!([{"provider": "anthropic", "alias": "work"}])
    );
    cover("PUT", "/api/keys/{provider}/{alias}");
    let a = api
        .send(
            "PUT",
            "/api/keys/openai/other",
            Some(json!({"key": CANARY})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    let a = api
        .send(
            "PUT",
            "/api/keys/openai/other",
            Some(json!({"key": CANARY})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(
        a.json()["error"]["hint"],
        "send \"replace\": true to overwrite it"
    );
    all_text += &a.text;
    let a = api
        .send(
            "PUT",
            "/api/keys/openai/other",
            Some(json!({"key": CANARY, "replace": true})),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    cover("DELETE", "/api/keys/{provider}/{alias}");
    assert_eq!(
        api.send("DELETE", "/api/keys/openai/other", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.send("DELETE", "/api/keys/openai/other", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Usage.
    cover("GET", "/api/usage");
    let a = api
        .send("GET", "/api/usage?group=day&since=30d", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["group"], "day");
    let a = api.send("GET", "/api/usage?group=fortnight", None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = api.send("GET", "/api/usage?profile=nobody", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    cover("GET", "/api/usage/events");
    let a = api.send("GET", "/api/usage/events?format=csv", None).await;
    assert!(a.content_type.starts_with("text/csv"), "{}", a.content_type);
    assert_eq!(a.text, format!("{}\n", ringlet::USAGE_CSV_HEADER));
    let a = api.send("GET", "/api/usage/events", None).await;
    assert_eq!(a.json(), json!([]));
    cover("POST", "/api/usage/sync");
    let a = api.send("POST", "/api/usage/sync", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    cover("POST", "/api/usage/import");
    let a = api
        .send(
            "POST",
            "/api/usage/import",
            Some(json!({"agent": "claude", "profile": "work", "from": "/etc"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    let a = api
        .send(
            "POST",
            "/api/usage/import",
            Some(json!({"agent": "claude", "profile": "work", "from": api.allowed()})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    cover("GET", "/api/stats");
    let a = api.send("GET", "/api/stats?group=agent", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);

    // Pricing.
    cover("GET", "/api/pricing");
    let a = api.send("GET", "/api/pricing", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    cover("POST", "/api/pricing/update");
    let a = api
        .send(
            "POST",
            "/api/pricing/update",
            Some(json!({"source": "http://169.254.169.254/latest/meta-data"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(a.json()["error"]["code"], "url_not_allowed");
    let a = api
        .send(
            "POST",
            "/api/pricing/update",
            Some(json!({"source": "/etc/passwd"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(!a.text.contains("root:"), "{}", a.text);
    let feed = api.allowed().join("prices.json");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/litellm_model_prices.json"),
        &feed,
    )
    .expect("feed");
    let a = api
        .send("POST", "/api/pricing/update", Some(json!({"source": feed})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.json()["models"].as_u64().expect("models") > 0);

    // Hooks.
    cover("POST", "/api/hooks");
    let a = api
        .send(
            "POST",
            "/api/hooks",
            Some(json!({"event": "stop", "shell": "true", "profile": "work"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let id = a.json()["rule"]["id"].as_str().expect("id").to_string();
    let a = api
        .send(
            "POST",
            "/api/hooks",
            Some(json!({"event": "pre-tool-use", "rhai_file": "/etc/passwd"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    cover("GET", "/api/hooks");
    let a = api.send("GET", "/api/hooks", None).await;
    assert_eq!(a.json().as_array().expect("list").len(), 1);
    // The setup: exported without the key, imported back as it is (a dry run changes
    // nothing; a real one finds everything unchanged); a conflict is a 400 naming it.
    cover("GET", "/api/export");
    let a = api.send("GET", "/api/export", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["format"], "ringlet-setup");
    assert_eq!(a.json()["keys"][0]["alias"], "work");
    all_text += &a.text;
    let doc = a.json();
    cover("POST", "/api/import");
    for dry_run in [true, false] {
        let a = api
            .send(
                "POST",
                "/api/import",
                Some(json!({"document": doc, "dry_run": dry_run})),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let report = a.json();
        let items = report["items"].as_array().expect("items");
        assert!(
            items.iter().all(|i| i["outcome"] == "unchanged"),
            "{report}"
        );
        assert!(report["keys_to_set"].as_array().expect("keys").is_empty());
    }
    let mut changed = doc.clone();
    changed["profiles"][0]["settings"]["model"] = json!("another-model");
    let a = api
        .send("POST", "/api/import", Some(json!({"document": changed})))
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert!(
        a.text.contains("profile 'work' exists with other settings"),
        "{}",
        a.text
    );
    let a = api
        .send(
            "POST",
            "/api/import",
            Some(json!({"document": {"format": "x"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    cover("POST", "/api/hooks/{id}/test");
    let a = api
        .send("POST", &format!("/api/hooks/{id}/test"), Some(json!({})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["applies"], true);
    all_text += &a.text;
    cover("DELETE", "/api/hooks/{id}");
    let a = api.send("DELETE", &format!("/api/hooks/{id}"), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        api.send("DELETE", &format!("/api/hooks/{id}"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Terminal sessions: an `sh` agent in the allowed directory (the workspace: sandboxed by
    // default, the agent sees it). The WebSocket itself needs a real connection to upgrade
    // (tests/server); in-process it answers 400 like any request that is no upgrade.
    let script = api.allowed().join("term.sh");
    std::fs::write(&script, "#!/bin/sh\necho session-up\nexec sleep 300\n").expect("script");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let a = api
        .send(
            "POST",
            "/api/profiles",
            Some(
                json!({"agent": "codex", "alias": "term", "provider": "ollama", "binary": script}),
            ),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    cover("POST", "/api/sessions");
    let a = api
        .send(
            "POST",
            "/api/sessions",
            Some(json!({"profile": "term", "working_dir": api.allowed(), "rows": 30, "cols": 90})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let session = a.json();
    assert_eq!(session["state"], "running", "{session}");
    assert_eq!(
        (session["rows"].clone(), session["cols"].clone()),
        (json!(30), json!(90))
    );
    let sid = session["id"].as_str().expect("id").to_string();
    let a = api
        .send(
            "POST",
            "/api/sessions",
            Some(json!({"profile": "term", "working_dir": "/etc"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    cover("GET", "/api/sessions");
    let a = api.send("GET", "/api/sessions", None).await;
    assert_eq!(a.json().as_array().expect("list").len(), 1, "{}", a.text);
    cover("GET", "/api/sessions/{id}");
    let a = api.send("GET", &format!("/api/sessions/{sid}"), None).await;
    assert_eq!(a.json()["id"], sid.as_str(), "{}", a.text);
    cover("GET", "/ws/terminal/{id}");
    let a = api.send("GET", &format!("/ws/terminal/{sid}"), None).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    cover("DELETE", "/api/sessions/{id}");
    let a = api
        .send("DELETE", &format!("/api/sessions/{sid}"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let a = api.send("GET", &format!("/api/sessions/{sid}"), None).await;
        if a.json()["state"] == "terminated" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never ended: {}",
            a.text
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let a = api.send("DELETE", "/api/sessions/nope", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    assert_eq!(a.json()["error"]["code"], "session_not_found");

    cover("GET", "/api/events");
    cover("DELETE", "/api/profiles/{alias}");
    let a = api
        .send("DELETE", "/api/profiles/work?key=maybe", None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    let a = api
        .send("DELETE", "/api/profiles/work?dry_run=true&key=keep", None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["dry_run"], true);
    assert_eq!(a.json()["key_outcome"], "kept", "{}", a.text);
    let a = api.send("DELETE", "/api/profiles/work", None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json()["alias"], "work");
    assert_eq!(a.json()["dry_run"], false);
    all_text += &a.text;
    let a = api.send("DELETE", "/api/profiles/wrok", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        api.send("GET", "/api/profiles/work", None).await.status,
        StatusCode::NOT_FOUND
    );

    // Unknown routes are errors in the same shape.
    let a = api.send("GET", "/api/nope", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.json()["error"]["code"], "route_not_found");

    assert!(!all_text.contains(CANARY), "{all_text}");
    assert_eq!(
        covered,
        documented(&api).await,
        "this test covers every route"
    );
}

#[tokio::test]
async fn events_stream_the_facades_events_after_ready() {
    let api = Api::new();
    let response = api
        .router
        .clone()
        .oneshot(api.request("GET", "/api/events", None))
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();
    let mut seen = String::new();
    let mut next = async || {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(2), body.frame())
            .await
            .expect("an event in time")
            .expect("stream open")
            .expect("frame");
        String::from_utf8_lossy(&frame.into_data().expect("data")).into_owned()
    };
    seen += &next().await;
    assert!(seen.contains("event: ready"), "{seen}");
    let a = api
        .send(
            "POST",
            "/api/profiles",
            Some(json!({"agent": "codex", "alias": "ev", "provider": "ollama"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let event = next().await;
    assert!(event.contains("event: profile-created"), "{event}");
    assert!(event.contains(r#""alias":"ev""#), "{event}");
    // Reported once, though the watcher saw the directory change too.
    let again = tokio::time::timeout(std::time::Duration::from_millis(600), body.frame()).await;
    assert!(again.is_err(), "a second event arrived: {again:?}");
}
