//! `rustrade status --endpoint URL`: a running bot's health and positions, from its ops
//! endpoint.

use std::time::Duration;

use anyhow::Context;
use serde_json::Value;

use super::Ui;
use crate::cli::StatusArgs;
use crate::ops::client;

/// How long `status` waits for each answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Prints the health and positions of the bot at `args.endpoint`.
pub(super) fn run(args: &StatusArgs, ui: Ui) -> anyhow::Result<()> {
    client::authority(&args.endpoint)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let endpoint = args.endpoint.trim_end_matches('/');
    let (health, positions) = runtime.block_on(async {
        let health = client::request(endpoint, "GET", "/health", None, TIMEOUT).await?;
        let positions = client::request(endpoint, "GET", "/positions", None, TIMEOUT).await?;
        Ok::<_, client::ClientError>((health, positions))
    })?;
    let parse = |what: &str, r: &client::Response| -> anyhow::Result<Value> {
        serde_json::from_str(&r.body)
            .with_context(|| format!("{endpoint}{what}: not JSON (HTTP {})", r.status))
    };
    let health = parse("/health", &health)?;
    let positions = parse("/positions", &positions)?;
    ui.emit_json(&serde_json::json!({ "health": health, "positions": positions }));
    ui.say(&render(endpoint, &health, &positions));
    Ok(())
}

/// The terminal view of a health and a positions answer.
fn render(endpoint: &str, health: &Value, positions: &Value) -> String {
    let flag = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let mut out = format!(
        "bot at {endpoint}: {}{}{}\n",
        if flag(health, "healthy") {
            "healthy"
        } else {
            "UNHEALTHY"
        },
        if flag(health, "shutting_down") {
            ", shutting down"
        } else {
            ""
        },
        if flag(health, "entries_paused") {
            ", entries paused"
        } else {
            ""
        },
    );
    out.push_str("services:\n");
    for s in health
        .get("services")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "  {:<28} {:<11} restarts {}",
            text(s, "name"),
            text(s, "phase"),
            num(s, "restarts")
        ));
        if let Some(t) = s.get("termination").and_then(Value::as_str) {
            out.push_str(&format!(" ({t})"));
        }
        if let Some(e) = s.get("last_error").and_then(Value::as_str) {
            out.push_str(&format!(" last error: {e}"));
        }
        out.push('\n');
    }
    out.push_str("brains:\n");
    for b in health
        .get("brains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push_str(&format!(
            "  {:<28} {:<9} events {} decisions {}\n",
            text(b, "name"),
            if flag(b, "healthy") {
                "healthy"
            } else {
                "UNHEALTHY"
            },
            num(b, "events_processed"),
            num(b, "non_hold_decisions"),
        ));
    }
    out.push_str("positions:\n");
    for p in positions.as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {:<12} quantity {} avg entry {:.2} realised {:.2} unrealised {:.2}\n",
            text(p, "symbol"),
            num(p, "quantity"),
            num(p, "avg_entry"),
            num(p, "realised_pnl"),
            num(p, "unrealised_pnl"),
        ));
    }
    out
}
