//! `SimVenue::on_market` throughput: the hold path (no working orders) and a book of resting
//! orders that never fill, on generated candles.

use divan::{Bencher, black_box};
use rustrade_core::{
    AssetClass, Candle, ClientOrderId, InstrumentSpec, MarketEvent, Order, OrderKind, Price,
    Quantity, Side, Symbol, Timestamp, Venue,
};
use rustrade_sim::{SimConfig, SimVenue};

fn main() {
    divan::main();
}

const BARS: usize = 10_000;

fn candles(sym: Symbol) -> Vec<MarketEvent> {
    let venue = Venue::new("sim").expect("venue");
    let mut rng = fastrand::Rng::with_seed(7);
    let mut price = 100.0_f64;
    (0..BARS)
        .map(|i| {
            let open = price;
            let close = (open * (1.0 + (rng.f64() - 0.5) * 0.01)).max(1.0);
            let high = open.max(close) * (1.0 + rng.f64() * 0.002);
            let low = open.min(close) * (1.0 - rng.f64() * 0.002);
            price = close;
            let t = Timestamp::from_nanos(i as i64 * 60_000_000_000);
            let c = Candle::new(t, open, high, low, close, 1_000.0).expect("candle");
            MarketEvent::candle(venue, sym, t, c)
        })
        .collect()
}

fn venue(sym: Symbol) -> SimVenue {
    let mut v = SimVenue::new(SimConfig::default()).expect("config");
    v.add_instrument(InstrumentSpec::new(sym, AssetClass::CryptoSpot, 0.01, 0.001).expect("spec"))
        .expect("instrument");
    v
}

/// No working orders: the per-candle cost of the venue on a hold brain's run.
#[divan::bench]
fn hold_path(bencher: Bencher) {
    let sym = Symbol::new("BTCUSDT").expect("symbol");
    let events = candles(sym);
    bencher
        .counter(divan::counter::ItemsCount::new(BARS))
        .with_inputs(|| venue(sym))
        .bench_local_values(|mut v| {
            for e in &events {
                v.on_market(black_box(e));
            }
            v
        });
}

/// Resting orders far from the market (a buy limit and a sell stop, never crossed): the cost of
/// checking `n` working orders per candle.
#[divan::bench(args = [2, 8, 32])]
fn resting_orders(bencher: Bencher, n: usize) {
    let sym = Symbol::new("BTCUSDT").expect("symbol");
    let events = candles(sym);
    bencher
        .counter(divan::counter::ItemsCount::new(BARS))
        .with_inputs(|| {
            let mut v = venue(sym);
            v.on_market(&events[0]);
            for i in 0..n {
                let id = ClientOrderId::new(&format!("b-{i}")).expect("id");
                let qty = Quantity::new(1.0).expect("qty");
                let mut o = Order::limit(id, sym, Side::Buy, qty, Price::new(1.0).expect("p"));
                if i % 2 == 1 {
                    o.kind = OrderKind::StopMarket;
                    o.limit_price = None;
                    o.trigger_price = Some(Price::new(0.5).expect("p"));
                    o.side = Side::Sell;
                }
                v.submit(&o).expect("received");
            }
            while v.poll_report().is_some() {}
            v
        })
        .bench_local_values(|mut v| {
            for e in &events[1..] {
                v.on_market(black_box(e));
            }
            v
        });
}
