//! The suite every [`UsageStore`] implementation runs, public as
//! [`ringlet::conformance::usage_store`](crate::conformance::usage_store),
//! so a store in another crate runs the same one. It pins the semantics frontends
//! rely on: deduplication and ranked replacement, exact totals under every grouping and filter
//! (read from rollups or raw events alike), import positions, repricing, run records, saturating
//! sums, and concurrent writers.
//!
//! Test support: it panics on the first difference, like any test.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::event::{CostSource, TokenCounts, UsageEvent};
use super::price::PriceBook;
use super::store::{
    FileIdentity, ImportState, RecordOutcome, RunEnd, RunStart, UsageFilter, UsageGroup, UsageStore,
};

/// Runs the usage-store suite. `make` returns a new, empty store each time it is called (a
/// fresh database or schema); the suite calls it once per section that needs a store of its
/// own, and runs the other sections together in one store, so they also show that data of
/// other profiles and times never leaks into a query.
///
/// ```ignore
/// #[test]
/// fn the_postgres_ledger_conforms() {
///     ringlet::conformance::usage_store(|| PgUsageStore::connect(&fresh_schema()).unwrap());
/// }
/// ```
pub fn usage_store<S: UsageStore>(mut make: impl FnMut() -> S) {
    run(&make());
    rollup_and_raw_paths_agree(&make());
    days_follow_daylight_saving(&make());
    projects(&make());
    concurrent_writers_dedup_exactly(&make());
}

/// 2026-05-01T00:00:00Z, the suite's reference time.
pub(crate) fn fixed_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// A computed-cost event of profile `work` with `input` tokens, at [`fixed_time`].
pub(crate) fn event(key: &str, model: &str, input: u64, rank: i64) -> UsageEvent {
    UsageEvent {
        time: fixed_time(),
        profile: "work".into(),
        agent: "claude".into(),
        provider: "anthropic".into(),
        model: model.into(),
        tokens: TokenCounts {
            input,
            ..TokenCounts::default()
        },
        cost_nanos: Some(0),
        cost_source: CostSource::Computed,
        session_id: None,
        project: None,
        origin: "test".into(),
        dedup_key: key.into(),
        rank,
    }
}

/// The sections that share one store.
fn run(store: &dyn UsageStore) {
    empty_total(store);
    dedup_and_rank(store);
    grouping_and_filters(store);
    import_positions(store);
    export_and_reprice(store);
    runs(store);
    sums_saturate(store);
}

fn total(store: &dyn UsageStore, filter: &UsageFilter) -> super::store::UsageRow {
    let rows = store.query(filter, UsageGroup::Total).expect("total");
    assert_eq!(rows.len(), 1, "Total is always one row");
    rows.into_iter().next().expect("one row")
}

/// The other sections' events lie before the window `grouping_and_filters` checks exactly.
fn before_window() -> chrono::DateTime<chrono::Utc> {
    fixed_time() - Duration::days(10)
}

fn empty_total(store: &dyn UsageStore) {
    let t = total(store, &UsageFilter::new());
    assert_eq!(t.key, "total");
    assert_eq!((t.events, t.total_tokens, t.cost_nanos), (0, 0, 0));
    assert!(
        store
            .query(&UsageFilter::new(), UsageGroup::Day)
            .expect("days")
            .is_empty()
    );
    assert_eq!(
        store.record(&[]).expect("nothing"),
        RecordOutcome::default()
    );
}

fn dedup_and_rank(store: &dyn UsageStore) {
    let f = UsageFilter::new().profile("dedup");
    let mk = |key: &str, input: u64, rank: i64| {
        let mut ev = event(key, "m", input, rank);
        ev.profile = "dedup".into();
        ev.time = before_window();
        ev
    };
    let out = store
        .record(&[mk("d1", 10, 1), mk("d2", 20, 1), mk("d1", 10, 1)])
        .expect("record");
    assert_eq!(
        out,
        RecordOutcome {
            inserted: 2,
            replaced: 0,
            duplicates: 1
        }
    );
    // A duplicate with a lower or equal rank changes nothing, whatever its tokens.
    let out = store
        .record(&[mk("d1", 99, 0), mk("d1", 98, 1)])
        .expect("record");
    assert_eq!(out.duplicates, 2);
    assert_eq!(total(store, &f).input, 30);
    // A higher rank replaces: totals move by the difference, the event count does not.
    let out = store.record(&[mk("d1", 15, 2)]).expect("record");
    assert_eq!(out.replaced, 1);
    let t = total(store, &f);
    assert_eq!((t.events, t.input), (2, 35));
    let keys: Vec<_> = store
        .events(&f, None)
        .expect("events")
        .into_iter()
        .map(|e| (e.dedup_key, e.tokens.input, e.rank))
        .collect();
    assert!(keys.contains(&("d1".into(), 15, 2)), "{keys:?}");
}

fn grouping_and_filters(store: &dyn UsageStore) {
    let t0 = fixed_time(); // 2026-05-01T00:00:00Z, a Friday
    let mut events = Vec::new();
    // (profile, agent, provider, model, hours after t0, input, cost)
    type Spec<'a> = (&'a str, &'a str, &'a str, &'a str, i64, u64, Option<i64>);
    let specs: [Spec<'_>; 6] = [
        (
            "g-work",
            "claude",
            "anthropic",
            "sonnet",
            1,
            100,
            Some(1_000),
        ),
        (
            "g-work",
            "claude",
            "anthropic",
            "opus",
            25,
            200,
            Some(2_000),
        ),
        (
            "g-work",
            "codex",
            "openai",
            "gpt",
            24 * 3 + 1,
            300,
            Some(3_000),
        ),
        (
            "g-home",
            "claude",
            "minimax",
            "sonnet",
            24 * 31 + 2,
            400,
            None,
        ),
        (
            "g-home",
            "gemini",
            "google",
            "flash",
            24 * 31 + 23,
            500,
            Some(5_000),
        ),
        (
            "g-home",
            "gemini",
            "google",
            "flash",
            24 * 60,
            600,
            Some(6_000),
        ),
    ];
    for (i, (profile, agent, provider, model, hours, input, cost)) in specs.iter().enumerate() {
        let mut ev = event(&format!("g{i}"), model, *input, 0);
        ev.profile = (*profile).into();
        ev.agent = (*agent).into();
        ev.provider = (*provider).into();
        ev.time = t0 + Duration::hours(*hours);
        ev.tokens.output = 1;
        ev.tokens.cache_read = 2;
        ev.tokens.cache_creation = 4;
        ev.tokens.cache_creation_1h = 3;
        ev.tokens.reasoning = 1;
        ev.session_id = Some(format!("s{}", i % 2));
        ev.cost_nanos = *cost;
        ev.cost_source = if cost.is_some() {
            CostSource::Computed
        } else {
            CostSource::Unpriced
        };
        events.push(ev);
    }
    store.record(&events).expect("record");
    let g = |f: UsageFilter, group| store.query(&f, group).expect("query");
    let all = || UsageFilter::new().since(t0).until(t0 + Duration::days(365));

    let t = &g(all(), UsageGroup::Total)[0];
    assert_eq!(t.events, 6);
    assert_eq!(t.input, 2100);
    assert_eq!((t.output, t.cache_read, t.cache_creation), (6, 12, 24));
    assert_eq!(
        (t.cache_creation_1h, t.cache_creation_5m, t.reasoning),
        (18, 0, 6)
    );
    assert_eq!(t.total_tokens, 2100 + 6 + 12 + 24);
    assert_eq!(
        (t.cost_nanos, t.priced_events, t.unpriced_events),
        (17_000, 5, 1)
    );
    assert!((t.cost_usd - 17e-6).abs() < 1e-15);

    let keys = |rows: Vec<super::store::UsageRow>| {
        rows.into_iter()
            .map(|r| (r.key, r.input))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(g(all(), UsageGroup::Day)),
        vec![
            ("2026-05-01".into(), 100),
            ("2026-05-02".into(), 200),
            ("2026-05-04".into(), 300),
            ("2026-06-01".into(), 400 + 500),
            ("2026-06-30".into(), 600)
        ]
    );
    // Nine hours east, the 23:00 UTC event falls on the next day.
    assert_eq!(
        keys(g(all().time_zone(zone("Asia/Tokyo")), UsageGroup::Day))[3..].to_vec(),
        vec![
            ("2026-06-01".into(), 400),
            ("2026-06-02".into(), 500),
            ("2026-06-30".into(), 600)
        ]
    );
    assert_eq!(
        keys(g(all(), UsageGroup::Week)),
        vec![
            ("2026-W18".into(), 300),
            ("2026-W19".into(), 300),
            ("2026-W23".into(), 900),
            ("2026-W27".into(), 600)
        ]
    );
    assert_eq!(
        keys(g(all(), UsageGroup::Month)),
        vec![("2026-05".into(), 600), ("2026-06".into(), 1500)]
    );
    assert_eq!(
        keys(g(all(), UsageGroup::Model)),
        vec![
            ("flash".into(), 1100),
            ("gpt".into(), 300),
            ("opus".into(), 200),
            ("sonnet".into(), 500)
        ]
    );
    let by_profile = g(all(), UsageGroup::Profile);
    assert_eq!(by_profile.len(), 2);
    assert_eq!(
        (by_profile[0].key.as_str(), by_profile[0].unpriced_events),
        ("g-home", 1)
    );
    assert_eq!(keys(g(all(), UsageGroup::Agent)).len(), 3);
    assert_eq!(keys(g(all(), UsageGroup::Provider)).len(), 4);
    assert_eq!(
        keys(g(all(), UsageGroup::Session)),
        vec![
            ("s0".into(), 100 + 300 + 500),
            ("s1".into(), 200 + 400 + 600)
        ]
    );

    // Filters.
    assert_eq!(total(store, &all().profile("g-work")).input, 600);
    assert_eq!(total(store, &all().agent("gemini")).input, 1100);
    assert_eq!(total(store, &all().provider("anthropic")).input, 300);
    assert_eq!(total(store, &all().model("sonnet")).input, 500);
    assert_eq!(total(store, &all().profile("nobody")).events, 0);
    let may = UsageFilter::new().since(t0).until(t0 + Duration::days(31));
    assert_eq!(total(store, &may).input, 600);
    // `until` is exclusive; an unaligned bound still counts exactly.
    let first_hour = UsageFilter::new()
        .since(t0 + Duration::hours(1))
        .until(t0 + Duration::hours(25));
    assert_eq!(total(store, &first_hour).input, 100);
    let odd = UsageFilter::new()
        .since(t0 + Duration::hours(1) + Duration::milliseconds(1))
        .until(t0 + Duration::hours(25) + Duration::milliseconds(1));
    assert_eq!(total(store, &odd).input, 200);
}

fn state(path: &str, offset: u64) -> ImportState {
    ImportState {
        path: path.into(),
        format: "claude-jsonl".into(),
        identity: FileIdentity {
            dev: u64::MAX,
            inode: 42,
            head_len: 10,
            head_hash: 0xdead_beef_dead_beef,
        },
        size: 1234,
        mtime_ns: -5,
        offset,
        line: 7,
        context: Some("{\"model\":\"m\"}".into()),
        updated_at: fixed_time(),
    }
}

fn import_positions(store: &dyn UsageStore) {
    assert!(store.import_state("/h/a.jsonl").expect("get").is_none());
    let mut ev = event("imp1", "m", 5, 0);
    ev.profile = "imports".into();
    ev.time = before_window();
    let out = store
        .commit_import(&[ev.clone()], &state("/h/a.jsonl", 100))
        .expect("commit");
    assert_eq!(out.inserted, 1);
    // The same batch again (a re-run after a crash between two commits): a duplicate, and the
    // position is simply written again.
    let out = store
        .commit_import(&[ev], &state("/h/a.jsonl", 200))
        .expect("commit");
    assert_eq!(out.duplicates, 1);
    assert_eq!(
        store.import_state("/h/a.jsonl").expect("get"),
        Some(state("/h/a.jsonl", 200))
    );
    store
        .commit_import(&[], &state("/h/sub/b.jsonl", 1))
        .expect("commit");
    store
        .commit_import(&[], &state("/h2/c.jsonl", 1))
        .expect("commit");
    store.commit_import(&[], &state("/h", 1)).expect("commit");
    let mut under: Vec<_> = store
        .import_states("/h")
        .expect("list")
        .into_iter()
        .map(|s| s.path)
        .collect();
    under.sort();
    assert_eq!(under, vec!["/h", "/h/a.jsonl", "/h/sub/b.jsonl"]);
    assert_eq!(store.import_states("/h/").expect("list").len(), 3);
    assert_eq!(store.forget_import_states("/h").expect("forget"), 3);
    assert!(store.import_state("/h/a.jsonl").expect("get").is_none());
    assert!(store.import_state("/h2/c.jsonl").expect("get").is_some());
    let f = UsageFilter::new().profile("imports");
    assert_eq!(
        total(store, &f).input,
        5,
        "forgetting positions keeps events"
    );

    // Several files at once, in order: each batch's events with its position, one outcome per
    // batch, and a later batch's copy of a key ranked against the earlier one's.
    let mut a = event("many1", "m", 3, 0);
    a.profile = "imports".into();
    a.time = before_window();
    let mut better = a.clone();
    better.rank = 10;
    better.tokens.input = 4;
    let outcomes = store
        .commit_imports(&[
            (&[a.clone()][..], &state("/m/a.jsonl", 10)),
            (&[], &state("/m/b.jsonl", 20)),
            (&[a, better][..], &state("/m/c.jsonl", 30)),
        ])
        .expect("commit several");
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].inserted, 1);
    assert_eq!((outcomes[2].duplicates, outcomes[2].replaced), (1, 1));
    for (path, offset) in [("/m/a.jsonl", 10), ("/m/b.jsonl", 20), ("/m/c.jsonl", 30)] {
        assert_eq!(
            store.import_state(path).expect("get"),
            Some(state(path, offset))
        );
    }
    assert_eq!(
        total(store, &f).input,
        5 + 4,
        "the better copy replaced the first"
    );
}

fn export_and_reprice(store: &dyn UsageStore) {
    let f = UsageFilter::new().profile("export");
    let mut evs = Vec::new();
    for (i, model) in ["claude-sonnet-4-5", "no-such-model", "claude-sonnet-4-5"]
        .iter()
        .enumerate()
    {
        let mut ev = event(&format!("x{i}"), model, 1_000, 0);
        ev.profile = "export".into();
        ev.time = before_window() + Duration::minutes(10 - i as i64);
        ev.origin = format!("file:/logs/{i}.jsonl");
        ev.cost_nanos = None;
        ev.cost_source = CostSource::Unpriced;
        evs.push(ev);
    }
    evs[2].cost_nanos = Some(7);
    evs[2].cost_source = CostSource::Reported;
    store.record(&evs).expect("record");
    let listed = store.events(&f, None).expect("events");
    assert_eq!(
        listed
            .iter()
            .map(|e| e.dedup_key.as_str())
            .collect::<Vec<_>>(),
        vec!["x2", "x1", "x0"],
        "oldest first"
    );
    assert_eq!(listed[0], evs[2], "an event round-trips unchanged");
    assert_eq!(store.events(&f, Some(1)).expect("limit").len(), 1);

    let out = store.reprice(&PriceBook::builtin()).expect("reprice");
    assert!(out.examined >= 2 && out.updated >= 1, "{out:?}");
    let after = store.events(&f, None).expect("events");
    let by_key = |k: &str| after.iter().find(|e| e.dedup_key == k).expect("present");
    assert_eq!(by_key("x0").cost_source, CostSource::Computed);
    assert_eq!(by_key("x0").cost_nanos, Some(3_000_000));
    assert_eq!(by_key("x1").cost_source, CostSource::Unpriced);
    assert_eq!(by_key("x1").cost_nanos, None);
    assert_eq!(by_key("x2").cost_nanos, Some(7), "reported costs are kept");
    let t = total(store, &f);
    assert_eq!(
        (t.cost_nanos, t.priced_events, t.unpriced_events),
        (3_000_007, 2, 1)
    );
    // Repricing again changes nothing.
    let again = store.reprice(&PriceBook::builtin()).expect("reprice");
    assert_eq!(again.updated, 0);
}

fn runs(store: &dyn UsageStore) {
    let start = |profile: &str, minutes| RunStart {
        profile: profile.into(),
        agent: "claude".into(),
        provider: "anthropic".into(),
        model: Some("claude-sonnet-4-5".into()),
        started_at: fixed_time() + Duration::minutes(minutes),
    };
    let a = store.start_run(&start("r-work", 0)).expect("start");
    let b = store.start_run(&start("r-work", 5)).expect("start");
    let _c = store.start_run(&start("r-home", 6)).expect("start");
    store
        .finish_run(
            a,
            &RunEnd {
                ended_at: Some(fixed_time() + Duration::seconds(90)),
                exit_code: Some(0),
                peak_rss_bytes: Some(123_456_789),
                cpu_user_ms: Some(1500),
                cpu_system_ms: Some(200),
            },
        )
        .expect("finish");
    assert!(store.finish_run(999_999, &RunEnd::default()).is_err());
    let listed = store
        .runs(&UsageFilter::new().profile("r-work"), None)
        .expect("runs");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].id, b, "newest first");
    assert_eq!(listed[0].ended_at, None);
    let first = &listed[1];
    assert_eq!(first.duration_ms, Some(90_000));
    assert_eq!(first.exit_code, Some(0));
    assert_eq!(first.peak_rss_bytes, Some(123_456_789));
    assert_eq!(
        (first.cpu_user_ms, first.cpu_system_ms),
        (Some(1500), Some(200))
    );
    let recent = store
        .runs(
            &UsageFilter::new().since(fixed_time() + Duration::minutes(5)),
            Some(10),
        )
        .expect("runs");
    assert_eq!(recent.len(), 2);
    assert_eq!(
        store
            .runs(&UsageFilter::new(), Some(1))
            .expect("runs")
            .len(),
        1
    );
}

/// Sums never fail and never wrap: past `i64::MAX` they saturate, below it they are exact,
/// whatever the grouping and whether a query reads the rollup or the events. (A report must stay
/// usable whatever one row holds; older versions stored unbounded costs.)
fn sums_saturate(store: &dyn UsageStore) {
    let at = before_window() - Duration::days(30);
    let mk = |key: &str, input: u64, cost: i64, minutes: i64| {
        let mut ev = event(key, "m", input, 0);
        ev.profile = "huge".into();
        ev.time = at + Duration::minutes(minutes);
        ev.cost_nanos = Some(cost);
        ev.cost_source = CostSource::Reported;
        ev.session_id = Some("s".into());
        ev
    };
    let f = UsageFilter::new().profile("huge");
    // Exact where a sum fits: 3 × 2^61.
    let big = 1i64 << 61;
    store
        .record(&[
            mk("h1", big as u64, big, 0),
            mk("h2", big as u64, big, 1),
            mk("h3", big as u64, big, 60),
        ])
        .expect("record");
    let t = total(store, &f);
    assert_eq!((t.events, t.input, t.cost_nanos), (3, 3 << 61, 3 * big));
    // Saturating past it: the two in one 15-minute bucket overflow even the rollup's cell.
    store
        .record(&[
            mk("h4", u64::MAX, i64::MAX, 2),
            mk("h5", u64::MAX, i64::MAX, 3),
        ])
        .expect("record");
    let raw = UsageFilter::new()
        .profile("huge")
        .since(at - Duration::milliseconds(1));
    for (filter, group) in [
        (&f, UsageGroup::Total),
        (&f, UsageGroup::Day),
        (&f, UsageGroup::Model),
        (&f, UsageGroup::Session),
        (&raw, UsageGroup::Total),
    ] {
        let rows = store.query(filter, group).expect("a usable report");
        assert_eq!(rows.len(), 1, "{group:?}");
        let r = &rows[0];
        assert_eq!(r.events, 5, "{group:?}");
        assert_eq!(
            (r.input, r.total_tokens, r.cost_nanos),
            (i64::MAX as u64, i64::MAX as u64, i64::MAX),
            "{group:?}"
        );
    }
    assert_eq!(store.events(&f, None).expect("export").len(), 5);
}

/// A query whose bounds fall on the 15-minute grid may be answered from rollups, one whose bounds
/// do not from the raw events: both give the same rows, in every grouping and time zone.
fn rollup_and_raw_paths_agree(store: &dyn UsageStore) {
    let mut events = Vec::new();
    for i in 0..500i64 {
        let mut ev = event(&format!("k{i}"), ["m1", "m2", "m3"][(i % 3) as usize], 1, 0);
        ev.time = fixed_time() + Duration::minutes(i * 37);
        ev.tokens.output = i as u64;
        ev.profile = ["work", "home"][(i % 2) as usize].into();
        ev.cost_nanos = (i % 5 != 0).then_some(i * 1000);
        ev.session_id = Some(format!("s{}", i % 7));
        events.push(ev);
    }
    store.record(&events).expect("record");
    // Replacing an event (by rank) keeps every rollup exact, first and last times included.
    let mut replaced = events[3].clone();
    replaced.rank = 1;
    replaced.time += Duration::hours(30);
    replaced.model = "m9".into();
    store.record(&[replaced.clone()]).expect("replace");
    events[3] = replaced;
    let since = fixed_time() + Duration::hours(24);
    let until = fixed_time() + Duration::hours(200);
    for offset in ["UTC", "Asia/Kolkata", "America/Los_Angeles"] {
        for group in [
            UsageGroup::Total,
            UsageGroup::Day,
            UsageGroup::Week,
            UsageGroup::Month,
            UsageGroup::Model,
            UsageGroup::Profile,
            UsageGroup::Session,
        ] {
            // On the hour (hourly rollup), on the quarter hour (15-minute rollup), and off the
            // grid (the events); nothing lies in the extra quarter hour or millisecond.
            let hourly = UsageFilter::new()
                .since(since)
                .until(until)
                .time_zone(zone(offset));
            let quarterly = UsageFilter::new()
                .since(since - Duration::minutes(15))
                .until(until + Duration::minutes(15))
                .time_zone(zone(offset));
            let raw = UsageFilter::new()
                .since(since - Duration::milliseconds(1))
                .until(until - Duration::milliseconds(1))
                .time_zone(zone(offset));
            let expected = store.query(&raw, group).expect("raw");
            assert_eq!(
                store.query(&hourly, group).expect("hourly"),
                expected,
                "{group:?} at {offset}"
            );
            assert_eq!(
                store.query(&quarterly, group).expect("quarterly"),
                expected,
                "{group:?} at {offset}"
            );
            // Split by model, profile or agent: the same from every source, and each
            // group's parts add up to its row.
            for by in [UsageGroup::Model, UsageGroup::Profile, UsageGroup::Agent] {
                let parts = store.query_split(&raw, group, by).expect("split");
                assert_eq!(
                    store.query_split(&hourly, group, by).expect("hourly split"),
                    parts,
                    "{group:?} by {by:?} at {offset}"
                );
                assert_eq!(
                    store
                        .query_split(&quarterly, group, by)
                        .expect("quarterly split"),
                    parts,
                    "{group:?} by {by:?} at {offset}"
                );
                let mut summed: Vec<super::store::UsageRow> = Vec::new();
                for (_, row) in &parts {
                    match summed.last_mut() {
                        Some(last) if last.key == row.key => last.absorb(row),
                        _ => summed.push(row.clone()),
                    }
                }
                assert_eq!(summed, expected, "{group:?} by {by:?} at {offset}");
            }
        }
    }
    // Per session, against a sum made here: the sessions that began before `since` or went on
    // after `until` count only their events in the range.
    let in_range: Vec<&UsageEvent> = events
        .iter()
        .filter(|e| e.time >= since && e.time < until)
        .collect();
    let mut truth = std::collections::BTreeMap::<String, (u64, u64)>::new();
    for e in &in_range {
        let cell = truth
            .entry(e.session_id.clone().unwrap_or_default())
            .or_default();
        cell.0 += 1;
        cell.1 += e.tokens.output;
    }
    // Hourly usage (billing blocks' input): the same from the hourly rollup and the events,
    // with each hour's first and last event.
    let hourly = UsageFilter::new().since(since).until(until);
    let hours = store.hours(&hourly).expect("hours");
    assert_eq!(
        store
            .hours(
                &UsageFilter::new()
                    .since(since - Duration::milliseconds(1))
                    .until(until)
            )
            .expect("hours from events"),
        hours
    );
    for h in &hours {
        let mine: Vec<&&UsageEvent> = in_range
            .iter()
            .filter(|e| {
                e.model == h.model && (e.time - h.hour).num_minutes() < 60 && e.time >= h.hour
            })
            .collect();
        assert_eq!(h.usage.events, mine.len() as u64);
        assert_eq!(h.first, mine.iter().map(|e| e.time).min().expect("first"));
        assert_eq!(h.last, mine.iter().map(|e| e.time).max().expect("last"));
    }
    assert_eq!(
        hours.iter().map(|h| h.usage.events).sum::<u64>(),
        in_range.len() as u64
    );
    // A set of models (the facade's resolved model filter).
    let two = UsageFilter::new().models(["m1", "m9"]);
    assert_eq!(
        total(store, &two).events,
        events
            .iter()
            .filter(|e| e.model == "m1" || e.model == "m9")
            .count() as u64
    );
    let got: std::collections::BTreeMap<String, (u64, u64)> = store
        .query(
            &UsageFilter::new().since(since).until(until),
            UsageGroup::Session,
        )
        .expect("sessions")
        .into_iter()
        .map(|r| (r.key, (r.events, r.output)))
        .collect();
    assert_eq!(got, truth);
    // The session list: first and last event, models and numbers within the range, oldest
    // first; one session alone by its id; its events by its id.
    let sessions = store
        .sessions(&UsageFilter::new().since(since).until(until))
        .expect("sessions");
    assert_eq!(sessions.len(), truth.len());
    for s in &sessions {
        let mine: Vec<&&UsageEvent> = in_range
            .iter()
            .filter(|e| e.session_id.as_deref() == Some(s.session_id.as_str()))
            .collect();
        assert_eq!(s.first, mine.iter().map(|e| e.time).min().expect("first"));
        assert_eq!(s.last, mine.iter().map(|e| e.time).max().expect("last"));
        let mut models: Vec<String> = mine.iter().map(|e| e.model.clone()).collect();
        models.sort();
        models.dedup();
        assert_eq!(s.models, models, "{}", s.session_id);
        assert_eq!(s.profiles, ["home", "work"]);
        assert_eq!((s.usage.events, s.usage.output), truth[&s.session_id]);
    }
    assert!(sessions.windows(2).all(|w| w[0].first <= w[1].first));
    let one = store
        .sessions(&UsageFilter::new().session("s3"))
        .expect("one session");
    assert_eq!(one.len(), 1);
    assert_eq!(
        one[0].usage.events,
        events
            .iter()
            .filter(|e| e.session_id.as_deref() == Some("s3"))
            .count() as u64
    );
    let its = store
        .events(&UsageFilter::new().session("s3"), None)
        .expect("its events");
    assert_eq!(its.len() as u64, one[0].usage.events);
    assert_eq!(
        total(store, &UsageFilter::new().session("s3")).events,
        one[0].usage.events
    );
}

/// Four writers record the same 50 events at once (two ringlet processes ingesting one log):
/// each event is stored once, every copy is counted exactly once as inserted or duplicate, and
/// the totals are exact.
fn concurrent_writers_dedup_exactly(store: &dyn UsageStore) {
    let events: Vec<UsageEvent> = (0..50)
        .map(|i| {
            let mut ev = event(&format!("c{i}"), "m", 10, 0);
            ev.profile = "contended".into();
            ev
        })
        .collect();
    let start = std::sync::Barrier::new(4);
    let outcomes: Vec<RecordOutcome> = std::thread::scope(|s| {
        let writers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    // In small batches, so the writers interleave.
                    let mut sum = RecordOutcome::default();
                    for batch in events.chunks(5) {
                        sum.add(store.record(batch).expect("record"));
                    }
                    sum
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| w.join().expect("writer"))
            .collect()
    });
    let inserted: u64 = outcomes.iter().map(|o| o.inserted).sum();
    let duplicates: u64 = outcomes.iter().map(|o| o.duplicates).sum();
    assert_eq!((inserted, duplicates), (50, 150), "{outcomes:?}");
    let t = total(store, &UsageFilter::new().profile("contended"));
    assert_eq!((t.events, t.input), (50, 500));
}

/// A zone the tests name; the zone database ships with every system the tests run on.
/// Projects: each event keeps its working directory; reports group and filter by it (a
/// directory and everything below it, by whole path components), and each session lists the
/// projects it worked in.
fn projects(store: &dyn UsageStore) {
    let at = |key: &str, session: &str, project: Option<&str>, input: u64| {
        let mut e = event(key, "m", input, 0);
        e.session_id = Some(session.into());
        e.project = project.map(Into::into);
        e
    };
    store
        .record(&[
            at("p1", "s1", Some("/src/app"), 1),
            at("p2", "s1", Some("/src/app/web"), 2),
            at("p3", "s2", Some("/src/apple"), 4),
            at("p4", "s3", None, 8),
        ])
        .expect("record");
    let exported = store.events(&UsageFilter::new(), None).expect("events");
    let projects: Vec<Option<&str>> = exported.iter().map(|e| e.project.as_deref()).collect();
    assert_eq!(
        projects,
        [
            Some("/src/app"),
            Some("/src/app/web"),
            Some("/src/apple"),
            None
        ]
    );
    let rows = store
        .query(&UsageFilter::new(), UsageGroup::Project)
        .expect("by project");
    let keyed: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.input)).collect();
    assert_eq!(
        keyed,
        [
            ("", 8),
            ("/src/app", 1),
            ("/src/app/web", 2),
            ("/src/apple", 4)
        ]
    );
    for (dir, input) in [
        ("/src/app", 3),
        ("/src/app/", 3),
        ("/src/app/web", 2),
        ("/src/apple", 4),
        ("/src", 7),
        ("/elsewhere", 0),
    ] {
        let f = UsageFilter::new().project(dir);
        assert_eq!(total(store, &f).input, input, "{dir}");
        let days: u64 = store
            .query(&f, UsageGroup::Day)
            .expect("by day")
            .iter()
            .map(|r| r.input)
            .sum();
        assert_eq!(days, input, "{dir} by day");
        let hours: u64 = store
            .hours(&f)
            .expect("hours")
            .iter()
            .map(|h| h.usage.input)
            .sum();
        assert_eq!(hours, input, "{dir} by hour");
        assert_eq!(
            store.events(&f, None).expect("events").len() as u64,
            u64::from(input.count_ones()),
            "{dir} events"
        );
    }
    let sessions = store.sessions(&UsageFilter::new()).expect("sessions");
    let listed: Vec<(&str, Vec<&str>)> = sessions
        .iter()
        .map(|s| {
            (
                s.session_id.as_str(),
                s.projects.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("s1", vec!["/src/app", "/src/app/web"]),
            ("s2", vec!["/src/apple"]),
            ("s3", vec![]),
        ]
    );
    // The sessions that worked in a project, each with all its usage.
    let web = store
        .sessions(&UsageFilter::new().project("/src/app/web"))
        .expect("sessions in a project");
    assert_eq!(web.len(), 1);
    assert_eq!((web[0].session_id.as_str(), web[0].usage.input), ("s1", 3));
    let one = store
        .sessions(&UsageFilter::new().session("s2"))
        .expect("one session");
    assert_eq!(one[0].projects, ["/src/apple"]);
}

fn zone(name: &str) -> super::Zone {
    super::Zone::named(name).expect("a zone in the system's database")
}

/// Day, week and month totals in four zones (two with both 2026 daylight-saving changes, one a
/// half-hour offset) against a ground truth computed here, event by event, with the zone
/// database: from the rollups (unbounded) and from the raw events (bounds off the grid) alike.
fn days_follow_daylight_saving(store: &dyn UsageStore) {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    // Every 3 h 7 min through 2026 (so every hour of the day is hit), plus events on each side
    // of both Berlin and Los Angeles transitions and of the local midnights next to them.
    let mut times: Vec<DateTime<Utc>> = (0..2850i64)
        .map(|i| start + Duration::minutes(i * 187))
        .collect();
    for edge in [
        "2026-03-08T10:00:00Z", // Los Angeles springs forward
        "2026-03-29T01:00:00Z", // Berlin springs forward
        "2026-03-28T23:00:00Z", // Berlin midnight, 29 March
        "2026-03-29T22:00:00Z", // Berlin midnight, 30 March
        "2026-10-25T01:00:00Z", // Berlin falls back
        "2026-10-24T22:00:00Z", // Berlin midnight, 25 October
        "2026-10-25T23:00:00Z", // Berlin midnight, 26 October
        "2026-11-01T09:00:00Z", // Los Angeles falls back
        "2026-11-01T07:00:00Z", // Los Angeles midnight, 1 November
        "2026-11-02T08:00:00Z", // Los Angeles midnight, 2 November
        "2026-10-20T07:00:00Z", // Los Angeles midnight, 20 October (the issue's --since)
    ] {
        let t = DateTime::parse_from_rfc3339(edge)
            .expect("edge")
            .with_timezone(&Utc);
        for delta in [-1i64, 0, 1] {
            times.push(t + Duration::milliseconds(delta));
        }
    }
    let events: Vec<UsageEvent> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let mut ev = event(&format!("dst{i}"), "m", i as u64 + 1, 0);
            ev.time = t;
            ev
        })
        .collect();
    store.record(&events).expect("record");
    for name in [
        "UTC",
        "Europe/Berlin",
        "America/Los_Angeles",
        "Asia/Kolkata",
    ] {
        let tz = jiff::tz::TimeZone::get(name).expect("zone");
        let label = |t: DateTime<Utc>, group: UsageGroup| {
            let ts = jiff::Timestamp::from_millisecond(t.timestamp_millis()).expect("ts");
            let date = ts.to_zoned(tz.clone()).date();
            match group {
                UsageGroup::Week => {
                    let w = date.iso_week_date();
                    format!("{:04}-W{:02}", w.year(), w.week())
                }
                UsageGroup::Month => format!("{:04}-{:02}", date.year(), date.month()),
                _ => date.to_string(),
            }
        };
        for group in [UsageGroup::Day, UsageGroup::Week, UsageGroup::Month] {
            let mut truth = std::collections::BTreeMap::<String, (u64, u64)>::new();
            for ev in &events {
                let cell = truth.entry(label(ev.time, group)).or_default();
                cell.0 += 1;
                cell.1 += ev.tokens.input;
            }
            let truth: Vec<_> = truth.into_iter().map(|(k, (n, i))| (k, n, i)).collect();
            let rows = |filter: &UsageFilter| {
                store
                    .query(filter, group)
                    .expect("query")
                    .into_iter()
                    .map(|r| (r.key, r.events, r.input))
                    .collect::<Vec<_>>()
            };
            let zone = super::Zone::named(name).expect("zone");
            let rollup = UsageFilter::new().profile("work").time_zone(zone.clone());
            assert_eq!(rows(&rollup), truth, "{name} {group:?} from the rollups");
            let raw = rollup
                .since(start - Duration::milliseconds(7))
                .until(start + Duration::days(400) + Duration::milliseconds(7));
            assert_eq!(rows(&raw), truth, "{name} {group:?} from the events");
        }
    }
}
