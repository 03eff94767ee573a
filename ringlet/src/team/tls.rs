//! TLS to the team's Postgres, by rustls (ring, like the rest of ringlet: no OpenSSL).
//!
//! The URL's `sslmode` decides whether TLS is used (`disable`, `prefer` — the driver's default —,
//! `require`); whenever it is, the server's certificate is verified, always: against the Mozilla
//! roots (webpki-roots) plus the team's own CA or self-signed certificate (`[team] ca-file`),
//! and for the URL's host name or IP address. libpq's `require` encrypts without verifying,
//! which a machine in the middle defeats; a team ledger holds every developer's usage, so
//! ringlet has no such mode.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::Socket;
use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsConnector;

/// Makes one verified TLS connection per Postgres connection attempt.
#[derive(Clone)]
pub(crate) struct MakeRustls {
    config: Arc<rustls::ClientConfig>,
}

impl MakeRustls {
    /// A connector trusting the Mozilla roots and, when given, the certificates in `ca_file`
    /// (PEM). Errors name the file and what is wrong with it.
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let shown = path.display();
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read the team CA file {shown}: {e}"))?
                .collect::<Result<_, _>>()
                .map_err(|e| format!("the team CA file {shown} is not valid PEM: {e}"))?;
            if certs.is_empty() {
                return Err(format!(
                    "the team CA file {shown} holds no certificate (expected PEM \
                     `-----BEGIN CERTIFICATE-----` blocks)"
                ));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| {
                    format!("the team CA file {shown} holds a certificate rustls refuses: {e}")
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
        })
    }
}

impl MakeTlsConnect<Socket> for MakeRustls {
    type Stream = RustlsStream;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        let name = ServerName::try_from(domain.to_string()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{domain}` is not a host name TLS can verify: {e}"),
            )
        })?;
        Ok(RustlsConnect {
            name,
            connector: TlsConnector::from(Arc::clone(&self.config)),
        })
    }
}

/// One connection's handshake.
pub(crate) struct RustlsConnect {
    name: ServerName<'static>,
    connector: TlsConnector,
}

impl TlsConnect<Socket> for RustlsConnect {
    type Stream = RustlsStream;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        Box::pin(async move {
            let tls = self.connector.connect(self.name, stream).await?;
            Ok(RustlsStream(Box::new(tls)))
        })
    }
}

/// An established TLS stream to the server.
pub(crate) struct RustlsStream(Box<tokio_rustls::client::TlsStream<Socket>>);

impl TlsStream for RustlsStream {
    /// No channel binding: SCRAM-SHA-256 without `-PLUS`, which a verified certificate already
    /// protects (the binding defends against a certificate the client would wrongly accept).
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl AsyncRead for RustlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for RustlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope.pem");
        let e = MakeRustls::new(Some(&missing)).err().expect("refused");
        assert!(e.contains("nope.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let e = MakeRustls::new(Some(&empty)).err().expect("refused");
        assert!(e.contains("holds no certificate"), "{e}");
        assert!(MakeRustls::new(None).is_ok());
    }

    #[test]
    fn a_host_name_tls_cannot_verify_is_refused() {
        let mut make = MakeRustls::new(None).expect("connector");
        assert!(make.make_tls_connect("db.example.com").is_ok());
        assert!(make.make_tls_connect("127.0.0.1").is_ok());
        assert!(make.make_tls_connect("not a host").is_err());
    }
}
