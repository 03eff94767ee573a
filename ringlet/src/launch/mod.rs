//! Launching: turning a profile into a [`LaunchPlan`] (pure data, shaped by the agent's Rhai
//! config script) and running it.

mod command;
mod files;
mod owned;
mod plan;
mod process;
#[cfg(unix)]
mod pty;
pub(crate) mod sandbox;
pub(crate) mod script;
pub(crate) mod script_cache;
mod spawner;

use std::ffi::OsString;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use command::AgentCommand;
pub use files::materialise;
pub(crate) use files::merge_json;
pub use plan::{
    EnvEntry, FileFormat, LaunchPlan, MergeMode, PlanInput, PlannedFile, SecretEnv, build_plan,
};
pub(crate) use plan::{SECRET_VARS_ENV, reserved_for_secret};
pub use process::ProcessLauncher;
#[cfg(unix)]
pub use pty::{PtyChild, PtyReader, PtyResizer, PtyWriter};

use crate::error::Result;

/// Where a run's standard streams go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RunIo {
    /// The caller's own terminal and streams (the CLI).
    #[default]
    Inherit,
    /// A new pseudo-terminal of this size, read and written through the
    /// [`RunHandle`](crate::RunHandle) (remote terminal sessions). Unix only.
    Pty {
        /// Rows.
        rows: u16,
        /// Columns.
        cols: u16,
    },
    /// Standard input from `/dev/null`; output and errors piped, taken with
    /// [`RunHandle::take_output`](crate::RunHandle::take_output).
    Piped,
}

/// Which of the caller's environment variables an agent inherits (the plan's own variables and
/// its key are always set; the plan's conflicting variables and `RINGLET_KEY_*` never pass).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum EnvPolicy {
    /// Everything the caller has, minus what conflicts with the plan: right for a CLI, whose
    /// user expects their shell's `TERM`, locale and proxies to reach the agent.
    #[default]
    InheritMinusConflicts,
    /// Only the variables named here: right for a server, whose own tokens and
    /// `DATABASE_URL` must never reach an agent.
    CleanPlusAllowlist(Vec<String>),
}

impl EnvPolicy {
    /// The clean policy with the variables an interactive agent needs from its host (`TERM`,
    /// locale, `TZ`, `PATH`, proxies and CA bundles).
    pub fn clean() -> Self {
        Self::CleanPlusAllowlist(
            [
                "PATH",
                "TERM",
                "COLORTERM",
                "LANG",
                "LC_ALL",
                "LC_CTYPE",
                "TZ",
                "HTTPS_PROXY",
                "HTTP_PROXY",
                "NO_PROXY",
                "https_proxy",
                "http_proxy",
                "no_proxy",
                "SSL_CERT_FILE",
                "SSL_CERT_DIR",
                "NODE_EXTRA_CA_CERTS",
            ]
            .map(String::from)
            .to_vec(),
        )
    }

    /// The inherited part of an agent's environment under this policy, taken from `vars`.
    pub fn inherited(
        &self,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Vec<(OsString, OsString)> {
        match self {
            Self::InheritMinusConflicts => vars.into_iter().collect(),
            Self::CleanPlusAllowlist(allow) => vars
                .into_iter()
                .filter(|(n, _)| allow.iter().any(|a| OsString::from(a) == *n))
                .collect(),
        }
    }
}

/// How a profile is run: streams, working directory, PATH, signals, sandbox and environment.
/// Every field has a builder method; [`RunOptions::default`] is the CLI's run, and nothing in
/// the run path reads process-wide state that a field here can give instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Run the agent as a job of its own, as a shell would: it leads its own process group,
    /// which gets the terminal while it runs (when ringlet has it); SIGTERM, SIGHUP, SIGINT,
    /// SIGQUIT, SIGUSR1 and SIGUSR2 sent to ringlet are forwarded to that group; after SIGTERM
    /// or SIGHUP, whatever of the group is left when [`RunOptions::grace`] ends is killed; and
    /// Ctrl-Z suspends ringlet with the agent. Right for a CLI that owns the terminal; embedders
    /// that manage signals themselves turn it off (the agent then stays in their process group).
    /// A [`RunIo::Pty`] run leads a session of its own whatever this says: nothing is
    /// forwarded to it; signal it through its [`RunHandle`](crate::RunHandle).
    pub forward_signals: bool,
    /// How long the agent's process group has to end after a forwarded SIGTERM or SIGHUP
    /// before it is killed (SIGKILL).
    pub grace: Duration,
    /// Where the agent's standard streams go.
    pub io: RunIo,
    /// The working directory; else the profile's, else this process's.
    pub working_dir: Option<PathBuf>,
    /// The PATH to find the agent (and bwrap) in; else this process's `PATH`.
    pub search_path: Option<OsString>,
    /// `Some(true)` sandboxes this run, `Some(false)` does not; `None` leaves it to the
    /// profile's `sandbox` mode (see [`RunOptions::remote`]).
    pub sandbox: Option<bool>,
    /// Whether the run is for a remote user (a server's terminal session): profiles in the
    /// default `sandbox = "remote"` mode are sandboxed then.
    pub remote: bool,
    /// Which of this process's environment variables the agent inherits.
    pub env: EnvPolicy,
    /// The agent's time zone (`TZ`), an IANA name such as `Europe/Berlin`: a server runs
    /// agents for users elsewhere, and an agent dates its work (commit messages, logs, "today")
    /// in its own zone. `None` leaves `TZ` to [`RunOptions::env`].
    pub time_zone: Option<String>,
    /// The agent's `TERM` (e.g. `xterm-256color`), for a [`RunIo::Pty`] run whose caller knows
    /// the terminal on the other end (a browser's xterm.js, a remote user's terminal): a server
    /// started by a service manager has no `TERM` of its own to pass on. `None` leaves `TERM`
    /// to [`RunOptions::env`].
    pub term: Option<String>,
}

/// The default [`RunOptions::grace`]: long enough for an agent to save its session.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            forward_signals: true,
            grace: DEFAULT_GRACE,
            io: RunIo::Inherit,
            working_dir: None,
            search_path: None,
            sandbox: None,
            remote: false,
            env: EnvPolicy::InheritMinusConflicts,
            time_zone: None,
            term: None,
        }
    }
}

impl RunOptions {
    /// Options for embedders: no process-wide signal handling.
    pub fn embedded() -> Self {
        Self {
            forward_signals: false,
            ..Self::default()
        }
    }

    /// Sets [`RunOptions::forward_signals`].
    pub fn forward_signals(mut self, forward: bool) -> Self {
        self.forward_signals = forward;
        self
    }

    /// Sets [`RunOptions::grace`].
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Runs the agent in a new pseudo-terminal of `rows` × `cols`.
    pub fn pty(mut self, rows: u16, cols: u16) -> Self {
        self.io = RunIo::Pty { rows, cols };
        self
    }

    /// Pipes the agent's output instead of sharing the caller's streams.
    pub fn piped(mut self) -> Self {
        self.io = RunIo::Piped;
        self
    }

    /// Sets the working directory.
    pub fn working_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.working_dir = Some(dir.into());
        self
    }

    /// Sets the PATH searched for the agent.
    pub fn search_path(mut self, path: impl Into<OsString>) -> Self {
        self.search_path = Some(path.into());
        self
    }

    /// Forces the sandbox on or off for this run.
    pub fn sandbox(mut self, on: bool) -> Self {
        self.sandbox = Some(on);
        self
    }

    /// Marks the run as a remote user's.
    pub fn remote(mut self, remote: bool) -> Self {
        self.remote = remote;
        self
    }

    /// Sets the environment policy.
    pub fn env(mut self, policy: EnvPolicy) -> Self {
        self.env = policy;
        self
    }

    /// Sets [`RunOptions::time_zone`]; checked when the run starts.
    pub fn time_zone(mut self, zone: impl Into<String>) -> Self {
        self.time_zone = Some(zone.into());
        self
    }
}

impl RunOptions {
    /// Sets [`RunOptions::term`].
    pub fn term(mut self, term: impl Into<String>) -> Self {
        self.term = Some(term.into());
        self
    }
}

/// Where the system's zone files are (Linux and macOS alike).
const ZONEINFO: &str = "/usr/share/zoneinfo";

/// Checks a [`RunOptions::time_zone`]: an IANA name the system knows. The C library reads an
/// unknown name as UTC without a word, so a typo would silently shift every time the agent
/// writes; a name is also a path under the zone directory, so it may not climb out of it.
pub(crate) fn check_time_zone(zone: &str) -> Result<(), crate::Error> {
    let invalid = |why: &str| {
        crate::Error::InvalidInput(format!(
            "time zone '{}' {why}; give an IANA name such as Europe/Berlin or UTC",
            zone.chars().take(64).collect::<String>()
        ))
    };
    let well_formed = !zone.is_empty()
        && zone.len() <= 64
        && !zone.starts_with('/')
        && zone
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && zone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    if !well_formed {
        return Err(invalid("is not a time zone name"));
    }
    let dir = Path::new(ZONEINFO);
    if zone != "UTC" && dir.is_dir() && !dir.join(zone).is_file() {
        return Err(invalid(&format!("is not in {ZONEINFO}")));
    }
    Ok(())
}

/// What happened when a plan ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunOutcome {
    /// The agent's exit code; 128 + N when it was killed by signal N, as a shell reports it.
    pub exit_code: i32,
    /// When the agent started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// Wall-clock duration.
    #[serde(with = "duration_ms")]
    pub duration: Duration,
    /// The agent's process id.
    pub pid: u32,
}

impl RunOutcome {
    /// An outcome, for a [`Launcher`] of another crate.
    pub fn new(
        exit_code: i32,
        started_at: DateTime<Utc>,
        ended_at: DateTime<Utc>,
        duration: Duration,
        pid: u32,
    ) -> Self {
        Self {
            exit_code,
            started_at,
            ended_at,
            duration,
            pid,
        }
    }
}

/// Starts agents. [`ProcessLauncher`] starts the final command as a child process, with the
/// caller's streams, pipes or a new PTY as [`RunOptions::io`] says; an embedder can start it
/// some other way (a container, a remote host).
pub trait Launcher: Send + Sync + Debug {
    /// Starts `command` (files written, sandbox applied: the command is final). The caller may
    /// do other work while the agent runs and must call [`RunningAgent::wait`].
    fn start(&self, command: &AgentCommand, options: &RunOptions) -> Result<Box<dyn RunningAgent>>;
}

/// The agent's piped output ([`RunIo::Piped`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct PipedOutput {
    /// Its standard output.
    pub stdout: std::process::ChildStdout,
    /// Its standard error.
    pub stderr: std::process::ChildStderr,
}

impl PipedOutput {
    /// The output of a child started with piped streams.
    pub fn new(stdout: std::process::ChildStdout, stderr: std::process::ChildStderr) -> Self {
        Self { stdout, stderr }
    }
}

/// An agent a [`Launcher`] started and nobody has waited for yet.
pub trait RunningAgent: Send + Debug {
    /// The agent's process id.
    fn pid(&self) -> u32;

    /// When the agent started.
    fn started_at(&self) -> DateTime<Utc>;

    /// Sends `signal` (a Unix signal number) to the agent (its process group where it has its
    /// own). Does nothing once the agent has been waited for.
    fn signal(&self, signal: i32) -> Result<()>;

    /// A way to signal the agent from another thread, also while this one is in
    /// [`wait`](Self::wait); `None` when this launcher has none.
    fn signaller(&self) -> Option<AgentSignaller> {
        None
    }

    /// The agent's pseudo-terminal, for a [`RunIo::Pty`] run.
    #[cfg(unix)]
    fn pty(&self) -> Option<&PtyChild> {
        None
    }

    /// The agent's piped output, once, for a [`RunIo::Piped`] run.
    fn take_output(&mut self) -> Option<PipedOutput> {
        None
    }

    /// Waits for the agent to end (forwarding signals meanwhile, when the run asked for it).
    fn wait(self: Box<Self>) -> Result<RunOutcome>;
}

/// Sends signals to a started agent from any thread, also while another thread waits for it
/// ([`RunHandle::wait`](crate::RunHandle::wait) takes the handle; a server ending a session
/// from a request keeps one of these). Once the agent has been reaped it does nothing: its pid
/// may belong to another process by then.
#[derive(Clone)]
pub struct AgentSignaller(std::sync::Arc<dyn Fn(i32) -> Result<()> + Send + Sync>);

impl AgentSignaller {
    /// A signaller calling `send` with the signal number; for a [`Launcher`] of another crate,
    /// whose `send` must do nothing once the agent is reaped.
    pub fn new(send: impl Fn(i32) -> Result<()> + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(send))
    }

    /// Sends `signal` (a Unix signal number) as [`RunningAgent::signal`] does.
    pub fn signal(&self, signal: i32) -> Result<()> {
        (self.0)(signal)
    }
}

impl Debug for AgentSignaller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentSignaller").finish_non_exhaustive()
    }
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}
