//! `cost-threshold` and `daily-rollup` with no daemon: every ringlet invocation checks, and
//! concurrent invocations fire each event exactly once.

use std::time::Duration;

use chrono::{Duration as Days, Timelike, Utc};
use ringlet::{CostSource, NANOS_PER_USD, SqliteUsageStore, TokenCounts, UsageEvent, UsageStore};
use ringlet_tests::harness::Sandbox;

use crate::{add_hook, sandbox_with_fake_profile, wait_lines};

fn spend(sb: &Sandbox, profile: &str, time: chrono::DateTime<Utc>, usd: f64, key: &str) {
    let store = SqliteUsageStore::open(sb.ringlet_home().join("data/usage.db")).expect("ledger");
    store
        .record(&[UsageEvent {
            time,
            profile: profile.into(),
            agent: "codex".into(),
            provider: "openai".into(),
            model: "gpt-test".into(),
            tokens: TokenCounts {
                input: 100,
                ..TokenCounts::default()
            },
            cost_nanos: Some((usd * NANOS_PER_USD as f64) as i64),
            cost_source: CostSource::Computed,
            session_id: None,
            project: None,
            origin: "test".into(),
            dedup_key: key.into(),
            rank: 0,
        }])
        .expect("records");
}

/// Starts `n` ringlet invocations at once and waits for all of them.
fn concurrently(sb: &Sandbox, n: usize) {
    let children: Vec<_> = (0..n)
        .map(|_| {
            sb.command(["profiles", "list"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("ringlet starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("ringlet ends");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_cost_threshold_fires_once_across_concurrent_processes() {
    let sb = sandbox_with_fake_profile();
    let log = sb.root().join("alerts.log");
    add_hook(
        &sb,
        &[
            "work",
            "--on",
            "cost-threshold",
            "--period",
            "day",
            "--threshold",
            "2",
            "--of",
            "5",
            "--shell",
            &format!(
                r#"echo "$RINGLET_PROFILE $RINGLET_AGENT $RINGLET_PERIOD $RINGLET_COST_USD $RINGLET_THRESHOLD_USD $RINGLET_BUDGET_USD" >> '{}'"#,
                log.display()
            ),
        ],
    );
    let now = Utc::now();
    spend(&sb, "work", now, 1.25, "a");
    concurrently(&sb, 4);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!log.exists(), "below the threshold nothing fires");

    spend(&sb, "work", now, 1.25, "b");
    concurrently(&sb, 8);
    let lines = wait_lines(&log, 1, Duration::from_secs(10));
    // Give any duplicate time to show up before counting.
    std::thread::sleep(Duration::from_millis(800));
    let lines_after = wait_lines(&log, 2, Duration::from_millis(10));
    assert_eq!(lines, lines_after);
    if now.date_naive() == Utc::now().date_naive() {
        assert_eq!(lines, ["work codex day 2.50 2.00 5.00"]);
    }
    concurrently(&sb, 3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        wait_lines(&log, 2, Duration::from_millis(10)).len(),
        1,
        "still once"
    );
}

#[test]
fn the_daily_rollup_fires_once_across_concurrent_processes() {
    let sb = sandbox_with_fake_profile();
    let log = sb.root().join("rollup.log");
    add_hook(
        &sb,
        &[
            "--all-profiles",
            "--on",
            "daily-rollup",
            "--shell",
            &format!(
                r#"echo "$RINGLET_PROFILE $RINGLET_TOTAL_USD $RINGLET_PROFILE_COUNT $RINGLET_TOP_PROFILE $RINGLET_TOP_USD $RINGLET_PERIOD_KEY" >> '{}'"#,
                log.display()
            ),
        ],
    );
    let now = Utc::now();
    let yesterday = now - Days::days(1);
    spend(&sb, "work", yesterday, 3.0, "a");
    spend(&sb, "other", yesterday, 1.5, "b");
    spend(&sb, "work", now, 50.0, "today");
    concurrently(&sb, 8);
    if now.hour() == 0 && now.minute() < 5 {
        // Not due before 00:05 UTC.
        std::thread::sleep(Duration::from_millis(500));
        assert!(!log.exists());
        return;
    }
    let lines = wait_lines(&log, 1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        wait_lines(&log, 2, Duration::from_millis(10)),
        lines,
        "exactly once"
    );
    let day = yesterday.format("%Y-%m-%d");
    assert_eq!(lines, [format!("* 4.50 2 work 3.00 {day}")]);
    concurrently(&sb, 3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        wait_lines(&log, 2, Duration::from_millis(10)).len(),
        1,
        "still once"
    );
}
