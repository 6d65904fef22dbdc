//! [`StateLocation`]: where the chaos bot keeps its state — the default SQLite file, or a
//! PostgreSQL schema — so the same kills and invariants hold every state store the facade can
//! run on.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use rustrade_core::StateStore;

use crate::bot;

/// The bot's state store, as the harness reads it back and the `chaos-bot` binary opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// Bot [`bot::BOT_NAME`]'s rows in schema `schema` of the PostgreSQL server at `url`
    /// (a URL without a password).
    Postgres {
        /// The server, e.g. `postgres://postgres@127.0.0.1:5432/test`.
        url: String,
        /// The schema the bot's rows live in.
        schema: String,
    },
}

impl StateLocation {
    /// Opens the store. The bot must be down: both stores admit one writer per bot, and the
    /// harness's open would make the bot's own open wait.
    pub async fn open(&self) -> Result<Arc<dyn StateStore>, String> {
        match self {
            Self::Sqlite(path) => rustrade::store::SqliteStore::open(path)
                .await
                .map(|s| Arc::new(s) as Arc<dyn StateStore>)
                .map_err(|e| e.to_string()),
            Self::Postgres { url, schema } => {
                rustrade_postgres::PostgresOptions::new(url.clone(), bot::BOT_NAME)
                    .schema(schema.clone())
                    .connect()
                    .await
                    .map(|s| Arc::new(s) as Arc<dyn StateStore>)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// Whether the bot has written anything yet: a SQLite file exists once the bot opened it,
    /// a PostgreSQL bot once it stored a key.
    pub async fn has_state(&self) -> Result<bool, String> {
        match self {
            Self::Sqlite(path) => Ok(path.exists()),
            Self::Postgres { .. } => {
                let store = self.open().await?;
                Ok(!store.list("").await.map_err(|e| e.to_string())?.is_empty())
            }
        }
    }

    /// The `chaos-bot` arguments naming this store.
    pub fn bot_args(&self) -> Vec<OsString> {
        match self {
            Self::Sqlite(path) => vec!["--state".into(), path.into()],
            Self::Postgres { url, schema } => vec![
                "--state-url".into(),
                url.into(),
                "--state-schema".into(),
                schema.into(),
            ],
        }
    }
}

impl std::fmt::Display for StateLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres { url, schema } => write!(f, "{url} (schema {schema})"),
        }
    }
}
