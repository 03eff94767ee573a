//! End-to-end tests with the real agent CLIs.
//!
//! Each test creates profiles with the built `ringlet` binary, points them at a local
//! [`FakeApi`] (the only fake: it stands in for the model providers) and runs the real agent
//! installed from npm by `tests/install-agents.sh` through `ringlet profiles run`. The request
//! the fake API records says which key, model and wire format the agent used; the file system
//! says where the agent kept its state.
//!
//! Without the agents installed the tests skip with a message, unless `RINGLET_E2E_REQUIRED=1`
//! (set by `tests/run.sh`), where a missing agent is a failure.

mod agents;
mod interactive;
mod isolation;
mod jobs;
mod mcp;
mod prompt;
mod proxy;
mod remote;
mod routing;
mod sandbox;
mod shims;
mod state_import;
mod terminal;

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use ringlet_tests::harness::{Run, Sandbox};
use ringlet_tests::{FakeApi, RecordedRequest, agents_bin_dir};

/// How long one agent run may take before the test kills it and fails. The slowest agent
/// (OpenCode) takes about 7 s on a loaded 2-core machine; the rest is headroom.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);

/// Stale provider settings exported in the parent shell. None of them may reach an agent: if
/// one did, the agent would talk to a dead address or send the wrong key, and the test would
/// see it in the fake API's records.
const STALE_PARENT_ENV: &[(&str, &str)] = &[
    ("ANTHROPIC_API_KEY", "sk-stale-parent-anthropic"),
    ("ANTHROPIC_AUTH_TOKEN", "sk-stale-parent-token"),
    ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/stale"),
    ("ANTHROPIC_MODEL", "stale-model"),
    ("OPENAI_API_KEY", "sk-stale-parent-openai"),
    ("OPENAI_BASE_URL", "http://127.0.0.1:9/stale/v1"),
    ("GEMINI_API_KEY", "stale-parent-gemini"),
    ("GOOGLE_API_KEY", "stale-parent-google"),
    ("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9/stale"),
    ("GROK_API_KEY", "stale-parent-grok"),
    ("GROK_BASE_URL", "http://127.0.0.1:9/stale/v1"),
    ("XAI_API_KEY", "stale-parent-xai"),
    ("CODEX_HOME", "/nonexistent/stale-codex-home"),
    ("CLAUDE_CONFIG_DIR", "/nonexistent/stale-claude-config"),
];

/// The bin directory of the installed agents, or `None` (after saying why) when the test
/// should skip. Panics when `RINGLET_E2E_REQUIRED=1` and the agent is missing.
pub fn agent_bin_dir(binary: &str) -> Option<PathBuf> {
    let found = agents_bin_dir().filter(|dir| dir.join(binary).is_file());
    if found.is_none() {
        let msg = format!(
            "the real `{binary}` is not installed in .tools/npm/bin; run `bash tests/install-agents.sh`"
        );
        if std::env::var_os("RINGLET_E2E_REQUIRED").is_some_and(|v| v == "1") {
            panic!("{msg} (RINGLET_E2E_REQUIRED=1)");
        }
        eprintln!("skipping: {msg}");
    }
    found
}

/// A sandbox whose PATH finds the installed agents first and whose environment carries every
/// stale provider setting of [`STALE_PARENT_ENV`].
pub fn agent_sandbox(bin_dir: &Path) -> Sandbox {
    agent_sandbox_from(Sandbox::new(), bin_dir)
}

/// [`agent_sandbox`] made from a given installation (one outside `/tmp`, say).
pub fn agent_sandbox_from(mut sb: Sandbox, bin_dir: &Path) -> Sandbox {
    let mut path = OsString::from(bin_dir);
    if let Some(rest) = std::env::var_os("PATH") {
        path.push(":");
        path.push(rest);
    }
    sb.env("PATH", path);
    for (k, v) in STALE_PARENT_ENV {
        sb.env(k, *v);
    }
    std::fs::create_dir_all(sb.root().join("user-home")).expect("user home");
    sb
}

/// What `profiles create` needs for one e2e profile.
#[derive(Debug, Clone)]
pub struct ProfileSpec<'a> {
    pub agent: &'a str,
    pub alias: &'a str,
    pub provider: &'a str,
    pub base_url: String,
    pub model: &'a str,
    pub key: &'a str,
}

/// Creates the profile through the CLI, the key passed by environment variable.
pub fn create_profile(sb: &mut Sandbox, spec: &ProfileSpec<'_>) {
    let var = format!("E2E_KEY_{}", spec.alias.to_uppercase().replace('-', "_"));
    sb.env(&var, spec.key);
    sb.run([
        "profiles",
        "create",
        spec.agent,
        spec.alias,
        "--provider",
        spec.provider,
        "--custom-endpoint",
        &spec.base_url,
        "--model",
        spec.model,
        "--key-from-env",
        &var,
    ])
    .ok();
}

/// Starts `ringlet profiles run ALIAS -- ARGS` with its output captured.
pub fn spawn_run(sb: &Sandbox, alias: &str, agent_args: &[&str]) -> Child {
    let mut args = vec!["profiles", "run", alias, "--"];
    args.extend_from_slice(agent_args);
    sb.command(&args)
        .current_dir(sb.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ringlet starts")
}

/// Waits for a run started by [`spawn_run`], killing it after [`RUN_TIMEOUT`].
pub fn finish(mut child: Child, what: &str) -> Run {
    // Drain the pipes on threads so a chatty agent never blocks on a full pipe.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "{what} did not finish within {RUN_TIMEOUT:?}\nstdout: {}\nstderr: {}",
        run.stdout,
        run.stderr
    );
    run
}

/// Runs a profile to completion.
pub fn run_profile(sb: &Sandbox, alias: &str, agent_args: &[&str]) -> Run {
    finish(spawn_run(sb, alias, agent_args), alias)
}

/// The generation requests (not model listings or token counts) the fake API saw.
pub fn generations(api: &FakeApi) -> Vec<RecordedRequest> {
    api.generation_requests()
}

/// Every path below `dir`, relative, for messages.
pub fn tree(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if let Ok(rel) = p.strip_prefix(base) {
                    out.push(rel.to_path_buf());
                }
                if p.is_dir() && !p.is_symlink() {
                    walk(&p, base, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
