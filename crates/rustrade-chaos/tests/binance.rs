//! The kit against a real adapter: `rustrade-binance`'s USDⓈ-M client, user-data stream and
//! market stream trade the chaos venue through the kit's Binance front, under the same kills,
//! faults and invariants as the kit's own client; and a deliberately broken variant of that
//! adapter is caught.

use rustrade_chaos::Profile;
use rustrade_chaos::adapter::Adapter;
use rustrade_chaos::client::Broken;
use rustrade_chaos::harness::{self, SessionConfig, Summary};

const BOT: &str = env!("CARGO_BIN_EXE_chaos-bot");

fn session(seed: u64, kills: u32, profile: Profile) -> SessionConfig {
    let mut config = SessionConfig::new(seed, kills, profile, BOT);
    config.adapter = Adapter::BinanceUsdm;
    config
}

async fn run(config: &SessionConfig) -> Summary {
    let summary = harness::run(config).await.expect("session runs");
    println!("seed {} {:?}: {summary}", config.seed, config.broken);
    summary
}

fn lines(summary: &Summary) -> Vec<String> {
    summary.violations.iter().map(ToString::to_string).collect()
}

/// Two seeds of the `ci` profile (every venue fault but manual trades, in Binance's failure
/// shapes) hold every invariant with the Binance adapter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binance_adapter_holds_every_invariant_on_the_ci_profile() {
    let mut found = Vec::new();
    for seed in 1..=2 {
        let summary = run(&session(seed, 30, Profile::CI)).await;
        assert!(summary.faults > 0 && summary.orders > 0, "{summary}");
        assert!(summary.kill_point_kills > 0, "{summary}");
        assert_eq!(summary.kills, 30, "{summary}");
        found.extend(lines(&summary));
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// An adapter that reports an unknown placement outcome (connection dropped, `-1007`) as
/// rejected forgets orders that landed: the kit reports it. The sound adapter holds every
/// invariant on the same session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binance_adapter_that_takes_an_unknown_outcome_for_a_rejection_is_caught() {
    let profile = Profile {
        name: "unanswered placements",
        drop_ack: 0.2,
        accept_then_timeout: 0.3,
        ..Profile::CALM
    };
    let mut config = session(3, 20, profile);
    let sound = run(&config).await;
    assert!(
        sound.violations.is_empty(),
        "the sound adapter: {}",
        lines(&sound).join("\n")
    );
    config.broken = Some(Broken::TimeoutIsRejection);
    let broken = run(&config).await;
    let caught = broken.violations.iter().any(|v| {
        matches!(
            v.invariant,
            "protected" | "fill-applied" | "position" | "pnl" | "unique-client-id"
        )
    });
    assert!(caught, "not caught: {broken}");
}

/// An adapter whose fill catch-up lists nothing loses the fills made while the bot was down:
/// the kit reports it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binance_adapter_that_skips_catch_up_is_caught() {
    let mut config = session(1, 20, Profile::CALM);
    config.broken = Some(Broken::SkipCatchUp);
    let summary = run(&config).await;
    let caught = summary
        .violations
        .iter()
        .any(|v| matches!(v.invariant, "fill-applied" | "pnl" | "position"));
    assert!(caught, "not caught: {summary}");
}
