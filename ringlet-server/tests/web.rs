//! The dashboard's files as the server serves them (in-process), and the committed build's
//! freshness: `web/dist/build-stamp.txt` must hold the hash of the sources it was built from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use ringlet::{MemoryCredentialStore, Ringlet};
use ringlet_server::{AppState, ServerConfig, app, web};
use sha2::{Digest, Sha256};
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:8765";
const REBUILD: &str =
    "npm --prefix ringlet-server/web ci && npm --prefix ringlet-server/web run build";

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

struct Served {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Served {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Server {
    router: axum::Router,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ringlet = Ringlet::builder()
            .home(dir.path().join("home"))
            .credential_store(Arc::new(MemoryCredentialStore::default()))
            .build()
            .expect("build");
        let config = ServerConfig {
            log_requests: false,
            ..ServerConfig::default()
        };
        let state = AppState::new(ringlet, &config, HOST.parse().expect("addr")).expect("state");
        let token = std::fs::read_to_string(state.token_path())
            .expect("token")
            .trim()
            .to_string();
        Self {
            router: app(state),
            token,
            _dir: dir,
        }
    }

    async fn get(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Served {
        let mut req = Request::builder().method(method).uri(path);
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req = req.header(header::HOST, HOST);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let response = self
            .router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Served {
            status,
            headers,
            body,
        }
    }
}

fn script_of_index() -> String {
    let index =
        String::from_utf8(web::file("index.html").expect("index.html embedded")).expect("utf-8");
    index
        .split("src=\"/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("index.html loads a script")
        .to_string()
}

#[tokio::test]
async fn the_page_and_its_files_are_served_without_the_token_with_fitting_headers() {
    let server = Server::new();
    for path in [
        "/",
        "/profiles",
        "/profiles/new",
        "/profiles/work/edit",
        "/sign-in",
    ] {
        let page = server.get("GET", path, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            page.header(header::CONTENT_TYPE),
            "text/html; charset=utf-8"
        );
        assert!(page.text().contains("<div id=\"app\">"), "{path}");
        assert_eq!(page.header(header::CACHE_CONTROL), "no-cache", "{path}");
        let csp = page.header(header::CONTENT_SECURITY_POLICY);
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-eval"), "{csp}");
        assert_eq!(page.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    }

    let script = script_of_index();
    let js = server.get("GET", &format!("/{script}"), &[]).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(
        js.header(header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        js.header(header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        js.body,
        std::fs::read(web_dir().join("dist").join(&script)).expect("the file in dist/")
    );
    let head = server.get("HEAD", &format!("/{script}"), &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
}

#[tokio::test]
async fn the_files_answer_only_to_this_servers_host_and_origin() {
    let server = Server::new();
    let script = format!("/{}", script_of_index());
    for path in ["/", "/profiles", script.as_str()] {
        let rebound = server
            .get("GET", path, &[("host", "evil.example:8765")])
            .await;
        assert_eq!(rebound.status, StatusCode::FORBIDDEN, "{path}");
        assert!(rebound.text().contains("forbidden_host"), "{path}");
        let foreign = server
            .get("GET", path, &[("origin", "http://evil.example")])
            .await;
        assert_eq!(foreign.status, StatusCode::FORBIDDEN, "{path}");
        assert!(foreign.text().contains("forbidden_origin"), "{path}");
    }
}

#[tokio::test]
async fn only_the_files_and_client_routes_go_without_the_token() {
    let server = Server::new();
    for (method, path) in [
        ("GET", "/api/profiles"),
        ("GET", "/not-a-page"),
        ("GET", "/assets/not-built.js"),
        ("POST", "/profiles"),
        ("DELETE", "/"),
        ("GET", "/ws/terminal/1"),
    ] {
        let refused = server.get(method, path, &[]).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    // With the token, a path that is neither a route nor a file is the API's 404.
    let auth = format!("Bearer {}", server.token);
    let missing = server
        .get("GET", "/not-a-page", &[("authorization", &auth)])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.text().contains("route_not_found"));
}

/// The client routes the server answers with index.html are the app router's (web/src/router.ts).
#[test]
fn the_servers_client_routes_are_the_apps() {
    let router = std::fs::read_to_string(web_dir().join("src/router.ts")).expect("router.ts");
    let mut app_roots: Vec<String> = router
        .split("path: '")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
        .filter(|p| p.len() > 1 && !p.starts_with("/:"))
        .map(|p| {
            format!(
                "/{}",
                p.trim_start_matches('/').split('/').next().unwrap_or("")
            )
        })
        .collect();
    app_roots.sort();
    app_roots.dedup();
    let mut served: Vec<String> = web::CLIENT_ROUTES.iter().map(|s| s.to_string()).collect();
    served.sort();
    assert_eq!(
        app_roots, served,
        "web.rs CLIENT_ROUTES must list the first segment of every route in web/src/router.ts"
    );
}

/// The build's inputs, hashed as web/scripts/stamp.mjs hashes them.
fn source_hash() -> String {
    let web = web_dir();
    let mut files: Vec<String> = [
        "package.json",
        "package-lock.json",
        "index.html",
        "vite.config.ts",
        "tsconfig.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    fn walk(web: &Path, rel: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(web.join(rel)) else {
            return;
        };
        for entry in entries {
            let entry = entry.expect("dir entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = format!("{rel}/{name}");
            if entry.file_type().expect("file type").is_dir() {
                walk(web, &child, out);
            } else {
                out.push(child);
            }
        }
    }
    walk(&web, "src", &mut files);
    walk(&web, "public", &mut files);
    // JavaScript's default sort compares UTF-16 code units; for these ASCII names that is
    // byte order.
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        let content = std::fs::read(web.join(file)).expect("source file");
        hash.update(file.as_bytes());
        hash.update([0]);
        hash.update(content.len().to_string().as_bytes());
        hash.update([0]);
        hash.update(&content);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_committed_build_is_built_from_the_committed_sources() {
    let stamp = std::fs::read_to_string(web_dir().join("dist/build-stamp.txt"))
        .unwrap_or_else(|e| panic!("web/dist/build-stamp.txt: {e}; rebuild with `{REBUILD}`"));
    let expected = format!("sha256:{}", source_hash());
    assert_eq!(
        stamp.trim(),
        expected,
        "ringlet-server/web/dist is stale (its sources changed since it was built); rebuild with `{REBUILD}` and commit dist/"
    );
    // The binary embeds exactly that build (rust-embed reads dist/ at compile time).
    let embedded = web::file("build-stamp.txt").expect("stamp embedded");
    assert_eq!(String::from_utf8_lossy(&embedded).trim(), expected);
    // Every file index.html names is embedded.
    let index = String::from_utf8(web::file("index.html").expect("index")).expect("utf-8");
    for name in index
        .split("=\"/")
        .skip(1)
        .filter_map(|r| r.split('"').next())
    {
        assert!(
            web::file(name).is_some(),
            "index.html names {name}, not embedded"
        );
    }
}
