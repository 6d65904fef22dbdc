//! `[market_data]`: a bot's market source reading a relay's NATS stream
//! ([`rustrade_nats::NatsMarketSource`]).

use rustrade_core::MarketSource;
use rustrade_nats::{NatsMarketSource, NatsOptions, NatsSourceConfig, StartAt};

use crate::config::{MarketDataSection, StreamStart};

/// Connects to the section's server and returns the source for bot `bot`.
pub(crate) async fn source(
    section: &MarketDataSection,
    bot: &str,
) -> anyhow::Result<Box<dyn MarketSource>> {
    let options = NatsOptions::new(section.nats_url.clone(), format!("rustrade-bot-{bot}"));
    let client = rustrade_nats::connect(&options).await?;
    let js = rustrade_nats::async_nats::jetstream::new(client);
    let mut config = NatsSourceConfig::new(section.stream.clone(), section.venue);
    config.start = match section.start {
        StreamStart::New => StartAt::New,
        StreamStart::All => StartAt::All,
        StreamStart::AfterSequence(n) => StartAt::AfterSequence(n),
        StreamStart::AfterTime(t) => StartAt::AfterTime(t),
    };
    config.stop_when_caught_up = section.stop_when_caught_up;
    Ok(Box::new(NatsMarketSource::new(js, config)))
}

/// What the start line says the feed is.
pub(crate) fn describe(section: &MarketDataSection) -> String {
    format!(
        "market data from stream {} (md.{}.>) at {}",
        section.stream, section.venue, section.nats_url
    )
}
