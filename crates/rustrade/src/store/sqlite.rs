//! [`SqliteStore`]: the durable default state store.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use rustrade_core::{StateStore, StoreError, StoreOp, validate_key, validate_ops};

use super::blocking;
use super::epoch::{self, EPOCH_KEY};
use super::lock::WriterLock;

/// A [`StateStore`] in one SQLite file (bundled SQLite, WAL journal, `synchronous = FULL`).
///
/// Keys and values live in a single `kv` table. Every call runs on tokio's blocking pool;
/// [`StateStore::apply`] runs its whole batch in one transaction. Opening a file that is not a
/// SQLite database, or whose pages fail SQLite's quick check, is [`StoreError::Corrupt`] naming
/// the path: the bot then refuses to start rather than trade from an empty state.
///
/// One writer: opening locks `<file>.lock` until the store and every clone of it are dropped;
/// a second open of the same file meanwhile fails with [`StoreError::Locked`]. Creating the
/// table also writes the store's epoch ([`epoch::EPOCH_KEY`](super::epoch::EPOCH_KEY)) in the same
/// transaction, so a fresh engine on a new file starts its client order ids past any earlier
/// state's.
///
/// ```
/// use rustrade::store::{SqliteStore, StateStore, StoreOp};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let store = SqliteStore::open(dir.path().join("bot.db")).await?;
/// store.apply(&[StoreOp::Put { key: "journal/1".into(), value: b"{}".to_vec() }]).await?;
/// assert_eq!(store.load("journal/1").await?, Some(b"{}".to_vec()));
/// # Ok::<(), rustrade::store::StoreError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
    /// Held for the store's lifetime; dropped (released) with the last clone.
    _lock: Arc<WriterLock>,
}

impl SqliteStore {
    /// Locks, then opens (creating if missing) the database at `path`, switches it to WAL and
    /// checks it.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        blocking(move || Self::open_blocking(&path)).await
    }

    /// Like [`SqliteStore::open`], for callers outside an async context.
    pub fn open_blocking(path: &Path) -> Result<Self, StoreError> {
        // Before SQLite touches the file: a second writer must not even switch its journal mode.
        let lock = WriterLock::acquire(path)?;
        let shown = path.display().to_string();
        let mut conn = Connection::open(path).map_err(|e| map_err(&shown, e))?;
        let mut setup = || -> Result<String, StoreError> {
            let sql = |e| map_err(&shown, e);
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(sql)?;
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(sql)?;
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .map_err(sql)?;
            let check: String = conn
                .query_row("PRAGMA quick_check", [], |r| r.get(0))
                .map_err(sql)?;
            if check != "ok" {
                return Ok(check);
            }
            let tx = conn.transaction().map_err(sql)?;
            tx.execute_batch(
                "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) \
                 WITHOUT ROWID;",
            )
            .map_err(sql)?;
            let has_epoch = tx
                .query_row(
                    "SELECT 1 FROM kv WHERE key = ?1",
                    params![EPOCH_KEY],
                    |_| Ok(()),
                )
                .optional()
                .map_err(sql)?
                .is_some();
            if !has_epoch {
                let value = epoch::encode(epoch::next_epoch(0)?);
                tx.execute(
                    "INSERT INTO kv (key, value) VALUES (?1, ?2)",
                    params![EPOCH_KEY, value],
                )
                .map_err(sql)?;
            }
            tx.commit().map_err(sql)?;
            Ok(check)
        };
        let check = setup()?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                key: shown,
                reason: format!("sqlite quick_check: {check}"),
            });
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Arc::new(path.to_path_buf()),
            _lock: Arc::new(lock),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with_conn<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        F: FnOnce(&mut Connection, &str) -> rusqlite::Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let path = Arc::clone(&self.path);
        blocking(move || {
            let shown = path.display().to_string();
            let mut guard = lock(&conn);
            f(&mut guard, &shown).map_err(|e| map_err(&shown, e))
        })
        .await
    }
}

#[async_trait::async_trait]
impl StateStore for SqliteStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_key(key)?;
        let key = key.to_owned();
        self.with_conn(move |c, _| {
            c.prepare_cached("SELECT value FROM kv WHERE key = ?1")?
                .query_row(params![key], |r| r.get(0))
                .optional()
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
        let prefix = prefix.to_owned();
        self.with_conn(move |c, _| {
            let mut stmt = c.prepare_cached("SELECT key FROM kv WHERE key >= ?1 ORDER BY key")?;
            let mut out = Vec::new();
            let mut rows = stmt.query(params![prefix])?;
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                if !key.starts_with(&prefix) {
                    break;
                }
                out.push(key);
            }
            Ok(out)
        })
        .await
    }

    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        validate_ops(ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let ops = ops.to_vec();
        self.with_conn(move |c, _| {
            let tx = c.transaction()?;
            {
                let mut put = tx.prepare_cached(
                    "INSERT INTO kv (key, value) VALUES (?1, ?2) \
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?;
                let mut del = tx.prepare_cached("DELETE FROM kv WHERE key = ?1")?;
                for op in &ops {
                    match op {
                        StoreOp::Put { key, value } => put.execute(params![key, value])?,
                        StoreOp::Delete { key } => del.execute(params![key])?,
                    };
                    crate::kill_point("inside-store-write");
                }
            }
            tx.commit()
        })
        .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.with_conn(|c, _| c.query_row("PRAGMA wal_checkpoint(FULL)", [], |_| Ok(())))
            .await
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Classifies a SQLite error: unreadable files are corruption, everything else a backend failure.
fn map_err(path: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            key: path.to_owned(),
            reason: e.to_string(),
        },
        _ => StoreError::Backend(format!("sqlite {path}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn crud_list_and_atomic_batches() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(dir.path().join("s.db")).await.unwrap();
        assert_eq!(s.load("a").await.unwrap(), None);
        s.save("a/1", b"x").await.unwrap();
        s.save("a/2", b"y").await.unwrap();
        s.save("b/1", b"z").await.unwrap();
        s.save("a/1", b"x2").await.unwrap();
        assert_eq!(s.load("a/1").await.unwrap(), Some(b"x2".to_vec()));
        assert_eq!(s.list("a/").await.unwrap(), vec!["a/1", "a/2"]);
        assert_eq!(s.list("").await.unwrap().len(), 4, "with the epoch");
        let bad = s
            .apply(&[
                StoreOp::Delete { key: "a/1".into() },
                StoreOp::Put {
                    key: String::new(),
                    value: vec![],
                },
            ])
            .await;
        assert!(matches!(bad, Err(StoreError::InvalidKey(_))));
        assert!(
            s.load("a/1").await.unwrap().is_some(),
            "a refused batch writes nothing"
        );
        s.delete("a/1").await.unwrap();
        s.flush().await.unwrap();
        drop(s);
        let reopened = SqliteStore::open(dir.path().join("s.db")).await.unwrap();
        assert_eq!(
            reopened.list("").await.unwrap(),
            vec!["a/2", "b/1", EPOCH_KEY]
        );
    }

    #[tokio::test]
    async fn one_writer_until_every_clone_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let first = SqliteStore::open(&path).await.unwrap();
        let clone = first.clone();
        let err = SqliteStore::open(&path).await.unwrap_err();
        match &err {
            StoreError::Locked { path: p, pid, .. } => {
                assert_eq!(p, &path.display().to_string());
                assert_eq!(*pid, Some(std::process::id()));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert!(err.to_string().contains("w.db"), "{err}");
        drop(first);
        assert!(
            matches!(
                SqliteStore::open(&path).await,
                Err(StoreError::Locked { .. })
            ),
            "a clone still holds the lock"
        );
        clone.save("k", b"v").await.unwrap();
        drop(clone);
        let again = SqliteStore::open(&path).await.unwrap();
        assert_eq!(again.load("k").await.unwrap(), Some(b"v".to_vec()));
    }

    #[tokio::test]
    async fn the_epoch_is_written_at_creation_and_kept_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.db");
        let s = SqliteStore::open(&path).await.unwrap();
        let epoch = s
            .load(EPOCH_KEY)
            .await
            .unwrap()
            .expect("written at creation");
        let ms: u64 = String::from_utf8(epoch.clone()).unwrap().parse().unwrap();
        assert!(ms > 1_577_836_800_000, "after 2020: {ms}");
        drop(s);
        let s = SqliteStore::open(&path).await.unwrap();
        assert_eq!(s.load(EPOCH_KEY).await.unwrap(), Some(epoch));
    }

    #[tokio::test]
    async fn garbage_file_is_corrupt_not_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = SqliteStore::open(&path).await.unwrap_err();
        match err {
            StoreError::Corrupt { key, .. } => assert!(key.ends_with("junk.db"), "{key}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn damaged_pages_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.db");
        {
            let s = SqliteStore::open(&path).await.unwrap();
            let big = vec![7u8; 3000];
            let ops: Vec<StoreOp> = (0..200)
                .map(|i| StoreOp::Put {
                    key: format!("k/{i:04}"),
                    value: big.clone(),
                })
                .collect();
            s.apply(&ops).await.unwrap();
            s.flush().await.unwrap();
        }
        // Overwrite the middle of the file (keeping the header) with noise.
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        for (i, b) in bytes[4096..mid].iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        std::fs::write(&path, &bytes).unwrap();
        let _ = std::fs::remove_file(dir.path().join("d.db-wal"));
        let _ = std::fs::remove_file(dir.path().join("d.db-shm"));
        let err = SqliteStore::open(&path).await.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    }
}
