//! The team ledger: this machine's usage pushed into a shared Postgres ledger that team reports,
//! team alerts and metrics read (docs/team.md). Behind the `team` cargo feature.
//!
//! Offline first: every run still writes the local SQLite ledger only; a push copies what is new
//! to Postgres afterwards, idempotently (events are unique per `(machine, dedup_key)` there,
//! and the local push cursor only moves after Postgres committed).

mod alerts;
mod identity;
mod pg;
mod push;
mod schema;
mod tls;

pub use alerts::check_team_cost_thresholds;
pub use identity::{MACHINE_ID_FILE, default_user, machine_id};
pub(crate) use pg::redact_url;
pub use pg::{DEFAULT_TEAM_SCHEMA, PgUsageStore, TeamConnect, TeamGroup, TeamOnlyGroup};
pub use push::{DEFAULT_PUSH_BATCH, PushReport, PushStatus, push, push_status, shared_origin};
pub(crate) use push::{push_lock_path, record_push_error};
