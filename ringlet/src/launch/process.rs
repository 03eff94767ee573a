//! Starting the final command as a child process: with the caller's terminal (the CLI), with
//! pipes, or in a new pseudo-terminal.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::{
    AgentCommand, AgentSignaller, Launcher, PipedOutput, RunIo, RunOptions, RunOutcome,
    RunningAgent,
};
use crate::error::{Error, Result};

/// Starts the agent as a child process and reports its exit code.
#[derive(Debug, Default, Clone)]
pub struct ProcessLauncher;

impl ProcessLauncher {
    /// A launcher.
    pub fn new() -> Self {
        Self
    }
}

impl Launcher for ProcessLauncher {
    fn start(&self, command: &AgentCommand, options: &RunOptions) -> Result<Box<dyn RunningAgent>> {
        if let RunIo::Pty { rows, cols } = options.io {
            return pty_start(command, rows, cols);
        }
        let mut cmd = command.to_std();
        if options.io == RunIo::Piped {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        // Installed before the child exists, so no signal falls in between. The agent then leads
        // a process group of its own, so that a signal meant to end the run reaches everything
        // it started (see `signals`); embedders that handle signals themselves keep it in
        // theirs.
        let signals = if options.forward_signals {
            signals::own_process_group(&mut cmd);
            // Only an agent on the caller's terminal is handed that terminal.
            let terminal = options.io == RunIo::Inherit;
            Some(signals::Forwarder::install(options.grace, terminal)?)
        } else {
            None
        };
        let started_at = Utc::now();
        let clock = Instant::now();
        // Forked by the spawner thread: see `spawner` (bwrap's --die-with-parent).
        let child = super::spawner::on_spawner(move || cmd.spawn(), || Err(spawner_unavailable()))
            .map_err(|source| Error::Spawn {
                program: command.program.clone(),
                source,
            })?;
        let reaping = Arc::new(Reaping {
            pid: child.id(),
            group: signals.is_some(),
            program: command.program.clone(),
            reaped: Mutex::new(false),
        });
        Ok(Box::new(ChildAgent {
            child,
            reaping,
            signals,
            started_at,
            clock,
        }))
    }
}

#[cfg(unix)]
fn pty_start(command: &AgentCommand, rows: u16, cols: u16) -> Result<Box<dyn RunningAgent>> {
    let started_at = Utc::now();
    let clock = Instant::now();
    // Forked by the spawner thread: see `spawner` (bwrap's --die-with-parent).
    let owned = command.clone();
    let program = command.program.clone();
    let pty = super::spawner::on_spawner(
        move || super::PtyChild::spawn(&owned, rows, cols),
        || {
            Err(Error::Spawn {
                program,
                source: spawner_unavailable(),
            })
        },
    )?;
    let pty = Arc::new(pty);
    Ok(Box::new(PtyAgent {
        pty,
        started_at,
        clock,
    }))
}

#[cfg(not(unix))]
fn pty_start(_: &AgentCommand, _: u16, _: u16) -> Result<Box<dyn RunningAgent>> {
    Err(Error::InvalidInput(
        "runs in a pseudo-terminal need a Unix system".into(),
    ))
}

fn spawner_unavailable() -> std::io::Error {
    std::io::Error::other("ringlet's spawner thread could not be started or stopped answering")
}

/// A started child process.
#[derive(Debug)]
struct ChildAgent {
    child: Child,
    reaping: Arc<Reaping>,
    signals: Option<signals::Forwarder>,
    started_at: DateTime<Utc>,
    clock: Instant,
}

/// What the waiter and every signaller of one child share. Reaping and signalling both hold
/// `reaped`, so a signal never lands on a pid the agent no longer owns.
#[derive(Debug)]
struct Reaping {
    pid: u32,
    /// Whether the agent leads its own process group (then signals go to the group).
    group: bool,
    program: PathBuf,
    reaped: Mutex<bool>,
}

impl Reaping {
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.reaped.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn signal(&self, signal: i32) -> Result<()> {
        #[cfg(unix)]
        {
            use nix::sys::signal::{Signal, kill, killpg};
            use nix::unistd::Pid;
            let sig = Signal::try_from(signal)
                .map_err(|_| Error::InvalidInput(format!("{signal} is not a signal number")))?;
            let pid = i32::try_from(self.pid)
                .map(Pid::from_raw)
                .map_err(|_| Error::InvalidInput("the agent's pid does not fit".into()))?;
            let reaped = self.lock();
            if *reaped {
                return Ok(());
            }
            // An agent leading its own group gets the signal with everything it started, as
            // a forwarded one; otherwise it shares the caller's group, and only it is signalled.
            let sent = if self.group {
                killpg(pid, sig)
            } else {
                kill(pid, sig)
            };
            drop(reaped);
            match sent {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
                Err(e) => Err(Error::io("signalling", &self.program, e.into())),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = signal;
            Err(Error::InvalidInput("signals need a Unix system".into()))
        }
    }

    /// Waits for `child` (not forwarding anything) and reaps it under the lock.
    fn wait(&self, child: &mut Child) -> std::io::Result<i32> {
        loop {
            until_exited(child)?;
            let mut reaped = self.lock();
            if let Some(status) = child.try_wait()? {
                *reaped = true;
                return Ok(exit_code(status));
            }
        }
    }
}

/// Blocks until `child` has exited, without reaping it (`waitid` with `WNOWAIT`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn until_exited(child: &Child) -> std::io::Result<()> {
    use nix::sys::wait::{Id, WaitPidFlag, waitid};
    let pid = i32::try_from(child.id())
        .map(nix::unistd::Pid::from_raw)
        .map_err(|_| std::io::Error::other("the agent's pid does not fit a pid_t"))?;
    match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Without `waitid(WNOWAIT)` here: a short sleep, then the caller looks again.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn until_exited(_: &Child) -> std::io::Result<()> {
    std::thread::sleep(std::time::Duration::from_millis(10));
    Ok(())
}

impl RunningAgent for ChildAgent {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn signal(&self, signal: i32) -> Result<()> {
        self.reaping.signal(signal)
    }

    fn signaller(&self) -> Option<AgentSignaller> {
        let reaping = Arc::clone(&self.reaping);
        Some(AgentSignaller::new(move |sig| reaping.signal(sig)))
    }

    fn take_output(&mut self) -> Option<PipedOutput> {
        Some(PipedOutput {
            stdout: self.child.stdout.take()?,
            stderr: self.child.stderr.take()?,
        })
    }

    fn wait(self: Box<Self>) -> Result<RunOutcome> {
        let Self {
            mut child,
            reaping,
            signals,
            started_at,
            clock,
        } = *self;
        let pid = child.id();
        let code = match signals {
            Some(mut forwarder) => forwarder.wait(&mut child, &reaping.reaped),
            None => reaping.wait(&mut child),
        }
        .map_err(|source| Error::Spawn {
            program: reaping.program.clone(),
            source,
        })?;
        Ok(RunOutcome {
            exit_code: code,
            started_at,
            ended_at: Utc::now(),
            duration: clock.elapsed(),
            pid,
        })
    }
}

/// An agent in its own pseudo-terminal.
#[cfg(unix)]
#[derive(Debug)]
struct PtyAgent {
    /// Shared with the signallers: `PtyChild` signals and reaps under one lock itself.
    pty: Arc<super::PtyChild>,
    started_at: DateTime<Utc>,
    clock: Instant,
}

#[cfg(unix)]
impl RunningAgent for PtyAgent {
    fn pid(&self) -> u32 {
        self.pty.pid()
    }

    fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    fn signal(&self, signal: i32) -> Result<()> {
        self.pty.signal(signal)
    }

    fn signaller(&self) -> Option<AgentSignaller> {
        let pty = Arc::clone(&self.pty);
        Some(AgentSignaller::new(move |sig| pty.signal(sig)))
    }

    fn pty(&self) -> Option<&super::PtyChild> {
        Some(&self.pty)
    }

    fn wait(self: Box<Self>) -> Result<RunOutcome> {
        let exit_code = self.pty.wait()?;
        Ok(RunOutcome {
            exit_code,
            started_at: self.started_at,
            ended_at: Utc::now(),
            duration: self.clock.elapsed(),
            pid: self.pty.pid(),
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
    //! While the agent runs, signals sent to ringlet must reach the agent and everything it
    //! started, and a run asked to end must end: no child may outlive it.
    //!
    //! **Process groups.** The agent leads a process group of its own. Sharing ringlet's group
    //! would leave nothing safe to signal as a whole: that group is the caller's job, and when
    //! ringlet is started by a script without job control it also holds the script and its
    //! parent, which a group-wide SIGTERM would kill. Its own group holds exactly the agent and
    //! its descendants (shells its tools run, MCP servers), so every signal ringlet forwards goes
    //! to the whole group (`killpg`), and after SIGTERM or SIGHUP whatever is still there when
    //! the grace period ends gets SIGKILL — also the children left behind by an agent that did
    //! exit.
    //!
    //! **The terminal.** A process group of its own is a background group, and an interactive
    //! agent needs the terminal: reading it, or switching it to raw mode, from the background
    //! stops it (SIGTTIN/SIGTTOU), and resizes (SIGWINCH) and the keyboard's Ctrl-C go to the
    //! foreground group only. So when ringlet's group is the terminal's foreground group,
    //! ringlet makes the agent's group the foreground group (`tcsetpgrp`) right after starting
    //! it, and takes the terminal back when the agent ends, as a shell does for a job. The agent
    //! may touch the terminal before the hand-over; it is then stopped by SIGTTIN/SIGTTOU, so a
    //! SIGCONT to its group follows the hand-over and it carries on, now in the foreground.
    //! Taking the terminal back happens from the background, which would stop ringlet with
    //! SIGTTOU unless it is blocked: it is, in this thread, for that call.
    //!
    //! **Job control.** When the agent stops for the terminal (Ctrl-Z's SIGTSTP, or SIGTTIN /
    //! SIGTTOU as a background job), ringlet takes the terminal back and stops itself with the
    //! same signal, so the user's shell sees its job stopped and gets the terminal; on `fg` the
    //! shell continues ringlet, which hands the terminal to the agent again and continues it.
    //! A run started in the background (`&`) and brought to the foreground with `fg` learns it
    //! from its SIGCONT and hands the terminal over then. Without a terminal there is no job
    //! control, and a stopped agent is simply waited for.
    //!
    //! Since the terminal's Ctrl-C and Ctrl-\ now reach the agent's group alone, SIGINT and
    //! SIGQUIT that reach ringlet were sent to it on purpose, and are forwarded like the rest.
    //! The waiting thread does all of this: SIGCHLD joins the forwarded signals, so one blocking
    //! read of signal-hook's self-pipe wakes it for either, and no extra thread is started,
    //! which on a short run costs more than the run.

    use std::io::{self, IsTerminal};
    use std::os::fd::AsFd;
    use std::process::{Child, Command};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use nix::errno::Errno;
    use nix::sys::signal::{SigSet, SigmaskHow, Signal, killpg, pthread_sigmask, raise};
    use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
    use nix::unistd::{Pid, getpgrp, tcgetpgrp, tcsetpgrp};
    use signal_hook::consts::{
        SIGCHLD, SIGCONT, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
    };
    use signal_hook::iterator::Signals;

    use crate::error::{Error, Result};

    /// How often the group is looked at while a grace period runs.
    const POLL: Duration = Duration::from_millis(20);

    /// Makes the command's process lead a new process group.
    pub fn own_process_group(cmd: &mut Command) {
        std::os::unix::process::CommandExt::process_group(cmd, 0);
    }

    /// Which of ringlet's standard streams is its controlling terminal.
    #[derive(Debug, Clone, Copy)]
    enum Tty {
        Stdin,
        Stdout,
        Stderr,
    }

    impl Tty {
        /// The first standard stream that is the controlling terminal, if any.
        fn find() -> Option<Self> {
            [Tty::Stdin, Tty::Stdout, Tty::Stderr]
                .into_iter()
                .find(|t| t.is_terminal() && t.foreground().is_ok())
        }

        fn is_terminal(self) -> bool {
            match self {
                Tty::Stdin => io::stdin().is_terminal(),
                Tty::Stdout => io::stdout().is_terminal(),
                Tty::Stderr => io::stderr().is_terminal(),
            }
        }

        fn foreground(self) -> nix::Result<Pid> {
            match self {
                Tty::Stdin => tcgetpgrp(io::stdin().as_fd()),
                Tty::Stdout => tcgetpgrp(io::stdout().as_fd()),
                Tty::Stderr => tcgetpgrp(io::stderr().as_fd()),
            }
        }

        fn set_foreground(self, group: Pid) -> nix::Result<()> {
            match self {
                Tty::Stdin => tcsetpgrp(io::stdin().as_fd(), group),
                Tty::Stdout => tcsetpgrp(io::stdout().as_fd(), group),
                Tty::Stderr => tcsetpgrp(io::stderr().as_fd(), group),
            }
        }
    }

    #[derive(Debug)]
    pub struct Forwarder {
        signals: Signals,
        grace: Duration,
        tty: Option<Tty>,
    }

    impl Forwarder {
        pub fn install(grace: Duration, terminal: bool) -> Result<Self> {
            let signals = Signals::new([
                SIGCHLD, SIGCONT, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2,
            ])
            .map_err(|e| Error::io("installing signal handlers for", "ringlet", e))?;
            Ok(Self {
                signals,
                grace,
                tty: if terminal { Tty::find() } else { None },
            })
        }

        /// Hands the terminal to the agent's group when ringlet's group has it, then continues
        /// the group (in case it touched the terminal before). Whether it was handed over.
        fn hand_over(&self, group: Pid) -> bool {
            let Some(tty) = self.tty else {
                return false;
            };
            if tty.foreground() != Ok(getpgrp()) {
                return false;
            }
            let handed = tty.set_foreground(group).is_ok();
            let _ = killpg(group, Signal::SIGCONT);
            handed
        }

        /// Takes the terminal back for ringlet's group, from the background.
        fn take_back(&self) {
            let Some(tty) = self.tty else {
                return;
            };
            let mut ttou = SigSet::empty();
            ttou.add(Signal::SIGTTOU);
            let mut before = SigSet::empty();
            if pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&ttou), Some(&mut before)).is_ok() {
                let _ = tty.set_foreground(getpgrp());
                let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&before), None);
            }
        }

        /// Forwards signals to the agent's group until the agent has ended (and, when the run
        /// was asked to end, its group with it), and returns its exit code: the code, or 128 +
        /// the signal that killed it.
        pub fn wait(&mut self, child: &mut Child, reaped: &Mutex<bool>) -> io::Result<i32> {
            let leader = i32::try_from(child.id())
                .map(Pid::from_raw)
                .map_err(|_| io::Error::other("the agent's pid does not fit a pid_t"))?;
            let mut handed = self.hand_over(leader);
            let mut code: Option<i32> = None;
            // Set when SIGTERM or SIGHUP was forwarded: the group is SIGKILLed then.
            let mut kill_at: Option<Instant> = None;
            let result = loop {
                if code.is_none() {
                    // Reaped under the signallers' lock (see `Reaping`).
                    let status = {
                        let mut reaped = reaped.lock().unwrap_or_else(|p| p.into_inner());
                        let status =
                            waitpid(leader, Some(WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED));
                        if matches!(
                            status,
                            Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..))
                        ) {
                            *reaped = true;
                        }
                        status
                    };
                    match status {
                        Ok(WaitStatus::Exited(_, c)) => code = Some(c),
                        Ok(WaitStatus::Signaled(_, sig, _)) => code = Some(128 + sig as i32),
                        Ok(WaitStatus::Stopped(_, sig))
                            if self.tty.is_some()
                                && matches!(
                                    sig,
                                    Signal::SIGTSTP | Signal::SIGTTIN | Signal::SIGTTOU
                                ) =>
                        {
                            if !handed && self.hand_over(leader) {
                                // It wanted the terminal, which ringlet's group has by now
                                // (brought to the foreground): handed over and continued.
                                handed = true;
                            } else {
                                // Suspend the run as a whole: the shell sees ringlet's job stop.
                                if handed {
                                    self.take_back();
                                }
                                let _ = raise(sig);
                                // Continued (`fg`, `bg`): the agent carries on too.
                                handed = self.hand_over(leader);
                                if !handed {
                                    let _ = killpg(leader, Signal::SIGCONT);
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(Errno::EINTR) => continue,
                        Err(e) => break Err(io::Error::from(e)),
                    }
                    if code.is_some() && handed {
                        self.take_back();
                        handed = false;
                    }
                }
                let now = Instant::now();
                if let Some(c) = code {
                    // After a normal end, what the agent left running is its business (a
                    // server it started on purpose); after a request to end, nothing stays.
                    match kill_at {
                        None => break Ok(c),
                        Some(_) if killpg(leader, None).is_err() => break Ok(c),
                        Some(deadline) if now >= deadline => {
                            let _ = killpg(leader, Signal::SIGKILL);
                            break Ok(c);
                        }
                        Some(_) => {}
                    }
                } else if let Some(deadline) = kill_at
                    && now >= deadline
                {
                    let _ = killpg(leader, Signal::SIGKILL);
                    // The agent dies now; waitpid reports it on the next SIGCHLD.
                    kill_at = None;
                }
                let arrived: Vec<i32> = match kill_at {
                    // A grace period runs: look again every POLL until it ends.
                    Some(deadline) => {
                        let pending = self.signals.pending().collect();
                        std::thread::sleep(POLL.min(deadline.saturating_duration_since(now)));
                        pending
                    }
                    None => self.signals.wait().collect(),
                };
                for sig in arrived {
                    match sig {
                        // Only means "look again".
                        SIGCHLD => {}
                        // ringlet was continued: by `fg` after running in the background, it
                        // now has the terminal and the agent must get it.
                        SIGCONT => {
                            if !handed && code.is_none() {
                                handed = self.hand_over(leader);
                            }
                        }
                        _ => {
                            if let Ok(signal) = Signal::try_from(sig) {
                                let _ = killpg(leader, signal);
                            }
                            if (sig == SIGTERM || sig == SIGHUP) && kill_at.is_none() {
                                kill_at = Some(Instant::now() + self.grace);
                            }
                        }
                    }
                }
            };
            if handed {
                self.take_back();
            }
            result
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
    use std::process::{Child, Command};
    use std::time::Duration;

    use crate::error::Result;

    pub fn own_process_group(_cmd: &mut Command) {}

    #[derive(Debug)]
    pub struct Forwarder;

    impl Forwarder {
        pub fn install(_grace: Duration, _terminal: bool) -> Result<Self> {
            Ok(Self)
        }

        pub fn wait(
            &mut self,
            child: &mut Child,
            _reaped: &std::sync::Mutex<bool>,
        ) -> std::io::Result<i32> {
            child.wait().map(super::exit_code)
        }
    }
}
