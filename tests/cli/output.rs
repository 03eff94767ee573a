//! Output hygiene: a reader that goes away early (`| head -1`) ends ringlet quietly with
//! success, whatever the command was printing.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

use crate::KEY;

/// A sandbox with a few profiles and the real Claude sample imported, so listings and exports
/// have rows to print.
fn populated() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", KEY);
    for alias in ["work", "home", "side"] {
        sb.run([
            "profiles",
            "create",
            "claude",
            alias,
            "--provider",
            "anthropic",
            "--key-from-env",
            "TEST_KEY",
            "--binary",
            fake_agent_bin().to_str().expect("utf-8 path"),
        ])
        .ok();
    }
    let sample = ringlet_tests::fixtures_dir().join("agent-logs/claude-session.jsonl");
    let from = sb.root().join("claude-session.jsonl");
    std::fs::copy(&sample, &from).expect("copy sample");
    sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--from",
        from.to_str().expect("utf-8 path"),
    ])
    .ok();
    sb
}

const COMMANDS: &[&[&str]] = &[
    &["usage", "--export", "csv"],
    &["usage", "--export", "json"],
    &["usage", "--json"],
    &["usage", "--by-day"],
    &["profiles", "list"],
    &["profiles", "list", "--json"],
    &["agents", "list"],
    &["completions", "bash"],
    &["--help"],
];

/// The reader is gone before ringlet writes a byte: every write fails with EPIPE.
#[test]
fn a_pipe_closed_before_the_first_write_ends_quietly_with_success() {
    let sb = populated();
    for args in COMMANDS {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = sb
            .command(*args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("ringlet starts");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?} says nothing about the pipe");
    }
}

/// As a shell user meets it: `ringlet … | head -1` prints the first line, and the pipeline's
/// status (with pipefail) is ringlet's 0.
#[test]
fn head_dash_one_gets_the_first_line_and_ringlet_exits_zero() {
    let sb = populated();
    for args in COMMANDS {
        let command = format!(
            "set -o pipefail; {} {} 2>stderr.txt | head -1",
            ringlet_tests::harness::ringlet_bin().display(),
            args.join(" ")
        );
        let run = std::process::Command::new("bash")
            .args(["-c", &command])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sb.root().join("user-home"))
            .env("RINGLET_HOME", sb.ringlet_home())
            .current_dir(sb.root())
            .output()
            .expect("bash starts");
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = std::fs::read_to_string(sb.root().join("stderr.txt")).expect("stderr file");
        assert_eq!(run.status.code(), Some(0), "{args:?}: {stderr}");
        assert_eq!(stdout.lines().count(), 1, "{args:?}: {stdout}");
        // Notes about the data (an unpriced model) may come; nothing about the pipe does.
        assert!(
            !stderr.contains("error") && !stderr.to_lowercase().contains("pipe"),
            "{args:?}: {stderr}"
        );
    }
}

/// A reader that takes one line and leaves while ringlet is still writing a long export.
#[test]
fn a_reader_leaving_mid_output_ends_ringlet_with_success() {
    let sb = populated();
    let mut child = sb
        .command(["completions", "zsh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ringlet starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("one line");
    assert!(!first.is_empty());
    let out = child.wait_with_output().expect("ringlet ends");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// `-q`: errors only. `-v`: the directories and the time taken, on stderr; stdout unchanged.
#[test]
fn quiet_prints_errors_only_and_verbose_adds_paths_and_timing() {
    let sb = Sandbox::new();
    // Without -q: a status line and the warning that no key is stored.
    let create = [
        "profiles",
        "create",
        "claude",
        "a",
        "--provider",
        "anthropic",
    ];
    let loud = sb.run(create).ok();
    assert!(
        loud.stderr.contains("Created profile 'a'"),
        "{}",
        loud.stderr
    );
    assert!(
        loud.warnings().iter().any(|w| w.contains("no key stored")),
        "{}",
        loud.stderr
    );
    let mut quiet_create = vec!["-q"];
    quiet_create.extend([
        "profiles",
        "create",
        "claude",
        "b",
        "--provider",
        "anthropic",
    ]);
    let quiet = sb.run(&quiet_create).ok();
    assert_eq!(quiet.stderr, "", "-q says nothing on success");

    // A warning (a broken profile next to good ones) is silenced; stdout is the same.
    std::fs::write(sb.profile_dir("b").join("profile.toml"), "agent = \n").expect("corrupt");
    let listed = sb.run(["profiles", "list"]).ok();
    assert!(!listed.warnings().is_empty(), "{}", listed.stderr);
    let quiet = sb.run(["profiles", "list", "--quiet"]).ok();
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, listed.stdout);

    // Errors are still printed.
    let failed = sb.run(["-q", "profiles", "inspect", "nope"]);
    assert_eq!(failed.code, 1);
    assert!(
        failed
            .stderr
            .starts_with("ringlet: error: profile 'nope' not found"),
        "{}",
        failed.stderr
    );

    let verbose = sb.run(["-v", "agents", "list", "--json"]).ok();
    let home = sb.ringlet_home();
    let first = verbose.stderr.lines().next().unwrap_or_default();
    for dir in ["config", "data", "cache"] {
        assert!(
            first.contains(&format!("{dir} {}", home.join(dir).display())),
            "{first}"
        );
    }
    assert!(first.contains("ledger "), "{first}");
    assert!(
        verbose
            .stderr
            .lines()
            .any(|l| l.starts_with("ringlet: took ") && l.ends_with(" ms")),
        "{}",
        verbose.stderr
    );
    verbose.json();

    let both = sb.run(["-q", "-v", "profiles", "list"]);
    assert_eq!(both.code, 2, "clap refuses the pair: {}", both.stderr);
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

/// `ringlet` alone, or a command group alone, prints its help on stdout and succeeds.
#[test]
fn bare_ringlet_prints_help() {
    let sb = Sandbox::new();
    let bare = sb.run(Vec::<&str>::new());
    assert_eq!(bare.code, 0, "{}", bare.stderr);
    assert_eq!(bare.stderr, "");
    for needle in ["Usage: ringlet", "profiles", "Examples:", "Global options:"] {
        assert!(bare.stdout.contains(needle), "{needle}: {}", bare.stdout);
    }
    let group = sb.run(["profiles"]);
    assert_eq!(group.code, 0, "{}", group.stderr);
    assert!(
        group.stdout.contains("Usage: ringlet profiles"),
        "{}",
        group.stdout
    );
    // A real mistake is still clap's error, on stderr with status 2.
    let wrong = sb.run(["profiles", "frobnicate"]);
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("unrecognized subcommand"),
        "{}",
        wrong.stderr
    );
    assert_eq!(wrong.stdout, "");
}

/// A mistyped profile, agent or provider name is answered with the closest real one, in the
/// message and as `suggestion` in the JSON error.
#[test]
fn did_you_mean_for_profiles_agents_and_providers() {
    let sb = populated();
    sb.run(["profiles", "inspect", "wrok"])
        .fails_with("profile 'wrok' not found (did you mean 'work'?); see `ringlet profiles list`");
    sb.run(["profiles", "run", "hom"])
        .fails_with("profile 'hom' not found (did you mean 'home'?)");
    sb.run(["usage", "--profile", "sid"])
        .fails_with("profile 'sid' not found (did you mean 'side'?)");
    sb.run(["hooks", "add", "wrk", "--on", "stop", "--shell", "true"])
        .fails_with("(did you mean 'work'?)");
    sb.run(["profiles", "delete", "wrok", "--yes"])
        .fails_with("(did you mean 'work'?)");
    sb.run([
        "profiles",
        "create",
        "clade",
        "x",
        "--provider",
        "anthropic",
    ])
    .fails_with("unknown agent 'clade' (did you mean 'claude'?); known agents:");
    sb.run([
        "profiles",
        "create",
        "claude",
        "x",
        "--provider",
        "antropic",
    ])
    .fails_with("unknown provider 'antropic' (did you mean 'anthropic'?); known providers:");
    sb.run(["providers", "inspect", "opnai"])
        .fails_with("(did you mean 'openai'?)");
    sb.run(["agents", "inspect", "codx"])
        .fails_with("(did you mean 'codex'?)");

    let out = sb.run(["profiles", "inspect", "wrok", "--json"]);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).expect("JSON error");
    assert_eq!(err["error"]["suggestion"], "work");
    // Nothing close: no guess.
    let out = sb.run(["profiles", "inspect", "zzzzzz", "--json"]);
    let err: serde_json::Value = serde_json::from_str(out.stderr.trim()).expect("JSON error");
    assert!(err["error"].get("suggestion").is_none(), "{err}");
    assert!(!out.stderr.contains("did you mean"));
}
