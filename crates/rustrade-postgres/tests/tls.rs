//! TLS to the server: an encrypted connection opens when the server's certificate chains to
//! the given CA and names the host, and is refused otherwise; settings that would send a
//! connection meant to be encrypted in the clear are refused before connecting.
//!
//! The local test server's own certificate (`ssl_cert_file`, Debian's self-signed
//! `localhost` certificate) serves as the CA. Skipped, saying why, without the server or with
//! TLS off on it (unless `RUSTRADE_REQUIRE_SERVERS=1`).

use std::io::Write;
use std::path::PathBuf;

use rustrade_postgres::testing::{self, TestSchema};
use rustrade_postgres::{PostgresError, PostgresOptions, PostgresTls};

/// The schema, and the server's certificate when it speaks TLS.
fn tls_server(test: &str) -> Option<(TestSchema, PathBuf)> {
    let schema = TestSchema::new(test)?;
    let ssl = schema.query("SHOW ssl").expect("SHOW ssl");
    let on = ssl.first().map(|r| r.get::<_, String>(0)) == Some("on".to_owned());
    let cert = schema
        .query("SHOW ssl_cert_file")
        .expect("SHOW ssl_cert_file")
        .first()
        .map(|r| PathBuf::from(r.get::<_, String>(0)));
    match cert.filter(|c| on && std::fs::File::open(c).is_ok()) {
        Some(cert) => Some((schema, cert)),
        None => {
            let why = "the test server has TLS off or its certificate is unreadable";
            assert!(!testing::servers_required(), "{why}");
            let _ = writeln!(std::io::stderr(), "{test}: skipped: {why}");
            None
        }
    }
}

/// `schema`'s server under the host name `host`.
fn at_host(schema: &TestSchema, host: &str) -> String {
    schema.url().replace("127.0.0.1", host)
}

#[tokio::test]
async fn a_store_over_tls_verified_against_the_servers_ca_opens_encrypted() {
    let Some((schema, cert)) = tls_server("tls_opens") else {
        return;
    };
    let store = PostgresOptions::new(at_host(&schema, "localhost"), "tls-bot")
        .schema(schema.name())
        .tls(PostgresTls::VerifiedWith(cert))
        .connect()
        .await
        .expect("TLS connection verified against the server's certificate");
    let rows = schema
        .query(
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.application_name LIKE '%bot=tls-bot'",
        )
        .expect("pg_stat_ssl");
    assert_eq!(rows.len(), 1, "one session of the store");
    assert!(
        rows[0].get::<_, bool>(0),
        "the store's session is encrypted"
    );
    drop(store);
}

#[tokio::test]
async fn a_certificate_that_does_not_name_the_host_is_refused() {
    let Some((schema, cert)) = tls_server("tls_wrong_host") else {
        return;
    };
    // The certificate names `localhost`, not the address 127.0.0.1.
    let err = PostgresOptions::new(schema.url(), "tls-bot")
        .schema(schema.name())
        .tls(PostgresTls::VerifiedWith(cert))
        .connect()
        .await
        .expect_err("refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn a_self_signed_server_is_refused_against_the_public_roots() {
    let Some((schema, _)) = tls_server("tls_public_roots") else {
        return;
    };
    let err = PostgresOptions::new(at_host(&schema, "localhost"), "tls-bot")
        .schema(schema.name())
        .tls(PostgresTls::Verified)
        .connect()
        .await
        .expect_err("refused");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_ca_file_is_refused_naming_it() {
    let err = PostgresOptions::new("postgres://bot@127.0.0.1:1/db", "tls-bot")
        .tls(PostgresTls::VerifiedWith("/nonexistent/ca.pem".into()))
        .connect()
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, PostgresError::InvalidOption { field: "tls_ca_file", value, .. }
            if value == "/nonexistent/ca.pem"),
        "{err}"
    );
}

#[tokio::test]
async fn a_ca_file_without_certificates_is_refused() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), "not a certificate\n").expect("written");
    let err = PostgresOptions::new("postgres://bot@127.0.0.1:1/db", "tls-bot")
        .tls(PostgresTls::VerifiedWith(file.path().to_owned()))
        .connect()
        .await
        .expect_err("refused");
    assert!(
        matches!(
            &err,
            PostgresError::InvalidOption {
                field: "tls_ca_file",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_url_requiring_tls_without_tls_set_is_refused_before_connecting() {
    let err = PostgresOptions::new("postgres://bot@127.0.0.1:1/db?sslmode=require", "tls-bot")
        .connect()
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, PostgresError::InvalidOption { field: "url", reason, .. }
            if reason.contains("sslmode=require")),
        "{err}"
    );
}
