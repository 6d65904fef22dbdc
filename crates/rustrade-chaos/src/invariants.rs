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
//! | `pnl` | after restart, at the end | the bot's money agrees with the venue's fills ([`CashFlow`]): flat, realised PnL and the session's net PnL equal the fills' cash less fees; at the end, from the stored ledger, `realised − Q · avg_entry − open_fees` equals it whatever the position and the fees paid equal the fills' fees. Skipped on a symbol someone traded by hand. Which round trips the fills formed (and so the win/loss split) depends on the order they were applied in; `breaker` compares those |
//! | `protected` | after restart, at the end | every open position has a working reduce-only stop at the venue, or a close or leg the bot is still waiting to hear about, or a close the venue refused that the bot sends again with backoff |
//! | `breaker` | bot down, after restart, at the end | the round trips the venue's records of the bot's fills form, in the order and at the times the journal applied them ([`round_trips`](crate::round_trips)), give the session's wins, losses, fees and net, the loss breaker's losses since its last trip and whether it is tripped (and then entries are halted). After a restart the fills the journal (read at the last death) lacks count as applied by the catch-up at the restart's time, compared only when their order cannot matter. Skipped on a symbol someone traded by hand and after the first simulated day |
//! | `fill-applied` | at the end | every fill the venue made for the bot was applied |
//! | `no-entry-while-degraded` | at the end | no entry order was placed while an entry block (operator pause, unacknowledged drift, fill routing down, market data silent, store unwritable) the journal raised in the same bot life was still up |

use std::collections::{BTreeMap, BTreeSet};

use rustrade_core::{Fill, FillId, OrderKind, Symbol, Timestamp};
use rustrade_engine::{Engine, EngineEvent, EntryBlock, JournalRecord, OrderRole};
use rustrade_risk::BreakerConfig;

use crate::bot::{BotStatus, SymbolStatus};
use crate::ledger::CashFlow;
use crate::market::START;
use crate::round_trips::{BreakerState, RoundTrips};
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

/// `breaker`: the session's round trips and the loss breaker's state in `status`, read at
/// venue time `now`, against the round trips the venue's records of the bot's fills form in
/// the order and at the times its journal (`stored`) applied them, under the bot's `breaker`
/// limits ([`round_trips`](crate::round_trips)).
///
/// On the state file (`caught_up` false, `status` from the engine restored from it) every
/// applied fill is in the journal: exact on any history. After a restart (`caught_up` true,
/// `status` from the running bot, `stored` as read at the last death), the venue's fills the
/// journal lacks were applied by the start-up's catch-up, each at its venue time (as the bot
/// applies every fill), in an order the kit does not know: the symbol is compared when every
/// order gives the same trips at the same times (see
/// [`catch_up_order_free`]) and its position agrees with the venue's (else `position` says
/// so). Skipped on a symbol someone traded by hand and after the first simulated day.
pub fn breaker(
    venue: &ChaosVenue,
    stored: &StoredState,
    status: &BotStatus,
    breaker: &BreakerConfig,
    now: Timestamp,
    caught_up: bool,
) -> Vec<Finding> {
    if !within_first_day(breaker, now) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for s in &status.symbols {
        let differs = (venue.position_qty(&s.symbol) - s.quantity).abs() >= LOT / 2.0;
        if venue.manual_symbols().contains(&s.symbol) || (caught_up && differs) {
            continue;
        }
        let applied: Vec<(FillId, Timestamp)> = stored
            .records
            .iter()
            .filter_map(|r| match &r.event {
                EngineEvent::FillApplied { fill, time, .. } if fill.symbol == s.symbol => {
                    Some((fill.fill_id, *time))
                }
                _ => None,
            })
            .collect();
        out.extend(breaker_of(
            s,
            &bot_fills(venue, &s.symbol),
            &applied,
            caught_up,
            breaker,
            now,
        ));
    }
    out
}

/// `breaker` on one symbol: `s` as reported at `now` against the venue's fills `made` of it,
/// applied in the order and at the times of `applied` (fill ids from the journal), and, with
/// `catch_up`, the rest of `made` applied after them, each at its venue time (as the bot
/// applies every fill). `None` when it agrees or cannot be compared (a journal fill the venue
/// did not make, which `fill-exists` names, or a catch-up whose order matters).
pub fn breaker_of(
    s: &SymbolStatus,
    made: &[Fill],
    applied: &[(FillId, Timestamp)],
    catch_up: bool,
    breaker: &BreakerConfig,
    now: Timestamp,
) -> Option<Finding> {
    let by_id: BTreeMap<FillId, &Fill> = made.iter().map(|f| (f.fill_id, f)).collect();
    let mut fills = applied
        .iter()
        .map(|(id, time)| by_id.get(id).map(|f| (*f, *time)))
        .collect::<Option<Vec<_>>>()?;
    if catch_up {
        let seen: BTreeSet<FillId> = applied.iter().map(|(id, _)| *id).collect();
        let rest: Vec<&Fill> = made.iter().filter(|f| !seen.contains(&f.fill_id)).collect();
        let start: f64 = fills
            .iter()
            .map(|(f, _)| f.side.sign() * f.quantity.get())
            .sum();
        if !catch_up_order_free(start, &rest) {
            return None;
        }
        fills.extend(rest.into_iter().map(|f| (f, f.time)));
    }
    let trips = RoundTrips::applied(fills, LOT, 1.0);
    let want = BreakerState::of(&trips.closed, breaker.loss_limit, breaker.cooldown);
    let mut found = breaker_differs(s, &trips, &want, want.tripped(breaker.cooldown, now))?;
    let from = if catch_up {
        "the journal and the catch-up"
    } else {
        "the journal"
    };
    found.1 = format!("{} (order from {from}, at {now:?})", found.1);
    Some(found)
}

/// Whether `fills`, applied in any order from position `start`, close the same trips at the
/// same times: all on one side without going past flat (and of one time if they reach flat),
/// or one opening and one closing fill of one size and one time from flat.
pub fn catch_up_order_free(start: f64, fills: &[&Fill]) -> bool {
    let signed: Vec<f64> = fills
        .iter()
        .map(|f| f.side.sign() * f.quantity.get())
        .collect();
    let Some(&first) = signed.first() else {
        return true;
    };
    let flat = |q: f64| q.abs() < LOT / 2.0;
    let one_time = fills.iter().all(|f| f.time == fills[0].time);
    if signed.iter().all(|q| q.signum() == first.signum()) {
        let end = start + signed.iter().sum::<f64>();
        if flat(start) {
            return true;
        }
        return (flat(end) && one_time) || (!flat(end) && end.signum() == start.signum());
    }
    flat(start) && signed.len() == 2 && flat(signed[0] + signed[1]) && one_time
}

/// Whether `now` is still in the first simulated day and the breaker's window: the session
/// and the window then hold every round trip of the run.
fn within_first_day(breaker: &BreakerConfig, now: Timestamp) -> bool {
    let day = std::time::Duration::from_secs(86_400).min(breaker.window);
    now.duration_since(START).is_some_and(|age| age < day)
}

/// What in `s` differs from `want`, the state `trips` imply (`tripped`: whether the breaker
/// blocks entries now). With trips too close to breakeven to classify, the counts may take
/// either side; with those or an [`unsettled`](BreakerState::unsettled) breaker, the
/// breaker's losses and trip are not compared.
fn breaker_differs(
    s: &SymbolStatus,
    trips: &RoundTrips,
    want: &BreakerState,
    tripped: bool,
) -> Option<Finding> {
    let mut wrong = Vec::new();
    let range = |sure: u32| sure..=sure + want.undecided;
    if !range(want.wins).contains(&s.session_wins) {
        wrong.push(format!(
            "wins {} (fills give {})",
            s.session_wins, want.wins
        ));
    }
    if !range(want.losses).contains(&s.session_losses) {
        wrong.push(format!(
            "losses {} (fills give {})",
            s.session_losses, want.losses
        ));
    }
    if !close(s.session_fees, want.fees) {
        wrong.push(format!(
            "fees {} (fills give {})",
            s.session_fees, want.fees
        ));
    }
    if !close(s.session_net, want.net) {
        wrong.push(format!("net {} (fills give {})", s.session_net, want.net));
    }
    if want.undecided == 0 && !want.unsettled {
        if s.breaker_losses != want.recent_losses as usize {
            wrong.push(format!(
                "breaker losses {} (fills give {} since trip {})",
                s.breaker_losses, want.recent_losses, want.trips
            ));
        }
        if s.breaker_tripped != tripped {
            wrong.push(format!(
                "breaker tripped {} (fills give {tripped}: {} trips, the last applied at {:?})",
                s.breaker_tripped, want.trips, want.last_trip
            ));
        } else if tripped && !s.entries_halted {
            wrong.push("entries not halted under a tripped breaker".into());
        }
    }
    (!wrong.is_empty()).then(|| {
        (
            "breaker",
            format!(
                "{}: {} ({} closed round trips, {} open fills)",
                s.symbol,
                wrong.join("; "),
                trips.closed.len(),
                trips.open_fills
            ),
        )
    })
}

/// The status a stopped engine would print at `now`, for the end-of-run checks.
pub fn status_of(engine: &Engine, symbols: &[Symbol], now: Timestamp) -> BotStatus {
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
                    session_wins: r.map_or(0, |r| r.session_pnl.wins()),
                    session_losses: r.map_or(0, |r| r.session_pnl.losses()),
                    session_fees: r.map_or(0.0, |r| r.session_pnl.fees()),
                    breaker_losses: r.map_or(0, |r| r.circuit_breaker.recent_losses()),
                    breaker_tripped: r.is_some_and(|r| r.circuit_breaker.is_tripped(now)),
                    entries_halted: engine.is_halted(s, now),
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
    use rustrade_risk::BreakerConfig;

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

    fn venue_fill(n: u32, side: Side, price: f64, secs: i64) -> Fill {
        Fill {
            fill_id: FillId::new(&format!("f{n}")).unwrap(),
            order_id: rustrade_core::OrderId::new(&format!("o{n}")).unwrap(),
            client_id: Some(ClientOrderId::new(&format!("chaos-0-{n}")).unwrap()),
            symbol: Symbol::new("AAAUSDT").unwrap(),
            side,
            price: rustrade_core::Price::new(price).unwrap(),
            quantity: Quantity::new(1.0).unwrap(),
            fee: rustrade_core::Money::new(0.05).unwrap(),
            fee_asset: rustrade_core::Asset::new("USDT").unwrap(),
            liquidity: rustrade_core::Liquidity::Taker,
            time: Timestamp::from_secs(1_000 + secs).unwrap(),
        }
    }

    fn secs(n: i64) -> Timestamp {
        Timestamp::from_secs(1_000 + n).unwrap()
    }

    /// Three round trips in the venue's order: a loss, a win, a loss; the second loss trips a
    /// two-loss breaker for 5 s.
    fn history() -> (Vec<Fill>, BreakerConfig) {
        let fills = vec![
            venue_fill(1, Side::Buy, 100.0, 0),
            venue_fill(2, Side::Sell, 99.0, 1),
            venue_fill(3, Side::Sell, 100.0, 2),
            venue_fill(4, Side::Buy, 98.0, 3),
            venue_fill(5, Side::Buy, 100.0, 4),
            venue_fill(6, Side::Sell, 99.5, 5),
        ];
        let config = BreakerConfig {
            loss_limit: 2,
            window: std::time::Duration::from_secs(86_400),
            cooldown: std::time::Duration::from_secs(5),
            extend_on_loss: false,
        };
        (fills, config)
    }

    /// The journal's record of `fills` applied in this order at their venue times.
    fn journal(fills: &[Fill]) -> Vec<(FillId, Timestamp)> {
        fills.iter().map(|f| (f.fill_id, f.time)).collect()
    }

    fn reported() -> SymbolStatus {
        SymbolStatus {
            symbol: Symbol::new("AAAUSDT").unwrap(),
            quantity: 0.0,
            realised_pnl: 0.2,
            session_net: -1.1 + 1.9 - 0.6,
            session_wins: 1,
            session_losses: 2,
            session_fees: 0.3,
            breaker_losses: 0,
            breaker_tripped: true,
            entries_halted: true,
            awaiting_answer: false,
        }
    }

    #[test]
    fn a_known_breaker_history_passes_and_wrong_reports_are_flagged() {
        let (fills, config) = history();
        let applied = journal(&fills);
        let check = |s: &SymbolStatus, now| breaker_of(s, &fills, &applied, false, &config, now);
        assert_eq!(check(&reported(), secs(6)), None);
        let wrong = [
            SymbolStatus {
                breaker_losses: 2,
                ..reported()
            },
            SymbolStatus {
                breaker_tripped: false,
                ..reported()
            },
            SymbolStatus {
                entries_halted: false,
                ..reported()
            },
            SymbolStatus {
                session_losses: 1,
                ..reported()
            },
            SymbolStatus {
                session_fees: 0.35,
                ..reported()
            },
        ];
        for status in &wrong {
            let found = check(status, secs(6));
            assert!(
                found.as_ref().is_some_and(|(name, _)| *name == "breaker"),
                "{status:?}: {found:?}"
            );
        }
        // Once the cooldown from the tripping loss (applied at 1 005 s) is over.
        let over = SymbolStatus {
            breaker_tripped: false,
            entries_halted: false,
            ..reported()
        };
        assert_eq!(check(&over, secs(10)), None);
        assert!(check(&reported(), secs(10)).is_some());
    }

    #[test]
    fn the_journal_order_decides_the_trips() {
        let (fills, config) = history();
        // Applied as B100 B98 S99 S100, then B100 S99.5: one winning trip of two lots and a
        // loss, so one loss and no trip, where the venue's order gives two losses and a trip.
        let order = [0, 3, 1, 2, 4, 5];
        let applied: Vec<_> = order
            .iter()
            .map(|&i| (fills[i].fill_id, fills[i].time))
            .collect();
        let status = SymbolStatus {
            session_wins: 1,
            session_losses: 1,
            breaker_losses: 1,
            breaker_tripped: false,
            entries_halted: false,
            ..reported()
        };
        assert_eq!(
            breaker_of(&status, &fills, &applied, false, &config, secs(6)),
            None
        );
        let found = breaker_of(&reported(), &fills, &applied, false, &config, secs(6));
        assert!(
            found
                .as_ref()
                .is_some_and(|(_, d)| d.contains("losses 2 (fills give 1)")),
            "{found:?}"
        );
    }

    #[test]
    fn fills_caught_up_at_a_restart_count_at_their_time_when_their_order_cannot_matter() {
        let (mut fills, config) = history();
        let applied = journal(&fills[..5]);
        // The tripping loss closed at 1 005 s while the bot was down and was caught up at the
        // restart: the trip runs from the venue's time of the fill, until 1 010 s.
        let check =
            |fills: &[Fill], now| breaker_of(&reported(), fills, &applied, true, &config, now);
        assert_eq!(check(&fills, secs(6)), None);
        assert_eq!(check(&fills, secs(9)), None);
        assert!(check(&fills, secs(10)).is_some());
        // An exit and a new entry both caught up: their order decides the trips; not compared.
        fills.push(venue_fill(7, Side::Buy, 99.0, 6));
        assert!(!catch_up_order_free(1.0, &[&fills[5], &fills[6]]));
        assert_eq!(check(&fills, secs(10)), None);
        assert!(catch_up_order_free(1.0, &[&fills[5]]));
        // A whole trip caught up: the same trip either way, closed at one time only if both
        // fills have it.
        assert!(!catch_up_order_free(0.0, &[&fills[4], &fills[5]]));
        let same_bar = venue_fill(8, Side::Sell, 99.5, 4);
        assert!(catch_up_order_free(0.0, &[&fills[4], &same_bar]));
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
