//! Parameter sweeps through the public API: enumeration, ranking, determinism across thread
//! counts, walk-forward splits and errors.

use std::sync::Arc;

use rustrade_backtest::brains::Periodic;
use rustrade_backtest::sweep::{
    Objective, ParamSpace, ParamValue, Params, Search, Sweep, SweepResult, SweepRow,
};
use rustrade_backtest::{Backtest, BacktestBuilder, BacktestError, synthetic};
use rustrade_core::{AssetClass, Brain, InstrumentSpec, MarketEvent, SizeHint};
use rustrade_sim::FeeModel;

fn data(n: usize) -> Vec<MarketEvent> {
    synthetic::random_walk(42, n)
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The brains of one point: a `Periodic` trader of `period` candles and `notional` size;
/// a period under 3 is refused.
fn periodic(p: &Params) -> Result<Vec<Arc<dyn Brain>>, BacktestError> {
    let period = p.require("period")?;
    if period < 3.0 {
        return Err(BacktestError::Config {
            field: "period",
            reason: format!("{period} is too short"),
        });
    }
    let size = p.get("notional").unwrap_or(100.0);
    Ok(vec![
        Arc::new(Periodic::new(period as u64).with_size(SizeHint::Notional(size)))
            as Arc<dyn Brain>,
    ])
}

/// The synthetic symbol's instrument.
fn spec() -> InstrumentSpec {
    InstrumentSpec::new(
        synthetic::synthetic_symbol(),
        AssetClass::CryptoSpot,
        0.01,
        0.001,
    )
    .unwrap()
}

/// The backtest every point runs: the synthetic symbol, 2 and 5 bps fees.
fn template() -> BacktestBuilder {
    Backtest::builder()
        .instrument(spec())
        .fees(FeeModel::rates(0.0002, 0.0005))
}

fn sweep(space: ParamSpace) -> Sweep {
    let template = template();
    Sweep::new(template, space, periodic)
}

fn space() -> ParamSpace {
    ParamSpace::new()
        .range("period", 2.0, 12.0, 2.0)
        .unwrap()
        .values("notional", [50.0, 100.0])
        .unwrap()
}

#[test]
fn grid_is_the_cartesian_product_last_parameter_fastest() {
    let s = space();
    assert_eq!(s.grid_len(), 12);
    let g = s.grid();
    assert_eq!(g.len(), 12);
    let pairs: Vec<(f64, f64)> = g
        .iter()
        .map(|p| (p.get("period").unwrap(), p.get("notional").unwrap()))
        .collect();
    assert_eq!(&pairs[..3], &[(2.0, 50.0), (2.0, 100.0), (4.0, 50.0)]);
    assert_eq!(pairs[11], (12.0, 100.0));
    assert_eq!(
        ParamSpace::new().grid().len(),
        1,
        "an empty space is one point"
    );
}

#[test]
fn random_search_is_seeded_and_stays_on_the_grid() {
    let s = space();
    let a = s.random(7, 20);
    assert_eq!(a, s.random(7, 20));
    assert_ne!(a, s.random(8, 20));
    for p in &a {
        let period = p.get("period").unwrap();
        assert!(
            (2.0..=12.0).contains(&period) && period % 2.0 == 0.0,
            "{period}"
        );
        assert!([50.0, 100.0].contains(&p.get("notional").unwrap()));
    }
}

#[test]
fn results_are_ranked_and_failed_points_come_last() {
    let r = sweep(space())
        .objective(Objective::TotalReturn)
        .run(&data(600), Search::Grid)
        .unwrap();
    assert_eq!(r.rows.len(), 12);
    let ranks: Vec<usize> = r.rows.iter().map(|x| x.rank).collect();
    assert_eq!(ranks, (1..=12).collect::<Vec<_>>());
    let scores: Vec<f64> = r.rows.iter().filter_map(|x| x.score).collect();
    assert_eq!(scores.len(), 10, "two points have period 2 and fail");
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for row in &r.rows[10..] {
        assert_eq!(row.params.get("period"), Some(2.0));
        assert!(
            row.error.as_deref().unwrap().contains("too short"),
            "{:?}",
            row.error
        );
    }
    for row in &r.rows[..10] {
        let s = row.statistics.as_ref().unwrap();
        assert_eq!(row.score, Some(s.total_return));
        assert!(s.trades > 0);
    }
}

#[test]
fn the_outcome_does_not_depend_on_the_thread_count() {
    let d = data(800);
    let run = |threads| -> SweepResult {
        sweep(space())
            .objective(Objective::Sharpe)
            .threads(threads)
            .run(
                &d,
                Search::Random {
                    seed: 3,
                    samples: 16,
                },
            )
            .unwrap()
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one, two);
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
}

#[test]
fn walk_forward_reports_in_and_out_of_sample_separately() {
    let d = data(1_000);
    let space = ParamSpace::new().values("period", [4.0, 10.0]).unwrap();
    let r = sweep(space)
        .walk_forward(0.7)
        .run(&d, Search::Grid)
        .unwrap();
    assert_eq!(r.split_time, Some(d[700].time));
    for row in &r.rows {
        let ins = row.statistics.as_ref().unwrap();
        let oos = row.out_of_sample.as_ref().unwrap();
        assert_eq!(ins.steps, 700);
        assert_eq!(oos.steps, 300);
        assert!(oos.start.unwrap() >= d[700].time && ins.end.unwrap() < d[700].time);
        assert_eq!(row.out_of_sample_score, Objective::Sharpe.score(oos));
    }
    let bad = sweep(ParamSpace::new().values("period", [4.0]).unwrap()).walk_forward(1.5);
    let e = bad.run(&d, Search::Grid).unwrap_err();
    assert!(e.to_string().contains("walk_forward"), "{e}");
}

#[test]
fn parameter_definitions_are_validated() {
    let e = ParamSpace::new().range("a", 5.0, 1.0, 1.0).unwrap_err();
    assert!(e.to_string().contains("\"a\" needs start <= end"), "{e}");
    let e = ParamSpace::new().range("a", 0.0, 1.0, 0.0).unwrap_err();
    assert!(e.to_string().contains("step > 0"), "{e}");
    let e = ParamSpace::new()
        .values("a", [1.0])
        .unwrap()
        .values("a", [2.0])
        .unwrap_err();
    assert!(e.to_string().contains("\"a\" defined twice"), "{e}");
    let e = ParamSpace::new()
        .values("b", Vec::<f64>::new())
        .unwrap_err();
    assert!(e.to_string().contains("at least one value"), "{e}");
    let e = ParamSpace::new().values("b", [f64::NAN]).unwrap_err();
    assert!(e.to_string().contains("not finite"), "{e}");
    let e = Params::default().require("missing").unwrap_err();
    assert!(e.to_string().contains("\"missing\""), "{e}");
}

#[test]
fn a_choice_axis_enumerates_draws_and_serialises_by_name() {
    let space = ParamSpace::new()
        .values("period", [4.0, 8.0])
        .unwrap()
        .choices("side", ["long", "short"])
        .unwrap();
    assert_eq!(space.grid_len(), 4);
    let grid = space.grid();
    let points: Vec<(f64, &str)> = grid
        .iter()
        .map(|p| (p.get("period").unwrap(), p.choice("side").unwrap()))
        .collect();
    assert_eq!(
        points,
        [(4.0, "long"), (4.0, "short"), (8.0, "long"), (8.0, "short")]
    );
    assert_eq!(
        serde_json::to_string(&grid[1]).unwrap(),
        r#"{"period":4.0,"side":"short"}"#
    );
    let back: Params = serde_json::from_str(r#"{"period":4.0,"side":"short"}"#).unwrap();
    assert_eq!(back, grid[1]);
    assert_eq!(
        grid[1].value("period").unwrap().to_json(),
        serde_json::json!(4)
    );
    assert_eq!(
        grid[1].value("side"),
        Some(&ParamValue::Choice("short".into()))
    );
    assert_eq!(grid[1].value("side").unwrap().to_string(), "short");

    let drawn = space.random(9, 50);
    assert!(drawn.iter().any(|p| p.choice("side") == Some("long")));
    assert!(drawn.iter().any(|p| p.choice("side") == Some("short")));
    assert_eq!(drawn, space.random(9, 50));

    let e = grid[0].require("side").unwrap_err();
    assert!(
        e.to_string()
            .contains("\"side\" is the choice \"long\", not a number"),
        "{e}"
    );
    assert_eq!(grid[0].get("side"), None);
}

#[test]
fn a_choice_axis_refuses_empty_blank_and_repeated_choices() {
    let e = ParamSpace::new()
        .choices("side", Vec::<String>::new())
        .unwrap_err();
    assert!(
        e.to_string().contains("\"side\" needs at least one value"),
        "{e}"
    );
    let e = ParamSpace::new()
        .choices("side", ["long", " "])
        .unwrap_err();
    assert!(
        e.to_string().contains("\"side\" choice \" \" is blank"),
        "{e}"
    );
    let e = ParamSpace::new()
        .choices("side", ["long", "long"])
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("\"side\" choice \"long\" is listed twice"),
        "{e}"
    );
    let e = ParamSpace::new()
        .values("side", [1.0])
        .unwrap()
        .choices("side", ["long"])
        .unwrap_err();
    assert!(e.to_string().contains("\"side\" defined twice"), "{e}");
}

#[test]
fn points_evaluated_one_by_one_and_sent_as_json_rank_to_the_run_result() {
    let d = data(1_000);
    let sweep = sweep(space()).walk_forward(0.6);
    let whole = sweep.run(&d, Search::Grid).unwrap();
    let points = sweep.points(Search::Grid);
    assert_eq!(points.len(), whole.rows.len());
    // In reverse, as workers may finish them, each row through JSON as a worker sends it.
    let rows: Vec<SweepRow> = points
        .iter()
        .enumerate()
        .rev()
        .map(|(i, p)| {
            let row = sweep.evaluate(i, p, &d).unwrap();
            serde_json::from_str(&serde_json::to_string(&row).unwrap()).unwrap()
        })
        .collect();
    let spread = sweep.rank(rows, sweep.split_time(&d).unwrap());
    assert_eq!(spread, whole, "bit for bit, failed points included");
    assert!(whole.rows.iter().any(|r| r.error.is_some()));
    let bad = self::sweep(space()).walk_forward(1.5);
    assert!(bad.evaluate(0, &points[0], &d).is_err());
    assert!(bad.split_time(&d).is_err());
}

#[test]
fn a_per_segment_sweep_prepares_each_segment_once_and_ranks_as_a_plain_one() {
    use std::sync::Mutex;
    let data = data(600);
    let plain = sweep(space())
        .walk_forward(0.5)
        .threads(2)
        .run(&data, Search::Grid)
        .unwrap();
    let template = template();
    let prepared = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&prepared);
    let shared = Sweep::per_segment(template, space(), move |events, points| {
        seen.lock().unwrap().push((events.len(), points.len()));
        // What the plain sweep's closure does, from a factory built here.
        let factory: Arc<rustrade_backtest::sweep::BrainFactory> = Arc::new(periodic);
        Ok(factory)
    })
    .walk_forward(0.5)
    .threads(2);
    assert_eq!(shared.run(&data, Search::Grid).unwrap(), plain);
    // One preparation per side of the split, each seeing its events and all twelve points.
    assert_eq!(*prepared.lock().unwrap(), vec![(300, 12), (300, 12)]);

    // A point evaluated alone prepares its segments for that point only.
    prepared.lock().unwrap().clear();
    let row = shared
        .evaluate(3, &shared.points(Search::Grid)[3], &data)
        .unwrap();
    let want = plain.rows.iter().find(|r| r.index == 3).unwrap();
    assert_eq!((row.score, &row.statistics), (want.score, &want.statistics));
    assert_eq!(*prepared.lock().unwrap(), vec![(300, 1), (300, 1)]);
}

#[test]
fn a_failed_preparation_fails_the_sweep() {
    let s = Sweep::per_segment(Backtest::builder().instrument(spec()), space(), |_, _| {
        Err(BacktestError::Config {
            field: "prepare",
            reason: "no series".into(),
        })
    });
    let err = s.run(&data(50), Search::Grid).unwrap_err();
    assert!(err.to_string().contains("no series"), "{err}");
}
