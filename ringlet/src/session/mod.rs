//! Terminal sessions: agents running in pseudo-terminals that outlive their clients — what a
//! server's `/ws/terminal/{id}` shows (docs/remote.md).
//!
//! A [`SessionManager`] starts each session as a run of the facade ([`Ringlet::start`] with a
//! PTY, marked remote so the profile's `sandbox = "remote"` applies): it counts, its usage
//! goes into the ledger when it ends, its hooks fire and its events are emitted, as for any
//! run. Per session one thread reads the terminal into a 1 MiB scrollback and into each
//! client's bounded queue (see [`ClientEvent`]), and one waits for the agent and finishes the
//! run. Nobody needs to be attached for the agent to go on.
//!
//! A session is `starting`, `running`, then `exited` (the agent ended by itself) or
//! `terminated` (ended by [`SessionManager::terminate`]: SIGHUP to its process group, SIGKILL
//! to what is left of the group after the grace period). An ended session stays listable,
//! with its scrollback, for [`SessionConfig::retention`].

mod client;
mod scrollback;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use client::ClientEvent;
use client::{ClientQueue, Pushed};
use scrollback::Scrollback;

use crate::error::{Error, Result};
use crate::facade::Ringlet;
use crate::launch::{AgentSignaller, EnvPolicy, PtyResizer, PtyWriter, RunOptions};

/// The scrollback replayed to an attaching client: 1 MiB.
pub const SCROLLBACK_BYTES: usize = 1024 * 1024;

/// How a [`SessionManager`] runs its sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionConfig {
    /// How long an ended session stays listable (and attachable, for its scrollback).
    pub retention: Duration,
    /// How long a terminated session's process group has after SIGHUP before SIGKILL.
    pub grace: Duration,
    /// The scrollback kept per session, in bytes.
    pub scrollback: usize,
    /// How far (bytes of output) a client may fall behind before it is resynced, then dropped.
    pub client_queue: usize,
    /// The agents' `TERM`.
    pub term: String,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(15 * 60),
            grace: crate::launch::DEFAULT_GRACE,
            scrollback: SCROLLBACK_BYTES,
            client_queue: 4 * 1024 * 1024,
            term: "xterm-256color".into(),
        }
    }
}

impl SessionConfig {
    /// Sets [`SessionConfig::retention`].
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Sets [`SessionConfig::grace`].
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Sets [`SessionConfig::client_queue`].
    pub fn client_queue(mut self, bytes: usize) -> Self {
        self.client_queue = bytes.max(1);
        self
    }

    /// Sets [`SessionConfig::scrollback`].
    pub fn scrollback(mut self, bytes: usize) -> Self {
        self.scrollback = bytes.max(1);
        self
    }
}

/// A session to start: the profile, the agent's extra arguments, where, and the terminal size.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewSession {
    /// The profile's alias.
    pub profile: String,
    /// Arguments after the profile's own.
    pub args: Vec<String>,
    /// The working directory; else the profile's.
    pub working_dir: Option<PathBuf>,
    /// Terminal rows.
    pub rows: u16,
    /// Terminal columns.
    pub cols: u16,
    /// `Some(false)` runs without the sandbox even when the profile's mode would use one
    /// (`Some(true)` forces it); `None` follows the profile (sandboxed unless `sandbox = "off"`).
    pub sandbox: Option<bool>,
    /// The PATH the agent (and bwrap) is looked up in; else this process's.
    pub search_path: Option<OsString>,
    /// The agent's time zone (see [`RunOptions::time_zone`]).
    pub time_zone: Option<String>,
}

impl NewSession {
    /// A session of `profile` in a 24 × 80 terminal.
    pub fn new(profile: impl Into<String>) -> Self {
        Self {
            profile: profile.into(),
            args: Vec::new(),
            working_dir: None,
            rows: 24,
            cols: 80,
            sandbox: None,
            search_path: None,
            time_zone: None,
        }
    }

    /// Sets the agent's extra arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Sets the terminal size.
    pub fn size(mut self, rows: u16, cols: u16) -> Self {
        self.rows = rows;
        self.cols = cols;
        self
    }

    /// Forces the sandbox on or off.
    pub fn sandbox(mut self, on: bool) -> Self {
        self.sandbox = Some(on);
        self
    }

    /// Sets the PATH the agent is looked up in.
    pub fn search_path(mut self, path: impl Into<OsString>) -> Self {
        self.search_path = Some(path.into());
        self
    }

    /// Sets the agent's time zone.
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionState {
    /// The agent is being started.
    Starting,
    /// The agent runs.
    Running,
    /// The agent ended by itself.
    Exited {
        /// Its exit code (128 + N for a death by signal N).
        exit_code: i32,
    },
    /// The agent was ended by [`SessionManager::terminate`].
    Terminated {
        /// Its exit code (129 for SIGHUP, 137 for SIGKILL, or its own).
        exit_code: i32,
    },
}

impl SessionState {
    /// `starting`, `running`, `exited` or `terminated`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Exited { .. } => "exited",
            Self::Terminated { .. } => "terminated",
        }
    }

    /// The agent's exit code, once it has ended.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            Self::Exited { exit_code } | Self::Terminated { exit_code } => Some(*exit_code),
            Self::Starting | Self::Running => None,
        }
    }

    /// Whether the agent has ended.
    pub fn ended(&self) -> bool {
        self.exit_code().is_some()
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a session is, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SessionInfo {
    /// Its id.
    pub id: String,
    /// The profile it runs.
    pub profile: String,
    /// The profile's agent (`claude`, `codex`, …).
    pub agent: String,
    /// Where it is in its life.
    #[serde(flatten)]
    pub state: SessionState,
    /// The agent's process id, once started.
    pub pid: Option<u32>,
    /// The run's id in the usage ledger, once started (when the ledger could be reached).
    pub run_id: Option<i64>,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// When the agent ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Terminal rows.
    pub rows: u16,
    /// Terminal columns.
    pub cols: u16,
    /// Clients attached now.
    pub clients: usize,
    /// Bytes of scrollback kept.
    pub scrollback_bytes: usize,
}

/// Runs terminal sessions for one facade. Cheap to clone; the sessions live as long as their
/// agents, also when every handle to the manager is gone.
#[derive(Debug, Clone)]
pub struct SessionManager {
    inner: Arc<Manager>,
}

#[derive(Debug)]
struct Manager {
    ringlet: Ringlet,
    config: SessionConfig,
    sessions: Mutex<BTreeMap<String, Arc<Session>>>,
}

/// The agent's controls, once it has started.
#[derive(Debug)]
struct Control {
    writer: PtyWriter,
    resizer: PtyResizer,
    signaller: Option<AgentSignaller>,
    pid: u32,
    run_id: Option<i64>,
}

#[derive(Debug)]
struct Session {
    id: String,
    profile: String,
    created_at: DateTime<Utc>,
    limit: usize,
    control: OnceLock<Control>,
    status: Mutex<Status>,
    /// Signalled when the session ends.
    ended: Condvar,
    output: Mutex<Output>,
    terminating: AtomicBool,
    /// The agent has been waited for (its group may live on in its descendants).
    reaped: AtomicBool,
    next_client: AtomicU64,
}

#[derive(Debug)]
struct Status {
    state: SessionState,
    agent: String,
    ended_at: Option<DateTime<Utc>>,
    rows: u16,
    cols: u16,
}

#[derive(Debug)]
struct Output {
    scrollback: Scrollback,
    clients: Vec<Arc<ClientQueue>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new session id: 64 random bits (the standard library's per-process random hash keys,
/// mixed with a counter), as hex.
fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}

impl SessionManager {
    /// A manager starting its sessions' agents through `ringlet`.
    pub fn new(ringlet: Ringlet, config: SessionConfig) -> Self {
        Self {
            inner: Arc::new(Manager {
                ringlet,
                config,
                sessions: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// How this manager runs sessions.
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// Starts a session: the profile's agent in a new terminal, sandboxed unless the profile
    /// says `sandbox = "off"` (or `new` turns it off), with a clean environment (the server's
    /// own variables never reach an agent). Returns once the agent has started.
    pub fn create(&self, new: &NewSession) -> Result<SessionInfo> {
        if new.rows == 0 || new.cols == 0 {
            return Err(Error::InvalidInput(format!(
                "a terminal of {} rows and {} columns cannot be drawn; give at least 1 of each",
                new.rows, new.cols
            )));
        }
        let id = new_id();
        let session = Arc::new(Session {
            id: id.clone(),
            profile: new.profile.clone(),
            created_at: Utc::now(),
            limit: self.inner.config.client_queue,
            control: OnceLock::new(),
            status: Mutex::new(Status {
                state: SessionState::Starting,
                agent: String::new(),
                ended_at: None,
                rows: new.rows,
                cols: new.cols,
            }),
            ended: Condvar::new(),
            output: Mutex::new(Output {
                scrollback: Scrollback::new(self.inner.config.scrollback),
                clients: Vec::new(),
            }),
            terminating: AtomicBool::new(false),
            reaped: AtomicBool::new(false),
            next_client: AtomicU64::new(0),
        });
        lock(&self.inner.sessions).insert(id.clone(), Arc::clone(&session));
        match self.start(&session, new) {
            Ok(()) => Ok(session.info()),
            Err(e) => {
                lock(&self.inner.sessions).remove(&id);
                Err(e)
            }
        }
    }

    fn start(&self, session: &Arc<Session>, new: &NewSession) -> Result<()> {
        let mut options = RunOptions::embedded()
            .pty(new.rows, new.cols)
            .remote(true)
            .env(EnvPolicy::clean())
            .term(self.inner.config.term.clone())
            .grace(self.inner.config.grace);
        if let Some(dir) = &new.working_dir {
            options = options.working_dir(dir);
        }
        if let Some(on) = new.sandbox {
            options = options.sandbox(on);
        }
        if let Some(path) = &new.search_path {
            options = options.search_path(path);
        }
        if let Some(zone) = &new.time_zone {
            options = options.time_zone(zone);
        }
        let handle = self.inner.ringlet.start(&new.profile, &new.args, options)?;
        let Some(pty) = handle.pty() else {
            return Err(Error::InvalidInput(
                "the facade's launcher started this session without a terminal; terminal sessions need the process launcher".into(),
            ));
        };
        let reader = pty.reader()?;
        let control = Control {
            writer: pty.writer(),
            resizer: pty.resizer(),
            signaller: handle.signaller(),
            pid: handle.pid(),
            run_id: handle.run_id(),
        };
        let _ = session.control.set(control);
        {
            let mut status = lock(&session.status);
            status.state = SessionState::Running;
            status.agent = handle.plan().agent.clone();
        }
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let reading = Arc::clone(session);
        let read = std::thread::Builder::new()
            .name(format!("session-{}-pty", session.id))
            .spawn(move || {
                reading.pump(reader);
                let _ = done_tx.send(());
            });
        let waiting = Arc::clone(session);
        let manager = Arc::downgrade(&self.inner);
        let retention = self.inner.config.retention;
        let wait = std::thread::Builder::new()
            .name(format!("session-{}-wait", session.id))
            .spawn(move || {
                let outcome = handle.wait();
                {
                    let _status = lock(&waiting.status);
                    waiting.reaped.store(true, Ordering::SeqCst);
                }
                waiting.ended.notify_all();
                // The output the agent wrote before it ended goes out before its exit; a
                // descendant still holding the terminal does not hold the exit back long.
                let _ = done_rx.recv_timeout(Duration::from_secs(1));
                let code = match outcome {
                    Ok(outcome) => outcome.exit_code,
                    Err(e) => {
                        waiting.print(format!("\r\n[ringlet: {e}]\r\n").as_bytes());
                        1
                    }
                };
                waiting.end(code);
                forget_after(manager, &waiting.id, retention);
            });
        if let Err(e) = read.and(wait) {
            // Without its threads nobody would read or reap the agent: end it now.
            session.signal(nix::sys::signal::Signal::SIGKILL as i32);
            return Err(Error::Spawn {
                program: "a terminal session's thread".into(),
                source: e,
            });
        }
        Ok(())
    }

    fn session(&self, id: &str) -> Result<Arc<Session>> {
        lock(&self.inner.sessions)
            .get(id)
            .cloned()
            .ok_or_else(|| Error::SessionNotFound { id: id.to_string() })
    }

    /// Every session, running and recently ended, oldest first.
    pub fn list(&self) -> Vec<SessionInfo> {
        let sessions: Vec<Arc<Session>> = lock(&self.inner.sessions).values().cloned().collect();
        let mut out: Vec<SessionInfo> = sessions.iter().map(|s| s.info()).collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        out
    }

    /// One session.
    pub fn get(&self, id: &str) -> Result<SessionInfo> {
        Ok(self.session(id)?.info())
    }

    /// Attaches a client: it gets the scrollback, then the output as it comes, then the end.
    /// A `read_only` client's input and resizes are ignored.
    pub fn attach(&self, id: &str, read_only: bool) -> Result<SessionClient> {
        let session = self.session(id)?;
        let queue = Arc::new(ClientQueue::new(
            session.next_client.fetch_add(1, Ordering::Relaxed),
            session.limit,
        ));
        {
            // Under the output lock: no byte is missed or sent twice between the scrollback
            // and the live stream.
            let mut out = lock(&session.output);
            queue.replay(out.scrollback.snapshot());
            let state = lock(&session.status).state;
            if state.ended() {
                queue.finish(ClientEvent::Exit { state });
            } else {
                out.clients.push(Arc::clone(&queue));
            }
        }
        Ok(SessionClient {
            session,
            queue,
            read_only,
        })
    }

    /// Ends a session: SIGHUP to the agent's process group now, SIGKILL to what is left of the
    /// group after [`SessionConfig::grace`]. Returns at once; the session's clients see it end.
    /// An ended session is left as it is.
    pub fn terminate(&self, id: &str) -> Result<SessionInfo> {
        let session = self.session(id)?;
        if session.info().state.ended() {
            return Ok(session.info());
        }
        if session.terminating.swap(true, Ordering::SeqCst) {
            return Ok(session.info());
        }
        session.signal(nix::sys::signal::Signal::SIGHUP as i32);
        let grace = self.inner.config.grace;
        let ending = Arc::clone(&session);
        std::thread::Builder::new()
            .name(format!("session-{}-end", session.id))
            .spawn(move || ending.kill_after(grace))
            .map_err(|e| Error::Spawn {
                program: "a terminal session's thread".into(),
                source: e,
            })?;
        Ok(session.info())
    }

    /// Waits until the session has ended, at most `timeout`; its info either way.
    pub fn wait(&self, id: &str, timeout: Duration) -> Result<SessionInfo> {
        let session = self.session(id)?;
        let deadline = Instant::now() + timeout;
        let mut status = lock(&session.status);
        while !status.state.ended() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            status = session
                .ended
                .wait_timeout(status, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(status);
        Ok(session.info())
    }
}

/// Drops an ended session from its manager once its retention has passed.
fn forget_after(manager: Weak<Manager>, id: &str, retention: Duration) {
    std::thread::sleep(retention);
    if let Some(manager) = manager.upgrade() {
        lock(&manager.sessions).remove(id);
    }
}

impl Session {
    fn info(&self) -> SessionInfo {
        // Output before status, as everywhere (`attach`, `end`): one lock order, no deadlock.
        let (clients, scrollback_bytes) = {
            let out = lock(&self.output);
            (out.clients.len(), out.scrollback.len())
        };
        let status = lock(&self.status);
        let control = self.control.get();
        SessionInfo {
            id: self.id.clone(),
            profile: self.profile.clone(),
            agent: status.agent.clone(),
            state: status.state,
            pid: control.map(|c| c.pid),
            run_id: control.and_then(|c| c.run_id),
            created_at: self.created_at,
            ended_at: status.ended_at,
            rows: status.rows,
            cols: status.cols,
            clients,
            scrollback_bytes,
        }
    }

    /// Reads the terminal until it closes, into the scrollback and every client's queue.
    fn pump(&self, mut reader: impl Read) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.print(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Output to the scrollback and every client.
    fn print(&self, bytes: &[u8]) {
        let chunk: Arc<[u8]> = Arc::from(bytes);
        let mut out = lock(&self.output);
        out.scrollback.push(bytes);
        let Output {
            scrollback,
            clients,
        } = &mut *out;
        clients.retain(|client| client.push(&chunk, || scrollback.snapshot()) == Pushed::Queued);
    }

    fn end(&self, code: i32) {
        let state = if self.terminating.load(Ordering::SeqCst) {
            SessionState::Terminated { exit_code: code }
        } else {
            SessionState::Exited { exit_code: code }
        };
        let clients = {
            let mut out = lock(&self.output);
            let mut status = lock(&self.status);
            status.state = state;
            status.ended_at = Some(Utc::now());
            std::mem::take(&mut out.clients)
        };
        self.ended.notify_all();
        for client in clients {
            client.finish(ClientEvent::Exit { state });
        }
    }

    fn signal(&self, signal: i32) {
        if let Some(signaller) = self.control.get().and_then(|c| c.signaller.as_ref()) {
            let _ = signaller.signal(signal);
        }
    }

    /// After `grace`, SIGKILL to whatever is left of the agent's process group — also the
    /// descendants of an agent that did end on SIGHUP but left children ignoring it.
    fn kill_after(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        let Some(pid) = self.control.get().map(|c| c.pid) else {
            return;
        };
        let Ok(group) = i32::try_from(pid).map(nix::unistd::Pid::from_raw) else {
            return;
        };
        let group_alive = || nix::sys::signal::killpg(group, None).is_ok();
        let mut status = lock(&self.status);
        while (!self.reaped.load(Ordering::SeqCst) || group_alive()) && Instant::now() < deadline {
            let left = deadline
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100));
            status = self
                .ended
                .wait_timeout(status, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(status);
        // Unreaped, the agent's pid still names its group and the signaller is exact; once it
        // is reaped the signaller does nothing.
        self.signal(nix::sys::signal::Signal::SIGKILL as i32);
        if group_alive() {
            // The agent is reaped but its group lives on in its descendants: Linux does not
            // hand out a pid that is still some group's id, so `group` is still theirs.
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// One client attached to a session ([`SessionManager::attach`]). Dropping it detaches; the
/// session goes on.
#[derive(Debug)]
pub struct SessionClient {
    session: Arc<Session>,
    queue: Arc<ClientQueue>,
    read_only: bool,
}

impl SessionClient {
    /// The session's id.
    pub fn session_id(&self) -> &str {
        &self.session.id
    }

    /// Whether this client's input is ignored.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The session as it is now.
    pub fn info(&self) -> SessionInfo {
        self.session.info()
    }

    /// The next event, for an async caller: `Ready(None)` after the last one.
    pub fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        self.queue.poll(cx)
    }

    /// The next event (any async runtime); `None` after the last one.
    pub async fn event(&self) -> Option<ClientEvent> {
        std::future::poll_fn(|cx| self.queue.poll(cx)).await
    }

    /// The next event, waiting at most `timeout`: `Ok(None)` after the last one, `Err` when
    /// none came in time.
    pub fn event_timeout(
        &self,
        timeout: Duration,
    ) -> std::result::Result<Option<ClientEvent>, Timeout> {
        self.queue.next_timeout(timeout).map_err(|()| Timeout)
    }

    /// Types `bytes` into the terminal. `Ok(false)` when ignored: this client is read-only, or
    /// the session has ended. Blocks while the agent does not read its input and the
    /// terminal's input buffer is full.
    pub fn write(&self, bytes: &[u8]) -> Result<bool> {
        if self.read_only || self.session.info().state.ended() {
            return Ok(false);
        }
        let Some(control) = self.session.control.get() else {
            return Ok(false);
        };
        let mut writer = control.writer.clone();
        match writer.write_all(bytes).and_then(|()| writer.flush()) {
            Ok(()) => Ok(true),
            // The agent ended meanwhile: its terminal is gone.
            Err(_) if self.session.info().state.ended() => Ok(false),
            Err(e) => Err(Error::io(
                "typing into the terminal of session",
                PathBuf::from(&self.session.id),
                e,
            )),
        }
    }

    /// Resizes the terminal (the agent gets SIGWINCH). `Ok(false)` when ignored: this client
    /// is read-only, or the session has ended.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<bool> {
        if self.read_only || self.session.info().state.ended() {
            return Ok(false);
        }
        if rows == 0 || cols == 0 {
            return Err(Error::InvalidInput(format!(
                "a terminal of {rows} rows and {cols} columns cannot be drawn; give at least 1 of each"
            )));
        }
        let Some(control) = self.session.control.get() else {
            return Ok(false);
        };
        control.resizer.resize(rows, cols)?;
        let mut status = lock(&self.session.status);
        status.rows = rows;
        status.cols = cols;
        Ok(true)
    }
}

impl Drop for SessionClient {
    fn drop(&mut self) {
        let id = self.queue.id;
        lock(&self.session.output).clients.retain(|c| c.id != id);
    }
}

/// No event came within the time given to [`SessionClient::event_timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout;

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no event within the time given")
    }
}

impl std::error::Error for Timeout {}
