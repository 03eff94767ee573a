//! Connecting to the test server: one fresh schema per store, so tests never see each other's
//! data and can run in parallel on one database.

use std::sync::atomic::{AtomicU32, Ordering};

use ringlet::{PgUsageStore, TeamConnect};

/// `RINGLET_TEST_POSTGRES_URL`, or a failure saying how to get one.
pub fn url() -> String {
    std::env::var("RINGLET_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "RINGLET_TEST_POSTGRES_URL is not set: run tests/run.sh (it starts a throwaway \
             Postgres), or point it at a database these tests may create schemas in, e.g. \
             postgres://postgres@127.0.0.1:5432/postgres"
        )
    })
}

/// `RINGLET_TEST_POSTGRES_PASSWORD`, when the server wants one (tests/run.sh's does).
pub fn password() -> Option<ringlet::Secret> {
    std::env::var("RINGLET_TEST_POSTGRES_PASSWORD")
        .ok()
        .map(ringlet::Secret::new)
}

/// A schema name no other test (or earlier run) uses.
pub fn fresh_schema() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// How a machine connects to `schema`.
pub fn connect_as(schema: &str, machine: &str, user: &str) -> TeamConnect {
    TeamConnect {
        url: url(),
        password: password(),
        schema: schema.into(),
        machine: machine.into(),
        user: user.into(),
        ca_file: std::env::var_os("RINGLET_TEST_POSTGRES_CA").map(Into::into),
    }
}

/// A store on a fresh schema, as machine `m1`.
pub fn fresh_store() -> PgUsageStore {
    PgUsageStore::connect(&connect_as(&fresh_schema(), "m1", "alice")).expect("connect")
}
