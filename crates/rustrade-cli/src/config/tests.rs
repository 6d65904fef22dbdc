//! Both configuration layers: every refusal names the file, line (or flag), key and value.

use std::path::{Path, PathBuf};

use super::*;
use rustrade_risk::SizingBasis;

/// A config in the crate folder whose data paths point at the shipped examples.
fn load(text: &str, overrides: &Overrides) -> Result<Config, ConfigError> {
    let path = config_path();
    let raw = parse(&path, text)?;
    Config::from_raw(&path, text, raw, overrides, &Registry::builtin())
}

fn config_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/test.toml")
}

const GOOD: &str = r#"
[[market]]
symbol = "BTCUSD"
file = "data/Bitcoin.csv"
interval = "1d"

[strategy]
name = "sma_cross"

[strategy.params]
fast = 10
slow = 30

[sweep.grid]
fast = [5, 10]
slow = [20, 30, 40]
"#;

fn err(text: &str) -> String {
    load(text, &Overrides::default()).unwrap_err().to_string()
}

fn file() -> String {
    config_path().display().to_string()
}

#[test]
fn a_good_config_validates_with_defaults() {
    let c = load(GOOD, &Overrides::default()).unwrap();
    assert_eq!(c.title, "test");
    assert_eq!(c.markets.len(), 1);
    assert_eq!(c.markets[0].spec.symbol(), "BTCUSD");
    assert_eq!(
        c.strategy.params,
        serde_json::json!({"fast": 10, "slow": 30})
    );
    assert_eq!(c.initial_cash, 10_000.0);
    assert_eq!(c.sim.fees, FeeModel::rates(0.001, 0.001));
    assert!(!c.sim.trade_on_close);
    assert_eq!(c.risk.sizing.margin, 9_500.0);
    assert_eq!(c.risk.session.loss_cap, None);
    assert_eq!(c.periods_per_year, None);
    let text = format!(
        "{GOOD}\n[risk]\nbreaker_losses = 2\nbreaker_window = \"2d\"\nbreaker_cooldown = \"1w\"\n\
         [statistics]\nperiods_per_year = 252.0\n"
    );
    let c = load(&text, &Overrides::default()).unwrap();
    assert_eq!(c.risk.breaker.loss_limit, 2);
    assert_eq!(c.risk.breaker.window, Duration::from_secs(2 * 86_400));
    assert_eq!(c.risk.breaker.cooldown, Duration::from_secs(7 * 86_400));
    assert_eq!(c.periods_per_year, Some(252.0));
    assert_eq!(c.output_dir, PathBuf::from("runs/test"));
    let sweep = c.sweep.unwrap();
    assert_eq!(sweep.objective_name(), "sharpe");
    assert_eq!(sweep.points(), 6);
    assert_eq!(sweep.space().unwrap().grid_len(), 6);
}

#[test]
fn unknown_keys_are_errors_with_line_and_key() {
    let text = GOOD.replace("interval = \"1d\"", "intervall = \"1d\"");
    let e = err(&text);
    assert!(e.starts_with(&format!("{}:5:", file())), "{e}");
    assert!(e.contains("market[0].intervall"), "{e}");
    assert!(e.contains("unknown field `intervall`"), "{e}");
    assert!(!e.contains('\n'));

    let e = err(&format!("{GOOD}\n[accounts]\ninitial_cash = 1.0\n"));
    assert!(e.contains("unknown field `accounts`"), "{e}");
}

#[test]
fn wrong_types_name_key_and_value() {
    let e = err(&GOOD.replace("slow = 30", "slow = \"thirty\""));
    assert!(
        e.starts_with(&format!("{}:12: strategy.params.slow:", file())),
        "{e}"
    );
    assert!(e.contains("\"thirty\""), "{e}");

    let e = err(&format!("{GOOD}\n[account]\ninitial_cash = \"lots\"\n"));
    assert!(e.contains("account.initial_cash"), "{e}");
    assert!(e.contains("lots"), "{e}");
}

#[test]
fn invalid_strategy_parameters_point_at_the_line() {
    let e = err(&GOOD
        .replace("fast = 10", "fast = 30")
        .replace("slow = 30", "slow = 20"));
    assert_eq!(
        e,
        format!(
            "{}:11: strategy.params.fast: must be < slow (got 30 >= 20)",
            file()
        )
    );
    let e = err(&GOOD.replace("fast = 10", "fsat = 10"));
    assert!(
        e.starts_with(&format!("{}:11: strategy.params.fsat:", file())),
        "{e}"
    );
    let e = err(&GOOD.replace("name = \"sma_cross\"", "name = \"sma\""));
    assert!(
        e.starts_with(&format!(
            "{}:8: strategy.name: unknown strategy \"sma\"",
            file()
        )),
        "{e}"
    );
}

#[test]
fn overrides_apply_and_are_blamed_by_flag() {
    let o = Overrides {
        params: vec!["fast=5".into(), "slow=50".into()],
        out: Some("elsewhere".into()),
        ..Overrides::default()
    };
    let c = load(GOOD, &o).unwrap();
    assert_eq!(
        c.strategy.params,
        serde_json::json!({"fast": 5, "slow": 50})
    );
    assert_eq!(c.output_dir, PathBuf::from("elsewhere"));

    let o = Overrides {
        params: vec!["fast=40".into()],
        ..Overrides::default()
    };
    let e = load(GOOD, &o).unwrap_err();
    assert_eq!(e.key(), Some("strategy.params.fast"));
    assert_eq!(
        e.to_string(),
        "--param fast=40: strategy.params.fast: must be < slow (got 40 >= 30)"
    );
    let o = Overrides {
        params: vec!["fast".into()],
        ..Overrides::default()
    };
    assert_eq!(
        load(GOOD, &o).unwrap_err().to_string(),
        "--param fast: expected key=value"
    );
}

#[test]
fn missing_data_file_names_key_and_path() {
    let e = err(&GOOD.replace("data/Bitcoin.csv", "data/Nope.csv"));
    assert!(
        e.starts_with(&format!("{}:4: market[0].file: no such data file:", file())),
        "{e}"
    );
    assert!(e.ends_with("data/Nope.csv"), "{e}");

    let o = Overrides {
        data: Some("no/such.csv".into()),
        ..Overrides::default()
    };
    let e = load(GOOD, &o).unwrap_err().to_string();
    assert_eq!(
        e,
        "--data no/such.csv: market[0].file: no such data file: no/such.csv"
    );
}

#[test]
fn values_are_checked_for_meaning() {
    let cases = [
        (
            "interval = \"1d\"",
            "interval = \"1 day\"",
            "market[0].interval",
        ),
        (
            "interval = \"1d\"",
            "interval = \"0d\"",
            "market[0].interval",
        ),
        (
            "interval = \"1d\"",
            "tick_size = 0.0",
            "market[0].tick_size: must be > 0 (got 0)",
        ),
        (
            "symbol = \"BTCUSD\"",
            "symbol = \"BTC USD\"",
            "market[0].symbol",
        ),
    ];
    for (from, to, expect) in cases {
        let e = err(&GOOD.replace(from, to));
        assert!(e.contains(expect), "{to}: {e}");
    }
    let extra = [
        (
            "[account]\ninitial_cash = -5.0",
            "account.initial_cash: must be > 0 (got -5)",
        ),
        (
            "[execution]\ntaker_fee_bps = 2000.0",
            "execution.taker_fee_bps",
        ),
        (
            "[execution]\nparticipation = 1.5",
            "execution.participation",
        ),
        (
            "[risk]\nleverage = 0.0",
            "risk.leverage: must be > 0 (got 0)",
        ),
        ("[risk]\nsession_loss_cap = 100.0", "risk.session_loss_cap"),
        (
            "[risk]\nbreaker_losses = 0",
            "risk.breaker_losses: must be >= 1 (got 0)",
        ),
        ("[risk]\nbreaker_window = \"soon\"", "risk.breaker_window"),
        (
            "[statistics]\nperiods_per_year = 0.0",
            "statistics.periods_per_year: must be > 0",
        ),
        (
            "[sweep]\nobjective = \"luck\"\n[sweep.grid]\nfast = [5]",
            "sweep.objective: unknown objective \"luck\"",
        ),
    ];
    for (table, expect) in extra {
        let text = format!(
            "{}\n{table}\n",
            GOOD.replace("[sweep.grid]\nfast = [5, 10]\nslow = [20, 30, 40]", "")
        );
        let e = err(&text);
        assert!(e.contains(expect), "{table}: {e}");
    }
}

#[test]
fn sweep_grid_is_checked() {
    let e = err(&GOOD.replace("fast = [5, 10]", "fats = [5, 10]"));
    assert!(
        e.contains("sweep.grid.fats: sma_cross has no parameter \"fats\""),
        "{e}"
    );
    let e = err(&GOOD.replace("fast = [5, 10]", "fast = []"));
    assert!(
        e.contains("sweep.grid.fast: expected at least one value"),
        "{e}"
    );
    let e = err(&GOOD.replace("fast = [5, 10]", "fast = 5"));
    assert!(e.contains("sweep.grid.fast: expected an array"), "{e}");
    let e = err(&GOOD.replace("fast = [5, 10]", "fast = [5, \"a\"]"));
    assert!(
        e.contains("sweep.grid.fast: expected all numbers or all strings (got \"a\")"),
        "{e}"
    );
    let e = err(&GOOD.replace("fast = [5, 10]", "fast = [\"a\"]"));
    assert!(
        e.contains("sweep.grid.fast: \"a\" is not accepted by sma_cross: "),
        "{e}"
    );
    let e = err(&GOOD.replace("[sweep.grid]", "[sweep]\nwalk_forward = 1.5\n[sweep.grid]"));
    assert!(
        e.contains("sweep.walk_forward: must be within (0, 1)"),
        "{e}"
    );
    let text = GOOD.replace(
        "[sweep.grid]",
        "[sweep]\nsamples = 3\nseed = 7\n[sweep.grid]",
    );
    let spec = load(&text, &Overrides::default()).unwrap().sweep.unwrap();
    assert_eq!(spec.points(), 3);
}

#[test]
fn a_sweep_grid_can_vary_the_direction_by_name() {
    let text = GOOD.replace(
        "slow = [20, 30, 40]",
        "slow = [20, 30, 40]\ndirection = [\"long_only\", \"long_short\"]",
    );
    let spec = load(&text, &Overrides::default()).unwrap().sweep.unwrap();
    assert_eq!(spec.points(), 12);
    let grid = spec.space().unwrap().grid();
    // Axes in name order, the last varying fastest: the six `long_only` points come first.
    assert_eq!(grid[0].choice("direction"), Some("long_only"));
    assert_eq!(grid[5].choice("direction"), Some("long_only"));
    assert_eq!(grid[6].choice("direction"), Some("long_short"));
    assert_eq!(
        (grid[6].get("fast"), grid[6].get("slow")),
        (Some(5.0), Some(20.0))
    );

    let e = err(&text.replace("\"long_short\"]", "\"sideways\"]"));
    assert!(
        e.contains("sweep.grid.direction: \"sideways\" is not accepted by sma_cross: "),
        "{e}"
    );
    let e = err(&text.replace("\"long_short\"]", "\"long_only\"]"));
    assert!(
        e.ends_with("sweep.grid.direction: \"long_only\" is listed twice"),
        "{e}"
    );
}

#[test]
fn no_market_is_an_error() {
    let e = err("[strategy]\nname = \"sma_cross\"\n");
    assert!(
        e.ends_with("market: at least one [[market]] table is required"),
        "{e}"
    );
}

#[test]
fn the_init_template_is_valid() {
    // The template's data path is relative to the repository root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rustrade.toml");
    let raw = parse(&root, template::INIT_TOML).unwrap();
    let c = Config::from_raw(
        &root,
        template::INIT_TOML,
        raw,
        &Overrides::default(),
        &Registry::builtin(),
    )
    .unwrap();
    assert_eq!(c.strategy.name, "sma_cross");
    assert_eq!(c.sweep.unwrap().points(), 9);
}

#[test]
fn the_shipped_examples_are_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            Config::load(&path, &Overrides::default(), &Registry::builtin())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 5, "one example per strategy, found {n}");
}

#[test]
fn durations_parse() {
    assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
    assert_eq!(parse_duration("1w").unwrap(), Duration::from_secs(604_800));
    assert!(parse_duration("m").is_err());
    assert!(parse_duration("5y").is_err());
}

#[test]
fn the_bot_table_has_defaults_and_is_validated() {
    let c = load(GOOD, &Overrides::default()).unwrap();
    assert_eq!(c.bot.name, "test", "the file stem");
    assert_eq!(c.bot.state_file, None);
    assert_eq!(c.bot.shutdown_timeout, Duration::from_secs(10));
    assert!(!c.bot.close_positions_on_shutdown);
    assert_eq!(c.bot.ops, None, "no endpoint without [bot.ops]");

    let text = format!(
        "{GOOD}\n[bot]\nname = \"sma-1\"\nstate_file = \"state/sma.db\"\nshutdown_timeout = \"30s\"\n\
         close_positions_on_shutdown = true\n\n[bot.ops]\n"
    );
    let c = load(&text, &Overrides::default()).unwrap();
    assert_eq!(c.bot.name, "sma-1");
    assert_eq!(
        c.bot.state_file.as_deref(),
        Some(
            config_path()
                .parent()
                .unwrap()
                .join("state/sma.db")
                .as_path()
        )
    );
    assert_eq!(c.bot.shutdown_timeout, Duration::from_secs(30));
    assert!(c.bot.close_positions_on_shutdown);
    let ops = c.bot.ops.unwrap();
    assert_eq!(ops.listen.to_string(), "127.0.0.1:0");
    assert_eq!(ops.token, None, "generated at first start");
}

#[test]
fn bot_errors_name_the_line_key_and_value() {
    let bad = |extra: &str| err(&format!("{GOOD}\n{extra}"));
    let e = bad("[bot]\nnmae = \"x\"\n");
    assert!(e.contains(":19:1: bot.nmae: unknown field"), "{e}");
    let e = bad("[bot.ops]\nlisten = \"127.0.0.1:0\"\nport = 1\n");
    assert!(e.contains("bot.ops") && e.contains("port"), "{e}");
    let e = bad("[bot]\nname = \"has space\"\n");
    assert!(
        e.contains(":19: bot.name: ") && e.contains("\"has space\""),
        "{e}"
    );
    let e = bad("[bot]\nshutdown_timeout = \"soon\"\n");
    assert!(
        e.contains("bot.shutdown_timeout") && e.contains("soon"),
        "{e}"
    );
    let e = bad("[bot.ops]\nlisten = \"localhost\"\n");
    assert!(
        e.contains(":19: bot.ops.listen: ") && e.contains("\"localhost\""),
        "{e}"
    );
}

#[test]
fn a_postgres_state_url_is_checked_and_never_holds_a_password() {
    let f = file();
    let bad = |extra: &str| err(&format!("{GOOD}\n[bot]\n{extra}"));
    let c = load(
        &format!("{GOOD}\n[bot]\nstate_url = \"postgres://bot@db:5432/trading\"\nstate_schema = \"desk_a\"\n"),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        c.bot.state_url.as_deref(),
        Some("postgres://bot@db:5432/trading")
    );
    assert_eq!(c.bot.state_schema.as_deref(), Some("desk_a"));
    assert_eq!(c.bot.state_file, None);
    assert_eq!(
        bad("state_url = \"mysql://db/x\"\n"),
        format!("{f}:19: bot.state_url: must be a postgres:// URL (got \"mysql://db/x\")")
    );
    let e = bad("state_url = \"postgresql://bot:hunter2@db/x\"\n");
    assert_eq!(
        e,
        format!(
            "{f}:19: bot.state_url: holds a password (not shown); set RUSTRADE_POSTGRES_PASSWORD instead"
        )
    );
    assert!(!e.contains("hunter2"));
    assert_eq!(
        bad("state_file = \"s.db\"\nstate_url = \"postgres://bot@db/x\"\n"),
        format!(
            "{f}:20: bot.state_url: a bot keeps its state in one place: give state_file or state_url, not both"
        )
    );
    assert_eq!(
        bad("state_schema = \"desk_a\"\n"),
        format!("{f}:19: bot.state_schema: needs bot.state_url (a PostgreSQL server)")
    );
}

#[test]
fn the_postgres_connection_is_plain_or_verified_tls() {
    let f = file();
    let url = "state_url = \"postgres://bot@db:5432/trading\"\n";
    let ok = |extra: &str| {
        load(
            &format!("{GOOD}\n[bot]\n{url}{extra}"),
            &Overrides::default(),
        )
        .unwrap()
        .bot
        .state_tls
    };
    let bad = |extra: &str| err(&format!("{GOOD}\n[bot]\n{extra}"));
    assert_eq!(ok(""), StateTls::Off);
    assert_eq!(ok("state_tls = \"off\"\n"), StateTls::Off);
    assert_eq!(
        ok("state_tls = \"verify\"\n"),
        StateTls::Verify { ca_file: None }
    );
    let StateTls::Verify { ca_file: Some(ca) } = ok("state_ca_file = \"certs/db-ca.pem\"\n") else {
        panic!("a CA file turns TLS on");
    };
    assert!(ca.ends_with("certs/db-ca.pem"), "{}", ca.display());
    assert_eq!(
        bad(&format!("{url}state_tls = \"require\"\n")),
        format!("{f}:20: bot.state_tls: expected \"off\" or \"verify\" (got \"require\")")
    );
    assert_eq!(
        bad(&format!(
            "{url}state_tls = \"off\"\nstate_ca_file = \"ca.pem\"\n"
        )),
        format!(
            "{f}:21: bot.state_ca_file: is only used with TLS; drop it or set state_tls = \"verify\""
        )
    );
    assert_eq!(
        bad("state_tls = \"verify\"\n"),
        format!("{f}:19: bot.state_tls: needs bot.state_url (a PostgreSQL server)")
    );
    assert_eq!(
        bad("state_ca_file = \"ca.pem\"\n"),
        format!("{f}:19: bot.state_ca_file: needs bot.state_url (a PostgreSQL server)")
    );
}

#[test]
fn a_public_address_needs_a_token_and_the_token_never_shows() {
    let public = format!("{GOOD}\n[bot.ops]\nlisten = \"0.0.0.0:9184\"\n");
    let e = err(&public);
    assert!(
        e.contains("bot.ops.listen: 0.0.0.0:9184 is not a loopback address")
            && e.contains("RUSTRADE_OPS_TOKEN"),
        "{e}"
    );
    let env = Overrides {
        ops_token: Some(rustrade::Secret::new("from-the-environment-0123")),
        ..Overrides::default()
    };
    let c = load(&public, &env).unwrap();
    let ops = c.bot.ops.unwrap();
    assert_eq!(ops.token.unwrap().expose(), "from-the-environment-0123");

    let short = format!("{GOOD}\n[bot.ops]\ntoken = \"hunter2\"\n");
    let e = err(&short);
    assert!(e.contains("bot.ops.token: must be at least 16"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
    let c = load(
        &format!("{GOOD}\n[bot.ops]\ntoken = \"in-the-file-0123456789\"\n"),
        &Overrides::default(),
    )
    .unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("in-the-file-0123456789"), "{shown}");
}

#[test]
fn the_venue_table_defaults_to_spot_testnet_and_validates_every_key() {
    let c = load(GOOD, &Overrides::default()).unwrap();
    assert_eq!(c.venue, None);
    let c = load(
        &format!("{GOOD}\n[venue]\nexchange = \"binance\"\n"),
        &Overrides::default(),
    )
    .unwrap();
    let v = c.venue.unwrap();
    assert_eq!(
        (v.product, &v.network, v.interval.as_str()),
        (Product::Spot, &Network::Testnet, "1m")
    );
    assert!(!v.is_production() && !v.confirm_production);
    assert_eq!(v.cash_asset.as_str(), "USDT");

    let f = file();
    let bad = |body: &str| err(&format!("{GOOD}\n[venue]\n{body}"));
    assert_eq!(
        bad("exchange = \"kraken\"\n"),
        format!("{f}:19: venue.exchange: unknown exchange \"kraken\"; expected \"binance\"")
    );
    assert_eq!(
        bad("exchange = \"binance\"\nproduct = \"coinm\"\n"),
        format!("{f}:20: venue.product: unknown product \"coinm\"; expected \"spot\" or \"usdm\"")
    );
    assert_eq!(
        bad("exchange = \"binance\"\nenvironment = \"staging\"\n"),
        format!(
            "{f}:20: venue.environment: unknown environment \"staging\"; expected \"testnet\" or \"production\""
        )
    );
    let e = bad("exchange = \"binance\"\ninterval = \"7m\"\n");
    assert!(
        e.starts_with(&format!(
            "{f}:20: venue.interval: unknown kline interval \"7m\"; expected one of 1s, 1m"
        )),
        "{e}"
    );
    assert_eq!(
        bad("exchange = \"binance\"\nendpoint = \"ftp://x\"\n"),
        format!(
            "{f}:20: venue.endpoint: must be an http:// or https:// base URL (got \"ftp://x\")"
        )
    );
    let e = bad("exchange = \"binance\"\nenvironment = \"production\"\nendpoint = \"http://x\"\n");
    assert!(e.contains("venue.endpoint: an endpoint replaces"), "{e}");
    assert_eq!(
        bad("exchange = \"binance\"\ncash_asset = \"US DT\"\n"),
        format!(
            "{f}:20: venue.cash_asset: asset: holds a character outside the allowed set (got \"US DT\")"
        )
    );
    let e = bad("exchange = \"binance\"\napi_secret = \"s\"\n");
    assert!(e.contains("venue.api_secret: unknown field"), "{e}");
}

#[test]
fn the_notify_table_validates_channels_and_keeps_secrets_out() {
    let token = Overrides {
        telegram_token: Some(rustrade::Secret::new("42:telegram-secret")),
        ..Overrides::default()
    };
    let text = format!(
        "{GOOD}\n[bot.notify]\nevents = [\"fill\", \"halt\"]\n\n[bot.notify.webhook]\n\
         url = \"https://hooks.example.com/T0/secret-path\"\nburst = 2\n\n\
         [bot.notify.telegram]\nchat_id = -1001\nevents = [\"summary\"]\ncommands = true\n"
    );
    let c = load(&text, &token).unwrap();
    let n = c.bot.notify.clone().unwrap();
    assert_eq!(n.queue, 256);
    let w = n.webhook.unwrap();
    assert_eq!(w.host, "hooks.example.com");
    assert_eq!(
        w.limit,
        RateLimit {
            per_minute: 20,
            burst: 2
        }
    );
    assert!(w.kinds.contains(crate::notify::Kind::Halt));
    assert!(!w.kinds.contains(crate::notify::Kind::Summary));
    let t = n.telegram.unwrap();
    assert_eq!(t.chat_id, crate::notify::telegram::ChatId::Id(-1001));
    assert_eq!(t.allowed_chats, [-1001], "the chat itself by default");
    assert_eq!(t.api_url, "https://api.telegram.org");
    assert_eq!(t.token.clone().unwrap().expose(), "42:telegram-secret");
    assert!(t.kinds.contains(crate::notify::Kind::Summary));
    assert!(!t.kinds.contains(crate::notify::Kind::Fill));
    let shown = format!("{c:?}");
    assert!(
        !shown.contains("telegram-secret") && !shown.contains("secret-path"),
        "{shown}"
    );

    // Without the token the file still loads (a backtest needs none); paper and live stop.
    let c = load(&text, &Overrides::default()).unwrap();
    let f = file();
    assert_eq!(
        c.bot
            .notify
            .unwrap()
            .telegram
            .unwrap()
            .token
            .unwrap_err()
            .to_string(),
        format!(
            "{f}:25: bot.notify.telegram: set RUSTRADE_TELEGRAM_TOKEN to the Telegram bot's token"
        )
    );

    let bad = |body: &str| {
        load(&format!("{GOOD}\n{body}"), &token)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        bad("[bot.notify]\nevents = [\"fils\"]\n[bot.notify.webhook]\nurl = \"http://x\"\n"),
        format!(
            "{f}:19: bot.notify.events: unknown event kind \"fils\"; expected one of fill, halt, recovery, degraded, service, summary"
        )
    );
    assert_eq!(
        bad("[bot.notify]\nqueue = 0\n[bot.notify.webhook]\nurl = \"http://x\"\n"),
        format!("{f}:19: bot.notify.queue: must be >= 1 (got 0)")
    );
    assert_eq!(
        bad("[bot.notify]\n"),
        format!(
            "{f}:18: bot.notify: names no channel; add [bot.notify.webhook] or [bot.notify.telegram]"
        )
    );
    assert_eq!(
        bad("[bot.notify.webhook]\nurl = \"ftp://secret@x\"\n"),
        format!(
            "{f}:19: bot.notify.webhook.url: must be an http:// or https:// URL (the value is not shown: it may hold a token)"
        )
    );
    assert_eq!(
        bad("[bot.notify.webhook]\nurl = \"http://x\"\nrate_per_minute = 0\n"),
        format!("{f}:20: bot.notify.webhook.rate_per_minute: must be >= 1 (got 0)")
    );
    assert_eq!(
        bad("[bot.notify.webhook]\nurl = \"http://x\"\nsecret = 1\n"),
        format!(
            "{f}:20:1: bot.notify.webhook.secret: unknown field `secret`, expected one of `url`, `events`, `rate_per_minute`, `burst`"
        )
    );
    assert_eq!(
        bad("[bot.notify.telegram]\nchat_id = 1\ntoken = \"42:in-the-file\"\n"),
        format!(
            "{f}:20: bot.notify.telegram.token: the token is read from RUSTRADE_TELEGRAM_TOKEN, never from the file (the value is not shown)"
        )
    );
    assert_eq!(
        bad("[bot.notify.telegram]\nchat_id = \"general\"\n"),
        format!(
            "{f}:19: bot.notify.telegram.chat_id: expected a chat id number or an \"@channel\" name (got \"general\")"
        )
    );
    assert_eq!(
        bad("[bot.notify.telegram]\nchat_id = \"@news\"\ncommands = true\n"),
        format!(
            "{f}:20: bot.notify.telegram.commands: needs allowed_chats, the numeric ids of the chats whose commands are obeyed"
        )
    );
    assert_eq!(
        bad("[bot.notify.telegram]\nchat_id = 1\napi_url = \"api.telegram.org\"\n"),
        format!(
            "{f}:20: bot.notify.telegram.api_url: must be an http:// or https:// base URL (got \"api.telegram.org\")"
        )
    );
}

#[test]
fn account_sizing_keys_set_the_basis_the_fee_and_lift_the_notional_cap() {
    let base = GOOD.replace("[sweep.grid]\nfast = [5, 10]\nslow = [20, 30, 40]", "");
    let text = format!(
        "{}\n[risk]\nequity_fraction = 1.0\nbreaker_losses = 1000\n[execution]\ntaker_fee_bps = 20.0\n",
        base.replace("slow = 30", "slow = 30\ndirection = \"long_short\"")
    );
    let c = load(&text, &Overrides::default()).unwrap();
    assert_eq!(c.risk.sizing.basis, SizingBasis::EquityFraction(1.0));
    assert!(
        (c.risk.sizing.fee_rate - 0.002).abs() < 1e-15,
        "the taker fee by default"
    );
    assert_eq!(
        c.risk.sizing.max_notional, None,
        "compounding is not capped"
    );
    assert_eq!(c.strategy.params["direction"], "long_short");
    let text = format!("{base}\n[risk]\ncash_fraction = 0.5\nfee_rate = 0.001\n");
    let c = load(&text, &Overrides::default()).unwrap();
    assert_eq!(c.risk.sizing.basis, SizingBasis::CashFraction(0.5));
    assert_eq!(c.risk.sizing.fee_rate, 0.001);
    let c = load(&base, &Overrides::default()).unwrap();
    assert_eq!(
        (c.risk.sizing.basis, c.risk.sizing.fee_rate),
        (SizingBasis::Margin, 0.0),
        "today's sizing by default"
    );
    for (table, expect) in [
        (
            "[risk]\nequity_fraction = 1.5",
            "risk.equity_fraction: must be in (0, 1] (got 1.5)",
        ),
        (
            "[risk]\nequity_fraction = 0.5\ncash_fraction = 0.5",
            "risk.cash_fraction: set one of equity_fraction and cash_fraction",
        ),
        (
            "[risk]\nmargin = 100.0\ncash_fraction = 0.5",
            "risk.cash_fraction: sizes from the account",
        ),
        (
            "[risk]\nequity_fraction = 1.0\nfee_rate = -0.01",
            "risk.fee_rate: must be in [0, 1) (got -0.01)",
        ),
        ("[risk]\nequity_fractoin = 1.0", "equity_fractoin"),
    ] {
        let e = err(&format!("{base}\n{table}\n"));
        assert!(e.contains(expect), "{table}: {e}");
        assert!(e.contains(&file()), "{table}: names the file: {e}");
    }
}

#[test]
fn cli_and_facade_build_the_same_risk_from_the_same_settings() {
    let base = GOOD.replace("[sweep.grid]\nfast = [5, 10]\nslow = [20, 30, 40]", "");
    let tables = [
        ("", RiskSettings::default()),
        (
            "[risk]\nleverage = 3.0\nmax_notional = 5000.0\nsession_loss_cap = -80.0\nbreaker_losses = 4\nbreaker_window = \"2h\"",
            RiskSettings {
                leverage: Some(3.0),
                max_notional: Some(5_000.0),
                session_loss_cap: Some(-80.0),
                breaker_losses: Some(4),
                breaker_window: Some(Duration::from_secs(7_200)),
                ..Default::default()
            },
        ),
        (
            "[risk]\ncash_fraction = 0.5\n[execution]\ntaker_fee_bps = 20.0",
            RiskSettings {
                cash_fraction: Some(0.5),
                ..Default::default()
            },
        ),
    ];
    for (table, settings) in tables {
        let c = load(&format!("{base}\n{table}\n"), &Overrides::default()).unwrap();
        let account = AccountBasis {
            cash: c.initial_cash,
            taker_fee_rate: c.sim.fees.taker_rate,
        };
        let bot = rustrade::BotConfig::builder()
            .name("bot")
            .symbol("BTCUSD")
            .risk_settings(c.markets[0].spec.asset_class(), account, settings)
            .build()
            .unwrap();
        assert_eq!(bot.default_risk(), &c.risk, "{table}");
    }
}

#[test]
fn a_timeframe_is_built_from_the_data_bars_or_the_venue_klines() {
    let with = |extra_market: &str, timeframe: &str, venue: &str| {
        format!(
            "[[market]]\nsymbol = \"BTCUSD\"\nfile = \"data/Bitcoin.csv\"\n{extra_market}\n\
             [strategy]\nname = \"sma_cross\"\ntimeframe = \"{timeframe}\"\n{venue}"
        )
    };
    let c = load(&with("interval = \"1h\"", "1d", ""), &Overrides::default()).unwrap();
    let t = c.strategy.timeframe.unwrap();
    assert_eq!(t.target, Duration::from_secs(86_400));
    assert_eq!(t.files, Some(Duration::from_secs(3_600)));
    assert_eq!(t.venue, None);
    assert!(
        t.wrap(hold(), BarFeed::Venue).is_err(),
        "no venue to build from"
    );
    assert_eq!(t.wrap(hold(), BarFeed::Files).unwrap().name(), "hold");

    let venue = "[venue]\nexchange = \"binance\"\ninterval = \"1m\"\n";
    let c = load(&with("", "4h", venue), &Overrides::default()).unwrap();
    let t = c.strategy.timeframe.unwrap();
    assert_eq!((t.files, t.venue), (None, Some(Duration::from_secs(60))));
    let e = t.wrap(hold(), BarFeed::Files).err().unwrap();
    assert!(e.contains("interval"), "{e}");

    assert!(
        load(GOOD, &Overrides::default())
            .unwrap()
            .strategy
            .timeframe
            .is_none()
    );
}

#[test]
fn a_bad_timeframe_is_refused_at_its_key() {
    let text = |market: &str, timeframe: &str| {
        format!(
            "[[market]]\nsymbol = \"BTCUSD\"\nfile = \"data/Bitcoin.csv\"\n{market}\n\
             [strategy]\nname = \"sma_cross\"\ntimeframe = \"{timeframe}\"\n"
        )
    };
    let e = err(&text("interval = \"1h\"", "90m"));
    assert!(
        e.contains("strategy.timeframe: must be a whole multiple of the data's bar length"),
        "{e}"
    );
    assert!(e.contains(":7:"), "at its line: {e}");
    let e = err(&text("interval = \"1h\"", "soon"));
    assert!(
        e.contains("strategy.timeframe: expected a number and a unit"),
        "{e}"
    );
    let e = err(&text("", "1h"));
    assert!(
        e.contains("strategy.timeframe: needs the feed's bar length"),
        "{e}"
    );
    let two = "interval = \"1m\"\n[[market]]\nsymbol = \"SPX\"\nfile = \"data/SPX.csv\"\ninterval = \"5m\"";
    let e = err(&text(two, "1h"));
    assert!(e.contains("market[1].interval"), "{e}");
    let month = format!(
        "{}[venue]\nexchange = \"binance\"\ninterval = \"1M\"\n",
        text("", "1h")
    );
    let e = err(&month);
    assert!(e.contains("venue.interval"), "{e}");
}

fn hold() -> Arc<dyn Brain> {
    struct Hold;
    #[rustrade_core::async_trait]
    impl Brain for Hold {
        fn name(&self) -> &str {
            "hold"
        }
        fn on_event(
            &self,
            _: &rustrade_core::MarketEvent,
            _: &rustrade_core::Position,
        ) -> Result<rustrade_core::Decision, rustrade_core::BrainError> {
            Ok(rustrade_core::Decision::hold())
        }
    }
    Arc::new(Hold)
}

#[cfg(feature = "nats")]
#[test]
fn market_data_reads_a_relay_stream_and_errors_name_the_key() {
    let good = format!(
        "{GOOD}\n[market_data]\nnats_url = \"nats://127.0.0.1:4222\"\nstream = \"md\"\nstart = \"all\"\n"
    );
    let c = load(&good, &Overrides::default()).unwrap();
    let m = c.market_data.unwrap();
    assert_eq!((m.stream.as_str(), m.venue.as_str()), ("md", "binance"));
    assert_eq!(m.start, StreamStart::All);
    assert!(!m.stop_when_caught_up);

    let line = GOOD.lines().count() + 3;
    let bad = |body: &str| err(&format!("{GOOD}\n[market_data]\n{body}"));
    assert_eq!(
        bad("nats_url = \"nats://bob:pw@h:4222\"\nstream = \"md\"\n"),
        format!(
            "{}:{line}: market_data.nats_url: must be nats://host:port or tls://host:port without credentials (got \"nats://bob:pw@h:4222\")",
            file()
        )
    );
    let e = bad("nats_url = \"nats://h:4222\"\nstream = \"md\"\nstart = \"soon\"\n");
    assert!(
        e.contains(&format!(
            ":{}: market_data.start: expected \"new\"",
            line + 2
        )),
        "{e}"
    );
    let e = bad("nats_url = \"nats://h:4222\"\nstream = \"m d\"\n");
    assert!(e.contains("market_data.stream: must be letters"), "{e}");
}
