//! Accounting invariants of a run, as property tests over random data, brains and fee models.

use std::sync::Arc;

use proptest::prelude::*;
use rustrade_backtest::brains::Periodic;
use rustrade_backtest::synthetic::{WalkParams, random_walk_for, synthetic_symbol};
use rustrade_backtest::{Backtest, BacktestResult};
use rustrade_core::{AssetClass, InstrumentSpec, SizeHint};
use rustrade_sim::{FeeModel, LatencyModel};

#[derive(Debug, Clone)]
struct Case {
    seed: u64,
    bars: usize,
    period: u64,
    maker: f64,
    taker: f64,
    fixed: f64,
    on_close: bool,
    latency: u32,
    volatility: f64,
    contract_value: f64,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        any::<u64>(),
        1usize..400,
        2u64..25,
        0.0f64..0.002,
        0.0f64..0.003,
        prop_oneof![Just(0.0), 0.0f64..1.0],
        any::<bool>(),
        0u32..3,
        0.001f64..0.05,
        prop_oneof![Just(1.0), Just(0.01), Just(10.0)],
    )
        .prop_map(
            |(
                seed,
                bars,
                period,
                maker,
                taker,
                fixed,
                on_close,
                latency,
                volatility,
                contract_value,
            )| Case {
                seed,
                bars,
                period,
                maker,
                taker,
                fixed,
                on_close,
                latency,
                volatility,
                contract_value,
            },
        )
}

fn run(c: &Case) -> BacktestResult {
    let spec = InstrumentSpec::new(synthetic_symbol(), AssetClass::CryptoPerp, 0.0001, 0.001)
        .unwrap()
        .with_contract_value(c.contract_value)
        .unwrap();
    let latency = if c.latency == 0 {
        LatencyModel::Zero
    } else {
        LatencyModel::Events { n: c.latency }
    };
    let params = WalkParams {
        volatility: c.volatility,
        ..WalkParams::default()
    };
    Backtest::builder()
        .instrument(spec)
        .initial_cash(100_000.0)
        .fees(FeeModel::rates(c.maker, c.taker).with_fixed(c.fixed))
        .trade_on_close(c.on_close)
        .latency(latency)
        .brain(Arc::new(
            Periodic::new(c.period).with_size(SizeHint::Notional(5_000.0)),
        ))
        .build()
        .unwrap()
        .run(random_walk_for(synthetic_symbol(), c.seed, c.bars, params))
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn equity_curve_has_n_plus_one_samples_from_initial_cash(c in cases()) {
        let r = run(&c);
        prop_assert_eq!(r.equity.len(), c.bars + 1);
        prop_assert_eq!(r.equity[0].equity, 100_000.0);
        prop_assert_eq!(r.statistics.steps as usize, c.bars);
        prop_assert_eq!(r.statistics.initial_equity, 100_000.0);
        prop_assert_eq!(r.equity.last().unwrap().equity, r.final_equity);
        prop_assert!(r.equity.windows(2).all(|w| w[0].time <= w[1].time));
    }

    #[test]
    fn final_equity_is_cash_plus_realised_minus_fees_plus_unrealised(c in cases()) {
        let r = run(&c);
        let rhs = r.initial_cash + r.realised_pnl - r.open_fees + r.unrealised_pnl - r.funding_paid;
        prop_assert!((r.final_equity - rhs).abs() <= 1e-7 * r.initial_cash,
            "final {} identity {}", r.final_equity, rhs);
    }

    #[test]
    fn fees_of_both_legs_are_counted(c in cases()) {
        let r = run(&c);
        if c.bars > 1 + c.latency as usize {
            prop_assert!(!r.fills.is_empty(), "the first entry fills");
        }
        let fill_fees: f64 = r.fills.iter().map(|f| f.fee.get()).sum();
        prop_assert!((fill_fees - r.fees_paid).abs() <= 1e-9 * r.fees_paid.abs().max(1.0));
        let trade_fees: f64 = r.trades.iter().map(|t| t.fees).sum();
        // Fees of trades still open: their entry fees, and both legs of any part already closed.
        let booked = trade_fees + r.open_trade_fees + r.open_fees;
        prop_assert!((booked - r.fees_paid).abs() <= 1e-9 * r.fees_paid.abs().max(1.0));
        // A closed trade has an entry and an exit fill, each charged at least the fixed fee.
        for t in &r.trades {
            prop_assert!(t.fees >= 2.0 * c.fixed - 1e-9, "{} < 2 × {}", t.fees, c.fixed);
            prop_assert!((t.gross_pnl - t.fees - t.net_pnl).abs() <= 1e-9 * t.gross_pnl.abs().max(1.0));
        }
        if c.taker > 0.0 || c.fixed > 0.0 {
            prop_assert!(r.fills.iter().all(|f| f.fee.get() > 0.0));
        }
    }

    #[test]
    fn two_runs_are_bit_identical(c in cases()) {
        let a = run(&c);
        let b = run(&c);
        prop_assert_eq!(a.to_json().unwrap(), b.to_json().unwrap());
        let bits = |r: &BacktestResult| r.equity.iter().map(|p| p.equity.to_bits()).collect::<Vec<_>>();
        prop_assert_eq!(bits(&a), bits(&b));
        prop_assert_eq!(a, b);
    }
}
