//! `ringlet`: a thin command-line frontend over the `ringlet` library. It parses arguments,
//! calls the facade, and renders results; all behaviour lives in the library.

// `print!` and friends panic on a closed pipe: all output goes through `output`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod complete;
mod error;
mod output;
mod prompt;
mod style;

use std::process::ExitCode;

fn main() -> ExitCode {
    complete::handle();
    let cli = cli::Cli::parse_args();
    output::set_verbosity(match (cli.quiet, cli.verbose) {
        (true, _) => output::Verbosity::Quiet,
        (_, true) => output::Verbosity::Verbose,
        _ => output::Verbosity::Normal,
    });
    style::init(cli.color);
    let json = cli.wants_json();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => error::report(&err, json),
    }
}
