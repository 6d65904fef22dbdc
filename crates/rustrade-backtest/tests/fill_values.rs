//! A fill the engine refuses stops a backtest with an error naming the field and the value:
//! data whose prices reach zero or below would otherwise make the venue and the engine disagree.

use std::sync::Arc;

use rustrade_backtest::brains::Periodic;
use rustrade_backtest::{Backtest, BacktestError};
use rustrade_core::{AssetClass, Candle, InstrumentSpec, MarketEvent, Symbol, Timestamp, Venue};
use rustrade_engine::FillField;

fn run(next_open: f64) -> Result<(), BacktestError> {
    let sym = Symbol::new("SPREAD").unwrap();
    let spec = InstrumentSpec::new(sym, AssetClass::Future, 0.01, 1.0).unwrap();
    let venue = Venue::new("sim").unwrap();
    let bar = |i: i64, o: f64, h: f64, l: f64, c: f64| {
        let t = Timestamp::from_secs(1_700_000_000 + i * 60).unwrap();
        MarketEvent::candle(venue, sym, t, Candle::new(t, o, h, l, c, 10.0).unwrap())
    };
    let events = vec![
        bar(0, 10.0, 10.0, 10.0, 10.0),
        bar(1, next_open, 10.0, next_open.min(5.0), 5.0),
        bar(2, 5.0, 5.0, 5.0, 5.0),
    ];
    Backtest::builder()
        .instrument(spec)
        .brain(Arc::new(Periodic::new(10)))
        .build()
        .unwrap()
        .run_events(events)
        .map(|_| ())
}

#[test]
fn a_fill_at_a_zero_or_negative_price_stops_the_run_naming_the_price() {
    for price in [0.0, -2.5] {
        match run(price) {
            Err(BacktestError::InvalidFill { problem, .. }) => {
                assert_eq!((problem.field, problem.value), (FillField::Price, price));
            }
            other => panic!("price {price}: expected an invalid fill, got {other:?}"),
        }
        let text = run(price).unwrap_err().to_string();
        assert!(
            text.contains(&format!("price: must be > 0 and finite (got {price})")),
            "{text}"
        );
    }
    run(7.0).expect("a positive price fills");
}

#[test]
fn nan_prices_cannot_enter_a_backtest() {
    let t = Timestamp::from_secs(1_700_000_000).unwrap();
    let err = Candle::new(t, f64::NAN, 1.0, 1.0, 1.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("open"), "{err}");
}
