//! TLS to the team ledger: tests/run.sh's server has TLS with a self-signed certificate for
//! 127.0.0.1 (`RINGLET_TEST_POSTGRES_CA`). ringlet uses TLS whenever the server offers it and
//! always verifies the certificate.

use ringlet::PgUsageStore;

use crate::pg::{connect_as, fresh_schema, password, url};

/// The CA of the test server; these tests need one (tests/run.sh exports it).
fn ca() -> std::path::PathBuf {
    std::env::var_os("RINGLET_TEST_POSTGRES_CA")
        .map(Into::into)
        .unwrap_or_else(|| {
            panic!(
                "RINGLET_TEST_POSTGRES_CA is not set: tests/run.sh starts the test Postgres with \
                 TLS and exports its certificate; point it at your server's CA certificate"
            )
        })
}

/// Whether the server sees a TLS connection for `application_name = 'ringlet'` (the store's):
/// asked over a plain connection of the test's own.
fn ringlet_connections_over_tls() -> Vec<bool> {
    let mut config: postgres::Config = url().parse().expect("url");
    if let Some(pw) = password() {
        config.password(pw.expose());
    }
    config.ssl_mode(postgres::config::SslMode::Disable);
    config.application_name("ringlet-test-observer");
    let mut client = config
        .connect(postgres::NoTls)
        .expect("plain observer connection");
    client
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid \
             WHERE a.application_name = 'ringlet'",
            &[],
        )
        .expect("pg_stat_ssl")
        .iter()
        .map(|r| r.get::<_, bool>(0))
        .collect()
}

/// One test, in this order: this is the only test making a plain `ringlet` connection, so
/// before it does, every `ringlet` connection on the server must be TLS.
#[test]
fn tls_whenever_the_server_offers_it_and_plain_only_with_sslmode_disable() {
    let mut c = connect_as(&fresh_schema(), "m1", "alice");
    c.ca_file = Some(ca());
    let tls_store = PgUsageStore::connect(&c).expect("a TLS connection with the CA trusted");
    let seen = ringlet_connections_over_tls();
    assert!(!seen.is_empty(), "the store's connection is listed");
    assert!(
        seen.iter().all(|tls| *tls),
        "every ringlet connection uses TLS: {seen:?}"
    );
    drop(tls_store);

    let mut plain = connect_as(&fresh_schema(), "m1", "alice");
    plain.ca_file = None;
    let sep = if plain.url.contains('?') { '&' } else { '?' };
    plain.url = format!("{}{sep}sslmode=disable", plain.url);
    let _plain_store = PgUsageStore::connect(&plain).expect("plain, as asked");
    assert!(
        ringlet_connections_over_tls().contains(&false),
        "sslmode=disable gives a plain connection"
    );
}

#[test]
fn a_certificate_nobody_vouches_for_is_refused_with_the_fix() {
    let mut c = connect_as(&fresh_schema(), "m1", "alice");
    c.ca_file = None;
    let e = PgUsageStore::connect(&c).expect_err("a self-signed certificate is not trusted");
    let text = e.to_string();
    assert!(text.contains("certificate"), "{text}");
    assert!(text.contains("ca-file"), "names the fix: {text}");
}

#[test]
fn a_certificate_for_another_host_is_refused() {
    // The certificate names 127.0.0.1; `localhost` reaches the same server under another name.
    let mut c = connect_as(&fresh_schema(), "m1", "alice");
    c.url = url().replace("127.0.0.1", "localhost");
    assert_ne!(c.url, url(), "the test URL names 127.0.0.1");
    c.ca_file = Some(ca());
    let e = PgUsageStore::connect(&c).expect_err("a name the certificate does not hold");
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[test]
fn a_ca_file_that_is_not_a_certificate_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("team-ca.pem");
    std::fs::write(&bad, "hello\n").expect("write");
    let mut c = connect_as(&fresh_schema(), "m1", "alice");
    c.ca_file = Some(bad);
    let e = PgUsageStore::connect(&c).expect_err("refused");
    assert!(e.to_string().contains("team-ca.pem"), "{e}");
}
