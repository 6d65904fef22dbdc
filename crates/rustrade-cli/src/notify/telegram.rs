//! [`TelegramSender`]: sends messages to one chat through the Telegram Bot API
//! (`POST <api>/bot<token>/sendMessage`). The token is part of every URL, so no URL is ever
//! logged or put in an error, and transport errors are rendered with the token masked.

use std::time::Duration;

use rustrade::Secret;
use serde_json::{Value, json};

use super::message::Message;
use super::sink::{DeliveryError, excerpt};

/// The public Bot API.
pub(crate) const DEFAULT_API: &str = "https://api.telegram.org";

/// A Telegram chat id: a number, or an `@channel` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChatId {
    /// A numeric chat id (negative for groups).
    Id(i64),
    /// A public channel's `@name`.
    Name(String),
}

impl ChatId {
    /// As the Bot API takes it.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Id(id) => json!(id),
            Self::Name(name) => json!(name),
        }
    }
}

/// The Bot API client of one bot token.
#[derive(Clone)]
pub(crate) struct TelegramApi {
    client: reqwest::Client,
    api: String,
    token: Secret,
}

impl TelegramApi {
    /// A client of the API at `api` (no trailing slash) with `token`.
    pub(crate) fn new(client: reqwest::Client, api: &str, token: Secret) -> Self {
        Self {
            client,
            api: api.trim_end_matches('/').to_owned(),
            token,
        }
    }

    /// Calls `method` with the JSON `body`, within `timeout`; the `result` on success.
    pub(crate) async fn call(
        &self,
        method: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Value, DeliveryError> {
        let url = format!("{}/bot{}/{method}", self.api, self.token.expose());
        let call = async {
            let response = self
                .client
                .post(url)
                .json(body)
                .send()
                .await
                .map_err(|e| DeliveryError::transport(e, self.token.expose()))?;
            let status = response.status().as_u16();
            let text = response
                .text()
                .await
                .map_err(|e| DeliveryError::transport(e, self.token.expose()))?;
            Ok::<_, DeliveryError>((status, text))
        };
        let (status, text) = tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| DeliveryError::Timeout(timeout))??;
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if (200..300).contains(&status) && answer["ok"] == Value::Bool(true) {
            return Ok(answer["result"].clone());
        }
        if status == 429 {
            let secs = answer["parameters"]["retry_after"].as_u64().unwrap_or(1);
            return Err(DeliveryError::RateLimited {
                retry_after: Duration::from_secs(secs),
            });
        }
        let description = answer["description"]
            .as_str()
            .map_or_else(|| excerpt(&text), excerpt);
        Err(DeliveryError::Status {
            status,
            body: super::sink::mask(&description, self.token.expose()),
        })
    }

    /// Sends `text` to `chat`.
    pub(crate) async fn send_message(
        &self,
        chat: &ChatId,
        text: &str,
        timeout: Duration,
    ) -> Result<(), DeliveryError> {
        let body = json!({
            "chat_id": chat.to_json(),
            "text": text,
            "disable_web_page_preview": true,
        });
        self.call("sendMessage", &body, timeout).await.map(|_| ())
    }
}

impl std::fmt::Debug for TelegramApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramApi")
            .field("api", &self.api)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// A Telegram channel's sender: every message to one chat, prefixed with the bot's name.
#[derive(Debug, Clone)]
pub(crate) struct TelegramSender {
    api: TelegramApi,
    chat: ChatId,
    bot: String,
}

impl TelegramSender {
    /// Sends to `chat` through `api` on behalf of bot `bot`.
    pub(crate) fn new(api: TelegramApi, chat: ChatId, bot: String) -> Self {
        Self { api, chat, bot }
    }

    /// Sends `message` as `[bot] text`.
    pub(crate) async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let text = format!("[{}] {}", self.bot, message.text);
        self.api
            .send_message(&self.chat, &text, super::sink::CALL_TIMEOUT)
            .await
    }
}
