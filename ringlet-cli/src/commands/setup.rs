//! `ringlet export`, `ringlet import FILE` (and telling it from `ringlet import <agent>`), and
//! the profile `profiles run` picks when given none.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use ringlet::{
    DEFAULT_PROFILE_ENV, ImportOutcome, ProfileChoiceSource, REMOTE_TOKEN_PROVIDER, Ringlet,
    SetupDocument, SetupImportOptions, SetupImportReport, SetupItemKind,
};

use crate::commands::usage::ImportArgs;
use crate::output::{self, errln, outln};

pub const EXPORT_EXAMPLES: &str = "\
Examples:
  ringlet export --output setup.json                 # then, on the new machine:
  ringlet import setup.json --dry-run                # see what it would do
  ringlet import setup.json --rename work=work-old --skip-existing";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the setup to this file (created 0600) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `ringlet export`.
pub fn export(ringlet: &Ringlet, a: ExportArgs) -> anyhow::Result<ExitCode> {
    let doc = ringlet.export_setup()?;
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    match &a.output {
        Some(path) => {
            write_private(path, text.as_bytes())?;
            let keys = doc.keys.len();
            errln!(
                "Exported {} profile{}, {} hook{}, {} remote{} and config.toml to {}; no key, token or password is in it ({} to store again on the new machine).",
                doc.profiles.len(),
                plural(doc.profiles.len()),
                doc.hooks.len() + doc.profiles.iter().map(|p| p.hooks.len()).sum::<usize>(),
                plural(doc.hooks.len() + doc.profiles.iter().map(|p| p.hooks.len()).sum::<usize>()),
                doc.remotes.len(),
                plural(doc.remotes.len()),
                path.display(),
                if keys == 1 {
                    "1 key".to_string()
                } else {
                    format!("{keys} keys")
                },
            );
        }
        None => output::raw(text.as_bytes()),
    }
    Ok(ExitCode::SUCCESS)
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Writes the file 0600, atomically: a temporary file beside it, synced, renamed over it.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let path = std::path::absolute(path)?;
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    Ok(())
}

/// What `ringlet import SOURCE` means.
#[derive(Debug, PartialEq, Eq)]
enum ImportSource {
    /// An agent id: import its usage logs.
    AgentLogs,
    /// A setup file (`-`: standard input).
    Setup,
}

/// Tells `ringlet import <agent>` from `ringlet import FILE`. Agent ids are a closed set (the
/// catalogue's), so: `-`, anything with a `/`, or a name ending in `.json` is a setup file; an
/// agent id is the agent, unless a file of that name is here too and `--to` does not settle
/// it, which is refused as ambiguous; any other name is a setup file, unless `--to`/`--from`
/// (which only a log import takes) say it was meant as an agent (then the log import's
/// "unknown agent" error, with its suggestion, answers).
fn classify(source: &str, agents: &[String], to_given: bool) -> anyhow::Result<ImportSource> {
    if source == "-" || source.contains('/') || source.ends_with(".json") {
        return Ok(ImportSource::Setup);
    }
    if agents.iter().any(|a| a == source) {
        if !to_given && Path::new(source).exists() {
            bail!(
                "'{source}' is both an agent and a file in this directory; to import the setup in the file write ./{source}, to import {source}'s usage logs pass --to PROFILE"
            );
        }
        return Ok(ImportSource::AgentLogs);
    }
    if to_given {
        return Ok(ImportSource::AgentLogs);
    }
    Ok(ImportSource::Setup)
}

/// `ringlet import …`: an agent's logs or a setup.
pub fn import(ringlet: &Ringlet, a: ImportArgs) -> anyhow::Result<ExitCode> {
    let agents: Vec<String> = ringlet
        .catalogue()
        .agents()
        .map(|a| a.id().to_string())
        .collect();
    match classify(&a.source, &agents, a.to.is_some() || a.from.is_some())? {
        ImportSource::AgentLogs => {
            if a.skip_existing || !a.rename.is_empty() {
                bail!(
                    "--rename and --skip-existing are for importing a setup file; '{}' is an agent, whose logs and state are imported with --to PROFILE",
                    a.source
                );
            }
            let Some(to) = a.to.clone() else {
                bail!(
                    "importing {}'s usage logs needs the profile to attribute them to: pass --to PROFILE (a setup file is given by its path, e.g. ./{})",
                    a.source,
                    a.source
                );
            };
            super::usage::import_agent(ringlet, &a.source, &to, &a)
        }
        ImportSource::Setup => import_setup(ringlet, &a),
    }
}

fn import_setup(ringlet: &Ringlet, a: &ImportArgs) -> anyhow::Result<ExitCode> {
    if a.no_state {
        bail!(
            "--no-state is for an agent's import (`ringlet import AGENT --to PROFILE --no-state`); '{}' is read as a setup file",
            a.source
        );
    }
    if a.to.is_some() || a.from.is_some() {
        let agents: Vec<String> = ringlet
            .catalogue()
            .agents()
            .map(|a| a.id().to_string())
            .collect();
        bail!(
            "'{}' is not an agent ({}), so it is read as a setup file, which takes no --to or --from",
            a.source,
            agents.join(", ")
        );
    }
    let text = if a.source == "-" {
        ringlet::read_capped(std::io::stdin().lock(), "<stdin>", 16 * 1024 * 1024)?
    } else {
        let path = Path::new(&a.source);
        if !path.exists() {
            let agents: Vec<String> = ringlet
                .catalogue()
                .agents()
                .map(|a| a.id().to_string())
                .collect();
            bail!(
                "no file '{}', and it is not an agent either ({}): give a setup file written by `ringlet export`, or an agent with --to PROFILE",
                a.source,
                agents.join(", ")
            );
        }
        ringlet::read_file_capped(path, 16 * 1024 * 1024)?
    };
    let doc = SetupDocument::parse(&text).with_context(|| {
        format!(
            "reading {}",
            if a.source == "-" {
                "<stdin>"
            } else {
                &a.source
            }
        )
    })?;
    let mut options = SetupImportOptions::new()
        .dry_run(a.dry_run)
        .skip_existing(a.skip_existing);
    for pair in &a.rename {
        let Some((from, to)) = pair.split_once('=') else {
            bail!("--rename takes OLD=NEW, not '{pair}'");
        };
        options = options.rename(from, to);
    }
    let report = ringlet.import_setup(&doc, &options)?;
    if a.json {
        output::json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn kind_name(kind: SetupItemKind) -> &'static str {
    match kind {
        SetupItemKind::Profile => "profile",
        SetupItemKind::Hook => "hook",
        SetupItemKind::Routing => "routing",
        SetupItemKind::Config => "config",
        SetupItemKind::Remote => "remote",
        _ => "item",
    }
}

fn print_report(r: &SetupImportReport) {
    let verb = |o: ImportOutcome| match (o, r.dry_run) {
        (ImportOutcome::Created, false) => "created",
        (ImportOutcome::Created, true) => "would create",
        (ImportOutcome::Unchanged, _) => "unchanged",
        (ImportOutcome::Skipped, false) => "kept this machine's",
        (ImportOutcome::Skipped, true) => "would keep this machine's",
        _ => "",
    };
    for item in &r.items {
        let name = match (&item.kind, item.name.as_str()) {
            (SetupItemKind::Routing, "*") => "(every profile)".to_string(),
            _ => item.name.clone(),
        };
        let renamed = item
            .renamed_from
            .as_ref()
            .map(|f| format!(" (was '{f}')"))
            .unwrap_or_default();
        outln!(
            "{:<8} {name}{renamed}: {}",
            kind_name(item.kind),
            verb(item.outcome)
        );
    }
    errln!(
        "{} {} item{}, {} unchanged, {} kept as they were here.",
        if r.dry_run {
            "Dry run: would create"
        } else {
            "Created"
        },
        r.count(ImportOutcome::Created),
        plural(r.count(ImportOutcome::Created)),
        r.count(ImportOutcome::Unchanged),
        r.count(ImportOutcome::Skipped),
    );
    if !r.keys_to_set.is_empty() {
        errln!("Keys to store on this machine (none travels with a setup):");
        for k in &r.keys_to_set {
            let command = if k.provider == REMOTE_TOKEN_PROVIDER {
                format!(
                    "ringlet remotes add {} --url {} --replace",
                    k.alias,
                    k.remote_url.as_deref().unwrap_or("URL")
                )
            } else if k.provider == "team" {
                "ringlet team login".to_string()
            } else {
                format!("ringlet keychain set {} {}", k.provider, k.alias)
            };
            errln!("  {command}    # {}", k.used_by.join(", "));
        }
    }
    if let Some(commit) = &r.registry_pin {
        errln!(
            "The setup's machine was pinned to registry commit {commit}; pin this one too: ringlet registry pin {commit}"
        );
    }
    for e in &r.env_to_set {
        errln!(
            "  ringlet profiles set {} --env {}=…    # left out of the export: its name says it holds a secret",
            e.profile,
            e.name
        );
    }
}

/// The profile `profiles run` runs when none is named: a directory mapping, else
/// `RINGLET_DEFAULT_PROFILE` (docs/setup.md).
pub fn chosen_profile(ringlet: &Ringlet) -> anyhow::Result<String> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let env = std::env::var(DEFAULT_PROFILE_ENV).ok();
    let choice = ringlet.default_profile(&cwd, env.as_deref())?;
    output::detail(|| match (&choice.source, &choice.mapped_dir) {
        (ProfileChoiceSource::DirectoryMapping, Some(dir)) => format!(
            "running profile '{}': config.toml maps {} to it",
            choice.alias,
            dir.display()
        ),
        _ => format!(
            "running profile '{}' from {DEFAULT_PROFILE_ENV}",
            choice.alias
        ),
    });
    Ok(choice.alias)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_sources_are_told_apart() {
        let agents = vec!["claude".to_string(), "codex".to_string()];
        for (source, to, want) in [
            ("claude", true, ImportSource::AgentLogs),
            ("codex", false, ImportSource::AgentLogs),
            ("./claude", false, ImportSource::Setup),
            ("/tmp/claude", false, ImportSource::Setup),
            ("setup.json", false, ImportSource::Setup),
            ("-", false, ImportSource::Setup),
            ("backup", false, ImportSource::Setup),
            ("clod", true, ImportSource::AgentLogs),
            ("./clod", true, ImportSource::Setup),
        ] {
            assert_eq!(
                classify(source, &agents, to).expect(source),
                want,
                "{source}"
            );
        }
    }
}
