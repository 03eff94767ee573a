//! `ringlet remotes …` and `ringlet profiles run ALIAS --remote NAME`: remote ringlet servers'
//! terminal sessions (docs/remote.md). The remotes themselves are the facade's; the server is
//! reached through `ringlet_server::client`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use ringlet::Ringlet;
use ringlet_server::client::{Client, ClientError, NewRemoteSession, RemoteSession};

use crate::cli::JsonFlag;
use crate::output::{self, errln};
use crate::prompt;

use super::remote_terminal;

#[derive(Debug, Subcommand)]
pub enum RemotesCmd {
    /// Add a remote ringlet server: its URL goes into config.toml, its token (prompted without
    /// echo, or read from --token-from-env) into the credential store.
    Add {
        /// A name for it.
        name: String,
        /// Its base URL (`http://127.0.0.1:8765`, `https://box.example:8765`).
        #[arg(long, value_name = "URL")]
        url: String,
        /// Read the server's token from this environment variable instead of prompting.
        #[arg(long, value_name = "VAR")]
        token_from_env: Option<String>,
        /// Replace a remote of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// List the remotes.
    List(JsonFlag),
    /// Remove a remote and its token.
    Remove {
        /// Its name.
        name: String,
    },
    /// A remote's terminal sessions: id, profile, agent, state, uptime, clients.
    Sessions {
        /// The remote's name.
        name: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Attach to a session on a remote; detach with Ctrl-] (the session keeps running).
    Attach {
        /// The remote's name.
        name: String,
        /// The session id (see `ringlet remotes sessions NAME`).
        session: String,
        /// Watch only: keys are not sent (Ctrl-] still detaches).
        #[arg(long)]
        read_only: bool,
    },
    /// End a session on a remote (SIGHUP to its agent, SIGKILL after a grace period).
    Terminate {
        /// The remote's name.
        name: String,
        /// The session id.
        session: String,
    },
}

impl RemotesCmd {
    /// Whether the command asked for JSON.
    pub fn wants_json(&self) -> bool {
        match self {
            Self::List(j) | Self::Sessions { json: j, .. } => j.json,
            _ => false,
        }
    }
}

pub fn run(ringlet: &Ringlet, cmd: RemotesCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RemotesCmd::Add {
            name,
            url,
            token_from_env,
            replace,
        } => {
            let token = match token_from_env {
                Some(var) => prompt::from_env(&var)?,
                None if prompt::interactive() => prompt::ask_hidden(&format!(
                    "Token of the server at {} (its <config>/http_token; input hidden): ",
                    output::clean(&url)
                ))?,
                None => bail!(
                    "no terminal to prompt for the token; pass --token-from-env VAR with the token in $VAR"
                ),
            };
            let remote = ringlet.add_remote(&name, &url, &token, replace)?;
            errln!(
                "Added remote {} at {} (token in the {} credential store).",
                remote.name,
                output::clean(&remote.url),
                ringlet.credentials().backend()
            );
        }
        RemotesCmd::List(j) => {
            let remotes = ringlet.remotes()?;
            if j.json {
                output::json(&remotes)?;
            } else if remotes.is_empty() {
                errln!("No remotes yet. Add one with `ringlet remotes add NAME --url URL`.");
            } else {
                let mut t = output::table(&["NAME", "URL"]);
                for r in &remotes {
                    t.add_row([r.name.clone(), r.url.clone()]);
                }
                output::print_table(&t);
            }
        }
        RemotesCmd::Remove { name } => {
            let removed = ringlet.remove_remote(&name)?;
            errln!("Removed remote {} and its token.", removed.name);
        }
        RemotesCmd::Sessions { name, json } => {
            let (client, context) = connect(ringlet, &name)?;
            let sessions = client.sessions().map_err(|e| context.explain(e))?;
            if json.json {
                output::json(&sessions)?;
            } else if sessions.is_empty() {
                errln!(
                    "No sessions on {name}. Start one with `ringlet profiles run ALIAS --remote {name}`."
                );
            } else {
                let mut t =
                    output::table(&["SESSION", "PROFILE", "AGENT", "STATE", "UPTIME", "CLIENTS"]);
                for s in &sessions {
                    t.add_row([
                        s.id.clone(),
                        s.profile.clone(),
                        s.agent.clone(),
                        state(s),
                        uptime(s),
                        clients(s),
                    ]);
                }
                output::print_table(&t);
            }
        }
        RemotesCmd::Attach {
            name,
            session,
            read_only,
        } => {
            let (client, context) = connect(ringlet, &name)?;
            let attachment = client
                .attach(&session, read_only)
                .map_err(|e| context.explain(e))?;
            return remote_terminal::drive(attachment, &name);
        }
        RemotesCmd::Terminate { name, session } => {
            let (client, context) = connect(ringlet, &name)?;
            let s = client.terminate(&session).map_err(|e| context.explain(e))?;
            errln!("Terminating session {} ({}) on {name}.", s.id, s.profile);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `ringlet profiles run ALIAS --remote NAME [-- args]`: starts a session of the remote's
/// profile ALIAS in a terminal of this one's size, and attaches to it.
pub fn run_remote(
    ringlet: &Ringlet,
    name: &str,
    alias: &str,
    args: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let (client, context) = connect(ringlet, name)?;
    let (rows, cols) = remote_terminal::size();
    let session = client
        .create_session(&NewRemoteSession::new(alias, rows, cols).args(args))
        .map_err(|e| context.explain(e))?;
    let attachment = client
        .attach(&session.id, false)
        .map_err(|e| context.explain(e))?;
    remote_terminal::drive(attachment, name)
}

/// What an error needs to say which remote it was and how to fix its token.
struct Remote {
    name: String,
    url: String,
}

impl Remote {
    fn explain(&self, e: ClientError) -> anyhow::Error {
        if e.status() == Some(401) {
            anyhow::anyhow!(
                "{e}; store the server's current token with `ringlet remotes add {} --url {} --replace`",
                self.name,
                output::clean(&self.url)
            )
        } else {
            anyhow::anyhow!("{}: {e}", self.name)
        }
    }
}

fn connect(ringlet: &Ringlet, name: &str) -> anyhow::Result<(Client, Remote)> {
    let remote = ringlet.remote(name)?;
    let token = ringlet.remote_token(name)?;
    let client = Client::new(&remote.url, token)
        .with_context(|| format!("remote {name} has an unusable URL"))?;
    Ok((
        client,
        Remote {
            name: name.to_string(),
            url: remote.url,
        },
    ))
}

fn state(s: &RemoteSession) -> String {
    match s.exit_code {
        Some(code) => format!("{} ({code})", s.state),
        None => s.state.clone(),
    }
}

fn uptime(s: &RemoteSession) -> String {
    let end = s.ended_at.unwrap_or_else(Utc::now);
    let secs = (end - s.created_at).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        s => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

fn clients(s: &RemoteSession) -> String {
    match (s.clients, s.exit_code) {
        (0, None) => "0 (detached)".into(),
        (n, _) => n.to_string(),
    }
}
