//! `ringlet registry sync|pin|inspect` (docs/registry.md), and the background refresh other
//! commands start when the snapshot is stale.

use std::path::Path;
use std::process::{ExitCode, Stdio};

use clap::{Args, Subcommand};
use ringlet::{RegistrySyncReport, Ringlet, SyncOptions, SyncSource};

use crate::cli::JsonFlag;
use crate::output::{self, count, errln, outln};

const REGISTRY_EXAMPLES: &str = "\
Examples:
  ringlet registry sync                              # fetch, verify, switch (if stale)
  ringlet registry sync --force --channel beta
  ringlet registry pin 4f1c2e9                       # hold this machine at one commit
  ringlet registry pin --unpin
  ringlet registry inspect --json
  RINGLET_REGISTRY_URL=file:///srv/registry ringlet registry sync";

#[derive(Debug, Subcommand)]
#[command(after_help = REGISTRY_EXAMPLES)]
pub enum RegistryCmd {
    /// Fetch the registry's signed index and artifacts, verify them, and switch to the new
    /// snapshot (only when the one in use is older than `[registry] max-age-hours`, or --force).
    #[command(after_help = REGISTRY_EXAMPLES)]
    Sync(SyncArgs),
    /// Hold this machine at one registry commit (verified like a sync); --unpin follows the
    /// channel again.
    #[command(after_help = REGISTRY_EXAMPLES)]
    Pin {
        /// The commit id (see `ringlet registry inspect`).
        #[arg(required_unless_present = "unpin", conflicts_with = "unpin")]
        commit: Option<String>,
        /// Follow the channel again from the next sync.
        #[arg(long)]
        unpin: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The registry in use: URL, channel, key, commit, age, pin, and its artifacts, with the
    /// signature and every checksum verified now.
    #[command(after_help = REGISTRY_EXAMPLES)]
    Inspect(JsonFlag),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Ask the registry even when the snapshot is fresh.
    #[arg(long, conflicts_with = "offline")]
    pub force: bool,
    /// Do not touch the network: report the snapshot in use.
    #[arg(long)]
    pub offline: bool,
    /// Follow this channel instead of `[registry] channel` (default `stable`).
    #[arg(long, value_name = "C")]
    pub channel: Option<String>,
    /// Run as the background refresh: print nothing.
    #[arg(long, hide = true)]
    pub background: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

impl RegistryCmd {
    /// Whether the command asked for JSON.
    pub fn wants_json(&self) -> bool {
        match self {
            Self::Sync(a) => a.json.json,
            Self::Pin { json, .. } | Self::Inspect(json) => json.json,
        }
    }
}

pub fn run(ringlet: &Ringlet, cmd: RegistryCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RegistryCmd::Sync(a) => {
            let report = ringlet.registry_sync(&SyncOptions {
                force: a.force,
                offline: a.offline,
                channel: a.channel,
            })?;
            if a.background {
                return Ok(ExitCode::SUCCESS);
            }
            if a.json.json {
                output::json(&report)?;
            } else {
                say(&report);
            }
        }
        RegistryCmd::Pin {
            commit,
            unpin: _,
            json,
        } => {
            let report = ringlet.registry_pin(commit.as_deref())?;
            if json.json {
                output::json(&report)?;
            } else if let Some(pin) = &report.pinned {
                outln!(
                    "Pinned to registry commit {pin} (channel {}); `ringlet registry pin --unpin` follows the channel again.",
                    report.channel
                );
            } else {
                outln!(
                    "Unpinned: the next `ringlet registry sync` follows channel {}.",
                    report.channel
                );
            }
        }
        RegistryCmd::Inspect(json) => {
            let status = ringlet.registry_status()?;
            if json.json {
                output::json(&status)?;
                return Ok(if status.problem.is_some() {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            outln!("registry   {}", output::clean(&status.url));
            outln!("channel    {}", status.channel);
            outln!(
                "key        {}",
                serde_json::to_value(status.key)?.as_str().unwrap_or("?")
            );
            let Some(commit) = &status.commit else {
                outln!("snapshot   none (built-in manifests and your files only)");
                errln!("Run `ringlet registry sync` to fetch one.");
                return Ok(ExitCode::SUCCESS);
            };
            outln!(
                "commit     {commit}{}",
                match (&status.pinned, status.serial) {
                    (Some(_), Some(s)) => format!(" (serial {s}, pinned)"),
                    (None, Some(s)) => format!(" (serial {s})"),
                    (Some(_), None) => " (pinned)".to_string(),
                    (None, None) => String::new(),
                }
            );
            if let Some(t) = status.synced_at {
                outln!(
                    "synced     {}{}",
                    t.format("%Y-%m-%d %H:%M UTC"),
                    if status.stale { " (stale)" } else { "" }
                );
            }
            outln!(
                "snapshot   {}",
                status.dir.join("commits").join(commit).display()
            );
            match &status.problem {
                None => outln!(
                    "verified   signature and {} checksums",
                    status.artifacts.len()
                ),
                Some(p) => {
                    outln!("verified   NO: {}", output::clean(p));
                }
            }
            if !status.artifacts.is_empty() {
                let mut t = output::table(&["KIND", "PATH", "SIZE", "SHA256"]);
                for a in &status.artifacts {
                    t.add_row([
                        serde_json::to_value(a.kind)?
                            .as_str()
                            .unwrap_or("?")
                            .to_string(),
                        a.path.clone(),
                        a.size.to_string(),
                        a.sha256[..12].to_string(),
                    ]);
                }
                output::print_table(&t);
            }
            if status.problem.is_some() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn say(r: &RegistrySyncReport) {
    let commit = r.commit.as_deref().unwrap_or("none");
    match r.source {
        SyncSource::Network if r.previous.as_deref() == r.commit.as_deref() => outln!(
            "Registry up to date at commit {commit} (channel {}).",
            r.channel
        ),
        SyncSource::Network => outln!(
            "Registry synced to commit {commit} (channel {}, serial {}): {} downloaded ({} bytes), {} reused.",
            r.channel,
            r.serial.unwrap_or(0),
            count(r.downloaded as u64, "artifact", "artifacts"),
            r.bytes,
            r.reused
        ),
        SyncSource::Cache => outln!(
            "Registry snapshot {commit} is fresh (channel {}); --force asks the registry anyway.",
            r.channel
        ),
        SyncSource::Offline if r.commit.is_none() => {
            outln!(
                "Offline, and no registry snapshot yet: built-in manifests and your files are used."
            )
        }
        SyncSource::Offline => outln!(
            "Offline: registry snapshot {commit} stays in use (channel {}).",
            r.channel
        ),
        SyncSource::Pinned => outln!(
            "Pinned to registry commit {commit}: not following channel {} (`ringlet registry pin --unpin`).",
            r.channel
        ),
        _ => outln!("Registry snapshot {commit}."),
    }
}

/// Starts `ringlet registry sync --background` detached, so a stale snapshot is refreshed
/// without this command (or any launch) waiting for the network.
pub fn refresh_in_background(home: Option<&Path>) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    if let Some(home) = home {
        cmd.arg("--home").arg(home);
    }
    cmd.args(["--quiet", "registry", "sync", "--background"]);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: the terminal's Ctrl-C does not reach it.
        cmd.process_group(0);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match cmd.spawn() {
        // Not waited for: it outlives this command; the reaper takes it.
        Ok(child) => drop(child),
        Err(e) => errln!("ringlet: warning: the background registry refresh did not start: {e}"),
    }
}
