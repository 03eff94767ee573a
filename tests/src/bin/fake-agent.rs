//! A stand-in agent binary for ringlet's integration tests and benchmarks. It records what it
//! was started with (argv, environment, working directory) as JSON, so a test can check exactly
//! what ringlet handed to an agent.
//!
//! Behaviour:
//! - `--version` prints `fake-agent 1.0.0`.
//! - `$FAKE_AGENT_RECORD` (a file path): the record is written there.
//! - `--exit N` exits with N; `--sleep-ms N` sleeps first; `--touch REL` creates `$HOME/REL`;
//!   `--kill-self` ends by SIGKILL (to test exit-code mapping).
//! - `--claude-log N` writes a Claude Code style transcript with N responses (1000 input and 100
//!   output tokens each, message ids unique across processes) to
//!   `$HOME/.claude/projects/-fake/<session>.jsonl`, in the model `$ANTHROPIC_MODEL` (or the one
//!   given with `--claude-model M`); `--alloc-mb N` touches N MiB (a known peak RSS).
//! - `--claude-hook EVENT JSON` fires a hook the way Claude Code does: the first command of
//!   `hooks.EVENT` in `$HOME/.claude/settings.json`, run by `sh -c` in the agent's own
//!   environment with JSON on stdin; its exit code goes into the record as `hook_exit`.
//! - `--ignore-term` handles SIGTERM by doing nothing; `--spawn-child FILE` starts
//!   `sh -c 'trap "" TERM; exec sleep 300'` (a child that ignores SIGTERM too) and writes
//!   `<own pid> <child pid>` to FILE (both before any `--sleep-ms` after them).
//! - The record holds `pgrp` (its process group) and `tty_foreground` (whether that group is
//!   the foreground group of the terminal on stdin; null without one).
//! - `--probe PATH` (repeatable) looks at PATH without changing anything, for the sandbox
//!   tests: the record's `probes.PATH` says whether it can be read (`readable`: a file's
//!   contents or a directory's listing) and whether it lies on a read-only mount
//!   (`read_only_mount`, from statvfs; null where that cannot be asked).
//! - `--write-probe PATH` (repeatable) tries to write PATH, for the sandbox tests: a directory
//!   gets a new file `ringlet-write-probe` in it, anything else has the line
//!   `ringlet-write-probe` appended (created when missing). The record's `writes.PATH` says
//!   whether it worked (`written`) and the error if not (`error`).
//! - `--interactive` (last, after the record is written) acts as a small interactive agent on
//!   a terminal: it prints `size ROWS COLS pid PID` (its terminal's size, from `stty size`),
//!   `winch ROWS COLS` on each SIGWINCH, `got LINE` for each line typed; `quit` exits with the
//!   `--exit` code, end of input with 0.

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
    let mut claude_log = 0u32;
    let mut claude_model =
        std::env::var("ANTHROPIC_MODEL").unwrap_or_else(|_| "claude-test-1".into());
    let mut hold: Vec<u8> = Vec::new();
    let mut hook_exits: Vec<i32> = Vec::new();
    let mut probes = serde_json::Map::new();
    let mut writes = serde_json::Map::new();
    let mut interactive = false;
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
            "--interactive" => interactive = true,
            "--probe" => {
                if let Some(path) = iter.next() {
                    probes.insert(path.clone(), probe(std::path::Path::new(path)));
                }
            }
            "--write-probe" => {
                if let Some(path) = iter.next() {
                    writes.insert(path.clone(), write_probe(std::path::Path::new(path)));
                }
            }
            #[cfg(unix)]
            "--ignore-term" => {
                let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let _ = signal_hook::flag::register(signal_hook::consts::SIGTERM, flag);
            }
            "--spawn-child" => {
                if let Some(file) = iter.next() {
                    spawn_child(file);
                }
            }
            "--claude-log" => claude_log = iter.next().and_then(|v| v.parse().ok()).unwrap_or(1),
            "--claude-model" => {
                if let Some(m) = iter.next() {
                    claude_model = m.clone();
                }
            }
            "--claude-hook" => {
                let event = iter.next().cloned().unwrap_or_default();
                let input = iter.next().cloned().unwrap_or_default();
                hook_exits.push(fire_claude_hook(&event, &input));
            }
            "--alloc-mb" => {
                let mb: usize = iter.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                // Written, not just reserved, so the pages count as resident.
                hold = vec![1u8; mb << 20];
            }
            _ => {}
        }
    }
    if claude_log > 0 {
        write_claude_log(claude_log, &claude_model);
    }
    std::hint::black_box(&hold);
    if let Some(path) = std::env::var_os("FAKE_AGENT_RECORD") {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        let record = serde_json::json!({
            "argv": args,
            "env": env,
            "cwd": std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
            "pid": std::process::id(),
            "hook_exit": hook_exits,
            "pgrp": pgrp(),
            "tty_foreground": tty_foreground(),
            "probes": probes,
            "writes": writes,
        });
        let _ = std::fs::write(path, record.to_string());
    }
    #[cfg(unix)]
    if interactive {
        return interact(exit);
    }
    #[cfg(not(unix))]
    let _ = interactive;
    if kill_self {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status();
    }
    ExitCode::from(exit)
}

/// `--interactive`: the terminal's size, then each SIGWINCH's and each typed line, until `quit`
/// (exit `exit`) or end of input (0).
#[cfg(unix)]
fn interact(exit: u8) -> ExitCode {
    use std::io::{BufRead, Write};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, mpsc};
    let size = || {
        std::process::Command::new("stty")
            .arg("size")
            .stdin(std::process::Stdio::inherit())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let winch = Arc::new(AtomicBool::new(false));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGWINCH, Arc::clone(&winch));
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    say(format!("size {} pid {}", size(), std::process::id()));
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        if winch.swap(false, Ordering::SeqCst) {
            say(format!("winch {}", size()));
        }
        match lines.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(line) if line.trim() == "quit" => return ExitCode::from(exit),
            Ok(line) => say(format!("got {}", line.trim())),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
        }
    }
}

/// What `--probe` records about `path`.
fn probe(path: &std::path::Path) -> serde_json::Value {
    let readable = if path.is_dir() {
        std::fs::read_dir(path).is_ok()
    } else {
        std::fs::read(path).is_ok()
    };
    serde_json::json!({
        "readable": readable,
        "read_only_mount": read_only_mount(path),
    })
}

/// What `--write-probe` records about `path` (see the module's docs).
fn write_probe(path: &std::path::Path) -> serde_json::Value {
    use std::io::Write;
    let result = if path.is_dir() {
        std::fs::write(path.join(WRITE_PROBE), format!("{WRITE_PROBE}\n"))
    } else {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(format!("{WRITE_PROBE}\n").as_bytes()))
    };
    serde_json::json!({
        "written": result.is_ok(),
        "error": result.err().map(|e| e.to_string()),
    })
}

/// The name of the file, and the line, `--write-probe` writes.
const WRITE_PROBE: &str = "ringlet-write-probe";

#[cfg(unix)]
fn read_only_mount(path: &std::path::Path) -> Option<bool> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    statvfs(path)
        .ok()
        .map(|s| s.flags().contains(FsFlags::ST_RDONLY))
}

#[cfg(not(unix))]
fn read_only_mount(_: &std::path::Path) -> Option<bool> {
    None
}

/// Starts a child that ignores SIGTERM and writes `<own pid> <child pid>` to `file`.
fn spawn_child(file: &str) {
    let child = std::process::Command::new("sh")
        .args(["-c", "trap '' TERM; exec sleep 300"])
        .stdin(std::process::Stdio::null())
        .spawn();
    if let Ok(child) = child {
        let _ = std::fs::write(file, format!("{} {}", std::process::id(), child.id()));
    }
}

#[cfg(unix)]
fn pgrp() -> Option<i32> {
    Some(nix::unistd::getpgrp().as_raw())
}

#[cfg(not(unix))]
fn pgrp() -> Option<i32> {
    None
}

#[cfg(unix)]
fn tty_foreground() -> Option<bool> {
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return None;
    }
    nix::unistd::tcgetpgrp(stdin.as_fd())
        .ok()
        .map(|fg| fg == nix::unistd::getpgrp())
}

#[cfg(not(unix))]
fn tty_foreground() -> Option<bool> {
    None
}

/// Runs the first command Claude Code's settings give for `event`, as Claude Code does: `sh -c`,
/// the agent's environment, the hook JSON on stdin. Returns its exit code (-1: no such hook or
/// it could not run).
fn fire_claude_hook(event: &str, input: &str) -> i32 {
    use std::io::Write;
    let Some(home) = std::env::var_os("HOME") else {
        return -1;
    };
    let settings = std::path::Path::new(&home).join(".claude/settings.json");
    let Some(command) = std::fs::read_to_string(settings)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["hooks"][event][0]["hooks"][0]["command"]
                .as_str()
                .map(str::to_string)
        })
    else {
        return -1;
    };
    let Ok(mut child) = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::piped())
        .spawn()
    else {
        return -1;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    child.wait().ok().and_then(|s| s.code()).unwrap_or(-1)
}

/// Writes a transcript the way Claude Code does: a user line, then per response an assistant
/// line carrying `message.usage` (repeated on a second content-block line, as Claude Code does,
/// which must still count once).
fn write_claude_log(responses: u32, model: &str) {
    use std::io::Write;
    let Some(home) = std::env::var_os("HOME") else {
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let session = format!("fake-{}-{nanos}", std::process::id());
    let dir = std::path::Path::new(&home).join(".claude/projects/-fake");
    let _ = std::fs::create_dir_all(&dir);
    let Ok(mut f) = std::fs::File::create(dir.join(format!("{session}.jsonl"))) else {
        return;
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let user = serde_json::json!({"type": "user", "sessionId": session, "timestamp": now,
        "message": {"role": "user", "content": "hello"}});
    let _ = writeln!(f, "{user}");
    for i in 0..responses {
        let line = serde_json::json!({
            "type": "assistant", "sessionId": session, "timestamp": now,
            "isSidechain": false, "requestId": format!("req_{session}_{i}"),
            "message": {"id": format!("msg_{session}_{i}"), "type": "message",
                "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "pong"}],
                "usage": {"input_tokens": 1000, "output_tokens": 100,
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
        });
        let _ = writeln!(f, "{line}");
        let _ = writeln!(f, "{line}");
    }
}
