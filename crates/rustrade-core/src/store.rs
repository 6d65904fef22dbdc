//! [`StateStore`]: durable key-value persistence for engine snapshots and journals, and the
//! in-memory [`MemoryStore`].
//!
//! Keys are `/`-separated paths (`engine/snapshot`, `journal/000042`); values are opaque bytes
//! (the facade writes JSON). [`StateStore::apply`] writes a batch atomically: all of it or none.

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::StoreError;

/// One write in an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOp {
    /// Insert or replace `key`.
    Put {
        /// The key.
        key: String,
        /// The value.
        value: Vec<u8>,
    },
    /// Remove `key` (absent is fine).
    Delete {
        /// The key.
        key: String,
    },
}

impl StoreOp {
    /// A [`StoreOp::Put`] of `value` at `key`.
    pub fn put(key: &str, value: &[u8]) -> Self {
        Self::Put {
            key: key.to_owned(),
            value: value.to_vec(),
        }
    }

    /// A [`StoreOp::Delete`] of `key`.
    pub fn delete(key: &str) -> Self {
        Self::Delete {
            key: key.to_owned(),
        }
    }

    /// The key this op writes.
    pub fn key(&self) -> &str {
        match self {
            Self::Put { key, .. } | Self::Delete { key } => key,
        }
    }
}

/// Durable key-value storage.
///
/// A missing key is `Ok(None)`; a present but unreadable value is [`StoreError::Corrupt`], never
/// silently treated as missing.
///
/// A minimal implementation over a `BTreeMap` (the batch default of `apply` is inherited):
///
/// ```
/// use rustrade_core::{async_trait, StateStore, StoreError};
/// use std::{collections::BTreeMap, sync::Mutex};
///
/// #[derive(Default)]
/// struct MapStore(Mutex<BTreeMap<String, Vec<u8>>>);
///
/// #[async_trait]
/// impl StateStore for MapStore {
///     async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
///         Ok(self.0.lock().unwrap().get(key).cloned())
///     }
///     async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
///         self.0.lock().unwrap().insert(key.to_owned(), value.to_vec());
///         Ok(())
///     }
///     async fn delete(&self, key: &str) -> Result<(), StoreError> {
///         self.0.lock().unwrap().remove(key);
///         Ok(())
///     }
///     async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
///         Ok(self.0.lock().unwrap().keys().filter(|k| k.starts_with(prefix)).cloned().collect())
///     }
///     async fn flush(&self) -> Result<(), StoreError> {
///         Ok(())
///     }
/// }
/// ```
///
/// Using the in-memory store that ships with this crate:
///
/// ```
/// use rustrade_core::{MemoryStore, StateStore};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryStore::new();
/// store.save("engine/snapshot", b"{}").await?;
/// assert_eq!(store.load("engine/snapshot").await?, Some(b"{}".to_vec()));
/// assert_eq!(store.list("engine/").await?, vec!["engine/snapshot".to_string()]);
/// # Ok::<(), rustrade_core::StoreError>(())
/// # }).unwrap();
/// ```
#[async_trait::async_trait]
pub trait StateStore: Send + Sync {
    /// The value at `key`, if any.
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores `value` at `key`.
    async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Keys starting with `prefix`, in ascending order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Applies `ops` atomically. The default applies them one by one; durable backends override
    /// it with a transaction.
    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        for op in ops {
            match op {
                StoreOp::Put { key, value } => self.save(key, value).await?,
                StoreOp::Delete { key } => self.delete(key).await?,
            }
        }
        Ok(())
    }
    /// Makes every completed write durable.
    async fn flush(&self) -> Result<(), StoreError>;
}

/// A [`StateStore`] in memory: for tests, backtests and paper trading without persistence.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut BTreeMap<String, Vec<u8>>) -> R) -> R {
        let mut guard = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

/// Rejects keys a backend could not hold faithfully.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    if key.is_empty() || key.len() > 512 || key.chars().any(char::is_control) {
        Err(StoreError::InvalidKey(key.to_owned()))
    } else {
        Ok(())
    }
}

/// Checks every key of a batch with [`validate_key`] before any of it is written, so a batch
/// with one bad key writes nothing.
pub fn validate_ops(ops: &[StoreOp]) -> Result<(), StoreError> {
    ops.iter().try_for_each(|op| validate_key(op.key()))
}

#[async_trait::async_trait]
impl StateStore for MemoryStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_key(key)?;
        Ok(self.with(|m| m.get(key).cloned()))
    }

    async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        validate_key(key)?;
        self.with(|m| m.insert(key.to_owned(), value.to_vec()));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        self.with(|m| m.remove(key));
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.with(|m| {
            m.range(prefix.to_owned()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, _)| k.clone())
                .collect()
        }))
    }

    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        validate_ops(ops)?;
        self.with(|m| {
            for op in ops {
                match op {
                    StoreOp::Put { key, value } => {
                        m.insert(key.clone(), value.clone());
                    }
                    StoreOp::Delete { key } => {
                        m.remove(key);
                    }
                }
            }
        });
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn crud_list_and_batches() {
        let s = MemoryStore::new();
        assert_eq!(s.load("a").await.unwrap(), None);
        s.save("a/1", b"x").await.unwrap();
        s.save("a/2", b"y").await.unwrap();
        s.save("b/1", b"z").await.unwrap();
        assert_eq!(s.list("a/").await.unwrap(), vec!["a/1", "a/2"]);
        s.apply(&[
            StoreOp::Delete { key: "a/1".into() },
            StoreOp::Put {
                key: "a/3".into(),
                value: b"w".to_vec(),
            },
        ])
        .await
        .unwrap();
        assert_eq!(s.list("a/").await.unwrap(), vec!["a/2", "a/3"]);
        s.delete("missing").await.unwrap();
        s.flush().await.unwrap();
    }

    #[tokio::test]
    async fn invalid_keys_are_refused_and_batches_are_all_or_nothing() {
        let s = MemoryStore::new();
        assert!(matches!(
            s.save("", b"x").await,
            Err(StoreError::InvalidKey(_))
        ));
        let bad = s
            .apply(&[
                StoreOp::Put {
                    key: "ok".into(),
                    value: vec![1],
                },
                StoreOp::Put {
                    key: "bad\n".into(),
                    value: vec![2],
                },
            ])
            .await;
        assert!(bad.is_err());
        assert_eq!(
            s.load("ok").await.unwrap(),
            None,
            "nothing of a refused batch is written"
        );
    }

    #[test]
    fn op_constructors_and_batch_validation() {
        let put = StoreOp::put("a/1", b"x");
        assert_eq!(
            put,
            StoreOp::Put {
                key: "a/1".into(),
                value: b"x".to_vec(),
            }
        );
        let delete = StoreOp::delete("a/2");
        assert_eq!(delete, StoreOp::Delete { key: "a/2".into() });
        assert_eq!((put.key(), delete.key()), ("a/1", "a/2"));
        assert_eq!(validate_ops(&[put.clone(), delete.clone()]), Ok(()));
        assert_eq!(
            validate_ops(&[StoreOp::delete(""), put.clone(), StoreOp::put("bad\n", b"")]),
            Err(StoreError::InvalidKey(String::new())),
            "the first bad key is named"
        );
        assert_eq!(
            validate_ops(&[put, delete, StoreOp::put("bad\n", b"")]),
            Err(StoreError::InvalidKey("bad\n".into())),
            "every op is checked"
        );
    }
}
