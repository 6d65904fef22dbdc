//! [`PaperExchange`]: an [`ExchangeClient`] over a shared [`SimVenue`], so the live bot can
//! paper-trade against live market data with no keys, and [`PaperFills`], its [`FillSource`].
//!
//! # Protocol
//!
//! The facade feeds every live [`MarketEvent`] to [`PaperExchange::on_market`] (or hands a bus
//! receiver to [`PaperExchange::run_feed`]); orders placed through the [`ExchangeClient`] methods
//! go to the same venue. After every call that can change the venue, the reports it queued are
//! moved, in order, into an unbounded channel read by [`PaperFills::next_report`]: nothing is
//! dropped while the fill source lives. Funding payments are logged and booked in the wallet
//! (see [`SimVenue::wallet`]).
//!
//! The wrapped venue keeps its account history ([`SimVenue::record_history`] is turned on), so
//! [`ExchangeClient::order_status`] finds finished orders and [`ExchangeClient::fills_since`]
//! lists past fills. Wrap the venue before it receives its first order: a venue that traded
//! before cannot tell a finished order from one it never received, and says so with an error
//! rather than a false "never received".
//!
//! The venue sits behind a `std::sync::Mutex` held only for the duration of one synchronous venue
//! call, never across an `.await`. A panic inside the venue poisons it; every later call then
//! fails with [`ExchangeError::Closed`].

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use rustrade_core::{
    Asset, Balance, Capability, ClientOrderId, ExchangeClient, ExchangeError, ExecutionReport,
    Fill, FillCursor, FillSource, InstrumentSpec, MarketDataBus, MarketEvent, Money, OpenOrder,
    Order, OrderId, OrderState, Position, RejectReason, Symbol, Venue,
};
use tokio::sync::{broadcast, mpsc};

use crate::{SimConfig, SimError, SimVenue};

/// A paper-trading exchange: the simulated venue behind the [`ExchangeClient`] trait. Cheap to
/// clone; clones share the venue and the report channel.
///
/// ```
/// use rustrade_core::*;
/// use rustrade_sim::{PaperExchange, SimConfig, SimVenue};
///
/// let mut venue = SimVenue::new(SimConfig::default().without(Capability::StopMarket))?;
/// venue.add_instrument(InstrumentSpec::new(Symbol::new("ETHUSDT")?, AssetClass::CryptoSpot, 0.01, 0.001)?)?;
/// let (paper, _fills) = PaperExchange::new(venue);
/// assert!(paper.supports(Capability::LimitOrders));
/// assert!(!paper.supports(Capability::StopMarket));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct PaperExchange {
    venue: Arc<Mutex<SimVenue>>,
    tx: mpsc::UnboundedSender<ExecutionReport>,
    name: Venue,
    quote: Asset,
    capabilities: BTreeSet<Capability>,
    close_seq: Arc<AtomicU64>,
}

impl PaperExchange {
    /// Most fills one [`ExchangeClient::fills_since`] call returns, as a venue's page limit
    /// (Binance's is 1000): a caller asks again from the last fill for the rest.
    pub const FILL_PAGE: usize = 1000;

    /// Wraps `venue`, turning its account history on; returns the exchange and the fill source
    /// that receives its reports.
    pub fn new(venue: SimVenue) -> (Self, PaperFills) {
        Self::shared(Arc::new(Mutex::new(venue)))
    }

    /// Builds the venue from `config` and `instruments`, then wraps it. The error names the
    /// invalid field or the duplicate instrument.
    pub fn from_config(
        config: SimConfig,
        instruments: impl IntoIterator<Item = InstrumentSpec>,
    ) -> Result<(Self, PaperFills), SimError> {
        let mut venue = SimVenue::new(config)?;
        for spec in instruments {
            venue.add_instrument(spec)?;
        }
        Ok(Self::new(venue))
    }

    /// Wraps a venue the caller also holds (to inspect the wallet, for example), and turns its
    /// account history on.
    pub fn shared(venue: Arc<Mutex<SimVenue>>) -> (Self, PaperFills) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (name, quote, capabilities) = {
            let mut v = venue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            v.record_history();
            (
                v.config().venue,
                v.config().quote_asset,
                v.config().capabilities.clone(),
            )
        };
        let exchange = Self {
            venue,
            tx,
            name,
            quote,
            capabilities,
            close_seq: Arc::new(AtomicU64::new(0)),
        };
        // Reports queued before wrapping (for example rejections) are delivered too.
        if let Ok(mut v) = exchange.lock() {
            exchange.forward(&mut v);
        }
        (exchange, PaperFills { rx })
    }

    /// The shared venue.
    pub fn shared_venue(&self) -> Arc<Mutex<SimVenue>> {
        Arc::clone(&self.venue)
    }

    /// Feeds one live market event to the venue and forwards the reports it produced.
    pub fn on_market(&self, event: &MarketEvent) -> Result<(), ExchangeError> {
        let mut v = self.lock()?;
        v.on_market(event);
        while let Some(p) = v.poll_funding() {
            tracing::info!(
                symbol = %p.symbol, rate = p.rate, position = p.position, amount = p.amount,
                "paper: funding booked"
            );
        }
        self.forward(&mut v);
        Ok(())
    }

    /// Feeds every event from a market-data bus receiver until the bus closes (every sender,
    /// including the clone passed as `bus`, is dropped) or the future is dropped, which is how a
    /// supervisor stops it. Lag is recorded on `bus` and logged; the skipped events are gone, so
    /// the venue sees a gap, as a live client would.
    pub async fn run_feed(
        &self,
        mut rx: broadcast::Receiver<MarketEvent>,
        bus: &MarketDataBus,
    ) -> Result<(), ExchangeError> {
        loop {
            match rx.recv().await {
                Ok(event) => self.on_market(&event)?,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    bus.record_lag(n);
                    tracing::warn!(missed = n, "paper: market feed lagged");
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, SimVenue>, ExchangeError> {
        self.venue
            .lock()
            .map_err(|_| ExchangeError::Closed("paper venue poisoned by an earlier panic".into()))
    }

    fn forward(&self, venue: &mut SimVenue) {
        while let Some(report) = venue.poll_report() {
            if self.tx.send(report).is_err() {
                tracing::debug!(
                    ?report,
                    "paper: no fill source listening; report not delivered"
                );
            }
        }
    }
}

#[async_trait::async_trait]
impl ExchangeClient for PaperExchange {
    fn venue(&self) -> Venue {
        self.name
    }

    fn supports(&self, capability: Capability) -> bool {
        self.capabilities.contains(&capability)
    }

    async fn instrument(&self, symbol: &Symbol) -> Result<InstrumentSpec, ExchangeError> {
        self.lock()?
            .instrument(symbol)
            .copied()
            .ok_or_else(|| unknown_symbol(symbol))
    }

    async fn place_order(&self, order: &Order) -> Result<OrderId, ExchangeError> {
        let mut v = self.lock()?;
        let outcome = v.submit(order);
        self.forward(&mut v);
        outcome.map_err(|reason| match reason {
            RejectReason::Unsupported => {
                ExchangeError::Unsupported(format!("{:?} order {}", order.kind, order.client_id))
            }
            other => ExchangeError::Rejected {
                reason: format!("{other:?} (order {})", order.client_id),
            },
        })
    }

    async fn cancel_order(
        &self,
        _symbol: &Symbol,
        client_id: &ClientOrderId,
        order_id: Option<&OrderId>,
    ) -> Result<(), ExchangeError> {
        let mut v = self.lock()?;
        let by_client = v.cancel(client_id).map(|_| ());
        let outcome = match (by_client, order_id) {
            (Ok(()), _) => Ok(()),
            (Err(_), Some(id)) => v.cancel_order_id(id).map(|_| ()),
            (Err(e), None) => Err(e),
        };
        self.forward(&mut v);
        outcome.map_err(|_| ExchangeError::UnknownOrder(client_id.to_string()))
    }

    async fn cancel_all(&self, symbol: &Symbol) -> Result<usize, ExchangeError> {
        let mut v = self.lock()?;
        let outcome = v.cancel_all(symbol);
        self.forward(&mut v);
        outcome.map_err(|_| unknown_symbol(symbol))
    }

    async fn open_orders(&self, symbol: Option<&Symbol>) -> Result<Vec<OpenOrder>, ExchangeError> {
        Ok(self.lock()?.open_orders(symbol))
    }

    async fn position(&self, symbol: &Symbol) -> Result<Position, ExchangeError> {
        let v = self.lock()?;
        if v.instrument(symbol).is_none() {
            return Err(unknown_symbol(symbol));
        }
        Ok(v.position(symbol))
    }

    /// The quote asset's cash as `free` (no margin is locked in the simulation); any other asset
    /// is held at zero, since the wallet books positions, not coin balances.
    async fn balance(&self, asset: &Asset) -> Result<Balance, ExchangeError> {
        let free = if *asset == self.quote {
            Money::named("cash", self.lock()?.cash())?
        } else {
            Money::ZERO
        };
        Ok(Balance {
            asset: *asset,
            free,
            locked: Money::ZERO,
        })
    }

    async fn close_position(&self, symbol: &Symbol) -> Result<Option<OrderId>, ExchangeError> {
        let (position, spec) = {
            let v = self.lock()?;
            let spec = *v.instrument(symbol).ok_or_else(|| unknown_symbol(symbol))?;
            (v.position(symbol), spec)
        };
        let Some(side) = position
            .close_side()
            .filter(|_| !position.is_flat_in(&spec))
        else {
            return Ok(None);
        };
        let n = self.close_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let client_id = ClientOrderId::new(&format!("paper-close-{n}"))?;
        let qty = spec.round_qty(position.abs_quantity());
        let order = Order::market(client_id, *symbol, side, qty).reduce_only();
        self.place_order(&order).await.map(Some)
    }

    /// The order from the venue's history, working or finished. `Ok(None)` only when the history
    /// is complete (the venue was wrapped before its first order); otherwise an unknown id may be
    /// an order that finished before the history began, and the answer is an `Unsupported` error.
    async fn order_status(
        &self,
        symbol: &Symbol,
        client_id: &ClientOrderId,
    ) -> Result<Option<OrderState>, ExchangeError> {
        let v = self.lock()?;
        if v.instrument(symbol).is_none() {
            return Err(unknown_symbol(symbol));
        }
        match v.order_state(client_id) {
            Some(state) if state.order.symbol == *symbol => Ok(Some(state)),
            _ if v.history_is_complete() => Ok(None),
            _ => Err(ExchangeError::Unsupported(format!(
                "order status of {client_id}: the paper venue received orders before its history \
                 was recorded, so an unknown client id may be a finished order"
            ))),
        }
    }

    /// Up to [`PaperExchange::FILL_PAGE`] fills from the venue's history (see
    /// [`SimVenue::fills_after`] for the cursor rule). A cursor reaching back before an
    /// incomplete history began is answered with an `Unsupported` error rather than a page
    /// with a gap.
    async fn fills_since(
        &self,
        symbol: &Symbol,
        cursor: &FillCursor,
    ) -> Result<Vec<Fill>, ExchangeError> {
        let v = self.lock()?;
        if v.instrument(symbol).is_none() {
            return Err(unknown_symbol(symbol));
        }
        if !v.history_covers(symbol, cursor) {
            return Err(ExchangeError::Unsupported(format!(
                "fills of {symbol} since {}: the paper venue's history began later",
                cursor.since
            )));
        }
        Ok(v.fills_after(symbol, cursor)
            .take(Self::FILL_PAGE)
            .copied()
            .collect())
    }

    /// Every registered symbol whose position is not flat within half a lot.
    async fn positions(&self) -> Result<Vec<(Symbol, Position)>, ExchangeError> {
        Ok(self.lock()?.positions().collect())
    }
}

/// The execution reports of a [`PaperExchange`], in the order the venue produced them.
#[derive(Debug)]
pub struct PaperFills {
    rx: mpsc::UnboundedReceiver<ExecutionReport>,
}

impl PaperFills {
    /// The next report if one is queued, without waiting. A driver that applies the venue's
    /// reports in the same step as the call that produced them (as a backtest does) drains them
    /// with this after every venue call.
    pub fn try_next_report(&mut self) -> Option<ExecutionReport> {
        self.rx.try_recv().ok()
    }
}

#[async_trait::async_trait]
impl FillSource for PaperFills {
    fn name(&self) -> &str {
        "paper"
    }

    async fn connect(&mut self) -> Result<(), ExchangeError> {
        Ok(())
    }

    /// The next report; `Ok(None)` once every [`PaperExchange`] clone is gone and the queue is
    /// drained.
    async fn next_report(&mut self) -> Result<Option<ExecutionReport>, ExchangeError> {
        Ok(self.rx.recv().await)
    }
}

fn unknown_symbol(symbol: &Symbol) -> ExchangeError {
    ExchangeError::Rejected {
        reason: format!("unknown symbol {symbol} at the paper venue"),
    }
}
