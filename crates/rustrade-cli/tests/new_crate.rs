//! `rustrade new`: the crate it writes builds, passes its own test and backtests its example
//! config with one `cargo run`, from a temporary folder, offline.
//!
//! The build shares this test's target directory, so only the rustrade crates and the new crate
//! compile (the third-party dependencies are already built). Skipped, saying so, when there is
//! no `cargo` to run.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// The cargo that runs this test (`CARGO`), else the one on `PATH`; `None` if it does not run.
fn cargo() -> Option<OsString> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let ok = Command::new(&cargo)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(cargo)
}

/// This test's target directory: the parent of `CARGO_TARGET_TMPDIR` (`<target>/tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_owned()
}

fn cargo_in(cargo: &OsString, dir: &Path, args: &[&str]) -> Output {
    Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("RUST_LOG")
        .output()
        .expect("cargo runs")
}

#[test]
fn the_new_crate_builds_tests_and_backtests_offline() {
    let Some(cargo) = cargo() else {
        println!("skipped: no cargo to build the new crate with (CARGO unset, none on PATH)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = rustrade(tmp.path(), &["new", "my-bot"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("cargo run --release -- backtest rustrade.toml"));
    let dir = tmp.path().join("my-bot");

    // Its own test: the example config backtests, a bad parameter is one line.
    let test = cargo_in(&cargo, &dir, &["test", "--offline", "--quiet"]);
    assert!(
        test.status.success(),
        "cargo test failed:\n{}\n{}",
        stdout(&test),
        stderr(&test)
    );

    // The one command of its config's header, in debug: statistics and the four result files.
    let run = cargo_in(
        &cargo,
        &dir,
        &[
            "run",
            "--offline",
            "--quiet",
            "--",
            "backtest",
            "rustrade.toml",
        ],
    );
    assert!(run.status.success(), "cargo run failed:\n{}", stderr(&run));
    let text = stdout(&run);
    assert!(text.starts_with("momentum {"), "{text}");
    assert!(text.contains("Wrote result.json"), "{text}");
    assert_eq!(
        entries(&dir.join("runs/example")),
        ["equity.csv", "report.html", "result.json", "trades.csv"]
    );

    // Every command knows the brain: it is listed beside the ready ones.
    let list = cargo_in(
        &cargo,
        &dir,
        &["run", "--offline", "--quiet", "--", "strategies"],
    );
    assert!(list.status.success(), "{}", stderr(&list));
    let listed = stdout(&list);
    assert!(
        listed.contains("sma_cross") && listed.contains("momentum"),
        "{listed}"
    );

    // A bad parameter: the ready strategies' one-line error, exit status 3.
    let bad = cargo_in(
        &cargo,
        &dir,
        &[
            "run",
            "--offline",
            "--quiet",
            "--",
            "backtest",
            "rustrade.toml",
            "--param",
            "lookback=0",
        ],
    );
    assert_eq!(bad.status.code(), Some(3));
    assert_eq!(
        stderr(&bad).trim_end(),
        "rustrade: error: --param lookback=0: strategy.params.lookback: must be >= 1 (got 0)"
    );
}

#[test]
fn new_refuses_an_existing_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("my-bot")).unwrap();
    let out = rustrade(tmp.path(), &["new", "my-bot"]);
    assert_eq!(out.status.code(), Some(6));
    assert_eq!(
        stderr(&out).trim_end(),
        "rustrade: error: my-bot: cannot write: already exists (rustrade new never overwrites; \
         pick a new folder)"
    );
    assert!(entries(&tmp.path().join("my-bot")).is_empty());
}
