//! Team ledger benchmarks against a real Postgres (docs/performance.md, "Team ledger"):
//!
//! 1. push throughput: 100,000 events in a local SQLite ledger pushed into a fresh schema, with
//!    the default batch (2,000 events per transaction) and with 200, side by side; then a
//!    second push, which sends nothing;
//! 2. team `--by-day` over 10,000,000 events (10 machines, a year): p50 of 21 queries from the
//!    rollup (target ≤ 200 ms), beside the same report from the raw events (unaligned bounds).
//!
//! Usage: `RINGLET_TEST_POSTGRES_URL=postgres://user@host:port/db [RINGLET_TEST_POSTGRES_PASSWORD=…]
//! cargo bench -p ringlet --features team --bench team_ledger [-- EVENTS]`. The 10M events are
//! generated in SQL once per schema (`bench_team_<EVENTS>`) and kept for later runs.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ringlet::{
    CostSource, PgUsageStore, Secret, SqliteUsageStore, TeamConnect, TeamGroup, TokenCounts,
    UsageEvent, UsageFilter, UsageGroup, UsageStore,
};

fn url() -> String {
    std::env::var("RINGLET_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("set RINGLET_TEST_POSTGRES_URL (and RINGLET_TEST_POSTGRES_PASSWORD if needed)")
    })
}

fn connect(schema: &str, machine: &str) -> TeamConnect {
    TeamConnect {
        url: url(),
        password: std::env::var("RINGLET_TEST_POSTGRES_PASSWORD")
            .ok()
            .map(Secret::new),
        schema: schema.into(),
        machine: machine.into(),
        user: "bench".into(),
        ca_file: None,
    }
}

fn raw_client() -> postgres::Client {
    let mut config: postgres::Config = url().parse().expect("url");
    if let Ok(pw) = std::env::var("RINGLET_TEST_POSTGRES_PASSWORD") {
        config.password(pw);
    }
    config.connect(postgres::NoTls).expect("connect")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn push_throughput() {
    let n = 100_000u64;
    let dir = tempfile::tempdir().expect("tempdir");
    let local = SqliteUsageStore::open(dir.path().join("usage.db")).expect("local");
    let t0 = Utc
        .with_ymd_and_hms(2026, 5, 1, 0, 0, 0)
        .single()
        .expect("date");
    let events: Vec<UsageEvent> = (0..n)
        .map(|i| UsageEvent {
            time: t0 + chrono::Duration::seconds(i as i64 * 7),
            profile: format!("p{}", i % 4),
            agent: "claude".into(),
            provider: "anthropic".into(),
            model: format!("model-{}", i % 5),
            tokens: TokenCounts {
                input: 1000 + i % 100,
                output: 100 + i % 10,
                cache_read: i % 5000,
                ..TokenCounts::default()
            },
            cost_nanos: Some((i % 100_000) as i64),
            cost_source: CostSource::Computed,
            session_id: Some(format!("s{}", i % 300)),
            origin: "file:/home/u/.claude/projects/x.jsonl".into(),
            dedup_key: format!("claude:msg_{i}"),
            rank: 0,
        })
        .collect();
    for chunk in events.chunks(10_000) {
        local.record(chunk).expect("record");
    }
    let stamp = std::process::id();
    for batch in [ringlet::DEFAULT_PUSH_BATCH, 200] {
        let schema = format!("bench_push_{stamp}_{batch}");
        let team = PgUsageStore::connect(&connect(&schema, "bench-machine")).expect("team");
        let start = Instant::now();
        let report = ringlet::push(&local, &team, &schema, batch).expect("push");
        let took = start.elapsed();
        assert_eq!(report.inserted, n);
        let again = Instant::now();
        let second = ringlet::push(&local, &team, &schema, batch).expect("push again");
        assert_eq!(second.sent, 0);
        println!(
            "push of {n} events, batch {batch}: {:.2} s = {:.0} events/s; second push (nothing to send): {:.1} ms",
            took.as_secs_f64(),
            n as f64 / took.as_secs_f64(),
            ms(again.elapsed())
        );
        raw_client()
            .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .expect("drop");
    }
}

fn by_day(n: u64) {
    let schema = format!("bench_team_{n}");
    let team = PgUsageStore::connect(&connect(&schema, "m0")).expect("team");
    let mut client = raw_client();
    client
        .batch_execute(&format!("SET search_path TO \"{schema}\""))
        .expect("schema");
    let have: i64 = client
        .query_one("SELECT count(*) FROM usage_events", &[])
        .expect("count")
        .get(0);
    let start_ms = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    let year_ms = 365 * 86_400_000i64;
    if have != n as i64 {
        let t = Instant::now();
        client
            .batch_execute(&format!(
                "TRUNCATE usage_events, usage_rollup;
                 ALTER TABLE usage_events DISABLE TRIGGER usage_events_rollup;
                 INSERT INTO usage_events (machine, user_name, ts_ms, profile, agent, provider,
                     model, input, output, cache_creation, cache_creation_5m, cache_creation_1h,
                     cache_read, reasoning, cost_nanos, cost_source, session_id, origin,
                     dedup_key, rank)
                 SELECT 'machine-' || (i % 10), 'user-' || (i % 10),
                     {start_ms} + (i * {year_ms}) / {n}, 'profile-' || (i % 3),
                     (ARRAY['claude', 'codex', 'gemini'])[1 + i % 3],
                     (ARRAY['anthropic', 'openai', 'google'])[1 + i % 3],
                     'model-' || (i % 4), 1000 + i % 500, 100 + i % 50, i % 7, 0, 0, i % 3000,
                     i % 20, i % 100000, 'computed', 's' || (i % 5000), 'file',
                     'claude:msg_' || i, 0
                 FROM generate_series(0::bigint, {n} - 1) AS i;
                 ALTER TABLE usage_events ENABLE TRIGGER usage_events_rollup;
                 ANALYZE usage_events;"
            ))
            .expect("fill");
        let rows = team.rebuild_rollups().expect("rollups");
        client
            .batch_execute("ANALYZE usage_rollup")
            .expect("analyze");
        println!(
            "generated {n} events and {rows} rollup rows in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    let since = Utc.timestamp_millis_opt(start_ms).single().expect("since");
    let until = Utc
        .timestamp_millis_opt(start_ms + year_ms)
        .single()
        .expect("until");
    let aligned = UsageFilter::new().since(since).until(until);
    let group = TeamGroup::Usage(UsageGroup::Day);
    let mut times = Vec::new();
    let mut days = 0;
    for _ in 0..21 {
        let t = Instant::now();
        let rows = team.team_query(&aligned, group).expect("by day");
        times.push(t.elapsed());
        days = rows.len();
        let events: u64 = rows.iter().map(|r| r.events).sum();
        assert_eq!(events, n);
    }
    println!(
        "team --by-day over {n} events ({days} days), from the rollup: p50 {:.1} ms (min {:.1}, max {:.1})",
        ms(median(times.clone())),
        ms(*times.iter().min().expect("min")),
        ms(*times.iter().max().expect("max"))
    );
    let by_user = Instant::now();
    team.team_query(&aligned, TeamGroup::USER).expect("by user");
    println!("team --by-user: {:.1} ms", ms(by_user.elapsed()));
    let raw = UsageFilter::new()
        .since(since + chrono::Duration::milliseconds(1))
        .until(until);
    let mut raw_times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        team.team_query(&raw, group).expect("raw by day");
        raw_times.push(t.elapsed());
    }
    println!(
        "the same from the raw events (unaligned bound): p50 {:.0} ms",
        ms(median(raw_times))
    );
}

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<u64>().ok())
        .unwrap_or(10_000_000);
    push_throughput();
    by_day(n);
}
