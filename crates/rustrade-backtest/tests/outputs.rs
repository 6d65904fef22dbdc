//! Result sinks: CSV streams write the bytes of the in-memory exports, a downsampled curve keeps
//! its bound and its ends, statistics never depend on the sinks, and a failing sink stops the run.

use std::io::Write;
use std::sync::Arc;

use rustrade_backtest::brains::Periodic;
use rustrade_backtest::{
    Backtest, BacktestError, BacktestResult, EquitySink, Outputs, RecordSink, synthetic,
};
use rustrade_core::{AssetClass, InstrumentSpec, SizeHint};
use rustrade_sim::FeeModel;

fn backtest() -> Backtest {
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .unwrap();
    Backtest::builder()
        .instrument(spec)
        .initial_cash(100_000.0)
        .fees(FeeModel::rates(0.0002, 0.0005))
        .brain(Arc::new(
            Periodic::new(10).with_size(SizeHint::Notional(1_000.0)),
        ))
        .build()
        .unwrap()
}

const CANDLES: usize = 5_000;

fn run_with(outputs: Outputs<'_>) -> BacktestResult {
    backtest()
        .run_with(synthetic::random_walk(7, CANDLES), outputs)
        .unwrap()
}

/// The result without its recorded lists, to compare what must not depend on the sinks.
fn summary(mut r: BacktestResult) -> BacktestResult {
    r.fills.clear();
    r.trades.clear();
    r.equity.clear();
    r
}

#[test]
fn csv_sinks_write_the_bytes_of_the_in_memory_exports() {
    let memory = run_with(Outputs::memory());
    assert!(memory.trades.len() > 100, "{}", memory.trades.len());
    let (mut fills, mut trades, mut equity) = (Vec::new(), Vec::new(), Vec::new());
    let streamed = run_with(Outputs {
        fills: RecordSink::Csv(Box::new(&mut fills)),
        trades: RecordSink::Csv(Box::new(&mut trades)),
        equity: EquitySink::Csv(Box::new(&mut equity)),
    });
    assert!(streamed.fills.is_empty() && streamed.trades.is_empty());
    assert!(streamed.equity.is_empty());
    let export = |write: fn(&BacktestResult, &mut Vec<u8>) -> Result<(), BacktestError>| {
        let mut out = Vec::new();
        write(&memory, &mut out).unwrap();
        out
    };
    assert_eq!(fills, export(|r, o| r.write_fills_csv(o)));
    assert_eq!(trades, export(|r, o| r.write_trades_csv(o)));
    assert_eq!(equity, export(|r, o| r.write_equity_csv(o)));
    let lines = String::from_utf8(fills).unwrap().lines().count();
    assert_eq!(
        lines,
        memory.fills.len() + 1,
        "a header and one row per fill"
    );
    assert_eq!(summary(streamed), summary(memory));
}

#[test]
fn statistics_do_not_depend_on_the_sinks() {
    let memory = run_with(Outputs::memory());
    let off = run_with(Outputs::statistics_only());
    assert!(off.fills.is_empty() && off.trades.is_empty() && off.equity.is_empty());
    assert_eq!(summary(off), summary(memory));
}

#[test]
fn a_downsampled_curve_keeps_its_bound_and_both_ends() {
    let memory = run_with(Outputs::memory());
    assert_eq!(memory.equity.len(), CANDLES + 1);
    for max in [2, 3, 100, 1_000, 10_000] {
        let down = run_with(Outputs {
            equity: EquitySink::Downsampled(max),
            ..Outputs::memory()
        });
        assert!(down.equity.len() <= max, "{max}: {}", down.equity.len());
        assert_eq!(down.equity.first(), memory.equity.first());
        assert_eq!(down.equity.last(), memory.equity.last());
        assert!(
            down.equity.iter().all(|p| memory.equity.contains(p)),
            "{max}: every kept sample is a sample of the full curve"
        );
        if max > CANDLES {
            assert_eq!(down.equity, memory.equity);
        }
        assert_eq!(down.fills, memory.fills);
        assert_eq!(summary(down), summary(memory.clone()));
    }
    // The builder's choice is what `run` uses.
    let spec = InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .unwrap();
    let bt = Backtest::builder()
        .instrument(spec)
        .brain(Arc::new(Periodic::new(10)))
        .downsample_equity(50)
        .build()
        .unwrap();
    let r = bt.run(synthetic::random_walk(7, CANDLES)).unwrap();
    assert!(
        r.equity.len() <= 50 && r.equity.len() > 25,
        "{}",
        r.equity.len()
    );
}

#[test]
fn a_downsampled_curve_of_fewer_than_two_points_is_refused() {
    for max in [0, 1] {
        let e = backtest()
            .run_with(
                synthetic::random_walk(7, 10),
                Outputs {
                    equity: EquitySink::Downsampled(max),
                    ..Outputs::memory()
                },
            )
            .unwrap_err();
        assert!(
            matches!(
                e,
                BacktestError::Config {
                    field: "equity",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains(&format!("got {max}")), "{e}");
        let spec = InstrumentSpec::new(
            synthetic::synthetic_symbol(),
            AssetClass::CryptoSpot,
            0.01,
            0.001,
        )
        .unwrap();
        let e = Backtest::builder()
            .instrument(spec)
            .brain(Arc::new(Periodic::new(10)))
            .downsample_equity(max)
            .build()
            .err()
            .unwrap();
        assert!(e.to_string().contains("equity"), "{e}");
    }
}

/// A writer that accepts `left` bytes, then fails.
struct Failing {
    left: usize,
}

impl Write for Failing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends one stream to a writer, the others nowhere.
type OneStream = fn(Failing) -> Outputs<'static>;

#[test]
fn a_failing_sink_stops_the_run_naming_its_stream() {
    let cases: [(&str, OneStream); 3] = [
        ("fills CSV", |w| Outputs {
            fills: RecordSink::Csv(Box::new(w)),
            ..Outputs::statistics_only()
        }),
        ("trades CSV", |w| Outputs {
            trades: RecordSink::Csv(Box::new(w)),
            ..Outputs::statistics_only()
        }),
        ("equity CSV", |w| Outputs {
            equity: EquitySink::Csv(Box::new(w)),
            ..Outputs::statistics_only()
        }),
    ];
    for (what, outputs) in cases {
        // Fails at the first buffer flush, in the middle of the run; and at the final flush.
        for left in [1_000, 0] {
            let e = backtest()
                .run_with(
                    synthetic::random_walk(7, CANDLES),
                    outputs(Failing { left }),
                )
                .unwrap_err();
            match &e {
                BacktestError::Output { what: w, .. } => assert_eq!(*w, what),
                other => panic!("{what}: unexpected {other:?}"),
            }
            assert!(e.to_string().contains("disk full"), "{e}");
        }
    }
}
