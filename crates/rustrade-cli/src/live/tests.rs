//! `rustrade live` against a local mock of the venue's API on 127.0.0.1: the preflight, the ops
//! endpoint, a shutdown on request; and the production guard.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustrade::Secret;
use rustrade_binance::mock::{MockBinance, MockConfig};

use super::*;
use crate::config::Overrides;
use crate::ops::client;

const TOKEN: &str = "live-test-token-0123456789";

fn config_text(endpoint: &str, state: &std::path::Path) -> String {
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Bitcoin.csv");
    format!(
        r#"
[[market]]
symbol = "BTCUSDT"
file = {data:?}
interval = "1d"
tick_size = 0.01
lot_size = 0.00001

[strategy]
name = "sma_cross"

[strategy.params]
fast = 5
slow = 20

[bot]
name = "live-test"
state_file = {state:?}

[bot.ops]
listen = "127.0.0.1:0"

[venue]
exchange = "binance"
endpoint = "{endpoint}"
interval = "1m"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_on_a_local_venue_shows_the_preflight_serves_ops_and_stops_on_request() {
    let mock = MockBinance::start(MockConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let path = dir.path().join("live.toml");
    std::fs::write(&path, config_text(&mock.url(), &state)).unwrap();
    let overrides = Overrides {
        ops_token: Some(Secret::new(TOKEN)),
        ..Overrides::default()
    };
    let config =
        Config::load(&path, &overrides, &rustrade_strategies::Registry::builtin()).unwrap();

    let preflight = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&preflight);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let creds = mock.credentials();
    let run = tokio::spawn(async move {
        run(
            &config,
            false,
            creds,
            false,
            move |p| *seen.lock().unwrap() = Some(p.clone()),
            move |s| {
                let _ = tx.send(s.ops);
            },
        )
        .await
    });
    let addr = rx.await.unwrap().expect("the ops endpoint is bound");
    let endpoint = format!("http://{addr}");
    // The endpoint answers from the first instant; the start-up reconciliation comes next.
    let mut body = serde_json::Value::Null;
    for _ in 0..600 {
        let health = client::request(&endpoint, "GET", "/health", None, Duration::from_secs(5))
            .await
            .unwrap();
        body = serde_json::from_str(&health.body).unwrap();
        if body["reconciliation"]["last_at"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        body["reconciliation"]["last_at"].is_string(),
        "started: {body}"
    );
    assert!(
        body["services"].as_array().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert_eq!(body["reconciliation"]["drifts"], 0, "{body}");
    let token = Secret::new(TOKEN);
    let stop = client::request(
        &endpoint,
        "POST",
        "/control/shutdown",
        Some(&token),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(stop.status, 202);
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the bot stops")
        .unwrap()
        .unwrap();

    let pre = preflight
        .lock()
        .unwrap()
        .clone()
        .expect("the preflight was shown");
    assert!(
        pre.venue
            .starts_with("Binance Spot, endpoint http://127.0.0.1:"),
        "{}",
        pre.venue
    );
    assert_eq!(
        pre.rules,
        ["BTCUSDT: tick 0.01 lot 0.00001 min qty 0.00001 min notional 5"]
    );
    assert!(
        pre.account
            .iter()
            .any(|l| l == "USDT: 100000 free, 0 locked"),
        "{:?}",
        pre.account
    );
    assert!(pre.limits.starts_with("margin "), "{}", pre.limits);
    assert_eq!(pre.state_file, state);
    assert!(state.exists(), "the engine's state was written");
    assert!(mock.hits("/api/v3/account") >= 1);
}

#[test]
fn production_needs_an_explicit_confirmation() {
    let mut venue = VenueSection {
        product: Product::Spot,
        network: Network::Production,
        interval: "1m".into(),
        cash_asset: rustrade_core::Asset::new("USDT").unwrap(),
        confirm_production: false,
    };
    let e = check_confirmation(&venue, false).unwrap_err().to_string();
    assert_eq!(
        e,
        "[venue] environment = \"production\" trades real money: pass \
         --i-understand-this-trades-real-money or set venue.confirm_production = true"
    );
    check_confirmation(&venue, true).unwrap();
    venue.confirm_production = true;
    check_confirmation(&venue, false).unwrap();
    venue.network = Network::Testnet;
    venue.confirm_production = false;
    check_confirmation(&venue, false).unwrap();
}
