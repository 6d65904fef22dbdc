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
mod connect;
mod error;
pub mod testing;
mod work_queue;

pub use blobs::{BlobStore, sha256_hex};
pub use connect::{NatsOptions, connect};
pub use error::NatsError;
pub use work_queue::{Batch, Collector, Lease, WorkQueue, WorkQueueConfig, Worker};
