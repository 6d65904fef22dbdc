//! Market data: [`Candle`], [`Quote`], [`Trade`] and the [`MarketEvent`] that carries any of
//! them with its symbol and venue.
//!
//! Every type here is `Copy`: an event is cloned to each brain and bus subscriber without a heap
//! allocation. Constructors validate; deserialisation goes through the same checks.

use crate::{Price, Quantity, Side, Symbol, Timestamp, ValueError, Venue};

/// One OHLCV bar. Invariants: all values finite, `low <= min(open, close)`,
/// `high >= max(open, close)`, `volume >= 0`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawCandle", into = "RawCandle")]
pub struct Candle {
    open_time: Timestamp,
    open: Price,
    high: Price,
    low: Price,
    close: Price,
    volume: Quantity,
}

impl Candle {
    /// Validates and builds a bar; the error names the field and the values involved. Inlined,
    /// with the errors built out of line: every loaded row builds a candle.
    ///
    /// ```
    /// use rustrade_core::{Candle, Timestamp};
    /// let c = Candle::new(Timestamp::EPOCH, 10.0, 12.0, 9.5, 11.0, 100.0)?;
    /// assert_eq!(c.close().get(), 11.0);
    /// assert!(Candle::new(Timestamp::EPOCH, 10.0, 9.0, 9.5, 11.0, 1.0).is_err());
    /// # Ok::<(), rustrade_core::ValueError>(())
    /// ```
    #[inline]
    pub fn new(
        open_time: Timestamp,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
        volume: f64,
    ) -> Result<Self, ValueError> {
        let open = Price::named("open", open)?;
        let high = Price::named("high", high)?;
        let low = Price::named("low", low)?;
        let close = Price::named("close", close)?;
        let volume = Quantity::named("volume", volume)?;
        if high < open.max(close) {
            return Err(outside_body("high", high, open, close));
        }
        if low > open.min(close) {
            return Err(outside_body("low", low, open, close));
        }
        Ok(Self {
            open_time,
            open,
            high,
            low,
            close,
            volume,
        })
    }

    /// Start of the bar's interval.
    #[inline]
    pub fn open_time(&self) -> Timestamp {
        self.open_time
    }
    /// Opening price.
    #[inline]
    pub fn open(&self) -> Price {
        self.open
    }
    /// Highest price.
    #[inline]
    pub fn high(&self) -> Price {
        self.high
    }
    /// Lowest price.
    #[inline]
    pub fn low(&self) -> Price {
        self.low
    }
    /// Closing price.
    #[inline]
    pub fn close(&self) -> Price {
        self.close
    }
    /// Traded volume.
    #[inline]
    pub fn volume(&self) -> Quantity {
        self.volume
    }
}

/// Top of book: best bid and ask with sizes. Invariant: `ask >= bid`, sizes `>= 0`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawQuote", into = "RawQuote")]
pub struct Quote {
    bid: Price,
    ask: Price,
    bid_size: Quantity,
    ask_size: Quantity,
}

impl Quote {
    /// Validates and builds a quote.
    pub fn new(bid: f64, ask: f64, bid_size: f64, ask_size: f64) -> Result<Self, ValueError> {
        let bid = Price::named("bid", bid)?;
        let ask = Price::named("ask", ask)?;
        let bid_size = Quantity::named("bid_size", bid_size)?;
        let ask_size = Quantity::named("ask_size", ask_size)?;
        if ask < bid {
            return Err(ValueError::Inconsistent {
                field: "ask",
                reason: format!("ask {ask} is below bid {bid}"),
            });
        }
        Ok(Self {
            bid,
            ask,
            bid_size,
            ask_size,
        })
    }

    /// Best bid.
    #[inline]
    pub fn bid(&self) -> Price {
        self.bid
    }
    /// Best ask.
    #[inline]
    pub fn ask(&self) -> Price {
        self.ask
    }
    /// Size at the best bid.
    #[inline]
    pub fn bid_size(&self) -> Quantity {
        self.bid_size
    }
    /// Size at the best ask.
    #[inline]
    pub fn ask_size(&self) -> Quantity {
        self.ask_size
    }
    /// Mid price.
    #[inline]
    pub fn mid(&self) -> Price {
        Price::new((self.bid.get() + self.ask.get()) / 2.0).unwrap_or(self.bid)
    }
}

/// One public trade (a print on the tape).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Trade {
    /// Execution price.
    pub price: Price,
    /// Executed quantity.
    pub quantity: Quantity,
    /// Side of the aggressor (taker).
    pub aggressor: Side,
}

/// The payload of a [`MarketEvent`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MarketData {
    /// A completed bar.
    Candle(Candle),
    /// A top-of-book update.
    Quote(Quote),
    /// A public trade.
    Trade(Trade),
}

/// A market data event for one symbol on one venue. `Copy`, so fanning it out never allocates.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MarketEvent {
    /// Where it came from.
    pub venue: Venue,
    /// Which instrument.
    pub symbol: Symbol,
    /// When the event happened: for a candle, when the bar closed (or its open time if the
    /// interval is unknown); for quotes and trades, the venue's event time.
    pub time: Timestamp,
    /// The payload.
    pub data: MarketData,
}

impl MarketEvent {
    /// An event carrying a candle.
    #[inline]
    pub fn candle(venue: Venue, symbol: Symbol, time: Timestamp, candle: Candle) -> Self {
        Self {
            venue,
            symbol,
            time,
            data: MarketData::Candle(candle),
        }
    }

    /// The price a decision on this event refers to: a candle's close, a quote's mid, a trade's
    /// price.
    #[inline]
    pub fn reference_price(&self) -> Price {
        match &self.data {
            MarketData::Candle(c) => c.close(),
            MarketData::Quote(q) => quote_mid(q),
            MarketData::Trade(t) => t.price,
        }
    }

    /// The candle, if this event carries one.
    #[inline]
    pub fn as_candle(&self) -> Option<&Candle> {
        match &self.data {
            MarketData::Candle(c) => Some(c),
            _ => None,
        }
    }
}

/// A high below the body (`field` `"high"`) or a low above it (`"low"`), built out of line.
#[cold]
#[inline(never)]
fn outside_body(field: &'static str, value: Price, open: Price, close: Price) -> ValueError {
    let reason = if field == "high" {
        format!("high {value} is below max(open {open}, close {close})")
    } else {
        format!("low {value} is above min(open {open}, close {close})")
    };
    ValueError::Inconsistent { field, reason }
}

/// A quote's mid for [`MarketEvent::reference_price`], out of line: inlined, the compiler
/// computes it (an addition, a multiplication, a finiteness check) for every candle too, and
/// throws it away.
#[inline(never)]
fn quote_mid(q: &Quote) -> Price {
    q.mid()
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RawCandle {
    open_time: Timestamp,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

impl TryFrom<RawCandle> for Candle {
    type Error = ValueError;
    fn try_from(r: RawCandle) -> Result<Self, Self::Error> {
        Self::new(r.open_time, r.open, r.high, r.low, r.close, r.volume)
    }
}

impl From<Candle> for RawCandle {
    fn from(c: Candle) -> Self {
        Self {
            open_time: c.open_time,
            open: c.open.get(),
            high: c.high.get(),
            low: c.low.get(),
            close: c.close.get(),
            volume: c.volume.get(),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RawQuote {
    bid: f64,
    ask: f64,
    bid_size: f64,
    ask_size: f64,
}

impl TryFrom<RawQuote> for Quote {
    type Error = ValueError;
    fn try_from(r: RawQuote) -> Result<Self, Self::Error> {
        Self::new(r.bid, r.ask, r.bid_size, r.ask_size)
    }
}

impl From<Quote> for RawQuote {
    fn from(q: Quote) -> Self {
        Self {
            bid: q.bid.get(),
            ask: q.ask.get(),
            bid_size: q.bid_size.get(),
            ask_size: q.ask_size.get(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Timestamp {
        Timestamp::from_secs(1_700_000_000).unwrap()
    }

    #[test]
    fn candle_validation_names_the_field() {
        let e = Candle::new(t0(), f64::NAN, 1.0, 1.0, 1.0, 1.0).unwrap_err();
        assert!(e.to_string().starts_with("open: must be finite"), "{e}");
        let e = Candle::new(t0(), 10.0, 10.5, 9.0, 11.0, 1.0).unwrap_err();
        assert!(
            matches!(e, ValueError::Inconsistent { field: "high", .. }),
            "{e}"
        );
        let e = Candle::new(t0(), 10.0, 11.0, 10.5, 10.2, 1.0).unwrap_err();
        assert!(
            matches!(e, ValueError::Inconsistent { field: "low", .. }),
            "{e}"
        );
        let e = Candle::new(t0(), 10.0, 11.0, 9.0, 10.0, -1.0).unwrap_err();
        assert!(e.to_string().starts_with("volume: must be >= 0"), "{e}");
        assert!(
            Candle::new(t0(), 10.0, 10.0, 10.0, 10.0, 0.0).is_ok(),
            "flat bar is valid"
        );
    }

    #[test]
    fn quote_validation() {
        let q = Quote::new(99.0, 101.0, 1.0, 2.0).unwrap();
        assert_eq!(q.mid().get(), 100.0);
        let e = Quote::new(101.0, 99.0, 1.0, 1.0).unwrap_err();
        assert!(e.to_string().contains("ask 99 is below bid 101"), "{e}");
        assert!(Quote::new(1.0, 2.0, -1.0, 1.0).is_err());
        assert!(Quote::new(1.0, f64::INFINITY, 1.0, 1.0).is_err());
    }

    #[test]
    fn reference_price_by_kind() {
        let v = Venue::new("sim").unwrap();
        let s = Symbol::new("BTCUSDT").unwrap();
        let c = Candle::new(t0(), 1.0, 3.0, 0.5, 2.0, 5.0).unwrap();
        let e = MarketEvent::candle(v, s, t0(), c);
        assert_eq!(e.reference_price().get(), 2.0);
        assert!(e.as_candle().is_some());
        let q = MarketEvent {
            data: MarketData::Quote(Quote::new(1.0, 3.0, 1.0, 1.0).unwrap()),
            ..e
        };
        assert_eq!(q.reference_price().get(), 2.0);
        assert!(q.as_candle().is_none());
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let v = Venue::new("sim").unwrap();
        let s = Symbol::new("ETHUSDT").unwrap();
        let c = Candle::new(t0(), 1.0, 3.0, 0.5, 2.0, 5.0).unwrap();
        let events = [
            MarketEvent::candle(v, s, t0(), c),
            MarketEvent {
                venue: v,
                symbol: s,
                time: t0(),
                data: MarketData::Quote(Quote::new(1.0, 1.5, 2.0, 3.0).unwrap()),
            },
            MarketEvent {
                venue: v,
                symbol: s,
                time: t0(),
                data: MarketData::Trade(Trade {
                    price: Price::new(1.2).unwrap(),
                    quantity: Quantity::new(0.5).unwrap(),
                    aggressor: Side::Sell,
                }),
            },
        ];
        for e in events {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(serde_json::from_str::<MarketEvent>(&json).unwrap(), e);
        }
        let bad = r#"{"open_time":0,"open":1,"high":0.5,"low":0.1,"close":1,"volume":1}"#;
        let err = serde_json::from_str::<Candle>(bad).unwrap_err();
        assert!(err.to_string().contains("high"), "{err}");
    }

    #[test]
    fn events_are_small_and_copy() {
        fn assert_copy<T: Copy>() {}
        assert_copy::<MarketEvent>();
        assert!(size_of::<MarketEvent>() <= 128);
    }
}
