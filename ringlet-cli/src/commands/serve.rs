//! `serve`, `daemon --stay-alive` and `daemon rotate-token`: flags in, the server library out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use ringlet::Ringlet;
use ringlet_server::{ServerConfig, TlsFiles};

use crate::output::outln;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on. Anything but loopback needs TLS (--tls-cert and --tls-key) or
    /// --tls-terminated-elsewhere.
    #[arg(long, value_name = "ADDR", default_value = ringlet_server::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Serve HTTPS with this PEM certificate chain.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A proxy in front of the server does TLS: allow plain HTTP on a non-loopback address.
    #[arg(long, conflicts_with = "tls_cert")]
    pub tls_terminated_elsewhere: bool,
    /// Also answer to this Host name (`name` for any port, or `name:port`); repeatable.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Also accept browser requests from this origin (`https://dash.example`); repeatable.
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Let requests name server-side files under this directory (import sources, pricing
    /// files, Rhai scripts, profile binaries and working dirs); repeatable. None by default.
    #[arg(long, value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,
    /// Let pricing updates download from this URL too (LiteLLM's feed is always allowed).
    #[arg(long, value_name = "URL")]
    pub allow_pricing_url: Vec<String>,
    /// Do not log a line per request on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// How long an ended terminal session stays listable (and attachable for its
    /// scrollback), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub session_retention: u64,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DaemonArgs {
    #[command(subcommand)]
    pub command: Option<DaemonCmd>,
    /// Stay resident (the server never exits on its own; accepted for the seed's command line).
    #[arg(long)]
    pub stay_alive: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum DaemonCmd {
    /// Replace the token: the old one stops working at once, in every running server.
    RotateToken,
}

pub fn serve(ringlet: &Ringlet, a: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut pricing_urls = vec![ringlet::LITELLM_PRICES_URL.to_string()];
    pricing_urls.extend(a.allow_pricing_url);
    let config = ServerConfig {
        listen: a.listen,
        tls: match (a.tls_cert, a.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        },
        tls_terminated_elsewhere: a.tls_terminated_elsewhere,
        allowed_hosts: a.allow_host,
        allowed_origins: a.allow_origin,
        allowed_paths: a.allow_path,
        pricing_urls,
        log_requests: !a.quiet,
        session_retention: std::time::Duration::from_secs(a.session_retention),
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    ringlet_server::run(ringlet.clone(), config, |addr, token| {
        // The token itself is never printed: it is in the file, for whoever may read it. The
        // address is printed even under `--quiet` (which silences the per-request log and
        // notes): with `--listen 127.0.0.1:0` it is the only way to learn the port, and scripts
        // (tests/server/schemathesis.sh, benches/server_load.sh) read it from here.
        crate::output::err_line(&format!(
            "ringlet: serving the API on {scheme}://{addr}/api (token in {})",
            token.display()
        ));
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn daemon(ringlet: &Ringlet, a: DaemonArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        Some(DaemonCmd::RotateToken) => {
            let path = ringlet_server::token::token_path(ringlet.paths().config_dir());
            ringlet_server::token::rotate(&path)?;
            outln!(
                "Token rotated: the old one no longer works. The new one is in {}.",
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => serve(ringlet, a.serve),
    }
}
