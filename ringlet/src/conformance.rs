//! Conformance suites for store implementations: a [`UsageStore`] or [`CredentialStore`]
//! written in another crate — a Postgres ledger, a vault-backed key store — runs the same
//! behavioural suite as ringlet's own stores, from its tests.
//!
//! The suites are always compiled, not behind a feature: a feature that ringlet's own tests
//! switch on would give the library a second feature set, and every build that selects a
//! binding alone (maturin, napi) would compile ringlet again (docs/performance.md, "CI
//! build"). Unused, they cost nothing in a binary: the linker drops them.
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
