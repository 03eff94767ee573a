//! `statusline`: the line Claude Code shows under its prompt. Claude Code runs this command with
//! the session's JSON on stdin; the library reads the ledger and renders the line.

use std::process::ExitCode;

use clap::Args;
use ringlet::{Ringlet, StatuslineContext, StatuslineInput};

use crate::output;

/// Claude Code's session JSON is a few hundred bytes; anything past this is not it.
const MAX_INPUT_BYTES: u64 = 1 << 20;

#[derive(Debug, Args)]
pub struct StatuslineArgs {
    /// Today in this time zone (IANA name or UTC; default: the system's).
    #[arg(short = 'z', long, value_name = "NAME")]
    pub timezone: Option<String>,
    /// Print the line's parts as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(ringlet: &Ringlet, args: StatuslineArgs) -> anyhow::Result<ExitCode> {
    let input = ringlet::read_capped(std::io::stdin().lock(), "stdin", MAX_INPUT_BYTES)?;
    let input: StatuslineInput = if input.trim().is_empty() {
        StatuslineInput::default()
    } else {
        serde_json::from_str(&input).map_err(|e| {
            anyhow::anyhow!("stdin is not the JSON Claude Code passes a status line: {e}")
        })?
    };
    // `profiles run` sets RINGLET_PROFILE; an agent started otherwise in a profile HOME is
    // found by its HOME.
    let cx = StatuslineContext {
        profile: std::env::var("RINGLET_PROFILE").ok(),
        home: std::env::var_os("HOME").map(Into::into),
        timezone: args.timezone,
    };
    let line = ringlet.statusline(&input, &cx)?;
    if args.json {
        output::json(&line)?;
    } else {
        output::line(&line.text);
    }
    Ok(ExitCode::SUCCESS)
}

/// The command Claude Code runs for ringlet's status line: this ringlet, by its absolute path
/// (Claude Code's PATH may not have it), with the `--home` this command was given.
pub fn command(home: Option<&std::path::Path>) -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let mut cmd = shell_quote(&exe.to_string_lossy());
    if let Some(home) = home {
        cmd.push_str(" --home ");
        cmd.push_str(&shell_quote(&std::path::absolute(home)?.to_string_lossy()));
    }
    cmd.push_str(" statusline");
    Ok(cmd)
}

/// `s` as one word for `sh` (Claude Code runs the command through a shell).
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("/usr/bin/ringlet"), "/usr/bin/ringlet");
        assert_eq!(
            shell_quote("/opt/my tools/ringlet"),
            "'/opt/my tools/ringlet'"
        );
        assert_eq!(shell_quote("/a'b"), "'/a'\\''b'");
    }
}
