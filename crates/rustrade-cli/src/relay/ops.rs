//! The relay's read-only HTTP endpoint (`[relay] ops_listen`), for a load balancer or an
//! orchestrator's probe and for Prometheus.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /health` | the relay's status as JSON with `healthy`; `503` while its venue source is not connected |
//! | `GET /metrics` | the same counters in the Prometheus text format, labelled with the stream |
//!
//! Nothing here changes the relay, so there is no token; bind it to a loopback or private
//! address all the same.

use std::fmt::Write as _;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rustrade::metrics::names;
use rustrade_nats::{RelayHealth, RelayStatus};
use tokio_util::sync::CancellationToken;

/// What the routes read: the relay's health and its stream's name.
#[derive(Clone)]
pub(crate) struct RelayOps {
    health: RelayHealth,
    stream: String,
}

impl RelayOps {
    pub(crate) fn new(health: RelayHealth, stream: impl Into<String>) -> Self {
        Self {
            health,
            stream: stream.into(),
        }
    }
}

/// The routes.
pub(crate) fn router(state: RelayOps) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such route\n") })
        .with_state(state)
}

/// Serves the routes on `listener` until `stop` is cancelled.
pub(crate) fn spawn(
    listener: tokio::net::TcpListener,
    state: RelayOps,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let addr = listener.local_addr().ok();
        tracing::info!(?addr, "relay ops endpoint listening");
        if let Err(e) = axum::serve(listener, router(state))
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "relay ops endpoint failed");
        }
    })
}

/// The Prometheus text of `status` for `stream`.
pub(crate) fn prometheus_text(stream: &str, s: &RelayStatus) -> String {
    let label = stream.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name}{{stream=\"{label}\"}} {value}");
    };
    #[allow(clippy::cast_precision_loss, reason = "counters far below 2^53")]
    {
        metric(
            names::RELAY_PUBLISHED,
            "counter",
            "Events stored in the stream.",
            s.published as f64,
        );
        metric(
            names::RELAY_DUPLICATES,
            "counter",
            "Events the stream recognised by their message id and did not store again.",
            s.duplicates as f64,
        );
        metric(
            names::RELAY_SKIPPED,
            "counter",
            "Candles not sent because the stream already held a bar at least as new.",
            s.skipped as f64,
        );
        metric(
            names::RELAY_REFUSED,
            "counter",
            "Events refused (another venue's, or a symbol that makes no subject).",
            s.refused as f64,
        );
        metric(
            names::RELAY_SOURCE_CONNECTS,
            "counter",
            "Times the venue source was (re)connected.",
            s.source_connects as f64,
        );
        metric(
            names::RELAY_SOURCE_CONNECTED,
            "gauge",
            "1 while the venue source is connected.",
            f64::from(u8::from(s.source_connected)),
        );
        if let Some(t) = s.last_event_time {
            metric(
                names::RELAY_LAST_EVENT_TIME,
                "gauge",
                "Time of the newest event stored, in seconds since the Unix epoch.",
                t.as_nanos() as f64 / 1e9,
            );
        }
    }
    out
}

async fn health(State(state): State<RelayOps>) -> Response {
    let status = state.health.status();
    let mut body = super::status_json(&status);
    body["stream"] = state.stream.clone().into();
    body["source_connected"] = status.source_connected.into();
    body["healthy"] = status.source_connected.into();
    let code = if status.source_connected {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

async fn metrics(State(state): State<RelayOps>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        prometheus_text(&state.stream, &state.health.status()),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rustrade_core::Timestamp;

    use super::*;
    use crate::ops::client::request;

    #[test]
    fn the_metrics_name_the_stream_and_every_counter() {
        let status = RelayStatus {
            published: 7,
            duplicates: 1,
            skipped: 2,
            refused: 3,
            last_event_time: Some(Timestamp::from_secs(1_700_000_000).unwrap()),
            source_connected: true,
            source_connects: 4,
            last_error: None,
        };
        let text = prometheus_text("md\"x", &status);
        for line in [
            "rustrade_relay_published_total{stream=\"md\\\"x\"} 7",
            "rustrade_relay_duplicates_total{stream=\"md\\\"x\"} 1",
            "rustrade_relay_skipped_total{stream=\"md\\\"x\"} 2",
            "rustrade_relay_refused_total{stream=\"md\\\"x\"} 3",
            "rustrade_relay_source_connects_total{stream=\"md\\\"x\"} 4",
            "rustrade_relay_source_connected{stream=\"md\\\"x\"} 1",
            "rustrade_relay_last_event_time_seconds{stream=\"md\\\"x\"} 1700000000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        let quiet = prometheus_text("md", &RelayStatus::default());
        assert!(!quiet.contains("last_event_time"), "{quiet}");
    }

    #[tokio::test]
    async fn a_relay_whose_source_is_down_answers_503_over_http() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let server = spawn(
            listener,
            RelayOps::new(RelayHealth::default(), "md"),
            stop.clone(),
        );
        let t = Duration::from_secs(5);
        let health = request(&endpoint, "GET", "/health", None, t).await.unwrap();
        assert_eq!(health.status, 503, "{}", health.body);
        let body: serde_json::Value = serde_json::from_str(&health.body).unwrap();
        assert_eq!(body["healthy"], false);
        assert_eq!(body["stream"], "md");
        let metrics = request(&endpoint, "GET", "/metrics", None, t)
            .await
            .unwrap();
        assert_eq!(metrics.status, 200);
        assert!(
            metrics
                .body
                .contains("rustrade_relay_source_connected{stream=\"md\"} 0")
        );
        let missing = request(&endpoint, "GET", "/control/shutdown", None, t)
            .await
            .unwrap();
        assert_eq!(missing.status, 404);
        stop.cancel();
        server.await.unwrap();
    }
}
