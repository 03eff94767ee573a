//! Listening: a TCP listener, TLS by rustls when configured, HTTP/1.1 by hyper, one task per
//! connection (a slow client or TLS handshake never holds up the others), with a deadline on
//! reading request headers and on the handshake (slowloris).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ringlet::Ringlet;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{AppState, ServerConfig, TlsFiles, app};

/// How long a client has to send a request's headers, or to finish a TLS handshake.
const HEADER_DEADLINE: Duration = Duration::from_secs(10);

/// Why the server could not start or stopped.
#[derive(Debug)]
pub struct ServeError(String);

impl ServeError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServeError {}

fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ServeError::new(format!(
                "--tls-cert {}: {e}; give a PEM certificate chain",
                files.cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServeError::new(format!(
            "--tls-cert {} holds no certificate; give a PEM certificate chain",
            files.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        ServeError::new(format!(
            "--tls-key {}: {e}; give the certificate's PEM private key",
            files.key.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e: rustls::Error| {
            ServeError::new(format!(
                "--tls-cert/--tls-key: {e}; give a certificate and the key that belongs to it"
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `ringlet` per `config` until the process ends. `ready` is told the address bound
/// (with port 0 asked for, the port the system chose) and the token file, once requests are
/// accepted.
pub async fn serve(
    ringlet: Ringlet,
    config: ServerConfig,
    ready: impl FnOnce(SocketAddr, &std::path::Path),
) -> Result<(), ServeError> {
    config.check()?;
    let acceptor = config.tls.as_ref().map(tls_acceptor).transpose()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::new(format!("listening on {}: {e}", config.listen)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| ServeError::new(format!("listening on {}: {e}", config.listen)))?;
    // What stands for the whole life of the facade (a broken manifest) is logged once.
    for w in ringlet.standing_warnings() {
        crate::log::line(&format!("warning: {} ({})", w.message, w.code));
    }
    let state = AppState::new(ringlet, &config, bound)?;
    ready(bound, state.token_path());
    let service = TowerToHyperService::new(app(state));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of file descriptors, typically: wait instead of spinning.
                crate::log::line(&format!("accept: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = service.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(HEADER_DEADLINE);
            match acceptor {
                Some(acceptor) => {
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(HEADER_DEADLINE, acceptor.accept(stream)).await
                    else {
                        return;
                    };
                    let _ = http
                        .serve_connection(TokioIo::new(tls), service)
                        .with_upgrades()
                        .await;
                }
                None => {
                    let _ = http
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                }
            }
        });
    }
}

/// [`serve`] on a new multi-threaded tokio runtime, blocking the calling thread.
pub fn run(
    ringlet: Ringlet,
    config: ServerConfig,
    ready: impl FnOnce(SocketAddr, &std::path::Path),
) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("ringlet-server")
        .build()
        .map_err(|e| ServeError::new(format!("starting the async runtime: {e}")))?;
    runtime.block_on(serve(ringlet, config, ready))
}
