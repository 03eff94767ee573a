//! One module per command group; each turns arguments into facade calls and renders results.

mod agents;
pub mod hooks;
mod init;
mod keychain;
pub mod mcp;
mod profiles;
mod prompt;
mod providers;
#[cfg(feature = "server")]
mod remote_terminal;
#[cfg(feature = "server")]
pub mod remotes;
#[cfg(feature = "server")]
pub mod serve;
mod state;
#[cfg(feature = "team")]
pub mod team;
pub mod usage;

use std::process::ExitCode;

use clap::CommandFactory;
use ringlet::Ringlet;

use crate::cli::{Cli, Command};

impl Cli {
    /// Whether the command asked for JSON (errors are then reported as JSON too).
    pub fn wants_json(&self) -> bool {
        use crate::cli::{AgentsCmd, KeychainCmd, ProfilesCmd, ProvidersCmd};
        match &self.command {
            Command::Init(j) => j.json,
            Command::Agents(AgentsCmd::List(j) | AgentsCmd::Inspect { json: j, .. }) => j.json,
            Command::Providers(ProvidersCmd::List(j) | ProvidersCmd::Inspect { json: j, .. }) => {
                j.json
            }
            Command::Profiles(ProfilesCmd::Create(a)) => a.json,
            Command::Profiles(ProfilesCmd::Set(a)) => a.json,
            Command::Profiles(
                ProfilesCmd::List(j)
                | ProfilesCmd::Inspect { json: j, .. }
                | ProfilesCmd::Env { json: j, .. },
            ) => j.json,
            Command::Profiles(ProfilesCmd::Delete { json, .. } | ProfilesCmd::Run { json, .. }) => {
                *json
            }
            Command::Keychain(KeychainCmd::List(j) | KeychainCmd::Migrate(j)) => j.json,
            cmd @ (Command::Usage(_)
            | Command::Import(_)
            | Command::Pricing(_)
            | Command::Stats(_)) => usage::wants_json(cmd),
            Command::Hooks(cmd) => cmd.wants_json(),
            Command::Mcp(cmd) => cmd.wants_json(),
            #[cfg(feature = "team")]
            Command::Team(cmd) => cmd.wants_json(),
            #[cfg(feature = "server")]
            Command::Remotes(cmd) => cmd.wants_json(),
            _ => false,
        }
    }
}

fn open(cli_home: Option<std::path::PathBuf>) -> anyhow::Result<Ringlet> {
    let builder = Ringlet::builder();
    let builder = match cli_home {
        Some(home) => builder.home(std::path::absolute(home)?),
        None => builder,
    };
    Ok(builder.build()?)
}

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Completions { shell } = cli.command {
        // Into a buffer first, then through `output` (a closed pipe ends ringlet quietly).
        // Bash, zsh and fish call ringlet back for names (profiles, agents, providers, hooks);
        // other shells get clap's static script.
        let script = match shell {
            clap_complete::Shell::Bash | clap_complete::Shell::Zsh | clap_complete::Shell::Fish => {
                crate::complete::registration(&shell.to_string())?
            }
            _ => {
                let mut script = Vec::new();
                clap_complete::generate(shell, &mut Cli::command(), "ringlet", &mut script);
                script
            }
        };
        crate::output::raw(&script);
        return Ok(ExitCode::SUCCESS);
    }
    // An agent is waiting on this one: it must answer even when ringlet cannot open.
    if let Command::Hooks(hooks::HooksCmd::Dispatch(args)) = &cli.command {
        return Ok(hooks::dispatch(args, cli.home.clone()));
    }
    let json = cli.wants_json();
    #[cfg(feature = "team")]
    let is_run = matches!(
        cli.command,
        Command::Profiles(crate::cli::ProfilesCmd::Run { .. })
    );
    #[cfg(feature = "team")]
    let home = cli.home.clone();
    let started = std::time::Instant::now();
    let ringlet = open(cli.home)?;
    crate::output::detail(|| {
        let paths = ringlet.paths();
        format!(
            "config {}, data {}, cache {}, ledger {}",
            paths.config_dir().display(),
            paths.data_dir().display(),
            paths.cache_dir().display(),
            ringlet.usage_db_path().display()
        )
    });
    let result = match cli.command {
        Command::Init(j) => init::run(&ringlet, j.json),
        Command::Agents(cmd) => agents::run(&ringlet, cmd),
        Command::Providers(cmd) => providers::run(&ringlet, cmd),
        Command::Profiles(cmd) => profiles::run(&ringlet, cmd),
        Command::Keychain(cmd) => keychain::run(&ringlet, cmd),
        cmd
        @ (Command::Usage(_) | Command::Import(_) | Command::Pricing(_) | Command::Stats(_)) => {
            usage::run(&ringlet, cmd)
        }
        Command::Hooks(cmd) => hooks::run(&ringlet, cmd),
        Command::Mcp(cmd) => mcp::run(&ringlet, cmd),
        #[cfg(feature = "team")]
        Command::Team(cmd) => team::run(&ringlet, cmd),
        #[cfg(feature = "server")]
        Command::Remotes(cmd) => remotes::run(&ringlet, cmd),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::serve(&ringlet, args),
        #[cfg(feature = "server")]
        Command::Daemon(args) => serve::daemon(&ringlet, args),
        Command::Completions { .. } => Ok(ExitCode::SUCCESS),
    };
    hooks::scheduled(&ringlet);
    #[cfg(feature = "team")]
    if is_run && ringlet.push_after_run() {
        team::push_in_background(home.as_deref());
    }
    crate::output::detail(|| format!("took {:.1} ms", started.elapsed().as_secs_f64() * 1e3));
    match result {
        Ok(code) => {
            crate::output::warnings(&ringlet, json);
            Ok(code)
        }
        // The error first: what the command noticed on its way to failing comes after it, if
        // at all, so it never reads as the reason (a key fallback before "already exists").
        Err(err) => {
            let code = crate::error::report(&err, json);
            crate::output::warnings(&ringlet, json);
            Ok(code)
        }
    }
}
