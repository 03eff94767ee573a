//! Conformance suites for store implementations (feature `test-suite`): a [`UsageStore`] or
//! [`CredentialStore`] written in another crate — a Postgres ledger, a vault-backed key store —
//! runs the same behavioural suite as ringlet's own stores, from its tests:
//!
//! ```toml
//! [dev-dependencies]
//! ringlet = { version = "0.1", features = ["test-suite"] }
//! ```
//!
//! ```ignore
//! #[test]
//! fn the_postgres_ledger_conforms() {
//!     ringlet::conformance::usage_store(|| PgUsageStore::connect(&fresh_schema()).unwrap());
//! }
//! ```
//!
//! Each suite takes a function returning a new, empty store, calls it once per section that
//! needs a store of its own, and panics at the first difference, like any test.
//!
//! [`UsageStore`]: crate::UsageStore
//! [`CredentialStore`]: crate::CredentialStore

pub use crate::credentials::conformance::{credential_store, read_only_credential_store};
pub use crate::usage::conformance::usage_store;
