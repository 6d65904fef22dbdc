//! The invariants, computed from the venue's own records by code that shares nothing with the
//! engine but the data types.
//!
//! | name | when | what |
//! | --- | --- | --- |
//! | `unique-client-id` | always | the venue created at most one order per client id |
//! | `restorable` | bot down | the state file restores (snapshot + journal tail) |
//! | `journal-replays-to-snapshot` | bot down | the journal up to the snapshot rebuilds what the snapshot holds, and the whole journal what snapshot + tail hold |
//! | `fill-applied-once` | bot down | no fill id is applied twice in the journal |
//! | `fill-exists` | bot down | every applied fill is one the venue made for the bot |
//! | `position` | after restart, at the end | the bot's position per symbol equals the venue's |
//! | `pnl` | after restart, at the end | the bot's money agrees with the venue's fills ([`CashFlow`]): flat, realised PnL and the session's net PnL equal the fills' cash less fees; at the end, from the stored ledger, `realised − Q · avg_entry − open_fees` equals it whatever the position and the fees paid equal the fills' fees. Skipped on a symbol someone traded by hand. Which round trips the fills formed (and so the win/loss split) depends on the order they were applied in, so it is not compared |
//! | `protected` | after restart, at the end | every open position has a working reduce-only stop at the venue, or a close or leg the bot is still waiting to hear about, or a close the venue refused that the bot sends again with backoff |
//! | `fill-applied` | at the end | every fill the venue made for the bot was applied |
//! | `no-entry-while-degraded` | at the end | no entry order was placed while an entry block (operator pause, unacknowledged drift, fill routing down, market data silent, store unwritable) the journal raised in the same bot life was still up |

use std::collections::BTreeSet;

use rustrade_core::{Fill, FillId, OrderKind, Symbol, Timestamp};
use rustrade_engine::{Engine, EngineEvent, EntryBlock, JournalRecord, OrderRole};

use crate::bot::{BotStatus, SymbolStatus};
use crate::ledger::CashFlow;
use crate::state::{EngineView, StoredState, close};
use crate::venue::ChaosVenue;

/// Lot size of the chaos instruments.
const LOT: f64 = 0.001;

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Violation {
    /// The run's seed.
    pub seed: u64,
    /// The bot life (0 = first start) during or after which it was seen.
    pub step: u32,
    /// Bars replayed when it was seen.
    pub bar: u64,
    /// Which invariant.
    pub invariant: &'static str,
    /// What differs, with the values.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "violation seed={} step={} bar={} {}: {}",
            self.seed, self.step, self.bar, self.invariant, self.detail
        )
    }
}

/// A finding before it is stamped with seed and step.
pub type Finding = (&'static str, String);

/// The bot's fills on `symbol` as the venue recorded them.
pub fn bot_fills(venue: &ChaosVenue, symbol: &Symbol) -> Vec<Fill> {
    venue
        .all_fills(symbol)
        .into_iter()
        .filter(|f| f.client_id.is_some_and(|c| venue.is_bot(&c)))
        .collect()
}

/// `unique-client-id`.
pub fn unique_client_ids(venue: &ChaosVenue) -> Vec<Finding> {
    venue
        .orders_by_client()
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(c, ids)| {
            (
                "unique-client-id",
                format!("client id {c} created venue orders {ids:?}"),
            )
        })
        .collect()
}

/// `no-entry-while-degraded`: walks the journal `records` with the entry blocks each
/// `EntryBlock` / `EntriesPaused` event raises or lowers, and reports every entry placed while
/// one is up. `lives` holds the sequence number of the last record of each bot life but the
/// current one: a restarted bot observes its surroundings afresh, so the blocks that describe
/// them (all but the operator's pause and an unacknowledged drift) end with the life.
pub fn no_entry_while_degraded(records: &[JournalRecord], lives: &[u64]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut raised: Vec<EntryBlock> = Vec::new();
    let set = |raised: &mut Vec<EntryBlock>, block: EntryBlock, up: bool| {
        raised.retain(|b| *b != block);
        if up {
            raised.push(block);
        }
    };
    let mut ends = lives.iter().copied().peekable();
    for record in records {
        while ends.next_if(|&end| end < record.seq).is_some() {
            raised.retain(|b| b.is_persistent());
        }
        match &record.event {
            EngineEvent::EntryBlock {
                block, raised: up, ..
            } => set(&mut raised, *block, *up),
            EngineEvent::EntriesPaused { paused, .. } => {
                set(&mut raised, EntryBlock::Operator, *paused);
            }
            EngineEvent::OrderPlaced {
                role: OrderRole::Entry,
                order,
                ..
            } if !raised.is_empty() => {
                let labels: Vec<&str> = raised.iter().map(|b| b.label()).collect();
                out.push((
                    "no-entry-while-degraded",
                    format!(
                        "entry {} on {} placed at record {} while {}",
                        order.client_id,
                        order.symbol,
                        record.seq,
                        labels.join(", ")
                    ),
                ));
            }
            _ => {}
        }
    }
    out
}

/// The checks on a state file read while the bot is down; returns the restored engine too.
pub fn at_rest(
    venue: &ChaosVenue,
    stored: &StoredState,
    config: &rustrade_engine::EngineConfig,
    now: Timestamp,
) -> (Vec<Finding>, Option<Engine>) {
    let mut out = Vec::new();
    let symbols = venue.symbols();
    let engine = match stored.restore(config, now) {
        Ok(e) => e,
        Err(e) => {
            out.push(("restorable", e));
            None
        }
    };
    if let Some(snapshot) = &stored.snapshot {
        let alone = Engine::restore(config.clone(), snapshot, now).map_err(|e| e.to_string());
        match (alone, stored.replay_all(config, snapshot.journal_seq, now)) {
            (Ok(alone), Some(Ok(replayed))) => {
                let (a, b) = (
                    EngineView::of(&alone, symbols),
                    EngineView::of(&replayed, symbols),
                );
                if !a.agrees(&b) {
                    out.push((
                        "journal-replays-to-snapshot",
                        format!(
                            "snapshot at record {}: {a:?}; journal: {b:?}",
                            snapshot.journal_seq
                        ),
                    ));
                }
            }
            (Err(e), _) | (_, Some(Err(e))) => out.push(("journal-replays-to-snapshot", e)),
            (Ok(_), None) => {}
        }
    }
    if let (Some(engine), Some(Ok(replayed))) = (&engine, stored.replay_all(config, u64::MAX, now))
    {
        let (a, b) = (
            EngineView::of(engine, symbols),
            EngineView::of(&replayed, symbols),
        );
        if !a.agrees(&b) {
            out.push((
                "journal-replays-to-snapshot",
                format!("snapshot + tail: {a:?}; whole journal: {b:?}"),
            ));
        }
    }
    let made: BTreeSet<FillId> = symbols
        .iter()
        .flat_map(|s| bot_fills(venue, s))
        .map(|f| f.fill_id)
        .collect();
    let mut seen = BTreeSet::new();
    for fill in stored.applied_fills() {
        if !seen.insert(fill.fill_id) {
            out.push((
                "fill-applied-once",
                format!("fill {} of {} applied twice", fill.fill_id, fill.symbol),
            ));
        }
        if !made.contains(&fill.fill_id) {
            out.push((
                "fill-exists",
                format!(
                    "fill {} of {} is not one the venue made for the bot",
                    fill.fill_id, fill.symbol
                ),
            ));
        }
    }
    (out, engine)
}

/// The checks once the bot has caught up, from its status and the venue's records.
pub fn caught_up(venue: &ChaosVenue, status: &BotStatus) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &status.symbols {
        out.extend(symbol_checks(venue, s));
    }
    out
}

/// The end-of-run money check on the stored ledger, whatever the position (see `pnl`).
pub fn ledger_agrees(venue: &ChaosVenue, engine: &Engine) -> Vec<Finding> {
    let mut out = Vec::new();
    for symbol in venue.symbols() {
        if venue.manual_symbols().contains(symbol) {
            continue;
        }
        let Some(ledger) = engine.ledger(symbol) else {
            continue;
        };
        let flow = CashFlow::of(&bot_fills(venue, symbol), 1.0);
        let ours = ledger.realised_pnl - ledger.quantity * ledger.avg_entry - ledger.open_fees;
        if !close(ours, flow.net()) || !close(ledger.fees_paid, flow.fees) {
            out.push((
                "pnl",
                format!(
                    "{symbol}: ledger realised {} qty {} avg {} open fees {} fees {}; venue fills give cash − fees {} and fees {}",
                    ledger.realised_pnl, ledger.quantity, ledger.avg_entry, ledger.open_fees, ledger.fees_paid, flow.net(), flow.fees
                ),
            ));
        }
    }
    out
}

/// `fill-applied` at the end: every fill the venue made for the bot is in the journal.
pub fn all_applied(venue: &ChaosVenue, stored: &StoredState) -> Vec<Finding> {
    let applied: BTreeSet<FillId> = stored.applied_fills().iter().map(|f| f.fill_id).collect();
    venue
        .symbols()
        .iter()
        .flat_map(|s| bot_fills(venue, s))
        .filter(|f| !applied.contains(&f.fill_id))
        .map(|f| {
            (
                "fill-applied",
                format!(
                    "venue fill {} of {} ({:?} {}) never applied",
                    f.fill_id, f.symbol, f.side, f.quantity
                ),
            )
        })
        .collect()
}

/// The status a stopped engine would print, for the end-of-run checks.
pub fn status_of(engine: &Engine, symbols: &[Symbol]) -> BotStatus {
    BotStatus {
        symbols: symbols
            .iter()
            .map(|s| {
                let p = engine.position(s);
                let r = engine.symbol_risk(s);
                SymbolStatus {
                    symbol: *s,
                    quantity: p.quantity,
                    realised_pnl: p.realised_pnl,
                    session_net: r.map_or(0.0, |r| r.session_pnl.net()),
                    awaiting_answer: engine
                        .open_orders()
                        .any(|o| o.symbol() == *s && SymbolStatus::is_awaited(o))
                        || engine.exit_retries().any(|(_, symbol, _)| symbol == *s),
                }
            })
            .collect(),
    }
}

fn symbol_checks(venue: &ChaosVenue, s: &SymbolStatus) -> Vec<Finding> {
    let mut out = Vec::new();
    let venue_qty = venue.position_qty(&s.symbol);
    if (venue_qty - s.quantity).abs() >= LOT / 2.0 {
        out.push((
            "position",
            format!("{}: bot {} venue {venue_qty}", s.symbol, s.quantity),
        ));
    }
    let manual = venue.manual_symbols().contains(&s.symbol);
    let flat = venue_qty.abs() < LOT / 2.0 && s.quantity.abs() < LOT / 2.0;
    if !manual && flat {
        let flow = CashFlow::of(&bot_fills(venue, &s.symbol), 1.0);
        if !close(flow.net(), s.realised_pnl) || !close(flow.net(), s.session_net) {
            out.push((
                "pnl",
                format!(
                    "{} (flat): bot realised {} session net {}; venue fills give {}",
                    s.symbol,
                    s.realised_pnl,
                    s.session_net,
                    flow.net()
                ),
            ));
        }
    }
    if venue_qty.abs() >= LOT / 2.0 && !manual && !s.awaiting_answer {
        let need = venue_qty.abs() - LOT / 2.0;
        let covered: f64 = venue
            .open_orders(&s.symbol)
            .iter()
            .filter(|o| {
                o.reduce_only
                    && o.side.sign() * venue_qty < 0.0
                    && matches!(
                        o.kind,
                        OrderKind::StopMarket
                            | OrderKind::StopLimit
                            | OrderKind::TrailingStop
                            | OrderKind::Market
                    )
            })
            .map(|o| o.quantity.get() - o.filled.get())
            .sum();
        let protected = covered >= need;
        if !protected {
            out.push((
                "protected",
                format!(
                    "{}: position {venue_qty} has working stops for {covered} only",
                    s.symbol
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use rustrade_core::{ClientOrderId, Order, Quantity, Side, Symbol, Timestamp};
    use rustrade_engine::BrainId;

    use super::*;

    fn t() -> Timestamp {
        Timestamp::from_millis(1_000).unwrap()
    }

    fn block(seq: u64, block: EntryBlock, raised: bool) -> JournalRecord {
        JournalRecord {
            seq,
            event: EngineEvent::EntryBlock {
                block,
                raised,
                time: t(),
            },
        }
    }

    fn entry(seq: u64) -> JournalRecord {
        let symbol = Symbol::new("AAAUSDT").unwrap();
        let client_id = ClientOrderId::new(&format!("chaos-0-{seq}")).unwrap();
        let order = Order::market(client_id, symbol, Side::Buy, Quantity::new(1.0).unwrap());
        JournalRecord {
            seq,
            event: EngineEvent::OrderPlaced {
                brain: BrainId(0),
                role: OrderRole::Entry,
                order,
                parent: None,
                bracket: None,
                time: t(),
            },
        }
    }

    #[test]
    fn an_entry_under_a_raised_block_is_found_and_one_after_it_lowers_is_not() {
        let journal = [
            entry(1),
            block(2, EntryBlock::FillRouting, true),
            entry(3),
            block(4, EntryBlock::FillRouting, false),
            entry(5),
        ];
        let found = no_entry_while_degraded(&journal, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("record 3") && found[0].1.contains("fill_routing_down"));
    }

    #[test]
    fn a_restart_ends_observed_blocks_but_not_decisions() {
        let journal = [
            block(1, EntryBlock::MarketData, true),
            block(2, EntryBlock::Drift, true),
            entry(3),
        ];
        // Killed after record 2: the market-data block ends with the life, the drift does not.
        let found = no_entry_while_degraded(&journal, &[2]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].1.contains("drift_unacknowledged"), "{found:?}");
        assert!(!found[0].1.contains("market_data_silent"), "{found:?}");
        let unblocked = [block(1, EntryBlock::MarketData, true), entry(2)];
        assert!(no_entry_while_degraded(&unblocked, &[1]).is_empty());
    }
}
