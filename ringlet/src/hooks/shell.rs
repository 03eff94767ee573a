//! Shell actions: `sh -c COMMAND` with the event's `RINGLET_*` variables and the event JSON on
//! stdin. Gating runs wait with a deadline and kill the whole process group when it passes;
//! detached runs return at once and never hold the agent's pipes.

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

fn command(cmd: &str, env: &[(String, String)], scrub: &[String]) -> Command {
    #[cfg(unix)]
    let mut c = {
        let mut c = Command::new("sh");
        c.arg("-c").arg(cmd);
        // Its own process group: a timeout kills the command and everything it started, and
        // the terminal's Ctrl-C aimed at the agent does not hit a detached hook.
        std::os::unix::process::CommandExt::process_group(&mut c, 0);
        c
    };
    #[cfg(not(unix))]
    let mut c = {
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
    let mut child = command(cmd, env, scrub)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + timeout;
    let _fed = feed(&mut child, payload);
    let out = collect(child.stdout.take());
    let err = collect(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait()? {
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

/// Starts `cmd` and returns without waiting: stdout and stderr go nowhere, a thread reaps it.
pub(crate) fn run_detached(
    cmd: &str,
    env: &[(String, String)],
    scrub: &[String],
    payload: &[u8],
) -> std::io::Result<()> {
    let mut child = command(cmd, env, scrub)
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
