//! Running a plan as a plain child process that owns the terminal.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::plan::LaunchPlan;
use super::{Launcher, RunOptions, RunOutcome, RunningAgent, materialise};
use crate::credentials::Secret;
use crate::error::{Error, Result};

/// Runs the agent as a child with inherited stdio, waits for it, and reports its exit code.
#[derive(Debug, Default, Clone)]
pub struct ProcessLauncher;

impl ProcessLauncher {
    /// A launcher.
    pub fn new() -> Self {
        Self
    }
}

impl Launcher for ProcessLauncher {
    fn start(
        &self,
        plan: &LaunchPlan,
        key: Option<&Secret>,
        options: RunOptions,
    ) -> Result<Box<dyn RunningAgent>> {
        std::fs::create_dir_all(&plan.home).map_err(|e| Error::io("creating", &plan.home, e))?;
        materialise(plan, key)?;

        let mut cmd = Command::new(&plan.program);
        cmd.args(&plan.args).current_dir(&plan.cwd);
        for var in &plan.env_remove {
            cmd.env_remove(var);
        }
        // Removal by prefix needs the names actually inherited (`RINGLET_KEY_*`: other
        // profiles' keys, which the agent must never see).
        for (name, _) in std::env::vars_os() {
            if plan.removes(&name) {
                cmd.env_remove(name);
            }
        }
        cmd.envs(&plan.env);
        if let (Some(secret), Some(key)) = (&plan.secret_env, key) {
            cmd.env(&secret.var, key.expose());
        }

        // Installed before the child exists, so no signal falls in between.
        let signals = if options.forward_signals {
            Some(signals::Forwarder::install()?)
        } else {
            None
        };
        let started_at = Utc::now();
        let clock = Instant::now();
        let child = cmd.spawn().map_err(|source| Error::Spawn {
            program: plan.program.clone(),
            source,
        })?;
        Ok(Box::new(ChildAgent {
            child,
            program: plan.program.clone(),
            signals,
            started_at,
            clock,
        }))
    }
}

/// A started child process.
#[derive(Debug)]
struct ChildAgent {
    child: Child,
    program: PathBuf,
    signals: Option<signals::Forwarder>,
    started_at: DateTime<Utc>,
    clock: Instant,
}

impl RunningAgent for ChildAgent {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn wait(self: Box<Self>) -> Result<RunOutcome> {
        let Self {
            mut child,
            program,
            signals,
            started_at,
            clock,
        } = *self;
        let pid = child.id();
        let status = match signals {
            Some(mut forwarder) => forwarder.wait(&mut child),
            None => child.wait(),
        }
        .map_err(|source| Error::Spawn { program, source })?;
        Ok(RunOutcome {
            exit_code: exit_code(status),
            started_at,
            ended_at: Utc::now(),
            duration: clock.elapsed(),
            pid,
        })
    }
}

/// The exit code a shell would report: the code, or 128 + the signal that killed the agent.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig;
        }
    }
    1
}

#[cfg(unix)]
mod signals {
    //! While the agent runs, ringlet must not die of the terminal's SIGINT (the agent gets it
    //! too and decides what it means), and signals sent to ringlet itself must reach the agent.
    //! The waiting thread does both: SIGCHLD joins the forwarded signals, so one blocking read
    //! of signal-hook's self-pipe wakes it for either, and no extra thread is started, which
    //! on a short run costs more than the run (a thread's start and join are two cross-CPU
    //! wake-ups).

    use std::io;
    use std::process::{Child, ExitStatus};

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    use signal_hook::iterator::Signals;

    use crate::error::{Error, Result};

    #[derive(Debug)]
    pub struct Forwarder {
        signals: Signals,
    }

    impl Forwarder {
        pub fn install() -> Result<Self> {
            let signals =
                Signals::new([SIGCHLD, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2])
                    .map_err(|e| Error::io("installing signal handlers for", "ringlet", e))?;
            Ok(Self { signals })
        }

        /// Forwards signals to `child` until it ends. SIGCHLD can come from another child of
        /// this process too, so it only means "look again".
        pub fn wait(&mut self, child: &mut Child) -> io::Result<ExitStatus> {
            let pid = i32::try_from(child.id()).ok().map(Pid::from_raw);
            loop {
                if let Some(status) = child.try_wait()? {
                    return Ok(status);
                }
                for sig in self.signals.wait() {
                    // The terminal delivers SIGINT/SIGQUIT to the whole foreground group;
                    // forwarding them would hit the agent twice.
                    if matches!(sig, SIGCHLD | SIGINT | SIGQUIT) {
                        continue;
                    }
                    if let (Some(pid), Ok(signal)) = (pid, Signal::try_from(sig)) {
                        let _ = kill(pid, signal);
                    }
                }
            }
        }
    }

    impl Drop for Forwarder {
        fn drop(&mut self) {
            // Restores the handlers that were there before.
            self.signals.handle().close();
        }
    }
}

#[cfg(not(unix))]
mod signals {
    //! Console control events reach the child directly on Windows; nothing to forward.
    use crate::error::Result;

    #[derive(Debug)]
    pub struct Forwarder;

    impl Forwarder {
        pub fn install() -> Result<Self> {
            Ok(Self)
        }

        pub fn wait(&mut self, child: &mut Child) -> std::io::Result<ExitStatus> {
            child.wait()
        }
    }
}
