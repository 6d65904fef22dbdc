//! `[strategy] timeframe`: `sma_cross` on hourly bars built from a one-minute file decides only
//! when an hour closes, so every entry fills at the open of the minute after an hour, and the
//! run record says which bars it decided on.

mod common;

use common::*;

fn config(timeframe: Option<&str>) -> String {
    let timeframe = timeframe.map_or(String::new(), |t| format!("timeframe = \"{t}\"\n"));
    format!(
        r#"[[market]]
symbol = "SPY"
file = "{}"
interval = "1m"
asset_class = "equity"

[strategy]
name = "sma_cross"
{timeframe}
[strategy.params]
fast = 2
slow = 3
"#,
        data("Intraday.csv").display()
    )
}

/// Runs a backtest of `text`; answers the entry times of its trades and the run record.
fn run(text: &str) -> (Vec<String>, serde_json::Value) {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), text).unwrap();
    run_file(cwd.path(), "c.toml", "runs/c")
}

/// Runs a backtest of the config at `path` in `cwd`, its results written to `out`.
fn run_file(cwd: &std::path::Path, path: &str, out: &str) -> (Vec<String>, serde_json::Value) {
    let run = rustrade(cwd, &["backtest", path]);
    assert!(run.status.success(), "stderr: {}", stderr(&run));
    let dir = cwd.join(out);
    let trades = std::fs::read_to_string(dir.join("trades.csv")).unwrap();
    let mut lines = trades.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|h| *h == "entry_time").unwrap();
    let entries = lines
        .map(|l| l.split(',').nth(at).unwrap().to_owned())
        .collect();
    let json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    (entries, json)
}

#[test]
fn sma_cross_on_hours_from_minutes_enters_only_after_an_hour_closes() {
    let (hourly, json) = run(&config(Some("1h")));
    assert!(
        !hourly.is_empty(),
        "the strategy must trade for the test to mean anything"
    );
    for t in &hourly {
        assert!(
            t.contains(":01:00"),
            "entry at {t}: not the minute after an hour"
        );
    }
    assert_eq!(json["strategy"]["timeframe"], "1h");
    let (minutes, json) = run(&config(None));
    assert!(json["strategy"].get("timeframe").is_none());
    // Without it the same strategy enters on other minutes too: the check above can fail.
    assert!(minutes.iter().any(|t| !t.contains(":01:00")), "{minutes:?}");
}

#[test]
fn a_timeframe_that_is_not_a_multiple_of_the_data_is_refused_at_its_line() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(Some("90s"))).unwrap();
    let out = rustrade(cwd.path(), &["backtest", "c.toml"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("c.toml:9: strategy.timeframe: must be a whole multiple"),
        "{err}"
    );
}

#[test]
fn the_shipped_hourly_example_trades_on_hours() {
    let cwd = tempfile::tempdir().unwrap();
    let example = root().join("examples/sma-cross-hourly.toml");
    let (entries, json) = run_file(
        cwd.path(),
        example.to_str().unwrap(),
        "runs/sma-cross-hourly",
    );
    assert!(!entries.is_empty(), "the example trades");
    assert!(entries.iter().all(|t| t.contains(":01:00")), "{entries:?}");
    assert_eq!(json["strategy"]["timeframe"], "1h");
}

#[test]
fn paper_on_the_hourly_example_fills_exactly_as_the_backtest() {
    let cwd = tempfile::tempdir().unwrap();
    let example = root().join("examples/sma-cross-hourly.toml");
    let example = example.to_str().unwrap();
    let bt = rustrade(cwd.path(), &["backtest", example]);
    assert!(bt.status.success(), "{}", stderr(&bt));
    let paper = rustrade(cwd.path(), &["paper", example, "--speed", "max"]);
    assert!(paper.status.success(), "{}", stderr(&paper));

    let (expected, _) = backtest_fills(&cwd.path().join("runs/sma-cross-hourly"));
    let got = paper_fills(&cwd.path().join("runs/sma-cross-hourly-paper"));
    assert!(expected.len() >= 4, "the example trades: {expected:?}");
    assert_eq!(got, expected, "paper (left) and backtest (right)");
}
