//! [`connect`]: a NATS client from a `nats://` URL, with the connection named after the process
//! so `nats server report connections` shows who is who.

use std::fmt;
use std::time::Duration;

use crate::NatsError;

/// How to reach a NATS server.
#[derive(Clone)]
pub struct NatsOptions {
    /// `nats://host:port` (or `tls://host:port`); user and password in the URL are refused, as
    /// they would reach logs: use [`NatsOptions::token`].
    pub url: String,
    /// The connection's name as the server shows it.
    pub name: String,
    /// An authentication token, never shown by `Debug`.
    pub token: Option<rustrade_core::Secret>,
    /// How long one connection attempt may take.
    pub connect_timeout: Duration,
}

impl NatsOptions {
    /// Options for `url` under the connection name `name`, no token, a 5 s connect timeout.
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            name: name.into(),
            token: None,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsOptions")
            .field("url", &self.url)
            .field("name", &self.name)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// Connects to the server `options` names.
///
/// Refuses a URL that is not `nats://` or `tls://`, or that carries credentials, before any
/// connection is made.
pub async fn connect(options: &NatsOptions) -> Result<async_nats::Client, NatsError> {
    let url = options.url.trim();
    let rest = url
        .strip_prefix("nats://")
        .or_else(|| url.strip_prefix("tls://"))
        .ok_or_else(|| NatsError::InvalidOption {
            field: "url",
            value: url.to_owned(),
            reason: "must start with nats:// or tls://".to_owned(),
        })?;
    if rest.contains('@') {
        return Err(NatsError::InvalidOption {
            field: "url",
            value: "<contains credentials>".to_owned(),
            reason: "credentials in the URL would reach logs; pass a token instead".to_owned(),
        });
    }
    if rest.is_empty() {
        return Err(NatsError::InvalidOption {
            field: "url",
            value: url.to_owned(),
            reason: "names no host".to_owned(),
        });
    }
    let mut opts = async_nats::ConnectOptions::new()
        .name(&options.name)
        .connection_timeout(options.connect_timeout);
    if let Some(token) = &options.token {
        opts = opts.token(token.expose().to_owned());
    }
    opts.connect(url)
        .await
        .map_err(|source| NatsError::Connect {
            url: url.to_owned(),
            source,
        })
}
