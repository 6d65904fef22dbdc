//! The single-writer rule of one bot: a session-level advisory lock on the store's connection.
//!
//! The lock key is `hashtextextended('rustrade bot <schema>.<bot id>', 0)`, a 64-bit hash the
//! server computes (stable across versions: hash partitioning relies on it). Two different bots
//! whose names collide would refuse each other rather than share a state, the safe direction.
//! The holder is found again through `pg_locks` and `pg_stat_activity`, whose
//! `application_name` every store sets to `rustrade bot=<id> pid=<process id>`.

use std::time::Duration;

use postgres::Client;
use rustrade_core::StoreError;

use crate::store::pg_err;

/// The advisory lock key of `bot` in `schema`.
pub(crate) fn key(client: &mut Client, schema: &str, bot: &str) -> Result<i64, StoreError> {
    let name = format!("rustrade bot {schema}.{bot}");
    client
        .query_one("SELECT hashtextextended($1, 0)", &[&name])
        .and_then(|row| row.try_get(0))
        .map_err(|e| pg_err("advisory lock key", &e))
}

/// Takes the lock `key` for this session, waiting up to `wait` for a holder that is going away
/// (a killed bot's session the server has not ended yet). `shown` names the bot in the
/// [`StoreError::Locked`] of a refusal.
pub(crate) fn acquire(
    client: &mut Client,
    key: i64,
    wait: Duration,
    shown: &str,
) -> Result<(), StoreError> {
    let got: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
        .and_then(|row| row.try_get(0))
        .map_err(|e| pg_err("advisory lock", &e))?;
    if got {
        return Ok(());
    }
    if !wait.is_zero() {
        let ms = wait.as_millis().clamp(1, i32::MAX as u128);
        client
            .batch_execute(&format!("SET lock_timeout = {ms}"))
            .map_err(|e| pg_err("lock_timeout", &e))?;
        let waited = client.execute("SELECT pg_advisory_lock($1)", &[&key]);
        client
            .batch_execute("RESET lock_timeout")
            .map_err(|e| pg_err("lock_timeout", &e))?;
        match waited {
            Ok(_) => return Ok(()),
            Err(e) if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {}
            Err(e) => return Err(pg_err("advisory lock", &e)),
        }
    }
    let (pid, holder) = holder(client, key);
    Err(StoreError::Locked {
        path: shown.to_owned(),
        pid,
        holder,
    })
}

/// Releases the lock `key` (the server would at the session's end; this makes it immediate).
pub(crate) fn release(client: &mut Client, key: i64) {
    if let Err(e) = client.execute("SELECT pg_advisory_unlock($1)", &[&key]) {
        tracing::debug!(error = %e, "advisory lock not released early");
    }
}

/// Who holds lock `key`: their process id (from their application name) and a description.
fn holder(client: &mut Client, key: i64) -> (Option<u32>, String) {
    let bits = key as u64;
    let (high, low) = ((bits >> 32) as u32, (bits & 0xffff_ffff) as u32);
    let found = client.query_opt(
        "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), \
                coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '?') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted \
           AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1",
        &[&high, &low],
    );
    match found {
        Ok(Some(row)) => {
            let backend: i32 = row.get(0);
            let app: String = row.get(1);
            let host: String = row.get(2);
            let since: String = row.get(3);
            let pid = app
                .split_whitespace()
                .find_map(|w| w.strip_prefix("pid="))
                .and_then(|p| p.parse().ok());
            let who = match pid {
                Some(pid) => format!("pid {pid} ({app}) on {host} since {since}"),
                None => format!("server session {backend} ({app:?}) from {host} since {since}"),
            };
            (pid, who)
        }
        Ok(None) => (
            None,
            "holder unknown: it left before it could be named".to_owned(),
        ),
        Err(e) => (None, format!("holder unknown: {e}")),
    }
}
