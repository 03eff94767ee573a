//! `ringlet statusline` fed the JSON Claude Code passes its status line command
//! (tests/fixtures/statusline/claude-code.json, recorded from the real Claude Code by the e2e
//! test `claude_code_shows_ringlets_status_line`), and `profiles set --statusline`.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use ringlet_tests::harness::{Run, Sandbox, ringlet_bin};
use serde_json::{Value, json};

use crate::sandbox_with_profile;

/// The Claude Code sample's session (tests/fixtures/agent-logs/claude-session.jsonl).
const SESSION: &str = "10bf73cd-5e55-4ebb-809c-1c7c261cfa57";

/// The recorded JSON, pointed at `transcript` and the sample's session.
fn claude_code_input(transcript: &Path) -> Value {
    let path = ringlet_tests::fixtures_dir().join("statusline/claude-code.json");
    let mut input: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the recorded JSON"))
            .expect("JSON");
    assert!(input["model"]["id"].is_string(), "{input}");
    input["session_id"] = SESSION.into();
    input["transcript_path"] = transcript.to_str().expect("utf-8").into();
    input
}

/// The sample transcript in the profile HOME where Claude Code keeps it, its responses made at
/// `at` with a priced model.
fn transcript(sb: &Sandbox, at: DateTime<Utc>) -> PathBuf {
    let dir = sb.profile_home("work").join(".claude/projects/-tmp-work");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let sample = std::fs::read_to_string(
        ringlet_tests::fixtures_dir().join("agent-logs/claude-session.jsonl"),
    )
    .expect("sample");
    let at = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut text = String::new();
    for line in sample.lines() {
        let mut v: Value = serde_json::from_str(line).expect("a JSON line");
        if v.get("timestamp").is_some() {
            v["timestamp"] = at.clone().into();
        }
        if v["message"]["model"].is_string() {
            v["message"]["model"] = "claude-sonnet-4-5-20250929".into();
        }
        text.push_str(&v.to_string());
        text.push('\n');
    }
    let path = dir.join(format!("{SESSION}.jsonl"));
    std::fs::write(&path, text).expect("transcript");
    path
}

fn statusline(sb: &Sandbox, env: &[(&str, &OsStr)], stdin: &str, args: &[&str]) -> Run {
    let mut cmd = sb.command(["statusline"].iter().chain(args));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("ringlet ends").into()
}

fn settings(sb: &Sandbox) -> Value {
    let path = sb.profile_home("work").join(".claude/settings.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("settings.json")).expect("JSON")
}

#[test]
fn the_status_line_reads_the_session_from_its_transcript_and_the_ledger() {
    let sb = sandbox_with_profile();
    // A minute ago, but today (UTC) even just after midnight.
    let now = Utc::now();
    let today = now.duration_trunc(Duration::days(1)).expect("midnight");
    let at = (now - Duration::minutes(1)).max(today);
    let path = transcript(&sb, at);
    let input = claude_code_input(&path).to_string();
    let profile = OsStr::new("work");

    let first = statusline(
        &sb,
        &[("RINGLET_PROFILE", profile)],
        &input,
        &["--json", "-z", "UTC"],
    )
    .ok()
    .json();
    assert_eq!(first["profile"], "work");
    assert_eq!(first["synced_events"], 1, "{first}");
    let session = first["session_cost_usd"].as_f64().expect("a session cost");
    assert!(session > 0.0, "{first}");
    // The only usage there is: the session's, today's and the block's alike.
    assert_eq!(first["today_cost_usd"].as_f64(), Some(session));
    assert_eq!(first["block"]["cost_usd"].as_f64(), Some(session));
    let left = first["block"]["remaining_minutes"]
        .as_i64()
        .expect("minutes");
    assert!((1..=300).contains(&left), "{first}");
    assert_eq!(first["model"], input_model(&input));

    // The events are the ledger's now: the report sees them, and nothing is read twice.
    let report = sb.run(["usage", "--by-session", "--json"]).ok().json();
    assert_eq!(report["sessions"][0]["session_id"], SESSION);
    assert_eq!(report["sessions"][0]["cost_usd"].as_f64(), Some(session));
    let again = statusline(
        &sb,
        &[("RINGLET_PROFILE", profile)],
        &input,
        &["--json", "-z", "UTC"],
    )
    .ok()
    .json();
    assert_eq!(again["synced_events"], 0);
    assert_eq!(again["session_cost_usd"].as_f64(), Some(session));

    // What Claude Code shows: one line.
    let human = statusline(&sb, &[("RINGLET_PROFILE", profile)], &input, &["-z", "UTC"]).ok();
    let lines: Vec<&str> = human.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", human.stdout);
    assert!(lines[0].starts_with("work · "), "{}", lines[0]);
    for part in ["session $", "today $", "left, $"] {
        assert!(lines[0].contains(part), "{part} in {}", lines[0]);
    }

    // An agent started in the profile HOME outside `profiles run` is found by its HOME.
    let home = sb.profile_home("work");
    let by_home = statusline(&sb, &[("HOME", home.as_os_str())], &input, &["--json"])
        .ok()
        .json();
    assert_eq!(by_home["profile"], "work");
}

fn input_model(input: &str) -> Value {
    let v: Value = serde_json::from_str(input).expect("JSON");
    let m = &v["model"];
    if m["display_name"].is_string() {
        m["display_name"].clone()
    } else {
        m["id"].clone()
    }
}

#[test]
fn a_status_line_outside_any_profile_or_with_bad_input_says_so() {
    let sb = sandbox_with_profile();
    // No profile: everything's totals, no session sync.
    let out = statusline(&sb, &[], r#"{"session_id":"nope"}"#, &["--json"])
        .ok()
        .json();
    assert_eq!(out["profile"], Value::Null);
    assert_eq!(out["session_cost_usd"].as_f64(), Some(0.0));
    assert_eq!(out["block"], Value::Null);
    statusline(&sb, &[], "not json", &[]).fails_with("stdin is not the JSON Claude Code passes");
    statusline(&sb, &[("RINGLET_PROFILE", OsStr::new("wrok"))], "{}", &[]).fails_with("wrok");
}

#[test]
fn statusline_on_and_off_merge_into_the_agents_settings() {
    let sb = sandbox_with_profile();
    let dir = sb.profile_home("work").join(".claude");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("settings.json"),
        json!({"theme": "dark", "permissions": {"allow": ["Bash(ls)"]}}).to_string(),
    )
    .expect("the user's settings");

    sb.run(["profiles", "set", "work", "--statusline", "on"])
        .ok();
    let on = settings(&sb);
    assert_eq!(on["theme"], "dark");
    assert_eq!(on["permissions"]["allow"], json!(["Bash(ls)"]));
    assert_eq!(on["statusLine"]["type"], "command");
    let command = on["statusLine"]["command"].as_str().expect("a command");
    let bin = std::path::absolute(ringlet_bin()).expect("absolute");
    assert!(
        command.starts_with(bin.to_str().expect("utf-8")),
        "the command names this ringlet by its path: {command}"
    );
    // The sandbox's RINGLET_HOME goes with it, so the line reads this ledger.
    assert!(command.contains(" --home "), "{command}");
    assert!(command.ends_with(" statusline"), "{command}");
    let shown = sb.run(["profiles", "inspect", "work"]).ok().stdout;
    assert!(shown.contains("on (ringlet statusline)"), "{shown}");

    sb.run(["profiles", "set", "work", "--statusline", "off"])
        .ok();
    let off = settings(&sb);
    assert!(off.get("statusLine").is_none(), "{off}");
    assert_eq!(off["theme"], "dark");
    assert_eq!(off["permissions"]["allow"], json!(["Bash(ls)"]));

    // A status line of the user's own is neither replaced nor removed.
    std::fs::write(
        dir.join("settings.json"),
        json!({"statusLine": {"type": "command", "command": "~/bin/my-line.sh"}}).to_string(),
    )
    .expect("the user's own line");
    sb.run(["profiles", "set", "work", "--statusline", "on"])
        .fails_with("my-line.sh");
    sb.run(["profiles", "set", "work", "--statusline", "off"])
        .ok();
    assert_eq!(settings(&sb)["statusLine"]["command"], "~/bin/my-line.sh");
}

#[test]
fn statusline_at_create_and_only_for_claude_code() {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", crate::KEY);
    sb.run([
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
        "--statusline",
    ])
    .ok();
    assert!(
        settings(&sb)["statusLine"]["command"]
            .as_str()
            .is_some_and(|c| c.ends_with(" statusline"))
    );
    sb.run([
        "profiles",
        "create",
        "codex",
        "cx",
        "--provider",
        "openai",
        "--key-from-env",
        "TEST_KEY",
        "--statusline",
    ])
    .fails_with("Claude Code");
    sb.run(["profiles", "inspect", "cx"]).fails_with("cx");
}
