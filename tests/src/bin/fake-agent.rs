//! A stand-in agent binary for ringlet's integration tests and benchmarks. It records what it
//! was started with (argv, environment, working directory) as JSON, so a test can check exactly
//! what ringlet handed to an agent.
//!
//! Behaviour:
//! - `--version` prints `fake-agent 1.0.0`.
//! - `$FAKE_AGENT_RECORD` (a file path): the record is written there.
//! - `--exit N` exits with N; `--sleep-ms N` sleeps first; `--touch REL` creates `$HOME/REL`;
//!   `--kill-self` ends by SIGKILL (to test exit-code mapping).

use std::collections::BTreeMap;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--version") {
        println!("fake-agent 1.0.0");
        return ExitCode::SUCCESS;
    }
    let mut exit = 0u8;
    let mut kill_self = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--exit" => exit = iter.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--sleep-ms" => {
                let ms = iter.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            "--touch" => {
                if let (Some(rel), Some(home)) = (iter.next(), std::env::var_os("HOME")) {
                    let path = std::path::Path::new(&home).join(rel);
                    if let Some(dir) = path.parent() {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = std::fs::write(path, b"state");
                }
            }
            "--kill-self" => kill_self = true,
            _ => {}
        }
    }
    if let Some(path) = std::env::var_os("FAKE_AGENT_RECORD") {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let record = serde_json::json!({
            "argv": args,
            "env": env,
            "cwd": std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
            "pid": std::process::id(),
        });
        let _ = std::fs::write(path, record.to_string());
    }
    if kill_self {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
    }
    ExitCode::from(exit)
}
