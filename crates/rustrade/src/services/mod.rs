//! The bot's supervised services. Each is a [`TradingService`](rustrade_supervisor::TradingService)
//! and drives the one engine through the [`Driver`](crate::driver::Driver):
//!
//! | service | name | what it does |
//! | --- | --- | --- |
//! | [`ExecutionService`] | `execution[<brain>]` | market bus → ownership filter → brain → signal → engine → exchange |
//! | [`MarketFeedService`] | `market-feed[<source>]` | a [`MarketSource`](rustrade_core::MarketSource) onto the market bus |
//! | [`FillRoutingService`] | `fill-routing[<source>]` | execution reports into the engine; invalid ones dropped and counted |
//! | [`CandlePollerService`] | `candle-poller` | polled bars onto the bus, each bar once |
//! | [`TimerService`] | `order-reaper`, `risk-sweep` | the engine's timer: order TTL, session rollover, breaker cooldown |
//! | [`OrderResolverService`] | `order-resolver` | looks up orders whose placement got no answer until the venue settles them |
//! | [`ReconcilerService`] | `reconciler` (or `order-sync`) | fills, open orders and positions (or open orders only) reconciled with the venue on an interval |

mod candle_poller;
mod execution;
mod fill_routing;
mod market_feed;
mod order_resolver;
mod reconciler;
mod timer;

pub(crate) use candle_poller::CandlePollerService;
pub(crate) use execution::ExecutionService;
pub(crate) use fill_routing::FillRoutingService;
pub use fill_routing::{DroppedReport, decode_report, validate_report};
pub(crate) use market_feed::MarketFeedService;
pub(crate) use order_resolver::OrderResolverService;
pub(crate) use reconciler::ReconcilerService;
pub(crate) use timer::TimerService;
