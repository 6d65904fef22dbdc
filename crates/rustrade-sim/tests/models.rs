//! Fee, funding, leverage, capability and configuration behaviour through the public API.

mod common;

use std::time::Duration;

use common::*;
use rustrade_core::{Capability, ExecutionReport, OrderKind, RejectReason, Side, Timestamp};
use rustrade_sim::{
    ENDED_ID_RETENTION, FeeModel, FundingModel, FundingRate, LatencyModel, SimConfig, SimError,
    SimVenue, SlippageModel,
};

#[test]
fn fixed_fee_per_fill_and_fees_on_both_legs() {
    let fees = FeeModel::rates(0.0, 0.001).with_fixed(0.5);
    let mut v = venue(SimConfig::default().with_fees(fees));
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("in", Side::Buy, 2.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("out", Side::Sell, 2.0)).unwrap();
    v.on_market(&bar(2, 110.0, 110.0, 110.0, 110.0));
    let f = fills(&drain(&mut v));
    assert_eq!(f[0].fee.get(), 200.0 * 0.001 + 0.5);
    assert_eq!(f[1].fee.get(), 220.0 * 0.001 + 0.5);
    let fees_total = 0.7 + 0.72;
    assert!((v.wallet().fees_paid() - fees_total).abs() < 1e-12);
    assert!((v.cash() - (10_000.0 + 20.0 - fees_total)).abs() < 1e-9);
    assert!((v.position(&sym()).realised_pnl - (20.0 - fees_total)).abs() < 1e-9);
    v.on_market(&bar(3, 120.0, 120.0, 120.0, 120.0));
    assert_eq!(
        v.position(&sym()).unrealised_pnl,
        0.0,
        "flat again: nothing unrealised"
    );
}

#[test]
fn an_open_position_keeps_its_entry_fee_open_and_realises_both_legs_on_close() {
    let fees = FeeModel::rates(0.0, 0.001).with_fixed(0.5);
    let mut v = venue(SimConfig::default().with_fees(fees));
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("in", Side::Buy, 2.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    let entry_fee = 200.0 * 0.001 + 0.5;
    let ledger = *v.ledger(&sym()).unwrap();
    assert_eq!(v.position(&sym()).realised_pnl, 0.0, "nothing closed yet");
    assert_eq!((ledger.open_fees, ledger.fees_paid), (entry_fee, entry_fee));
    v.submit(&market("half", Side::Sell, 1.0)).unwrap();
    v.on_market(&bar(2, 110.0, 110.0, 110.0, 110.0));
    let exit_fee = 110.0 * 0.001 + 0.5;
    let realised = v.position(&sym()).realised_pnl;
    assert!(
        (realised - (10.0 - exit_fee - entry_fee / 2.0)).abs() < 1e-12,
        "{realised}"
    );
}

#[test]
fn funding_is_a_cash_flow_not_realised_pnl() {
    let model = FundingModel::Constant {
        rate: 0.001,
        interval: Duration::from_secs(60),
        anchor: Timestamp::EPOCH,
    };
    let mut v = funded_venue(model, Side::Buy);
    let (cash, paid_before) = (v.cash(), v.wallet().funding_paid());
    for n in 2..6 {
        v.on_market(&bar(n, 100.0, 100.0, 100.0, 100.0));
    }
    let paid = v.wallet().funding_paid() - paid_before;
    assert!(paid > 0.0);
    assert!((cash - v.cash() - paid).abs() < 1e-9);
    assert_eq!(v.position(&sym()).realised_pnl, 0.0);
    assert_eq!(v.equity(), v.cash() + 2.0 * 100.0);
}

#[test]
fn maker_rebate_is_a_negative_fee() {
    let mut v = venue(SimConfig::default().with_fees(FeeModel::rates(-0.0001, 0.0005)));
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&limit("b", Side::Buy, 1.0, 99.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 98.0, 99.0));
    let f = fills(&drain(&mut v));
    assert_eq!(f[0].fee.get(), -0.0099);
}

#[test]
fn volume_scaled_slippage_grows_with_size() {
    let slip = SlippageModel::VolumeScaled {
        base_bps: 1.0,
        impact_bps: 100.0,
    };
    let mut v = venue(SimConfig::default().with_slippage(slip));
    v.on_market(&bar_v(0, 100.0, 110.0, 90.0, 100.0, 100.0));
    v.submit(&market("small", Side::Buy, 1.0)).unwrap();
    v.submit(&market("big", Side::Sell, 10.0)).unwrap();
    v.on_market(&bar_v(1, 100.0, 110.0, 90.0, 100.0, 100.0));
    let f = fills(&drain(&mut v));
    // 1 + 100 × 1/100 = 2 bps up; 1 + 100 × 10/100 = 11 bps down.
    assert_eq!(f[0].price.get(), 100.0 * (1.0 + 2.0 / 10_000.0));
    assert_eq!(f[1].price.get(), 100.0 * (1.0 - 11.0 / 10_000.0));
}

fn funded_venue(model: FundingModel, side: Side) -> SimVenue {
    let mut v = venue(SimConfig::default());
    v.set_funding(&sym(), model).unwrap();
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.submit(&market("pos", side, 2.0)).unwrap();
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    drain(&mut v);
    v
}

#[test]
fn funding_longs_pay_positive_rates_and_shorts_receive() {
    let hour = Duration::from_secs(3_600);
    let model = FundingModel::Constant {
        rate: 0.0001,
        interval: hour,
        anchor: Timestamp::EPOCH,
    };
    for (side, sign) in [(Side::Buy, 1.0), (Side::Sell, -1.0)] {
        let mut v = funded_venue(model.clone(), side);
        let cash_before = v.cash();
        // Bars 2..=121 close at minutes 3..=122: instants at minutes 60 and 120 are covered.
        for n in 2..=121 {
            v.on_market(&bar(n, 100.0, 100.0, 100.0, 100.0));
        }
        let payments: Vec<_> = std::iter::from_fn(|| v.poll_funding()).collect();
        assert_eq!(payments.len(), 2);
        assert_eq!(payments[0].time, Timestamp::from_nanos(60 * MINUTE));
        for p in &payments {
            assert_eq!(p.amount, sign * 2.0 * 100.0 * 0.0001);
            assert_eq!(p.position, sign * 2.0);
        }
        let paid = sign * 2.0 * 0.02;
        assert!((v.wallet().funding_paid() - paid).abs() < 1e-12);
        assert!((cash_before - v.cash() - paid).abs() < 1e-9);
    }
}

#[test]
fn funding_series_negative_rate_pays_longs_and_flat_books_nothing() {
    let rates = vec![
        FundingRate {
            time: Timestamp::from_nanos(30 * MINUTE / 60), // before the first bar: skipped
            rate: 0.5,
        },
        FundingRate {
            time: Timestamp::from_nanos(5 * MINUTE),
            rate: -0.001,
        },
    ];
    let mut v = funded_venue(FundingModel::Series { rates }, Side::Buy);
    for n in 2..6 {
        v.on_market(&bar(n, 50.0, 50.0, 50.0, 50.0));
    }
    let p: Vec<_> = std::iter::from_fn(|| v.poll_funding()).collect();
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].amount,
        2.0 * 50.0 * -0.001,
        "a long receives a negative rate"
    );
    assert!(v.wallet().funding_paid() < 0.0);

    let mut flat = venue(SimConfig::default());
    let model = FundingModel::Constant {
        rate: 0.01,
        interval: Duration::from_secs(60),
        anchor: Timestamp::EPOCH,
    };
    flat.set_funding(&sym(), model).unwrap();
    for n in 0..5 {
        flat.on_market(&bar(n, 50.0, 50.0, 50.0, 50.0));
    }
    assert!(flat.poll_funding().is_none());
    assert_eq!(flat.wallet().funding_paid(), 0.0);
}

#[test]
fn funding_model_validation_names_the_problem() {
    let mut v = venue(SimConfig::default());
    let bad = FundingModel::Series {
        rates: vec![
            FundingRate {
                time: Timestamp::from_nanos(10),
                rate: 0.0,
            },
            FundingRate {
                time: Timestamp::from_nanos(10),
                rate: 0.0,
            },
        ],
    };
    assert_eq!(
        v.set_funding(&sym(), bad).unwrap_err(),
        SimError::FundingOutOfOrder { index: 1, time: 10 }
    );
    let zero = FundingModel::Constant {
        rate: 0.0,
        interval: Duration::ZERO,
        anchor: Timestamp::EPOCH,
    };
    let e = v.set_funding(&sym(), zero).unwrap_err();
    assert!(e.to_string().starts_with("funding.interval"), "{e}");
    let nan = FundingModel::Constant {
        rate: f64::NAN,
        interval: Duration::from_secs(1),
        anchor: Timestamp::EPOCH,
    };
    assert!(
        v.set_funding(&sym(), nan)
            .unwrap_err()
            .to_string()
            .contains("funding.rate")
    );
    let other = rustrade_core::Symbol::new("ETHUSDT").unwrap();
    assert_eq!(
        v.set_funding(&other, FundingModel::None).unwrap_err(),
        SimError::UnknownSymbol(other)
    );
}

#[test]
fn config_validation_names_field_and_value() {
    let cases: Vec<(SimConfig, &str)> = vec![
        (
            SimConfig::default().with_initial_cash(-1.0),
            "initial_cash: must be within",
        ),
        (
            SimConfig::default().with_participation(0.0),
            "participation: must be within",
        ),
        (SimConfig::default().with_participation(1.5), "(got 1.5)"),
        (
            SimConfig::default().with_fees(FeeModel::rates(0.0, f64::NAN)),
            "fees.taker_rate: must be finite",
        ),
        (
            SimConfig::default().with_fees(FeeModel::rates(0.5, 0.0)),
            "fees.maker_rate",
        ),
        (
            SimConfig::default().with_fees(FeeModel::ZERO.with_fixed(-1.0)),
            "fees.fixed_per_fill",
        ),
        (
            SimConfig::default().with_slippage(SlippageModel::FixedBps { bps: -3.0 }),
            "slippage.bps",
        ),
        (
            SimConfig::default().with_latency(LatencyModel::Uniform {
                min: Duration::from_secs(2),
                max: Duration::from_secs(1),
            }),
            "latency.min: must not exceed latency.max",
        ),
        (
            SimConfig {
                max_leverage: Some(0.0),
                ..SimConfig::default()
            },
            "max_leverage",
        ),
    ];
    for (config, expected) in cases {
        let e = SimVenue::new(config).unwrap_err();
        assert!(e.to_string().contains(expected), "{e} lacks {expected}");
    }
    let mut v = venue(SimConfig::default());
    assert_eq!(
        v.add_instrument(spec()).unwrap_err(),
        SimError::DuplicateInstrument(sym())
    );
}

#[test]
fn config_round_trips_through_serde() {
    let c = SimConfig::default()
        .with_fees(FeeModel::rates(0.0002, 0.0004))
        .with_slippage(SlippageModel::FixedBps { bps: 2.0 })
        .with_latency(LatencyModel::Events { n: 1 })
        .with_participation(0.1)
        .without(Capability::Fok);
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<SimConfig>(&json).unwrap(), c);
}

#[test]
fn missing_capabilities_reject_as_unsupported() {
    let config = SimConfig::default()
        .without(Capability::StopMarket)
        .without(Capability::PostOnly)
        .without(Capability::ReduceOnly);
    let mut v = venue(config);
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    assert_eq!(
        v.submit(&stop("s", Side::Sell, 1.0, 90.0)),
        Err(RejectReason::Unsupported)
    );
    let po = with_kind(limit("p", Side::Buy, 1.0, 90.0), OrderKind::PostOnly);
    assert_eq!(v.submit(&po), Err(RejectReason::Unsupported));
    let po_tif = tif(
        limit("p2", Side::Buy, 1.0, 90.0),
        rustrade_core::TimeInForce::PostOnly,
    );
    assert_eq!(v.submit(&po_tif), Err(RejectReason::Unsupported));
    assert_eq!(
        v.submit(&market("r", Side::Sell, 1.0).reduce_only()),
        Err(RejectReason::Unsupported)
    );
    let r = drain(&mut v);
    assert_eq!(kinds(&r), ["rejected"; 4]);
    assert_eq!(v.working_orders(), 0);
}

#[test]
fn invalid_orders_and_unknown_symbols_are_rejected() {
    let mut v = venue(SimConfig::default());
    let mut no_price = market("a", Side::Buy, 1.0);
    no_price.kind = OrderKind::Limit;
    assert_eq!(v.submit(&no_price), Err(RejectReason::InvalidOrder));
    let zero = market("b", Side::Buy, 0.0);
    assert_eq!(v.submit(&zero), Err(RejectReason::InvalidOrder));
    let mut other = market("c", Side::Buy, 1.0);
    other.symbol = rustrade_core::Symbol::new("ETHUSDT").unwrap();
    assert_eq!(v.submit(&other), Err(RejectReason::InvalidOrder));
    let conflicting = tif(
        market("d", Side::Buy, 1.0),
        rustrade_core::TimeInForce::PostOnly,
    );
    assert_eq!(v.submit(&conflicting), Err(RejectReason::InvalidOrder));
    let stop_ioc = tif(
        stop("e", Side::Sell, 1.0, 90.0),
        rustrade_core::TimeInForce::Ioc,
    );
    assert_eq!(v.submit(&stop_ioc), Err(RejectReason::InvalidOrder));
    let mut protected = market("f", Side::Buy, 1.0);
    protected.protection = Some(rustrade_core::Protection {
        stop: Some(p(90.0)),
        take_profit: None,
    });
    assert_eq!(v.submit(&protected), Err(RejectReason::Unsupported));
    assert!(
        drain(&mut v)
            .iter()
            .all(|r| matches!(r, ExecutionReport::Rejected { .. }))
    );
}

#[test]
fn resubmitting_a_client_id_returns_the_same_order_and_places_nothing() {
    let mut v = venue(SimConfig::default());
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let o = limit("dup", Side::Buy, 1.0, 90.0);
    let first = v.submit(&o).unwrap();
    assert_eq!(first.as_str(), "sim-1");
    assert_eq!(v.submit(&o).unwrap(), first);
    assert_eq!(v.working_orders(), 1);
    assert!(drain(&mut v).is_empty());
}

#[test]
fn client_ids_of_working_orders_are_kept_and_ended_ones_forgotten_after_the_window() {
    let mut v = venue(SimConfig::default());
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let keep = limit("keep", Side::Buy, 1.0, 50.0);
    let kept = v.submit(&keep).unwrap();
    let ended = |n: usize| limit(&format!("x-{n}"), Side::Buy, 1.0, 60.0);
    let mut first_ids = Vec::new();
    for n in 0..=ENDED_ID_RETENTION {
        first_ids.push(v.submit(&ended(n)).unwrap());
        v.cancel(&cid(&format!("x-{n}"))).unwrap();
    }
    drain(&mut v);
    // The working order is remembered however many orders ended since.
    assert_eq!(v.submit(&keep).unwrap(), kept);
    // The newest ended orders are still remembered: nothing is placed again.
    assert_eq!(v.submit(&ended(1)).unwrap(), first_ids[1]);
    assert_eq!(
        v.submit(&ended(ENDED_ID_RETENTION)).unwrap(),
        first_ids[ENDED_ID_RETENTION]
    );
    assert_eq!(v.working_orders(), 1);
    assert!(drain(&mut v).is_empty());
    // The oldest fell out of the window: the same client id is now a new order.
    let again = v.submit(&ended(0)).unwrap();
    assert_ne!(again, first_ids[0]);
    assert_eq!(v.working_orders(), 2);
}

#[test]
fn cancels_report_and_unknown_cancels_are_errors() {
    let mut v = venue(SimConfig::default());
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let a = v.submit(&limit("a", Side::Buy, 1.0, 90.0)).unwrap();
    let b = v.submit(&limit("b", Side::Buy, 1.0, 91.0)).unwrap();
    v.submit(&limit("c", Side::Buy, 1.0, 92.0)).unwrap();
    assert_eq!(v.cancel(&cid("a")).unwrap(), a);
    assert_eq!(v.cancel_order_id(&b).unwrap(), cid("b"));
    assert_eq!(
        v.cancel(&cid("a")).unwrap_err(),
        SimError::UnknownClientOrder(cid("a"))
    );
    assert_eq!(
        v.cancel_order_id(&a).unwrap_err(),
        SimError::UnknownOrder(a)
    );
    assert_eq!(v.cancel_all(&sym()).unwrap(), 1);
    let other = rustrade_core::Symbol::new("ETHUSDT").unwrap();
    assert_eq!(
        v.cancel_all(&other).unwrap_err(),
        SimError::UnknownSymbol(other)
    );
    assert_eq!(kinds(&drain(&mut v)), ["cancelled"; 3]);
    v.on_market(&bar(1, 80.0, 80.0, 80.0, 80.0));
    assert!(drain(&mut v).is_empty(), "cancelled orders never fill");
}

#[test]
fn max_leverage_refuses_orders_that_raise_exposure_too_far() {
    let config = SimConfig {
        max_leverage: Some(2.0),
        ..SimConfig::default().with_initial_cash(1_000.0)
    };
    let mut v = venue(config);
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    assert_eq!(
        v.submit(&market("big", Side::Buy, 25.0)),
        Err(RejectReason::InsufficientFunds)
    );
    assert!(v.submit(&market("ok", Side::Buy, 15.0)).is_ok());
    v.on_market(&bar(1, 100.0, 100.0, 100.0, 100.0));
    assert_eq!(
        v.submit(&market("more", Side::Buy, 10.0)),
        Err(RejectReason::InsufficientFunds)
    );
    assert!(
        v.submit(&market("exit", Side::Sell, 15.0)).is_ok(),
        "reducing is never refused"
    );
}

#[test]
fn equity_counts_every_open_position_through_opens_closes_and_flips() {
    // The venue's shortcut (equity is cash while nothing is held) must agree with the sum over
    // positions after every fill: open, add, close, reopen short, flip long.
    let mut v = venue(SimConfig::default());
    let walk = |v: &SimVenue| {
        v.cash()
            + v.positions()
                .map(|(s, p)| p.quantity * v.mark(&s).unwrap_or(p.avg_entry))
                .sum::<f64>()
    };
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let steps = [
        (Side::Buy, 2.0),
        (Side::Buy, 1.0),
        (Side::Sell, 3.0),
        (Side::Sell, 1.5),
        (Side::Buy, 4.0),
        (Side::Sell, 2.5),
    ];
    for (n, (side, qty)) in steps.into_iter().enumerate() {
        let id = format!("o-{n}");
        v.submit(&market(&id, side, qty)).unwrap();
        let t = i64::try_from(n).unwrap() * 2 + 1;
        v.on_market(&bar(t, 100.0, 100.5, 99.5, 100.0));
        v.on_market(&bar(t + 1, 104.0, 104.0, 104.0, 104.0));
        assert_eq!(fills(&drain(&mut v)).len(), 1, "step {n}");
        let held = v.position(&sym()).quantity;
        assert!(
            (v.equity() - walk(&v)).abs() < 1e-9,
            "step {n}, holding {held}"
        );
        if held == 0.0 {
            assert_eq!(v.equity(), v.cash(), "step {n}: flat");
        } else {
            assert_ne!(v.equity(), v.cash(), "step {n}: {held} held at 104");
        }
    }
    assert_eq!(v.position(&sym()).quantity, 0.0);
}

#[test]
fn equity_marks_positions_at_the_last_price() {
    let mut v = long_venue(SimConfig::default(), 3.0);
    v.on_market(&bar(2, 100.0, 111.0, 99.0, 110.0));
    assert_eq!(v.equity(), 10_000.0 + 30.0);
    assert_eq!(v.mark(&sym()), Some(110.0));
    assert_eq!(v.position(&sym()).unrealised_pnl, 30.0);
    assert_eq!(v.now(), Timestamp::from_nanos(3 * MINUTE));
}

#[test]
fn symbols_are_matched_independently_and_contract_value_scales_money() {
    use rustrade_core::{AssetClass, Candle, InstrumentSpec, MarketEvent, Symbol, Venue};
    let eth = Symbol::new("ETHUSDT").unwrap();
    let mut v = venue(SimConfig::default().with_fees(FeeModel::rates(0.0, 0.001)));
    let eth_spec = InstrumentSpec::new(eth, AssetClass::CryptoPerp, 0.01, 1.0)
        .unwrap()
        .with_contract_value(0.1)
        .unwrap();
    v.add_instrument(eth_spec).unwrap();
    let eth_bar = |n: i64, px: f64| {
        let c = Candle::new(Timestamp::from_nanos(n * MINUTE), px, px, px, px, 100.0).unwrap();
        MarketEvent::candle(
            Venue::new("sim").unwrap(),
            eth,
            Timestamp::from_nanos((n + 1) * MINUTE),
            c,
        )
    };
    v.on_market(&bar(0, 100.0, 100.0, 100.0, 100.0));
    v.on_market(&eth_bar(0, 2_000.0));
    let mut eth_order = market("e", Side::Buy, 10.0);
    eth_order.symbol = eth;
    v.submit(&eth_order).unwrap();
    v.submit(&limit("b", Side::Buy, 1.0, 90.0)).unwrap();
    // A BTC bar that crosses nothing of ETH's: the ETH market order waits for an ETH event.
    v.on_market(&bar(1, 95.0, 95.0, 89.0, 95.0));
    let f = fills(&drain(&mut v));
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].symbol, sym());
    v.on_market(&eth_bar(1, 2_100.0));
    let f = fills(&drain(&mut v));
    assert_eq!((f[0].symbol, f[0].price.get()), (eth, 2_100.0));
    // Notional 10 × 2100 × 0.1 = 2100; fee 2.1.
    assert_eq!(f[0].fee.get(), 2_100.0 * 0.001);
    let btc_cost = 90.0; // a resting fill: maker rate 0
    let eth_cost = 2_100.0 + 2.1;
    assert!((v.cash() - (10_000.0 - btc_cost - eth_cost)).abs() < 1e-9);
    v.on_market(&eth_bar(2, 2_200.0));
    assert_eq!(v.position(&eth).unrealised_pnl, 10.0 * 100.0 * 0.1);
    let equity = v.cash() + 1.0 * 95.0 + 10.0 * 2_200.0 * 0.1;
    assert!((v.equity() - equity).abs() < 1e-9);
    assert_eq!(v.wallet().positions().count(), 2);
    assert_eq!(v.open_orders(Some(&eth)).len(), 0);
}
