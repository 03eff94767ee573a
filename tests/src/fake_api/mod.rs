//! A fake model API that real coding-agent CLIs accept.
//!
//! It speaks the wire formats the agents use — Anthropic Messages, OpenAI Responses, OpenAI Chat
//! Completions and Gemini `generateContent` — closely enough that Claude Code, Codex, OpenCode,
//! Grok CLI, Gemini CLI and Droid complete a one-shot request against it, and it records every
//! request so a test can check which key, model and endpoint an agent launched by ringlet used.
//!
//! It is built for plain synchronous `#[test]` functions: [`FakeApi::start`] runs the server on
//! its own tokio runtime in a background thread, and dropping the handle stops it.
//!
//! ```no_run
//! use ringlet_tests::fake_api::{FakeApi, Reply};
//! # fn main() -> std::io::Result<()> {
//! let api = FakeApi::start()?;
//! api.push_reply(Reply::Text("hello".into()));
//! // ... launch an agent with its base URL set to api.base_url() ...
//! let requests = api.wait_for_requests(1, std::time::Duration::from_secs(30));
//! assert_eq!(requests[0].api_key.as_deref(), Some("sk-test"));
//! # Ok(()) }
//! ```
//!
//! Replies: every *generation* request (not model listings or token counts) pops the next
//! scripted [`Reply`]; when the script is empty it answers [`FakeApiConfig::default_text`]
//! ("pong"). Token usage comes from [`FakeApiConfig::usage`]. Requests that ask for JSON matching
//! a schema (Gemini CLI's model router, structured output) get a JSON value synthesised from the
//! schema instead, without consuming the script — the agents treat those as side calls, and a
//! scripted tool call must not be eaten by one.

mod anthropic;
mod gemini;
mod openai;
mod record;
mod schema;
mod server;
mod sse;

#[cfg(test)]
mod tests;

pub use record::{RecordedRequest, WireShape};

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One scripted answer to a generation request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Plain assistant text; the turn ends (`end_turn` / `stop` / `STOP`).
    Text(String),
    /// A single tool call: Anthropic `tool_use` block with `stop_reason: "tool_use"`, an OpenAI
    /// Responses `function_call` item, a Chat Completions `tool_calls` entry, or a Gemini
    /// `functionCall` part. The agent is expected to run the tool and send the result back in a
    /// follow-up request (which gets the next scripted reply, or the default text).
    ToolUse {
        /// Tool name as the agent declared it (e.g. `Bash` for Claude Code, `shell` for Codex).
        name: String,
        /// Tool arguments.
        input: Value,
    },
    /// An API error with this HTTP status, in the error shape of whatever endpoint was hit.
    /// Useful to test how ringlet reports provider failures; note agents retry 429 and 5xx.
    Error {
        /// HTTP status code (e.g. 401, 429, 500).
        status: u16,
        /// Human-readable error message.
        message: String,
    },
}

/// Token counts every generation response reports.
///
/// The fields follow Anthropic's accounting, where the four counts are disjoint. The OpenAI and
/// Gemini shapes fold cache reads into the input count (`input_tokens` = `input_tokens` +
/// `cache_read_input_tokens`, of which `cached_tokens` = `cache_read_input_tokens`) and have no
/// cache-creation count, which is how the real APIs report it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Uncached input tokens (Anthropic `input_tokens`).
    pub input_tokens: u64,
    /// Output tokens, including reasoning tokens.
    pub output_tokens: u64,
    /// Tokens written to the prompt cache (Anthropic only).
    pub cache_creation_input_tokens: u64,
    /// Tokens read from the prompt cache.
    pub cache_read_input_tokens: u64,
    /// Of `output_tokens`, how many were reasoning (OpenAI `reasoning_tokens`, Gemini
    /// `thoughtsTokenCount`).
    pub reasoning_tokens: u64,
}

impl Default for Usage {
    /// The counts used when the agent log samples in `tests/fixtures/agent-logs` were recorded:
    /// input 11, output 3, cache creation 5, cache read 7.
    fn default() -> Self {
        Usage {
            input_tokens: 11,
            output_tokens: 3,
            cache_creation_input_tokens: 5,
            cache_read_input_tokens: 7,
            reasoning_tokens: 0,
        }
    }
}

impl Usage {
    /// Input tokens as OpenAI and Gemini count them: uncached plus cache reads (18 by default).
    pub fn prompt_tokens(&self) -> u64 {
        self.input_tokens + self.cache_read_input_tokens
    }

    /// Prompt plus output tokens, as OpenAI `total_tokens` and Gemini `totalTokenCount`.
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens() + self.output_tokens
    }
}

/// How to start a [`FakeApi`].
#[derive(Debug, Clone)]
pub struct FakeApiConfig {
    /// Port to bind on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Text answered when no scripted reply is left.
    pub default_text: String,
    /// Scripted replies, consumed front to back by generation requests.
    pub replies: Vec<Reply>,
    /// Token usage reported by every generation response.
    pub usage: Usage,
    /// Model ids listed by `GET /v1/models` and `GET /v1beta/models`.
    pub models: Vec<String>,
    /// When true, only generation requests that declare tools consume scripted replies; the rest
    /// get the default text. Agents make tool-less side calls (OpenCode's title generation, for
    /// one), and this keeps those from eating a scripted tool call.
    pub script_only_tool_requests: bool,
    /// Append every recorded request to this file as one JSON line.
    pub record_file: Option<PathBuf>,
}

impl Default for FakeApiConfig {
    fn default() -> Self {
        FakeApiConfig {
            port: 0,
            default_text: "pong".to_string(),
            replies: Vec::new(),
            usage: Usage::default(),
            models: vec!["fake-model".to_string()],
            script_only_tool_requests: false,
            record_file: None,
        }
    }
}

/// State shared between the server tasks and the test thread.
///
/// Plain `std` locks rather than tokio ones: the test side is synchronous, and no lock is held
/// across an await.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) default_text: String,
    pub(crate) usage: Usage,
    pub(crate) models: Vec<String>,
    pub(crate) script_only_tool_requests: bool,
    pub(crate) replies: Mutex<VecDeque<Reply>>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) arrived: Condvar,
    pub(crate) record_file: Option<Mutex<File>>,
    /// Source of unique ids (message ids, tool call ids) across responses.
    pub(crate) next_seq: AtomicU64,
    /// Distinguishes this instance's ids from another instance's (see `server::Turn::id`).
    pub(crate) instance: String,
}

/// Eight hex digits that differ between fake API instances (clock and process id mixed).
fn instance_tag() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default();
    let mixed = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{:08x}", (mixed ^ (mixed >> 32)) as u32)
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: the fake API must keep
/// answering (and the test keep reading records) even after an assertion failed elsewhere.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    fn record(&self, request: RecordedRequest) {
        if let Some(file) = &self.record_file {
            match serde_json::to_string(&request) {
                Ok(line) => {
                    let mut file = lock(file);
                    // A failed write must not fail the request the agent is waiting for; the
                    // in-memory record is still there.
                    if let Err(err) = writeln!(file, "{line}").and_then(|()| file.flush()) {
                        eprintln!("ringlet-fake-api: writing record file: {err}");
                    }
                }
                Err(err) => eprintln!("ringlet-fake-api: serializing record: {err}"),
            }
        }
        lock(&self.requests).push(request);
        self.arrived.notify_all();
    }
}

/// A running fake API. Dropping it stops the server.
#[derive(Debug)]
pub struct FakeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeApi {
    /// Starts a fake API with the default configuration on a free port of 127.0.0.1.
    pub fn start() -> io::Result<FakeApi> {
        FakeApi::start_with(FakeApiConfig::default())
    }

    /// Starts a fake API with `config`. Returns once the socket is bound, so the base URL can be
    /// handed to an agent straight away.
    pub fn start_with(config: FakeApiConfig) -> io::Result<FakeApi> {
        let record_file = match &config.record_file {
            Some(path) => Some(Mutex::new(
                File::options().create(true).append(true).open(path)?,
            )),
            None => None,
        };
        let shared = Arc::new(Shared {
            default_text: config.default_text,
            usage: config.usage,
            models: config.models,
            script_only_tool_requests: config.script_only_tool_requests,
            replies: Mutex::new(config.replies.into()),
            requests: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
            record_file,
            next_seq: AtomicU64::new(1),
            instance: instance_tag(),
        });

        // Bind with std so a bind error reaches the caller synchronously, then hand the socket
        // to tokio inside the server thread.
        let listener = std::net::TcpListener::bind(("127.0.0.1", config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel();
        let server_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fake-api-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(server::serve(listener, server_shared, shutdown_rx));
                // Dropping the runtime here cancels connection tasks still open (an agent that
                // is still running when the test ends), so drop never hangs on them.
            })?;

        Ok(FakeApi {
            addr,
            shared,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, without `/v1`: Anthropic- and Gemini-style clients append their
    /// own version prefix; OpenAI-style clients need `format!("{}/v1", api.base_url())`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Only the generation requests (see [`RecordedRequest::is_generation`]).
    pub fn generation_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_generation)
            .collect()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed, and returns what arrived
    /// (possibly fewer than `n` on timeout: the caller's assertion then shows what was seen).
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.shared.requests);
        while requests.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            requests = self
                .shared
                .arrived
                .wait_timeout(requests, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        requests.clone()
    }

    /// Forgets the requests recorded so far (the record file is left alone).
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Appends a scripted reply to the queue.
    pub fn push_reply(&self, reply: Reply) {
        lock(&self.shared.replies).push_back(reply);
    }

    /// How many scripted replies have not been consumed yet.
    pub fn pending_replies(&self) -> usize {
        lock(&self.shared.replies).len()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            // The server may already be gone; nothing to do then.
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread has already been printed; don't double-panic in drop.
            let _ = thread.join();
        }
    }
}
