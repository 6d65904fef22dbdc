//! `rustrade relay`: publishes a venue's market data to a NATS JetStream stream until the
//! source finishes (a file replay) or a signal stops it; prints the relay's health.

use super::Ui;
use crate::cli::RelayArgs;
use crate::config::{RelayFile, RelaySource};
use crate::relay;

/// Runs the relay `args` names.
pub(super) fn run(args: &RelayArgs, ui: Ui) -> anyhow::Result<()> {
    let config = RelayFile::load(&args.config)?;
    // Logs go to stderr (RUST_LOG, default info: the health lines); a subscriber already
    // installed is kept.
    let _ = rustrade::logging::init_tracing_with(rustrade::logging::LogFormat::Text, "info");
    let runtime = super::service_runtime()?;
    let source = match &config.source {
        RelaySource::Venue(venue) => crate::paper::live_feed::describe(venue),
        RelaySource::Files(markets, _) => format!(
            "replaying {}",
            markets
                .iter()
                .map(|m| m.file_label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let outcome = runtime.block_on(relay::run(&config, true, |_, ops| {
        ui.say(&format!(
            "relay: {source} to stream {} (md.{}.>) at {}\n",
            config.stream, config.venue, config.nats_url
        ));
        if let Some(addr) = ops {
            ui.say(&format!("relay ops endpoint: http://{addr}\n"));
        }
    }));
    runtime.shutdown_background();
    let outcome = outcome?;
    ui.emit_json(&serde_json::json!({
        "stream": config.stream,
        "interrupted": outcome.interrupted,
        "status": relay::status_json(&outcome.status),
    }));
    ui.say(&format!(
        "relay {}: {}\n",
        if outcome.interrupted {
            "stopped"
        } else {
            "finished"
        },
        relay::describe(&outcome.status)
    ));
    Ok(())
}
