//! The real Claude Code, interactive, in a real pseudo-terminal (tmux): a profile whose provider
//! takes the key as x-api-key must start straight into a working session — no "Do you want to
//! use this API key?" question, whose default answer would lock the profile out — and a profile
//! where the key was once refused must work again on the next run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ringlet_tests::harness::Sandbox;
use ringlet_tests::{FakeApi, FakeApiConfig};

use crate::terminal::{Terminal, tmux};
use crate::{ProfileSpec, agent_bin_dir, agent_sandbox, create_profile};

/// The fake model's answer; seeing it on the screen proves the session works.
const ANSWER: &str = "FAKE-MODEL-ANSWER-7731";
/// An Anthropic-looking key; Claude Code remembers a decision about it by its last 20 chars.
const KEY: &str = "sk-ant-api03-e2e-interactive-Q7w2Xk9Lm4Np8Rs1Tv5Yz";
/// What Claude Code asks about a key in ANTHROPIC_API_KEY.
const KEY_QUESTION: &str = "Do you want to use this API key";
/// What it says once the key was refused.
const LOCKED_OUT: &str = "Not logged in";

/// Starts the profile in a terminal and checks that it goes straight into a session that
/// answers: no key question, no "Not logged in".
fn assert_starts_straight_into_a_working_session(tmux: PathBuf, sb: &Sandbox, api: &FakeApi) {
    let term = Terminal::start(tmux, sb, &["profiles", "run", "work"]);
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

/// Where `RINGLET_RECORD_STATUSLINE=1` saves the JSON Claude Code passed the status line (the
/// fixture the CLI's status line tests are fed).
const STATUSLINE_FIXTURE: &str = "fixtures/statusline/claude-code.json";

#[test]
fn claude_code_shows_ringlets_status_line() {
    let (Some(bin_dir), Some(tmux)) = (agent_bin_dir("claude"), tmux()) else {
        return;
    };
    let api = fake_api();
    let sb = sandbox(&bin_dir, &api);
    sb.run(["profiles", "set", "work", "--statusline", "on"])
        .ok();
    // Keep what Claude Code sends on the way to ringlet's status line.
    let settings_path = sb.profile_home("work").join(".claude/settings.json");
    let mut settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&settings_path).expect("settings.json"))
            .expect("JSON");
    let ours = settings["statusLine"]["command"]
        .as_str()
        .expect("a status line command")
        .to_string();
    assert!(ours.ends_with(" statusline"), "{ours}");
    let input = sb.root().join("statusline-input.json");
    settings["statusLine"]["command"] = format!("tee '{}' | {ours}", input.display()).into();
    std::fs::write(&settings_path, settings.to_string()).expect("settings.json");

    let term = Terminal::start(tmux, &sb, &["profiles", "run", "work"]);
    let (which, screen) = term.wait_for(&[KEY_QUESTION, "Claude Code v", LOCKED_OUT]);
    assert_eq!(which, 1, "Claude Code did not start:\n{screen}");
    std::thread::sleep(Duration::from_secs(2));
    term.send(&["-l", "Say the magic word."]);
    std::thread::sleep(Duration::from_millis(500));
    term.send(&["Enter"]);
    let (which, screen) = term.wait_for(&[ANSWER, LOCKED_OUT]);
    assert_eq!(which, 0, "the session did not answer:\n{screen}");
    // Claude Code runs the command again after the answer: ringlet reads the response from
    // the transcript then, and the line shows the billing block it opened.
    let (_, screen) = term.wait_for(&["left, $"]);
    let line = screen
        .lines()
        .find(|l| l.contains("left, $"))
        .unwrap_or_else(|| panic!("no status line on the screen:\n{screen}"));
    assert!(line.contains("work · "), "{line}");
    assert!(line.contains("session $"), "{line}");
    assert!(line.contains("today $"), "{line}");

    let sent: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&input).expect("the status line's stdin"))
            .expect("Claude Code sends JSON");
    let transcript = sent["transcript_path"].as_str().expect("transcript_path");
    assert!(
        Path::new(transcript).starts_with(sb.profile_home("work").join(".claude/projects")),
        "{transcript}"
    );
    assert!(
        sent["session_id"].as_str().is_some_and(|s| !s.is_empty()),
        "{sent}"
    );
    assert!(sent["model"]["id"].is_string(), "{sent}");
    // The ledger has the session's usage, read by the status line itself while the agent
    // still runs (`usage` reads only the ledger; the run's own import comes at its end).
    let deadline = std::time::Instant::now() + crate::terminal::SCREEN_TIMEOUT;
    loop {
        let report = sb.run(["usage", "--by-session", "--json"]).ok().json();
        let sessions = report["sessions"].as_array().expect("sessions");
        if sessions
            .iter()
            .any(|s| s["session_id"] == sent["session_id"])
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the status line never put the session in the ledger: {report}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    if std::env::var_os("RINGLET_RECORD_STATUSLINE").is_some_and(|v| v == "1") {
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(STATUSLINE_FIXTURE);
        std::fs::create_dir_all(fixture.parent().expect("a parent")).expect("mkdir");
        let mut text = serde_json::to_string_pretty(&sent).expect("JSON");
        text.push('\n');
        std::fs::write(&fixture, text).expect("fixture");
    }
}
