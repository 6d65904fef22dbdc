//! Where `paper` and `live` keep a bot's state: the SQLite file of `[bot] state_file`, or the
//! PostgreSQL server of `[bot] state_url` (one advisory-locked writer per bot name, many bots in
//! one database), with the password from `RUSTRADE_POSTGRES_PASSWORD`.

use std::path::Path;

use anyhow::Context as _;
use rustrade::Bot;

use crate::config::BotSection;
#[cfg(feature = "postgres")]
use crate::config::StateTls;

/// The environment variable holding the PostgreSQL password of `[bot] state_url`.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_PASSWORD_ENV: &str = "RUSTRADE_POSTGRES_PASSWORD";

/// `bot` keeping its state in the SQLite file at `path` (its folder created if missing).
pub(crate) fn with_file(bot: Bot, path: &Path) -> anyhow::Result<Bot> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("bot.state_file: creating {}", dir.display()))?;
    }
    Ok(bot.with_state_file(path))
}

/// `bot` keeping its state on the PostgreSQL server `url` of `section` (in its
/// `state_schema`, else the default one, over TLS when `state_tls` says so, under the bot's
/// name): connects, migrates the schema and takes the bot's lock before the bot starts, so a
/// second bot of the same name fails here.
#[cfg(feature = "postgres")]
pub(crate) async fn with_postgres(
    bot: Bot,
    url: &str,
    section: &BotSection,
) -> anyhow::Result<Bot> {
    use rustrade_postgres::PostgresTls;

    let mut options = rustrade_postgres::PostgresOptions::new(url, &section.name);
    if let Some(schema) = &section.state_schema {
        options = options.schema(schema);
    }
    options = options.tls(match &section.state_tls {
        StateTls::Off => PostgresTls::Disabled,
        StateTls::Verify { ca_file: None } => PostgresTls::Verified,
        StateTls::Verify { ca_file: Some(f) } => PostgresTls::VerifiedWith(f.clone()),
    });
    if let Some(password) = std::env::var(POSTGRES_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
    {
        options = options.password(rustrade::Secret::new(password));
    }
    let store = options.connect().await.context("bot.state_url")?;
    Ok(bot.with_state_store(std::sync::Arc::new(store)))
}

/// Without PostgreSQL support the config refuses `state_url`; this is never reached.
#[cfg(not(feature = "postgres"))]
pub(crate) async fn with_postgres(
    _bot: Bot,
    _url: &str,
    _section: &BotSection,
) -> anyhow::Result<Bot> {
    anyhow::bail!("bot.state_url: this rustrade was built without the `postgres` feature")
}
