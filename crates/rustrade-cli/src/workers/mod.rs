//! Sweeps spread over `rustrade worker` processes through a NATS JetStream work queue.
//!
//! The coordinator ([`coordinate`]) stores the config file and every `[[market]]` data file in
//! the blob store under the SHA-256 of their bytes, publishes one [`SweepJob`] per point, and
//! ranks the rows that come back with the sweep's own ranking rule. A worker ([`Prepared`])
//! fetches the files a job names (checked against their hashes, cached on disk by hash),
//! rebuilds the same config with the data files replaced by the fetched ones, and runs the
//! point with `Sweep::evaluate`. Same bytes, same config, same code: each row equals the local
//! sweep's bit for bit, and so does the ranked table.

mod coordinate;
mod prepare;

use std::time::Duration;

use rustrade_backtest::sweep::Params;
use rustrade_nats::{NatsOptions, WorkQueueConfig};

use crate::cli::QueueArgs;

pub(crate) use coordinate::{Coordination, coordinate};
pub(crate) use prepare::{BlobCache, Prepared};

/// The object-store bucket of configs and data files.
pub(crate) const BLOB_BUCKET: &str = "rustrade_blobs";
/// How long an unused blob is kept in the bucket.
pub(crate) const BLOB_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);
/// The environment variable holding the NATS token, if the server wants one.
pub(crate) const TOKEN_ENV: &str = "RUSTRADE_NATS_TOKEN";

/// One point of a sweep, as a worker receives it: everything needed to rebuild the run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SweepJob {
    /// The point's position in enumeration order.
    pub(crate) index: usize,
    /// The point's parameters.
    pub(crate) params: Params,
    /// The config file's name, for messages.
    pub(crate) config_name: String,
    /// SHA-256 hex of the config file.
    pub(crate) config: String,
    /// SHA-256 hex of each `[[market]]`'s data file, in the config's order.
    pub(crate) data: Vec<String>,
    /// The `--param key=value` flags the coordinator was given, in order.
    pub(crate) param_flags: Vec<String>,
}

impl SweepJob {
    /// What identifies the sweep a job belongs to on a worker: same key, same prepared run.
    pub(crate) fn sweep_key(&self) -> (String, Vec<String>, Vec<String>) {
        (
            self.config.clone(),
            self.data.clone(),
            self.param_flags.clone(),
        )
    }
}

/// Connection options for `url`, named `name`, with the token of [`TOKEN_ENV`] if set.
pub(crate) fn nats_options(url: &str, name: &str) -> NatsOptions {
    let mut options = NatsOptions::new(url, name);
    options.token = std::env::var(TOKEN_ENV)
        .ok()
        .filter(|t| !t.is_empty())
        .map(rustrade_core::Secret::new);
    options
}

/// The work queue `args` name.
pub(crate) fn queue_config(args: &QueueArgs) -> anyhow::Result<WorkQueueConfig> {
    if !(args.ack_wait.is_finite() && args.ack_wait >= 0.1 && args.ack_wait <= 86_400.0) {
        anyhow::bail!(
            "--ack-wait: must be within [0.1, 86400] seconds (got {})",
            args.ack_wait
        );
    }
    let mut config = WorkQueueConfig::new(args.queue.clone());
    config.ack_wait = Duration::from_secs_f64(args.ack_wait);
    Ok(config)
}

/// Completes on the first SIGINT or SIGTERM (SIGINT only off Unix).
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
