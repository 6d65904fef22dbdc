//! Prometheus metrics: [`PrometheusMetrics`], a [`MetricsSink`] over the `metrics` crate whose
//! text exposition a host serves on its `/metrics` endpoint, and the metric [`names`] the bot
//! emits.
//!
//! Library crates (engine, supervisor) emit through core's [`MetricsSink`]; this module is the
//! one place that knows about Prometheus. Names follow Prometheus conventions: `snake_case`,
//! a `rustrade_` prefix, `_total` on counters.
//!
//! ```
//! use rustrade::metrics::{names, PrometheusMetrics};
//! use rustrade_core::MetricsSink;
//!
//! let metrics = PrometheusMetrics::local();
//! metrics.counter(names::ORDERS_PLACED, &[("brain", "sma"), ("symbol", "BTCUSDT")], 1);
//! let text = metrics.render();
//! assert!(text.contains(r#"rustrade_orders_placed_total{brain="sma",symbol="BTCUSDT"} 1"#));
//! ```

mod handles;

use std::sync::Arc;

use metrics::{Counter, Gauge, Histogram, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use rustrade_core::{Label, MetricsSink};

/// The metric names the bot emits, with their labels.
pub mod names {
    /// Events a brain was given (`brain`).
    pub const EVENTS_PROCESSED: &str = "rustrade_events_processed_total";
    /// Events a resumed market source delivered again that the brain was handed before the bot
    /// restarted, passed over (`brain`).
    pub const EVENTS_SEEN_BEFORE: &str = "rustrade_events_seen_before_total";
    /// Non-hold decisions a brain made (`brain`, `symbol`).
    pub const DECISIONS: &str = "rustrade_decisions_total";
    /// Decisions refused by a risk gate (`brain`, `symbol`, `reason`).
    pub const REFUSALS: &str = "rustrade_refusals_total";
    /// Orders handed to the exchange and accepted by it (`brain`, `symbol`).
    pub const ORDERS_PLACED: &str = "rustrade_orders_placed_total";
    /// Orders the exchange refused (`brain`, `symbol`).
    pub const ORDERS_REJECTED: &str = "rustrade_orders_rejected_total";
    /// Placements without a definite answer, looked up at the venue afterwards (`brain`,
    /// `symbol`).
    pub const ORDERS_UNKNOWN: &str = "rustrade_orders_unknown_total";
    /// Cancels sent to the exchange (`symbol`).
    pub const ORDERS_CANCELLED: &str = "rustrade_orders_cancelled_total";
    /// Fills applied to positions (`symbol`).
    pub const FILLS: &str = "rustrade_fills_total";
    /// Fills or reports dropped at the boundary as invalid (`reason`).
    pub const FILLS_DROPPED: &str = "rustrade_fills_dropped_total";
    /// Realised PnL of closed trades, net of fees (`symbol`), as a gauge of the running sum.
    pub const REALISED_PNL: &str = "rustrade_realised_pnl";
    /// Brain errors (`brain`).
    pub const BRAIN_ERRORS: &str = "rustrade_brain_errors_total";
    /// Market events a bus subscriber missed because it lagged (`consumer`).
    pub const BUS_LAGGED: &str = "rustrade_bus_lagged_total";
    /// 1 while new entries on a symbol are halted by its session cap or breaker, else 0
    /// (`symbol`).
    pub const RISK_HALTED: &str = "rustrade_risk_halted";
    /// Errors writing the journal or snapshots to the state store.
    pub const STORE_ERRORS: &str = "rustrade_store_errors_total";
    /// Candles published by the candle poller (`symbol`).
    pub const CANDLES_PUBLISHED: &str = "rustrade_candles_published_total";
    /// Position drifts found by reconciliation (`symbol`): the venue's position differed from
    /// the bot's after catch-up.
    pub const POSITION_DRIFT: &str = "rustrade_position_drift_total";
    /// Whether an entry block is raised (`reason`: the block's label), 1 or 0.
    pub const ENTRIES_BLOCKED: &str = "rustrade_entries_blocked";
    /// Reconciliation passes that failed at the venue.
    pub const RECONCILE_ERRORS: &str = "rustrade_reconcile_errors_total";

    /// Every name above: the bot emits each of them and no other of its own (the supervisor's
    /// are in `rustrade_supervisor::metrics`); a test holds the bot to this list.
    pub const ALL: &[&str] = &[
        EVENTS_PROCESSED,
        EVENTS_SEEN_BEFORE,
        DECISIONS,
        REFUSALS,
        ORDERS_PLACED,
        ORDERS_REJECTED,
        ORDERS_UNKNOWN,
        ORDERS_CANCELLED,
        FILLS,
        FILLS_DROPPED,
        REALISED_PNL,
        BRAIN_ERRORS,
        BUS_LAGGED,
        RISK_HALTED,
        STORE_ERRORS,
        CANDLES_PUBLISHED,
        POSITION_DRIFT,
        ENTRIES_BLOCKED,
        RECONCILE_ERRORS,
    ];

    /// Notification messages delivered by the `rustrade` command's notifier (`channel`).
    pub const NOTIFY_SENT: &str = "rustrade_notify_sent_total";
    /// Failed notification calls (`channel`, `reason`: `rate_limited`, `status`, `transport`,
    /// `timeout`).
    pub const NOTIFY_FAILURES: &str = "rustrade_notify_failures_total";
    /// Notices not delivered (`channel`, `reason`: `queue_full`, `undeliverable`).
    pub const NOTIFY_DROPPED: &str = "rustrade_notify_dropped_total";
    /// Notices folded into a coalesced message (`channel`).
    pub const NOTIFY_COALESCED: &str = "rustrade_notify_coalesced_total";
    /// Telegram commands refused (a chat not on the allow-list, an unknown command).
    pub const NOTIFY_COMMANDS_REFUSED: &str = "rustrade_notify_commands_refused_total";

    /// Events a market-data relay stored in its stream (`stream`).
    pub const RELAY_PUBLISHED: &str = "rustrade_relay_published_total";
    /// Events the relay's stream recognised by their message id and did not store again
    /// (`stream`).
    pub const RELAY_DUPLICATES: &str = "rustrade_relay_duplicates_total";
    /// Candles a relay did not send because its stream held a bar at least as new (`stream`).
    pub const RELAY_SKIPPED: &str = "rustrade_relay_skipped_total";
    /// Events a relay refused: another venue's, or a symbol that makes no subject (`stream`).
    pub const RELAY_REFUSED: &str = "rustrade_relay_refused_total";
    /// Times a relay's venue source was (re)connected (`stream`).
    pub const RELAY_SOURCE_CONNECTS: &str = "rustrade_relay_source_connects_total";
    /// 1 while a relay's venue source is connected, else 0 (`stream`).
    pub const RELAY_SOURCE_CONNECTED: &str = "rustrade_relay_source_connected";
    /// Time of the newest event a relay stored, in seconds since the Unix epoch (`stream`).
    pub const RELAY_LAST_EVENT_TIME: &str = "rustrade_relay_last_event_time_seconds";

    /// The names the host around a bot emits (the `rustrade` command's notifier, and its
    /// market-data relay's endpoint), not the bot itself; kept here so every documented metric
    /// has one home.
    pub const HOST: &[&str] = &[
        NOTIFY_SENT,
        NOTIFY_FAILURES,
        NOTIFY_DROPPED,
        NOTIFY_COALESCED,
        NOTIFY_COMMANDS_REFUSED,
        RELAY_PUBLISHED,
        RELAY_DUPLICATES,
        RELAY_SKIPPED,
        RELAY_REFUSED,
        RELAY_SOURCE_CONNECTS,
        RELAY_SOURCE_CONNECTED,
        RELAY_LAST_EVENT_TIME,
    ];
}

/// Failure to install the global Prometheus recorder.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// Another global `metrics` recorder is already installed in this process.
    #[error("installing the global metrics recorder: {0}")]
    Install(String),
}

/// A [`MetricsSink`] that records into a Prometheus registry and renders its text format.
///
/// [`PrometheusMetrics::install`] makes it the process-wide `metrics` recorder, so metrics other
/// libraries emit with the `metrics` macros appear in the same exposition; at most one per
/// process. [`PrometheusMetrics::local`] keeps a private registry (tests, several bots in one
/// process). Clones share the registry. Each series' handle is registered once and reused, so
/// emitting to a series seen before allocates nothing.
#[derive(Clone)]
pub struct PrometheusMetrics {
    backend: Backend,
    handle: PrometheusHandle,
    series: Arc<Series>,
}

/// The handles of the series emitted so far, one cache per metric kind.
#[derive(Default)]
struct Series {
    counters: handles::Handles<Counter>,
    gauges: handles::Handles<Gauge>,
    histograms: handles::Handles<Histogram>,
}

#[derive(Clone)]
enum Backend {
    Global,
    Local(Arc<PrometheusRecorder>),
}

impl PrometheusMetrics {
    /// Installs a Prometheus recorder as the global `metrics` recorder.
    pub fn install() -> Result<Self, MetricsError> {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .map_err(|e| MetricsError::Install(e.to_string()))?;
        Ok(Self {
            backend: Backend::Global,
            handle,
            series: Arc::default(),
        })
    }

    /// A recorder with its own registry, not installed globally.
    pub fn local() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        Self {
            backend: Backend::Local(Arc::new(recorder)),
            handle,
            series: Arc::default(),
        }
    }

    /// The Prometheus text exposition of every metric recorded so far.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// The exporter's handle, for hosts that serve it themselves.
    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }

    fn with<T>(&self, f: impl FnOnce(&dyn Recorder) -> T) -> T {
        match &self.backend {
            Backend::Global => metrics::with_recorder(f),
            Backend::Local(r) => f(r.as_ref()),
        }
    }
}

const METADATA: Metadata<'static> = Metadata::new("rustrade", Level::INFO, Some(module_path!()));

impl MetricsSink for PrometheusMetrics {
    fn counter(&self, name: &'static str, labels: &[Label<'_>], delta: u64) {
        self.series
            .counters
            .get(name, labels, |key| {
                self.with(|r| r.register_counter(key, &METADATA))
            })
            .increment(delta);
    }

    fn gauge(&self, name: &'static str, labels: &[Label<'_>], value: f64) {
        self.series
            .gauges
            .get(name, labels, |key| {
                self.with(|r| r.register_gauge(key, &METADATA))
            })
            .set(value);
    }

    fn histogram(&self, name: &'static str, labels: &[Label<'_>], value: f64) {
        self.series
            .histograms
            .get(name, labels, |key| {
                self.with(|r| r.register_histogram(key, &METADATA))
            })
            .record(value);
    }
}

impl std::fmt::Debug for PrometheusMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.backend {
            Backend::Global => "global",
            Backend::Local(_) => "local",
        };
        f.debug_struct("PrometheusMetrics")
            .field("recorder", &kind)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_gauges_and_histograms_render() {
        let m = PrometheusMetrics::local();
        let other = m.clone();
        m.counter(
            names::REFUSALS,
            &[
                ("brain", "a"),
                ("symbol", "X"),
                ("reason", "session_halted"),
            ],
            2,
        );
        other.counter(
            names::REFUSALS,
            &[
                ("brain", "a"),
                ("symbol", "X"),
                ("reason", "session_halted"),
            ],
            1,
        );
        m.gauge(names::REALISED_PNL, &[("symbol", "X")], -12.5);
        m.histogram("rustrade_test_latency_seconds", &[], 0.000_02);
        let text = m.render();
        assert!(
            text.contains(
                r#"rustrade_refusals_total{brain="a",symbol="X",reason="session_halted"} 3"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"rustrade_realised_pnl{symbol="X"} -12.5"#),
            "{text}"
        );
        assert!(text.contains("rustrade_test_latency_seconds"), "{text}");
        assert_eq!(
            format!("{m:?}"),
            r#"PrometheusMetrics { recorder: "local" }"#
        );
    }

    #[test]
    fn global_install_works_once() {
        let m = PrometheusMetrics::install().expect("first install");
        m.counter(names::FILLS, &[("symbol", "Y")], 1);
        assert!(m.render().contains(r#"rustrade_fills_total{symbol="Y"} 1"#));
        let second = PrometheusMetrics::install().unwrap_err();
        assert!(
            second.to_string().contains("global metrics recorder"),
            "{second}"
        );
    }
}
