//! `usage push`, `usage --team` and `team login|logout`: the team ledger (docs/team.md).

use std::io::BufRead;
use std::path::Path;
use std::process::{ExitCode, Stdio};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ringlet::{Ringlet, Secret, TeamGroup};

use crate::cli::JsonFlag;
use crate::output::{self, count, errln, outln};
use crate::prompt;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Only say what is waiting to be pushed and how the last push went (reads nothing remote).
    #[arg(long)]
    pub status: bool,
    /// Events per Postgres transaction (a push resends at most one batch after an interruption).
    #[arg(long, value_name = "N", default_value_t = ringlet::DEFAULT_PUSH_BATCH as u32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
    /// The push after a run: no output, nothing if another push is running; a failure is kept
    /// for `--status` and retried next time.
    #[arg(long, hide = true, conflicts_with = "status")]
    pub background: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TeamCmd {
    /// Store the team ledger's Postgres password in the credential store.
    Login {
        /// Read the password from this environment variable instead of asking (CI, scripts).
        #[arg(long, value_name = "VAR")]
        password_from_env: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long, conflicts_with = "password_from_env")]
        password_stdin: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Forget the stored password.
    Logout(JsonFlag),
}

impl TeamCmd {
    pub fn wants_json(&self) -> bool {
        match self {
            TeamCmd::Login { json, .. } | TeamCmd::Logout(json) => json.json,
        }
    }
}

pub fn run(ringlet: &Ringlet, cmd: TeamCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        TeamCmd::Login {
            password_from_env,
            password_stdin,
            json,
        } => {
            let password = if let Some(var) = password_from_env {
                prompt::from_env(&var)?
            } else if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                let line = line.trim_end_matches(['\r', '\n']);
                if line.is_empty() {
                    bail!("no password on standard input");
                }
                Secret::new(line)
            } else if prompt::interactive() {
                let value = rpassword::prompt_password("Team ledger password (input hidden): ")
                    .context("reading the password from the terminal")?;
                Secret::new(value)
            } else {
                bail!(
                    "no terminal to ask for the password; pass --password-from-env VAR or --password-stdin"
                );
            };
            ringlet.set_team_password(&password)?;
            if json.json {
                output::json(
                    &serde_json::json!({ "stored": true, "backend": ringlet.credentials().backend() }),
                )?;
            } else {
                outln!(
                    "Stored the team ledger password in the {} credential store.",
                    ringlet.credentials().backend()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        TeamCmd::Logout(json) => {
            let removed = ringlet.remove_team_password()?;
            if json.json {
                output::json(&serde_json::json!({ "removed": removed }))?;
            } else if removed {
                outln!("Forgot the team ledger password.");
            } else {
                outln!("No team ledger password was stored.");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn push(ringlet: &Ringlet, a: &PushArgs) -> anyhow::Result<ExitCode> {
    if a.status {
        let s = ringlet.push_status()?;
        if a.json {
            output::json(&s)?;
        } else {
            output::fields(&[
                ("ledger", s.ledger.clone()),
                ("machine", s.machine.clone()),
                ("user", s.user.clone()),
                ("pending", count(s.pending, "event", "events")),
                (
                    "last push",
                    output::or_dash(s.last_push_at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC"))),
                ),
                (
                    "last error",
                    output::or_dash(s.last_error.as_ref().map(|e| {
                        let at = s
                            .last_error_at
                            .map(|t| t.format(" (%Y-%m-%d %H:%M:%S UTC)").to_string())
                            .unwrap_or_default();
                        format!("{e}{at}")
                    })),
                ),
            ]);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if a.background {
        // Nothing to say to anyone: the failure is in `--status`, and the next run retries.
        let _ = ringlet.push_usage_if_idle();
        return Ok(ExitCode::SUCCESS);
    }
    let report = ringlet.push_usage(Some(a.batch_size as usize))?;
    if a.json {
        output::json(&report)?;
    } else if report.sent == 0 {
        outln!("Nothing to push: {} has everything.", report.ledger);
    } else {
        outln!(
            "Pushed {} to {}: {} new, {} updated, {} already there.",
            count(report.sent, "event", "events"),
            report.ledger,
            report.inserted,
            report.replaced,
            report.unchanged
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The team grouping `--by-user` / `--by-machine` ask for, and its table header.
pub fn group(by_user: bool, by_machine: bool) -> (Option<TeamGroup>, Option<&'static str>) {
    if by_user {
        (Some(TeamGroup::USER), Some("USER"))
    } else if by_machine {
        (Some(TeamGroup::MACHINE), Some("MACHINE"))
    } else {
        (None, None)
    }
}

/// Starts `ringlet usage push --background` detached, after a run: the run's exit never waits
/// for the network, and the push outlives this process.
///
/// Through `/bin/sh -c '"$@" &'` on unix: spawning waits until the child has exec'd, and exec'ing
/// a small shell costs a fraction of exec'ing ringlet itself (a debug build of ringlet made that
/// wait 10 ms; docs/performance.md, "Team ledger"). The shell starts ringlet in the background
/// and exits.
pub fn push_in_background(home: Option<&Path>) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args: Vec<std::ffi::OsString> = Vec::new();
    if let Some(home) = home {
        args.push("--home".into());
        args.push(home.into());
    }
    args.extend(["usage", "push", "--background"].map(std::ffi::OsString::from));
    #[cfg(unix)]
    let mut cmd = {
        use std::os::unix::process::CommandExt;
        let mut cmd = std::process::Command::new("/bin/sh");
        cmd.arg("-c")
            .arg("\"$@\" &")
            .arg("ringlet-push")
            .arg(&exe)
            .args(&args);
        // Its own process group: the terminal's Ctrl-C after the run does not reach it.
        cmd.process_group(0);
        cmd
    };
    #[cfg(not(unix))]
    let mut cmd = {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(&args);
        cmd
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Err(e) = cmd.spawn() {
        errln!("ringlet: warning: the background push to the team ledger did not start: {e}");
    }
}
