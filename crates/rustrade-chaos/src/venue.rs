//! [`ChaosVenue`]: the simulated venue the bot trades against, with its faults and its records.
//!
//! It wraps [`SimVenue`] with its account history on from the first order, so it has a real
//! venue's memory: order status by client id for every order it received, open or finished;
//! fills after a cursor; positions; and client-id deduplication within a window (the last
//! [`ENDED_ID_RETENTION`](rustrade_sim::ENDED_ID_RETENTION) ended orders, as venues do it), so a
//! client that resends an old id long after is *not* protected and the harness sees a second
//! order.
//!
//! # Records
//!
//! Independently of what it answers, the venue records every order it created per client id
//! ([`ChaosVenue::orders_by_client`]) and keeps every fill in its history
//! ([`ChaosVenue::all_fills`]): the invariants are computed from these, never from the bot.
//!
//! # Faults
//!
//! Drawn from the seeded generator with the [`Profile`]'s probabilities; each one injected is
//! counted by kind ([`ChaosVenue::faults`]). Placement faults apply to the bot's orders only.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustrade_core::{
    AssetClass, ClientOrderId, ExecutionReport, Fill, FillCursor, InstrumentSpec, MarketEvent,
    OpenOrder, Order, OrderId, OrderState, Quantity, Side, Symbol, Timestamp, Venue,
};
use rustrade_sim::{FeeModel, SimConfig, SimVenue};
use tokio::sync::mpsc;

use crate::adapter::Adapter;
use crate::market::{START, SeededMarket};
use crate::wire::{Answer, Reply, Request, WireError};
use crate::{ChaosError, Profile};

/// Most fills one `fills_since` page holds: small, so catch-up pages.
pub const FILL_PAGE: usize = 20;

/// A shared, lockable [`ChaosVenue`] (held only for one synchronous call at a time).
pub type SharedVenue = Arc<Mutex<ChaosVenue>>;

/// The venue of a chaos run: simulated matching, faults and records.
#[derive(Debug)]
pub struct ChaosVenue {
    sim: SimVenue,
    market: SeededMarket,
    rng: fastrand::Rng,
    profile: Profile,
    bot_prefix: String,
    symbols: Vec<Symbol>,
    orders_by_client: BTreeMap<ClientOrderId, Vec<OrderId>>,
    manual_symbols: BTreeSet<Symbol>,
    manual_seq: u64,
    fill_subs: Vec<Subscriber>,
    market_subs: Vec<Subscriber>,
    market_pids: BTreeSet<u32>,
    clock_subs: Vec<mpsc::UnboundedSender<String>>,
    history: Vec<MarketEvent>,
    adapter: Adapter,
    delayed: Vec<(u64, ExecutionReport)>,
    held: Option<ExecutionReport>,
    faults: BTreeMap<&'static str, u64>,
    requests: u64,
}

#[derive(Debug)]
struct Subscriber {
    tx: mpsc::UnboundedSender<String>,
    muted: bool,
}

impl ChaosVenue {
    /// A venue listing `symbols` (perpetuals, tick 0.01, lot 0.001, 2 / 5 bp fees), replaying a
    /// market from `seed`, injecting `profile`'s faults into orders whose client id starts with
    /// `bot_prefix`.
    pub fn new(
        seed: u64,
        profile: Profile,
        symbols: &[Symbol],
        bot_prefix: &str,
    ) -> Result<Self, ChaosError> {
        let name = Venue::new("chaos")?;
        let config = SimConfig {
            venue: name,
            seed,
            ..SimConfig::default()
        }
        .with_initial_cash(1_000_000.0)
        .with_fees(FeeModel::rates(0.0002, 0.0005));
        let mut sim = SimVenue::new(config)?.with_history();
        for symbol in symbols {
            sim.add_instrument(InstrumentSpec::new(
                *symbol,
                AssetClass::CryptoPerp,
                0.01,
                0.001,
            )?)?;
        }
        let mut venue = Self {
            sim,
            market: SeededMarket::new(name, symbols, 100.0, 0.3, seed),
            rng: fastrand::Rng::with_seed(seed ^ 0x0066_6175_6c74),
            profile,
            bot_prefix: bot_prefix.to_owned(),
            symbols: symbols.to_vec(),
            orders_by_client: BTreeMap::new(),
            manual_symbols: BTreeSet::new(),
            manual_seq: 0,
            fill_subs: Vec::new(),
            market_subs: Vec::new(),
            market_pids: BTreeSet::new(),
            clock_subs: Vec::new(),
            history: Vec::new(),
            adapter: Adapter::Kit,
            delayed: Vec::new(),
            held: None,
            faults: BTreeMap::new(),
            requests: 0,
        };
        // One bar before anyone trades, so orders have a price to match against.
        venue.advance()?;
        Ok(venue)
    }

    /// The venue as `adapter` names its records: fill ids in [`ChaosVenue::all_fills`] are
    /// those the adapter gives the same fills, so the invariants compare like with like.
    pub fn with_adapter(mut self, adapter: Adapter) -> Self {
        self.adapter = adapter;
        self
    }

    /// Wraps the venue for sharing with the server.
    pub fn shared(self) -> SharedVenue {
        Arc::new(Mutex::new(self))
    }

    /// Venue time: the close of the last bar.
    pub fn now(&self) -> Timestamp {
        self.sim.now().max(START)
    }

    /// Bars replayed so far.
    pub fn bars(&self) -> u64 {
        self.market.steps()
    }

    /// Requests served so far (the harness waits for this to stop moving).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Faults injected so far, by kind.
    pub fn faults(&self) -> &BTreeMap<&'static str, u64> {
        &self.faults
    }

    /// Every venue order created per client id: more than one under an id is a duplicate.
    pub fn orders_by_client(&self) -> &BTreeMap<ClientOrderId, Vec<OrderId>> {
        &self.orders_by_client
    }

    /// Orders the venue created for the bot.
    pub fn bot_orders(&self) -> usize {
        self.orders_by_client
            .iter()
            .filter(|(c, _)| self.is_bot(c))
            .map(|(_, v)| v.len())
            .sum()
    }

    /// Whether `client_id` is one of the bot's.
    pub fn is_bot(&self, client_id: &ClientOrderId) -> bool {
        client_id.as_str().starts_with(&self.bot_prefix)
    }

    /// Symbols someone traded by hand.
    pub fn manual_symbols(&self) -> &BTreeSet<Symbol> {
        &self.manual_symbols
    }

    /// The trading rules of a listed symbol.
    pub fn instrument(&self, symbol: &Symbol) -> Option<InstrumentSpec> {
        self.sim.instrument(symbol).copied()
    }

    /// The listed symbols.
    pub fn symbols(&self) -> &[Symbol] {
        &self.symbols
    }

    /// Every fill the venue made on `symbol`, in order, with the fill ids the bot's adapter
    /// gives them ([`Adapter::fill_id`]).
    pub fn all_fills(&self, symbol: &Symbol) -> Vec<Fill> {
        self.sim
            .fills_after(symbol, &FillCursor::since(Timestamp::MIN))
            .map(|f| Fill {
                fill_id: self.adapter.fill_id(f),
                ..*f
            })
            .collect()
    }

    /// An order the venue received, by client id, open or finished (a record read: no
    /// request is counted and no fault drawn).
    pub fn order_state(&self, client_id: &ClientOrderId) -> Option<OrderState> {
        self.sim.order_state(client_id)
    }

    /// The client id of venue order `order_id` (the bot's or a manual one).
    pub fn client_of(&self, order_id: &OrderId) -> Option<ClientOrderId> {
        self.orders_by_client
            .iter()
            .find(|(_, ids)| ids.contains(order_id))
            .map(|(c, _)| *c)
    }

    /// The bars published so far on `symbol` whose open time is at or after `from`, oldest
    /// first (what a venue's kline history answers).
    pub fn bars_from(&self, symbol: &Symbol, from: Timestamp) -> Vec<MarketEvent> {
        self.history
            .iter()
            .filter(|e| e.symbol == *symbol)
            .filter(|e| e.as_candle().is_some_and(|c| c.open_time() >= from))
            .copied()
            .collect()
    }

    /// Counts one read request of a front that serves it from the records itself, drawing
    /// the read rate-limit fault as [`ChaosVenue::serve`] does: `Err` carries the delay to ask
    /// for.
    pub fn admit_read(&mut self) -> Result<(), u64> {
        self.requests += 1;
        if self.draw(self.profile.rate_limit, "rate limit") {
            return Err(50);
        }
        Ok(())
    }

    /// The venue's position quantity on `symbol`.
    pub fn position_qty(&self, symbol: &Symbol) -> f64 {
        self.sim.position(symbol).quantity
    }

    /// The venue's working orders on `symbol`.
    pub fn open_orders(&self, symbol: &Symbol) -> Vec<OpenOrder> {
        self.sim.open_orders(Some(symbol))
    }

    /// Whether process `pid` has subscribed to the market stream (the bot's services start
    /// only after its catch-up and reconciliation).
    pub fn market_subscribed(&self, pid: u32) -> bool {
        self.market_pids.contains(&pid)
    }

    /// Process `pid` has exited: its id may be reused by a later bot, which must not pass for
    /// subscribed before it is.
    pub fn forget_process(&mut self, pid: u32) {
        self.market_pids.remove(&pid);
    }

    /// Registers a fill-stream subscriber.
    pub fn subscribe_fills(&mut self, tx: mpsc::UnboundedSender<String>) {
        self.fill_subs.push(Subscriber { tx, muted: false });
    }

    /// Registers a clock subscriber: it gets the venue time now and after every bar, never
    /// faulted (simulated time stands in for the wall clock a real bot reads).
    pub fn subscribe_clock(&mut self, tx: mpsc::UnboundedSender<String>) {
        if let Ok(line) = serde_json::to_string(&self.now())
            && tx.send(line).is_ok()
        {
            self.clock_subs.push(tx);
        }
    }

    /// Registers a market-stream subscriber of process `pid`.
    pub fn subscribe_market(&mut self, pid: u32, tx: mpsc::UnboundedSender<String>) {
        self.market_pids.insert(pid);
        self.market_subs.push(Subscriber { tx, muted: false });
    }

    /// One bar of simulated time: stream faults of the bar, a manual trade perhaps, the bar of
    /// every symbol matched and published, delayed reports released.
    pub fn advance(&mut self) -> Result<(), ChaosError> {
        let p = self.profile;
        if self.draw(p.mute_fills, "mute fill stream") {
            self.fill_subs.iter_mut().for_each(|s| s.muted = true);
        }
        if self.draw(p.close_fills, "close fill stream") {
            self.fill_subs.clear();
        }
        if self.draw(p.mute_market, "mute market stream") {
            self.market_subs.iter_mut().for_each(|s| s.muted = true);
        }
        if self.draw(p.close_market, "close market stream") {
            self.market_subs.clear();
        }
        if self.bars() > 0 && self.draw(p.manual_trade, "manual trade") {
            self.manual_trade()?;
        }
        for bar in self.market.next_bars()? {
            self.sim.on_market(&bar);
            while self.sim.poll_funding().is_some() {}
            self.forward();
            self.publish_market(&bar);
            self.history.push(bar);
        }
        if let Ok(line) = serde_json::to_string(&self.now()) {
            self.clock_subs.retain(|tx| tx.send(line.clone()).is_ok());
        }
        let step = self.bars();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.delayed)
            .into_iter()
            .partition(|(at, _)| *at <= step);
        self.delayed = later;
        for (_, report) in due {
            self.publish_report(&report);
        }
        if let Some(held) = self.held.take() {
            self.publish_report(&held);
        }
        Ok(())
    }

    /// Serves one request, faults included: the reply to send, or `None` when the answer is
    /// dropped (the server then closes the connection without one).
    pub fn serve(&mut self, request: Request) -> Option<Reply> {
        self.requests += 1;
        let read_fault = matches!(
            request,
            Request::OrderStatus { .. }
                | Request::FillsSince { .. }
                | Request::OpenOrders { .. }
                | Request::Positions
                | Request::Position { .. }
        );
        if read_fault && self.draw(self.profile.rate_limit, "rate limit") {
            return self.reply(Err(WireError::RateLimited { retry_after_ms: 50 }));
        }
        let result = match request {
            Request::Time => Ok(Answer::Done),
            Request::Instrument { symbol } => self
                .sim
                .instrument(&symbol)
                .map(|s| Answer::Instrument(*s))
                .ok_or_else(|| WireError::UnknownSymbol(symbol.to_string())),
            Request::Place { order } => return self.place(&order),
            Request::Cancel {
                symbol: _,
                client_id,
                order_id,
            } => {
                let by_client = self.sim.cancel(&client_id).is_ok();
                let done =
                    by_client || order_id.is_some_and(|id| self.sim.cancel_order_id(&id).is_ok());
                self.forward();
                if done {
                    Ok(Answer::Done)
                } else {
                    Err(WireError::UnknownOrder(client_id.to_string()))
                }
            }
            Request::CancelAll { symbol } => {
                let n = self.sim.cancel_all(&symbol);
                self.forward();
                n.map(Answer::Count)
                    .map_err(|_| WireError::UnknownSymbol(symbol.to_string()))
            }
            Request::OpenOrders { symbol } => {
                Ok(Answer::Orders(self.sim.open_orders(symbol.as_ref())))
            }
            Request::Position { symbol } => Ok(Answer::Position(self.sim.position(&symbol))),
            Request::Positions => Ok(Answer::Positions(self.sim.positions().collect())),
            Request::Cash => Ok(Answer::Cash(self.sim.cash())),
            Request::OrderStatus { symbol, client_id } => Ok(Answer::Status(
                self.sim
                    .order_state(&client_id)
                    .filter(|s| s.order.symbol == symbol),
            )),
            Request::FillsSince { symbol, cursor } => Ok(Answer::Fills(
                self.sim
                    .fills_after(&symbol, &cursor)
                    .take(FILL_PAGE)
                    .copied()
                    .collect(),
            )),
        };
        self.reply(result)
    }

    fn place(&mut self, order: &Order) -> Option<Reply> {
        let p = self.profile;
        let faulty = self.is_bot(&order.client_id);
        let refusable = faulty && (p.refuse_reduce_only || !order.reduce_only);
        if refusable && self.draw(p.lost_in_transit, "placement lost in transit") {
            return self.reply(Err(WireError::OutcomeUnknown(
                "chaos: gateway error".into(),
            )));
        }
        if refusable && self.draw(p.reject_retryable, "placement rate limited") {
            return self.reply(Err(WireError::RateLimited {
                retry_after_ms: 100,
            }));
        }
        if refusable && self.draw(p.reject_final, "placement rejected") {
            return self.reply(Err(WireError::Rejected(
                "chaos: refused by the venue".into(),
            )));
        }
        let outcome = self.sim.submit(order);
        self.forward();
        let id = match outcome {
            Ok(id) => id,
            Err(reason) => return self.reply(Err(WireError::Rejected(format!("{reason:?}")))),
        };
        let ids = self.orders_by_client.entry(order.client_id).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
        if faulty && self.draw(p.drop_ack, "placement ack dropped") {
            return None;
        }
        if faulty && self.draw(p.accept_then_timeout, "placement accepted then timed out") {
            return self.reply(Err(WireError::Timeout(
                "chaos: accepted, answer late".into(),
            )));
        }
        self.reply(Ok(Answer::Placed(id)))
    }

    fn manual_trade(&mut self) -> Result<(), ChaosError> {
        self.manual_seq += 1;
        let symbol = self.symbols[self.rng.usize(0..self.symbols.len())];
        let side = if self.rng.bool() {
            Side::Buy
        } else {
            Side::Sell
        };
        let client_id = ClientOrderId::new(&format!("manual-{}", self.manual_seq))?;
        let order = Order::market(client_id, symbol, side, Quantity::new(0.5)?);
        if let Ok(id) = self.sim.submit(&order) {
            self.orders_by_client.entry(client_id).or_default().push(id);
            self.manual_symbols.insert(symbol);
        }
        self.forward();
        Ok(())
    }

    fn reply(&self, result: Result<Answer, WireError>) -> Option<Reply> {
        Some(Reply {
            now: self.now(),
            result,
        })
    }

    fn draw(&mut self, probability: f64, fault: &'static str) -> bool {
        let hit = probability > 0.0 && self.rng.f64() < probability;
        if hit {
            *self.faults.entry(fault).or_default() += 1;
        }
        hit
    }

    /// Moves the sim's reports to the fill stream, with the report faults.
    fn forward(&mut self) {
        while let Some(report) = self.sim.poll_report() {
            let p = self.profile;
            if self.draw(p.delay_fill, "report delayed") {
                let at = self.bars() + self.rng.u64(1..=3);
                self.delayed.push((at, report));
                continue;
            }
            if self.draw(p.reorder_fill, "reports reordered") {
                if let Some(previous) = self.held.replace(report) {
                    self.publish_report(&previous);
                }
                continue;
            }
            self.publish_report(&report);
            if self.draw(p.duplicate_fill, "report duplicated") {
                self.publish_report(&report);
            }
            if let Some(held) = self.held.take() {
                self.publish_report(&held);
            }
        }
    }

    fn publish_report(&mut self, report: &ExecutionReport) {
        if let Ok(line) = serde_json::to_string(report) {
            publish(&mut self.fill_subs, &line);
        }
    }

    fn publish_market(&mut self, event: &MarketEvent) {
        if let Ok(line) = serde_json::to_string(event) {
            publish(&mut self.market_subs, &line);
        }
    }
}

/// Locks a shared venue (a panic inside it does not stop the harness from reading it).
pub fn lock(venue: &SharedVenue) -> MutexGuard<'_, ChaosVenue> {
    venue.lock().unwrap_or_else(PoisonError::into_inner)
}

fn publish(subs: &mut Vec<Subscriber>, line: &str) {
    subs.retain(|s| s.muted || s.tx.send(line.to_owned()).is_ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(profile: Profile) -> ChaosVenue {
        let s = [Symbol::new("AAAUSDT").unwrap()];
        ChaosVenue::new(3, profile, &s, "bot").unwrap()
    }

    fn order(id: &str) -> Order {
        Order::market(
            ClientOrderId::new(id).unwrap(),
            Symbol::new("AAAUSDT").unwrap(),
            Side::Buy,
            Quantity::new(1.0).unwrap(),
        )
    }

    #[test]
    fn a_resent_client_id_is_deduplicated_and_fills_are_listed() {
        let mut v = venue(Profile::CALM);
        let first = v.serve(Request::Place {
            order: order("bot-1"),
        });
        let again = v.serve(Request::Place {
            order: order("bot-1"),
        });
        match (first, again) {
            (Some(a), Some(b)) => {
                assert!(matches!(a.result, Ok(Answer::Placed(_))));
                assert_eq!(a.result, b.result);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(v.bot_orders(), 1);
        v.advance().unwrap();
        let sym = Symbol::new("AAAUSDT").unwrap();
        assert_eq!(v.all_fills(&sym).len(), 1);
        assert!((v.position_qty(&sym) - 1.0).abs() < 1e-9);
        let status = v.serve(Request::OrderStatus {
            symbol: sym,
            client_id: ClientOrderId::new("bot-9").unwrap(),
        });
        assert_eq!(status.map(|r| r.result), Some(Ok(Answer::Status(None))));
    }

    #[test]
    fn faults_are_counted() {
        let mut p = Profile::CALM;
        p.drop_ack = 1.0;
        let mut v = venue(p);
        assert_eq!(
            v.serve(Request::Place {
                order: order("bot-1")
            }),
            None
        );
        assert_eq!(v.faults().get("placement ack dropped"), Some(&1));
        assert_eq!(v.bot_orders(), 1, "the dropped answer's order landed");
    }
}
