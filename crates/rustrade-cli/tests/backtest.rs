//! Acceptance: the README's first command, and every malformed config refused cleanly.

mod common;

use common::*;

/// The first command a newcomer runs (`backtest examples/sma-cross.toml`) completes, prints the
/// statistics and writes the four files into `runs/sma-cross` under the current folder.
#[test]
fn first_command_writes_the_four_files() {
    let cwd = tempfile::tempdir().unwrap();
    let config = root().join("examples/sma-cross.toml");
    let out = rustrade(cwd.path(), &["backtest", config.to_str().unwrap()]);
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    assert!(
        out.stderr.is_empty(),
        "no progress bar when stderr is not a terminal: {}",
        stderr(&out)
    );
    let text = stdout(&out);
    for label in [
        "Total return",
        "Sharpe ratio",
        "Max drawdown",
        "Trades",
        "Buy & hold return",
    ] {
        assert!(text.contains(label), "missing {label}: {text}");
    }
    let dir = cwd.path().join("runs/sma-cross");
    assert_eq!(
        entries(&dir),
        ["equity.csv", "report.html", "result.json", "trades.csv"]
    );
    let trades = std::fs::read_to_string(dir.join("trades.csv")).unwrap();
    assert!(trades.starts_with("brain,symbol,side,quantity,entry_time"));
    assert!(trades.lines().count() > 5, "the example trades: {trades}");
    let equity = std::fs::read_to_string(dir.join("equity.csv")).unwrap();
    assert_eq!(equity.lines().count(), 1 + 1247, "header + n + 1 samples");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("result.json")).unwrap()).unwrap();
    assert_eq!(json["format"], "rustrade-run/1");
    assert_eq!(
        json["strategy"]["params"],
        serde_json::json!({"fast": 10, "slow": 30})
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("uPlot") && html.contains("report-data"));
    assert!(
        !html.contains("src=\"http"),
        "the report loads nothing from the network"
    );
}

#[test]
fn two_runs_write_identical_results() {
    let cwd = tempfile::tempdir().unwrap();
    let config = root().join("examples/sma-cross.toml");
    let config = config.to_str().unwrap();
    assert!(
        rustrade(cwd.path(), &["backtest", config, "--out", "a", "-q"])
            .status
            .success()
    );
    assert!(
        rustrade(cwd.path(), &["backtest", config, "--out", "b", "-q"])
            .status
            .success()
    );
    for f in ["result.json", "trades.csv", "equity.csv", "report.html"] {
        let a = std::fs::read(cwd.path().join("a").join(f)).unwrap();
        let b = std::fs::read(cwd.path().join("b").join(f)).unwrap();
        assert!(a == b, "{f} differs between identical runs");
    }
}

#[test]
fn overrides_json_and_quiet() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(&data("Default.csv"))).unwrap();
    let out = rustrade(
        cwd.path(),
        &[
            "backtest",
            "c.toml",
            "--param",
            "fast=5",
            "--param",
            "slow=15",
            "--data",
            data("Bitcoin.csv").to_str().unwrap(),
            "--out",
            "res",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["params"], serde_json::json!({"fast": 5, "slow": 15}));
    assert_eq!(v["output_dir"], "res");
    assert!(v["statistics"]["total_return"].is_number());
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cwd.path().join("res/result.json")).unwrap())
            .unwrap();
    assert!(
        record["markets"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("Bitcoin.csv")
    );

    let out = rustrade(cwd.path(), &["backtest", "c.toml", "--out", "q", "--quiet"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

/// Runs a malformed config and checks: the exit code, a one-line error naming `expect`, and
/// nothing written next to the config.
fn refused(text: &str, args: &[&str], code: i32, expect: &[&str]) {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("bad.toml"), text).unwrap();
    let mut all = vec!["backtest", "bad.toml"];
    all.extend_from_slice(args);
    let out = rustrade(cwd.path(), &all);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("rustrade: error: "), "{err}");
    for e in expect {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    assert!(
        out.stdout.is_empty(),
        "nothing printed on stdout: {}",
        stdout(&out)
    );
    assert_eq!(entries(cwd.path()), ["bad.toml"], "nothing written");
}

#[test]
fn unknown_key_is_refused() {
    let text = config(&data("Bitcoin.csv"))
        .replace("interval = \"1d\"", "interval = \"1d\"\nticksize = 0.1");
    refused(
        &text,
        &[],
        3,
        &[
            "bad.toml:5:",
            "market[0].ticksize",
            "unknown field `ticksize`",
        ],
    );
    let text = config(&data("Bitcoin.csv")).replace("slow = 30", "slow = 30\nslo = 3");
    refused(
        &text,
        &[],
        3,
        &["bad.toml:12:", "strategy.params.slo", "unknown field `slo`"],
    );
}

#[test]
fn wrong_type_is_refused() {
    let text = config(&data("Bitcoin.csv")).replace("fast = 10", "fast = \"ten\"");
    refused(
        &text,
        &[],
        3,
        &["bad.toml:10:", "strategy.params.fast", "\"ten\""],
    );
    let text = format!(
        "{}\n[account]\ninitial_cash = true\n",
        config(&data("Bitcoin.csv"))
    );
    refused(&text, &[], 3, &["account.initial_cash", "boolean"]);
}

#[test]
fn fast_not_below_slow_is_refused() {
    let text = config(&data("Bitcoin.csv"))
        .replace("fast = 10", "fast = 30")
        .replace("slow = 30", "slow = 20");
    refused(
        &text,
        &[],
        3,
        &["bad.toml:10: strategy.params.fast: must be < slow (got 30 >= 20)"],
    );
    refused(
        &config(&data("Bitcoin.csv")),
        &["--param", "fast=40"],
        3,
        &["--param fast=40: strategy.params.fast: must be < slow (got 40 >= 30)"],
    );
}

#[test]
fn missing_data_file_is_refused() {
    let text = config(&data("Bitcoin.csv")).replace("Bitcoin.csv", "Missing.csv");
    refused(
        &text,
        &[],
        3,
        &[
            "bad.toml:3: market[0].file: no such data file:",
            "Missing.csv",
        ],
    );
}

#[test]
fn bad_data_is_refused_with_file_and_line() {
    let bad = data("Bad.csv");
    refused(&config(&bad), &[], 4, &["Bad.csv:202:", "column \"date\""]);
    refused(
        &config(&data("Bitcoin.csv")),
        &["--data", bad.to_str().unwrap()],
        4,
        &["Bad.csv:202:"],
    );
}

#[test]
fn a_failed_run_keeps_earlier_results() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(&data("Bitcoin.csv"))).unwrap();
    assert!(
        rustrade(cwd.path(), &["backtest", "c.toml", "--out", "r", "-q"])
            .status
            .success()
    );
    let before = std::fs::read(cwd.path().join("r/result.json")).unwrap();
    let bad = data("Bad.csv");
    let out = rustrade(
        cwd.path(),
        &[
            "backtest",
            "c.toml",
            "--out",
            "r",
            "--data",
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(
        std::fs::read(cwd.path().join("r/result.json")).unwrap(),
        before
    );
    assert_eq!(entries(cwd.path()), ["c.toml", "r"]);
}

#[test]
fn usage_errors_exit_2() {
    let cwd = tempfile::tempdir().unwrap();
    let out = rustrade(cwd.path(), &["backtest"]);
    assert_eq!(out.status.code(), Some(2));
    let out = rustrade(cwd.path(), &["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = rustrade(cwd.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("Exit codes"));
}
