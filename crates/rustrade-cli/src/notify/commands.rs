//! Telegram commands: `/status`, `/pause`, `/resume`, `/flatten`, read by long polling
//! (`getUpdates`) and acted on through the [`BotHandle`] — `/flatten` asks the engine for the
//! exits, so they are journalled and counted like any other.
//!
//! Only chats on the allow-list are obeyed; a message from any other chat is counted
//! (`rustrade_notify_commands_refused_total{reason="chat_not_allowed"}`), logged with its chat
//! id, and not answered. Commands sent while the bot was not running are skipped at start-up,
//! never acted on late.

use std::sync::Arc;
use std::time::Duration;

use rustrade::BotHandle;
use rustrade_core::{MetricsSink, Symbol};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::names;
use super::sink::{CALL_TIMEOUT, DeliveryError};
use super::telegram::{ChatId, TelegramApi};

/// How long one `getUpdates` call waits for a message at the server.
pub(crate) const LONG_POLL: Duration = Duration::from_secs(30);
/// The wait after a failed poll; it doubles up to [`MAX_POLL_BACKOFF`].
pub(crate) const POLL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between failed polls.
pub(crate) const MAX_POLL_BACKOFF: Duration = Duration::from_secs(60);

/// The command poller's parts.
pub(crate) struct Commands {
    /// The Bot API.
    pub(crate) api: TelegramApi,
    /// Chat ids whose commands are obeyed.
    pub(crate) allowed: Vec<i64>,
    /// The bot commands act on.
    pub(crate) handle: BotHandle,
    /// Symbols `/status` reports.
    pub(crate) symbols: Vec<Symbol>,
    /// The bot's name (replies).
    pub(crate) bot: String,
    /// Counters.
    pub(crate) metrics: Arc<dyn MetricsSink>,
}

/// A command the bot obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Health, entry blocks and positions.
    Status,
    /// Refuse new entries (exits still go).
    Pause,
    /// Allow entries again.
    Resume,
    /// Close every position through the engine.
    Flatten,
    /// The list of commands.
    Help,
}

impl Command {
    /// The command in a message's text (`/pause`, `/pause@my_bot`), if it is one.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let word = text.split_whitespace().next()?;
        let word = word.split('@').next()?;
        Some(match word {
            "/status" => Self::Status,
            "/pause" => Self::Pause,
            "/resume" => Self::Resume,
            "/flatten" => Self::Flatten,
            "/help" | "/start" => Self::Help,
            _ => return None,
        })
    }
}

/// Spawns the poller; it runs until aborted or the bot shuts down.
pub(crate) fn spawn(c: Commands) -> JoinHandle<()> {
    tokio::spawn(async move {
        let handle = c.handle.clone();
        tokio::select! {
            () = run(c) => {}
            () = handle.await_shutdown() => {}
        }
    })
}

async fn run(c: Commands) {
    let mut offset = skip_stale(&c).await;
    let mut backoff = POLL_BACKOFF;
    loop {
        let body = json!({
            "offset": offset,
            "timeout": LONG_POLL.as_secs(),
            "allowed_updates": ["message"],
        });
        match c
            .api
            .call("getUpdates", &body, LONG_POLL + CALL_TIMEOUT)
            .await
        {
            Ok(Value::Array(updates)) => {
                backoff = POLL_BACKOFF;
                for u in &updates {
                    if let Some(id) = u["update_id"].as_i64() {
                        offset = offset.max(id + 1);
                    }
                    handle_update(&c, u).await;
                }
            }
            Ok(_) => {}
            Err(e) => {
                c.metrics.counter(
                    names::FAILURES,
                    &[("channel", "telegram_commands"), ("reason", e.label())],
                    1,
                );
                let wait = match &e {
                    DeliveryError::RateLimited { retry_after } => *retry_after,
                    _ => backoff,
                };
                tracing::warn!(error = %e, retry_in = ?wait, "telegram getUpdates failed");
                tokio::time::sleep(wait).await;
                backoff = (backoff * 2).min(MAX_POLL_BACKOFF);
            }
        }
    }
}

/// Confirms every update that waited while the bot was down, without acting on it; returns
/// the offset of the first new one.
async fn skip_stale(c: &Commands) -> i64 {
    let body = json!({ "offset": -1, "timeout": 0 });
    match c.api.call("getUpdates", &body, CALL_TIMEOUT).await {
        Ok(Value::Array(updates)) => match updates.last().and_then(|u| u["update_id"].as_i64()) {
            Some(last) => {
                tracing::info!("telegram: skipped commands sent before start-up");
                last + 1
            }
            None => 0,
        },
        Ok(_) => 0,
        Err(e) => {
            tracing::warn!(error = %e, "telegram getUpdates failed at start-up");
            0
        }
    }
}

async fn handle_update(c: &Commands, update: &Value) {
    let message = &update["message"];
    let Some(chat) = message["chat"]["id"].as_i64() else {
        return;
    };
    let text = message["text"].as_str().unwrap_or_default();
    if !c.allowed.contains(&chat) {
        c.metrics.counter(
            names::COMMANDS_REFUSED,
            &[("reason", "chat_not_allowed")],
            1,
        );
        tracing::warn!(
            chat,
            "telegram message from a chat not on the allow-list ignored"
        );
        return;
    }
    let reply = match Command::parse(text) {
        Some(command) => {
            tracing::info!(chat, ?command, "telegram command");
            act(c, command).await
        }
        None => {
            c.metrics
                .counter(names::COMMANDS_REFUSED, &[("reason", "unknown_command")], 1);
            format!("unknown command. {}", help())
        }
    };
    let text = format!("[{}] {reply}", c.bot);
    if let Err(e) = c
        .api
        .send_message(&ChatId::Id(chat), &text, CALL_TIMEOUT)
        .await
    {
        c.metrics.counter(
            names::FAILURES,
            &[("channel", "telegram_commands"), ("reason", e.label())],
            1,
        );
        tracing::warn!(chat, error = %e, "telegram reply failed");
    }
}

/// Carries out `command` and says what happened.
pub(crate) async fn act(c: &Commands, command: Command) -> String {
    let h = &c.handle;
    match command {
        Command::Status => status(h, &c.symbols).await,
        Command::Pause => {
            if h.pause_entries().await {
                "new entries paused; exits still go".to_owned()
            } else {
                "the bot has not started".to_owned()
            }
        }
        Command::Resume => {
            if h.resume_entries().await {
                "entries resumed".to_owned()
            } else {
                "the bot has not started".to_owned()
            }
        }
        Command::Flatten => {
            let exits = h.flatten().await;
            format!("flatten: {exits} exit orders sent through the engine")
        }
        Command::Help => help().to_owned(),
    }
}

fn help() -> &'static str {
    "commands: /status, /pause (new entries), /resume, /flatten (close every position)"
}

async fn status(h: &BotHandle, symbols: &[Symbol]) -> String {
    let health = h.health().await;
    let blocks: Vec<&str> = health.entry_blocks.iter().map(|b| b.label()).collect();
    let mut text = format!(
        "{}; entries {}",
        if health.healthy {
            "healthy"
        } else {
            "UNHEALTHY"
        },
        if blocks.is_empty() {
            "allowed".to_owned()
        } else {
            format!("blocked ({})", blocks.join(", "))
        }
    );
    for s in symbols {
        let p = h.position(s).await;
        text.push_str(&format!(
            "\n{s}: position {} at {}, realised {:.2}, unrealised {:.2}",
            p.quantity, p.avg_entry, p.realised_pnl, p.unrealised_pnl
        ));
    }
    let down: Vec<String> = health
        .services
        .iter()
        .filter(|s| s.phase != rustrade::supervisor::ServicePhase::Running)
        .map(|s| format!("{} {}", s.name, s.phase))
        .collect();
    if !down.is_empty() {
        text.push_str(&format!("\nservices not running: {}", down.join(", ")));
    }
    text
}
