//! Running a plan as a plain child process that owns the terminal.

use std::process::Command;
use std::time::Instant;

use chrono::Utc;

use super::plan::LaunchPlan;
use super::{Launcher, RunOptions, RunOutcome, materialise};
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
    fn run(
        &self,
        plan: &LaunchPlan,
        key: Option<&Secret>,
        options: RunOptions,
    ) -> Result<RunOutcome> {
        std::fs::create_dir_all(&plan.home).map_err(|e| Error::io("creating", &plan.home, e))?;
        materialise(plan, key)?;

        let mut cmd = Command::new(&plan.program);
        cmd.args(&plan.args).current_dir(&plan.cwd);
        for var in &plan.env_remove {
            cmd.env_remove(var);
        }
        cmd.envs(&plan.env);
        if let (Some(secret), Some(key)) = (&plan.secret_env, key) {
            cmd.env(&secret.var, key.expose());
        }

        // Install the signal handling before the child exists, so no signal falls in between.
        let forwarder = if options.forward_signals {
            Some(signals::Forwarder::install()?)
        } else {
            None
        };
        let started_at = Utc::now();
        let clock = Instant::now();
        let mut child = cmd.spawn().map_err(|source| Error::Spawn {
            program: plan.program.clone(),
            source,
        })?;
        let pid = child.id();
        if let Some(f) = &forwarder {
            f.target(pid);
        }
        let status = child.wait().map_err(|source| Error::Spawn {
            program: plan.program.clone(),
            source,
        });
        drop(forwarder);
        let status = status?;
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

    use std::sync::Arc;
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::thread::JoinHandle;

    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};
    use signal_hook::iterator::{Handle, Signals};

    use crate::error::{Error, Result};

    pub struct Forwarder {
        handle: Handle,
        thread: Option<JoinHandle<()>>,
        pid: Arc<AtomicI32>,
    }

    impl Forwarder {
        pub fn install() -> Result<Self> {
            let mut signals = Signals::new([SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2])
                .map_err(|e| Error::io("installing signal handlers for", "ringlet", e))?;
            let handle = signals.handle();
            let pid = Arc::new(AtomicI32::new(0));
            let target = Arc::clone(&pid);
            let thread = std::thread::spawn(move || {
                for sig in signals.forever() {
                    // The terminal delivers SIGINT/SIGQUIT to the whole foreground group;
                    // forwarding them would hit the agent twice.
                    if sig == SIGINT || sig == SIGQUIT {
                        continue;
                    }
                    let pid = target.load(Ordering::SeqCst);
                    if pid > 0
                        && let Ok(signal) = Signal::try_from(sig)
                    {
                        let _ = kill(Pid::from_raw(pid), signal);
                    }
                }
            });
            Ok(Self {
                handle,
                thread: Some(thread),
                pid,
            })
        }

        pub fn target(&self, pid: u32) {
            self.pid
                .store(i32::try_from(pid).unwrap_or(0), Ordering::SeqCst);
        }
    }

    impl Drop for Forwarder {
        fn drop(&mut self) {
            self.handle.close();
            if let Some(t) = self.thread.take() {
                let _ = t.join();
            }
        }
    }
}

#[cfg(not(unix))]
mod signals {
    //! Console control events reach the child directly on Windows; nothing to forward.
    use crate::error::Result;

    pub struct Forwarder;

    impl Forwarder {
        pub fn install() -> Result<Self> {
            Ok(Self)
        }

        pub fn target(&self, _pid: u32) {}
    }
}
