//! Running an [`AgentCommand`] in a new pseudo-terminal (portable-pty), for callers that are
//! not a terminal themselves: a server's interactive runs, remote terminal sessions.
//!
//! The child is a session leader with the PTY as its controlling terminal, so its process
//! group id is its pid: [`PtyChild::signal`] reaches the agent and everything it started in its
//! group, and a resize reaches it as SIGWINCH from the kernel.
//!
//! The agent is reaped only under the lock that signalling takes, so a signal never lands on a
//! recycled pid; on Linux [`PtyChild::wait`] sleeps in `waitid(WNOWAIT)` until the agent exits
//! and only then reaps it under that lock.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};

use super::command::AgentCommand;
use crate::error::{Error, Result};

/// An agent running in its own pseudo-terminal.
///
/// All methods take `&self`, so one thread can block in [`wait`](Self::wait) while another
/// resizes, writes or kills (share it in an `Arc`).
///
/// **Drop:** if the agent has not been reaped yet (no `wait`/`try_wait` saw it exit), dropping
/// the `PtyChild` sends SIGKILL to its process group and reaps it, so it never leaves a zombie
/// or a running agent behind. To let an agent shut down cleanly, send it SIGHUP or SIGTERM
/// with [`signal`](Self::signal) and [`wait`](Self::wait) first. Readers taken from it may
/// outlive it: they drain what the agent wrote, then report end of file.
pub struct PtyChild {
    pid: Pid,
    program: PathBuf,
    /// Shared with [`PtyResizer`]s, which resize the terminal while another thread waits.
    master: Arc<Mutex<Box<dyn MasterPty + Send>>>,
    /// The master's one writer. Kept here rather than handed out because portable-pty's writer
    /// types a newline and ^D into the terminal when dropped: a caller dropping its handle must
    /// not press Enter in the agent's prompt.
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    /// The exit code once the agent is reaped. Reaping and signalling both hold this lock.
    exit: Mutex<Option<i32>>,
}

impl PtyChild {
    /// Starts `command` in a new pseudo-terminal of `rows` × `cols`.
    ///
    /// The child's environment is exactly `command.env`, with one addition portable-pty makes:
    /// when `env` has no `SHELL`, the user's login shell from the password database is set
    /// (never ringlet's own `SHELL`). Nothing sets `TERM` either: give one (e.g.
    /// `xterm-256color`) if the agent draws a TUI. A missing working directory is an error
    /// (portable-pty alone would quietly start in HOME instead).
    pub fn spawn(command: &AgentCommand, rows: u16, cols: u16) -> Result<Self> {
        let program = command.program.clone();
        match std::fs::metadata(&command.cwd) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(Error::io(
                    "using as the working directory",
                    &command.cwd,
                    io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
                ));
            }
            Err(e) => return Err(Error::io("using as the working directory", &command.cwd, e)),
        }

        let mut builder = CommandBuilder::new(command.program.as_os_str());
        builder.args(&command.args);
        builder.env_clear();
        for (name, value) in command.resolved_env() {
            builder.env(name, value);
        }
        builder.cwd(command.cwd.as_os_str());

        let spawn_error = |context: &str, e: anyhow::Error| Error::Spawn {
            program: program.clone(),
            source: pty_io(context, e),
        };
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| spawn_error("opening a pseudo-terminal", e))?;
        let child = pair
            .slave
            .spawn_command(builder)
            .map_err(|e| spawn_error("", e))?;
        // Our copy of the terminal's slave end must go now: the master reads EOF only once
        // every holder of the slave has closed it, and that must mean "the agent is gone".
        drop(pair.slave);
        let pid = child
            .process_id()
            .and_then(|p| i32::try_from(p).ok())
            .map(Pid::from_raw);
        let Some(pid) = pid else {
            return Err(Error::Spawn {
                program,
                source: io::Error::other("the pseudo-terminal's child has no process id"),
            });
        };
        // `child` is a `std::process::Child`; dropping it neither kills nor waits, and this
        // type reaps the pid itself (see the module doc).
        drop(child);
        let writer = match pair.master.take_writer() {
            Ok(writer) => writer,
            Err(e) => {
                let _ = killpg(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
                return Err(spawn_error("opening the terminal for writing", e));
            }
        };
        Ok(Self {
            pid,
            program,
            master: Arc::new(Mutex::new(pair.master)),
            writer: Arc::new(Mutex::new(writer)),
            exit: Mutex::new(None),
        })
    }

    /// The agent's process id (also its process group and session id).
    pub fn pid(&self) -> u32 {
        self.pid.as_raw().unsigned_abs()
    }

    /// A new reader of the terminal's output (what the agent writes). It reports end of file
    /// once every process holding the terminal has closed it — normally when the agent exits
    /// (the kernel hangs up its foreground group then); a descendant that ignores SIGHUP and
    /// keeps the terminal open keeps the reader open until [`kill`](Self::kill) or its exit.
    /// Each reader is its own file descriptor; two readers split the output between them.
    pub fn reader(&self) -> Result<PtyReader> {
        let reader = lock(&self.master)
            .try_clone_reader()
            .map_err(|e| self.pty_error("reading the terminal of", e))?;
        Ok(PtyReader { inner: reader })
    }

    /// A writer of the terminal's input (what the agent reads, as if typed). Handles share one
    /// descriptor; dropping one sends nothing to the agent.
    pub fn writer(&self) -> PtyWriter {
        PtyWriter {
            inner: Arc::clone(&self.writer),
        }
    }

    /// Sets the terminal's size; the kernel sends SIGWINCH to the agent's foreground group.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<()> {
        self.resizer().resize(rows, cols)
    }

    /// A way to resize the terminal from any thread, also once the [`PtyChild`] has moved into
    /// a waiting thread (a binding whose `wait()` runs on a worker while the caller resizes).
    pub fn resizer(&self) -> PtyResizer {
        PtyResizer {
            master: Arc::clone(&self.master),
            program: self.program.clone(),
        }
    }

    /// The terminal's size as `(rows, cols)`.
    pub fn size(&self) -> Result<(u16, u16)> {
        let size = lock(&self.master)
            .get_size()
            .map_err(|e| self.pty_error("reading the terminal size of", e))?;
        Ok((size.rows, size.cols))
    }

    /// Sends signal number `signal` (e.g. 15 for SIGTERM) to the agent's process group. Once
    /// the agent has been reaped this does nothing: its pid may already belong to another
    /// process.
    pub fn signal(&self, signal: i32) -> Result<()> {
        let sig = Signal::try_from(signal).map_err(|_| {
            self.io_error(
                "signalling",
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{signal} is not a signal number on this system"),
                ),
            )
        })?;
        let exit = lock(&self.exit);
        if exit.is_some() {
            return Ok(());
        }
        match killpg(self.pid, sig) {
            // Unreaped, the agent is at least a zombie in its group; ESRCH would mean it was
            // reaped behind our back, so there is nothing left to signal.
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(e) => Err(self.io_error("signalling", io::Error::from(e))),
        }
    }

    /// Sends SIGKILL to the agent's process group. [`wait`](Self::wait) then reports 137.
    pub fn kill(&self) -> Result<()> {
        self.signal(Signal::SIGKILL as i32)
    }

    /// The agent's exit code if it has ended (reaping it), `None` while it runs. The code is
    /// 128 + N when signal N killed it, as a shell reports it.
    pub fn try_wait(&self) -> Result<Option<i32>> {
        let mut exit = lock(&self.exit);
        if let Some(code) = *exit {
            return Ok(Some(code));
        }
        let code = loop {
            match waitpid(self.pid, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(_, code)) => break Some(code),
                Ok(WaitStatus::Signaled(_, sig, _)) => break Some(128 + sig as i32),
                Ok(_) => break None,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(self.wait_error(e)),
            }
        };
        *exit = code;
        Ok(code)
    }

    /// Waits for the agent to end and returns its exit code (128 + N for a death by signal N).
    /// Any number of threads may wait at once; all get the same code.
    pub fn wait(&self) -> Result<i32> {
        let mut round: u32 = 0;
        loop {
            if let Some(code) = self.try_wait()? {
                return Ok(code);
            }
            self.until_exited(round)?;
            round = round.saturating_add(1);
        }
    }

    /// Blocks until the agent has exited, without reaping it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn until_exited(&self, _round: u32) -> Result<()> {
        use nix::sys::wait::{Id, waitid};
        match waitid(
            Id::Pid(self.pid),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        ) {
            Ok(_) | Err(Errno::EINTR) => Ok(()),
            // Another waiter reaped it between our try_wait and here: try_wait reports it.
            Err(Errno::ECHILD) if lock(&self.exit).is_some() => Ok(()),
            Err(e) => Err(self.wait_error(e)),
        }
    }

    /// Waits a while for the agent to exit, without reaping it. Without `waitid(WNOWAIT)` in
    /// nix on this system, this polls: 5 ms at first, backing off to 100 ms.
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn until_exited(&self, round: u32) -> Result<()> {
        let ms = 5u64.saturating_mul(1 << round.min(5)).min(100);
        std::thread::sleep(std::time::Duration::from_millis(ms));
        Ok(())
    }

    fn io_error(&self, action: &'static str, e: io::Error) -> Error {
        Error::io(action, &self.program, e)
    }

    fn pty_error(&self, action: &'static str, e: anyhow::Error) -> Error {
        self.io_error(action, pty_io("", e))
    }

    fn wait_error(&self, e: Errno) -> Error {
        Error::Spawn {
            program: self.program.clone(),
            source: io::Error::from(e),
        }
    }
}

impl Drop for PtyChild {
    fn drop(&mut self) {
        // Only a child known to be unreaped is signalled: after an error here (ECHILD: someone
        // else reaped it) its pid may belong to another process.
        if let Ok(None) = self.try_wait() {
            let _ = killpg(self.pid, Signal::SIGKILL);
            // SIGKILL cannot be caught, so this returns promptly.
            let _ = self.wait();
        }
    }
}

impl fmt::Debug for PtyChild {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyChild")
            .field("pid", &self.pid.as_raw())
            .field("program", &self.program)
            .field("exit", &*lock(&self.exit))
            .finish_non_exhaustive()
    }
}

/// Resizes a [`PtyChild`]'s terminal ([`PtyChild::resizer`]). Clones share the terminal;
/// after the agent has ended a resize changes nothing anyone sees.
#[derive(Clone)]
pub struct PtyResizer {
    master: Arc<Mutex<Box<dyn MasterPty + Send>>>,
    program: PathBuf,
}

impl PtyResizer {
    /// Sets the terminal's size; the kernel sends SIGWINCH to the agent's foreground group.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<()> {
        lock(&self.master)
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| Error::io("resizing the terminal of", &self.program, pty_io("", e)))
    }
}

impl fmt::Debug for PtyResizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyResizer").finish_non_exhaustive()
    }
}

/// Output of a [`PtyChild`]'s terminal. End of file (not an error) once the terminal is closed
/// on the agent's side, including Linux's EIO for a hung-up terminal.
pub struct PtyReader {
    inner: Box<dyn Read + Send>,
}

impl Read for PtyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // portable-pty already turns EIO into end of file; this keeps it so if it ever stops.
        match self.inner.read(buf) {
            Err(e) if e.raw_os_error() == Some(Errno::EIO as i32) => Ok(0),
            other => other,
        }
    }
}

impl fmt::Debug for PtyReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyReader").finish_non_exhaustive()
    }
}

/// Input to a [`PtyChild`]'s terminal. Clones share one descriptor.
#[derive(Clone)]
pub struct PtyWriter {
    inner: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl Write for PtyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.inner).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        lock(&self.inner).flush()
    }
}

impl fmt::Debug for PtyWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PtyWriter").finish_non_exhaustive()
    }
}

/// Locks, ignoring poisoning: every value guarded here stays consistent even if a holder
/// panicked (a descriptor, or an exit code written in one store).
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// portable-pty's `anyhow` error as an `io::Error`, keeping the OS error's kind when there is
/// one, with `context` (if any) in front of the message.
fn pty_io(context: &str, e: anyhow::Error) -> io::Error {
    let (kind, message) = match e.downcast::<io::Error>() {
        Ok(io) => (io.kind(), io.to_string()),
        Err(other) => (io::ErrorKind::Other, format!("{other:#}")),
    };
    if context.is_empty() {
        io::Error::new(kind, message)
    } else {
        io::Error::new(kind, format!("{context}: {message}"))
    }
}
