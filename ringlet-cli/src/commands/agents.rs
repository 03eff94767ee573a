use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ringlet::{AgentInfo, DetectProgress, Ringlet};

use crate::cli::AgentsCmd;
use crate::output::{self, or_dash};

pub fn run(ringlet: &Ringlet, cmd: AgentsCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        AgentsCmd::List(j) => {
            let agents = list_with_progress(ringlet)?;
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
                        version_cell(a),
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

/// The version, `unknown` when the agent is installed but its probe failed or timed out (the
/// warning printed after the table says why), `-` when it is not installed.
fn version_cell(a: &AgentInfo) -> String {
    match (&a.version, &a.version_error) {
        (Some(v), _) => v.clone(),
        (None, Some(_)) => "unknown".into(),
        (None, None) => "-".into(),
    }
}

/// Lists the agents. On a terminal (stderr), a first listing, which starts every agent's
/// `--version` and can take seconds, shows which agents it is still waiting for; nothing is
/// drawn when every version is cached, nor when stderr is not a terminal.
fn list_with_progress(ringlet: &Ringlet) -> anyhow::Result<Vec<AgentInfo>> {
    if !std::io::stderr().is_terminal() {
        return Ok(ringlet.agents()?);
    }
    let bar: OnceLock<indicatif::ProgressBar> = OnceLock::new();
    let waiting: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let progress = |p: DetectProgress<'_>| {
        let mut waiting = waiting.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            DetectProgress::Probing { agent } => waiting.push(agent.to_string()),
            DetectProgress::Probed { agent } => waiting.retain(|a| a != agent),
            _ => return,
        }
        let bar = bar.get_or_init(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(if waiting.is_empty() {
            "checked the agents' versions".to_string()
        } else {
            format!("checking the version of {}", waiting.join(", "))
        });
    };
    let agents = ringlet.agents_with_progress(&progress);
    if let Some(bar) = bar.get() {
        bar.finish_and_clear();
    }
    Ok(agents?)
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
        ("one-shot", or_dash(one_shot(a))),
        ("install", a.install.clone()),
        ("manifest", a.source.to_string()),
    ]);
}

/// The one-shot form as a command line, `{prompt}` quoted as the prompt will be.
fn one_shot(a: &AgentInfo) -> Option<String> {
    let binary = a
        .path
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(|| a.id.clone(), |n| n.to_string_lossy().into_owned());
    (!a.one_shot.is_empty()).then(|| {
        let args: Vec<String> = a
            .one_shot
            .iter()
            .map(|arg| match arg.as_str() {
                ringlet::PROMPT_PLACEHOLDER => "\"<prompt>\"".to_string(),
                _ => arg.clone(),
            })
            .collect();
        format!("{binary} {}", args.join(" "))
    })
}
