//! `ringlet aliases`: per-profile commands (`claude-work`) in `~/.local/bin` or a directory.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ringlet::{Ringlet, ShimRequest};

use crate::output::{self, errln, outln};

pub const INSTALL_EXAMPLES: &str = "\
Examples:
  ringlet aliases install                            # claude-work, codex-cx, … for every profile
  ringlet aliases install work --name cw             # just `cw` for profile work
  ringlet aliases install work --dir ~/bin
  ringlet aliases list --json";

#[derive(Debug, Subcommand)]
pub enum AliasesCmd {
    /// Write an executable per profile (`<agent>-<alias>`, e.g. `claude-work`) that runs
    /// `ringlet profiles run <alias> -- "$@"`. Never overwrites a file ringlet did not write.
    #[command(after_help = INSTALL_EXAMPLES)]
    Install {
        /// The profiles (default: every profile).
        #[arg(add = crate::complete::profiles())]
        aliases: Vec<String>,
        /// Where to write them (default: ~/.local/bin).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The command's name, for one profile (default: <agent>-<alias>).
        #[arg(long)]
        name: Option<String>,
        /// Print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the commands ringlet wrote, with the profile each runs.
    List {
        /// The directory to look in (default: ~/.local/bin).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove the commands ringlet wrote for these profiles (default: all of them); other
    /// files are never touched.
    Uninstall {
        /// The profiles whose commands to remove.
        #[arg(add = crate::complete::profiles())]
        aliases: Vec<String>,
        /// The directory (default: ~/.local/bin).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print what was removed as JSON.
        #[arg(long)]
        json: bool,
    },
}

impl AliasesCmd {
    pub fn wants_json(&self) -> bool {
        match self {
            AliasesCmd::Install { json, .. }
            | AliasesCmd::List { json, .. }
            | AliasesCmd::Uninstall { json, .. } => *json,
        }
    }
}

/// `home`: the ringlet home this command was given (`--home` or `RINGLET_HOME`), which the
/// shims pass on, so they reach the same profiles.
pub fn run(ringlet: &Ringlet, cmd: AliasesCmd, home: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    match cmd {
        AliasesCmd::Install {
            aliases,
            dir,
            name,
            json,
        } => {
            let mut req = ShimRequest::new(aliases);
            if let Some(dir) = dir {
                req = req.dir(dir);
            }
            if let Some(name) = name {
                req = req.name(name);
            }
            if let Some(home) = home {
                req = req.home(std::path::absolute(home)?);
            }
            let report = ringlet.install_shims(&req)?;
            if json {
                output::json(&report)?;
            } else {
                for s in &report.installed {
                    outln!("{}  → profiles run {}", s.path.display(), s.profile);
                }
                for s in &report.unchanged {
                    outln!(
                        "{}  → profiles run {} (unchanged)",
                        s.path.display(),
                        s.profile
                    );
                }
            }
        }
        AliasesCmd::List { dir, json } => {
            let shims = ringlet.shims(dir.as_deref())?;
            if json {
                output::json(&shims)?;
            } else if shims.is_empty() {
                errln!(
                    "No ringlet commands in {}; `ringlet aliases install` writes them.",
                    ringlet
                        .default_shim_dir()
                        .map(|d| d.display().to_string())
                        .unwrap_or_default()
                );
            } else {
                let mut t = output::table(&["COMMAND", "PROFILE", "PATH"]);
                for s in &shims {
                    let profile = if s.profile_exists {
                        s.profile.clone()
                    } else {
                        format!("{} (deleted)", s.profile)
                    };
                    t.add_row([s.name.clone(), profile, s.path.display().to_string()]);
                }
                output::print_table(&t);
            }
        }
        AliasesCmd::Uninstall { aliases, dir, json } => {
            let removed = ringlet.uninstall_shims(&aliases, dir.as_deref())?;
            if json {
                output::json(&removed)?;
            } else if removed.is_empty() {
                errln!("No ringlet commands to remove.");
            } else {
                for s in &removed {
                    errln!("Removed {}.", s.path.display());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
