//! `ringlet-fake-api [--port N] [--record FILE.jsonl] [--text TEXT] [--model ID]...
//!  [--reply-text TEXT | --reply-tool NAME=JSON]... [--script-only-tool-requests]`
//!
//! Runs the fake model API as a standalone process, for trying an agent against it by hand and
//! for tests that drive agents from a shell. The first stdout line is
//! `listening on http://127.0.0.1:PORT` (flushed at once, so a parent reading it can go on);
//! each request is appended to the record file as a JSON line. Runs until killed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use ringlet_tests::fake_api::{FakeApi, FakeApiConfig, Reply};

const USAGE: &str = "usage: ringlet-fake-api [--port N] [--record FILE.jsonl] [--text TEXT] \
                     [--model ID]... [--reply-text TEXT | --reply-tool NAME=JSON]... \
                     [--script-only-tool-requests]\n\
                     \n\
                     Serves a fake Anthropic / OpenAI / Gemini model API on 127.0.0.1 and\n\
                     records every request. Runs until killed.\n\
                     \n\
                     --text TEXT             default reply (\"pong\")\n\
                     --model ID              model id listed by /v1/models (repeatable)\n\
                     --reply-text TEXT       script a text reply (repeatable, in order)\n\
                     --reply-tool NAME=JSON  script a tool call with JSON arguments\n\
                     --script-only-tool-requests\n\
                     \x20                       only requests that declare tools consume scripted\n\
                     \x20                       replies (OpenCode's tool-less title call would\n\
                     \x20                       otherwise eat the first one)";

fn parse_args(args: impl Iterator<Item = String>) -> Result<FakeApiConfig, String> {
    let mut config = FakeApiConfig::default();
    let mut models = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--port" => {
                let port = value("--port")?;
                config.port = port
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {port}"))?;
            }
            "--record" => config.record_file = Some(PathBuf::from(value("--record")?)),
            "--text" => config.default_text = value("--text")?,
            "--model" => models.push(value("--model")?),
            "--reply-text" => config.replies.push(Reply::Text(value("--reply-text")?)),
            "--reply-tool" => {
                let spec = value("--reply-tool")?;
                let (name, input) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--reply-tool wants NAME=JSON, got: {spec}"))?;
                let input = serde_json::from_str(input)
                    .map_err(|err| format!("--reply-tool {name}: arguments are not JSON: {err}"))?;
                config.replies.push(Reply::ToolUse {
                    name: name.to_string(),
                    input,
                });
            }
            "--script-only-tool-requests" => config.script_only_tool_requests = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument: {other}\n{USAGE}")),
        }
    }
    if !models.is_empty() {
        config.models = models;
    }
    Ok(config)
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let api = match FakeApi::start_with(config) {
        Ok(api) => api,
        Err(err) => {
            eprintln!("ringlet-fake-api: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "listening on {}", api.base_url())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Nobody is reading; keep serving anyway, the record file still works.
    }
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<FakeApiConfig, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags() {
        let c = parse(&[
            "--port",
            "8080",
            "--record=/tmp/x.jsonl",
            "--model",
            "a",
            "--model=b",
        ])
        .expect("valid flags");
        assert_eq!(c.port, 8080);
        assert_eq!(c.record_file, Some(PathBuf::from("/tmp/x.jsonl")));
        assert_eq!(c.models, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(parse(&[]).expect("no flags").port, 0);
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--bogus"]).is_err());

        let c = parse(&[
            "--reply-tool",
            "Bash={\"command\":\"ls\"}",
            "--reply-text",
            "done",
        ])
        .expect("valid replies");
        assert_eq!(
            c.replies,
            vec![
                Reply::ToolUse {
                    name: "Bash".into(),
                    input: serde_json::json!({"command": "ls"}),
                },
                Reply::Text("done".into()),
            ]
        );
        assert!(parse(&["--reply-tool", "Bash"]).is_err());
        assert!(!c.script_only_tool_requests);
        assert!(
            parse(&["--script-only-tool-requests"])
                .expect("flag")
                .script_only_tool_requests
        );
        assert!(parse(&["--reply-tool", "Bash={"]).is_err());
    }
}
