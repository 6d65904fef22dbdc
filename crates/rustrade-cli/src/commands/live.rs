//! `rustrade live`: the strategy as a bot on the config's venue; the preflight (venue, account,
//! rules, limits) first, then logs until shutdown.

use rustrade::Secret;
use rustrade_strategies::Registry;

use super::Ui;
use super::paper::TOKEN_ENV;
use crate::cli::LiveArgs;
use crate::config::{Config, Overrides, TELEGRAM_TOKEN_ENV};
use crate::live::{self, credentials};

/// Runs the live bot `args` describe until it is told to stop.
pub(super) fn run(args: &LiveArgs, ui: Ui, registry: &Registry) -> anyhow::Result<()> {
    let overrides = Overrides {
        data: None,
        params: args.params.clone(),
        out: None,
        ops_token: std::env::var(TOKEN_ENV)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| Secret::new(t.trim())),
        telegram_token: std::env::var(TELEGRAM_TOKEN_ENV)
            .ok()
            .map(|t| Secret::new(t.trim())),
    };
    let config = Config::load(&args.config, &overrides, registry)?;
    if let Some(venue) = &config.venue {
        // Checked before the keys are read: a production run without confirmation stops here.
        live::check_confirmation(venue, args.confirm_production)?;
    }
    let creds = credentials::from_env(|k| std::env::var(k).ok())?;
    let _ = rustrade::logging::init_tracing_with(rustrade::logging::LogFormat::Text, "info");
    let runtime = super::service_runtime()?;
    let mut line = None;
    let result = runtime.block_on(live::run(
        &config,
        args.confirm_production,
        creds,
        true,
        |pre| {
            let mut text = format!("live bot {:?} on {}\n", config.bot.name, pre.venue);
            text.push_str("account:\n");
            for line in &pre.account {
                text.push_str(&format!("  {line}\n"));
            }
            text.push_str("instruments:\n");
            for line in &pre.rules {
                text.push_str(&format!("  {line}\n"));
            }
            text.push_str(&format!("risk: {}\n", pre.limits));
            match &pre.state_url {
                Some(url) => text.push_str(&format!("state: {url}\n")),
                None => text.push_str(&format!("state file: {}\n", pre.state_file.display())),
            }
            ui.say(&text);
            ui.emit_json(&serde_json::json!({
                "venue": pre.venue,
                "account": pre.account,
                "instruments": pre.rules,
                "risk": pre.limits,
                "state_file": pre.state_file.display().to_string(),
                "state_url": pre.state_url,
            }));
        },
        |started| line = super::show_started(ui, started, None),
    ));
    if let Some(line) = line {
        line.finish();
    }
    result?;
    runtime.shutdown_background();
    Ok(())
}
