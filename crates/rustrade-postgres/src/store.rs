//! [`PostgresStore`] and the [`PostgresOptions`] it is opened with.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use postgres::{Client, GenericClient, NoTls, Statement};
use rustrade_core::{Secret, StateStore, StoreError, StoreOp, validate_key, validate_ops};

use crate::project::{self, Row};
use crate::{PostgresError, PostgresTls, lock, schema};

/// The schema the tables live in unless [`PostgresOptions::schema`] names another.
pub const DEFAULT_SCHEMA: &str = "rustrade";

/// The longest bot id accepted, in bytes.
pub const MAX_BOT_ID_LEN: usize = 64;

/// How to open a [`PostgresStore`]: the server, the bot, and the optional settings. Its
/// `Debug` shows the URL with any password masked and never the [`PostgresOptions::password`].
#[derive(Clone)]
pub struct PostgresOptions {
    url: String,
    bot_id: String,
    schema: String,
    lock_wait: Duration,
    connect_timeout: Duration,
    password: Option<Secret>,
    tls: PostgresTls,
}

impl PostgresOptions {
    /// Bot `bot_id` on the server at `url` (`postgres://user[:password]@host[:port]/database`,
    /// or the `key=value` form), in the [`DEFAULT_SCHEMA`], waiting up to 2 s for the lock of a
    /// bot whose session is ending and 5 s for the connection.
    pub fn new(url: impl Into<String>, bot_id: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            bot_id: bot_id.into(),
            schema: DEFAULT_SCHEMA.to_owned(),
            lock_wait: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(5),
            password: None,
            tls: PostgresTls::Disabled,
        }
    }

    /// Whether and how the connection is encrypted (default [`PostgresTls::Disabled`]). A
    /// URL asking for `sslmode=require` is refused unless TLS is set here, so a connection
    /// meant to be encrypted never goes out in the clear.
    pub fn tls(mut self, tls: PostgresTls) -> Self {
        self.tls = tls;
        self
    }

    /// The password to log in with, kept out of the URL (and so out of config files and
    /// logs); it replaces one the URL holds.
    pub fn password(mut self, password: Secret) -> Self {
        self.password = Some(password);
        self
    }

    /// The PostgreSQL schema of the tables: lower-case ASCII letters, digits and `_`, starting
    /// with a letter, at most 63 bytes. Bots share tables only within one schema.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// How long an open waits for the bot's lock before failing with
    /// [`StoreError::Locked`]: long enough for the server to end the session of a killed
    /// predecessor. Zero refuses at once.
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// How long to wait for the server to answer a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Connects, migrates the schema and takes the bot's lock; see [`PostgresStore::connect`].
    pub async fn connect(self) -> Result<PostgresStore, PostgresError> {
        tokio::task::spawn_blocking(move || self.connect_blocking())
            .await
            .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }

    /// Like [`PostgresOptions::connect`], for callers outside an async context (it panics on a
    /// runtime worker thread, as any blocking client does).
    pub fn connect_blocking(self) -> Result<PostgresStore, PostgresError> {
        let config = self.validate()?;
        let connected = match self.tls.connector()? {
            Some(tls) => config.connect(tls),
            None => config.connect(NoTls),
        };
        let mut client = connected.map_err(|e| {
            StoreError::Backend(format!(
                "postgres connect to {}: {}",
                redact(&self.url),
                describe(&e)
            ))
        })?;
        client
            .batch_execute("SET synchronous_commit = on")
            .map_err(|e| pg_err("session setup", &e))?;
        schema::migrate(&mut client, &self.schema, schema::SCHEMA_VERSION)?;
        let shown = format!(
            "postgres bot {:?} in {} (schema {})",
            self.bot_id,
            config.get_dbname().unwrap_or("?"),
            self.schema
        );
        let lock_key = lock::key(&mut client, &self.schema, &self.bot_id)?;
        lock::acquire(&mut client, lock_key, self.lock_wait, &shown)?;
        let statements = Statements::prepare_in(&mut client, &self.schema)?;
        tracing::info!(bot = %self.bot_id, schema = %self.schema, "postgres store opened");
        Ok(PostgresStore {
            inner: Arc::new(Inner {
                conn: Mutex::new(Some(Conn { client, statements })),
                bot_id: self.bot_id,
                schema: self.schema,
                shown,
                lock_key,
            }),
        })
    }

    fn validate(&self) -> Result<postgres::Config, PostgresError> {
        let bad = |field, value: &str, reason: &str| PostgresError::InvalidOption {
            field,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if self.bot_id.is_empty()
            || self.bot_id.len() > MAX_BOT_ID_LEN
            || self.bot_id.chars().any(char::is_control)
        {
            return Err(bad(
                "bot_id",
                &self.bot_id,
                "must be 1 to 64 bytes without control characters",
            ));
        }
        let schema_ok = self.schema.len() <= 63
            && self.schema.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !schema_ok {
            return Err(bad(
                "schema",
                &self.schema,
                "must be lower-case letters, digits and _, starting with a letter, at most 63 bytes",
            ));
        }
        let mut config: postgres::Config = self
            .url
            .parse()
            .map_err(|e| bad("url", &redact(&self.url), &describe(&e)))?;
        config
            .application_name(&format!(
                "rustrade pid={} bot={}",
                std::process::id(),
                self.bot_id
            ))
            .connect_timeout(self.connect_timeout);
        if let Some(password) = &self.password {
            config.password(password.expose());
        }
        match (&self.tls, config.get_ssl_mode()) {
            (PostgresTls::Disabled, postgres::config::SslMode::Require) => {
                return Err(bad(
                    "url",
                    &redact(&self.url),
                    "sslmode=require needs TLS: set PostgresOptions::tls",
                ));
            }
            // With TLS set, the server must speak it: never fall back to plain TCP.
            (PostgresTls::Verified | PostgresTls::VerifiedWith(_), _) => {
                config.ssl_mode(postgres::config::SslMode::Require);
            }
            _ => {}
        }
        Ok(config)
    }
}

impl std::fmt::Debug for PostgresOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresOptions")
            .field("url", &redact(&self.url))
            .field("bot_id", &self.bot_id)
            .field("schema", &self.schema)
            .field("lock_wait", &self.lock_wait)
            .field("connect_timeout", &self.connect_timeout)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .finish()
    }
}

/// A [`StateStore`] in PostgreSQL shared by many bots; see the [crate docs](crate) for the
/// contract, the namespace and the queryable tables.
///
/// Clones share one connection and one lock, released when the last clone is dropped.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

impl PostgresStore {
    /// Opens bot `bot_id`'s state on the server at `url`, with the default
    /// [`PostgresOptions`]: connects, applies any missing migration, takes the bot's lock.
    /// A bot another store holds is [`StoreError::Locked`] naming the bot and the holder;
    /// a schema this build cannot read is [`StoreError::Corrupt`].
    pub async fn connect(
        url: impl Into<String>,
        bot_id: impl Into<String>,
    ) -> Result<Self, PostgresError> {
        PostgresOptions::new(url, bot_id).connect().await
    }

    /// The bot whose state this is.
    pub fn bot_id(&self) -> &str {
        &self.inner.bot_id
    }

    /// The PostgreSQL schema of the tables.
    pub fn schema(&self) -> &str {
        &self.inner.schema
    }

    async fn with_conn<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Conn, &str) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut guard = inner.lock_conn();
            let conn = guard
                .as_mut()
                .ok_or_else(|| StoreError::Backend(format!("{} is closed", inner.shown)))?;
            if conn.client.is_closed() {
                return Err(StoreError::Backend(format!(
                    "{}: the connection was lost (and the bot's lock with it); restart the bot",
                    inner.shown
                )));
            }
            f(conn, &inner.bot_id)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("store task failed: {e}")))?
    }
}

#[async_trait::async_trait]
impl StateStore for PostgresStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.with_conn(move |c, bot| {
            let row = c
                .client
                .query_opt(&c.statements.load, &[&bot, &key])
                .map_err(|e| pg_err("load", &e))?;
            row.map(|r| {
                r.try_get::<_, Vec<u8>>(0).map_err(|e| StoreError::Corrupt {
                    key: key.clone(),
                    reason: describe(&e),
                })
            })
            .transpose()
        })
        .await
    }

    async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.apply(&[StoreOp::put(key, value)]).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.apply(&[StoreOp::delete(key)]).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let pattern = like_prefix(prefix);
        self.with_conn(move |c, bot| {
            let rows = c
                .client
                .query(&c.statements.list, &[&bot, &pattern])
                .map_err(|e| pg_err("list", &e))?;
            rows.iter()
                .map(|r| {
                    r.try_get::<_, String>(0).map_err(|e| StoreError::Corrupt {
                        key: pattern.clone(),
                        reason: describe(&e),
                    })
                })
                .collect()
        })
        .await
    }

    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        validate_ops(ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        // The projection is decoded first: a record that would not restore is not written.
        let mut rows: Vec<Row> = Vec::new();
        for op in ops {
            if let StoreOp::Put { key, value } = op {
                rows.extend(project::rows(key, value)?);
            }
        }
        // Each key's last operation is the batch's effect on it.
        let mut last: BTreeMap<&str, Option<&[u8]>> = BTreeMap::new();
        for op in ops {
            match op {
                StoreOp::Put { key, value } => last.insert(key, Some(value)),
                StoreOp::Delete { key } => last.insert(key, None),
            };
        }
        let (mut keys, mut values, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
        for (key, value) in last {
            match value {
                Some(v) => {
                    keys.push(key.to_owned());
                    values.push(v.to_vec());
                }
                None => deleted.push(key.to_owned()),
            }
        }
        let n = ops.len();
        self.with_conn(move |c, bot| {
            let sql = |e: postgres::Error| pg_err("apply", &e);
            let st = &c.statements;
            let mut tx = c.client.transaction().map_err(sql)?;
            if !keys.is_empty() {
                tx.execute(&st.upsert, &[&bot, &keys, &values])
                    .map_err(sql)?;
            }
            if !deleted.is_empty() {
                tx.execute(&st.delete, &[&bot, &deleted]).map_err(sql)?;
            }
            for row in &rows {
                project::write(&mut tx, st, bot, row).map_err(sql)?;
            }
            for _ in 0..n {
                rustrade::kill_point("inside-store-write");
            }
            tx.commit().map_err(sql)
        })
        .await
    }

    /// Nothing to do: every `apply` committed durably (`synchronous_commit = on`).
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("bot_id", &self.inner.bot_id)
            .field("schema", &self.inner.schema)
            .finish_non_exhaustive()
    }
}

/// What every clone shares.
struct Inner {
    conn: Mutex<Option<Conn>>,
    bot_id: String,
    schema: String,
    /// How errors name this bot's state.
    shown: String,
    lock_key: i64,
}

impl Inner {
    fn lock_conn(&self) -> MutexGuard<'_, Option<Conn>> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        let Some(mut conn) = self.lock_conn().take() else {
            return;
        };
        let key = self.lock_key;
        // The client owns a runtime, which may not be dropped on a runtime worker thread; a
        // plain thread releases the lock and closes the connection, and is waited for so the
        // bot is free for the next open once this returns.
        let closing = std::thread::spawn(move || {
            lock::release(&mut conn.client, key);
            drop(conn);
        });
        if closing.join().is_err() {
            tracing::warn!(bot = %self.bot_id, "postgres store did not close cleanly");
        }
    }
}

/// One connection and its prepared statements.
struct Conn {
    client: Client,
    statements: Statements,
}

/// The statements of a store, prepared once per connection.
pub(crate) struct Statements {
    load: Statement,
    list: Statement,
    upsert: Statement,
    delete: Statement,
    pub(crate) order_placed: Statement,
    pub(crate) order_status: Statement,
    pub(crate) fill: Statement,
    pub(crate) trade: Statement,
}

impl Statements {
    /// Prepares every statement for the tables in `schema`.
    pub(crate) fn prepare_in(
        client: &mut impl GenericClient,
        schema: &str,
    ) -> Result<Self, StoreError> {
        let mut prepare = |sql: &str| client.prepare(sql).map_err(|e| pg_err("prepare", &e));
        let [order_placed, order_status, fill, trade] = project::sql(schema);
        Ok(Self {
            load: prepare(&format!(
                "SELECT value FROM {schema}.kv WHERE bot_id = $1 AND key = $2"
            ))?,
            list: prepare(&format!(
                "SELECT key FROM {schema}.kv WHERE bot_id = $1 AND key LIKE $2 ORDER BY key"
            ))?,
            upsert: prepare(&format!(
                "INSERT INTO {schema}.kv (bot_id, key, value) \
                 SELECT $1, k, v FROM unnest($2::text[], $3::bytea[]) AS t(k, v) \
                 ON CONFLICT (bot_id, key) DO UPDATE SET value = excluded.value"
            ))?,
            delete: prepare(&format!(
                "DELETE FROM {schema}.kv WHERE bot_id = $1 AND key = ANY($2::text[])"
            ))?,
            order_placed: prepare(&order_placed)?,
            order_status: prepare(&order_status)?,
            fill: prepare(&fill)?,
            trade: prepare(&trade)?,
        })
    }
}

/// Classifies a server error: damaged data (SQLSTATE class `XX`) is corruption, anything else
/// a backend failure naming the operation.
pub(crate) fn pg_err(what: &str, e: &postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if code.code().starts_with("XX") => StoreError::Corrupt {
            key: what.to_owned(),
            reason: describe(e),
        },
        _ => StoreError::Backend(format!("postgres {what}: {}", describe(e))),
    }
}

/// An error with its causes: the driver's own text says little without the server's message.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// `url` with any password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.split_whitespace()
        .map(|part| {
            if part.starts_with("password=") {
                "password=***"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `LIKE` pattern matching every key that starts with `prefix`.
fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://bot:s3cret@db:5432/x"),
            "postgres://bot:***@db:5432/x"
        );
        assert_eq!(redact("postgres://bot@db/x"), "postgres://bot@db/x");
        assert_eq!(
            redact("host=db password=s3cret user=bot"),
            "host=db password=*** user=bot"
        );
    }

    #[test]
    fn options_debug_shows_no_password() {
        let options = PostgresOptions::new("postgres://bot:in-url@db/x", "b")
            .password(Secret::new("given-apart"));
        let shown = format!("{options:?}");
        assert!(
            !shown.contains("in-url") && !shown.contains("given-apart"),
            "{shown}"
        );
        assert!(shown.contains("postgres://bot:***@db/x"), "{shown}");
        let config = options.validate().unwrap();
        assert_eq!(config.get_password(), Some(&b"given-apart"[..]));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_prefix("journal/"), "journal/%");
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
        assert_eq!(like_prefix(""), "%");
    }

    #[test]
    fn bad_options_are_refused_naming_field_and_value() {
        let url = "postgres://postgres@127.0.0.1/test";
        let err = PostgresOptions::new(url, "").validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"bot_id: must be 1 to 64 bytes without control characters (got "")"#
        );
        let long = "x".repeat(MAX_BOT_ID_LEN + 1);
        assert!(PostgresOptions::new(url, long).validate().is_err());
        assert!(PostgresOptions::new(url, "a\nb").validate().is_err());
        let err = PostgresOptions::new(url, "bot")
            .schema("Bad-Name")
            .validate()
            .unwrap_err();
        assert!(err.to_string().starts_with("schema: "), "{err}");
        assert!(err.to_string().contains("\"Bad-Name\""), "{err}");
        let err = PostgresOptions::new("postgres://u:pw@h:notaport/db", "bot")
            .validate()
            .unwrap_err();
        let shown = err.to_string();
        assert!(shown.starts_with("url: "), "{shown}");
        assert!(!shown.contains("pw"), "{shown}");
        assert!(matches!(
            StoreError::from(err),
            StoreError::Backend(m) if m.starts_with("url: ")
        ));
        assert!(PostgresOptions::new(url, "bot").validate().is_ok());
    }
}
