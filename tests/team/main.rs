//! The team ledger against a real Postgres (docs/team.md). `tests/run.sh` starts a throwaway
//! cluster on a private port and data directory and runs this target with
//! `--features postgres`; `RINGLET_TEST_POSTGRES_URL` points it at any other server (a database
//! the tests may create schemas in). Without that variable every test here fails: this target is
//! only built with the `postgres` feature, so a plain `cargo test` never runs it, and a run
//! that asked for it must not pass without a database.

mod alerts;
mod conformance;
mod pg;
mod push;
mod serve;
mod tls;
