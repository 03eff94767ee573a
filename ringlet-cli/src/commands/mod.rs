//! One module per command group; each turns arguments into facade calls and renders results.

mod agents;
pub mod aliases;
mod doctor;
pub mod env;
pub mod hooks;
mod init;
mod keychain;
pub mod mcp;
mod profiles;
mod prompt;
mod providers;
pub mod registry;
#[cfg(feature = "server")]
mod remote_terminal;
#[cfg(feature = "server")]
pub mod remotes;
#[cfg(feature = "proxy")]
pub mod routing;
#[cfg(feature = "server")]
pub mod serve;
pub mod setup;
mod state;
pub mod statusline;
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
            Command::Init(j) | Command::Doctor(j) => j.json,
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
            Command::Statusline(a) => a.json,
            Command::Registry(cmd) => cmd.wants_json(),
            Command::Aliases(cmd) => cmd.wants_json(),
            Command::Env(cmd) => cmd.wants_json(),
            Command::Mcp(cmd) => cmd.wants_json(),
            #[cfg(feature = "team")]
            Command::Team(cmd) => cmd.wants_json(),
            #[cfg(feature = "proxy")]
            Command::Routing(cmd) => cmd.wants_json(),
            #[cfg(feature = "server")]
            Command::Remotes(cmd) => cmd.wants_json(),
            _ => false,
        }
    }
}

fn open(cli_home: Option<std::path::PathBuf>, doctor: bool) -> anyhow::Result<Ringlet> {
    let builder = Ringlet::builder();
    // The doctor must report an unusable credential store, not stop at it.
    let builder = if doctor {
        builder.tolerate_credential_errors()
    } else {
        builder
    };
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
    let home = cli.home.clone();
    let started = std::time::Instant::now();
    let given_home = cli.home.clone();
    // A stale registry snapshot is refreshed by a detached process after any command but a
    // launch (which must never wait for, nor race with, the network) and the registry's own.
    let refresh_registry = !matches!(
        cli.command,
        Command::Profiles(crate::cli::ProfilesCmd::Run { .. }) | Command::Registry(_)
    );
    let registry_home = cli.home.clone();
    let ringlet = open(cli.home, matches!(cli.command, Command::Doctor(_)))?;
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
    // Started before the command, so a server (`serve`, `daemon`) refreshes at its start too.
    if refresh_registry && ringlet.registry_refresh_due() {
        registry::refresh_in_background(registry_home.as_deref());
    }
    let result = match cli.command {
        Command::Init(j) => init::run(&ringlet, j.json),
        Command::Doctor(j) => doctor::run(&ringlet, j.json),
        Command::Agents(cmd) => agents::run(&ringlet, cmd),
        Command::Providers(cmd) => providers::run(&ringlet, cmd),
        Command::Profiles(cmd) => profiles::run(&ringlet, cmd, home.as_deref()),
        Command::Keychain(cmd) => keychain::run(&ringlet, cmd),
        cmd
        @ (Command::Usage(_) | Command::Import(_) | Command::Pricing(_) | Command::Stats(_)) => {
            usage::run(&ringlet, cmd)
        }
        Command::Hooks(cmd) => hooks::run(&ringlet, cmd),
        Command::Statusline(args) => statusline::run(&ringlet, args),
        Command::Registry(cmd) => registry::run(&ringlet, cmd),
        Command::Export(args) => setup::export(&ringlet, args),
        Command::Aliases(cmd) => aliases::run(&ringlet, cmd, given_home),
        Command::Env(cmd) => env::run(&ringlet, cmd),
        Command::Mcp(cmd) => mcp::run(&ringlet, cmd),
        #[cfg(feature = "team")]
        Command::Team(cmd) => team::run(&ringlet, cmd),
        #[cfg(feature = "proxy")]
        Command::Routing(cmd) => routing::run(&ringlet, cmd),
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
