//! The agent-state half of `ringlet import AGENT --to ALIAS`: settings, memory, MCP servers,
//! trust and history from the user's HOME into the profile HOME (never credentials).

use std::process::ExitCode;

use ringlet::{ImportReport, Ringlet, StateAction, StateImportReport};

use super::usage::ImportArgs;
use crate::output::{self, errln, outln};

/// Brings the state (or, with `--dry-run`, lists it) and prints it with the log import's
/// `logs` report, when there was one.
pub fn import(
    ringlet: &Ringlet,
    agent: &str,
    to: &str,
    a: &ImportArgs,
    logs: Option<&ImportReport>,
) -> anyhow::Result<ExitCode> {
    // `--from` may name a log directory or file for the logs; state needs a HOME.
    let from = a.from.clone().filter(|p| p.is_dir());
    let state = match (&a.from, from) {
        (Some(_), None) => None,
        (_, from) => Some(ringlet.import_agent_state(agent, to, from, a.dry_run)?),
    };
    if a.json {
        let mut view = match logs {
            Some(report) => serde_json::to_value(report)?,
            None => serde_json::json!({ "agent": agent, "profile": to }),
        };
        view["state"] = serde_json::to_value(&state)?;
        output::json(&view)?;
        return Ok(ExitCode::SUCCESS);
    }
    match &state {
        Some(report) => print_state(report),
        None => {
            errln!("No agent state imported: --from names a log directory or file, not a HOME.")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_state(r: &StateImportReport) {
    if r.items.is_empty() {
        outln!(
            "No {} state found in {}; nothing else to bring.",
            r.agent,
            r.from.display()
        );
        return;
    }
    let verb = if r.dry_run { "Would bring" } else { "Brought" };
    outln!(
        "{verb} {}'s state from {} into profile '{}':",
        r.agent,
        r.from.display(),
        r.profile
    );
    let mut t = output::table(&["FILE", "ACTION", "CREDENTIALS REMOVED"]);
    for item in &r.items {
        let action = match (item.action, r.dry_run) {
            (StateAction::Copied, false) => "copied",
            (StateAction::Copied, true) => "copy",
            (StateAction::Merged, false) => "merged (the profile's values kept)",
            (StateAction::Merged, true) => "merge (the profile's values kept)",
            (StateAction::SkippedExists, _) => "skipped: the profile has its own",
            (StateAction::SkippedCredentials, _) => "skipped: credentials",
            (StateAction::SkippedUnreadable, _) => "skipped: not readable JSON/TOML",
            _ => "skipped",
        };
        t.add_row([
            item.path.clone(),
            action.to_string(),
            if item.stripped.is_empty() {
                "-".to_string()
            } else {
                item.stripped.join(", ")
            },
        ]);
    }
    output::print_table(&t);
}
