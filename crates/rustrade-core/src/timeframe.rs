//! [`OnTimeframe`]: runs a brain on bars of a longer interval (1 h) built from the base feed
//! (1 m), closed bars only.

use std::sync::{Arc, Mutex, PoisonError};

use crate::{
    AccountView, Brain, BrainContext, BrainError, BrainHealth, Decision, Fill, MarketData,
    MarketEvent, Order, Position, Resampler, Symbol,
};

/// A brain deciding on longer closed bars built from the base candles it is fed.
///
/// # Why a brain wrapper
///
/// The wrapper is itself a [`Brain`]: every driver (the backtest, a paper bot, a live bot) hands
/// it the base candles it hands any brain, and it answers with the inner brain's decisions. The
/// longer bars are therefore built once, here, from the same closed base candles under every
/// driver, and no driver, engine or configuration of a venue takes part. Sizing, risk gates and
/// fills stay the engine's and the simulated venue's, on the base feed: a decision taken on an
/// hourly bar fills at the next base bar's open (or at the base bar's close with
/// `trade_on_close`), as it would for any brain. A subscription kept by the engine would do the
/// same with more machinery: engine state that every driver must feed and snapshot, for a
/// computation that needs nothing but the candles the brain already receives.
///
/// # When a longer bar reaches the inner brain
///
/// On the base candle that closes it, which [`Resampler`] knows from the base interval given at
/// construction:
///
/// - Normally on the **last base candle of the bucket**: the 00:59 minute of a 1 m feed closes the
///   00:00–01:00 hour, so the hour is decided on at 01:00, when the minute closes, and not one
///   base bar later on the 01:00 minute. A decision on an hourly bar then fills where a brain on
///   a native hourly feed would, and the bar holds nothing that closed after that instant.
/// - When the feed **skipped the bucket's last base candles**, on the first base candle of a later
///   bucket: an hour whose 00:59 minute is missing is delivered when the next minute arrives,
///   holding the minutes it had. That one push may also close the new candle's own bucket (a
///   feed resuming on the last minute of the next hour): the inner brain then sees both bars,
///   oldest first, and the wrapper answers with the newest of its answers that is not a hold
///   (a later hold does not cancel the older bar's decision; a later decision replaces it).
/// - A bucket the feed left **partly filled** (a feed starting mid-hour, missing minutes) is
///   delivered like a full one unless [`OnTimeframe::complete_only`] drops it; a bucket with no
///   base candle at all produces no bar.
///
/// The bucket still being filled never reaches the inner brain. The event it sees carries the
/// longer candle (its open time is the bucket's start) at the bucket's close time, so
/// `event.time` is never after the base candle's close.
///
/// # What the inner brain sees
///
/// - On base candles that close no longer bar the wrapper answers [`Decision::hold`] without
///   calling the inner brain. Quotes and trades are not passed on (the inner brain decides on
///   bars alone); a brain that wants both keeps its own [`Resampler`].
/// - Its context is the driver's (position, equity, cash, open orders) except
///   [`BrainContext::bars`], which counts the longer bars shown to it for that symbol.
/// - [`Brain::on_fill`] and [`Brain::health`] are forwarded unchanged; [`Brain::name`] and
///   [`Brain::owned_symbols`] are the inner brain's.
/// - A base candle the resampler refuses (out of order, repeated, off the base grid) is a
///   [`BrainError::BadInput`] and changes nothing; so is a candle whose event time says it is
///   not one base interval long (a 5 m feed under a wrapper built for 1 m would otherwise be
///   resampled as a 1 m feed with gaps).
///
/// # Cost
///
/// One resampler per symbol, in a `Vec` behind a mutex held only while the candle is pushed
/// (never while the inner brain runs, so a panicking inner brain cannot poison it). The slots of
/// [`Brain::owned_symbols`] are made at construction; a brain that sees every symbol gets a slot
/// the first time a symbol appears. After that a base candle costs a lock, a scan of the slots
/// and an O(1) push, and allocates nothing; the longer event is built on the stack.
///
/// State lives in the wrapper: a bot restarted from its store starts every bucket afresh (the
/// first bar after a restart holds only the base candles seen since), which
/// [`OnTimeframe::complete_only`] keeps from the inner brain.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use rustrade_core::{
///     async_trait, Brain, BrainError, Candle, Decision, MarketEvent, OnTimeframe, Position,
///     Resampler, Symbol, Timestamp, Venue,
/// };
///
/// /// Buys when an hourly bar closes up.
/// struct UpHour;
///
/// #[async_trait]
/// impl Brain for UpHour {
///     fn name(&self) -> &str { "up-hour" }
///     fn on_event(&self, e: &MarketEvent, _p: &Position) -> Result<Decision, BrainError> {
///         let bar = e.as_candle().expect("bars only");
///         assert_eq!(e.time.as_nanos() - bar.open_time().as_nanos(), 3_600_000_000_000);
///         Ok(if bar.close() > bar.open() { Decision::buy(1.0) } else { Decision::hold() })
///     }
/// }
///
/// let minute = Duration::from_secs(60);
/// let hourly = OnTimeframe::new(Arc::new(UpHour), Resampler::new(minute, 60 * minute)?);
/// let (venue, symbol) = (Venue::new("sim")?, Symbol::new("BTCUSDT")?);
/// let mut decisions = Vec::new();
/// for i in 0..120 {
///     let open_time = Timestamp::from_secs(i * 60)?;
///     let price = 100.0 + i as f64;
///     let bar = Candle::new(open_time, price, price + 1.0, price, price + 1.0, 1.0)?;
///     let close_time = Timestamp::from_secs((i + 1) * 60)?;
///     let event = MarketEvent::candle(venue, symbol, close_time, bar);
///     decisions.push(hourly.on_event(&event, &Position::FLAT)?);
/// }
/// let decided: Vec<usize> = (0..120).filter(|&i| !decisions[i].is_hold()).collect();
/// assert_eq!(decided, [59, 119], "on the minutes that close each hour");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct OnTimeframe<B: ?Sized = dyn Brain> {
    template: Resampler,
    /// The template's base interval in nanoseconds.
    base: i64,
    complete_only: bool,
    slots: Mutex<Vec<Slot>>,
    inner: Arc<B>,
}

/// One symbol's resampler and the count of longer bars shown for it.
struct Slot {
    symbol: Symbol,
    resampler: Resampler,
    shown: u64,
}

impl<B: Brain + ?Sized> OnTimeframe<B> {
    /// Runs `inner` on the bars `resampler` builds: its base interval is the feed's, its target
    /// the bars `inner` decides on, its offset their alignment. Each symbol gets a fresh copy.
    pub fn new(inner: Arc<B>, resampler: Resampler) -> Self {
        let slots = inner
            .owned_symbols()
            .unwrap_or_default()
            .into_iter()
            .map(|symbol| Slot {
                symbol,
                resampler: resampler.clone(),
                shown: 0,
            })
            .collect();
        Self {
            base: i64::try_from(resampler.base().as_nanos()).unwrap_or(i64::MAX),
            template: resampler,
            complete_only: false,
            slots: Mutex::new(slots),
            inner,
        }
    }

    /// Shows the inner brain only bars that hold every base candle of their bucket: drops the
    /// partial first bucket of a feed that starts (or a bot that restarts) mid-bucket, and
    /// buckets the feed left gaps in.
    pub fn complete_only(mut self) -> Self {
        self.complete_only = true;
        self
    }

    /// The wrapped brain.
    pub fn inner(&self) -> &Arc<B> {
        &self.inner
    }

    /// The resampler each symbol starts from (base and target interval).
    pub fn resampler(&self) -> &Resampler {
        &self.template
    }

    /// Pushes `candle` into its symbol's resampler; answers the bars closed and how many bars
    /// were shown for the symbol before them.
    fn push(
        &self,
        event: &MarketEvent,
        candle: &crate::Candle,
    ) -> Result<(crate::Closed, u64), BrainError> {
        let length = event.time.as_nanos() - candle.open_time().as_nanos();
        if length != 0 && length != self.base {
            return Err(BrainError::BadInput(format!(
                "{} candle at {:?} is {:?} long; the timeframe's base interval is {:?}",
                event.symbol,
                candle.open_time(),
                std::time::Duration::from_nanos(length.unsigned_abs()),
                self.template.base()
            )));
        }
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let i = match slots.iter().position(|s| s.symbol == event.symbol) {
            Some(i) => i,
            None => {
                slots.push(Slot {
                    symbol: event.symbol,
                    resampler: self.template.clone(),
                    shown: 0,
                });
                slots.len() - 1
            }
        };
        let slot = &mut slots[i];
        let closed = slot.resampler.push(candle)?;
        let before = slot.shown;
        slot.shown += closed.iter().filter(|b| self.shows(b)).count() as u64;
        Ok((closed, before))
    }

    fn shows(&self, bar: &crate::ResampledBar) -> bool {
        !self.complete_only || bar.is_complete()
    }
}

#[async_trait::async_trait]
impl<B: Brain + ?Sized> Brain for OnTimeframe<B> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        self.inner.owned_symbols()
    }

    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.on_event_in(event, &BrainContext::detached(position))
    }

    /// Pushes a base candle; shows the inner brain each longer bar it closes, oldest first, and
    /// answers the newest answer that is not a hold (a hold when no bar closed).
    fn on_event_in(
        &self,
        event: &MarketEvent,
        ctx: &BrainContext<'_>,
    ) -> Result<Decision, BrainError> {
        let MarketData::Candle(candle) = &event.data else {
            return Ok(Decision::hold());
        };
        let (closed, mut shown) = self.push(event, candle)?;
        let mut answer = Ok(Decision::hold());
        for bar in closed.iter().filter(|b| self.shows(b)) {
            shown += 1;
            let longer = MarketEvent::candle(event.venue, event.symbol, bar.close_time, bar.candle);
            let account = Longer { ctx, bars: shown };
            let r = self
                .inner
                .on_event_in(&longer, &BrainContext::new(ctx.position(), &account));
            if !matches!(&r, Ok(d) if d.is_hold()) {
                answer = r;
            }
        }
        answer
    }

    fn on_fill(&self, fill: &Fill) {
        self.inner.on_fill(fill);
    }

    async fn health(&self) -> BrainHealth {
        self.inner.health().await
    }
}

impl<B: ?Sized> std::fmt::Debug for OnTimeframe<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnTimeframe")
            .field("base", &self.template.base())
            .field("target", &self.template.target())
            .field("complete_only", &self.complete_only)
            .finish_non_exhaustive()
    }
}

/// The driver's account with the bar count of the longer bars.
struct Longer<'a, 'b> {
    ctx: &'a BrainContext<'b>,
    bars: u64,
}

impl AccountView for Longer<'_, '_> {
    fn equity(&self) -> Option<f64> {
        self.ctx.equity()
    }
    fn cash(&self) -> Option<f64> {
        self.ctx.cash()
    }
    fn open_order_count(&self) -> usize {
        self.ctx.open_order_count()
    }
    fn for_each_open_order(&self, visit: &mut dyn FnMut(&Order)) {
        self.ctx.for_each_open_order(visit);
    }
    fn bars(&self) -> u64 {
        self.bars
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Candle, Timestamp, Venue};
    use std::time::Duration;

    /// Records every event and bar count it is shown; answers from a script of closes.
    struct Seen {
        events: Mutex<Vec<(MarketEvent, u64, Option<f64>)>>,
        answer: fn(&Candle) -> Result<Decision, BrainError>,
    }

    impl Seen {
        fn new(answer: fn(&Candle) -> Result<Decision, BrainError>) -> Arc<Self> {
            Arc::new(Self {
                events: Mutex::new(Vec::new()),
                answer,
            })
        }
        fn events(&self) -> Vec<(MarketEvent, u64, Option<f64>)> {
            self.events.lock().unwrap().clone()
        }
    }

    #[async_trait::async_trait]
    impl Brain for Seen {
        fn name(&self) -> &str {
            "seen"
        }
        fn owned_symbols(&self) -> Option<Vec<Symbol>> {
            Some(vec![sym("A")])
        }
        fn on_event(&self, _e: &MarketEvent, _p: &Position) -> Result<Decision, BrainError> {
            unreachable!("the wrapper calls on_event_in")
        }
        fn on_event_in(
            &self,
            e: &MarketEvent,
            ctx: &BrainContext<'_>,
        ) -> Result<Decision, BrainError> {
            self.events
                .lock()
                .unwrap()
                .push((*e, ctx.bars(), ctx.equity()));
            (self.answer)(e.as_candle().unwrap())
        }
    }

    struct Rich;

    impl AccountView for Rich {
        fn equity(&self) -> Option<f64> {
            Some(5.0)
        }
        fn cash(&self) -> Option<f64> {
            None
        }
        fn open_order_count(&self) -> usize {
            0
        }
        fn for_each_open_order(&self, _visit: &mut dyn FnMut(&Order)) {}
        fn bars(&self) -> u64 {
            999
        }
    }

    fn sym(s: &str) -> Symbol {
        Symbol::new(s).unwrap()
    }

    fn minute(symbol: &str, m: i64, close: f64) -> MarketEvent {
        let c = Candle::new(
            Timestamp::from_secs(m * 60).unwrap(),
            close,
            close,
            close,
            close,
            1.0,
        )
        .unwrap();
        MarketEvent::candle(
            Venue::new("sim").unwrap(),
            sym(symbol),
            Timestamp::from_secs((m + 1) * 60).unwrap(),
            c,
        )
    }

    fn hourly<B: Brain + ?Sized>(inner: Arc<B>) -> OnTimeframe<B> {
        let m = Duration::from_secs(60);
        OnTimeframe::new(inner, Resampler::new(m, 60 * m).unwrap())
    }

    fn buy_all(_: &Candle) -> Result<Decision, BrainError> {
        Ok(Decision::buy(1.0))
    }

    #[test]
    fn the_inner_brain_sees_each_closed_hour_once_with_its_own_bar_count() {
        let inner = Seen::new(buy_all);
        let w = hourly(inner.clone());
        let ctx = BrainContext::new(&Position::FLAT, &Rich);
        for m in 0..150 {
            let d = w
                .on_event_in(&minute("A", m, m as f64 + 1.0), &ctx)
                .unwrap();
            assert_eq!(!d.is_hold(), m % 60 == 59, "minute {m}");
        }
        let seen = inner.events();
        assert_eq!(seen.len(), 2);
        for (i, (e, bars, equity)) in seen.iter().enumerate() {
            let i = i as i64;
            let c = e.as_candle().unwrap();
            assert_eq!(c.open_time(), Timestamp::from_secs(i * 3600).unwrap());
            assert_eq!(e.time, Timestamp::from_secs((i + 1) * 3600).unwrap());
            assert_eq!(c.close().get(), (i * 60 + 60) as f64);
            assert_eq!(*bars, i as u64 + 1, "bars counts hours, not minutes");
            assert_eq!(
                *equity,
                Some(5.0),
                "the rest of the context is the driver's"
            );
        }
    }

    #[test]
    fn symbols_are_resampled_apart_and_unowned_ones_get_a_slot() {
        let inner = Seen::new(buy_all);
        let w = hourly(inner.clone());
        for m in 0..60 {
            w.on_event(&minute("A", m, 1.0), &Position::FLAT).unwrap();
            if m >= 30 {
                w.on_event(&minute("B", m, 2.0), &Position::FLAT).unwrap();
            }
        }
        let seen = inner.events();
        assert_eq!(seen.len(), 2);
        assert_eq!((seen[0].0.symbol, seen[1].0.symbol), (sym("A"), sym("B")));
        assert_eq!(seen[1].0.as_candle().unwrap().close().get(), 2.0);
    }

    #[test]
    fn complete_only_drops_partial_buckets() {
        let inner = Seen::new(buy_all);
        let w = hourly(inner.clone()).complete_only();
        // Starts mid-hour, then a full hour, then a gap inside the third.
        for m in (30..120).chain(120..150).chain(151..180) {
            w.on_event(&minute("A", m, 1.0), &Position::FLAT).unwrap();
        }
        let seen = inner.events();
        assert_eq!(seen.len(), 1, "only the full second hour");
        assert_eq!(
            seen[0].0.as_candle().unwrap().open_time(),
            Timestamp::from_secs(3600).unwrap()
        );
        assert_eq!(seen[0].1, 1);
    }

    #[test]
    fn two_bars_closed_at_once_are_shown_in_order_and_the_newest_non_hold_wins() {
        fn up_buys(c: &Candle) -> Result<Decision, BrainError> {
            Ok(if c.close().get() > 5.0 {
                Decision::buy(1.0)
            } else {
                Decision::hold()
            })
        }
        let inner = Seen::new(up_buys);
        let w = hourly(inner.clone());
        w.on_event(&minute("A", 10, 9.0), &Position::FLAT).unwrap();
        // Minute 119 closes the unfinished first hour and its own.
        let d = w.on_event(&minute("A", 119, 1.0), &Position::FLAT).unwrap();
        assert_eq!(inner.events().len(), 2);
        assert_eq!(d, Decision::buy(1.0), "the older bar's buy survives a hold");
        let d = w.on_event(&minute("A", 130, 9.0), &Position::FLAT).unwrap();
        assert!(d.is_hold(), "nothing closed");
    }

    #[test]
    fn bad_base_candles_are_refused_and_quotes_are_not_passed_on() {
        let inner = Seen::new(buy_all);
        let w = hourly(inner.clone());
        w.on_event(&minute("A", 5, 1.0), &Position::FLAT).unwrap();
        let e = w
            .on_event(&minute("A", 5, 1.0), &Position::FLAT)
            .unwrap_err();
        assert!(matches!(e, BrainError::BadInput(_)), "{e}");
        let mut five = minute("A", 6, 1.0);
        five.time = Timestamp::from_secs(6 * 60 + 300).unwrap();
        let e = w.on_event(&five, &Position::FLAT).unwrap_err();
        assert!(e.to_string().contains("long"), "{e}");
        let quote = MarketEvent {
            data: MarketData::Quote(crate::Quote::new(1.0, 2.0, 1.0, 1.0).unwrap()),
            ..minute("A", 59, 1.0)
        };
        assert!(w.on_event(&quote, &Position::FLAT).unwrap().is_hold());
        // Minute 59 still closes the hour: the refusals changed nothing.
        w.on_event(&minute("A", 59, 1.0), &Position::FLAT).unwrap();
        assert_eq!(inner.events().len(), 1);
        assert_eq!(inner.events()[0].0.as_candle().unwrap().volume().get(), 2.0);
    }

    #[test]
    fn wraps_a_shared_dyn_brain() {
        let inner: Arc<dyn Brain> = Seen::new(buy_all);
        let w: Arc<dyn Brain> = Arc::new(hourly(inner));
        assert_eq!(w.name(), "seen");
        assert_eq!(w.owned_symbols(), Some(vec![sym("A")]));
    }
}
