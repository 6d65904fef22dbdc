//! The operations HTTP endpoint of a running bot (axum, HTTP/1).
//!
//! | route | auth | answer |
//! | --- | --- | --- |
//! | `GET /health` | — | [`BotHealth`] as JSON; `503` when unhealthy |
//! | `GET /metrics` | — | Prometheus text exposition |
//! | `GET /positions` | — | the bot's net position per symbol |
//! | `GET /orders` | — | the engine's live orders |
//! | `GET /trades` | — | the round trips closed since start (`?symbol=` filters) |
//! | `GET /openapi.json` | — | an OpenAPI 3 description of these routes |
//! | `GET /risk` | — | per symbol: session PnL and fees, wins and losses, breaker, halt |
//! | `POST /control/shutdown` | bearer | graceful shutdown |
//! | `POST /control/pause` | bearer | refuse new entries (exits still allowed) |
//! | `POST /control/resume` | bearer | allow entries again |
//! | `POST /control/flatten` | bearer | close every position through the engine |
//! | `POST /control/acknowledge` | bearer | acknowledge a position drift: entries allowed again |
//!
//! Control routes answer `401` with `WWW-Authenticate: Bearer` to a missing or wrong token
//! ([`token`]). Requests are logged without their headers, so the token never reaches a log.

pub(crate) mod client;
pub(crate) mod token;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rustrade::metrics::PrometheusMetrics;
use rustrade::{BotHandle, BotHealth, Secret};
use rustrade_core::Symbol;
use serde_json::{Value, json};

/// The OpenAPI 3 description served at `/openapi.json`.
pub(crate) const OPENAPI: &str = include_str!("openapi.json");

/// What the routes serve from: the bot's handle, its metrics and the control token.
#[derive(Clone)]
pub(crate) struct OpsState(Arc<Inner>);

struct Inner {
    handle: BotHandle,
    metrics: PrometheusMetrics,
    token: Secret,
    symbols: Vec<Symbol>,
}

impl OpsState {
    /// The state of an endpoint for `handle`, exposing `metrics`, guarded by `token`, reporting
    /// the positions of `symbols`.
    pub(crate) fn new(
        handle: BotHandle,
        metrics: PrometheusMetrics,
        token: Secret,
        symbols: Vec<Symbol>,
    ) -> Self {
        Self(Arc::new(Inner {
            handle,
            metrics,
            token,
            symbols,
        }))
    }
}

impl std::fmt::Debug for OpsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsState")
            .field("handle", &self.0.handle)
            .field("token", &self.0.token)
            .field("symbols", &self.0.symbols)
            .finish_non_exhaustive()
    }
}

/// The routes.
pub(crate) fn router(state: OpsState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/positions", get(positions))
        .route("/risk", get(risk))
        .route("/orders", get(orders))
        .route("/trades", get(trades))
        .route("/openapi.json", get(openapi))
        .route("/control/shutdown", post(shutdown))
        .route("/control/pause", post(pause))
        .route("/control/resume", post(resume))
        .route("/control/flatten", post(flatten))
        .route("/control/acknowledge", post(acknowledge))
        .fallback(not_found)
        .with_state(state)
}

/// Serves the routes on `listener` until the task is aborted or the bot shuts down.
pub(crate) fn spawn(
    listener: tokio::net::TcpListener,
    state: OpsState,
) -> tokio::task::JoinHandle<()> {
    let handle = state.0.handle.clone();
    let addr = listener.local_addr().ok();
    tokio::spawn(async move {
        tracing::info!(?addr, "ops endpoint listening");
        let stop = async move { handle.await_shutdown().await };
        if let Err(e) = axum::serve(listener, router(state))
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "ops endpoint failed");
        }
    })
}

/// Starts the endpoint `config`'s `[bot.ops]` asks for (nothing without one): resolves the
/// control token (generating and storing one at first start), binds, serves. Returns the server
/// task and what to tell the operator.
pub(crate) async fn serve(
    config: &crate::config::Config,
    handle: &BotHandle,
    metrics: PrometheusMetrics,
    symbols: Vec<Symbol>,
) -> anyhow::Result<(Option<tokio::task::JoinHandle<()>>, crate::paper::Started)> {
    use anyhow::Context;
    let mut shown = crate::paper::Started {
        ops: None,
        token_file: None,
        handle: handle.clone(),
        symbols: symbols.clone(),
    };
    let Some(section) = &config.bot.ops else {
        return Ok((None, shown));
    };
    let token = token::resolve(section.token.clone(), &token::file_for(config))?;
    let listener = tokio::net::TcpListener::bind(section.listen)
        .await
        .with_context(|| format!("bot.ops.listen: cannot bind {}", section.listen))?;
    shown.ops = Some(listener.local_addr()?);
    shown.token_file = token.file.clone();
    let state = OpsState::new(handle.clone(), metrics, token.secret, symbols);
    Ok((Some(spawn(listener, state)), shown))
}

/// [`BotHealth`] as JSON.
pub(crate) fn health_json(h: &BotHealth) -> Value {
    json!({
        "healthy": h.healthy,
        "shutting_down": h.shutting_down,
        "services": h.services.iter().map(|s| json!({
            "name": s.name,
            "phase": s.phase.to_string(),
            "restarts": s.restarts,
            "failures": s.failures,
            "panics": s.panics,
            "last_error": s.last_error,
            "termination": s.termination.map(|t| t.as_str()),
            "time_in_phase_secs": s.time_in_phase.as_secs_f64(),
        })).collect::<Vec<_>>(),
        "brains": h.brains.iter().map(|b| json!({
            "name": b.name,
            "healthy": b.healthy,
            "events_processed": b.events_processed,
            "non_hold_decisions": b.non_hold_decisions,
            "details": b.details,
        })).collect::<Vec<_>>(),
        "entry_blocks": h.entry_blocks.iter().map(|b| b.label()).collect::<Vec<_>>(),
        "reconciliation": {
            "last_at": h.reconciliation.last_at.map(|t| t.to_rfc3339()),
            "last_error": h.reconciliation.last_error,
            "drifts": h.reconciliation.drifts,
        },
        "refused_exits": h.refused_exits.iter().map(|r| json!({
            "brain": r.brain,
            "symbol": r.symbol.as_str(),
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at.to_rfc3339(),
        })).collect::<Vec<_>>(),
    })
}

async fn health(State(s): State<OpsState>) -> Response {
    let h = s.0.handle.health().await;
    let mut body = health_json(&h);
    body["entries_paused"] = Value::Bool(s.0.handle.entries_paused());
    let code = if h.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

async fn metrics(State(s): State<OpsState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.0.metrics.render(),
    )
        .into_response()
}

async fn positions(State(s): State<OpsState>) -> Response {
    let mut out = Vec::with_capacity(s.0.symbols.len());
    for symbol in &s.0.symbols {
        let p = s.0.handle.position(symbol).await;
        out.push(json!({
            "symbol": symbol.as_str(),
            "quantity": p.quantity,
            "avg_entry": p.avg_entry,
            "realised_pnl": p.realised_pnl,
            "unrealised_pnl": p.unrealised_pnl,
        }));
    }
    axum::Json(Value::Array(out)).into_response()
}

async fn risk(State(s): State<OpsState>) -> Response {
    let mut out = Vec::with_capacity(s.0.symbols.len());
    for symbol in &s.0.symbols {
        if let Some(r) = s.0.handle.risk(symbol).await {
            let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
            v["symbol"] = Value::String(symbol.as_str().to_owned());
            out.push(v);
        }
    }
    axum::Json(Value::Array(out)).into_response()
}

async fn orders(State(s): State<OpsState>) -> Response {
    let orders = s.0.handle.live_orders().await;
    match serde_json::to_value(&orders) {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The query of `GET /trades`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TradesQuery {
    symbol: Option<String>,
}

async fn trades(
    State(s): State<OpsState>,
    query: Result<Query<TradesQuery>, QueryRejection>,
) -> Response {
    let only = match query {
        Ok(Query(q)) => match q.symbol.as_deref().map(Symbol::new).transpose() {
            Ok(only) => only,
            Err(e) => {
                let given = q.symbol.unwrap_or_default();
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("symbol: {given:?} is not a symbol: {e}"),
                );
            }
        },
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let out: Vec<Value> =
        s.0.handle
            .closed_trades()
            .await
            .iter()
            .filter(|r| only.is_none_or(|sym| r.symbol == sym))
            .map(trade_json)
            .collect();
    axum::Json(Value::Array(out)).into_response()
}

/// A closed trade as `GET /trades` serves it (the `Trade` schema of `openapi.json`).
pub(crate) fn trade_json(r: &rustrade::ClosedTradeRecord) -> Value {
    let t = &r.trade;
    json!({
        "brain": r.brain,
        "symbol": r.symbol.as_str(),
        "side": t.side,
        "quantity": t.quantity,
        "entry_time": t.opened_at.to_rfc3339(),
        "entry_price": t.entry_price,
        "exit_time": t.closed_at.to_rfc3339(),
        "exit_price": t.exit_price,
        "fees": t.fees,
        "entry_fees": t.entry_fees,
        "exit_fees": t.exit_fees,
        "gross_pnl": t.gross_pnl,
        "pnl": t.net_pnl,
    })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn shutdown(State(s): State<OpsState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers, "shutdown") {
        return refused;
    }
    s.0.handle.shutdown();
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"shutting_down": true})),
    )
        .into_response()
}

async fn pause(State(s): State<OpsState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers, "pause") {
        return refused;
    }
    paused_answer(s.0.handle.pause_entries().await, true)
}

async fn resume(State(s): State<OpsState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers, "resume") {
        return refused;
    }
    paused_answer(s.0.handle.resume_entries().await, false)
}

fn paused_answer(applied: bool, paused: bool) -> Response {
    if applied {
        axum::Json(json!({"entries_paused": paused})).into_response()
    } else {
        error(StatusCode::CONFLICT, "the bot has not started")
    }
}

async fn flatten(State(s): State<OpsState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers, "flatten") {
        return refused;
    }
    let exits = s.0.handle.flatten().await;
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"exit_orders": exits})),
    )
        .into_response()
}

async fn acknowledge(State(s): State<OpsState>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&s, &headers, "acknowledge") {
        return refused;
    }
    let waited = s.0.handle.acknowledge_drift().await;
    axum::Json(json!({"acknowledged": waited})).into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route; see /openapi.json")
}

/// `None` when the request carries the control token; else the `401` to answer.
fn refusal(s: &OpsState, headers: &HeaderMap, route: &'static str) -> Option<Response> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if token::authorizes(presented, &s.0.token) {
        tracing::info!(route, "ops control request");
        return None;
    }
    tracing::warn!(
        route,
        with_token = presented.is_some(),
        "ops control request refused: missing or wrong bearer token"
    );
    let mut r = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    Some(r)
}

fn error(code: StatusCode, message: &str) -> Response {
    (code, axum::Json(json!({"error": message}))).into_response()
}
