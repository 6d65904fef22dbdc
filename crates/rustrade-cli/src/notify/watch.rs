//! [`spawn`]: the task that turns what the bot does into [`Notice`]s — its journalled engine
//! events, its services' snapshots (polled) and the UTC day boundary (the bot's clock) — and
//! publishes them without ever making the bot wait.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rustrade::BotHandle;
use rustrade::clock::Clock;
use rustrade::engine::EngineEvent;
use rustrade::supervisor::ServiceLifecycleSnapshot;
use rustrade_core::Symbol;
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Notifier;
use super::notice::{DailyTally, Kind, Notice};

/// How often the services' snapshots are compared.
pub(crate) const SERVICE_POLL: Duration = Duration::from_secs(5);
/// How often the clock is checked for the day boundary.
pub(crate) const DAY_POLL: Duration = Duration::from_secs(60);

/// What the watch task reads and where it publishes.
pub(crate) struct Watch {
    /// Where notices go.
    pub(crate) notifier: Arc<Notifier>,
    /// The bot's engine events.
    pub(crate) events: broadcast::Receiver<Arc<Vec<EngineEvent>>>,
    /// The bot (service snapshots).
    pub(crate) handle: BotHandle,
    /// Brain names by index.
    pub(crate) brains: Vec<String>,
    /// Symbols the daily summary lists.
    pub(crate) symbols: Vec<Symbol>,
    /// The bot's clock.
    pub(crate) clock: Arc<dyn Clock>,
    /// Ends the task once the events already published are handled.
    pub(crate) stop: CancellationToken,
}

/// Spawns the watch task.
pub(crate) fn spawn(w: Watch) -> JoinHandle<()> {
    tokio::spawn(run(w))
}

async fn run(mut w: Watch) {
    let mut tally = DailyTally::new(w.clock.now(), &w.symbols);
    let mut services: BTreeMap<String, ServiceLifecycleSnapshot> = BTreeMap::new();
    let mut service_poll = tokio::time::interval(SERVICE_POLL);
    service_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut day_poll = tokio::time::interval(DAY_POLL);
    day_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            received = w.events.recv() => {
                if !handle_received(&w, &mut tally, received) {
                    return;
                }
            }
            _ = service_poll.tick() => {
                let now = w.clock.now();
                for s in w.handle.health().await.services {
                    if let Some(n) = Notice::from_service(services.get(&s.name), &s, now) {
                        w.notifier.publish(&n);
                    }
                    services.insert(s.name.clone(), s);
                }
            }
            _ = day_poll.tick() => {
                if let Some(summary) = tally.roll(w.clock.now()) {
                    w.notifier.publish(&summary);
                }
            }
            () = w.stop.cancelled() => {
                // What was published before the stop still counts.
                loop {
                    let received = w.events.try_recv();
                    let received = match received {
                        Ok(batch) => Ok(batch),
                        Err(broadcast::error::TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                        Err(_) => return,
                    };
                    if !handle_received(&w, &mut tally, received) {
                        return;
                    }
                }
            }
        }
    }
}

/// Publishes what one received batch calls for; `false` when the feed is closed.
fn handle_received(
    w: &Watch,
    tally: &mut DailyTally,
    received: Result<Arc<Vec<EngineEvent>>, RecvError>,
) -> bool {
    match received {
        Ok(batch) => {
            for event in batch.iter() {
                if let Some(summary) = tally.record(event) {
                    w.notifier.publish(&summary);
                }
                if let Some(n) = Notice::from_event(event, &w.brains) {
                    w.notifier.publish(&n);
                }
            }
            true
        }
        Err(RecvError::Lagged(missed)) => {
            tracing::warn!(missed, "notifications fell behind the engine's events");
            w.notifier.publish(&Notice {
                kind: Kind::Service,
                critical: false,
                time: w.clock.now(),
                text: format!(
                    "notifications fell behind: {missed} batches of engine events were not seen \
                     (fills and halts in them are not reported; see the ops endpoint)"
                ),
                details: json!({ "missed_batches": missed }),
            });
            true
        }
        Err(RecvError::Closed) => false,
    }
}
