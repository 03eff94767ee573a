//! The usage reports as people and scripts read them: snapshots (insta) of every report's table,
//! wide and at 40 columns, without colour, and of its JSON, over a fixed ledger imported from a
//! Claude Code log written here. A change to any of them shows up as a snapshot diff.

use ringlet_tests::harness::{Sandbox, fake_agent_bin};

use crate::KEY;

/// One Claude Code response, as a transcript line, in the project /home/dev/shop.
fn line(id: &str, session: &str, time: &str, model: &str, tokens: [u64; 4]) -> String {
    line_in("/home/dev/shop", id, session, time, model, tokens)
}

/// One Claude Code response, as a transcript line, in the project `cwd`.
fn line_in(
    cwd: &str,
    id: &str,
    session: &str,
    time: &str,
    model: &str,
    tokens: [u64; 4],
) -> String {
    let [input, output, cache_write, cache_read] = tokens;
    serde_json::json!({
        "type": "assistant", "sessionId": session, "timestamp": time, "cwd": cwd,
        "message": {"id": id, "model": model, "role": "assistant",
            "usage": {"input_tokens": input, "output_tokens": output,
                "cache_creation_input_tokens": cache_write,
                "cache_read_input_tokens": cache_read}}
    })
    .to_string()
        + "\n"
}

/// A sandbox whose profile `work` holds a fixed history: three sessions over three days and
/// two months, three priced models and one without a price, in three projects (one below
/// another, one whose name starts like another's).
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
        line_in(
            "/home/dev/shop/web",
            "m4",
            "sess-b",
            "2026-05-01T09:05:00Z",
            "claude-haiku-4-5",
            [300, 90, 0, 0],
        ),
        line_in(
            "/home/dev/shop-admin",
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
        ("by_project", &["--by-project"][..]),
        ("by_day_by_model", &["--by-day", "--breakdown", "model"][..]),
        (
            "by_month_by_profile",
            &["--by-month", "--breakdown", "profile"][..],
        ),
    ] {
        let wide = table(&sb, "200", args);
        insta::assert_snapshot!(format!("{name}_wide"), wide);
        let narrow = table(&sb, "40", args);
        // No cell is ever broken over lines; a model id or project path longer than the room
        // left is wider.
        assert_eq!(narrow.lines().count(), wide.lines().count(), "{name}");
        if !name.contains("model") && !name.contains("project") {
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
fn sessions_sorted_by_time_and_one_session_alone() {
    let sb = ledger();
    let ids = |json: &serde_json::Value| -> Vec<String> {
        json["sessions"]
            .as_array()
            .expect("sessions")
            .iter()
            .map(|s| s["session_id"].as_str().expect("id").to_string())
            .collect()
    };
    let json = |args: &[&str]| {
        let mut full = vec!["usage", "-z", "UTC", "--json", "--by-session"];
        full.extend_from_slice(args);
        sb.run(full).ok().json()
    };
    let all = json(&[]);
    assert_eq!(ids(&all), ["sess-a", "sess-b", "sess-c"]);
    assert_eq!(all["sessions"][0]["start"], "2026-04-30T21:10:00Z");
    assert_eq!(all["sessions"][0]["last_activity"], "2026-04-30T22:40:00Z");
    assert_eq!(all["sessions"][0]["duration_ms"], 90 * 60 * 1000);
    assert_eq!(
        ids(&json(&["--order", "desc"])),
        ["sess-c", "sess-b", "sess-a"]
    );
    assert_eq!(ids(&json(&["--last", "2"])), ["sess-b", "sess-c"]);
    assert_eq!(
        ids(&json(&["--last", "2", "--order", "desc"])),
        ["sess-c", "sess-b"]
    );
    // A range counts only the responses in it: sess-a's second response is after 22:00Z.
    let late = json(&["--since", "2026-04-30T22:00:00Z", "--until", "2026-04-30"]);
    assert_eq!(ids(&late), ["sess-a"]);
    assert_eq!(late["sessions"][0]["events"], 1);
    assert_eq!(late["sessions"][0]["start"], "2026-04-30T22:40:00Z");
    let refused = sb.run(["usage", "--order", "desc"]);
    assert!(
        refused.code != 0 && refused.stderr.contains("--by-session"),
        "{}",
        refused.stderr
    );

    // One session, by id or a unique prefix; its responses in order.
    let mut cmd = sb.command(["usage", "session", "sess-b", "-z", "UTC"]);
    cmd.env("COLUMNS", "200");
    let out = cmd.output().expect("ringlet runs");
    assert!(out.status.success(), "{out:?}");
    insta::assert_snapshot!(
        "session_detail",
        String::from_utf8(out.stdout).expect("utf-8")
    );
    let one = sb
        .run(["usage", "session", "sess-b", "--json", "-z", "UTC"])
        .ok()
        .json();
    assert_eq!(one["session"]["session_id"], "sess-b");
    assert_eq!(one["events"].as_array().expect("events").len(), 2);
    sb.run(["usage", "session", "sess-"])
        .fails_with("3 sessions start with 'sess-'; give more of the id");
    sb.run(["usage", "session", "nope"])
        .fails_with("no session 'nope' in the usage ledger");
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
        ("by_project", &["--by-project"][..]),
        ("by_day_by_model", &["--by-day", "--breakdown", "model"][..]),
    ] {
        let mut full = vec!["usage", "-z", "UTC", "--json"];
        full.extend_from_slice(args);
        let json = sb.run(full).ok().json();
        insta::assert_json_snapshot!(format!("{name}_json"), json);
    }
}

#[test]
fn billing_blocks_and_the_active_one() {
    let sb = ledger();
    let mut cmd = sb.command(["usage", "blocks", "-z", "UTC", "--token-limit", "max"]);
    cmd.env("COLUMNS", "200");
    let out = cmd.output().expect("ringlet runs");
    assert!(out.status.success(), "{out:?}");
    insta::assert_snapshot!("blocks_wide", String::from_utf8(out.stdout).expect("utf-8"));
    let json = sb
        .run(["usage", "blocks", "--json", "-z", "UTC"])
        .ok()
        .json();
    let starts: Vec<&str> = json["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|b| b["start"].as_str().expect("start"))
        .collect();
    // 21:10 and 22:40 share the block from 21:00; the rest are days apart.
    assert_eq!(
        starts,
        [
            "2026-04-30T21:00:00Z",
            "2026-05-01T09:00:00Z",
            "2026-05-03T23:00:00Z"
        ]
    );
    assert_eq!(json["blocks"][0]["events"], 2);
    assert!(
        json["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .all(|b| b["active"] == false)
    );
    sb.run(["usage", "blocks", "--token-limit", "lots"])
        .fails_with("--token-limit 'lots' is not a number of tokens or `max`");

    // A response ten minutes ago opens the active block, with a burn rate and a projection.
    let now = chrono::Utc::now() - chrono::Duration::minutes(10);
    let log = sb.root().join("now.jsonl");
    std::fs::write(
        &log,
        line(
            "now1",
            "sess-now",
            &now.to_rfc3339(),
            "claude-sonnet-4-5",
            [1_000, 500, 0, 0],
        ),
    )
    .expect("log");
    sb.run([
        "import",
        "claude",
        "--to",
        "work",
        "--from",
        log.to_str().expect("utf-8"),
    ])
    .ok();
    let active = sb
        .run([
            "usage",
            "blocks",
            "--active",
            "--json",
            "--token-limit",
            "1000000",
        ])
        .ok()
        .json();
    let blocks = active["blocks"].as_array().expect("blocks");
    assert_eq!(blocks.len(), 1, "{active}");
    assert_eq!(blocks[0]["active"], true);
    assert_eq!(active["token_limit"], 1_000_000);
    let p = &blocks[0]["projection"];
    assert!(p["tokens_per_minute"].as_f64().expect("rate") > 0.0, "{p}");
    assert!(p["projected_total_tokens"].as_u64().expect("projection") >= 1_500);
    let table = sb.run(["usage", "blocks", "--recent"]).ok().stdout;
    assert!(
        table.contains("active,") && table.contains("Active block:"),
        "{table}"
    );
}

#[test]
fn projects_filter_by_whole_path_components() {
    let sb = ledger();
    let events = |args: &[&str]| {
        let mut full = vec!["usage", "-z", "UTC", "--json"];
        full.extend_from_slice(args);
        sb.run(full).ok().json()["total"]["events"].clone()
    };
    // /home/dev/shop holds /home/dev/shop/web, not /home/dev/shop-admin.
    assert_eq!(events(&["--project", "/home/dev/shop"]), 4);
    assert_eq!(events(&["--project", "/home/dev/shop/"]), 4);
    assert_eq!(events(&["--project", "/home/dev/shop/web"]), 1);
    assert_eq!(events(&["--project", "/home/dev/shop-admin"]), 1);
    assert_eq!(events(&["--project", "/home/dev", "--by-day"]), 5);
    // The sessions that worked in a project, each with all its usage.
    let sessions = sb
        .run([
            "usage",
            "--json",
            "--by-session",
            "--project",
            "/home/dev/shop/web",
        ])
        .ok()
        .json();
    let listed = sessions["sessions"].as_array().expect("sessions");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["session_id"], "sess-b");
    assert_eq!(listed[0]["events"], 2);
    assert_eq!(
        listed[0]["projects"],
        serde_json::json!(["/home/dev/shop", "/home/dev/shop/web"])
    );
    // The export names each event's project.
    let exported = sb
        .run([
            "usage",
            "--export",
            "json",
            "--project",
            "/home/dev/shop-admin",
        ])
        .ok()
        .json();
    assert_eq!(exported[0]["project"], "/home/dev/shop-admin");
    // A relative directory is taken from where ringlet runs (the sandbox root here).
    assert_eq!(events(&["--project", "no-such-dir"]), 0);
}
