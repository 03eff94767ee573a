use std::process::ExitCode;

use ringlet::Ringlet;

use crate::output;
use crate::output::outln;

pub fn run(ringlet: &Ringlet, json: bool) -> anyhow::Result<ExitCode> {
    let report = ringlet.init()?;
    if json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("ringlet is set up:");
    output::fields(&[
        ("config", report.config_dir.display().to_string()),
        ("data", report.data_dir.display().to_string()),
        ("cache", report.cache_dir.display().to_string()),
    ]);
    outln!();
    let installed: Vec<_> = report.agents.iter().filter(|a| a.installed).collect();
    if installed.is_empty() {
        outln!("No agents found on PATH. Install one, for example:");
        for a in report.agents.iter().take(3) {
            outln!("  {}", a.install);
        }
    } else {
        outln!("Agents found:");
        for a in &installed {
            outln!(
                "  {:<10} {}",
                a.id,
                a.version.as_deref().unwrap_or("(version unknown)")
            );
        }
    }
    let example = installed.first().map_or("claude", |a| a.id.as_str());
    outln!();
    outln!("Next steps:");
    outln!("  ringlet providers list");
    outln!("  ringlet profiles create {example} work --provider <provider>");
    outln!("  ringlet profiles run work");
    super::usage::offer_imports(ringlet)?;
    Ok(ExitCode::SUCCESS)
}
