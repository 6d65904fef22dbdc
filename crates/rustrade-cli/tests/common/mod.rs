//! Helpers shared by the command-line tests: run the real binary, find the shipped examples.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A shipped example data file, absolute.
pub(crate) fn data(name: &str) -> PathBuf {
    root().join("examples/data").join(name)
}

/// Runs `rustrade args...` in `cwd`.
pub(crate) fn rustrade(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rustrade"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .expect("the rustrade binary runs")
}

/// Standard output as text.
pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A valid config text trading the daily Bitcoin series with the SMA crossover.
pub(crate) fn config(data_file: &Path) -> String {
    format!(
        r#"[[market]]
symbol = "BTCUSD"
file = "{}"
interval = "1d"

[strategy]
name = "sma_cross"

[strategy.params]
fast = 10
slow = 30

[sweep.grid]
fast = [5, 10]
slow = [20, 30]
"#,
        data_file.display()
    )
}

/// Names of the entries of `dir`, sorted.
pub(crate) fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// (time ns, side, price, quantity, fee) of one fill, as the backtest's `result.json` and the
/// paper run's `fills.csv` both give it.
pub(crate) type FillRow = (i64, String, f64, f64, f64);

/// The fills of the backtest whose output folder is `dir`, and its whole result.
pub(crate) fn backtest_fills(dir: &Path) -> (Vec<FillRow>, serde_json::Value) {
    let text = std::fs::read_to_string(dir.join("result.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let fills = json["result"]["fills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["time"].as_i64().unwrap(),
                f["side"].as_str().unwrap().to_owned(),
                f["price"].as_f64().unwrap(),
                f["quantity"].as_f64().unwrap(),
                f["fee"].as_f64().unwrap(),
            )
        })
        .collect();
    (fills, json["result"].clone())
}

/// The fills of the paper run whose output folder is `dir` (its `fills.csv`).
pub(crate) fn paper_fills(dir: &Path) -> Vec<FillRow> {
    let text = std::fs::read_to_string(dir.join("fills.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("time,time_ns,symbol,side,price,quantity,fee")
    );
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[1].parse().unwrap(),
                c[3].to_owned(),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
                c[6].parse().unwrap(),
            )
        })
        .collect()
}
