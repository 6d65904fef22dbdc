//! The versioned layout of the tables and its migrations.
//!
//! Every table lives in the store's schema (`rustrade` by default) and is shared by all bots,
//! each row keyed by `bot_id`:
//!
//! - `schema_version (version, applied_at)`: one row per migration applied.
//! - `kv (bot_id, key, value)`: the [`StateStore`](rustrade_core::StateStore) rows. Keys
//!   sort by `COLLATE "C"`, byte order, which is the order the store contract promises.
//! - `orders (bot_id, client_id, brain, role, symbol, side, kind, quantity, limit_price,
//!   trigger_price, parent, status, venue_order_id, filled_quantity, placed_at, updated_at,
//!   …)`: one row per order, `status` one of `placed`, `accepted`, `outcome_unknown`,
//!   `rejected`, `cancel_requested`, `cancelled`, `expired`, `partially_filled`, `filled`.
//! - `fills (bot_id, fill_id, venue_order_id, client_id, brain, role, symbol, side, price,
//!   quantity, fee, fee_asset, liquidity, realised_pnl, filled_at, applied_at, …)`: one row
//!   per applied fill; `realised_pnl` is what the engine booked for it (net of fees).
//! - `trades (bot_id, journal_key, brain, symbol, side, quantity, entry_price, exit_price,
//!   gross_pnl, fees, net_pnl, opened_at, closed_at, …)`: one row per closed round trip.
//! - `daily_pnl (bot_id, day, realised_pnl, fees, fills)`: a view summing `fills` per bot and
//!   UTC day.
//!
//! Times are `timestamptz` columns (`…_at`) beside the exact nanoseconds (`…_ns`). The day's
//! PnL of every bot:
//!
//! ```sql
//! SELECT bot_id, sum(net_pnl) FROM rustrade.trades
//! WHERE closed_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
//! GROUP BY bot_id;
//! ```
//!
//! # Migrations
//!
//! Version 1 is `kv`; version 2 adds the projection tables and fills them from the journal
//! records `kv` already holds, so a database written by version 1 gains its history. Open
//! applies every missing version in one transaction under a transaction advisory lock, so two
//! bots starting together on a new database migrate it once. A database at a version above
//! [`SCHEMA_VERSION`], or with a `kv` table but no `schema_version`, is refused as corrupt.

use postgres::{Client, Transaction};
use rustrade_core::StoreError;

use crate::project;
use crate::store::{Statements, pg_err};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i32 = 2;

/// Brings the tables of `schema` to version `target` (at most [`SCHEMA_VERSION`]); returns the
/// version found.
pub(crate) fn migrate(client: &mut Client, schema: &str, target: i32) -> Result<i32, StoreError> {
    let sql = |e: postgres::Error| pg_err("migration", &e);
    let mut tx = client.transaction().map_err(sql)?;
    let lock = format!("rustrade migrate {schema}");
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&lock],
    )
    .map_err(sql)?;
    tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .map_err(sql)?;
    let exists = |tx: &mut Transaction<'_>, table: &str| -> Result<bool, StoreError> {
        let name = format!("{schema}.{table}");
        tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name])
            .and_then(|r| r.try_get(0))
            .map_err(sql)
    };
    let versions = format!("{schema}.schema_version");
    let found = if exists(&mut tx, "schema_version")? {
        let v: Option<i32> = tx
            .query_one(&format!("SELECT max(version) FROM {versions}"), &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| StoreError::Corrupt {
                key: versions.clone(),
                reason: e.to_string(),
            })?;
        v.unwrap_or(0)
    } else if exists(&mut tx, "kv")? {
        return Err(StoreError::Corrupt {
            key: versions,
            reason: format!("{schema}.kv exists but no schema_version says what it holds"),
        });
    } else {
        tx.batch_execute(&format!(
            "CREATE TABLE {versions} (version integer PRIMARY KEY, \
             applied_at timestamptz NOT NULL DEFAULT now())"
        ))
        .map_err(sql)?;
        0
    };
    if found > SCHEMA_VERSION {
        return Err(StoreError::Corrupt {
            key: versions,
            reason: format!(
                "schema version {found}; this build reads up to version {SCHEMA_VERSION}"
            ),
        });
    }
    for version in (found + 1)..=target.min(SCHEMA_VERSION) {
        match version {
            1 => v1(&mut tx, schema)?,
            _ => v2(&mut tx, schema)?,
        }
        tx.execute(
            &format!("INSERT INTO {versions} (version) VALUES ($1)"),
            &[&version],
        )
        .map_err(sql)?;
        tracing::info!(schema, version, "postgres store schema migrated");
    }
    tx.commit().map_err(sql)?;
    Ok(found)
}

/// Version 1: the key-value rows.
fn v1(tx: &mut Transaction<'_>, schema: &str) -> Result<(), StoreError> {
    tx.batch_execute(&format!(
        "CREATE TABLE {schema}.kv (\
           bot_id text NOT NULL, \
           key text COLLATE \"C\" NOT NULL, \
           value bytea NOT NULL, \
           PRIMARY KEY (bot_id, key))"
    ))
    .map_err(|e| pg_err("migration 1", &e))
}

/// Version 2: the queryable projection, filled from the journal records already stored.
fn v2(tx: &mut Transaction<'_>, schema: &str) -> Result<(), StoreError> {
    let sql = |e: postgres::Error| pg_err("migration 2", &e);
    tx.batch_execute(&format!(
        "CREATE TABLE {schema}.orders (\
           bot_id text NOT NULL, client_id text NOT NULL, brain bigint NOT NULL, \
           role text NOT NULL, symbol text NOT NULL, side text NOT NULL, kind text NOT NULL, \
           quantity double precision NOT NULL, limit_price double precision, \
           trigger_price double precision, parent text, status text NOT NULL, \
           venue_order_id text, filled_quantity double precision NOT NULL DEFAULT 0, \
           placed_ns bigint NOT NULL, placed_at timestamptz NOT NULL, \
           updated_at timestamptz NOT NULL, journal_seq bigint NOT NULL, \
           PRIMARY KEY (bot_id, client_id)); \
         CREATE TABLE {schema}.fills (\
           bot_id text NOT NULL, fill_id text NOT NULL, venue_order_id text NOT NULL, \
           client_id text, brain bigint NOT NULL, role text NOT NULL, symbol text NOT NULL, \
           side text NOT NULL, price double precision NOT NULL, \
           quantity double precision NOT NULL, fee double precision NOT NULL, \
           fee_asset text NOT NULL, liquidity text NOT NULL, \
           realised_pnl double precision NOT NULL, filled_ns bigint NOT NULL, \
           filled_at timestamptz NOT NULL, applied_ns bigint NOT NULL, \
           applied_at timestamptz NOT NULL, journal_seq bigint NOT NULL, \
           PRIMARY KEY (bot_id, fill_id)); \
         CREATE INDEX fills_by_time ON {schema}.fills (bot_id, filled_at); \
         CREATE TABLE {schema}.trades (\
           bot_id text NOT NULL, journal_key text NOT NULL, journal_seq bigint NOT NULL, \
           brain bigint NOT NULL, symbol text NOT NULL, side text NOT NULL, \
           quantity double precision NOT NULL, entry_price double precision NOT NULL, \
           exit_price double precision NOT NULL, gross_pnl double precision NOT NULL, \
           fees double precision NOT NULL, net_pnl double precision NOT NULL, \
           opened_ns bigint NOT NULL, opened_at timestamptz NOT NULL, \
           closed_ns bigint NOT NULL, closed_at timestamptz NOT NULL, \
           PRIMARY KEY (bot_id, journal_key)); \
         CREATE INDEX trades_by_time ON {schema}.trades (bot_id, closed_at); \
         CREATE VIEW {schema}.daily_pnl AS \
           SELECT bot_id, (filled_at AT TIME ZONE 'UTC')::date AS day, \
                  sum(realised_pnl) AS realised_pnl, sum(fee) AS fees, count(*) AS fills \
           FROM {schema}.fills GROUP BY 1, 2;"
    ))
    .map_err(sql)?;
    let statements = Statements::prepare_in(tx, schema)?;
    let records = tx
        .query(
            &format!(
                "SELECT bot_id, key, value FROM {schema}.kv \
                 WHERE key LIKE 'journal/%' ORDER BY bot_id, key"
            ),
            &[],
        )
        .map_err(sql)?;
    let mut projected = 0usize;
    for record in &records {
        let (bot, key): (String, String) = (record.get(0), record.get(1));
        let value: Vec<u8> = record.try_get(2).map_err(|e| StoreError::Corrupt {
            key: key.clone(),
            reason: e.to_string(),
        })?;
        for row in project::rows(&key, &value)? {
            project::write(tx, &statements, &bot, &row).map_err(sql)?;
            projected += 1;
        }
    }
    tracing::info!(
        schema,
        records = records.len(),
        projected,
        "journal projected into orders, fills and trades"
    );
    Ok(())
}
