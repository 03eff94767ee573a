//! ringlet's own stores through the public conformance suites (`ringlet::conformance`, feature
//! `test-suite`, enabled for this test by the crate's dev-dependency on itself): the same entry
//! points a store in another crate calls. The keychain (`SystemCredentialStore`) runs the same
//! suite from its unit test in src/credentials/system.rs, which tests/run.sh runs inside a
//! private D-Bus session; the `system` backend's keychain-or-file store, internal to the crate,
//! runs its basic section in src/credentials/fallback.rs.

use std::sync::Arc;

use ringlet::conformance::{credential_store, read_only_credential_store, usage_store};
use ringlet::{
    AuditedCredentialStore, CredentialStore, EnvCredentialStore, FileCredentialStore,
    MemoryCredentialStore, SqliteUsageStore,
};

#[test]
fn the_sqlite_usage_store_in_memory() {
    usage_store(|| SqliteUsageStore::open_in_memory().expect("open"));
}

#[test]
fn the_memory_credential_store() {
    credential_store(MemoryCredentialStore::new);
}

#[test]
fn the_file_credential_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    credential_store(|| {
        n += 1;
        FileCredentialStore::new(dir.path().join(format!("{n}/credentials.toml")))
    });
}

#[test]
fn the_audited_credential_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    credential_store(|| {
        n += 1;
        let inner: Arc<dyn CredentialStore> = Arc::new(FileCredentialStore::new(
            dir.path().join(format!("{n}/credentials.toml")),
        ));
        AuditedCredentialStore::new(inner, dir.path().join(format!("{n}/audit.log")))
    });
}

#[test]
fn the_env_credential_store_is_read_only() {
    read_only_credential_store(&EnvCredentialStore);
}
