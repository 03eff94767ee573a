//! `profiles run ALIAS --prompt TEXT`: one question, any agent, the answer on stdout.

use std::process::ExitCode;

use ringlet::{Ringlet, RunOptions};

use crate::output::{self, errln, outln};

pub fn run(
    ringlet: &Ringlet,
    alias: &str,
    prompt: &str,
    options: RunOptions,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let answer = ringlet.prompt(alias, prompt, options)?;
    if json {
        output::json(&answer)?;
    } else {
        if answer.exit_code != 0 {
            // What the agent said about its failure: its own words are the diagnosis.
            let said = answer.stderr.trim_end();
            if !said.is_empty() {
                errln!("{said}");
            }
            errln!(
                "ringlet: the agent of '{alias}' exited with status {}",
                answer.exit_code
            );
        }
        if !answer.answer.is_empty() {
            outln!("{}", answer.answer);
        }
    }
    Ok(ExitCode::from(u8::try_from(answer.exit_code).unwrap_or(1)))
}
