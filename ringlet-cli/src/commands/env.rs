//! `ringlet env`: a profile's supervised setup tasks (`[tasks.NAME]` in its profile.toml or its
//! agent's manifest), run only when asked.

use std::process::ExitCode;

use clap::Subcommand;
use ringlet::{Ringlet, TaskOrigin};

use crate::output::{self, errln};

pub const SETUP_EXAMPLES: &str = "\
Examples:
  ringlet env tasks work                             # what the profile can run
  ringlet env setup work plugins                     # run one; its output is logged too";

#[derive(Debug, Subcommand)]
pub enum EnvCmd {
    /// Run a profile's setup task in the profile's environment (its HOME, provider settings
    /// and key); its output is also appended to <profile dir>/tasks/<task>.log, and ringlet
    /// exits with the task's status.
    #[command(after_help = SETUP_EXAMPLES)]
    Setup {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        /// The task (see `ringlet env tasks ALIAS`).
        task: String,
    },
    /// List a profile's setup tasks.
    Tasks {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

impl EnvCmd {
    pub fn wants_json(&self) -> bool {
        matches!(self, EnvCmd::Tasks { json: true, .. })
    }
}

pub fn run(ringlet: &Ringlet, cmd: EnvCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        EnvCmd::Setup { alias, task } => {
            let report = ringlet.run_setup_task(&alias, &task, true)?;
            errln!(
                "Task '{}' of profile '{}' exited {} after {} ms; its output is in {}.",
                report.task,
                report.profile,
                report.exit_code,
                report.duration_ms,
                report.log.display()
            );
            Ok(ExitCode::from(u8::try_from(report.exit_code).unwrap_or(1)))
        }
        EnvCmd::Tasks { alias, json } => {
            let tasks = ringlet.setup_tasks(&alias)?;
            if json {
                output::json(&tasks)?;
            } else if tasks.is_empty() {
                errln!(
                    "Profile '{alias}' has no setup tasks; add [tasks.NAME] run = \"…\" to its profile.toml (see docs/setup.md)."
                );
            } else {
                let mut t = output::table(&["TASK", "FROM", "DESCRIPTION", "RUNS"]);
                for task in &tasks {
                    let from = match task.origin {
                        TaskOrigin::Agent => "agent",
                        TaskOrigin::Profile => "profile",
                        _ => "-",
                    };
                    t.add_row([
                        task.name.clone(),
                        from.to_string(),
                        output::or_dash(task.description.as_ref()),
                        task.run.clone(),
                    ]);
                }
                output::print_table(&t);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
