//! `rustrade relay`: one venue source read once and published to a NATS JetStream stream
//! ([`rustrade_nats::Relay`]), supervised ([`RelayService`] under the facade's
//! [`Supervisor`]: a run that fails on JetStream is restarted with backoff, the unpublished
//! event kept), its health logged every `status_interval` and printed at the end.
//!
//! Bots read the stream with `[market_data]` (see `market_data.rs`).

pub(crate) mod file_source;
pub(crate) mod ops;

use std::sync::Arc;

use anyhow::Context;
use rustrade::supervisor::{
    CancellationToken, RestartPolicy, ServiceError, Supervisor, SupervisorConfig,
    TerminationReason, TradingService, async_trait,
};
use rustrade_core::MarketSource;
use rustrade_nats::{
    MarketStream, NatsOptions, Relay, RelayConfig, RelayExit, RelayHealth, RelayStatus,
};

use crate::config::{RelayFile, RelaySource};
use crate::paper::live_feed;
use file_source::FileSource;

/// What a relay run did.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The relay's final health.
    pub(crate) status: RelayStatus,
    /// Whether it stopped on a signal before its source finished.
    pub(crate) interrupted: bool,
}

/// Runs the relay `config` describes until its source finishes or a signal stops it;
/// `started` is called once the stream exists and the relay runs, with the address of its
/// health and metrics endpoint when `[relay] ops_listen` asks for one.
pub(crate) async fn run(
    config: &RelayFile,
    signals: bool,
    started: impl FnOnce(&RelayHealth, Option<std::net::SocketAddr>),
) -> anyhow::Result<Outcome> {
    let source: Box<dyn MarketSource> = match &config.source {
        RelaySource::Venue(venue) => live_feed::market_source(venue)?,
        RelaySource::Files(markets, speed) => {
            Box::new(FileSource::open(markets, *speed).context("[[market]] data for the relay")?)
        }
    };
    let options = NatsOptions::new(
        config.nats_url.clone(),
        format!("rustrade-relay-{}", config.stream),
    );
    let client = rustrade_nats::connect(&options).await?;
    let js = rustrade_nats::async_nats::jetstream::new(client);
    let mut stream = MarketStream::new(config.stream.clone(), config.venue);
    stream.max_age = config.max_age;
    stream.max_bytes = config.max_bytes;
    stream.duplicate_window = config.duplicate_window;
    let relay = Relay::new(js, source, RelayConfig::new(stream, config.symbols.clone()))
        .await
        .with_context(|| format!("{}: the relay's stream", config.path.display()))?;
    let health = relay.health();

    let mut supervision = SupervisorConfig::default().stopping_when_all_terminated();
    if !signals {
        supervision = supervision.without_signal_handler();
    }
    let supervisor = Supervisor::new(supervision).context("supervisor")?;
    supervisor
        .spawn(Arc::new(RelayService {
            name: format!("relay[{}]", config.stream),
            relay: tokio::sync::Mutex::new(relay),
        }))
        .context("starting the relay service")?;
    let ops = match config.ops_listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("relay.ops_listen: cannot bind {addr}"))?;
            let bound = listener.local_addr()?;
            let state = ops::RelayOps::new(health.clone(), config.stream.clone());
            Some((
                bound,
                ops::spawn(listener, state, supervisor.cancel_token().clone()),
            ))
        }
        None => None,
    };
    started(&health, ops.as_ref().map(|(addr, _)| *addr));
    let reporter = tokio::spawn(report_every(health.clone(), config.status_interval));
    let report = supervisor
        .run_until_shutdown()
        .await
        .context("supervisor")?;
    reporter.abort();
    if let Some((_, server)) = ops {
        server.abort();
    }
    let status = health.status();
    let mut interrupted = false;
    for service in &report.services {
        match service.termination {
            Some(TerminationReason::Completed) => {}
            Some(TerminationReason::Shutdown) => interrupted = true,
            other => anyhow::bail!(
                "the relay {}: {}",
                other.map_or("did not stop", TerminationReason::as_str),
                service
                    .last_error
                    .as_deref()
                    .or(status.last_error.as_deref())
                    .unwrap_or("no error recorded")
            ),
        }
    }
    Ok(Outcome {
        status,
        interrupted,
    })
}

/// The relay as a supervised service: each run continues the same [`Relay`] (its chains and
/// any event it could not publish), so a restart after a JetStream failure loses nothing.
struct RelayService {
    name: String,
    relay: tokio::sync::Mutex<Relay>,
}

#[async_trait]
impl TradingService for RelayService {
    fn name(&self) -> &str {
        &self.name
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::OnFailure
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let mut relay = self.relay.lock().await;
        match relay.run_until(cancel.cancelled()).await {
            Ok(RelayExit::SourceFinished | RelayExit::Stopped) => Ok(()),
            Err(e) => Err(ServiceError::retryable_from("relay publish", e)),
        }
    }
}

/// Logs the relay's health every `interval`.
async fn report_every(health: RelayHealth, interval: std::time::Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let s = health.status();
        tracing::info!(
            published = s.published,
            skipped = s.skipped,
            duplicates = s.duplicates,
            refused = s.refused,
            source_connected = s.source_connected,
            last_event = ?s.last_event_time,
            last_error = ?s.last_error,
            "relay health"
        );
    }
}

/// The status as one line.
pub(crate) fn describe(s: &RelayStatus) -> String {
    let mut line = format!(
        "{} published, {} already in the stream, {} duplicates, {} refused",
        s.published, s.skipped, s.duplicates, s.refused
    );
    if let Some(t) = s.last_event_time {
        line.push_str(&format!(", last event {t}"));
    }
    if let Some(e) = &s.last_error {
        line.push_str(&format!("; last error: {e}"));
    }
    line
}

/// The status as JSON.
pub(crate) fn status_json(s: &RelayStatus) -> serde_json::Value {
    serde_json::json!({
        "published": s.published,
        "skipped": s.skipped,
        "duplicates": s.duplicates,
        "refused": s.refused,
        "source_connects": s.source_connects,
        "last_event_time": s.last_event_time.map(|t| t.to_rfc3339()),
        "last_error": s.last_error,
    })
}
