//! The ringlet proxy: an in-process streaming reverse proxy between one run's agent and its
//! provider (docs/proxy.md). The agent is pointed at `http://127.0.0.1:<port>` with a per-run
//! token as its key; the proxy checks the token, sends the real key upstream in the provider's
//! own scheme, forwards request and response bodies frame by frame, reads the usage of each
//! response on the wire as it passes (records it in the ledger as the response completes) and
//! refuses requests once a budget is spent.
//!
//! It runs on its own small tokio runtime, on a thread owned by a [`ProxyHandle`]; the handle
//! lives exactly as long as the run (the facade's run path is synchronous). The usage it
//! records and the refusals it reports go through a second thread, so SQLite never blocks the
//! forwarding.
//!
//! - `listen.rs`: the loopback listener (an ephemeral port, or one from a configured range).
//! - `token.rs`: the per-run token, and finding the one a request presents.
//! - `upstream.rs`: where a request goes ([`pick_upstream`], the one place that decides) and
//!   how the real key travels there.
//! - `forward.rs`: the request path: token, budget, upstream, streamed bodies.
//! - `headers.rs`: hop-by-hop and credential headers.
//! - `reply.rs`: the proxy's own answers (bad token, budget spent, upstream down) in each
//!   provider's error shape, so the agent shows them as it shows the provider's.
//! - `tap/`: usage read from the response bytes as they are forwarded.
//! - `budget.rs`: the spend check against the shared ledger.
//! - `record.rs`: the recorder thread (usage into the ledger, refusals to the facade).
//! - `routing/`: a profile's `routing.toml`, checked, and the route each request takes.
//! - `translate/`: Anthropic Messages ↔ OpenAI Chat Completions, for routes to the other shape.

mod budget;
mod forward;
mod headers;
mod listen;
mod record;
mod reply;
pub mod routing;
mod tap;
mod token;
pub mod translate;
mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

pub use budget::{BudgetLimit, BudgetRefusal, BudgetScope};
pub use listen::bind_loopback;
pub use record::{RefusalHook, UsageSink};
pub use token::RunToken;
pub use upstream::{UpstreamAuth, UpstreamTarget, pick_upstream};

use crate::catalog::wire::WireShape;
use crate::error::{Error, Result};

/// How a proxied run's usage is attributed in the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribution {
    /// The profile alias.
    pub profile: String,
    /// The agent id (`claude` gets the same dedup keys as Claude Code's own log).
    pub agent: String,
    /// The provider id.
    pub provider: String,
    /// The run's working directory, recorded as each response's project (as the log
    /// importers record the agent's `cwd`).
    pub project: Option<String>,
}

/// Everything a proxy needs for one run.
#[derive(Debug)]
pub struct ProxySpec {
    /// The wire shape the agent speaks (and the proxy answers its own errors in).
    pub shape: WireShape,
    /// Where requests go.
    pub upstream: UpstreamTarget,
    /// The token the agent must present. `None` accepts requests without one (a provider that
    /// needs no key: there is nothing to hide).
    pub token: Option<RunToken>,
    /// Who the usage belongs to.
    pub attribution: Attribution,
    /// Where usage and refusals go; `None` reads nothing off the wire (a benchmark's bare proxy).
    pub sink: Option<UsageSink>,
    /// The spending limits checked before each request.
    pub budgets: Vec<BudgetLimit>,
}

/// Counters of one proxy, for its run's report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Requests forwarded upstream.
    pub forwarded: u64,
    /// Requests refused for a wrong or missing token.
    pub unauthorized: u64,
    /// Requests refused because a budget was spent.
    pub refused: u64,
    /// Responses whose usage was read on the wire.
    pub metered: u64,
    /// Requests the upstream could not be reached for.
    pub upstream_errors: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) forwarded: AtomicU64,
    unauthorized: AtomicU64,
    refused: AtomicU64,
    metered: AtomicU64,
    pub(crate) upstream_errors: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ProxyStats {
        ProxyStats {
            forwarded: self.forwarded.load(Ordering::Relaxed),
            unauthorized: self.unauthorized.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            metered: self.metered.load(Ordering::Relaxed),
            upstream_errors: self.upstream_errors.load(Ordering::Relaxed),
        }
    }
}

/// What a proxy did, when it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyReport {
    /// Its counters.
    pub stats: ProxyStats,
    /// Usage it read but could not record, one line each.
    pub problems: Vec<String>,
}

/// A running proxy. Dropping it (or [`ProxyHandle::stop`]) stops accepting, ends the
/// connections still open (the agent is gone by then) and waits until every response's usage is
/// in the ledger.
#[derive(Debug)]
pub struct ProxyHandle {
    addr: SocketAddr,
    shape: WireShape,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    recorder: Option<record::Recorder>,
    counters: Arc<Counters>,
}

impl ProxyHandle {
    /// Starts serving `spec` on `listener` (from [`bind_loopback`]) on a runtime thread of its
    /// own.
    pub fn start(listener: std::net::TcpListener, spec: ProxySpec) -> Result<ProxyHandle> {
        Self::start_routed(listener, spec, None)
    }

    /// [`ProxyHandle::start`] with the profile's routing rules (its `routing.toml`): generation
    /// requests go where the first matching rule says, with its fallbacks; the rest, and
    /// everything when `routes` is `None`, to `spec.upstream`.
    pub fn start_routed(
        listener: std::net::TcpListener,
        spec: ProxySpec,
        routes: Option<routing::Routes>,
    ) -> Result<ProxyHandle> {
        let addr = listener.local_addr().map_err(|e| Error::Proxy {
            message: format!("its listener has no address: {e}"),
        })?;
        listener.set_nonblocking(true).map_err(|e| Error::Proxy {
            message: format!("cannot make its listener non-blocking: {e}"),
        })?;
        let shape = spec.shape;
        let (recorder, events) = match spec.sink {
            Some(sink) => {
                let (recorder, events) = record::Recorder::start(sink)?;
                (Some(recorder), Some(events))
            }
            None => (None, None),
        };
        let counters = Arc::new(Counters::default());
        let state = forward::State::new(
            spec.shape,
            spec.upstream,
            spec.token,
            spec.attribution,
            events,
            spec.budgets,
            Arc::clone(&counters),
        )?
        .with_routes(routes);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Proxy {
                message: format!("no async runtime: {e}"),
            })?;
        let (shutdown, stop) = tokio::sync::oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("ringlet-proxy".into())
            .spawn(move || runtime.block_on(forward::serve(listener, Arc::new(state), stop)))
            .map_err(|e| Error::Proxy {
                message: format!("no thread for it: {e}"),
            })?;
        Ok(ProxyHandle {
            addr,
            shape,
            shutdown: Some(shutdown),
            thread: Some(thread),
            recorder,
            counters,
        })
    }

    /// The address it listens on (always loopback).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL an agent of the proxy's shape is given: `http://127.0.0.1:<port>`, with
    /// `/v1` for the OpenAI shapes (their convention).
    pub fn base_url(&self) -> String {
        let root = format!("http://{}", self.addr);
        if self.shape.base_url_has_v1() {
            format!("{root}/v1")
        } else {
            root
        }
    }

    /// What it did so far.
    pub fn stats(&self) -> ProxyStats {
        self.counters.snapshot()
    }

    /// Stops it and waits for its usage to be recorded; returns what it did.
    pub fn stop(mut self) -> ProxyReport {
        let problems = self.shut_down();
        ProxyReport {
            stats: self.counters.snapshot(),
            problems,
        }
    }

    fn shut_down(&mut self) -> Vec<String> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // After the runtime: every tap has finished and sent what it read.
        self.recorder
            .take()
            .map(record::Recorder::finish)
            .unwrap_or_default()
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        self.shut_down();
    }
}
