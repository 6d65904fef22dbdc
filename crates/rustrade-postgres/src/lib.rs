//! [`PostgresStore`]: a rustrade [`StateStore`] in PostgreSQL, for several bots sharing one
//! database whose fills, orders and trades dashboards and accounting can query.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! use std::sync::Arc;
//! use rustrade_postgres::PostgresStore;
//!
//! let store = PostgresStore::connect("postgres://postgres@127.0.0.1:5432/test", "alpha").await?;
//! // let bot = rustrade::Bot::new(config, exchange, brains)?.with_state_store(Arc::new(store));
//! # drop(Arc::new(store));
//! # Ok::<(), rustrade_postgres::PostgresError>(())
//! # })?;
//! # Ok(()) }
//! ```
//!
//! # The contract
//!
//! The same as the facade's `SqliteStore`:
//!
//! - [`StateStore::apply`] runs its batch in **one transaction** (an engine step's journal
//!   records, its applied-fill records and its snapshot land together or not at all), committed
//!   with `synchronous_commit = on`, so a returned `apply` is durable: [`StateStore::flush`] has
//!   nothing left to do.
//! - **One writer per bot**: [`PostgresStore::connect`] takes a session-level advisory lock on
//!   the bot (`pg_advisory_lock` on a 64-bit hash of the schema and bot id) and holds it for the
//!   store's life, on the store's own connection. A second open of the same bot — from this
//!   process, another process or another machine — fails with
//!   [`StoreError::Locked`](rustrade_core::StoreError::Locked) naming the bot and the holder
//!   (its process id, host and since when, from `pg_stat_activity`); a different bot opens fine.
//!   The server drops the lock with its session, so a killed bot does not block its restart.
//!   A lost connection is never re-established behind the bot's back (the lock may have
//!   passed to another writer meanwhile): every later call fails, and a restart reconnects.
//! - Data that is there but unreadable — a value of the wrong type, a journal record that does
//!   not decode, a schema newer than this build, tables without a `schema_version` — is
//!   [`StoreError::Corrupt`](rustrade_core::StoreError::Corrupt), never an empty state.
//! - The store's epoch (where a fresh engine's client order ids start, the facade's
//!   `store::epoch`) is claimed at the bot's first fresh start, as for every store other than
//!   the file stores, which write it when they create their file.
//! - Versioned schema: a `schema_version` table lists the migrations applied; open applies the
//!   missing ones in one transaction, serialised between concurrent opens by a transaction
//!   advisory lock ([`SCHEMA_VERSION`], and the [`schema`] module for the layout).
//!
//! # Many bots, one database
//!
//! All bots share one set of tables in one PostgreSQL schema (`rustrade` unless
//! [`PostgresOptions::schema`] says otherwise), each row carrying its `bot_id`. A bot-id column
//! rather than a schema per bot because the point of sharing a database is querying across
//! bots: the day's PnL of every bot is one `GROUP BY bot_id`, not a `UNION` over schemas that
//! grows with each bot; migrations run once per database rather than once per bot; and a new
//! bot needs no DDL (no `CREATE` privilege at run time once the schema exists). A separate
//! schema remains the tool to isolate whole deployments (or tests) in one database.
//!
//! # Queryable history
//!
//! Besides its key-value rows (`kv`), every batch that holds journal records writes their
//! projection in the same transaction: `orders` (one row per order with its latest status and
//! filled quantity), `fills` (one row per applied fill, with its realised PnL) and `trades`
//! (one row per closed round trip), plus the `daily_pnl` view. These rows are history: pruning
//! the journal from `kv` does not delete them. The [`schema`] module documents the columns.
//!
//! # Why the synchronous `postgres` client
//!
//! `postgres` is tokio-postgres behind a blocking API (its connection on a private
//! current-thread runtime). Against sqlx it compiles a fraction of the code on the 2-core build
//! machines (no macros, no query checker, no pool, no TLS stack with default features off).
//! Against tokio-postgres used directly it keeps this store on the same footing as
//! `SqliteStore`: each call runs on tokio's blocking pool, so a bot on a paused test clock does
//! not see time auto-advance while a query is in flight (tokio holds the clock during
//! blocking tasks), and the store needs no task of its own to drive its connection. One
//! connection per store serialises its calls, which the single-writer rule implies anyway.
//!
//! # Not built here
//!
//! The chaos kit still kills bots on SQLite only; the CLI has no `state = "postgres://..."`
//! key (a bot wires the store with `Bot::with_state_store`); TLS connections are not offered.

mod error;
mod lock;
mod project;
pub mod schema;
mod store;
pub mod testing;
mod tls;

pub use error::PostgresError;
pub use rustrade_core::StateStore;
pub use schema::SCHEMA_VERSION;
pub use store::{DEFAULT_SCHEMA, MAX_BOT_ID_LEN, PostgresOptions, PostgresStore};
pub use tls::PostgresTls;
