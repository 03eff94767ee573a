//! `ringlet`: a thin command-line frontend over the `ringlet` library. It parses arguments,
//! calls the facade, and renders results; all behaviour lives in the library.

// `print!` and friends panic on a closed pipe: all output goes through `output`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod output;
mod prompt;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_args();
    let json = cli.wants_json();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(err) => {
            report(&err, json);
            ExitCode::FAILURE
        }
    }
}

/// One line on stderr; with `--json`, a JSON object scripts can parse.
fn report(err: &anyhow::Error, json: bool) {
    let message = err
        .chain()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
        .replace('\n', " ");
    if json {
        let code = err
            .downcast_ref::<ringlet::Error>()
            .map_or("error", |e| e.code());
        output::err_line(
            &serde_json::json!({ "error": { "code": code, "message": message } }).to_string(),
        );
    } else {
        output::err_line(&format!("ringlet: error: {message}"));
    }
}
