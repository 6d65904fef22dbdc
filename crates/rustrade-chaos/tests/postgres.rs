//! The kit with the bot's state in PostgreSQL: the same kills, faults and invariants as on the
//! SQLite file hold, and a bot that forgets its breaker's losses on restart is still caught.
//! Skipped, saying why, on a machine without the server (unless `RUSTRADE_REQUIRE_SERVERS=1`).

use rustrade_chaos::client::Broken;
use rustrade_chaos::harness::{self, SessionConfig};
use rustrade_chaos::{Profile, StateLocation};
use rustrade_postgres::testing::TestSchema;

const BOT: &str = env!("CARGO_BIN_EXE_chaos-bot");

fn on_postgres(schema: &TestSchema, mut config: SessionConfig) -> SessionConfig {
    config.state = Some(StateLocation::Postgres {
        url: schema.url().to_owned(),
        schema: schema.name().to_owned(),
    });
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ci_profile_holds_every_invariant_with_state_in_postgres() {
    let Some(schema) = TestSchema::new("chaos_ci") else {
        return;
    };
    let config = on_postgres(&schema, SessionConfig::new(2, 40, Profile::CI, BOT));
    let summary = harness::run(&config).await.expect("session runs");
    println!("{summary}");
    assert!(
        summary.kill_point_kills > 0 && summary.orders > 0,
        "{summary}"
    );
    let found: Vec<String> = summary.violations.iter().map(ToString::to_string).collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_whose_breaker_forgets_its_losses_is_caught_on_postgres() {
    let Some(schema) = TestSchema::new("chaos_broken") else {
        return;
    };
    let mut config = on_postgres(&schema, SessionConfig::new(1, 15, Profile::CALM, BOT));
    config.broken = Some(Broken::ForgetBreaker);
    let summary = harness::run(&config).await.expect("session runs");
    assert!(
        summary.violations.iter().any(|v| v.invariant == "breaker"),
        "not caught: {summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_holding_an_earlier_sessions_state_is_refused() {
    let Some(schema) = TestSchema::new("chaos_reuse") else {
        return;
    };
    let config = on_postgres(&schema, SessionConfig::new(3, 1, Profile::CALM, BOT));
    harness::run(&config).await.expect("first session runs");
    let err = harness::run(&config)
        .await
        .expect_err("second session refused");
    assert!(err.to_string().contains(schema.name()), "{err}");
}
