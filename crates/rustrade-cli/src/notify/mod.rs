//! Notifications: what a running bot tells its operator, over a generic JSON webhook and
//! Telegram (`[bot.notify]`).
//!
//! - [`Notice`]s come from the journalled engine events ([`rustrade::Bot::subscribe_events`]):
//!   fills, risk halts, drift (recovery), entry blocks raised and cleared; from the
//!   supervisor's service snapshots (failures, terminations); and from the daily tally at the
//!   UTC day boundary ([`watch`]).
//! - The trading path never waits for a notification: the engine publishes on a broadcast
//!   channel, [`watch`] turns events into notices and pushes them into each channel's bounded
//!   [`Outbox`] without waiting; a full outbox drops its oldest non-critical notice and counts
//!   it (`rustrade_notify_dropped_total{reason="queue_full"}`), and the count goes out with the
//!   next message.
//! - Each channel has its own sender task and [`TokenBucket`]: `burst` messages at once, then
//!   `rate_per_minute`. What queues while the limit holds a message back is sent as one
//!   coalesced "N more events" message, never silently dropped.
//! - A failed call is counted (`rustrade_notify_failures_total{channel,reason}`), logged
//!   without any credential, and retried: after the server's `retry_after` on a 429, with
//!   backoff on a 5xx, a timeout or a transport error; not after another 4xx. A message still
//!   undelivered after [`MAX_ATTEMPTS`] is counted as dropped (`reason="undeliverable"`).
//! - Telegram commands (`/status`, `/pause`, `/resume`, `/flatten`) are read by long polling
//!   from the chats on the allow-list and act through the [`BotHandle`]
//!   ([`commands`]).

pub(crate) mod bucket;
pub(crate) mod commands;
pub(crate) mod message;
pub(crate) mod notice;
pub(crate) mod outbox;
pub(crate) mod sink;
pub(crate) mod telegram;
pub(crate) mod watch;
pub(crate) mod webhook;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rustrade::BotHandle;
use rustrade_core::MetricsSink;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{NotifySection, RateLimit};
use bucket::TokenBucket;
use message::Message;
pub(crate) use notice::{Kind, KindSet, Notice};
use outbox::Outbox;
use sink::Sink;
use telegram::{TelegramApi, TelegramSender};
use webhook::Webhook;

/// Calls per message before it is given up.
pub(crate) const MAX_ATTEMPTS: u32 = 4;
/// How long `rustrade paper` and `rustrade live` give queued notices at shutdown.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How a channel waits before calling again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Retry {
    /// The first backoff after a 5xx, timeout or transport error; it doubles per attempt.
    pub(crate) first_backoff: Duration,
    /// The longest `retry_after` of a 429 honoured before calling again.
    pub(crate) max_retry_after: Duration,
}

impl Retry {
    /// What the bot uses.
    pub(crate) const DEFAULT: Self = Self {
        first_backoff: Duration::from_secs(2),
        max_retry_after: Duration::from_secs(300),
    };
}

/// Metric names (their one home is the facade's list, [`rustrade::metrics::names::HOST`]).
pub(crate) mod names {
    pub(crate) use rustrade::metrics::names::{
        NOTIFY_COALESCED as COALESCED, NOTIFY_COMMANDS_REFUSED as COMMANDS_REFUSED,
        NOTIFY_DROPPED as DROPPED, NOTIFY_FAILURES as FAILURES, NOTIFY_SENT as SENT,
    };
}

/// The channels of a bot and their sender tasks.
pub(crate) struct Notifier {
    channels: Vec<Channel>,
    metrics: Arc<dyn MetricsSink>,
}

struct Channel {
    name: &'static str,
    kinds: KindSet,
    outbox: Arc<Outbox>,
    task: JoinHandle<()>,
}

/// A channel to start: where it sends, what, and how fast.
#[derive(Debug, Clone)]
pub(crate) struct ChannelSpec {
    /// The destination.
    pub(crate) sink: Sink,
    /// The kinds it sends.
    pub(crate) kinds: KindSet,
    /// Its rate limit.
    pub(crate) limit: RateLimit,
    /// Its waits after failures.
    pub(crate) retry: Retry,
}

impl Notifier {
    /// Starts one sender task per channel, each with a queue of `queue` notices.
    pub(crate) fn start(
        specs: Vec<ChannelSpec>,
        queue: usize,
        metrics: Arc<dyn MetricsSink>,
    ) -> Self {
        let channels = specs
            .into_iter()
            .map(|spec| {
                let outbox = Arc::new(Outbox::new(queue));
                let name = spec.sink.name();
                let task = tokio::spawn(send_loop(
                    spec.sink,
                    Arc::clone(&outbox),
                    spec.limit,
                    spec.retry,
                    Arc::clone(&metrics),
                ));
                Channel {
                    name,
                    kinds: spec.kinds,
                    outbox,
                    task,
                }
            })
            .collect();
        Self { channels, metrics }
    }

    /// Hands `notice` to every channel that sends its kind. Never waits.
    pub(crate) fn publish(&self, notice: &Notice) {
        for c in self
            .channels
            .iter()
            .filter(|c| c.kinds.contains(notice.kind))
        {
            if c.outbox.push(notice.clone()) {
                self.metrics.counter(
                    names::DROPPED,
                    &[("channel", c.name), ("reason", "queue_full")],
                    1,
                );
            }
        }
    }

    /// Notices queued per channel, in channel order.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> Vec<usize> {
        self.channels.iter().map(|c| c.outbox.len()).collect()
    }

    /// Stops taking notices, gives the senders `grace` to deliver what is queued, then stops
    /// them.
    pub(crate) async fn close(self, grace: Duration) {
        for c in &self.channels {
            c.outbox.close();
        }
        let mut channels = self.channels;
        let all = async {
            for c in &mut channels {
                let _ = (&mut c.task).await;
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            for c in &channels {
                if !c.task.is_finished() {
                    tracing::warn!(
                        channel = c.name,
                        queued = c.outbox.len(),
                        "notifications still queued at shutdown were not sent"
                    );
                    c.task.abort();
                }
            }
        }
    }
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field(
                "channels",
                &self.channels.iter().map(|c| c.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The running notifications of a bot: the notifier, the task feeding it and the Telegram
/// command poller.
#[derive(Debug)]
pub(crate) struct Running {
    notifier: Arc<Notifier>,
    stop: CancellationToken,
    watch: JoinHandle<()>,
    commands: Option<JoinHandle<()>>,
}

impl Running {
    /// Stops watching (after the events already published are turned into notices) and the
    /// command poller, then closes the notifier within `grace`.
    pub(crate) async fn stop(self, grace: Duration) {
        self.stop.cancel();
        if let Some(c) = self.commands {
            c.abort();
        }
        let _ = self.watch.await;
        match Arc::try_unwrap(self.notifier) {
            Ok(n) => n.close(grace).await,
            Err(_) => tracing::warn!("notifier still shared at shutdown; queued notices dropped"),
        }
    }
}

/// What [`start`] needs from the bot besides its config.
pub(crate) struct Wiring<'a> {
    /// The bot's name (message prefix, webhook `bot` field).
    pub(crate) bot: &'a str,
    /// The bot's handle: health for service notices, control for Telegram commands.
    pub(crate) handle: BotHandle,
    /// Its engine events ([`rustrade::Bot::subscribe_events`]).
    pub(crate) events: tokio::sync::broadcast::Receiver<Arc<Vec<rustrade::engine::EngineEvent>>>,
    /// Brain names by index.
    pub(crate) brains: Vec<String>,
    /// The traded symbols (the daily summary lists each).
    pub(crate) symbols: Vec<rustrade_core::Symbol>,
    /// The bot's clock (the day boundary).
    pub(crate) clock: Arc<dyn rustrade::clock::Clock>,
    /// Where the counters go.
    pub(crate) metrics: Arc<dyn MetricsSink>,
}

/// Starts the channels `section` configures and the task that feeds them from the bot.
pub(crate) fn start(section: &NotifySection, w: Wiring<'_>) -> anyhow::Result<Running> {
    let client = reqwest::Client::builder()
        .connect_timeout(sink::CALL_TIMEOUT)
        .build()
        .context("bot.notify: HTTP client")?;
    let mut specs = Vec::new();
    if let Some(h) = &section.webhook {
        specs.push(ChannelSpec {
            sink: Sink::Webhook(Webhook::new(
                client.clone(),
                h.url.clone(),
                h.host.clone(),
                w.bot.to_owned(),
            )),
            kinds: h.kinds,
            limit: h.limit,
            retry: Retry::DEFAULT,
        });
    }
    let mut commands = None;
    if let Some(t) = &section.telegram {
        let token = t.token.clone()?;
        let api = TelegramApi::new(client.clone(), &t.api_url, token);
        specs.push(ChannelSpec {
            sink: Sink::Telegram(TelegramSender::new(
                api.clone(),
                t.chat_id.clone(),
                w.bot.to_owned(),
            )),
            kinds: t.kinds,
            limit: t.limit,
            retry: Retry::DEFAULT,
        });
        if t.commands {
            commands = Some(commands::spawn(commands::Commands {
                api,
                allowed: t.allowed_chats.clone(),
                handle: w.handle.clone(),
                symbols: w.symbols.clone(),
                bot: w.bot.to_owned(),
                metrics: Arc::clone(&w.metrics),
            }));
        }
    }
    let notifier = Arc::new(Notifier::start(
        specs,
        section.queue,
        Arc::clone(&w.metrics),
    ));
    let stop = CancellationToken::new();
    let watch = watch::spawn(watch::Watch {
        notifier: Arc::clone(&notifier),
        events: w.events,
        handle: w.handle,
        brains: w.brains,
        symbols: w.symbols,
        clock: w.clock,
        stop: stop.clone(),
    });
    Ok(Running {
        notifier,
        stop,
        watch,
        commands,
    })
}

/// One channel's sender: takes notices in order, waits for the rate limit, coalesces what
/// queued meanwhile, delivers with retries. Ends when the outbox is closed and empty.
async fn send_loop(
    sink: Sink,
    outbox: Arc<Outbox>,
    limit: RateLimit,
    retry: Retry,
    metrics: Arc<dyn MetricsSink>,
) {
    let channel = sink.name();
    let mut bucket = TokenBucket::new(limit.per_minute, limit.burst, now());
    while let Some(first) = outbox.next().await {
        let mut batch = vec![first];
        let mut waited = false;
        while let Err(wait) = bucket.try_take(now()) {
            waited = true;
            tokio::time::sleep(wait).await;
        }
        if waited {
            // What queued while the limit held this one back goes out with it.
            batch.extend(outbox.drain());
        }
        let dropped = outbox.take_dropped();
        if batch.len() > 1 {
            metrics.counter(
                names::COALESCED,
                &[("channel", channel)],
                batch.len() as u64,
            );
        }
        let message = Message::coalesce(&batch, dropped);
        deliver(&sink, &message, retry, metrics.as_ref()).await;
    }
}

/// Delivers `message`, retrying what may succeed later; counts and logs every failure.
async fn deliver(sink: &Sink, message: &Message, retry: Retry, metrics: &dyn MetricsSink) {
    let channel = sink.name();
    for attempt in 1..=MAX_ATTEMPTS {
        let e = match sink.deliver(message).await {
            Ok(()) => {
                metrics.counter(names::SENT, &[("channel", channel)], 1);
                return;
            }
            Err(e) => e,
        };
        metrics.counter(
            names::FAILURES,
            &[("channel", channel), ("reason", e.label())],
            1,
        );
        if attempt == MAX_ATTEMPTS || !e.is_retryable() {
            metrics.counter(
                names::DROPPED,
                &[("channel", channel), ("reason", "undeliverable")],
                1,
            );
            tracing::error!(
                channel, attempt, kind = message.kind, error = %e,
                "notification not delivered; given up"
            );
            return;
        }
        let wait = match &e {
            sink::DeliveryError::RateLimited { retry_after } => {
                (*retry_after).min(retry.max_retry_after)
            }
            _ => retry.first_backoff * 2u32.pow(attempt - 1),
        };
        tracing::warn!(
            channel, attempt, kind = message.kind, error = %e, retry_in = ?wait,
            "notification failed; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// tokio's clock: the rate limit paces real HTTP calls, and tests pause it.
#[allow(
    clippy::disallowed_methods,
    reason = "notifications are an edge: the rate limit paces real HTTP calls on tokio's (pausable) clock"
)]
fn now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}
