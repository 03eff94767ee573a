//! The team ledger: this machine's usage pushed into a shared Postgres ledger that team reports,
//! team alerts and metrics read (docs/team.md). Behind the `team` cargo feature.
//!
//! Offline first: every run still writes the local SQLite ledger only; a push copies what is new
//! to Postgres afterwards, idempotently (events are unique per `(machine, dedup_key)` there,
//! and the local push cursor only moves after Postgres committed).

mod identity;
mod pg;
mod schema;

pub use identity::{MACHINE_ID_FILE, default_user, machine_id};
pub use pg::{DEFAULT_TEAM_SCHEMA, PgUsageStore, TeamConnect, TeamGroup, TeamOnlyGroup};
