//! Supervised setup tasks: named shell commands an agent manifest or a profile defines
//! (`[tasks.NAME] run = "…"`), run only when asked (`ringlet env setup ALIAS NAME`), in the
//! profile's environment (its HOME, provider settings and key, as a run gets them), with their
//! output appended to `<profile dir>/tasks/NAME.log` and their exit status passed on. Nothing
//! runs them implicitly: a remapping or install script runs the day the user says so.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::launch::AgentCommand;

/// The directory, in a profile's directory, holding one log per task.
pub const TASK_LOG_DIR: &str = "tasks";

/// `[tasks.NAME]` in an agent manifest or a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupTask {
    /// One line saying what it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The command, run by `/bin/sh -c` in the profile's environment.
    pub run: String,
}

/// Where a task is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum TaskOrigin {
    /// The agent manifest (every profile of that agent).
    Agent,
    /// The profile's `profile.toml` (it overrides an agent task of the same name).
    Profile,
}

/// A task a profile can run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskInfo {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Its command.
    pub run: String,
    /// Where it is defined.
    pub origin: TaskOrigin,
}

/// What running a task did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskRunReport {
    /// The profile.
    pub profile: String,
    /// The task.
    pub task: String,
    /// Its exit status (128 + N for a signal N).
    pub exit_code: i32,
    /// The log its output was appended to.
    pub log: PathBuf,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
}

/// Copies `from` into the log and, when `echo` is given, to it as well.
fn tee(
    mut from: impl Read + Send + 'static,
    log: Arc<Mutex<std::fs::File>>,
    mut echo: Option<Box<dyn Write + Send>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut file) = log.lock() {
                // A full disk must not stop the task: its output still reaches the caller.
                let _ = file.write_all(&buf[..n]);
            }
            if let Some(out) = echo.as_mut() {
                let _ = out.write_all(&buf[..n]);
                let _ = out.flush();
            }
        }
    })
}

/// Runs `run` with `/bin/sh -c` in `command`'s environment and directory, appending a header,
/// its output and its exit status to `log`. With `echo`, its output also goes to this
/// process's stdout and stderr and it reads this process's stdin; without, stdin is empty.
pub(crate) fn run_logged(
    command: &AgentCommand,
    run: &str,
    header: &str,
    log: &Path,
    echo: bool,
) -> Result<(i32, u64)> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(log)
        .map_err(|e| Error::io("opening", log, e))?;
    writeln!(file, "{header}").map_err(|e| Error::io("writing", log, e))?;
    let log_file = Arc::new(Mutex::new(file));

    let mut shell = AgentCommand::new("/bin/sh", command.cwd.clone())
        .arg("-c")
        .arg(run);
    shell.env = command.env.clone();
    let started = Instant::now();
    let mut child = shell
        .to_std()
        .stdin(if echo {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Spawn {
            program: PathBuf::from("/bin/sh"),
            source: e,
        })?;
    let mut copiers = Vec::new();
    if let Some(out) = child.stdout.take() {
        let echo: Option<Box<dyn Write + Send>> =
            echo.then(|| Box::new(std::io::stdout()) as Box<dyn Write + Send>);
        copiers.push(tee(out, log_file.clone(), echo));
    }
    if let Some(err) = child.stderr.take() {
        let echo: Option<Box<dyn Write + Send>> =
            echo.then(|| Box::new(std::io::stderr()) as Box<dyn Write + Send>);
        copiers.push(tee(err, log_file.clone(), echo));
    }
    let status = child.wait().map_err(|e| Error::Spawn {
        program: PathBuf::from("/bin/sh"),
        source: e,
    })?;
    for c in copiers {
        let _ = c.join();
    }
    let elapsed = started.elapsed().as_millis() as u64;
    let code = exit_code(&status);
    if let Ok(mut file) = log_file.lock() {
        writeln!(file, "--- exit {code} after {elapsed} ms")
            .map_err(|e| Error::io("writing", log, e))?;
    }
    Ok((code, elapsed))
}

fn exit_code(status: &std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_status_are_logged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let log = dir.path().join("tasks/t.log");
        let cmd = AgentCommand::new("/unused", dir.path()).env("GREETING", "hi");
        let (code, _) = run_logged(
            &cmd,
            "echo \"$GREETING out\"; echo err >&2; pwd; exit 3",
            "--- header",
            &log,
            false,
        )
        .expect("runs");
        assert_eq!(code, 3);
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(text.starts_with("--- header\n"), "{text}");
        assert!(
            text.contains("hi out\n") && text.contains("err\n"),
            "{text}"
        );
        assert!(text.contains(&dir.path().display().to_string()), "{text}");
        assert!(
            text.ends_with(" ms\n") && text.contains("--- exit 3 after "),
            "{text}"
        );
        run_logged(&cmd, "kill -TERM $$", "--- again", &log, false)
            .map(|(c, _)| assert_eq!(c, 128 + 15))
            .expect("runs");
        let text = std::fs::read_to_string(&log).expect("log");
        assert!(
            text.contains("--- header") && text.contains("--- again"),
            "appended"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&log).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
