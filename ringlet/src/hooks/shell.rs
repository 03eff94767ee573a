//! Shell actions: `sh -c COMMAND` with the event's `RINGLET_*` variables and the event JSON on
//! stdin. Every command runs in its own process group under a small `sh` supervisor whose
//! watchdog kills the group at the hook's timeout, so the timeout holds for detached runs too,
//! after ringlet has exited. Gating runs also wait with that deadline and kill the group
//! themselves; detached runs return at once and never hold the agent's pipes.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a waited-for shell hook ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShellEnd {
    /// It exited with this code (signal deaths are 128+N).
    Exited {
        /// The exit code.
        code: i32,
        /// The end of its stderr, trimmed.
        stderr: String,
        /// The end of its stdout, trimmed.
        stdout: String,
    },
    /// It was still running at the deadline and was killed.
    TimedOut,
}

/// Only the tail of a hook's output is kept (it becomes a one-line reason).
const KEEP_OUTPUT: usize = 4096;

/// What every shell hook runs under on Unix: `sh -c SUPERVISOR ringlet-hook CMD SECONDS`. The
/// supervisor leads the hook's own process group and starts a watchdog in that group which, at
/// the deadline, SIGKILLs the whole group — the command and everything it started, also what it
/// left running in the background after it exited. The watchdog does not need ringlet: a
/// detached hook outlives `ringlet hooks dispatch` (and `profiles run`), and its timeout must
/// hold all the same. The command keeps the supervisor's stdin through fd 3 (an asynchronous
/// list's stdin would be /dev/null); the watchdog holds none of the pipes, so a waited hook's
/// output ends when the command does. Its status is the command's (it runs last).
#[cfg(unix)]
const SUPERVISOR: &str = r#"exec 3<&0 </dev/null
(sleep "$2"; kill -9 0) >/dev/null 2>&1 3<&- &
sh -c "$1" <&3 3<&-"#;

fn command(cmd: &str, env: &[(String, String)], scrub: &[String], timeout: Duration) -> Command {
    #[cfg(unix)]
    let mut c = {
        let mut c = Command::new("sh");
        let ms = timeout.as_millis();
        c.arg("-c")
            .arg(SUPERVISOR)
            .arg("ringlet-hook")
            .arg(cmd)
            .arg(format!("{}.{:03}", ms / 1000, ms % 1000));
        // Its own process group: a timeout kills the command and everything it started, and
        // the terminal's Ctrl-C aimed at the agent does not hit a detached hook.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c
    };
    #[cfg(not(unix))]
    let mut c = {
        let _ = timeout;
        let mut c = Command::new("cmd");
        c.arg("/C").arg(cmd);
        c
    };
    // The agent's environment holds its API key; a hook never needs it.
    for var in scrub {
        c.env_remove(var);
    }
    c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c
}

fn feed(child: &mut Child, payload: &[u8]) -> mpsc::Receiver<()> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut stdin) = child.stdin.take() {
        let payload = payload.to_vec();
        std::thread::spawn(move || {
            // A hook that ignores stdin closes the pipe early; that is not an error.
            let _ = stdin.write_all(&payload);
            drop(stdin);
            let _ = tx.send(());
        });
    }
    rx
}

fn collect(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            let start = buf.len().saturating_sub(KEEP_OUTPUT);
            let _ = tx.send(String::from_utf8_lossy(&buf[start..]).trim().to_string());
        });
    }
    rx
}

fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs `cmd` and waits up to `timeout`. `Err` is a spawn failure.
pub(crate) fn run_waited(
    cmd: &str,
    env: &[(String, String)],
    scrub: &[String],
    payload: &[u8],
    timeout: Duration,
) -> std::io::Result<ShellEnd> {
    // Taken before the spawn, so the supervisor's watchdog (which starts its clock later)
    // never fires before it.
    let deadline = Instant::now() + timeout;
    let mut child = command(cmd, env, scrub, timeout)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let _fed = feed(&mut child, payload);
    let out = collect(child.stdout.take());
    let err = collect(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait()? {
            // The watchdog got there first (this thread was slow to look) and killed the whole
            // group: still a timeout. (No killpg now: the reaped pid could be reused.)
            if Instant::now() >= deadline && killed(status) {
                return Ok(ShellEnd::TimedOut);
            }
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(&mut child);
            return Ok(ShellEnd::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // A background process the hook left behind may keep the pipes open; do not wait for it.
    let grace = Duration::from_millis(200);
    Ok(ShellEnd::Exited {
        code: exit_code(status),
        stdout: out.recv_timeout(grace).unwrap_or_default(),
        stderr: err.recv_timeout(grace).unwrap_or_default(),
    })
}

/// Starts `cmd` and returns without waiting: stdout and stderr go nowhere, a thread reaps it,
/// and its process group is killed at `timeout` (on Unix, by the supervisor's watchdog, so
/// also after this process has exited).
pub(crate) fn run_detached(
    cmd: &str,
    env: &[(String, String)],
    scrub: &[String],
    payload: &[u8],
    timeout: Duration,
) -> std::io::Result<()> {
    let mut child = command(cmd, env, scrub, timeout)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let fed = feed(&mut child, payload);
    // The payload is small; give the pipe a moment so a short-lived ringlet process does not
    // exit before the hook has its stdin.
    let _ = fed.recv_timeout(Duration::from_millis(200));
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// Whether a SIGKILL ended the process.
fn killed(status: std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal() == Some(9)
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        false
    }
}

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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// The live (not zombie) processes in process group `pgid`, from /proc.
    #[cfg(target_os = "linux")]
    pub(crate) fn group_members(pgid: i32) -> Vec<i32> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string() {
                out.push(pid);
            }
        }
        out
    }

    /// Waits for a file the hook writes its process group into.
    #[cfg(target_os = "linux")]
    fn read_pgid(path: &std::path::Path) -> i32 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(text) = std::fs::read_to_string(path)
                && let Ok(pgid) = text.trim().parse()
            {
                return pgid;
            }
            assert!(Instant::now() < deadline, "the hook never started");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[cfg(target_os = "linux")]
    fn wait_gone(pgid: i32, within: Duration) -> Vec<i32> {
        let deadline = Instant::now() + within;
        loop {
            let left = group_members(pgid);
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A detached hook is killed, with everything it started, at its timeout — with nobody
    /// waiting for it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_detached_hook_dies_with_its_group_at_the_timeout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pgid_file = dir.path().join("pgid");
        let cmd = format!(
            r#"cut -d" " -f5 /proc/$$/stat > '{}'; sleep 46.5 & sleep 46.5"#,
            pgid_file.display()
        );
        let started = Instant::now();
        run_detached(&cmd, &[], &[], b"{}", Duration::from_millis(500)).expect("starts");
        let pgid = read_pgid(&pgid_file);
        assert!(
            !group_members(pgid).is_empty() || started.elapsed() > Duration::from_millis(500),
            "the hook runs until its timeout"
        );
        let left = wait_gone(pgid, Duration::from_secs(5));
        assert!(left.is_empty(), "still running after the timeout: {left:?}");
    }

    /// A waited hook that exits at once but leaves a process behind: the leftover is killed at
    /// the timeout, the hook's own exit status is reported at once.
    #[cfg(target_os = "linux")]
    #[test]
    fn what_a_hook_leaves_behind_dies_at_its_timeout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pgid_file = dir.path().join("pgid");
        let cmd = format!(
            r#"cut -d" " -f5 /proc/$$/stat > '{}'; sleep 46.5 >/dev/null 2>&1 & echo bye; exit 4"#,
            pgid_file.display()
        );
        let started = Instant::now();
        let end = run_waited(&cmd, &[], &[], b"", Duration::from_millis(500)).expect("runs");
        assert!(started.elapsed() < Duration::from_millis(500), "{end:?}");
        assert!(
            matches!(&end, ShellEnd::Exited { code: 4, stdout, .. } if stdout == "bye"),
            "{end:?}"
        );
        let left = wait_gone(read_pgid(&pgid_file), Duration::from_secs(5));
        assert!(left.is_empty(), "still running after the timeout: {left:?}");
    }

    #[test]
    fn variables_and_stdin_reach_the_command() {
        let env = vec![("RINGLET_TOOL".to_string(), "Bash".to_string())];
        let end = run_waited(
            r#"read -r line; echo "$RINGLET_TOOL $line"; echo oops >&2; exit 3"#,
            &env,
            &[],
            b"{\"a\":1}\n",
            Duration::from_secs(5),
        )
        .expect("runs");
        assert_eq!(
            end,
            ShellEnd::Exited {
                code: 3,
                stdout: "Bash {\"a\":1}".into(),
                stderr: "oops".into()
            }
        );
    }

    #[test]
    fn a_slow_command_is_killed_at_the_deadline() {
        let started = Instant::now();
        let end = run_waited("sleep 30", &[], &[], b"", Duration::from_millis(200)).expect("runs");
        assert_eq!(end, ShellEnd::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn scrubbed_variables_are_not_inherited() {
        let end = run_waited(
            r#"test -z "$PATH_SCRUB_CHECK_HOME" && echo clean"#,
            &[("PATH_SCRUB_CHECK_HOME".into(), "x".into())],
            &["PATH_SCRUB_CHECK_HOME".into()],
            b"",
            Duration::from_secs(5),
        )
        .expect("runs");
        // Variables the hook is given explicitly win over the scrub list (they are ringlet's).
        assert!(matches!(end, ShellEnd::Exited { code: 1, .. }), "{end:?}");
        let end = run_waited(
            r#"test -z "$HOME" && echo clean"#,
            &[],
            &["HOME".into()],
            b"",
            Duration::from_secs(5),
        )
        .expect("runs");
        assert!(
            matches!(&end, ShellEnd::Exited { code: 0, stdout, .. } if stdout == "clean"),
            "{end:?}"
        );
    }
}
