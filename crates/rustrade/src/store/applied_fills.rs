//! The durable record of applied fills: which venue fill ids the engine has applied, so a late
//! or replayed fill is applied exactly once however long ago its first copy arrived.
//!
//! # The rule
//!
//! A fill has been applied when the engine's in-memory window of recent fill ids holds it (the
//! fast path, [`Engine::recalls_fill`]) or when this record holds it. The driver asks the
//! record only for fills that miss the window, before the step that would apply them
//! (`Driver::apply_fills`, the one place fills from the stream and from catch-ups enter the
//! engine). Fills of the simulated venue wired by `Bot::paper` are applied synchronously under
//! the engine lock and checked against the window only: that venue never repeats a fill id.
//!
//! # Layout
//!
//! - `fills/<fill id>`: one key per applied fill, written in the **same** [`StateStore::apply`]
//!   batch (one SQLite transaction, one JSON file replacement) as the journal records of the
//!   step that applied it, so the record and the state it changed are durable together or not
//!   at all. The value names the fill's order: `<venue order id>` then, when the fill carried
//!   one, a tab and our client order id. Records written by the migration for ids known only
//!   from the engine's window hold `@<ns>`: the fill was applied before that time.
//! - `meta/layout`: the layout version of the whole state ([`LAYOUT_VERSION`]). A store
//!   without it holds layout 1 (no fill record) and is migrated at start-up: every fill the
//!   journal still holds and every id in the snapshot's window is recorded, in one batch with
//!   the new version.
//!
//! # Growth
//!
//! A record is kept while it can matter: the engine applies a fill only to an order its book
//! tracks (live, or among the `retired_orders` most recently retired), and an order that has
//! left the book never returns (client ids are never reused), so a replay of a fill of such an
//! order is refused whatever this record says. Start-up deletes the records of fills whose
//! order the book no longer tracks ([`Engine::tracks_fill_order`]); a `@<ns>` record goes once
//! every order in the book was created after `<ns>`. What stays is the fills of the live
//! orders and of the last `retired_orders` retired ones; each costs its key and value, about
//! 30 + 2 × (id length) bytes (some 70 bytes for venue ids of 15 characters) plus the backend's
//! per-row overhead.
//!
//! [`Engine::recalls_fill`]: rustrade_engine::Engine::recalls_fill
//! [`Engine::tracks_fill_order`]: rustrade_engine::Engine::tracks_fill_order

use rustrade_core::{
    ClientOrderId, Fill, FillId, OrderId, StateStore, StoreError, StoreOp, Timestamp,
};
use rustrade_engine::{Engine, EngineEvent};

/// Store key prefix of the applied-fill records.
pub const PREFIX: &str = "fills/";
/// Store key of the state's layout version.
pub const LAYOUT_KEY: &str = "meta/layout";
/// The layout this build writes: 2, the first with the applied-fill record. A store without
/// [`LAYOUT_KEY`] holds layout 1.
pub const LAYOUT_VERSION: u32 = 2;

/// The store key recording that fill `id` was applied.
pub fn key(id: &FillId) -> String {
    format!("{PREFIX}{id}")
}

/// What a record says about the fill's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// The order the fill was applied to, as the fill named it.
    Order {
        order_id: OrderId,
        client_id: Option<ClientOrderId>,
    },
    /// Applied before this time (a record migrated from the engine's window).
    Before(Timestamp),
}

/// The record's value for `fill`.
fn value(fill: &Fill) -> Vec<u8> {
    match fill.client_id {
        Some(c) => format!("{}\t{c}", fill.order_id).into_bytes(),
        None => fill.order_id.to_string().into_bytes(),
    }
}

fn decode(bytes: &[u8]) -> Option<Recorded> {
    let text = std::str::from_utf8(bytes).ok()?;
    if let Some(ns) = text.strip_prefix('@') {
        return Some(Recorded::Before(Timestamp::from_nanos(ns.parse().ok()?)));
    }
    let (order, client) = match text.split_once('\t') {
        Some((o, c)) => (o, Some(ClientOrderId::new(c).ok()?)),
        None => (text, None),
    };
    Some(Recorded::Order {
        order_id: OrderId::new(order).ok()?,
        client_id: client,
    })
}

/// The record writes of the fills a step applied, for the step's own batch.
pub fn record_ops<'a>(events: impl IntoIterator<Item = &'a EngineEvent>) -> Vec<StoreOp> {
    events
        .into_iter()
        .filter_map(|e| match e {
            EngineEvent::FillApplied { fill, .. } => Some(StoreOp::Put {
                key: key(&fill.fill_id),
                value: value(fill),
            }),
            _ => None,
        })
        .collect()
}

/// Whether the record holds fill `id`.
pub(crate) async fn is_recorded(store: &dyn StateStore, id: &FillId) -> Result<bool, StoreError> {
    Ok(store.load(&key(id)).await?.is_some())
}

/// The layout version of the state in `store` (1 when it does not say).
pub(crate) async fn layout(store: &dyn StateStore) -> Result<u32, StoreError> {
    match store.load(LAYOUT_KEY).await? {
        None => Ok(1),
        Some(bytes) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| StoreError::Corrupt {
                key: LAYOUT_KEY.to_owned(),
                reason: format!(
                    "not a version number: {:?}",
                    String::from_utf8_lossy(&bytes)
                ),
            }),
    }
}

/// The write that marks the state as of [`LAYOUT_VERSION`].
pub(crate) fn layout_op() -> StoreOp {
    StoreOp::Put {
        key: LAYOUT_KEY.to_owned(),
        value: LAYOUT_VERSION.to_string().into_bytes(),
    }
}

/// Migrates a layout-1 state to [`LAYOUT_VERSION`]: records every fill in `journal` (the
/// state's journal events, all of them) and every id in the restored engine's window (as
/// applied before `now`), then writes the version, in one batch. Returns how many fills were
/// recorded. A newer layout than this build knows is refused as corrupt.
pub(crate) async fn migrate<'a>(
    store: &dyn StateStore,
    journal: impl IntoIterator<Item = &'a EngineEvent>,
    engine: &Engine,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let found = layout(store).await?;
    if found == LAYOUT_VERSION {
        return Ok(0);
    }
    if found > LAYOUT_VERSION {
        return Err(StoreError::Corrupt {
            key: LAYOUT_KEY.to_owned(),
            reason: format!("layout {found} (this build reads up to {LAYOUT_VERSION})"),
        });
    }
    let mut ops = record_ops(journal);
    let mut known: std::collections::BTreeSet<String> = ops
        .iter()
        .filter_map(|op| match op {
            StoreOp::Put { key, .. } => Some(key.clone()),
            StoreOp::Delete { .. } => None,
        })
        .collect();
    let before = format!("@{}", now.as_nanos()).into_bytes();
    for id in engine.recalled_fills() {
        let k = key(id);
        if known.insert(k.clone()) {
            ops.push(StoreOp::Put {
                key: k,
                value: before.clone(),
            });
        }
    }
    let recorded = known.len();
    ops.push(layout_op());
    store.apply(&ops).await?;
    Ok(recorded)
}

/// Every record in `store`: its key and what it says (`None`: unreadable).
pub(crate) async fn records(
    store: &dyn StateStore,
) -> Result<Vec<(String, Option<Recorded>)>, StoreError> {
    let mut out = Vec::new();
    for key in store.list(PREFIX).await? {
        if let Some(bytes) = store.load(&key).await? {
            out.push((key, decode(&bytes)));
        }
    }
    Ok(out)
}

/// Whether a record can still matter to `engine` (see the module doc): its fill's order is in
/// the book, or, for a record known only by when it was applied, some order in the book is
/// older than that.
pub(crate) fn still_needed(engine: &Engine, record: Recorded) -> bool {
    match record {
        Recorded::Order {
            order_id,
            client_id,
        } => engine.tracks_fill_order(client_id, &order_id),
        Recorded::Before(t) => engine.oldest_tracked_order().is_some_and(|o| o <= t),
    }
}

/// Deletes the records at `keys` in one batch; returns how many.
pub(crate) async fn delete(store: &dyn StateStore, keys: Vec<String>) -> Result<usize, StoreError> {
    let ops: Vec<StoreOp> = keys
        .into_iter()
        .map(|key| StoreOp::Delete { key })
        .collect();
    store.apply(&ops).await?;
    Ok(ops.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let order_id = OrderId::new("m7").unwrap();
        let client_id = ClientOrderId::new("bot-1").unwrap();
        assert_eq!(
            decode(b"m7\tbot-1"),
            Some(Recorded::Order {
                order_id,
                client_id: Some(client_id)
            })
        );
        assert_eq!(
            decode(b"m7"),
            Some(Recorded::Order {
                order_id,
                client_id: None
            })
        );
        assert_eq!(
            decode(b"@42"),
            Some(Recorded::Before(Timestamp::from_nanos(42)))
        );
        assert_eq!(decode(b"@x"), None);
        assert_eq!(decode(&[0xff]), None);
        assert_eq!(key(&FillId::new("BTCUSDT-9").unwrap()), "fills/BTCUSDT-9");
    }
}
