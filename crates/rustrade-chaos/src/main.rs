//! `rustrade-chaos`: runs a chaos session and prints one line per violation, then a summary
//! `N kills, M faults, K orders, V violations`. Exits with status 1 when anything was violated.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use rustrade_chaos::adapter::Adapter;
use rustrade_chaos::client::Broken;
use rustrade_chaos::harness::{self, SessionConfig};
use rustrade_chaos::{Profile, StateLocation};

#[derive(Debug, Parser)]
#[command(about = "Kill a bot at random instants against a faulty venue and check nothing is lost")]
struct Args {
    /// Seed of the market, the faults and the kill schedule.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many times the bot is killed.
    #[arg(long, default_value_t = 50)]
    kills: u32,
    /// Fault profile: calm, stormy, manual, reordered, ci or refused-exits.
    #[arg(long, default_value = "stormy")]
    profile: String,
    /// How long the venue must see no request before the next bar, in milliseconds.
    #[arg(long, default_value_t = 15)]
    quiet_ms: u64,
    /// Keep the state file and the bot's log here.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Run a deliberately broken bot (skip-catch-up, timeout-is-rejection, forget-breaker), to see the kit catch it.
    #[arg(long)]
    broken: Option<Broken>,
    /// Keep the bot's state in this PostgreSQL server (a URL without a password) instead of a
    /// SQLite file; `--state-schema` names a schema holding no state from another run.
    #[arg(long, requires = "state_schema")]
    state_url: Option<String>,
    /// The schema of `--state-url` the bot's state goes in.
    #[arg(long, requires = "state_url")]
    state_schema: Option<String>,
    /// The adapter the bot trades through: kit (the kit's own client) or binance
    /// (rustrade-binance's USD-M futures client against the kit's Binance front).
    #[arg(long, default_value = "kit")]
    venue: Adapter,
    /// The chaos-bot executable (default: next to this one).
    #[arg(long)]
    bot: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let profile = Profile::named(&args.profile)?;
    let bot = match args.bot {
        Some(b) => b,
        None => harness::bot_next_to_me()?,
    };
    let mut config = SessionConfig::new(args.seed, args.kills, profile, bot);
    config.quiet = Duration::from_millis(args.quiet_ms);
    config.dir = args.dir;
    config.broken = args.broken;
    if let (Some(url), Some(schema)) = (args.state_url, args.state_schema) {
        config.state = Some(StateLocation::Postgres { url, schema });
    }
    config.adapter = args.venue;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let summary = runtime.block_on(harness::run(&config))?;
    for v in &summary.violations {
        println!("{v}");
    }
    println!(
        "seed {}, profile {}, venue {}: {} kills at a kill point, {} failed starts, {} bars",
        config.seed,
        profile.name,
        config.adapter.as_str(),
        summary.kill_point_kills,
        summary.failed_starts,
        summary.bars
    );
    println!("{summary}");
    if !summary.violations.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
