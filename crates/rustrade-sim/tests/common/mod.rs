//! Shared helpers for the scenario tests: one symbol, hand-made bars, order builders and report
//! draining.
#![allow(dead_code, unreachable_pub)]

use rustrade_core::{
    AssetClass, Candle, ClientOrderId, ExecutionReport, Fill, InstrumentSpec, MarketData,
    MarketEvent, Order, OrderKind, Price, Quantity, Quote, Side, Symbol, TimeInForce, Timestamp,
    Trade, Venue,
};
use rustrade_sim::{SimConfig, SimVenue};

pub const MINUTE: i64 = 60_000_000_000;

pub fn sym() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

pub fn spec() -> InstrumentSpec {
    InstrumentSpec::new(sym(), AssetClass::CryptoPerp, 0.01, 0.001).unwrap()
}

pub fn venue(config: SimConfig) -> SimVenue {
    let mut v = SimVenue::new(config).unwrap();
    v.add_instrument(spec()).unwrap();
    v
}

/// Bar number `n` (one minute each): opens at `n` minutes, event time at its close.
pub fn bar(n: i64, o: f64, h: f64, l: f64, c: f64) -> MarketEvent {
    bar_v(n, o, h, l, c, 1_000.0)
}

pub fn bar_v(n: i64, o: f64, h: f64, l: f64, c: f64, v: f64) -> MarketEvent {
    let open = Timestamp::from_nanos(n * MINUTE);
    let candle = Candle::new(open, o, h, l, c, v).unwrap();
    MarketEvent::candle(
        Venue::new("sim").unwrap(),
        sym(),
        Timestamp::from_nanos((n + 1) * MINUTE),
        candle,
    )
}

pub fn quote(n: i64, bid: f64, ask: f64) -> MarketEvent {
    MarketEvent {
        venue: Venue::new("sim").unwrap(),
        symbol: sym(),
        time: Timestamp::from_nanos(n * MINUTE),
        data: MarketData::Quote(Quote::new(bid, ask, 5.0, 5.0).unwrap()),
    }
}

pub fn trade(n: i64, price: f64, qty: f64) -> MarketEvent {
    MarketEvent {
        venue: Venue::new("sim").unwrap(),
        symbol: sym(),
        time: Timestamp::from_nanos(n * MINUTE),
        data: MarketData::Trade(Trade {
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            aggressor: Side::Buy,
        }),
    }
}

pub fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).unwrap()
}

pub fn q(x: f64) -> Quantity {
    Quantity::new(x).unwrap()
}

pub fn p(x: f64) -> Price {
    Price::new(x).unwrap()
}

pub fn market(id: &str, side: Side, qty: f64) -> Order {
    Order::market(cid(id), sym(), side, q(qty))
}

pub fn limit(id: &str, side: Side, qty: f64, price: f64) -> Order {
    Order::limit(cid(id), sym(), side, q(qty), p(price))
}

pub fn with_kind(mut o: Order, kind: OrderKind) -> Order {
    o.kind = kind;
    o.time_in_force = kind.time_in_force();
    o
}

pub fn stop(id: &str, side: Side, qty: f64, trigger: f64) -> Order {
    Order {
        kind: OrderKind::StopMarket,
        trigger_price: Some(p(trigger)),
        ..market(id, side, qty)
    }
}

pub fn stop_limit(id: &str, side: Side, qty: f64, trigger: f64, limit_px: f64) -> Order {
    Order {
        kind: OrderKind::StopLimit,
        trigger_price: Some(p(trigger)),
        limit_price: Some(p(limit_px)),
        ..market(id, side, qty)
    }
}

pub fn take_profit(id: &str, side: Side, qty: f64, trigger: f64) -> Order {
    Order {
        kind: OrderKind::TakeProfit,
        trigger_price: Some(p(trigger)),
        ..market(id, side, qty)
    }
}

pub fn trailing(id: &str, side: Side, qty: f64, offset: f64) -> Order {
    Order {
        kind: OrderKind::TrailingStop,
        trailing_offset: Some(p(offset)),
        ..market(id, side, qty)
    }
}

pub fn tif(mut o: Order, t: TimeInForce) -> Order {
    o.time_in_force = t;
    o
}

pub fn drain(v: &mut SimVenue) -> Vec<ExecutionReport> {
    std::iter::from_fn(|| v.poll_report()).collect()
}

pub fn fills(reports: &[ExecutionReport]) -> Vec<Fill> {
    reports
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Fill(f) => Some(*f),
            _ => None,
        })
        .collect()
}

/// The report kinds in order, for asserting life cycles: "accepted", "fill", "cancelled", ...
pub fn kinds(reports: &[ExecutionReport]) -> Vec<&'static str> {
    reports
        .iter()
        .map(|r| match r {
            ExecutionReport::Accepted { .. } => "accepted",
            ExecutionReport::Rejected { .. } => "rejected",
            ExecutionReport::Cancelled { .. } => "cancelled",
            ExecutionReport::Expired { .. } => "expired",
            ExecutionReport::Fill(_) => "fill",
        })
        .collect()
}

/// A venue holding `qty` long bought at 100 (filled on bar 1's open), drained.
pub fn long_venue(config: SimConfig, qty: f64) -> SimVenue {
    let mut v = venue(config);
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("entry", Side::Buy, qty)).unwrap();
    v.on_market(&bar(1, 100.0, 100.5, 99.5, 100.0));
    drain(&mut v);
    assert_eq!(v.position(&sym()).quantity, qty);
    v
}
