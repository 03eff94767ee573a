//! The web dashboard: the Vue app built into `ringlet-server/web/dist/` (committed), embedded in
//! the binary, served at `/`. `cargo install` gives a working dashboard without Node.
//!
//! The files hold no data (every piece of data comes from the token-protected `/api` routes),
//! so the guard lets them through without the token, but only the files themselves and the
//! app's own client routes ([`is_public`]): any other path stays behind the token. `Host` and
//! `Origin` are checked for them like for every request (a rebound DNS name gets nothing).
//!
//! Caching: the files under `assets/` carry a content hash in their names, so browsers keep
//! them for a year; `index.html` names the current ones and is never cached. Every page gets a
//! Content-Security-Policy that allows scripts only from this server.

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::ApiError;

#[derive(RustEmbed)]
#[folder = "web/dist/"]
struct Assets;

/// The app's client-side routes (web/src/router.ts): a browser asking for one of these (a
/// reload, a bookmark) gets `index.html`, and the app shows the page. Kept in step with the
/// router by a test.
pub const CLIENT_ROUTES: [&str; 6] = [
    "/sign-in",
    "/profiles",
    "/usage",
    "/agents",
    "/hooks",
    "/terminal",
];

/// Scripts and styles from this server only (xterm.js and Vue's transitions set styles on
/// elements, and xterm.js adds a `<style>` for its theme, hence `'unsafe-inline'` for styles
/// only); connections (fetch, the events stream, the terminal's WebSocket) to this server
/// only; no framing (clickjacking), no plugins, no `<base>` tricks.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// Whether a request is for the dashboard's files or client routes, which need no token.
pub fn is_public(method: &Method, path: &str) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    if path == "/" || path == "/index.html" {
        return true;
    }
    if is_client_route(path) {
        return true;
    }
    path.strip_prefix('/')
        .is_some_and(|file| !file.is_empty() && Assets::get(file).is_some())
}

fn is_client_route(path: &str) -> bool {
    CLIENT_ROUTES.iter().any(|route| {
        path == *route
            || path
                .strip_prefix(route)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The router's fallback: the dashboard's files and client routes, or the API's 404.
pub(crate) async fn fallback(method: Method, uri: Uri) -> Response {
    if !is_public(&method, uri.path()) {
        return ApiError::not_found_route().into_response();
    }
    let path = uri.path();
    let file = match path.strip_prefix('/') {
        Some(f) if Assets::get(f).is_some() => f,
        _ => "index.html",
    };
    let Some(content) = Assets::get(file) else {
        // Only when the binary was built without the dashboard's index.html.
        return ApiError::not_found_route().into_response();
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(content.data.into_owned())
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    let cache = if file.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// The content type of a dashboard file, by extension (the build makes only these).
fn content_type(file: &str) -> &'static str {
    match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The embedded files' names (for the tests and `--help`-like listings).
pub fn files() -> impl Iterator<Item = String> {
    Assets::iter().map(|f| f.into_owned())
}

/// The embedded file `name`, if there is one.
pub fn file(name: &str) -> Option<Vec<u8>> {
    Assets::get(name).map(|f| f.data.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_and_client_routes_are_public() {
        for path in [
            "/",
            "/index.html",
            "/profiles",
            "/profiles/new",
            "/profiles/work/edit",
            "/sign-in",
        ] {
            assert!(is_public(&Method::GET, path), "{path}");
        }
        let asset = files()
            .find(|f| f.starts_with("assets/") && f.ends_with(".js"))
            .expect("the build has a script");
        assert!(is_public(&Method::GET, &format!("/{asset}")));
        for path in [
            "/api/profiles",
            "/api",
            "/ws/terminal/1",
            "/profilesx",
            "/assets/missing.js",
            "/build-stamp.txt/x",
        ] {
            assert!(!is_public(&Method::GET, path), "{path}");
        }
        assert!(!is_public(&Method::POST, "/profiles"));
        assert!(!is_public(&Method::DELETE, "/"));
    }

    #[test]
    fn content_types_fit_the_files() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/index-abc.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("assets/index-abc.css"),
            "text/css; charset=utf-8"
        );
        for f in files() {
            assert_ne!(
                content_type(&f),
                "application/octet-stream",
                "{f} has no content type"
            );
        }
    }
}
