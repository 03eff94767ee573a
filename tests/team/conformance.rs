//! The Postgres ledger through the same public suite as the SQLite one.

use ringlet::UsageStore;

use crate::pg::{connect_as, fresh_schema, fresh_store};

#[test]
fn the_postgres_store_passes_the_usage_store_suite() {
    ringlet::conformance::usage_store(fresh_store);
}

#[test]
fn migrations_are_versioned_and_concurrent_first_connections_agree() {
    let schema = fresh_schema();
    let stores: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let schema = schema.clone();
                s.spawn(move || {
                    ringlet::PgUsageStore::connect(&connect_as(&schema, &format!("m{i}"), "u"))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("join"))
            .collect()
    });
    for store in &stores {
        let store = store.as_ref().expect("every first connection succeeds");
        assert_eq!(store.schema_version().expect("version"), 2);
    }
}

#[test]
fn the_same_key_on_two_machines_is_two_events() {
    let schema = fresh_schema();
    let a = ringlet::PgUsageStore::connect(&connect_as(&schema, "ma", "alice")).expect("a");
    let b = ringlet::PgUsageStore::connect(&connect_as(&schema, "mb", "bob")).expect("b");
    let ev = |input| {
        let mut e = ringlet::UsageEvent {
            time: chrono::Utc::now(),
            profile: "work".into(),
            agent: "claude".into(),
            provider: "anthropic".into(),
            model: "m".into(),
            tokens: Default::default(),
            cost_nanos: Some(5),
            cost_source: ringlet::CostSource::Computed,
            session_id: None,
            project: None,
            origin: "file".into(),
            dedup_key: "claude:msg_1".into(),
            rank: 0,
        };
        e.tokens.input = input;
        e
    };
    assert_eq!(a.record(&[ev(10)]).expect("a").inserted, 1);
    assert_eq!(b.record(&[ev(10)]).expect("b").inserted, 1);
    assert_eq!(a.record(&[ev(10)]).expect("again").duplicates, 1);
    let by_user = a
        .team_query(&ringlet::UsageFilter::new(), ringlet::TeamGroup::USER)
        .expect("by user");
    let keys: Vec<_> = by_user.iter().map(|r| (r.key.as_str(), r.input)).collect();
    assert_eq!(keys, vec![("alice", 10), ("bob", 10)]);
    let by_machine = a
        .team_query(&ringlet::UsageFilter::new(), ringlet::TeamGroup::MACHINE)
        .expect("by machine");
    assert_eq!(by_machine.len(), 2);
}
