//! [`Sink`]: where a channel's messages go (a webhook or a Telegram chat), and
//! [`DeliveryError`]: why one did not arrive. No error carries a credential: transport errors
//! are rendered without their URL and with the token masked.

use std::time::Duration;

use super::message::Message;
use super::telegram::TelegramSender;
use super::webhook::Webhook;

/// How long one HTTP call may take before it counts as failed.
pub(crate) const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A channel's destination.
#[derive(Debug, Clone)]
pub(crate) enum Sink {
    /// A generic JSON webhook.
    Webhook(Webhook),
    /// A Telegram chat through the Bot API.
    Telegram(TelegramSender),
}

impl Sink {
    /// The channel name (metrics label, logs).
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Webhook(_) => "webhook",
            Self::Telegram(_) => "telegram",
        }
    }

    /// Sends `message` once, within [`CALL_TIMEOUT`].
    pub(crate) async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let call = async {
            match self {
                Self::Webhook(w) => w.deliver(message).await,
                Self::Telegram(t) => t.deliver(message).await,
            }
        };
        tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| DeliveryError::Timeout(CALL_TIMEOUT))?
    }
}

/// Why a message did not arrive.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DeliveryError {
    /// The server asked us to slow down (HTTP 429), for this long.
    #[error("rate limited by the server; retry after {retry_after:?}")]
    RateLimited {
        /// How long the server asked us to wait.
        retry_after: Duration,
    },
    /// The server answered with an error status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the answer's body (or Telegram's `description`).
        body: String,
    },
    /// Connecting, sending or reading failed.
    #[error("transport: {0}")]
    Transport(String),
    /// No answer within the call timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl DeliveryError {
    /// The metrics label.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Status { .. } => "status",
            Self::Transport(_) => "transport",
            Self::Timeout(_) => "timeout",
        }
    }

    /// Whether sending the same message again may succeed.
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status >= 500,
            _ => true,
        }
    }

    /// A transport error without its URL (which may hold a token) and with `secret` masked.
    pub(crate) fn transport(e: reqwest::Error, secret: &str) -> Self {
        let e = e.without_url();
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        Self::Transport(mask(&text, secret))
    }
}

/// `text` with every occurrence of `secret` replaced by `[REDACTED]`.
pub(crate) fn mask(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, "[REDACTED]")
    }
}

/// The start of a response body, for an error message.
pub(crate) fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    let body = body.trim();
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &body[..cut]),
        None => body.to_owned(),
    }
}

/// A `Retry-After` header in seconds, if present and numeric.
pub(crate) fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
