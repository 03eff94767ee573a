use std::process::ExitCode;

use ringlet::Ringlet;

use crate::output;

pub fn run(ringlet: &Ringlet, json: bool) -> anyhow::Result<ExitCode> {
    let report = ringlet.init()?;
    if json {
        output::json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("ringlet is set up:");
    output::fields(&[
        ("config", report.config_dir.display().to_string()),
        ("data", report.data_dir.display().to_string()),
        ("cache", report.cache_dir.display().to_string()),
    ]);
    println!();
    let installed: Vec<_> = report.agents.iter().filter(|a| a.installed).collect();
    if installed.is_empty() {
        println!("No agents found on PATH. Install one, for example:");
        for a in report.agents.iter().take(3) {
            println!("  {}", a.install);
        }
    } else {
        println!("Agents found:");
        for a in &installed {
            println!(
                "  {:<10} {}",
                a.id,
                a.version.as_deref().unwrap_or("(version unknown)")
            );
        }
    }
    let example = installed.first().map_or("claude", |a| a.id.as_str());
    println!();
    println!("Next steps:");
    println!("  ringlet providers list");
    println!("  ringlet profiles create {example} work --provider <provider>");
    println!("  ringlet profiles run work");
    super::usage::offer_imports(ringlet)?;
    Ok(ExitCode::SUCCESS)
}
