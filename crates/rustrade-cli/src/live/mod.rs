//! `rustrade live`: the configured strategy as a bot on a real venue — the facade's
//! [`Bot`] over the Binance adapter (`[venue]`), with its market streams, its user-data stream
//! as the fill source, a SQLite state file and the ops endpoint.
//!
//! Testnet is the default; production is refused unless the operator confirms it
//! (`--i-understand-this-trades-real-money` or `venue.confirm_production = true`). Before the
//! first order the account, the instruments' rules and the risk limits are shown.

pub(crate) mod credentials;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustrade::metrics::PrometheusMetrics;
use rustrade::{Bot, BotConfig};
use rustrade_binance::{
    BinanceMarketSource, BinanceSpot, BinanceUsdm, BinanceUsdmUserStream, BinanceUserStream,
    Credentials, Endpoints, Environment, MarketConfig, SpotConfig, UsdmConfig, UsdmUserConfig,
    UserStreamConfig,
};
use rustrade_core::{
    Balance, ExchangeClient, FillSource, MarketSource, MetricsSink, Position, Symbol,
};

use crate::commands::build_brain;
use crate::config::{BarFeed, Config, Network, Product, VenueSection};
use crate::paper::Started;
use crate::{notify, ops};

/// What the operator is shown before the bot starts: the account, each instrument's rules and
/// the risk limits, one line each.
#[derive(Debug, Clone, Default)]
pub(crate) struct Preflight {
    /// Where the bot trades (product, environment).
    pub(crate) venue: String,
    /// Non-zero balances and open positions.
    pub(crate) account: Vec<String>,
    /// Tick, lot, minimum quantity and notional per symbol.
    pub(crate) rules: Vec<String>,
    /// The risk limits every symbol trades under.
    pub(crate) limits: String,
    /// The state file.
    pub(crate) state_file: PathBuf,
    /// The PostgreSQL server keeping the state instead, when `[bot] state_url` is set.
    pub(crate) state_url: Option<String>,
}

/// Runs `config`'s strategy live until shutdown (signal, ops `/control/shutdown`).
/// `confirmed` is the command-line confirmation of production; `shown` is called with the
/// preflight before the bot starts, `started` once it and its endpoint run.
pub(crate) async fn run(
    config: &Config,
    confirmed: bool,
    credentials: Credentials,
    signals: bool,
    shown: impl FnOnce(&Preflight),
    started: impl FnOnce(&Started),
) -> anyhow::Result<()> {
    let Some(venue) = &config.venue else {
        bail!(
            "{}: rustrade live needs a [venue] table (exchange, product, environment)",
            config.path.display()
        );
    };
    check_confirmation(venue, confirmed)?;
    let symbols: Vec<Symbol> = config.markets.iter().map(|m| m.spec.symbol()).collect();
    let wired = connect(venue, &symbols, credentials).await?;
    let state_file = config
        .bot
        .state_file
        .clone()
        .unwrap_or_else(|| config.output_dir.join("live-state.db"));
    let mut preflight = Preflight {
        venue: describe(venue),
        account: wired.account,
        rules: Vec::with_capacity(symbols.len()),
        limits: limits(config),
        state_file: state_file.clone(),
        state_url: config.bot.state_url.clone(),
    };
    for symbol in &symbols {
        let spec = wired
            .exchange
            .instrument(symbol)
            .await
            .with_context(|| format!("{symbol}: instrument rules"))?;
        preflight.rules.push(format!(
            "{symbol}: tick {} lot {} min qty {} min notional {}",
            spec.tick_size(),
            spec.lot_size(),
            spec.min_qty(),
            spec.min_notional()
        ));
    }
    shown(&preflight);

    let bot = &config.bot;
    let mut builder = BotConfig::builder()
        .name(&bot.name)
        .symbols(symbols.iter().map(Symbol::to_string))
        .risk(config.risk)
        .shutdown_timeout(bot.shutdown_timeout)
        .close_positions_on_shutdown(bot.close_positions_on_shutdown)
        .cash_asset(venue.cash_asset);
    if !signals {
        builder = builder.without_signal_handler();
    }
    let bot_config = builder.build().context("[bot]")?;
    let metrics = PrometheusMetrics::local();
    let sink: Arc<dyn MetricsSink> = Arc::new(metrics.clone());
    let brain = build_brain(config, &config.strategy.params, BarFeed::Venue)?;
    let brains = vec![brain.name().to_owned()];
    // `[market_data]`: a relay's NATS stream replaces the venue's own market streams.
    let market = match &config.market_data {
        Some(_) => crate::paper::nats_source(config).await?,
        None => wired.market,
    };
    let live = Bot::new(bot_config, wired.exchange, vec![brain])?
        .with_market_source(market)
        .with_fill_source(wired.fills)
        .with_metrics(Arc::clone(&sink));
    let live = match &bot.state_url {
        Some(url) => crate::state::with_postgres(live, url, bot).await?,
        None => crate::state::with_file(live, &state_file)?,
    };
    let handle = live.handle();
    let (server, shown_started) = ops::serve(config, &handle, metrics, symbols.clone()).await?;
    let notifications = match &bot.notify {
        Some(section) => Some(notify::start(
            section,
            notify::Wiring {
                bot: &bot.name,
                handle: handle.clone(),
                events: live.subscribe_events(),
                brains,
                symbols,
                clock: Arc::new(rustrade::clock::SystemClock),
                metrics: sink,
            },
        )?),
        None => None,
    };
    let task = tokio::spawn(live.run_until_shutdown());
    started(&shown_started);
    let result = task.await.context("the bot task panicked")?;
    if let Some(server) = server {
        server.abort();
    }
    if let Some(n) = notifications {
        n.stop(notify::SHUTDOWN_GRACE).await;
    }
    Ok(result?)
}

/// Refuses production without the operator's explicit confirmation.
pub(crate) fn check_confirmation(venue: &VenueSection, confirmed: bool) -> anyhow::Result<()> {
    if venue.is_production() && !confirmed && !venue.confirm_production {
        bail!(
            "[venue] environment = \"production\" trades real money: pass \
             --i-understand-this-trades-real-money or set venue.confirm_production = true"
        );
    }
    Ok(())
}

/// The adapter's pieces for one product.
struct Wired {
    exchange: Arc<dyn ExchangeClient>,
    market: Box<dyn MarketSource>,
    fills: Box<dyn FillSource>,
    account: Vec<String>,
}

async fn connect(
    venue: &VenueSection,
    symbols: &[Symbol],
    credentials: Credentials,
) -> anyhow::Result<Wired> {
    let environment = match &venue.network {
        Network::Testnet => Environment::Testnet,
        Network::Production => Environment::Production,
        Network::Endpoint(url) => Environment::Custom(Endpoints::local(url)),
    };
    match venue.product {
        Product::Spot => {
            let endpoints = environment.endpoints(rustrade_binance::Product::Spot);
            let client = BinanceSpot::new(
                SpotConfig::new(environment, Some(credentials.clone()))
                    .with_symbols(symbols.iter().copied()),
            )?;
            let balances = client.balances().await.context("account balances")?;
            let clock = client.rest().clock();
            let fills = BinanceUserStream::new(
                UserStreamConfig::new(endpoints.ws_api.clone(), credentials),
                clock,
            );
            let market =
                BinanceMarketSource::new(MarketConfig::klines(&endpoints, &venue.interval))?;
            Ok(Wired {
                account: account_lines(&balances, &[]),
                exchange: Arc::new(client),
                market: Box::new(market),
                fills: Box::new(fills),
            })
        }
        Product::UsdmFutures => {
            let endpoints = environment.endpoints(rustrade_binance::Product::UsdMFutures);
            let client = BinanceUsdm::new(UsdmConfig::new(environment, Some(credentials)))?;
            client
                .prepare()
                .await
                .context("futures account check (one-way position mode)")?;
            let balances = client.balances().await.context("account balances")?;
            let positions = client.positions().await.context("open positions")?;
            let fills = BinanceUsdmUserStream::new(
                UsdmUserConfig::new(endpoints.streams.clone()),
                client.rest(),
            );
            let market =
                BinanceMarketSource::new(MarketConfig::usdm_klines(&endpoints, &venue.interval))?;
            Ok(Wired {
                account: account_lines(&balances, &positions),
                exchange: Arc::new(client),
                market: Box::new(market),
                fills: Box::new(fills),
            })
        }
    }
}

fn account_lines(balances: &[Balance], positions: &[(Symbol, Position)]) -> Vec<String> {
    let mut out: Vec<String> = balances
        .iter()
        .filter(|b| b.free.get() != 0.0 || b.locked.get() != 0.0)
        .map(|b| {
            format!(
                "{}: {} free, {} locked",
                b.asset,
                b.free.get(),
                b.locked.get()
            )
        })
        .collect();
    out.extend(
        positions
            .iter()
            .map(|(s, p)| format!("{s}: position {} at {}", p.quantity, p.avg_entry)),
    );
    if out.is_empty() {
        out.push("no balance and no position".to_owned());
    }
    out
}

fn describe(venue: &VenueSection) -> String {
    let product = match venue.product {
        Product::Spot => "Binance Spot",
        Product::UsdmFutures => "Binance USD-M futures",
    };
    let network = match &venue.network {
        Network::Testnet => "testnet".to_owned(),
        Network::Production => "PRODUCTION (real funds)".to_owned(),
        Network::Endpoint(url) => format!("endpoint {url}"),
    };
    format!("{product}, {network}, {} klines", venue.interval)
}

fn limits(config: &Config) -> String {
    let r = &config.risk;
    let cap = r
        .session
        .loss_cap
        .map_or("no session loss cap".to_owned(), |c| {
            format!("session loss cap {c}")
        });
    format!(
        "margin {} x leverage {} per entry, max quantity {}, {cap}, breaker after {} losses in {:?}",
        r.sizing.margin,
        r.sizing.leverage,
        r.sizing
            .max_quantity
            .map_or("none".to_owned(), |q| q.to_string()),
        r.breaker.loss_limit,
        r.breaker.window
    )
}
