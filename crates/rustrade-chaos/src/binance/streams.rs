//! The front's WebSocket side: the combined market stream and the listenKey user-data stream,
//! each a subscription to the [`ChaosVenue`](crate::ChaosVenue)'s own stream translated frame
//! by frame.
//!
//! | path | what |
//! | --- | --- |
//! | `/pid/<pid>/market/stream?streams=<sym>@kline_<i>/…` | closed klines of the listed symbols; the process id in the path tells the harness which bot subscribed (its stream base URL carries it) |
//! | `/private/ws?listenKey=<key>&events=…` | `ORDER_TRADE_UPDATE` and `ALGO_UPDATE` for every execution report |
//!
//! A stream the venue closes (a close fault) ends with a close frame; a muted one stays open
//! and silent. The venue's report faults (duplicated, delayed, reordered) reach the bot as the
//! same frames duplicated, delayed or reordered.

use std::collections::BTreeSet;

use futures_util::{SinkExt, StreamExt};
use rustrade_core::{ExecutionReport, MarketEvent};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::LISTEN_KEY;
use super::json;
use crate::venue::{SharedVenue, lock};

/// Accepts WebSocket connections on `listener` until the task is aborted.
pub(crate) async fn serve(listener: TcpListener, venue: SharedVenue) {
    crate::server::accept_each(listener, venue, connection).await;
}

async fn connection(tcp: TcpStream, venue: SharedVenue) {
    let _ = tcp.set_nodelay(true);
    let mut target = String::new();
    // The error type is tungstenite's handshake response, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let record = |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
        target = req.uri().to_string();
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, record).await else {
        return;
    };
    let (path, query) = target.split_once('?').unwrap_or((target.as_str(), ""));
    let (tx, rx) = mpsc::unbounded_channel();
    if let Some(pid) = market_pid(path) {
        let wanted = kline_streams(query);
        lock(&venue).subscribe_market(pid, tx);
        pump(&mut ws, rx, |line| market_frames(line, &wanted)).await;
    } else if path == "/private/ws" && query_value(query, "listenKey") == Some(LISTEN_KEY) {
        lock(&venue).subscribe_fills(tx);
        pump(&mut ws, rx, |line| user_frames(&venue, line)).await;
    }
    let _ = ws.close(None).await;
}

/// Forwards the venue's lines, translated, until the venue drops the subscription or the client
/// goes away.
async fn pump<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    mut rx: mpsc::UnboundedReceiver<String>,
    translate: impl Fn(&str) -> Vec<String>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        tokio::select! {
            line = rx.recv() => {
                let Some(line) = line else { return };
                for frame in translate(&line) {
                    if ws.send(Message::text(frame)).await.is_err() {
                        return;
                    }
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// The process id in `/pid/<pid>/market/stream`.
fn market_pid(path: &str) -> Option<u32> {
    let rest = path.strip_prefix("/pid/")?;
    let (pid, route) = rest.split_once('/')?;
    (route == "market/stream")
        .then(|| pid.parse().ok())
        .flatten()
}

/// The `(symbol, interval)` kline streams a `streams=` query asks for, symbols upper-cased.
fn kline_streams(query: &str) -> BTreeSet<(String, String)> {
    query_value(query, "streams")
        .unwrap_or("")
        .split('/')
        .filter_map(|s| s.split_once("@kline_"))
        .map(|(sym, i)| (sym.to_ascii_uppercase(), i.to_owned()))
        .collect()
}

fn query_value<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn market_frames(line: &str, wanted: &BTreeSet<(String, String)>) -> Vec<String> {
    let Ok(event) = serde_json::from_str::<MarketEvent>(line) else {
        return Vec::new();
    };
    wanted
        .iter()
        .filter(|(sym, _)| sym == event.symbol.as_str())
        .filter_map(|(_, interval)| json::kline_frame(&event, interval))
        .collect()
}

/// The frames one execution report becomes: a conditional order's acceptance, cancel or expiry
/// is an `ALGO_UPDATE`; its first fill is preceded by the `ALGO_UPDATE` of its trigger; the rest
/// are `ORDER_TRADE_UPDATE`s. A report about an order the venue has no record of is not sent.
fn user_frames(venue: &SharedVenue, line: &str) -> Vec<String> {
    let Ok(report) = serde_json::from_str::<ExecutionReport>(line) else {
        return Vec::new();
    };
    let client = match &report {
        ExecutionReport::Accepted { client_id, .. }
        | ExecutionReport::Rejected { client_id, .. } => Some(*client_id),
        ExecutionReport::Cancelled { client_id, .. }
        | ExecutionReport::Expired { client_id, .. } => *client_id,
        ExecutionReport::Fill(f) => f.client_id,
    };
    let v = lock(venue);
    let Some(state) = client.and_then(|c| v.order_state(&c)) else {
        return Vec::new();
    };
    drop(v);
    let now = json::ms(report.time());
    let conditional = json::is_conditional(state.order.kind);
    match &report {
        ExecutionReport::Accepted { .. } if conditional => {
            vec![json::algo_update(&state, "NEW", now)]
        }
        ExecutionReport::Cancelled { .. } if conditional && !json::triggered(&state.order) => {
            vec![json::algo_update(&state, "CANCELED", now)]
        }
        ExecutionReport::Expired { .. } if conditional && !json::triggered(&state.order) => {
            vec![json::algo_update(&state, "EXPIRED", now)]
        }
        ExecutionReport::Accepted { .. } => vec![json::order_update(&state, "NEW", None, now)],
        ExecutionReport::Rejected { .. } => vec![json::order_update(&state, "REJECTED", None, now)],
        ExecutionReport::Cancelled { .. } => {
            vec![json::order_update(&state, "CANCELED", None, now)]
        }
        ExecutionReport::Expired { .. } => vec![json::order_update(&state, "EXPIRED", None, now)],
        ExecutionReport::Fill(fill) => {
            let mut frames = Vec::with_capacity(2);
            if conditional {
                frames.push(json::algo_update(&state, "TRIGGERED", now));
            }
            frames.push(json::order_update(&state, "TRADE", Some(fill), now));
            frames
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_queries_are_read() {
        assert_eq!(market_pid("/pid/42/market/stream"), Some(42));
        assert_eq!(market_pid("/pid/42/public/stream"), None);
        assert_eq!(market_pid("/market/stream"), None);
        let s = kline_streams("streams=aaausdt@kline_1s/bbbusdt@kline_1s/aaausdt@aggTrade");
        assert_eq!(s.len(), 2);
        assert!(s.contains(&("AAAUSDT".to_owned(), "1s".to_owned())));
        assert_eq!(query_value("listenKey=k&events=A/B", "events"), Some("A/B"));
    }
}
