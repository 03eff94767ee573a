//! The real Claude Code, interactive, in a real pseudo-terminal (tmux): a profile whose provider
//! takes the key as x-api-key must start straight into a working session — no "Do you want to
//! use this API key?" question, whose default answer would lock the profile out — and a profile
//! where the key was once refused must work again on the next run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ringlet_tests::harness::Sandbox;
use ringlet_tests::{FakeApi, FakeApiConfig};

use crate::{ProfileSpec, agent_bin_dir, agent_sandbox, create_profile};

/// The fake model's answer; seeing it on the screen proves the session works.
const ANSWER: &str = "FAKE-MODEL-ANSWER-7731";
/// An Anthropic-looking key; Claude Code remembers a decision about it by its last 20 chars.
const KEY: &str = "sk-ant-api03-e2e-interactive-Q7w2Xk9Lm4Np8Rs1Tv5Yz";
/// What Claude Code asks about a key in ANTHROPIC_API_KEY.
const KEY_QUESTION: &str = "Do you want to use this API key";
/// What it says once the key was refused.
const LOCKED_OUT: &str = "Not logged in";
/// How long Claude Code may take to draw its first screen or to answer, on a loaded machine.
const SCREEN_TIMEOUT: Duration = Duration::from_secs(90);

/// `tmux`, or `None` (after saying why) when the test should skip; panics when
/// `RINGLET_E2E_REQUIRED=1`.
fn tmux() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("tmux"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        let msg = "tmux is not installed (apt install tmux)";
        if std::env::var_os("RINGLET_E2E_REQUIRED").is_some_and(|v| v == "1") {
            panic!("{msg} (RINGLET_E2E_REQUIRED=1)");
        }
        eprintln!("skipping: {msg}");
    }
    found
}

/// A tmux server of its own (its socket in the sandbox), killed when dropped.
struct Terminal {
    tmux: PathBuf,
    socket: PathBuf,
}

impl Terminal {
    /// Starts `ringlet profiles run <alias>` in a 160x50 pane, with exactly the sandbox's
    /// environment plus a terminal type.
    fn start(tmux: PathBuf, sb: &Sandbox, alias: &str) -> Self {
        let socket = sb.root().join(format!("tmux-{alias}.sock"));
        let cmd = sb.command(["profiles", "run", alias]);
        let quote =
            |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
        let mut line = String::from("cd ");
        line.push_str(&quote(sb.root().as_os_str()));
        line.push_str(" && exec env -i TERM=xterm-256color");
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                let mut pair = k.to_os_string();
                pair.push("=");
                pair.push(v);
                line.push(' ');
                line.push_str(&quote(&pair));
            }
        }
        line.push(' ');
        line.push_str(&quote(cmd.get_program()));
        for a in cmd.get_args() {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let script = sb.root().join(format!("run-{alias}.sh"));
        std::fs::write(&script, format!("#!/bin/sh\n{line}\n")).expect("script");
        let term = Self { tmux, socket };
        let status = term
            .tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                "160",
                "-y",
                "50",
                "sh",
            ])
            .arg(&script)
            .status()
            .expect("tmux starts");
        assert!(status.success(), "tmux new-session failed");
        term
    }

    fn tmux(&self) -> Command {
        let mut c = Command::new(&self.tmux);
        c.arg("-S").arg(&self.socket);
        c
    }

    /// The visible screen.
    fn screen(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", "e2e"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn send(&self, keys: &[&str]) {
        let status = self
            .tmux()
            .args(["send-keys", "-t", "e2e"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success(), "tmux send-keys failed");
    }

    /// Waits until the screen shows one of `wanted`, and returns which with the screen.
    fn wait_for(&self, wanted: &[&str]) -> (usize, String) {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            let screen = self.screen();
            if let Some(i) = wanted.iter().position(|w| screen.contains(w)) {
                return (i, screen);
            }
            assert!(
                Instant::now() < deadline,
                "none of {wanted:?} appeared within {SCREEN_TIMEOUT:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// Starts the profile in a terminal and checks that it goes straight into a session that
/// answers: no key question, no "Not logged in".
fn assert_starts_straight_into_a_working_session(tmux: PathBuf, sb: &Sandbox, api: &FakeApi) {
    let term = Terminal::start(tmux, sb, "work");
    // Claude Code's welcome banner names its version; the key question replaces the screen.
    let (which, screen) = term.wait_for(&[KEY_QUESTION, "Claude Code v", LOCKED_OUT]);
    assert_eq!(
        which, 1,
        "Claude Code did not start straight into a session:\n{screen}"
    );
    // Let the input box settle before typing: keys sent during start-up can be lost.
    std::thread::sleep(Duration::from_secs(2));
    term.send(&["-l", "Say the magic word."]);
    std::thread::sleep(Duration::from_millis(500));
    term.send(&["Enter"]);
    let (which, screen) = term.wait_for(&[ANSWER, LOCKED_OUT, KEY_QUESTION]);
    assert_eq!(which, 0, "the session did not answer:\n{screen}");
    let keys: Vec<Option<String>> = api
        .generation_requests()
        .into_iter()
        .map(|r| r.api_key)
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|k| k.as_deref() == Some(KEY)),
        "requests carried {keys:?}"
    );
}

fn sandbox(bin_dir: &Path, api: &FakeApi) -> Sandbox {
    let mut sb = agent_sandbox(bin_dir);
    create_profile(
        &mut sb,
        &ProfileSpec {
            agent: "claude",
            alias: "work",
            provider: "anthropic",
            base_url: api.base_url(),
            model: "claude-test-1",
            key: KEY,
        },
    );
    sb
}

fn fake_api() -> FakeApi {
    FakeApi::start_with(FakeApiConfig {
        default_text: ANSWER.into(),
        ..FakeApiConfig::default()
    })
    .expect("fake API starts")
}

#[test]
fn interactive_claude_code_starts_without_asking_about_the_key() {
    let (Some(bin_dir), Some(tmux)) = (agent_bin_dir("claude"), tmux()) else {
        return;
    };
    let api = fake_api();
    let sb = sandbox(&bin_dir, &api);
    assert_starts_straight_into_a_working_session(tmux, &sb, &api);
    let claude_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.profile_home("work").join(".claude.json"))
            .expect(".claude.json"),
    )
    .expect("JSON");
    assert_eq!(
        claude_json["customApiKeyResponses"]["approved"],
        serde_json::json!([&KEY[KEY.len() - 20..]])
    );
}

#[test]
fn a_profile_whose_key_was_refused_works_again_on_the_next_run() {
    let (Some(bin_dir), Some(tmux)) = (agent_bin_dir("claude"), tmux()) else {
        return;
    };
    let api = fake_api();
    let sb = sandbox(&bin_dir, &api);
    // What Claude Code leaves behind when its user answered "No (recommended)" or Esc.
    let suffix = &KEY[KEY.len() - 20..];
    std::fs::write(
        sb.profile_home("work").join(".claude.json"),
        serde_json::json!({
            "hasCompletedOnboarding": true,
            "numStartups": 3,
            "customApiKeyResponses": {"approved": [], "rejected": [suffix]},
        })
        .to_string(),
    )
    .expect("a refused key");
    assert_starts_straight_into_a_working_session(tmux, &sb, &api);
    let claude_json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sb.profile_home("work").join(".claude.json"))
            .expect(".claude.json"),
    )
    .expect("JSON");
    let responses = &claude_json["customApiKeyResponses"];
    assert_eq!(responses["approved"], serde_json::json!([suffix]));
    assert_eq!(responses["rejected"], serde_json::json!([]));
    assert!(
        claude_json["numStartups"].as_u64() >= Some(3),
        "the agent's own state is kept"
    );
}
