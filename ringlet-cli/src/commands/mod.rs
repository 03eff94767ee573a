//! One module per command group; each turns arguments into facade calls and renders results.

mod agents;
pub mod hooks;
mod init;
mod keychain;
mod profiles;
mod providers;
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
            Command::Keychain(KeychainCmd::List(j) | KeychainCmd::Migrate(j)) => j.json,
            cmd @ (Command::Usage(_)
            | Command::Import(_)
            | Command::Pricing(_)
            | Command::Stats(_)) => usage::wants_json(cmd),
            Command::Hooks(cmd) => cmd.wants_json(),
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
        // Into a buffer first: clap_complete panics when its writer fails (a closed pipe).
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "ringlet", &mut script);
        crate::output::raw(&script);
        return Ok(ExitCode::SUCCESS);
    }
    // An agent is waiting on this one: it must answer even when ringlet cannot open.
    if let Command::Hooks(hooks::HooksCmd::Dispatch(args)) = &cli.command {
        return Ok(hooks::dispatch(args, cli.home.clone()));
    }
    let json = cli.wants_json();
    let ringlet = open(cli.home)?;
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
        Command::Completions { .. } => Ok(ExitCode::SUCCESS),
    };
    hooks::scheduled(&ringlet);
    match result {
        Ok(code) => {
            crate::output::warnings(&ringlet, json);
            Ok(code)
        }
        // The error first: what the command noticed on its way to failing comes after it, if
        // at all, so it never reads as the reason (a key fallback before "already exists").
        Err(err) => {
            report(&err, json);
            crate::output::warnings(&ringlet, json);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Reports an error: one line on stderr; with `--json`, a JSON object scripts can parse.
pub fn report(err: &anyhow::Error, json: bool) {
    let message = error_line(err);
    if json {
        let code = err
            .downcast_ref::<ringlet::Error>()
            .map_or("error", |e| e.code());
        crate::output::err_line(
            &serde_json::json!({ "error": { "code": code, "message": message } }).to_string(),
        );
    } else {
        crate::output::err_line(&format!("ringlet: error: {message}"));
    }
}

/// The error and its causes on one line, each said once: the library's messages already end
/// with their cause (so that a binding that shows only the message loses nothing), and the
/// same cause is also the error's `source()`.
fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain().map(|e| e.to_string()) {
        if line.ends_with(&cause) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&cause);
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::from_raw_os_error(28);
        let cause = io.to_string();
        let err = anyhow::Error::from(ringlet::Error::io("writing", "/x/y", io))
            .context("saving the profile");
        let line = error_line(&err);
        assert_eq!(line, format!("saving the profile: writing /x/y: {cause}"));
        assert_eq!(line.matches(&cause).count(), 1, "{line}");
    }
}
