//! This terminal as a remote session's terminal: raw mode while attached, every key forwarded
//! (Ctrl-] detaches), the window size sent at the start and on every SIGWINCH, the output
//! written as it comes, and the remote agent's exit code as ringlet's.

use std::io::{IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;

use ringlet_server::client::{Attachment, TerminalEvent};

use crate::output::errln;

/// The detach key: Ctrl-] (as telnet's escape), which no agent TUI binds.
pub const DETACH_KEY: u8 = 0x1d;

/// This terminal's size (rows, columns); 24 × 80 when stdout is no terminal.
pub fn size() -> (u16, u16) {
    let out = std::io::stdout();
    rustix::termios::tcgetwinsize(out.as_fd())
        .ok()
        .filter(|w| w.ws_row > 0 && w.ws_col > 0)
        .map(|w| (w.ws_row, w.ws_col))
        .unwrap_or((24, 80))
}

/// Stdin in raw mode until dropped (when stdin is a terminal).
struct RawMode {
    saved: Option<rustix::termios::Termios>,
}

impl RawMode {
    fn enter() -> Self {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Self { saved: None };
        }
        let fd = stdin.as_fd();
        let Ok(saved) = rustix::termios::tcgetattr(fd) else {
            return Self { saved: None };
        };
        let mut raw = saved.clone();
        raw.make_raw();
        if rustix::termios::tcsetattr(fd, rustix::termios::OptionalActions::Now, &raw).is_err() {
            return Self { saved: None };
        }
        Self { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let stdin = std::io::stdin();
            let _ = rustix::termios::tcsetattr(
                stdin.as_fd(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}

/// How the attachment ended.
enum Ending {
    Exit { state: String, code: i32 },
    Detached,
    Dropped(String),
    Lost(String),
}

/// Runs this terminal as the session's until the agent exits (ringlet exits with its code),
/// the user detaches (0) or the connection ends (1).
pub fn drive(attachment: Attachment, remote: &str) -> anyhow::Result<ExitCode> {
    let session = attachment.session().clone();
    let input = attachment.input();
    let read_only = attachment.read_only();
    let raw = RawMode::enter();
    if !read_only {
        let (rows, cols) = size();
        input.resize(rows, cols);
        // SIGWINCH: the new size to the remote terminal.
        if let Ok(mut signals) =
            signal_hook::iterator::Signals::new([signal_hook::consts::SIGWINCH])
        {
            let resize = input.clone();
            std::thread::spawn(move || {
                for _ in signals.forever() {
                    let (rows, cols) = size();
                    if !resize.resize(rows, cols) {
                        return;
                    }
                }
            });
        }
    }
    // Keys: forwarded as read (raw mode gives them one by one); Ctrl-] detaches.
    let keys = input.clone();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            let n = match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            let (before, detach) = match chunk.iter().position(|&b| b == DETACH_KEY) {
                Some(at) => (&chunk[..at], true),
                None => (chunk, false),
            };
            if !read_only && !before.is_empty() && !keys.keys(before) {
                return;
            }
            if detach {
                keys.detach();
                return;
            }
        }
    });

    let mut out = std::io::stdout().lock();
    let mut ending = Ending::Lost("the connection closed".into());
    while let Some(event) = attachment.next() {
        let written = match event {
            TerminalEvent::Output(bytes) => out.write_all(&bytes).and_then(|()| out.flush()),
            // A full reset (RIS), then the screen as it is now.
            TerminalEvent::Resync(bytes) => out
                .write_all(b"\x1bc")
                .and_then(|()| out.write_all(&bytes))
                .and_then(|()| out.flush()),
            TerminalEvent::Exit { state, exit_code } => {
                ending = Ending::Exit {
                    state,
                    code: exit_code,
                };
                Ok(())
            }
            TerminalEvent::Dropped { reason } => {
                ending = Ending::Dropped(reason);
                Ok(())
            }
            TerminalEvent::Closed { reason } => {
                if reason == "detached" {
                    ending = Ending::Detached;
                } else if matches!(ending, Ending::Lost(_)) {
                    ending = Ending::Lost(reason);
                }
                break;
            }
            _ => Ok(()),
        };
        if written.is_err() {
            input.detach();
        }
    }
    drop(out);
    drop(raw);
    let id = &session.id;
    Ok(match ending {
        Ending::Exit { state, code } => {
            if state != "exited" {
                errln!("\r\nringlet: session {id} was {state} (exit code {code}).");
            }
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Ending::Detached => {
            errln!(
                "\r\nringlet: detached from session {id}; it keeps running. Attach again with `ringlet remotes attach {remote} {id}`."
            );
            ExitCode::SUCCESS
        }
        Ending::Dropped(reason) => {
            errln!("\r\nringlet: {reason}");
            ExitCode::from(1)
        }
        Ending::Lost(reason) => {
            errln!(
                "\r\nringlet: the connection to session {id} ended ({reason}); it may still run: `ringlet remotes sessions {remote}`."
            );
            ExitCode::from(1)
        }
    })
}
