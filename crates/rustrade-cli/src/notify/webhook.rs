//! [`Webhook`]: POSTs each message as JSON to a URL the operator chose (Slack- or
//! Discord-style relays, an alerting gateway, a script). The URL is kept as a
//! [`Secret`](rustrade::Secret) — such URLs often embed a token — and only its host is logged.

use std::time::Duration;

use rustrade::Secret;

use super::message::Message;
use super::sink::{DeliveryError, excerpt, retry_after_header};

/// A webhook channel's sender.
#[derive(Clone)]
pub(crate) struct Webhook {
    client: reqwest::Client,
    url: Secret,
    host: String,
    bot: String,
}

impl Webhook {
    /// Posts to `url` (validated by the config) on behalf of bot `bot`; `host` is what logs show.
    pub(crate) fn new(client: reqwest::Client, url: Secret, host: String, bot: String) -> Self {
        Self {
            client,
            url,
            host,
            bot,
        }
    }

    /// Posts `message`. 2xx is success; 429 waits `Retry-After` (header, or `retry_after` in a
    /// JSON body); any other status is an error.
    pub(crate) async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let response = self
            .client
            .post(self.url.expose())
            .json(&message.to_json(&self.bot))
            .send()
            .await
            .map_err(|e| DeliveryError::transport(e, self.url.expose()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let header = retry_after_header(response.headers());
        let body = response.text().await.unwrap_or_default();
        if status == 429 {
            let from_body = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("retry_after").and_then(serde_json::Value::as_f64))
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64);
            return Err(DeliveryError::RateLimited {
                retry_after: header.or(from_body).unwrap_or(Duration::from_secs(1)),
            });
        }
        Err(DeliveryError::Status {
            status,
            body: excerpt(&body),
        })
    }
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("host", &self.host)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}
