//! One brain, two drivers: the same SMA-cross brain run by the backtest over
//! `examples/data/Bitcoin.csv` and by a paper bot (the live bot with the simulated venue as its
//! exchange) fed the same candles, with the results printed side by side.
//!
//! ```text
//! cargo run -p rustrade --features testkit --example backtest_and_paper
//! ```
//!
//! The paper bot runs on a tokio runtime with paused time: its [`ReplaySource`] publishes one
//! candle once the previous one has been fully processed and moves the bot's clock to each
//! candle's time, so the replay takes milliseconds and the engine sees the recorded times.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use rustrade::testkit::{ManualClock, ReplaySource};
use rustrade::{Bot, BotConfig};
use rustrade_backtest::Backtest;
use rustrade_backtest::data::{CandleCsv, CsvOptions};
use rustrade_core::{
    AssetClass, Brain, BrainContext, BrainError, Decision, Fill, InstrumentSpec, MarketEvent,
    Position, Symbol, async_trait,
};
use rustrade_risk::RiskConfig;
use rustrade_sim::{FeeModel, PaperExchange, SimConfig, SlippageModel};

/// Runs a brain and keeps every fill its driver tells it about, in order.
struct Recording {
    inner: Arc<dyn Brain>,
    fills: Mutex<Vec<Fill>>,
}

impl Recording {
    fn new(inner: Arc<dyn Brain>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            fills: Mutex::new(Vec::new()),
        })
    }

    /// (side, quantity, price, fee) of every fill so far.
    fn fills(&self) -> Vec<(rustrade_core::Side, f64, f64, f64)> {
        self.fills
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|f| (f.side, f.quantity.get(), f.price.get(), f.fee.get()))
            .collect()
    }
}

#[async_trait]
impl Brain for Recording {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn owned_symbols(&self) -> Option<Vec<Symbol>> {
        self.inner.owned_symbols()
    }
    fn on_event(&self, event: &MarketEvent, position: &Position) -> Result<Decision, BrainError> {
        self.inner.on_event(event, position)
    }
    fn on_event_in(
        &self,
        event: &MarketEvent,
        ctx: &BrainContext<'_>,
    ) -> Result<Decision, BrainError> {
        self.inner.on_event_in(event, ctx)
    }
    fn on_fill(&self, fill: &Fill) {
        self.fills
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(*fill);
        self.inner.on_fill(fill);
    }
}

/// What each driver is compared on.
struct Summary {
    fills: Vec<(rustrade_core::Side, f64, f64, f64)>,
    position: f64,
    realised_pnl: f64,
    fees_paid: f64,
}

fn main() -> anyhow::Result<()> {
    let symbol = Symbol::new("BTCUSDT")?;
    let spec = InstrumentSpec::new(symbol, AssetClass::CryptoSpot, 0.01, 0.0001)?;
    let mut venue = SimConfig::default().with_initial_cash(100_000.0);
    venue.fees = FeeModel::rates(0.0002, 0.001);
    venue.slippage = SlippageModel::FixedBps { bps: 5.0 };
    let risk = RiskConfig::default();

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/Bitcoin.csv");
    let candles = CandleCsv::open(&path, CsvOptions::new(symbol))
        .with_context(|| format!("opening {}", path.display()))?
        .collect::<Result<Vec<MarketEvent>, _>>()?;
    let brain = || -> anyhow::Result<Arc<Recording>> {
        let sma =
            rustrade_strategies::build("sma_cross", &serde_json::json!({"fast": 5, "slow": 20}))?;
        Ok(Recording::new(sma))
    };

    let recorded = brain()?;
    let result = Backtest::builder()
        .instrument(spec)
        .risk(risk)
        .sim(venue.clone())
        .brain(recorded.clone())
        .build()?
        .run_events(candles.iter().copied())?;
    let backtest = Summary {
        fills: recorded.fills(),
        position: result.positions.get(&symbol).map_or(0.0, |p| p.quantity),
        realised_pnl: result.realised_pnl,
        fees_paid: result.fees_paid,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()?;
    let paper = runtime.block_on(paper(brain()?, spec, venue, risk, candles.clone()))?;

    println!(
        "{} candles of {symbol}, brain sma_cross(5, 20)",
        candles.len()
    );
    println!("{:<16} {:>16} {:>16}", "", "backtest", "paper bot");
    println!(
        "{:<16} {:>16} {:>16}",
        "fills",
        backtest.fills.len(),
        paper.fills.len()
    );
    println!(
        "{:<16} {:>16.4} {:>16.4}",
        "final position", backtest.position, paper.position
    );
    println!(
        "{:<16} {:>16.4} {:>16.4}",
        "realised PnL", backtest.realised_pnl, paper.realised_pnl
    );
    println!(
        "{:<16} {:>16.4} {:>16.4}",
        "fees paid", backtest.fees_paid, paper.fees_paid
    );
    let same = backtest.fills == paper.fills
        && backtest.position == paper.position
        && backtest.realised_pnl == paper.realised_pnl
        && backtest.fees_paid == paper.fees_paid;
    println!("{}", if same { "identical" } else { "DIFFERENT" });
    anyhow::ensure!(same, "the two drivers disagree");
    Ok(())
}

/// Runs `brain` in a paper bot over `candles` and summarises what it did.
async fn paper(
    brain: Arc<Recording>,
    spec: InstrumentSpec,
    venue: SimConfig,
    risk: RiskConfig,
    candles: Vec<MarketEvent>,
) -> anyhow::Result<Summary> {
    let symbol = spec.symbol();
    let first = candles
        .first()
        .context("the data file holds no candle")?
        .time;
    let (exchange, reports) = PaperExchange::from_config(venue, [spec])?;
    let shared = exchange.shared_venue();
    let clock = Arc::new(ManualClock::new(first));
    let replay = ReplaySource::new(candles).with_clock(Arc::clone(&clock));
    let finished = replay.finished();
    let config = BotConfig::builder()
        .name("paper")
        .symbol(symbol.as_str())
        .risk(risk)
        .timer_interval(Duration::from_secs(3600))
        .without_signal_handler()
        .build()?;
    let bot = Bot::paper(config, exchange, reports, vec![brain.clone()])?
        .with_market_source(Box::new(replay))
        .with_clock(clock);
    let handle = bot.handle();
    let task = tokio::spawn(bot.run_until_shutdown());
    finished.cancelled().await;
    let position = handle.position(&symbol).await;
    handle.shutdown();
    task.await??;
    let venue = shared
        .lock()
        .map_err(|_| anyhow::anyhow!("paper venue poisoned"))?;
    Ok(Summary {
        fills: brain.fills(),
        position: position.quantity,
        realised_pnl: position.realised_pnl,
        fees_paid: venue.wallet().fees_paid(),
    })
}
