//! Test support: the local test server, and the rule for a machine without it.
//!
//! The server is `RUSTRADE_NATS_URL` ([`URL_VAR`]), by default [`DEFAULT_URL`] (the development
//! and CI machines run NATS with JetStream on 127.0.0.1:4222). When it cannot be reached,
//! [`client_or_skip`] prints `skipped: NATS not reachable at …` to standard error and returns
//! `None`, so the test passes having said why — unless `RUSTRADE_REQUIRE_SERVERS=1`
//! ([`REQUIRE_VAR`]), as CI sets it, where it panics instead.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::{NatsOptions, connect};

/// The environment variable naming the test server's URL.
pub const URL_VAR: &str = "RUSTRADE_NATS_URL";
/// The environment variable that turns a missing server into a failure (`1`).
pub const REQUIRE_VAR: &str = "RUSTRADE_REQUIRE_SERVERS";
/// The test server when [`URL_VAR`] is not set.
pub const DEFAULT_URL: &str = "nats://127.0.0.1:4222";

/// The test server's URL.
pub fn url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Whether a missing server fails the tests.
pub fn servers_required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// A client of the test server, or `None` after saying why when it cannot be reached (a panic
/// instead when [`servers_required`]).
pub async fn client_or_skip(test: &str) -> Option<async_nats::Client> {
    let mut options = NatsOptions::new(url(), format!("rustrade-test-{test}"));
    options.connect_timeout = Duration::from_secs(2);
    match connect(&options).await {
        Ok(client) => Some(client),
        Err(e) => {
            let why = format!("NATS not reachable at {} (set {URL_VAR}): {e}", options.url);
            assert!(!servers_required(), "{why}; {REQUIRE_VAR}=1 requires it");
            // Straight to the process's standard error: the test harness captures `eprintln!`.
            let _ = writeln!(std::io::stderr(), "{test}: skipped: {why}");
            None
        }
    }
}

/// A name no other test or run uses (stream, consumer or subject prefix): `test`'s letters and
/// digits, this process's id and a counter.
pub fn unique_name(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let stem: String = test
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    format!(
        "{stem}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
