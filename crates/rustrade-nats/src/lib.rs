//! NATS JetStream transport for rustrade.
//!
//! DESIGN.md keeps server-backed parts out of the default build's path: this crate depends on
//! `rustrade-core` only and carries what crosses a process boundary over NATS:
//!
//! - market data relayed once from a venue and consumed by many bots (subjects
//!   `md.<venue>.<symbol>.<kind>`), with sequence numbers for gap detection and replay from
//!   the stream after a reconnect;
//! - the work queue and result stream of a sweep spread over worker processes.
//!
//! [`connect`] opens a client from a `nats://` URL; [`testing`] holds the rule the server-backed
//! tests follow on a machine without a server.

mod blobs;
mod codec;
mod connect;
mod error;
mod health;
mod market_source;
mod market_stream;
mod relay;
mod subject;
pub mod testing;
mod work_queue;

/// The NATS client this crate is built on, for callers that open their own connections.
pub use async_nats;

pub use blobs::{BlobStore, sha256_hex};
pub use codec::{MAX_ENCODED_LEN, WIRE_VERSION, decode, encode, encode_to_vec};
pub use connect::{NatsOptions, connect};
pub use error::NatsError;
pub use health::{RelayHealth, RelayStatus, SourceHealth, SourceStatus};
pub use market_source::{CLOCK_SKEW_MARGIN, NatsMarketSource, NatsSourceConfig, StartAt};
pub use market_stream::MarketStream;
pub use relay::{PREVIOUS_SEQUENCE_HEADER, Published, Relay, RelayConfig, RelayExit};
pub use subject::{
    EventKind, MarketSubject, SUBJECT_ROOT, escape_token, symbol_filter, unescape_token,
    venue_filter,
};
pub use work_queue::{Batch, Collector, Lease, WorkQueue, WorkQueueConfig, Worker};
