use std::process::ExitCode;

use ringlet::{AgentInfo, Ringlet};

use crate::cli::AgentsCmd;
use crate::output::{self, or_dash};

pub fn run(ringlet: &Ringlet, cmd: AgentsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AgentsCmd::List(j) => {
            let agents = ringlet.agents()?;
            if j.json {
                output::json(&agents)?;
            } else {
                let mut t =
                    output::table(&["AGENT", "NAME", "INSTALLED", "VERSION", "PROFILES", "PATH"]);
                for a in &agents {
                    t.add_row([
                        a.id.clone(),
                        a.name.clone(),
                        if a.installed { "yes" } else { "no" }.into(),
                        or_dash(a.version.as_deref()),
                        a.profiles.to_string(),
                        or_dash(a.path.as_ref().map(|p| p.display())),
                    ]);
                }
                output::print_table(&t);
            }
        }
        AgentsCmd::Inspect { id, json } => {
            let a = ringlet.agent(&id)?;
            if json.json {
                output::json(&a)?;
            } else {
                inspect(&a);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect(a: &AgentInfo) {
    output::fields(&[
        ("id", a.id.clone()),
        ("name", a.name.clone()),
        ("installed", if a.installed { "yes" } else { "no" }.into()),
        ("path", or_dash(a.path.as_ref().map(|p| p.display()))),
        (
            "version",
            a.version
                .clone()
                .or_else(|| a.version_error.clone())
                .unwrap_or_else(|| "-".into()),
        ),
        (
            "speaks",
            a.speaks
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("profiles", a.profiles.to_string()),
        ("install", a.install.clone()),
        (
            "manifest",
            match &a.source {
                ringlet::Source::BuiltIn => "built-in".into(),
                ringlet::Source::File(p) => p.display().to_string(),
            },
        ),
    ]);
}
