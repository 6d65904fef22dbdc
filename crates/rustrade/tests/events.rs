//! `Bot::subscribe_events`: the journalled engine events, batch by batch, as the bot acts.

use std::sync::Arc;
use std::time::Duration;

use rustrade::engine::EngineEvent;
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade::{Bot, BotConfig};
use rustrade_core::Decision;

#[tokio::test]
async fn subscribers_see_the_fill_the_bot_journals() {
    let exchange = Arc::new(MockExchange::new());
    let brain = Arc::new(ScriptedBrain::new("first-buy", |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::hold()
        })
    }));
    let config = BotConfig::builder()
        .name("events")
        .symbol("BTCUSDT")
        .without_signal_handler()
        .build()
        .unwrap();
    let bot = Bot::new(config, exchange.clone(), vec![brain])
        .unwrap()
        .with_fill_source(exchange.fill_source());
    let mut events = bot.subscribe_events();
    let handle = bot.handle();
    let bus = bot.market_data_bus();
    let task = tokio::spawn(bot.run_until_shutdown());

    bus.publish(candle_event("BTCUSDT", 60, 100.0));
    let mut kinds = Vec::new();
    let fill = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let batch = events.recv().await.expect("the feed stays open");
            assert!(!batch.is_empty(), "only non-empty batches are published");
            for e in batch.iter() {
                kinds.push(std::mem::discriminant(e));
                if let EngineEvent::FillApplied { fill, .. } = e {
                    return *fill;
                }
            }
        }
    })
    .await
    .expect("a fill within the timeout");
    assert_eq!(fill.symbol.as_str(), "BTCUSDT");
    assert!(kinds.len() > 1, "the order's placement came first");
    handle.shutdown();
    task.await.unwrap().unwrap();
}
