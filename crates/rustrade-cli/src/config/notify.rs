//! `[bot.notify]`: the notification channels (a JSON webhook, a Telegram chat), what each
//! sends and how fast, validated. The Telegram token comes from `RUSTRADE_TELEGRAM_TOKEN`, never
//! from the file.

use rustrade::Secret;

use super::raw::RawNotify;
use super::{ConfigError, Source};
use crate::notify::telegram::{ChatId, DEFAULT_API};
use crate::notify::{Kind, KindSet};

/// The environment variable holding the Telegram bot token.
pub(crate) const TELEGRAM_TOKEN_ENV: &str = "RUSTRADE_TELEGRAM_TOKEN";
/// Notices a channel's queue holds when `queue` is not given.
pub(crate) const DEFAULT_QUEUE: usize = 256;
/// Messages a minute when `rate_per_minute` is not given.
pub(crate) const DEFAULT_RATE_PER_MINUTE: u32 = 20;
/// Messages at once when `burst` is not given.
pub(crate) const DEFAULT_BURST: u32 = 5;

/// The validated `[bot.notify]` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NotifySection {
    /// Notices each channel's queue holds before it drops the oldest non-critical one.
    pub(crate) queue: usize,
    /// `[bot.notify.webhook]`.
    pub(crate) webhook: Option<WebhookSection>,
    /// `[bot.notify.telegram]`.
    pub(crate) telegram: Option<TelegramSection>,
}

/// A channel's rate limit: `burst` messages at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimit {
    /// Messages a minute, sustained.
    pub(crate) per_minute: u32,
    /// Messages at once.
    pub(crate) burst: u32,
}

/// The validated `[bot.notify.webhook]` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WebhookSection {
    /// Where messages are POSTed (kept secret: such URLs often embed a token).
    pub(crate) url: Secret,
    /// The URL's host, for logs.
    pub(crate) host: String,
    /// What it sends.
    pub(crate) kinds: KindSet,
    /// How fast.
    pub(crate) limit: RateLimit,
}

/// The validated `[bot.notify.telegram]` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TelegramSection {
    /// The Bot API base URL (tests point it at a local server).
    pub(crate) api_url: String,
    /// The chat notices go to.
    pub(crate) chat_id: ChatId,
    /// The bot token, from `RUSTRADE_TELEGRAM_TOKEN`; without one, the error `rustrade paper`
    /// and `rustrade live` stop with (a backtest of the same file needs no token).
    pub(crate) token: Result<Secret, ConfigError>,
    /// What it sends.
    pub(crate) kinds: KindSet,
    /// How fast.
    pub(crate) limit: RateLimit,
    /// Whether `/status`, `/pause`, `/resume` and `/flatten` are obeyed.
    pub(crate) commands: bool,
    /// The chats whose commands are obeyed.
    pub(crate) allowed_chats: Vec<i64>,
}

impl NotifySection {
    /// Validates `raw`; `env_token` is the value of `RUSTRADE_TELEGRAM_TOKEN`.
    pub(crate) fn from_raw(
        src: &Source<'_>,
        raw: &RawNotify,
        env_token: Option<&Secret>,
    ) -> Result<Self, ConfigError> {
        let queue = match raw.queue {
            Some(0) => return Err(src.error("bot.notify.queue", "must be >= 1 (got 0)")),
            Some(n) => n,
            None => DEFAULT_QUEUE,
        };
        let all = match &raw.events {
            Some(list) => kinds(src, "bot.notify.events", list)?,
            None => KindSet::all(),
        };
        let webhook = match &raw.webhook {
            None => None,
            Some(w) => {
                let key = "bot.notify.webhook.url";
                let text = w.url.expose().trim();
                let url = reqwest::Url::parse(text)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
                let Some(url) = url else {
                    return Err(src.error(
                        key,
                        "must be an http:// or https:// URL (the value is not shown: it may hold a token)",
                    ));
                };
                Some(WebhookSection {
                    url: Secret::new(text),
                    host: url.host_str().unwrap_or_default().to_owned(),
                    kinds: channel_kinds(src, "bot.notify.webhook", w.events.as_deref(), all)?,
                    limit: limit(src, "bot.notify.webhook", w.rate_per_minute, w.burst)?,
                })
            }
        };
        let telegram = match &raw.telegram {
            None => None,
            Some(t) => {
                if t.token.is_some() {
                    return Err(src.error(
                        "bot.notify.telegram.token",
                        format!(
                            "the token is read from {TELEGRAM_TOKEN_ENV}, never from the file \
                             (the value is not shown)"
                        ),
                    ));
                }
                let token = env_token
                    .filter(|t| !t.expose().trim().is_empty())
                    .cloned()
                    .ok_or_else(|| {
                        src.error(
                            "bot.notify.telegram",
                            format!("set {TELEGRAM_TOKEN_ENV} to the Telegram bot's token"),
                        )
                    });
                let chat_id = match &t.chat_id {
                    toml::Value::Integer(id) => ChatId::Id(*id),
                    toml::Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                        ChatId::Id(s.trim().parse().unwrap_or_default())
                    }
                    toml::Value::String(s) if s.starts_with('@') && s.len() > 1 => {
                        ChatId::Name(s.clone())
                    }
                    other => {
                        return Err(src.error(
                            "bot.notify.telegram.chat_id",
                            format!(
                                "expected a chat id number or an \"@channel\" name (got {other})"
                            ),
                        ));
                    }
                };
                let api_url = t.api_url.as_deref().unwrap_or(DEFAULT_API).trim();
                if reqwest::Url::parse(api_url)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                    .is_none()
                {
                    return Err(src.error(
                        "bot.notify.telegram.api_url",
                        format!("must be an http:// or https:// base URL (got {api_url:?})"),
                    ));
                }
                let allowed_chats = match (&t.allowed_chats, &chat_id) {
                    (Some(list), _) => list.clone(),
                    (None, ChatId::Id(id)) => vec![*id],
                    (None, ChatId::Name(_)) => Vec::new(),
                };
                if t.commands && allowed_chats.is_empty() {
                    return Err(src.error(
                        "bot.notify.telegram.commands",
                        "needs allowed_chats, the numeric ids of the chats whose commands are obeyed",
                    ));
                }
                Some(TelegramSection {
                    api_url: api_url.trim_end_matches('/').to_owned(),
                    chat_id,
                    token,
                    kinds: channel_kinds(src, "bot.notify.telegram", t.events.as_deref(), all)?,
                    limit: limit(src, "bot.notify.telegram", t.rate_per_minute, t.burst)?,
                    commands: t.commands,
                    allowed_chats,
                })
            }
        };
        if webhook.is_none() && telegram.is_none() {
            return Err(src.error(
                "bot.notify",
                "names no channel; add [bot.notify.webhook] or [bot.notify.telegram]",
            ));
        }
        Ok(Self {
            queue,
            webhook,
            telegram,
        })
    }
}

fn channel_kinds(
    src: &Source<'_>,
    table: &str,
    list: Option<&[String]>,
    all: KindSet,
) -> Result<KindSet, ConfigError> {
    match list {
        Some(list) => kinds(src, &format!("{table}.events"), list),
        None => Ok(all),
    }
}

fn kinds(src: &Source<'_>, key: &str, list: &[String]) -> Result<KindSet, ConfigError> {
    let mut out = Vec::with_capacity(list.len());
    for name in list {
        let kind = Kind::parse(name.trim()).ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|k| k.label()).collect();
            src.error(
                key,
                format!(
                    "unknown event kind {name:?}; expected one of {}",
                    names.join(", ")
                ),
            )
        })?;
        out.push(kind);
    }
    Ok(KindSet::from_kinds(out))
}

fn limit(
    src: &Source<'_>,
    table: &str,
    rate_per_minute: Option<u32>,
    burst: Option<u32>,
) -> Result<RateLimit, ConfigError> {
    let check = |name: &str, v: Option<u32>, default: u32| match v {
        Some(0) => Err(src.error(&format!("{table}.{name}"), "must be >= 1 (got 0)")),
        Some(n) => Ok(n),
        None => Ok(default),
    };
    Ok(RateLimit {
        per_minute: check("rate_per_minute", rate_per_minute, DEFAULT_RATE_PER_MINUTE)?,
        burst: check("burst", burst, DEFAULT_BURST)?,
    })
}
