//! `PtyChild` against real pseudo-terminals. The "interactive agent" of each test is a small
//! `sh` script (`stty size`, `trap … WINCH`, `read`), so no other crate's binary is needed.
#![cfg(unix)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use ringlet::{AgentCommand, Error, PtyChild};

/// Long enough for a loaded machine; every wait below fails the test after it, never hangs.
const TIMEOUT: Duration = Duration::from_secs(20);

/// `sh -c script` with a minimal, fully given environment.
fn script(script: &str) -> AgentCommand {
    script_in(Path::new("/"), script)
}

fn script_in(cwd: &Path, script: &str) -> AgentCommand {
    AgentCommand::new("/bin/sh", cwd)
        .arg("-c")
        .arg(script)
        .env("PATH", "/usr/bin:/bin")
        .env("SHELL", "/bin/sh")
        .env("TERM", "dumb")
}

/// The terminal's output, read on a thread, collected as it arrives.
struct Output {
    chunks: Receiver<Vec<u8>>,
    seen: String,
    ended: bool,
}

impl Output {
    fn of(child: &PtyChild) -> Self {
        let mut reader = child.reader().expect("reader");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                    Err(e) => panic!("reading the terminal: {e}"),
                }
            }
            // Dropping `tx` tells the test the reader reached end of file.
        });
        Self {
            chunks: rx,
            seen: String::new(),
            ended: false,
        }
    }

    /// Waits until the output contains `needle`; fails the test on timeout or end of file.
    fn wait_for(&mut self, needle: &str) -> &str {
        let deadline = Instant::now() + TIMEOUT;
        while !self.seen.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no {needle:?} within {TIMEOUT:?}; output so far: {:?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("output ended without {needle:?}; output: {:?}", self.seen)
                }
            }
        }
        &self.seen
    }

    /// Waits for `prefix` and the rest of its line, and returns that rest.
    fn wait_for_value(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some((_, rest)) = self.seen.split_once(prefix)
                && let Some((value, _)) = rest.split_once('\n')
            {
                return value.trim().to_string();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(e) => panic!("no line {prefix:?} ({e}); output: {:?}", self.seen),
            }
        }
    }

    /// Waits for end of file and returns everything read; fails the test on timeout.
    fn wait_for_end(&mut self) -> &str {
        let deadline = Instant::now() + TIMEOUT;
        while !self.ended {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "the reader did not end within {TIMEOUT:?}; output: {:?}",
                        self.seen
                    )
                }
                Err(RecvTimeoutError::Disconnected) => self.ended = true,
            }
        }
        &self.seen
    }
}

/// `child.wait()` on another thread, failing the test if it does not return in time.
fn wait_exit(child: &Arc<PtyChild>) -> i32 {
    let (tx, rx) = mpsc::channel();
    let waiter = Arc::clone(child);
    thread::spawn(move || {
        let _ = tx.send(waiter.wait());
    });
    match rx.recv_timeout(TIMEOUT) {
        Ok(code) => code.expect("wait"),
        Err(_) => {
            let _ = child.kill();
            panic!("the child did not exit within {TIMEOUT:?}");
        }
    }
}

/// Whether `pid` is gone or only a zombie (which no longer runs; its parent, init here, reaps
/// it in its own time).
#[cfg(target_os = "linux")]
fn is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // "pid (comm) S ...": the state follows the last ')'.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

#[cfg(target_os = "linux")]
fn wait_until_dead(pid: u32) {
    let deadline = Instant::now() + TIMEOUT;
    while !is_dead(pid) {
        assert!(Instant::now() < deadline, "process {pid} still runs");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_child_sees_a_terminal_of_the_requested_size() {
    let child = PtyChild::spawn(
        &script("test -t 0 && test -t 1 && test -t 2 && echo is-a-tty; echo size=$(stty size)"),
        31,
        101,
    )
    .expect("spawn");
    let child = Arc::new(child);
    let mut out = Output::of(&child);
    let seen = out.wait_for_end().to_string();
    assert!(seen.contains("is-a-tty"), "{seen:?}");
    assert!(seen.contains("size=31 101"), "{seen:?}");
    assert_eq!(child.size().expect("size"), (31, 101));
    assert_eq!(wait_exit(&child), 0);
}

#[test]
fn a_resize_reaches_the_child_as_sigwinch_with_the_new_size() {
    let child = Arc::new(
        PtyChild::spawn(
            &script(
                "trap 'echo winch=$(stty size); exit 0' WINCH; echo ready; \
                 while :; do sleep 0.05; done",
            ),
            24,
            80,
        )
        .expect("spawn"),
    );
    let mut out = Output::of(&child);
    out.wait_for("ready");
    child.resize(50, 132).expect("resize");
    out.wait_for("winch=50 132");
    assert_eq!(child.size().expect("size"), (50, 132));
    assert_eq!(wait_exit(&child), 0);
}

#[test]
fn input_written_reaches_the_child() {
    let child = Arc::new(
        PtyChild::spawn(
            &script(
                "echo ready; IFS= read -r a; echo \"got:$a:\"; IFS= read -r b; echo \"then:$b:\"; \
                 exit 4",
            ),
            24,
            80,
        )
        .expect("spawn"),
    );
    let mut out = Output::of(&child);
    out.wait_for("ready");
    let mut writer = child.writer();
    writer.write_all(b"hello pty\n").expect("write");
    writer.flush().expect("flush");
    // A dropped handle types nothing into the terminal (portable-pty's own writer sends
    // "\n^D" when dropped, which would answer the second read with an empty line).
    drop(writer);
    out.wait_for("got:hello pty:");
    child.writer().write_all(b"second\n").expect("write again");
    out.wait_for("then:second:");
    assert_eq!(wait_exit(&child), 4);
}

#[test]
fn exit_codes_and_deaths_by_signal_are_reported_as_a_shell_does() {
    let exits = Arc::new(PtyChild::spawn(&script("exit 7"), 24, 80).expect("spawn"));
    assert_eq!(wait_exit(&exits), 7);
    // Asking again gives the same answer (the code is kept, the pid is not waited twice).
    assert_eq!(exits.try_wait().expect("try_wait"), Some(7));
    assert_eq!(exits.wait().expect("wait"), 7);

    let killed =
        Arc::new(PtyChild::spawn(&script("kill -TERM $$; sleep 5"), 24, 80).expect("spawn"));
    assert_eq!(wait_exit(&killed), 128 + 15);
}

#[test]
fn try_wait_reports_none_while_running_and_a_signal_ends_the_child() {
    let child = Arc::new(
        PtyChild::spawn(&script("echo ready; while :; do sleep 0.05; done"), 24, 80)
            .expect("spawn"),
    );
    let mut out = Output::of(&child);
    out.wait_for("ready");
    assert_eq!(child.try_wait().expect("try_wait"), None);
    child.signal(1).expect("SIGHUP");
    assert_eq!(wait_exit(&child), 128 + 1);
    // After the child is reaped a signal is a no-op, never a signal to a recycled pid.
    child.signal(15).expect("signal after exit");
    assert!(child.signal(100_000).is_err(), "not a signal number");
}

#[cfg(target_os = "linux")]
#[test]
fn kill_from_another_thread_ends_a_blocked_wait_and_the_whole_process_group() {
    let child = Arc::new(
        PtyChild::spawn(
            // `trap '' HUP` in the background process: only a signal to the group ends it.
            &script("(trap '' HUP; exec sleep 1000) & echo bg=$!; wait"),
            24,
            80,
        )
        .expect("spawn"),
    );
    let mut out = Output::of(&child);
    let bg = out.wait_for_value("bg=");
    let bg: u32 = bg
        .parse()
        .unwrap_or_else(|_| panic!("no background pid in {bg:?}"));
    assert!(!is_dead(bg), "the background process should run");

    // One thread blocks in wait() while this one kills.
    let (tx, rx) = mpsc::channel();
    let waiter = Arc::clone(&child);
    thread::spawn(move || {
        let _ = tx.send(waiter.wait());
    });
    thread::sleep(Duration::from_millis(100));
    child.kill().expect("kill");
    let code = rx
        .recv_timeout(TIMEOUT)
        .expect("wait returned")
        .expect("wait");
    assert_eq!(code, 128 + 9);
    assert!(is_dead(child.pid()), "the child itself is reaped");
    wait_until_dead(bg);
    // With the group gone, the terminal has no holder left: the reader ends.
    out.wait_for_end();
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_a_running_child_kills_and_reaps_it() {
    let child = PtyChild::spawn(&script("exec sleep 1000"), 24, 80).expect("spawn");
    let pid = child.pid();
    assert!(!is_dead(pid));
    drop(child);
    // Not even a zombie is left: the pid is gone from /proc once drop returns.
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} left behind"
    );
}

#[test]
fn the_environment_is_exactly_the_one_given() {
    // The test process certainly has these; none may reach the child.
    for var in ["CARGO_MANIFEST_DIR", "PATH"] {
        assert!(
            std::env::var_os(var).is_some(),
            "{var} should be set in a cargo test"
        );
    }
    let command = AgentCommand::new("/usr/bin/env", "/")
        .env("SHELL", "/bin/sh")
        .env("RINGLET_PTY_ONLY", "given value")
        .env("HOME", "/nonexistent-home");
    let child = Arc::new(PtyChild::spawn(&command, 24, 80).expect("spawn"));
    let mut out = Output::of(&child);
    let seen = out.wait_for_end().to_string();
    let mut lines: Vec<&str> = seen.lines().map(|l| l.trim_end_matches('\r')).collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "HOME=/nonexistent-home",
            "RINGLET_PTY_ONLY=given value",
            "SHELL=/bin/sh"
        ],
        "{seen:?}"
    );
    assert_eq!(wait_exit(&child), 0);
}

#[test]
fn the_program_is_looked_up_on_the_given_path_in_the_given_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path().canonicalize().expect("canonical tempdir");
    let command = AgentCommand::new("sh", &cwd)
        .arg("-c")
        .arg("echo pwd=$(pwd)")
        .env("PATH", "/bin:/usr/bin");
    let child = Arc::new(PtyChild::spawn(&command, 24, 80).expect("spawn"));
    let mut out = Output::of(&child);
    out.wait_for(&format!("pwd={}", cwd.display()));
    assert_eq!(wait_exit(&child), 0);

    // Not ringlet's PATH: with an empty one given, "sh" is not found.
    let err = PtyChild::spawn(
        &AgentCommand::new("sh", "/").env("PATH", "/nonexistent"),
        24,
        80,
    )
    .expect_err("sh must not be found on /nonexistent");
    assert!(matches!(err, Error::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("sh"), "{err}");
}

#[test]
fn a_missing_working_directory_is_an_error_not_a_start_elsewhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("gone");
    let err = PtyChild::spawn(&script_in(&missing, "echo started"), 24, 80)
        .expect_err("a missing cwd must fail");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("gone"), "{err}");

    let err = PtyChild::spawn(
        &AgentCommand::new("/nonexistent/agent", "/").env("PATH", "/bin"),
        24,
        80,
    )
    .expect_err("a missing program must fail");
    assert!(matches!(err, Error::Spawn { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/agent"), "{err}");
}

#[test]
fn the_reader_ends_when_the_child_exits() {
    // Read while the child runs and exits.
    let child =
        Arc::new(PtyChild::spawn(&script("echo last words; exit 3"), 24, 80).expect("spawn"));
    let mut out = Output::of(&child);
    assert!(out.wait_for_end().contains("last words"));
    assert_eq!(wait_exit(&child), 3);

    // Read only after the child has been reaped: what it wrote is still there, then EOF.
    let child = Arc::new(PtyChild::spawn(&script("echo buffered; exit 5"), 24, 80).expect("spawn"));
    let reader = child.reader().expect("reader");
    assert_eq!(wait_exit(&child), 5);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut reader = reader;
        let mut all = Vec::new();
        let _ = tx.send(reader.read_to_end(&mut all).map(|_| all));
    });
    let all = rx
        .recv_timeout(TIMEOUT)
        .expect("read_to_end must end after the child exits")
        .expect("read_to_end");
    assert!(String::from_utf8_lossy(&all).contains("buffered"));

    // A background process the child left behind gets the terminal's hang-up and closes it.
    let child =
        Arc::new(PtyChild::spawn(&script("sleep 1000 & echo bg-started"), 24, 80).expect("spawn"));
    let mut out = Output::of(&child);
    assert!(out.wait_for_end().contains("bg-started"));
    assert_eq!(wait_exit(&child), 0);
}
