//! Headers the proxy does not pass on: hop-by-hop ones (RFC 9110 §7.6.1, and whatever the
//! `Connection` header names), the agent's credentials (replaced by the real key), and `Host`
//! (set from the upstream URI).

use hyper::header::{HeaderMap, HeaderName};

/// Hop-by-hop headers, always removed.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Where an agent may put its key; the proxy sets the real one itself.
const CREDENTIALS: &[&str] = &["authorization", "x-api-key", "x-goog-api-key", "api-key"];

/// Removes the hop-by-hop headers, including those the `Connection` header lists.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

/// Prepares the agent's request headers for the upstream.
pub(crate) fn upstream_request(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    for name in CREDENTIALS {
        headers.remove(*name);
    }
    headers.remove(hyper::header::HOST);
    // Only encodings the usage tap can read (gzip) or none; the response is forwarded as sent.
    if let Some(accept) = headers.get(hyper::header::ACCEPT_ENCODING) {
        let gzip = accept
            .to_str()
            .is_ok_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        if gzip {
            headers.insert(
                hyper::header::ACCEPT_ENCODING,
                hyper::header::HeaderValue::from_static("gzip"),
            );
        } else {
            headers.remove(hyper::header::ACCEPT_ENCODING);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_hop_by_hop_credentials_and_unreadable_encodings() {
        let mut h = HeaderMap::new();
        for (k, v) in [
            ("connection", "keep-alive, x-private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("x-api-key", "rl-proxy-token"),
            ("authorization", "Bearer rl-proxy-token"),
            ("host", "127.0.0.1:1"),
            ("accept-encoding", "br, gzip, deflate"),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ] {
            h.append(k, v.parse().expect("value"));
        }
        upstream_request(&mut h);
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            vec!["accept-encoding", "anthropic-version", "content-type"]
        );
        assert_eq!(h["accept-encoding"], "gzip");
    }
}
