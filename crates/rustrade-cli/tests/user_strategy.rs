//! The library entry point: a strategy registered by a program runs through every command that
//! takes a config, with the ready strategies' parameter rules and one-line errors. In-process,
//! through the public API, as a user's own `main` would run it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustrade_core::{Brain, BrainError, Decision, MarketEvent, Position};
use serde::{Deserialize, Serialize};

use rustrade_cli::{App, CliError, Registry, Strategy, StrategyError};

/// Exit statuses, as `rustrade --help` lists them.
const INTERNAL: u8 = 1;
const USAGE: u8 = 2;
const CONFIG: u8 = 3;

/// A user's strategy: buy after `bars` rising closes, close on a fall below `level` percent of the
/// entry-time close. What it trades matters less than that it trades.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Rising {
    bars: u16,
    level: f64,
}

impl Default for Rising {
    fn default() -> Self {
        Self {
            bars: 2,
            level: 97.0,
        }
    }
}

impl Strategy for Rising {
    const SUMMARY: &'static str = "buy after `bars` rising closes, close on a fall";

    fn validate(&self) -> Result<(), StrategyError> {
        if self.bars == 0 {
            return Err(StrategyError::invalid("bars", "must be >= 1 (got 0)"));
        }
        if !(self.level > 0.0 && self.level < 100.0) {
            return Err(StrategyError::invalid(
                "level",
                format!("must be within (0, 100) (got {})", self.level),
            ));
        }
        Ok(())
    }

    fn into_brain(self, name: &str) -> Result<Arc<dyn Brain>, StrategyError> {
        Ok(Arc::new(RisingBrain {
            name: name.to_owned(),
            params: self,
            state: Mutex::new((f64::NAN, 0)),
        }))
    }
}

struct RisingBrain {
    name: String,
    params: Rising,
    /// Last close and the current run of rising closes (one symbol in these tests).
    state: Mutex<(f64, u16)>,
}

#[rustrade_core::async_trait]
impl Brain for RisingBrain {
    fn name(&self) -> &str {
        &self.name
    }

    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        let Some(candle) = event.as_candle() else {
            return Ok(Decision::hold());
        };
        let close = candle.close().get();
        let mut state = self.state.lock().expect("not poisoned");
        let (last, run) = &mut *state;
        *run = if close > *last { *run + 1 } else { 0 };
        let fell = close < *last * self.params.level / 100.0;
        *last = close;
        Ok(if position.is_flat() && *run >= self.params.bars {
            Decision::buy(1.0)
        } else if position.is_long() && fell {
            Decision::close()
        } else {
            Decision::hold()
        })
    }
}

fn app() -> App {
    App::new().strategy::<Rising>("rising")
}

fn bitcoin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/data/Bitcoin.csv")
        .canonicalize()
        .expect("the shipped data")
}

/// A config trading the shipped daily Bitcoin series with strategy `name` and `params` (TOML
/// lines), written into `dir`.
fn config(dir: &Path, name: &str, params: &str) -> PathBuf {
    let path = dir.join("c.toml");
    let text = format!(
        "[[market]]\nsymbol = \"BTCUSD\"\nfile = {file:?}\ninterval = \"1d\"\n\n\
         [strategy]\nname = \"{name}\"\n\n[strategy.params]\n{params}\n\n\
         [sweep.grid]\nbars = [1, 2, 3]\n",
        file = bitcoin().display().to_string(),
    );
    std::fs::write(&path, text).expect("config written");
    path
}

fn run(app: App, args: &[&str]) -> Result<(), CliError> {
    app.try_run_from(std::iter::once("rustrade").chain(args.iter().copied()))
}

fn text(path: &Path) -> String {
    path.to_str().expect("a UTF-8 path").to_owned()
}

#[test]
fn a_user_strategy_backtests_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = text(&config(dir.path(), "rising", "bars = 3"));
    let out = dir.path().join("out");
    run(app(), &["backtest", &cfg, "--out", &text(&out), "-q"]).expect("the backtest runs");

    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["strategy"]["name"], "rising");
    // The parameters of the run, defaults filled in, as for a ready strategy.
    assert_eq!(
        result["strategy"]["params"],
        serde_json::json!({"bars": 3, "level": 97.0})
    );
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    assert!(trades.lines().count() > 10, "the brain traded:\n{trades}");
    assert!(out.join("report.html").is_file());

    // A parameter set on the command line reaches the brain: fewer bars, more trades.
    let out2 = dir.path().join("out2");
    run(
        app(),
        &[
            "backtest",
            &cfg,
            "--param",
            "bars=1",
            "--out",
            &text(&out2),
            "-q",
        ],
    )
    .expect("the backtest runs");
    let more = std::fs::read_to_string(out2.join("trades.csv")).unwrap();
    assert!(more.lines().count() > trades.lines().count());
}

#[test]
fn a_user_strategy_sweeps_and_paper_trades() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = text(&config(dir.path(), "rising", ""));
    let sweep = dir.path().join("sweep");
    run(
        app(),
        &[
            "sweep",
            &cfg,
            "--out",
            &text(&sweep),
            "--threads",
            "1",
            "-q",
        ],
    )
    .expect("the sweep runs");
    let csv = std::fs::read_to_string(sweep.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "three grid points:\n{csv}");
    assert!(csv.starts_with("rank,bars,"), "{csv}");

    let paper = dir.path().join("paper");
    run(app(), &["paper", &cfg, "--out", &text(&paper), "-q"]).expect("the paper bot runs");
    let fills = std::fs::read_to_string(paper.join("fills.csv")).unwrap();
    assert!(fills.lines().count() > 2, "the paper bot traded:\n{fills}");
}

#[test]
fn live_resolves_a_user_strategy_before_asking_for_keys_and_a_venue() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = text(&config(dir.path(), "rising", ""));
    // The config (strategy included) is accepted; what stops the run is the missing API keys
    // or, with keys in the environment, the missing [venue] table.
    let err = run(app(), &["live", &cfg]).expect_err("no keys, no [venue] table");
    let shown = err.to_string();
    assert!(
        shown.contains("RUSTRADE_BINANCE_API_KEY") || shown.contains("[venue]"),
        "{shown}"
    );
    assert!(!shown.contains("strategy"), "{shown}");
    // Without the registration the same config stops at the strategy's name.
    let err = run(App::new(), &["live", &cfg]).expect_err("unknown strategy");
    assert_eq!(
        err.to_string(),
        format!(
            "{cfg}:7: strategy.name: unknown strategy \"rising\" (known: sma_cross, ema_cross, \
             rsi_reversion, bollinger_breakout, donchian_breakout)"
        )
    );
    assert_eq!(err.exit_code(), CONFIG);
}

/// Each refusal as `rustrade` prints it (after `rustrade: error: `) and its exit status.
fn refusal(app: App, name: &str, params: &str, flags: &[&str]) -> (String, u8) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = text(&config(dir.path(), name, params));
    let mut args = vec!["backtest", cfg.as_str(), "-q"];
    args.extend_from_slice(flags);
    let err = run(app, &args).expect_err("refused");
    let text = err.to_string().replace(&cfg, "c.toml");
    (text, err.exit_code())
}

#[test]
fn bad_user_parameters_give_the_one_line_errors_of_the_ready_strategies() {
    let cases: [(&str, &str, &[&str], &str); 6] = [
        (
            "rising",
            "bras = 3",
            &[],
            "c.toml:10: strategy.params.bras: unknown field `bras`, expected `bars` or `level`",
        ),
        (
            "rising",
            "bars = \"three\"",
            &[],
            "c.toml:10: strategy.params.bars: invalid type: string \"three\", expected u16",
        ),
        (
            "rising",
            "bars = 0",
            &[],
            "c.toml:10: strategy.params.bars: must be >= 1 (got 0)",
        ),
        (
            "rising",
            "",
            &["--param", "level=120"],
            "--param level=120: strategy.params.level: must be within (0, 100) (got 120)",
        ),
        // The ready strategies, for comparison: the same shapes.
        (
            "sma_cross",
            "fsat = 3",
            &[],
            "c.toml:10: strategy.params.fsat: unknown field `fsat`, expected one of `fast`, \
             `slow`, `direction`",
        ),
        (
            "sma_cross",
            "",
            &["--param", "fast=40"],
            "--param fast=40: strategy.params.fast: must be < slow (got 40 >= 30)",
        ),
    ];
    for (name, params, flags, expected) in cases {
        assert_eq!(
            refusal(app(), name, params, flags),
            (expected.to_owned(), CONFIG),
            "{name} {params} {flags:?}"
        );
    }
}

#[test]
fn a_grid_over_a_parameter_the_user_strategy_lacks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), "rising", "");
    let text_cfg = std::fs::read_to_string(&path)
        .unwrap()
        .replace("bars = [1, 2, 3]", "fast = [1, 2]");
    std::fs::write(&path, text_cfg).unwrap();
    let cfg = text(&path);
    let err = run(app(), &["sweep", &cfg, "-q"]).expect_err("no such parameter");
    assert_eq!(
        err.to_string(),
        format!(
            "{cfg}:13: sweep.grid.fast: rising has no parameter \"fast\" (it has: bars, level)"
        )
    );
}

#[test]
fn the_registry_lists_user_strategies_after_the_ready_ones() {
    let app = app();
    let names: Vec<_> = app.registry().list().iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "sma_cross",
            "ema_cross",
            "rsi_reversion",
            "bollinger_breakout",
            "donchian_breakout",
            "rising"
        ]
    );
    let rising = app.registry().info("rising").unwrap();
    assert_eq!(rising.summary, Rising::SUMMARY);
    assert_eq!(
        rising.default_params(),
        serde_json::json!({"bars": 2, "level": 97.0})
    );
    run(app, &["strategies", "-q"]).expect("strategies lists");
}

#[test]
fn a_refused_registration_fails_every_run_with_one_line() {
    let err = run(App::new().strategy::<Rising>("sma_cross"), &["strategies"])
        .expect_err("the name is taken");
    assert_eq!(
        err.to_string(),
        "cannot register strategy \"sma_cross\": the name is already registered"
    );
    assert_eq!(err.exit_code(), INTERNAL);

    let err = run(App::new().strategy::<Rising>("my brain"), &["strategies"])
        .expect_err("not a plain name");
    assert_eq!(
        err.to_string(),
        "cannot register strategy \"my brain\": a name holds only ASCII letters, digits, `_` \
         and `-`"
    );
    // The first refusal is the one reported.
    let err = run(
        App::new()
            .strategy::<Rising>("")
            .strategy::<Rising>("sma_cross"),
        &["strategies"],
    )
    .expect_err("empty");
    assert_eq!(
        err.to_string(),
        "cannot register strategy \"\": a name must not be empty"
    );
}

#[test]
fn a_registry_of_only_user_strategies_knows_nothing_else() {
    let app = App::with_registry(Registry::empty()).strategy::<Rising>("rising");
    assert_eq!(app.registry().list().len(), 1);
    let (text, code) = refusal(app, "sma_cross", "", &[]);
    assert_eq!(
        text,
        "c.toml:7: strategy.name: unknown strategy \"sma_cross\" (known: rising)"
    );
    assert_eq!(code, CONFIG);
}

#[test]
fn usage_errors_keep_clap_and_exit_2() {
    let err = run(app(), &["backtest"]).expect_err("the config is required");
    assert!(matches!(err, CliError::Usage(_)), "{err:?}");
    assert_eq!(err.exit_code(), USAGE);
}
