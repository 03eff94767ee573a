//! Dynamic shell completion: the shell asks the `ringlet` binary itself for candidates
//! (clap_complete's `CompleteEnv`), so profile, agent, provider and hook names come from the
//! user's own ringlet home, as they are now, instead of a script's snapshot.
//!
//! The shell calls `RINGLET_COMPLETE=<shell> ringlet -- <words>`; [`handle`] answers that before
//! anything else runs and exits. `ringlet completions <shell>` prints the script that makes the
//! shell do so ([`registration`]).

use std::ffi::OsString;

use clap::CommandFactory;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{CompleteEnv, Shells};
use ringlet::Ringlet;

use crate::cli::Cli;

/// The environment variable that turns a `ringlet` call into a completion request.
pub const VAR: &str = "RINGLET_COMPLETE";

/// Answers a completion request and exits, when the process is one; otherwise returns at once
/// (one environment lookup).
pub fn handle() {
    if std::env::var_os(VAR).is_none() {
        return;
    }
    CompleteEnv::with_factory(Cli::command).var(VAR).complete();
}

/// The script that registers dynamic completion in `shell`, calling this binary as it was
/// started (`ringlet` from PATH, or the path it was run by).
pub fn registration(shell: &str) -> std::io::Result<Vec<u8>> {
    let shells = Shells::builtins();
    let completer = shells.completer(shell).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("no dynamic completion for {shell}"),
        )
    })?;
    let program = program();
    let mut script = Vec::new();
    completer.write_registration(VAR, "ringlet", "ringlet", &program, &mut script)?;
    Ok(script)
}

/// How the shell should call this binary back: as started when that was a path (made
/// absolute), else by name from PATH.
fn program() -> String {
    let argv0 = std::env::args_os()
        .next()
        .unwrap_or_else(|| "ringlet".into());
    let path = std::path::PathBuf::from(&argv0);
    if path.components().count() > 1 {
        std::path::absolute(&path)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    } else {
        argv0.to_string_lossy().into_owned()
    }
}

/// The ringlet home the command line being completed names (`--home DIR` or `--home=DIR`),
/// else `RINGLET_HOME` or the platform's, as for a real run.
fn open() -> Option<Ringlet> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut home = None;
    for (i, arg) in args.iter().enumerate() {
        let Some(arg) = arg.to_str() else { continue };
        if arg == "--home" {
            home = args.get(i + 1).cloned();
        } else if let Some(dir) = arg.strip_prefix("--home=") {
            home = Some(dir.into());
        }
    }
    let builder = Ringlet::builder();
    let builder = match home.filter(|h| !h.is_empty()) {
        Some(dir) => builder.home(std::path::absolute(std::path::PathBuf::from(dir)).ok()?),
        None => builder,
    };
    builder.build().ok()
}

/// Candidates from the ringlet home, or none when it cannot be opened (a completion never
/// prints an error into the user's command line).
fn from_home(list: impl FnOnce(&Ringlet) -> Vec<CompletionCandidate>) -> Vec<CompletionCandidate> {
    open().map(|r| list(&r)).unwrap_or_default()
}

/// Profile aliases, each with its agent and provider.
pub fn profiles() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_home(|r| {
            r.profiles()
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    CompletionCandidate::new(&p.alias)
                        .help(Some(format!("{} via {}", p.agent, p.provider).into()))
                })
                .collect()
        })
    })
}

/// Agent ids (built-in and from agents.d).
pub fn agents() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_home(|r| {
            r.catalogue()
                .agents()
                .map(|a| CompletionCandidate::new(a.id()))
                .collect()
        })
    })
}

/// Provider ids (built-in and from providers.d), each with its name.
pub fn providers() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_home(|r| {
            r.providers()
                .into_iter()
                .map(|p| CompletionCandidate::new(&p.id).help(Some(p.name.into())))
                .collect()
        })
    })
}

/// Hook ids, each with its event and profile.
pub fn hooks() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        from_home(|r| {
            r.hooks()
                .unwrap_or_default()
                .into_iter()
                .map(|h| {
                    let scope = h.profile.as_deref().unwrap_or("all profiles");
                    CompletionCandidate::new(&h.rule.id)
                        .help(Some(format!("{} on {scope}", h.rule.event).into()))
                })
                .collect()
        })
    })
}
