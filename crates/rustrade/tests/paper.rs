//! Paper trading: the live bot with the simulated venue of `rustrade-sim` as its exchange.

mod common;

use std::sync::Arc;

use common::*;
use rustrade::Bot;
use rustrade::testkit::{ScriptedBrain, candle_event};
use rustrade_core::{AssetClass, Brain, Decision, ExchangeClient, InstrumentSpec};
use rustrade_sim::{PaperExchange, SimConfig};

#[tokio::test(start_paused = true)]
async fn a_paper_bot_trades_against_the_simulated_venue_and_agrees_with_it() {
    let spec = InstrumentSpec::new(sym("BTCUSDT"), AssetClass::CryptoSpot, 0.01, 0.001).unwrap();
    let (paper, fills) = PaperExchange::from_config(SimConfig::default(), [spec]).unwrap();
    let venue = paper.clone();
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("paper", |_, pos, n| {
        Ok(match n {
            0 if pos.is_flat() => Decision::buy(1.0),
            3 => Decision::close(),
            _ => Decision::hold(),
        })
    }));
    let bot = Bot::paper(
        config(&["BTCUSDT"]).build().unwrap(),
        paper,
        fills,
        vec![brain],
    )
    .unwrap();
    let run = start(bot).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    run.bus.publish(candle_event("BTCUSDT", 120, 101.0));
    wait_until("filled at the venue", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_long() }
    })
    .await;
    let ours = run.handle.position(&sym("BTCUSDT")).await;
    let theirs = venue.position(&sym("BTCUSDT")).await.unwrap();
    assert_eq!(ours.quantity, theirs.quantity);
    assert!(ours.quantity > 0.0);
    run.bus.publish(candle_event("BTCUSDT", 180, 102.0));
    run.bus.publish(candle_event("BTCUSDT", 240, 103.0));
    run.bus.publish(candle_event("BTCUSDT", 300, 103.0));
    wait_until("closed", || {
        let h = run.handle.clone();
        async move { h.position(&sym("BTCUSDT")).await.is_flat() }
    })
    .await;
    assert!(venue.position(&sym("BTCUSDT")).await.unwrap().is_flat());
    assert!(run.handle.position(&sym("BTCUSDT")).await.realised_pnl > 0.0);
    run.stop().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_brain_sees_the_fill_of_the_event_it_decides_on() {
    let spec = InstrumentSpec::new(sym("BTCUSDT"), AssetClass::CryptoSpot, 0.01, 0.001).unwrap();
    let (paper, fills) = PaperExchange::from_config(SimConfig::default(), [spec]).unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let brain: Arc<dyn Brain> = Arc::new(ScriptedBrain::new("sees-fill", move |_, pos, n| {
        log.lock().unwrap().push(pos.quantity);
        Ok(if n == 0 {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }));
    let bot = Bot::paper(
        config(&["BTCUSDT"]).build().unwrap(),
        paper,
        fills,
        vec![brain],
    )
    .unwrap();
    let run = start(bot).await;
    run.bus.publish(candle_event("BTCUSDT", 60, 100.0));
    settle().await;
    // The buy decided on the first candle fills at the second candle's open, at the venue,
    // before the brain decides on that candle: it must see the long position.
    run.bus.publish(candle_event("BTCUSDT", 120, 101.0));
    settle().await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0], 0.0);
    assert!(seen[1] > 0.0, "second decision saw {seen:?}");
    run.stop().await.unwrap();
}
