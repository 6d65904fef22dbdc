//! `[bot]` and `[bot.ops]`: how `rustrade paper` and `rustrade live` run the strategy as a bot,
//! validated (`[bot.notify]` is in `notify.rs`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rustrade::{MAX_NAME_LEN, Secret};

use super::raw::RawBot;
use super::{ConfigError, NotifySection, Source, parse_duration};

/// Where the ops endpoint listens when `[bot.ops]` gives no `listen`: loopback, a free port.
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:0";

/// The validated `[bot]` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BotSection {
    /// The bot's name (logs, metrics, client order id prefix): `[bot] name`, else the config's
    /// file stem when that is a valid name, else `paper`.
    pub(crate) name: String,
    /// Where the engine's journal and snapshots are kept (SQLite), resolved.
    pub(crate) state_file: Option<PathBuf>,
    /// A PostgreSQL server that keeps them instead (`postgres://user@host[:port]/database`, no
    /// password: that comes from `RUSTRADE_POSTGRES_PASSWORD`).
    pub(crate) state_url: Option<String>,
    /// The PostgreSQL schema of the state's tables (`rustrade` when unset); bots share tables
    /// only within one schema.
    pub(crate) state_schema: Option<String>,
    /// Whether the connection to `state_url` is encrypted.
    pub(crate) state_tls: StateTls,
    /// How long services are given to stop.
    pub(crate) shutdown_timeout: Duration,
    /// Whether open positions are closed at the venue on shutdown.
    pub(crate) close_positions_on_shutdown: bool,
    /// The ops endpoint, when `[bot.ops]` is present.
    pub(crate) ops: Option<OpsSection>,
    /// Notifications, when `[bot.notify]` is present.
    pub(crate) notify: Option<NotifySection>,
}

/// `[bot] state_tls` and `state_ca_file`: how the connection to the PostgreSQL server of
/// `state_url` is secured. With TLS the server's certificate is always verified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum StateTls {
    /// Plain TCP (`state_tls = "off"`, the default without a CA file).
    #[default]
    Off,
    /// TLS (`state_tls = "verify"`), the certificate checked against the CA certificates of
    /// `state_ca_file` (resolved), else against Mozilla's roots.
    Verify {
        /// The PEM file of the authorities that vouch for the server.
        ca_file: Option<PathBuf>,
    },
}

/// The validated `[bot.ops]` table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OpsSection {
    /// The address to bind.
    pub(crate) listen: SocketAddr,
    /// The bearer token of the control routes from the file or `RUSTRADE_OPS_TOKEN` (the
    /// environment wins); `None` means one is generated at first start (loopback only).
    pub(crate) token: Option<Secret>,
}

impl BotSection {
    /// Validates `raw`; `title` is the config's file stem, `env_token` the value of
    /// `RUSTRADE_OPS_TOKEN`, `telegram_token` that of `RUSTRADE_TELEGRAM_TOKEN`, `base` the
    /// config's folder (relative paths start there).
    pub(crate) fn from_raw(
        src: &Source<'_>,
        raw: &RawBot,
        title: &str,
        env_token: Option<&Secret>,
        telegram_token: Option<&Secret>,
        base: &Path,
    ) -> Result<Self, ConfigError> {
        let name = match &raw.name {
            Some(n) => {
                if let Err(why) = check_name(n) {
                    return Err(src.error("bot.name", format!("{why} (got {n:?})")));
                }
                n.trim().to_owned()
            }
            None if check_name(title).is_ok() => title.to_owned(),
            None => "paper".to_owned(),
        };
        let shutdown_timeout = match &raw.shutdown_timeout {
            Some(t) => parse_duration(t).map_err(|m| src.error("bot.shutdown_timeout", m))?,
            None => Duration::from_secs(10),
        };
        let state_file = match &raw.state_file {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(src.error("bot.state_file", "must not be empty (got \"\")"));
            }
            Some(p) => Some(base.join(p)),
            None => None,
        };
        let state_url = match &raw.state_url {
            Some(url) => Some(
                check_state_url(url, state_file.is_some())
                    .map_err(|why| src.error("bot.state_url", why))?,
            ),
            None => None,
        };
        if raw.state_schema.is_some() && state_url.is_none() {
            return Err(src.error(
                "bot.state_schema",
                "needs bot.state_url (a PostgreSQL server)",
            ));
        }
        let state_tls = state_tls(src, raw, state_url.is_some(), base)?;
        let ops = match &raw.ops {
            None => None,
            Some(o) => {
                let text = o.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
                let listen: SocketAddr = text.parse().map_err(|_| {
                    src.error(
                        "bot.ops.listen",
                        format!(
                            "expected an address and port like \"127.0.0.1:9184\" (got {text:?})"
                        ),
                    )
                })?;
                let token = env_token
                    .filter(|t| !t.is_empty())
                    .or(o.token.as_ref())
                    .cloned();
                if let Some(t) = &token
                    && t.expose().trim().len() < 16
                {
                    return Err(src.error(
                        "bot.ops.token",
                        "must be at least 16 characters (the value is not shown)",
                    ));
                }
                if !listen.ip().is_loopback() && token.is_none() {
                    return Err(src.error(
                        "bot.ops.listen",
                        format!(
                            "{listen} is not a loopback address; set bot.ops.token or \
                             RUSTRADE_OPS_TOKEN before exposing the control routes"
                        ),
                    ));
                }
                Some(OpsSection { listen, token })
            }
        };
        let notify = match &raw.notify {
            Some(n) => Some(NotifySection::from_raw(src, n, telegram_token)?),
            None => None,
        };
        Ok(Self {
            name,
            state_file,
            state_url,
            state_schema: raw.state_schema.clone(),
            state_tls,
            shutdown_timeout,
            close_positions_on_shutdown: raw.close_positions_on_shutdown,
            ops,
            notify,
        })
    }
}

/// `[bot] state_tls` and `state_ca_file`, which only a `state_url` can use.
fn state_tls(
    src: &Source<'_>,
    raw: &RawBot,
    has_url: bool,
    base: &Path,
) -> Result<StateTls, ConfigError> {
    let ca_file = match &raw.state_ca_file {
        Some(p) if p.as_os_str().is_empty() => {
            return Err(src.error("bot.state_ca_file", "must not be empty (got \"\")"));
        }
        Some(p) => Some(base.join(p)),
        None => None,
    };
    for (key, set) in [
        ("bot.state_tls", raw.state_tls.is_some()),
        ("bot.state_ca_file", ca_file.is_some()),
    ] {
        if set && !has_url {
            return Err(src.error(key, "needs bot.state_url (a PostgreSQL server)"));
        }
    }
    match (raw.state_tls.as_deref().map(str::trim), ca_file) {
        (None | Some("verify"), Some(ca_file)) => Ok(StateTls::Verify {
            ca_file: Some(ca_file),
        }),
        (Some("verify"), None) => Ok(StateTls::Verify { ca_file: None }),
        (None | Some("off"), None) => Ok(StateTls::Off),
        (Some("off"), Some(_)) => Err(src.error(
            "bot.state_ca_file",
            "is only used with TLS; drop it or set state_tls = \"verify\"",
        )),
        (Some(other), _) => Err(src.error(
            "bot.state_tls",
            format!("expected \"off\" or \"verify\" (got {other:?})"),
        )),
    }
}

/// `[bot] state_url`: a `postgres://` URL without a password, in a build with PostgreSQL
/// support, and not beside a `state_file`.
fn check_state_url(url: &str, with_file: bool) -> Result<String, String> {
    if with_file {
        return Err(
            "a bot keeps its state in one place: give state_file or state_url, not both".into(),
        );
    }
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return Err(format!("must be a postgres:// URL (got {url:?})"));
    };
    if rest
        .split_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    {
        return Err("holds a password (not shown); set RUSTRADE_POSTGRES_PASSWORD instead".into());
    }
    if !cfg!(feature = "postgres") {
        return Err("this rustrade was built without the `postgres` feature".into());
    }
    Ok(url.to_owned())
}

/// The facade's rules for a bot name (it prefixes every client order id).
fn check_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("must not be blank".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("must be at most {MAX_NAME_LEN} bytes"));
    }
    if rustrade_core::ClientOrderId::compose(name, 0, 0).is_err() {
        return Err("may hold only letters, digits and -_.:/".into());
    }
    Ok(())
}
