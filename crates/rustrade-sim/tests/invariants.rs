//! Property tests: the wallet's accounting identity, fills inside the bar's range, and
//! bit-identical reruns, over random candle paths, random orders of every kind and random models.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use proptest::prelude::*;
use rustrade_core::{ExecutionReport, Order, OrderKind, Side, TimeInForce, Timestamp};
use rustrade_sim::{FeeModel, FundingModel, SimConfig, SlippageModel};

#[derive(Debug, Clone)]
struct Step {
    ret: f64,
    wick_up: f64,
    wick_down: f64,
    volume: f64,
    order: Option<(u8, bool, f64, f64, bool)>,
}

fn step() -> impl Strategy<Value = Step> {
    (
        -0.03f64..0.03,
        0.0f64..0.02,
        0.0f64..0.02,
        0.0f64..50.0,
        proptest::option::weighted(
            0.6,
            (
                0u8..10,
                any::<bool>(),
                0.1f64..5.0,
                0.0f64..0.04,
                any::<bool>(),
            ),
        ),
    )
        .prop_map(|(ret, wick_up, wick_down, volume, order)| Step {
            ret,
            wick_up,
            wick_down,
            volume,
            order,
        })
}

#[derive(Debug, Clone)]
struct Setup {
    trade_on_close: bool,
    participation: Option<f64>,
    maker: f64,
    taker: f64,
    fixed: f64,
    slip_bps: f64,
    steps: Vec<Step>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        any::<bool>(),
        proptest::option::of(0.05f64..1.0),
        -0.0002f64..0.001,
        0.0f64..0.002,
        0.0f64..1.0,
        0.0f64..30.0,
        proptest::collection::vec(step(), 1..120),
    )
        .prop_map(
            |(trade_on_close, participation, maker, taker, fixed, slip_bps, steps)| Setup {
                trade_on_close,
                participation,
                maker,
                taker,
                fixed,
                slip_bps,
                steps,
            },
        )
}

fn build_order(
    n: usize,
    kind: u8,
    buy: bool,
    qty: f64,
    off: f64,
    reduce: bool,
    close: f64,
) -> Order {
    let side = if buy { Side::Buy } else { Side::Sell };
    let s = side.sign();
    let id = format!("o{n}");
    // Limits sit on the passive side, stops on the adverse side, take-profits on the favourable.
    let passive = close * (1.0 - s * off);
    let adverse = close * (1.0 + s * off);
    let mut o = match kind {
        0 => market(&id, side, qty),
        1 => limit(&id, side, qty, passive),
        2 => with_kind(limit(&id, side, qty, passive), OrderKind::PostOnly),
        3 => with_kind(limit(&id, side, qty, adverse), OrderKind::Ioc),
        4 => with_kind(limit(&id, side, qty, adverse), OrderKind::Fok),
        5 => stop(&id, side, qty, adverse),
        6 => stop_limit(&id, side, qty, adverse, adverse * (1.0 + s * 0.005)),
        7 => take_profit(&id, side, qty, passive),
        8 => trailing(&id, side, qty, close * off.max(0.001)),
        _ => tif(market(&id, side, qty), TimeInForce::Ioc),
    };
    o.reduce_only = reduce;
    o
}

/// Runs the scenario; returns every report, every funding amount and the final venue.
type Run = (
    Vec<ExecutionReport>,
    Vec<f64>,
    rustrade_sim::SimVenue,
    BTreeMap<Timestamp, [f64; 4]>,
    BTreeMap<String, (Order, Timestamp)>,
);

fn run(s: &Setup) -> Run {
    let mut config = SimConfig::default()
        .with_trade_on_close(s.trade_on_close)
        .with_fees(FeeModel::rates(s.maker, s.taker).with_fixed(s.fixed))
        .with_slippage(SlippageModel::FixedBps { bps: s.slip_bps });
    config.participation = s.participation;
    let mut v = venue(config);
    v.set_funding(
        &sym(),
        FundingModel::Constant {
            rate: 0.0003,
            interval: Duration::from_secs(300),
            anchor: Timestamp::EPOCH,
        },
    )
    .unwrap();
    let mut reports = Vec::new();
    let mut funding = Vec::new();
    let mut ranges = BTreeMap::new();
    let mut orders = BTreeMap::new();
    let mut price = 100.0;
    for (n, st) in s.steps.iter().enumerate() {
        let open = price;
        let close = open * (1.0 + st.ret);
        let high = open.max(close) * (1.0 + st.wick_up);
        let low = open.min(close) * (1.0 - st.wick_down);
        price = close;
        let ev = bar_v(n as i64, open, high, low, close, st.volume);
        ranges.insert(ev.time, [open, high, low, close]);
        v.on_market(&ev);
        reports.extend(drain(&mut v));
        funding.extend(std::iter::from_fn(|| v.poll_funding()).map(|p| p.amount));
        if let Some((kind, buy, qty, off, reduce)) = st.order {
            let o = build_order(n, kind, buy, qty, off, reduce, close);
            let _ = v.submit(&o);
            orders.insert(o.client_id.to_string(), (o, ev.time));
            reports.extend(drain(&mut v));
        }
    }
    (reports, funding, v, ranges, orders)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accounting_identity_holds(s in setup()) {
        let (reports, funding, v, _, _) = run(&s);
        let cv = spec().contract_value();
        let mut flow = 0.0;
        let mut fees = 0.0;
        for f in fills(&reports) {
            flow += f.side.sign() * f.quantity.get() * f.price.get() * cv;
            fees += f.fee.get();
        }
        let funded: f64 = funding.iter().sum();
        let expected = 10_000.0 - flow - fees - funded;
        let scale = 10_000.0 + flow.abs() + fees.abs();
        prop_assert!((v.cash() - expected).abs() <= 1e-9 * scale, "cash {} vs {}", v.cash(), expected);
        prop_assert!((v.wallet().fees_paid() - fees).abs() <= 1e-9 * (1.0 + fees.abs()));
        prop_assert!((v.wallet().funding_paid() - funded).abs() <= 1e-9 * (1.0 + funded.abs()));
        // The venue's position is the core ledger's, fed the fills it reported, bit for bit (the
        // fills' sum, except that size within half a lot of flat is flat: orders here are not
        // snapped to the lot, so a fill can leave such dust).
        let mut ledger = rustrade_core::Ledger::default();
        for f in fills(&reports) {
            ledger.apply_fill(&spec(), f.side, f.quantity.get(), f.price.get(), f.fee.get(), f.time);
        }
        prop_assert_eq!(v.ledger(&sym()), Some(&ledger));
        prop_assert_eq!(v.wallet().fees_paid(), ledger.fees_paid);
    }

    #[test]
    fn fills_stay_inside_the_bar_and_respect_limits(s in setup()) {
        let (reports, _, _, ranges, orders) = run(&s);
        for f in fills(&reports) {
            let (order, decided) = orders[f.client_id.unwrap().as_str()];
            let [open, high, low, close] = ranges[&f.time];
            let px = f.price.get();
            prop_assert!(px >= low - 1e-9 && px <= high + 1e-9, "fill {px} outside [{low}, {high}]");
            prop_assert!(f.quantity.get() > 0.0);
            if let Some(limit) = order.limit_price.map(|p| p.get()) {
                let ok = match f.side { Side::Buy => px <= limit + 1e-9, Side::Sell => px >= limit - 1e-9 };
                prop_assert!(ok, "{:?} fill at {px} beyond its limit {limit}", f.side);
            }
            // No look-ahead: never on the decision bar, unless trading on its close.
            if s.trade_on_close {
                prop_assert!(f.time >= decided);
                if f.time == decided {
                    // Filled at submission: the decision bar's close, moved only adversely.
                    let adverse = match f.side { Side::Buy => px >= close, Side::Sell => px <= close };
                    prop_assert!(adverse, "{:?} at {px} vs close {close}", f.side);
                    if s.slip_bps == 0.0 {
                        prop_assert_eq!(px, close);
                    }
                }
            } else {
                prop_assert!(f.time > decided, "filled on its decision bar");
            }
            // A resting fill is at its limit or at the open it gapped to, never slipped.
            if f.liquidity == rustrade_core::Liquidity::Maker {
                let limit = order.limit_price.unwrap().get();
                prop_assert!(px == limit || px == open, "maker fill at {px}, limit {limit}, open {open}");
            }
        }
    }

    #[test]
    fn two_runs_are_bit_identical(s in setup()) {
        let (a, fa, va, _, _) = run(&s);
        let (b, fb, vb, _, _) = run(&s);
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        prop_assert_eq!(
            fa.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            fb.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        prop_assert_eq!(va.cash().to_bits(), vb.cash().to_bits());
        prop_assert_eq!(va.equity().to_bits(), vb.equity().to_bits());
    }
}

/// The generator's scenarios do trade: a fixed one fills orders of many kinds, as maker and taker,
/// so the properties above are not checked on empty runs.
#[test]
fn generated_scenarios_produce_fills_of_both_liquidities() {
    let steps = (0..80)
        .map(|n| Step {
            ret: if n % 10 < 5 { 0.01 } else { -0.012 },
            wick_up: 0.01,
            wick_down: 0.01,
            volume: 40.0,
            order: Some(((n % 10) as u8, n % 3 != 0, 1.0, 0.005, n % 4 == 0)),
        })
        .collect();
    let setup = Setup {
        trade_on_close: false,
        participation: Some(0.5),
        maker: 0.0001,
        taker: 0.0005,
        fixed: 0.1,
        slip_bps: 2.0,
        steps,
    };
    let (reports, funding, _, _, _) = run(&setup);
    let f = fills(&reports);
    assert!(f.len() > 20, "only {} fills", f.len());
    assert!(
        f.iter()
            .any(|f| f.liquidity == rustrade_core::Liquidity::Maker)
    );
    assert!(
        f.iter()
            .any(|f| f.liquidity == rustrade_core::Liquidity::Taker)
    );
    assert!(
        !funding.is_empty(),
        "funding was charged while positions were held"
    );
}
