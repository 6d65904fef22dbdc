//! The other commands: sweep, report, data inspect, init, strategies.

mod common;

use common::*;

#[test]
fn sweep_ranks_the_grid_and_writes_csv() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(&data("Bitcoin.csv"))).unwrap();
    let out = rustrade(cwd.path(), &["sweep", "c.toml", "--threads", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("rank") && text.contains("sharpe"), "{text}");
    assert!(text.contains("4 runs, 0 skipped"), "{text}");
    let csv = std::fs::read_to_string(cwd.path().join("runs/c-sweep/sweep.csv")).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert_eq!(lines.len(), 5);
    assert!(lines[0].starts_with("rank,fast,slow,score,"));
    // Ranked by Sharpe, best first.
    let header: Vec<_> = lines[0].split(',').collect();
    let col = header.iter().position(|h| *h == "sharpe").unwrap();
    let sharpe: Vec<f64> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert!(sharpe.windows(2).all(|w| w[0] >= w[1]), "{sharpe:?}");

    // The same sweep on one thread gives the same file.
    let out = rustrade(
        cwd.path(),
        &["sweep", "c.toml", "--threads", "1", "--out", "one", "-q"],
    );
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(cwd.path().join("one/sweep.csv")).unwrap(),
        csv
    );
    assert!(cwd.path().join("one/sweep.json").is_file());
}

#[test]
fn sweep_decodes_a_large_file_in_runs_and_names_a_late_bad_row() {
    // ~20 000 daily rows (~900 KiB): past two 256 KiB runs, so a two-core machine decodes
    // it on two threads; the bad row lies in the last run.
    let cwd = tempfile::tempdir().unwrap();
    let mut text = String::from("time,open,high,low,close,volume\n");
    let (t0, day) = (1_300_000_000_000_i64, 86_400_000_i64);
    for i in 0..20_000_i64 {
        let p = 100.0 + (i % 50) as f64;
        if i == 19_000 {
            text.push_str(&format!(
                "{},{p},oops,{},{p},1000.125\n",
                t0 + i * day,
                p - 1.0
            ));
        } else {
            let (h, l) = (p + 1.0, p - 1.0);
            text.push_str(&format!("{},{p},{h},{l},{p},1000.125\n", t0 + i * day));
        }
    }
    let file = cwd.path().join("big.csv");
    std::fs::write(&file, text).unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(&file)).unwrap();
    let out = rustrade(cwd.path(), &["sweep", "c.toml", "-q"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("big.csv:19002"), "{err}");
    assert!(
        err.contains("\"high\"") && err.contains("\"oops\""),
        "{err}"
    );
}

#[test]
fn sweep_varies_the_direction_by_name() {
    let cwd = tempfile::tempdir().unwrap();
    let text = config(&data("Bitcoin.csv"))
        .replace(
            "interval = \"1d\"",
            "interval = \"1d\"\nasset_class = \"equity\"",
        )
        .replace(
            "slow = [20, 30]",
            "slow = [30]\ndirection = [\"long_only\", \"long_short\"]",
        );
    std::fs::write(cwd.path().join("c.toml"), text).unwrap();
    let out = rustrade(cwd.path(), &["sweep", "c.toml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (v["runs"].as_u64(), v["skipped"].as_u64()),
        (Some(4), Some(0))
    );
    let csv = std::fs::read_to_string(cwd.path().join("runs/c-sweep/sweep.csv")).unwrap();
    let lines: Vec<_> = csv.lines().collect();
    assert!(
        lines[0].starts_with("rank,direction,fast,slow,score,"),
        "{csv}"
    );
    let header: Vec<_> = lines[0].split(',').collect();
    let trades = header.iter().position(|h| *h == "trades").unwrap();
    let mut by_direction = std::collections::BTreeMap::new();
    for line in &lines[1..] {
        let cells: Vec<_> = line.split(',').collect();
        let count: u64 = cells[trades].parse().unwrap();
        by_direction
            .entry(cells[1].to_owned())
            .or_insert_with(Vec::new)
            .push((cells[2].to_owned(), count));
    }
    assert_eq!(
        by_direction.keys().collect::<Vec<_>>(),
        ["long_only", "long_short"]
    );
    // Always in the market, the reversing variant closes about twice as many trades.
    for (fast, long_only) in &by_direction["long_only"] {
        let (_, both) = by_direction["long_short"]
            .iter()
            .find(|(f, _)| f == fast)
            .unwrap();
        assert!(*both > *long_only, "fast {fast}: {both} vs {long_only}");
    }
    let best = &v["best"][0]["params"]["direction"];
    assert!(best.is_string(), "{v}");
}

#[test]
fn sweep_walk_forward_reports_out_of_sample() {
    let cwd = tempfile::tempdir().unwrap();
    let text = config(&data("Bitcoin.csv")).replace(
        "[sweep.grid]",
        "[sweep]\nobjective = \"total_return\"\nwalk_forward = 0.6\n[sweep.grid]",
    );
    std::fs::write(cwd.path().join("c.toml"), text).unwrap();
    let out = rustrade(cwd.path(), &["sweep", "c.toml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["objective"], "total_return");
    let best = v["best"].as_array().unwrap();
    assert_eq!(best.len(), 4);
    assert!(
        best.iter().all(|b| b["out_of_sample_score"].is_number()),
        "{v}"
    );
    let scores: Vec<f64> = best.iter().map(|b| b["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn sweep_skips_invalid_combinations_and_needs_a_grid() {
    let cwd = tempfile::tempdir().unwrap();
    let text = config(&data("Bitcoin.csv")).replace("slow = [20, 30]", "slow = [5, 30]");
    std::fs::write(cwd.path().join("c.toml"), text).unwrap();
    let out = rustrade(cwd.path(), &["sweep", "c.toml", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(
        (v["runs"].as_u64(), v["skipped"].as_u64()),
        (Some(2), Some(2))
    );

    let text = config(&data("Bitcoin.csv"));
    let text = &text[..text.find("[sweep.grid]").unwrap()];
    std::fs::write(cwd.path().join("n.toml"), text).unwrap();
    let out = rustrade(cwd.path(), &["sweep", "n.toml"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("no [sweep] table"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn report_re_renders_from_result_json() {
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("c.toml"), config(&data("Bitcoin.csv"))).unwrap();
    assert!(
        rustrade(cwd.path(), &["backtest", "c.toml", "--out", "r", "-q"])
            .status
            .success()
    );
    let original = std::fs::read_to_string(cwd.path().join("r/report.html")).unwrap();
    std::fs::remove_file(cwd.path().join("r/report.html")).unwrap();
    let out = rustrade(cwd.path(), &["report", "r/result.json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(cwd.path().join("r/report.html")).unwrap(),
        original
    );

    let out = rustrade(
        cwd.path(),
        &["report", "r/result.json", "--out", "copy.html"],
    );
    assert!(out.status.success());
    assert!(cwd.path().join("copy.html").is_file());

    std::fs::write(cwd.path().join("x.json"), "{\"format\": 1}").unwrap();
    let out = rustrade(cwd.path(), &["report", "x.json"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("x.json: not a rustrade-run/1 result"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn data_inspect_describes_good_and_bad_files() {
    let cwd = tempfile::tempdir().unwrap();
    let out = rustrade(
        cwd.path(),
        &["data", "inspect", data("Bitcoin.csv").to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("bars            1246"), "{text}");
    assert!(text.contains("2017-08-16 .. 2021-01-12"), "{text}");
    assert!(text.contains("interval        1 d"), "{text}");
    assert!(text.contains("problems        none"), "{text}");

    let out = rustrade(
        cwd.path(),
        &[
            "data",
            "inspect",
            data("Default.csv").to_str().unwrap(),
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["bars"], 502);
    assert_eq!(v["interval_secs"], 86_400.0);
    assert!(
        v["gaps"].as_u64().unwrap() > 50,
        "weekends are gaps in daily stock data"
    );

    let out = rustrade(
        cwd.path(),
        &["data", "inspect", data("Bad.csv").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stdout(&out).contains("problem         "),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("Bad.csv:202:"), "{}", stderr(&out));

    let out = rustrade(cwd.path(), &["data", "inspect", "nope.csv"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("nope.csv: cannot read"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn init_writes_a_working_config_and_refuses_to_overwrite() {
    let cwd = tempfile::tempdir().unwrap();
    let out = rustrade(cwd.path(), &["init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = cwd.path().join("rustrade.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("# rustrade backtest configuration"));

    let out = rustrade(cwd.path(), &["init"]);
    assert_eq!(out.status.code(), Some(6));
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert!(rustrade(cwd.path(), &["init", "--force"]).status.success());

    // The template runs as is once its data file is found.
    let out = rustrade(
        cwd.path(),
        &[
            "backtest",
            "rustrade.toml",
            "--data",
            data("Bitcoin.csv").to_str().unwrap(),
            "-q",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(cwd.path().join("runs/rustrade/report.html").is_file());
}

#[test]
fn strategies_lists_the_registry() {
    let cwd = tempfile::tempdir().unwrap();
    let out = rustrade(cwd.path(), &["strategies", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 5);
    assert_eq!(v[0]["name"], "sma_cross");
    assert_eq!(
        v[0]["defaults"],
        serde_json::json!({"fast": 10, "slow": 30})
    );
}

#[test]
fn every_example_runs() {
    let cwd = tempfile::tempdir().unwrap();
    for name in [
        "sma-cross",
        "ema-cross",
        "rsi-reversion",
        "bollinger-breakout",
        "donchian-breakout",
    ] {
        let config = root().join(format!("examples/{name}.toml"));
        let out = rustrade(
            cwd.path(),
            &["backtest", config.to_str().unwrap(), "--json"],
        );
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
        assert!(
            v["statistics"]["trades"].as_f64().unwrap() >= 1.0,
            "{name} trades"
        );
        assert!(
            cwd.path()
                .join("runs")
                .join(name)
                .join("report.html")
                .is_file()
        );
    }
}

#[test]
fn several_markets_trade_together() {
    let cwd = tempfile::tempdir().unwrap();
    let text = format!(
        r#"[[market]]
symbol = "BTCUSD"
file = "{}"
interval = "1d"

[[market]]
symbol = "SPY"
file = "{}"
interval = "1d"
asset_class = "equity"
lot_size = 1.0

[strategy]
name = "sma_cross"

[risk]
margin = 4000.0
"#,
        data("Bitcoin.csv").display(),
        data("Default.csv").display()
    );
    std::fs::write(cwd.path().join("m.toml"), text).unwrap();
    let out = rustrade(cwd.path(), &["backtest", "m.toml", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(cwd.path().join("runs/m/result.json")).unwrap(),
    )
    .unwrap();
    let symbols: Vec<&str> = record["prices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["BTCUSD", "SPY"]);
    let trades = std::fs::read_to_string(cwd.path().join("runs/m/trades.csv")).unwrap();
    assert!(trades.contains(",BTCUSD,") && trades.contains(",SPY,"));

    // --data is refused when it cannot tell which market it replaces.
    let out = rustrade(
        cwd.path(),
        &[
            "backtest",
            "m.toml",
            "--data",
            data("Bitcoin.csv").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("the config has 2"),
        "{}",
        stderr(&out)
    );
}
