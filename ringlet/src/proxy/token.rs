//! The per-run token: what the agent holds instead of the key. 256 random bits, compared in
//! constant time, looked for wherever an agent may put a key.

use hyper::http::request::Parts;
use subtle::ConstantTimeEq;

use crate::credentials::Secret;
use crate::error::{Error, Result};

/// A per-run token, shaped like a key (`rl-proxy-` and 64 hex digits) so agents that check a
/// key's form accept it.
#[derive(Debug, Clone)]
pub struct RunToken(Secret);

impl RunToken {
    /// A fresh random token.
    pub fn generate() -> Result<RunToken> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| Error::Proxy {
            message: format!("no randomness for the run's token: {e}"),
        })?;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(RunToken(Secret::new(format!("rl-proxy-{hex}"))))
    }

    /// A given token (tests, benchmarks).
    pub fn from_secret(secret: Secret) -> RunToken {
        RunToken(secret)
    }

    /// The token as the secret the agent is given in place of its key.
    pub fn secret(&self) -> &Secret {
        &self.0
    }

    /// Whether `presented` is this token, in time independent of where they differ.
    pub(crate) fn matches(&self, presented: &[u8]) -> bool {
        let ours = self.0.expose().as_bytes();
        ours.len() == presented.len() && bool::from(ours.ct_eq(presented))
    }
}

/// What a request presents as its key: `x-api-key`, `Authorization: Bearer`, `x-goog-api-key`,
/// `api-key`, or Gemini's `key` query parameter. `None` when it presents none; when it presents
/// several, all must be the token, so the first that is not decides.
pub(crate) fn check(parts: &Parts, token: &RunToken) -> bool {
    let mut presented = false;
    for name in ["x-api-key", "x-goog-api-key", "api-key"] {
        for value in parts.headers.get_all(name) {
            presented = true;
            if !token.matches(value.as_bytes()) {
                return false;
            }
        }
    }
    for value in parts.headers.get_all(hyper::header::AUTHORIZATION) {
        presented = true;
        let bytes = value.as_bytes();
        let Some(rest) = bytes
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case(b"bearer "))
            .map(|_| &bytes[7..])
        else {
            return false;
        };
        if !token.matches(rest.trim_ascii()) {
            return false;
        }
    }
    if let Some(query) = parts.uri.query() {
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name == "key" {
                presented = true;
                if !token.matches(value.as_bytes()) {
                    return false;
                }
            }
        }
    }
    presented
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], uri: &str) -> Parts {
        let mut b = hyper::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).expect("request").into_parts().0
    }

    #[test]
    fn a_request_passes_only_with_the_token_in_every_place_it_presents_one() {
        let token = RunToken::generate().expect("token");
        let t = token.secret().expose().to_string();
        assert!(t.starts_with("rl-proxy-") && t.len() == 9 + 64);
        let bearer = format!("Bearer {t}");
        assert!(check(&parts(&[("x-api-key", &t)], "/v1/messages"), &token));
        assert!(check(
            &parts(&[("authorization", &bearer)], "/v1/x"),
            &token
        ));
        assert!(check(
            &parts(&[("x-goog-api-key", &t)], "/v1beta/m"),
            &token
        ));
        assert!(check(
            &parts(&[], &format!("/v1beta/m?alt=sse&key={t}")),
            &token
        ));
        assert!(
            !check(&parts(&[], "/v1/messages"), &token),
            "none presented"
        );
        assert!(!check(
            &parts(&[("x-api-key", "sk-real")], "/v1/messages"),
            &token
        ));
        assert!(!check(
            &parts(&[("x-api-key", &t), ("authorization", "Bearer other")], "/"),
            &token
        ));
        assert!(
            !check(&parts(&[("authorization", &t)], "/"), &token),
            "no scheme"
        );
        let shorter = &t[..t.len() - 1];
        assert!(!check(&parts(&[("x-api-key", shorter)], "/"), &token));
        assert_ne!(
            RunToken::generate().expect("token").secret().expose(),
            t,
            "fresh per run"
        );
    }
}
