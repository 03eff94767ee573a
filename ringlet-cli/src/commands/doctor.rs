//! `ringlet doctor`: the facade's report, one line per check and the fix under each problem.

use std::process::ExitCode;

use ringlet::{CheckStatus, Ringlet};

use crate::output::{self, outln};

pub fn run(ringlet: &Ringlet, json: bool) -> anyhow::Result<ExitCode> {
    let report = ringlet.doctor()?;
    if json {
        output::json(&report)?;
    } else {
        let width = report
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(0);
        for c in &report.checks {
            let status = match c.status {
                CheckStatus::Ok => "ok  ",
                CheckStatus::Warn => "warn",
                _ => "FAIL",
            };
            outln!("{status}  {:width$}  {}", c.name, output::clean(&c.detail));
            if let Some(fix) = &c.fix {
                outln!("      {:width$}  fix: {}", "", output::clean(fix));
            }
        }
        let count = |s: CheckStatus| report.checks.iter().filter(|c| c.status == s).count();
        outln!(
            "\n{} ok, {} warnings, {} failed.",
            count(CheckStatus::Ok),
            count(CheckStatus::Warn),
            count(CheckStatus::Fail)
        );
    }
    Ok(if report.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
