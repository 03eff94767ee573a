//! Launching: turning a profile into a [`LaunchPlan`] (pure data, shaped by the agent's Rhai
//! config script) and running it.

mod command;
mod files;
mod plan;
mod process;
#[cfg(unix)]
mod pty;
pub(crate) mod sandbox;
pub(crate) mod script;
pub(crate) mod script_cache;

use std::fmt::Debug;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use command::AgentCommand;
pub use files::materialise;
pub(crate) use plan::SECRET_VARS_ENV;
pub use plan::{
    EnvEntry, FileFormat, LaunchPlan, MergeMode, PlanInput, PlannedFile, SecretEnv, build_plan,
};
pub use process::ProcessLauncher;
#[cfg(unix)]
pub use pty::{PtyChild, PtyReader, PtyWriter};

use crate::credentials::Secret;
use crate::error::Result;

/// How a plan is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOptions {
    /// Run the agent as a job of its own, as a shell would: it leads its own process group,
    /// which gets the terminal while it runs (when ringlet has it); SIGTERM, SIGHUP, SIGINT,
    /// SIGQUIT, SIGUSR1 and SIGUSR2 sent to ringlet are forwarded to that group; after SIGTERM
    /// or SIGHUP, whatever of the group is left when [`RunOptions::grace`] ends is killed; and
    /// Ctrl-Z suspends ringlet with the agent. Right for a CLI that owns the terminal; embedders
    /// that manage signals themselves turn it off (the agent then stays in their process group).
    pub forward_signals: bool,
    /// How long the agent's process group has to end after a forwarded SIGTERM or SIGHUP
    /// before it is killed (SIGKILL).
    pub grace: Duration,
}

/// The default [`RunOptions::grace`]: long enough for an agent to save its session.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            forward_signals: true,
            grace: DEFAULT_GRACE,
        }
    }
}

impl RunOptions {
    /// Options for embedders: no process-wide signal handling.
    pub fn embedded() -> Self {
        Self {
            forward_signals: false,
            grace: DEFAULT_GRACE,
        }
    }
}

/// What happened when a plan ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Runs launch plans. [`ProcessLauncher`] runs them as a child process with the terminal
/// inherited; a server can run them in a PTY, or a sandbox.
pub trait Launcher: Send + Sync + Debug {
    /// Writes the plan's files and starts the program. The caller may do other work while the
    /// agent runs (ringlet records the run's start then) and must call
    /// [`RunningAgent::wait`].
    fn start(
        &self,
        plan: &LaunchPlan,
        key: Option<&Secret>,
        options: RunOptions,
    ) -> Result<Box<dyn RunningAgent>>;

    /// Writes the plan's files, starts the program, waits for it.
    fn run(
        &self,
        plan: &LaunchPlan,
        key: Option<&Secret>,
        options: RunOptions,
    ) -> Result<RunOutcome> {
        self.start(plan, key, options)?.wait()
    }
}

/// An agent a [`Launcher`] started and nobody has waited for yet.
pub trait RunningAgent: Send + Debug {
    /// The agent's process id.
    fn pid(&self) -> u32;

    /// When the agent started.
    fn started_at(&self) -> DateTime<Utc>;

    /// Waits for the agent to end (forwarding signals meanwhile, when the run asked for it).
    fn wait(self: Box<Self>) -> Result<RunOutcome>;
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
