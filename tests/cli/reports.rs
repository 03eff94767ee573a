//! The usage reports as people and scripts read them: snapshots (insta) of every report's table,
//! wide and at 40 columns, without colour, and of its JSON, over a fixed ledger imported from a
//! Claude Code log written here. A change to any of them shows up as a snapshot diff.

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

use crate::KEY;

/// One Claude Code response, as a transcript line.
fn line(id: &str, session: &str, time: &str, model: &str, tokens: [u64; 4]) -> String {
    let [input, output, cache_write, cache_read] = tokens;
    serde_json::json!({
        "type": "assistant", "sessionId": session, "timestamp": time, "cwd": "/home/dev/shop",
        "message": {"id": id, "model": model, "role": "assistant",
            "usage": {"input_tokens": input, "output_tokens": output,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read}}
    })
    .to_string()
        + "\n"
}

/// A sandbox whose profile `work` holds a fixed history: three sessions over three days and
/// two months, three priced models and one without a price.
fn ledger() -> Sandbox {
    let mut sb = Sandbox::new();
    sb.env("TEST_KEY", KEY);
    sb.env("NO_COLOR", "1");
    sb.run([
        "profiles",
        "create",
        "claude",
        "work",
        "--provider",
        "anthropic",
        "--key-from-env",
        "TEST_KEY",
        "--binary",
        fake_agent_bin().to_str().expect("utf-8"),
    ])
    .ok();
    let log = [
        line(
            "m1",
            "sess-a",
            "2026-04-30T21:10:00Z",
            "claude-sonnet-4-5-20250929",
            [1_200, 340, 5_000, 120_000],
        ),
        line(
            "m2",
            "sess-a",
            "2026-04-30T22:40:00Z",
            "claude-opus-4-5",
            [80, 2_100, 0, 410_000],
        ),
        line(
            "m3",
            "sess-b",
            "2026-05-01T09:00:00Z",
            "claude-sonnet-4-5-20250929",
            [15_000, 7_996_624, 64_000, 2_500_000],
        ),
        line(
            "m4",
            "sess-b",
            "2026-05-01T09:05:00Z",
            "claude-haiku-4-5",
            [300, 90, 0, 0],
        ),
        line(
            "m5",
            "sess-c",
            "2026-05-03T23:59:00Z",
            "mystery-model-1",
            [10, 5, 0, 0],
        ),
    ]
    .concat();
    let path = sb.root().join("history.jsonl");
    std::fs::write(&path, log).expect("log");
    sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--from",
        path.to_str().expect("utf-8"),
    ])
    .ok();
    sb
}

/// `ringlet usage ARGS` at `columns` columns.
fn table(sb: &Sandbox, columns: &str, args: &[&str]) -> String {
    let mut cmd = sb.command(["usage", "-z", "UTC"].iter().chain(args));
    cmd.env("COLUMNS", columns);
    let out = cmd.output().expect("ringlet runs");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn every_report_table_wide_and_narrow() {
    let sb = ledger();
    for (name, args) in [
        ("per_profile", &[][..]),
        ("by_day", &["--by-day"][..]),
        ("by_week", &["--by-week"][..]),
        ("by_month", &["--by-month"][..]),
        ("by_model", &["--by-model"][..]),
        ("by_profile", &["--by-profile"][..]),
        ("by_session", &["--by-session"][..]),
        ("by_day_by_model", &["--by-day", "--breakdown", "model"][..]),
        (
            "by_month_by_profile",
            &["--by-month", "--breakdown", "profile"][..],
        ),
    ] {
        let wide = table(&sb, "200", args);
        insta::assert_snapshot!(format!("{name}_wide"), wide);
        let narrow = table(&sb, "40", args);
        // No cell is ever broken over lines; a model id longer than the room left is wider.
        assert_eq!(narrow.lines().count(), wide.lines().count(), "{name}");
        if !name.contains("model") {
            assert!(
                narrow.lines().all(|l| l.chars().count() <= 40),
                "{name}: {narrow}"
            );
        }
        insta::assert_snapshot!(format!("{name}_40_columns"), narrow);
        assert!(!wide.contains('\u{1b}') && !narrow.contains('\u{1b}'));
    }
    // --compact asks for the narrow layout at any width.
    assert_eq!(
        table(&sb, "200", &["--by-day", "--compact"]),
        table(&sb, "40", &["--by-day"])
    );
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let sb = ledger();
    // NO_COLOR is set in the sandbox; --color always wins over it, FORCE_COLOR does not.
    let forced = table(&sb, "200", &["--color", "always"]);
    assert!(forced.contains("\u{1b}["), "{forced}");
    let mut cmd = sb.command(["usage", "-z", "UTC"]);
    cmd.env_remove("NO_COLOR").env("FORCE_COLOR", "1");
    let out = cmd.output().expect("ringlet runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("\u{1b}["));
    let mut cmd = sb.command(["usage", "-z", "UTC"]);
    cmd.env_remove("NO_COLOR");
    let out = cmd.output().expect("ringlet runs");
    // A pipe is not a terminal.
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let never = table(&sb, "200", &["--color", "never"]);
    assert!(!never.contains('\u{1b}'));
}

#[test]
fn every_report_json() {
    let sb = ledger();
    for (name, args) in [
        ("per_profile", &[][..]),
        ("by_day", &["--by-day"][..]),
        ("by_month", &["--by-month"][..]),
        ("by_model", &["--by-model"][..]),
        ("by_session", &["--by-session"][..]),
        ("by_day_by_model", &["--by-day", "--breakdown", "model"][..]),
    ] {
        let mut full = vec!["usage", "-z", "UTC", "--json"];
        full.extend_from_slice(args);
        let json = sb.run(full).ok().json();
        insta::assert_json_snapshot!(format!("{name}_json"), json);
    }
}
