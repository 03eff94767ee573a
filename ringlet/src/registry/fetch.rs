//! Reading a registry: a directory (`file://`) or a web server (`https://`; `http://` only on
//! loopback, for tests and local mirrors), with time and size limits.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// The largest `registry.json` read.
pub(crate) const MAX_INDEX_BYTES: u64 = 1 << 20;
/// The largest signature read.
pub(crate) const MAX_SIGNATURE_BYTES: u64 = 4 << 10;
/// The largest artifact (LiteLLM's feed is about 1.5 MB).
pub(crate) const MAX_ARTIFACT_BYTES: u64 = 32 << 20;
/// The most one sync downloads in all.
pub(crate) const MAX_TOTAL_BYTES: u64 = 128 << 20;

/// Seconds to connect, and for a whole request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a registry is read from.
#[derive(Debug)]
pub(crate) enum Remote {
    /// A directory laid out as the registry builder writes it.
    Dir(PathBuf),
    /// A web server serving such a directory.
    Http { base: url::Url, agent: ureq::Agent },
}

impl Remote {
    /// Parses `RINGLET_REGISTRY_URL` / `[registry] url`.
    pub(crate) fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| Error::Registry {
            message: format!(
                "registry URL {text:?} {why}; give an https:// URL or a file:// directory"
            ),
        };
        let mut url =
            url::Url::parse(text.trim()).map_err(|e| bad(&format!("is not a URL ({e})")))?;
        match url.scheme() {
            "file" => url
                .to_file_path()
                .map(Remote::Dir)
                .map_err(|()| bad("is not a local path")),
            "https" | "http" => {
                if url.scheme() == "http" && !is_loopback(&url) {
                    return Err(bad(
                        "is plain http to another machine (allowed only on loopback, for tests)",
                    ));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(bad("holds credentials"));
                }
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_connect(Some(CONNECT_TIMEOUT))
                    .timeout_global(Some(REQUEST_TIMEOUT))
                    .user_agent(concat!("ringlet/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .into();
                Ok(Remote::Http { base: url, agent })
            }
            _ => Err(bad("has an unsupported scheme")),
        }
    }

    /// `rel` (a `/`-separated path made of checked names) read whole, refused past `limit`
    /// bytes.
    pub(crate) fn get(&self, rel: &str, limit: u64) -> Result<Vec<u8>> {
        match self {
            Remote::Dir(dir) => {
                let path = dir.join(rel);
                std::fs::File::open(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|file| read_limited(file, limit))
                    .map_err(|why| Error::Registry {
                        message: format!("{}: {why}", path.display()),
                    })
            }
            Remote::Http { base, agent } => {
                let url = base.join(rel).map_err(|e| Error::Registry {
                    message: format!("{base}{rel}: {e}"),
                })?;
                let fail = |message: String| Error::Download {
                    url: url.to_string(),
                    message,
                };
                let mut response = agent.get(url.as_str()).call().map_err(|e| {
                    fail(format!(
                        "{e}; check the network and the registry URL, or use the snapshot you have (`ringlet registry sync --offline`)"
                    ))
                })?;
                response
                    .body_mut()
                    .with_config()
                    .limit(limit)
                    .read_to_vec()
                    .map_err(|e| fail(format!("{e} (at most {limit} bytes are read)")))
            }
        }
    }

    /// How to show it: the URL, or the directory.
    pub(crate) fn describe(&self) -> String {
        match self {
            Remote::Dir(dir) => dir.display().to_string(),
            Remote::Http { base, .. } => base.to_string(),
        }
    }
}

fn read_limited(file: impl Read, limit: u64) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes; refusing it"));
    }
    Ok(out)
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_for_loopback_only() {
        for ok in [
            "https://registry.example/ringlet",
            "http://127.0.0.1:8080/",
            "http://[::1]:9/x",
            "http://localhost/r",
            "file:///srv/registry",
        ] {
            Remote::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "http://registry.example/",
            "http://10.0.0.1/",
            "ftp://x/",
            "https://user:pw@x/",
            "registry",
        ] {
            let err = Remote::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("registry URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_directory_read_stops_at_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("f"), [0u8; 11]).expect("write");
        let url = url::Url::from_directory_path(dir.path()).expect("url");
        let remote = Remote::parse(url.as_str()).expect("file url");
        assert_eq!(remote.get("f", 11).expect("fits").len(), 11);
        let err = remote.get("f", 10).expect_err("too big").to_string();
        assert!(err.contains("larger than 10 bytes"), "{err}");
    }
}
