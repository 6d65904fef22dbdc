//! Test support: a uniquely named schema on the local test server, dropped with its guard, and
//! the rule for a machine without the server.
//!
//! The server is `RUSTRADE_PG_URL` ([`URL_VAR`]), by default [`DEFAULT_URL`] (the development
//! and CI machines run PostgreSQL on 127.0.0.1:5432 with trust authentication). When it cannot
//! be reached, [`TestSchema::new`] prints `skipped: PostgreSQL not reachable at …` to standard
//! error and returns `None`, so the test passes having said why — unless
//! `RUSTRADE_REQUIRE_SERVERS=1` ([`REQUIRE_VAR`]), as CI sets it, where it panics instead.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::PostgresOptions;

/// The environment variable naming the test server's URL.
pub const URL_VAR: &str = "RUSTRADE_PG_URL";
/// The environment variable that turns a missing server into a failure (`1`).
pub const REQUIRE_VAR: &str = "RUSTRADE_REQUIRE_SERVERS";
/// The test server when [`URL_VAR`] is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The test server's URL.
pub fn url() -> String {
    std::env::var(URL_VAR).unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Whether a missing server fails the tests.
pub fn servers_required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// A schema of its own for one test, dropped (with everything in it) when the guard is.
#[derive(Debug)]
pub struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// A fresh schema named after `test` (and this process and a counter, so parallel tests
    /// and repeated runs never share one), or `None` after saying why when the server is not
    /// reachable. The schema itself is created by the first store opened in it.
    pub fn new(test: &str) -> Option<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let url = url();
        if let Err(e) = off_runtime({
            let url = url.clone();
            move || connect(&url).map(drop)
        }) {
            let why = format!(
                "PostgreSQL not reachable at {} (set {URL_VAR}): {e}",
                crate::store::redact(&url)
            );
            assert!(!servers_required(), "{why}; {REQUIRE_VAR}=1 requires it");
            let line = format!("skipped: {why}");
            // Straight to the process's standard error: the test harness captures `eprintln!`.
            let _ = writeln!(std::io::stderr(), "{test}: {line}");
            return None;
        }
        let stem: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(32)
            .collect();
        let name = format!(
            "t_{stem}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        Some(Self { url, name })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Options for bot `bot_id` in this schema, refusing a held lock at once.
    pub fn options(&self, bot_id: &str) -> PostgresOptions {
        PostgresOptions::new(self.url.clone(), bot_id)
            .schema(self.name.clone())
            .lock_wait(Duration::ZERO)
    }

    /// Runs `sql` (one statement, parameters inlined by the caller) on a connection of its
    /// own, from any context, and returns its rows.
    pub fn query(&self, sql: &str) -> Result<Vec<postgres::Row>, String> {
        let (url, sql) = (self.url.clone(), sql.to_owned());
        off_runtime(move || {
            connect(&url)?
                .query(sql.as_str(), &[])
                .map_err(|e| crate::store::describe(&e))
        })
    }

    /// Runs `sql` (any number of statements) on a connection of its own, from any context.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        let (url, sql) = (self.url.clone(), sql.to_owned());
        off_runtime(move || {
            connect(&url)?
                .batch_execute(&sql)
                .map_err(|e| crate::store::describe(&e))
        })
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(e) = self.execute(&sql) {
            let _ = writeln!(std::io::stderr(), "schema {} not dropped: {e}", self.name);
        }
    }
}

fn connect(url: &str) -> Result<postgres::Client, String> {
    let mut config: postgres::Config = url.parse().map_err(|e| crate::store::describe(&e))?;
    config.connect_timeout(Duration::from_secs(3));
    config
        .connect(postgres::NoTls)
        .map_err(|e| crate::store::describe(&e))
}

/// Runs blocking client work on a plain thread: the client may not run on a runtime worker.
fn off_runtime<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    match std::thread::spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
