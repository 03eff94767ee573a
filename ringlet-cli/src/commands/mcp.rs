//! `ringlet mcp …`: MCP servers defined once, written into every agent's own config at its
//! next run (docs/setup.md, "MCP servers").

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use ringlet::{McpEntry, McpServer, Ringlet};

use crate::output::{self, errln};

pub const ADD_EXAMPLES: &str = "\
Examples:
  ringlet mcp add files -- npx -y @modelcontextprotocol/server-filesystem /srv/docs
  ringlet mcp add github --env GITHUB_TOKEN=alias:github -- github-mcp-server stdio
  ringlet keychain set mcp github                    # the secret, in the credential store
  ringlet mcp add docs --url https://mcp.example.com/mcp --profile work
  ringlet mcp list --json";

#[derive(Debug, Subcommand)]
pub enum McpCmd {
    /// Define an MCP server for every profile's agent (or one profile's with --profile):
    /// a command after `--`, or --url.
    #[command(after_help = ADD_EXAMPLES)]
    Add(Box<AddArgs>),
    /// List the MCP servers: global and every profile's, or what one profile's agent gets.
    List {
        /// The MCP servers profile ALIAS's agent gets (global ones and its own).
        #[arg(long, value_name = "ALIAS", add = crate::complete::profiles())]
        profile: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove an MCP server; the agents' files lose it at the next run.
    Remove {
        /// Its name.
        name: String,
        /// Remove it from profile ALIAS (default: the global one).
        #[arg(long, value_name = "ALIAS", add = crate::complete::profiles())]
        profile: Option<String>,
        /// Print what was removed as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Its name, as the agents will list it.
    pub name: String,
    /// The URL of an HTTP (streamable) MCP server, instead of a command.
    #[arg(long, value_name = "URL", conflicts_with = "command")]
    pub url: Option<String>,
    /// An environment variable for the server: KEY=VALUE, or KEY=alias:NAME for a secret
    /// stored with `ringlet keychain set mcp NAME` (KEY=alias:PROVIDER/NAME for another key).
    /// Repeatable.
    #[arg(long = "env", short = 'e', value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// For profile ALIAS only (default: every profile).
    #[arg(long, value_name = "ALIAS", add = crate::complete::profiles())]
    pub profile: Option<String>,
    /// Replace an MCP server of the same name.
    #[arg(long)]
    pub replace: bool,
    /// Print what was added as JSON.
    #[arg(long)]
    pub json: bool,
    /// The command that starts the server, and its arguments.
    #[arg(last = true, value_name = "CMD ARGS")]
    pub command: Vec<String>,
}

impl McpCmd {
    /// Whether the command asked for JSON.
    pub fn wants_json(&self) -> bool {
        match self {
            Self::Add(a) => a.json,
            Self::List { json, .. } | Self::Remove { json, .. } => *json,
        }
    }
}

pub fn run(ringlet: &Ringlet, cmd: McpCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        McpCmd::Add(a) => {
            let mut server = match (&a.url, a.command.split_first()) {
                (Some(url), _) => McpServer::url(url),
                (None, Some((program, args))) => McpServer::command(program, args.to_vec()),
                (None, None) => McpServer::default(),
            };
            for pair in &a.env {
                let (k, v) = pair.split_once('=').with_context(|| {
                    format!("--env '{pair}' must be KEY=VALUE or KEY=alias:NAME")
                })?;
                server = server.with_env(k, v);
            }
            let entry =
                ringlet.add_mcp_server(&a.name, &server, a.profile.as_deref(), a.replace)?;
            if a.json {
                output::json(&entry)?;
            } else {
                errln!(
                    "Added MCP server '{}' ({}); each agent gets it at its next run.",
                    entry.name,
                    entry.scope
                );
                for (var, key) in entry.server.secrets() {
                    errln!(
                        "Its {var} comes from the stored secret {key}: `ringlet keychain set {} {}` if it is not stored yet.",
                        key.provider,
                        key.alias
                    );
                }
            }
        }
        McpCmd::List { profile, json } => {
            let entries = ringlet.mcp_servers(profile.as_deref())?;
            if json {
                output::json(&entries)?;
            } else if entries.is_empty() {
                errln!(
                    "No MCP servers yet. Add one with `ringlet mcp add NAME -- CMD ARGS…` or `ringlet mcp add NAME --url URL`."
                );
            } else {
                let mut t = output::table(&["NAME", "SCOPE", "SERVER", "ENV"]);
                for e in &entries {
                    t.add_row([
                        e.name.clone(),
                        e.scope.to_string(),
                        describe(e),
                        e.server.env.keys().cloned().collect::<Vec<_>>().join(", "),
                    ]);
                }
                output::print_table(&t);
            }
        }
        McpCmd::Remove {
            name,
            profile,
            json,
        } => {
            let entry = ringlet.remove_mcp_server(&name, profile.as_deref())?;
            if json {
                output::json(&entry)?;
            } else {
                errln!(
                    "Removed MCP server '{}' ({}); the agents' files lose it at their next run.",
                    entry.name,
                    entry.scope
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The command line or URL of a server.
fn describe(e: &McpEntry) -> String {
    match (&e.server.url, &e.server.command) {
        (Some(url), _) => url.clone(),
        (None, Some(command)) => std::iter::once(command.clone())
            .chain(e.server.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
        (None, None) => "-".into(),
    }
}
