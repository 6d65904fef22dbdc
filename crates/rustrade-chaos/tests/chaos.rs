//! The kit in CI: a bounded stormy run over several seeds must hold every invariant, and a
//! deliberately broken bot must be caught.

use rustrade_chaos::Profile;
use rustrade_chaos::client::Broken;
use rustrade_chaos::harness::{self, SessionConfig};

const BOT: &str = env!("CARGO_BIN_EXE_chaos-bot");

/// At least 200 kills over five seeds with every venue fault but manual trades, refusals of
/// exits and protective legs included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ci_profile_holds_every_invariant() {
    let mut kills = 0;
    let mut found = Vec::new();
    for seed in 1..=5 {
        let summary = harness::run(&SessionConfig::new(seed, 42, Profile::CI, BOT))
            .await
            .expect("session runs");
        println!("seed {seed}: {summary}");
        assert!(summary.faults > 0 && summary.orders > 0, "{summary}");
        assert!(summary.kill_point_kills > 0, "{summary}");
        kills += summary.kills;
        found.extend(summary.violations.iter().map(ToString::to_string));
    }
    assert!(kills >= 200, "{kills} kills");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Manual trades: positions are adopted at restart, and the money of untouched symbols holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_trades_are_reconciled() {
    let summary = harness::run(&SessionConfig::new(11, 30, Profile::MANUAL, BOT))
        .await
        .expect("session runs");
    let found: Vec<String> = summary.violations.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A bot whose catch-up lists no fills loses the fills made while it was down: the kit says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_skips_catch_up_is_caught() {
    let mut config = SessionConfig::new(1, 30, Profile::CALM, BOT);
    config.broken = Some(Broken::SkipCatchUp);
    let summary = harness::run(&config).await.expect("session runs");
    let caught: Vec<_> = summary
        .violations
        .iter()
        .filter(|v| matches!(v.invariant, "fill-applied" | "pnl"))
        .collect();
    assert!(!caught.is_empty(), "not caught: {summary}");
    assert!(caught.iter().all(|v| v.seed == 1), "{caught:?}");
}

/// A client that reports an unanswered placement as rejected forgets orders that landed: the
/// engine drops their brackets, so when they fill the positions have no stop. The sound bot
/// holds every invariant on the same session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_that_takes_a_timeout_for_a_rejection_is_caught() {
    let profile = Profile {
        name: "unanswered placements",
        drop_ack: 0.2,
        accept_then_timeout: 0.3,
        ..Profile::CALM
    };
    let mut config = SessionConfig::new(3, 20, profile, BOT);
    let sound = harness::run(&config).await.expect("session runs");
    let found: Vec<String> = sound.violations.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "the sound bot: {}", found.join("\n"));
    config.broken = Some(Broken::TimeoutIsRejection);
    let summary = harness::run(&config).await.expect("session runs");
    let caught = summary.violations.iter().any(|v| {
        matches!(
            v.invariant,
            "protected" | "fill-applied" | "position" | "pnl"
        )
    });
    assert!(caught, "not caught: {summary}");
}

/// A bot whose loss breaker forgets its stored history at a restart keeps its positions and
/// its money right: only `breaker` sees the difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_whose_breaker_forgets_its_losses_is_caught() {
    let mut config = SessionConfig::new(1, 15, Profile::CALM, BOT);
    config.broken = Some(Broken::ForgetBreaker);
    let summary = harness::run(&config).await.expect("session runs");
    let caught = summary.violations.iter().any(|v| v.invariant == "breaker");
    assert!(caught, "not caught: {summary}");
    let others: Vec<String> = summary
        .violations
        .iter()
        .filter(|v| v.invariant != "breaker")
        .map(ToString::to_string)
        .collect();
    assert!(others.is_empty(), "{}", others.join("\n"));
}
