//! `routing show|check`: a profile's routing rules (docs/proxy.md#routing). They are installed
//! with `profiles set ALIAS --routing FILE`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ringlet::Ringlet;
use ringlet::proxy::routing::{Route, RoutePlan, Target};

use crate::cli::JsonFlag;
use crate::output::{self, errln};

pub const ROUTING_EXAMPLES: &str = "\
Examples:
  ringlet routing check work rules.toml              # check without installing
  ringlet profiles set work --routing rules.toml     # check and install
  ringlet routing show work --json
  ringlet profiles set work --no-routing             # back to the profile's provider";

#[derive(Debug, Subcommand)]
pub enum RoutingCmd {
    /// Show a profile's routing rules, checked, in the order they are tried.
    Show {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Check a routing.toml for a profile without installing it (default: the installed one).
    Check {
        /// The profile alias.
        #[arg(add = crate::complete::profiles())]
        alias: String,
        /// The file to check (`-` for standard input).
        file: Option<PathBuf>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

impl RoutingCmd {
    pub fn wants_json(&self) -> bool {
        match self {
            RoutingCmd::Show { json, .. } | RoutingCmd::Check { json, .. } => json.json,
        }
    }
}

/// Reads a rules file (`-`: standard input), at most the size a routing.toml may have.
pub fn read_rules(path: &Path) -> anyhow::Result<String> {
    let limit = ringlet::proxy::routing::MAX_ROUTING_FILE_BYTES;
    Ok(if path == Path::new("-") {
        ringlet::read_capped(std::io::stdin().lock(), "<stdin>", limit)?
    } else {
        ringlet::read_file_capped(path, limit)?
    })
}

pub fn run(ringlet: &Ringlet, cmd: RoutingCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        RoutingCmd::Show { alias, json } => {
            let plan = ringlet.routing(&alias)?;
            if json.json {
                output::json(&plan)?;
            } else if let Some(plan) = plan {
                print_plan(&plan);
            } else {
                errln!(
                    "Profile '{alias}' has no routing rules: every request goes to its provider. Add some with: ringlet profiles set {alias} --routing FILE"
                );
            }
        }
        RoutingCmd::Check { alias, file, json } => {
            let plan = match file {
                Some(file) => {
                    let text = read_rules(&file)?;
                    ringlet.check_routing(&alias, &text, &file)?
                }
                None => ringlet.routing(&alias)?.ok_or_else(|| {
                    anyhow::anyhow!("profile '{alias}' has no routing rules to check; give a FILE")
                })?,
            };
            if json.json {
                output::json(&plan)?;
            } else {
                print_plan(&plan);
                errln!("The rules check: {}.", rule_count(&plan));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn rule_count(plan: &RoutePlan) -> String {
    output::count(plan.rules.len() as u64, "rule", "rules") + " and a default"
}

fn target(t: &Target) -> String {
    let model = t.model.as_deref().unwrap_or("(as asked)");
    format!("{} {model} ({})", t.provider, t.shape)
}

fn conditions(r: &Route) -> String {
    let Some(m) = &r.when else {
        return "(anything else)".into();
    };
    // The match table as TOML's inline form, as it was written.
    let v = serde_json::to_value(m).unwrap_or_default();
    let parts: Vec<String> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    parts.join(", ")
}

/// One row per rule and the default: what it matches, where it goes, what follows on failure.
pub fn print_plan(plan: &RoutePlan) {
    let mut t = output::table(&["#", "RULE", "MATCH", "TO", "FALLBACK"]);
    for (i, r) in plan.rules.iter().chain([&plan.default]).enumerate() {
        let n = if r.when.is_some() {
            (i + 1).to_string()
        } else {
            "-".into()
        };
        let fallback: Vec<String> = r.targets.iter().skip(1).map(target).collect();
        t.add_row([
            n,
            r.label.clone(),
            conditions(r),
            r.targets.first().map(target).unwrap_or_default(),
            output::or_dash((!fallback.is_empty()).then(|| fallback.join(" → "))),
        ]);
    }
    output::print_table(&t);
}
