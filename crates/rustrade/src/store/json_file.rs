//! [`JsonFileStore`]: every key in one JSON document, replaced atomically on each change.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rustrade_core::{StateStore, StoreError, StoreOp, validate_key, validate_ops};

use super::blocking;
use super::epoch::{self, EPOCH_KEY};
use super::lock::WriterLock;

/// Format version written into every file; other versions are refused as corrupt.
const FORMAT_VERSION: u32 = 1;

/// A [`StateStore`] holding all keys in one JSON file.
///
/// Each change rewrites the whole document: it is written to `<file>.tmp`, fsynced, renamed over
/// the file, and the directory is fsynced, so after a crash the file holds either the old or the
/// new document, never a mix. Values that are UTF-8 are stored as JSON strings (snapshots stay
/// readable), other values as byte arrays. Suited to small states (a bot's risk and engine
/// snapshots); use [`SqliteStore`](super::SqliteStore) for a growing journal.
///
/// A file that cannot be parsed (truncated, edited by hand into invalid JSON, another format
/// version) makes [`JsonFileStore::open`] fail with [`StoreError::Corrupt`].
///
/// One writer: opening locks `<file>.lock` until the store and every clone of it are dropped;
/// a second open of the same file meanwhile fails with [`StoreError::Locked`]. A missing file is
/// created at open, holding only the store's epoch
/// ([`epoch::EPOCH_KEY`](super::epoch::EPOCH_KEY)), so a fresh engine on a new file starts its
/// client order ids past any earlier state's.
#[derive(Clone)]
pub struct JsonFileStore {
    inner: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    path: Arc<PathBuf>,
    /// Held for the store's lifetime; dropped (released) with the last clone.
    _lock: Arc<WriterLock>,
}

impl JsonFileStore {
    /// Locks and opens the store at `path`; a missing file is created holding only the epoch.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        blocking(move || Self::open_blocking(&path)).await
    }

    /// Like [`JsonFileStore::open`], for callers outside an async context.
    pub fn open_blocking(path: &Path) -> Result<Self, StoreError> {
        let lock = WriterLock::acquire(path)?;
        let map = match std::fs::read(path) {
            Ok(bytes) => decode(path, &bytes)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let map =
                    BTreeMap::from([(EPOCH_KEY.to_owned(), epoch::encode(epoch::next_epoch(0)?))]);
                write_atomically(path, &encode(&map)?)?;
                map
            }
            Err(e) => {
                return Err(StoreError::Backend(format!("read {}: {e}", path.display())));
            }
        };
        Ok(Self {
            inner: Arc::new(Mutex::new(map)),
            path: Arc::new(path.to_path_buf()),
            _lock: Arc::new(lock),
        })
    }

    /// The JSON file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<R>(&self, f: impl FnOnce(&BTreeMap<String, Vec<u8>>) -> R) -> R {
        f(&self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[async_trait::async_trait]
impl StateStore for JsonFileStore {
    async fn load(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_key(key)?;
        Ok(self.read(|m| m.get(key).cloned()))
    }

    async fn save(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.apply(&[StoreOp::put(key, value)]).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.apply(&[StoreOp::delete(key)]).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self.read(|m| {
            m.range(prefix.to_owned()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, _)| k.clone())
                .collect()
        }))
    }

    async fn apply(&self, ops: &[StoreOp]) -> Result<(), StoreError> {
        validate_ops(ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let ops = ops.to_vec();
        let inner = Arc::clone(&self.inner);
        let path = Arc::clone(&self.path);
        blocking(move || {
            let mut guard = inner.lock().unwrap_or_else(PoisonError::into_inner);
            let mut next = guard.clone();
            for op in ops {
                match op {
                    StoreOp::Put { key, value } => {
                        next.insert(key, value);
                    }
                    StoreOp::Delete { key } => {
                        next.remove(&key);
                    }
                }
            }
            write_atomically(&path, &encode(&next)?)?;
            *guard = next;
            Ok(())
        })
        .await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Every completed write was already fsynced with its directory.
        Ok(())
    }
}

impl std::fmt::Debug for JsonFileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonFileStore")
            .field("path", &self.path)
            .field("keys", &self.read(BTreeMap::len))
            .finish()
    }
}

/// One stored value as it appears in the file.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Value {
    Text(String),
    Bytes(Vec<u8>),
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u32,
    entries: BTreeMap<String, Value>,
}

fn decode(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: path.display().to_string(),
        reason,
    };
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if doc.version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {} (this build reads {FORMAT_VERSION})",
            doc.version
        )));
    }
    let mut map = BTreeMap::new();
    for (key, value) in doc.entries {
        validate_key(&key).map_err(|_| corrupt(format!("invalid key {key:?}")))?;
        let bytes = match value {
            Value::Text(s) => s.into_bytes(),
            Value::Bytes(b) => b,
        };
        map.insert(key, bytes);
    }
    Ok(map)
}

fn encode(map: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, StoreError> {
    let entries = map
        .iter()
        .map(|(k, v)| {
            let value = match std::str::from_utf8(v) {
                Ok(s) => Value::Text(s.to_owned()),
                Err(_) => Value::Bytes(v.clone()),
            };
            (k.clone(), value)
        })
        .collect();
    let doc = Document {
        version: FORMAT_VERSION,
        entries,
    };
    serde_json::to_vec_pretty(&doc).map_err(|e| StoreError::Backend(format!("encode: {e}")))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let io = |what: &str, e: std::io::Error| {
        StoreError::Backend(format!("{what} {}: {e}", path.display()))
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);
    let mut file = File::create(&tmp).map_err(|e| io("create temp for", e))?;
    file.write_all(bytes).map_err(|e| io("write temp for", e))?;
    file.sync_all().map_err(|e| io("fsync temp for", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io("rename temp onto", e))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io("fsync directory of", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_text_and_binary_values_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let s = JsonFileStore::open(&path).await.unwrap();
        assert_eq!(
            s.list("").await.unwrap(),
            vec![EPOCH_KEY],
            "created with its epoch"
        );
        assert!(path.exists());
        s.save("engine/snapshot", br#"{"v":1}"#).await.unwrap();
        s.save("bin", &[0xff, 0x00, 0x80]).await.unwrap();
        s.save("gone", b"x").await.unwrap();
        s.delete("gone").await.unwrap();
        s.flush().await.unwrap();
        assert!(
            !dir.path().join("state.json.tmp").exists(),
            "temp file renamed away"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""engine/snapshot": "{\"v\":1}""#), "{text}");
        drop(s);
        let again = JsonFileStore::open(&path).await.unwrap();
        assert_eq!(
            again.load("bin").await.unwrap(),
            Some(vec![0xff, 0x00, 0x80])
        );
        assert_eq!(
            again.list("").await.unwrap(),
            vec!["bin", "engine/snapshot", EPOCH_KEY]
        );
        assert!(format!("{again:?}").contains("keys: 3"));
    }

    #[tokio::test]
    async fn truncated_file_is_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let s = JsonFileStore::open(&path).await.unwrap();
        s.save("risk/BTCUSDT", b"{\"halted\":true}").await.unwrap();
        drop(s);
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() / 2]).unwrap();
        let err = JsonFileStore::open(&path).await.unwrap_err();
        match err {
            StoreError::Corrupt { key, reason } => {
                assert!(key.ends_with("state.json"), "{key}");
                assert!(reason.contains("EOF"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn wrong_version_and_garbage_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.json");
        std::fs::write(&path, r#"{"version":9,"entries":{}}"#).unwrap();
        let err = JsonFileStore::open(&path).await.unwrap_err();
        assert!(err.to_string().contains("format version 9"), "{err}");
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            JsonFileStore::open(&path).await,
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[tokio::test]
    async fn failed_write_leaves_memory_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        let err = JsonFileStore::open(sub.join("s.json")).await.unwrap_err();
        match &err {
            StoreError::Backend(msg) => assert!(msg.contains("s.json.lock"), "{msg}"),
            other => panic!("expected Backend, got {other:?}"),
        }
        std::fs::create_dir(&sub).unwrap();
        let s = JsonFileStore::open(sub.join("s.json")).await.unwrap();
        std::fs::remove_dir_all(&sub).unwrap();
        let err = s.save("k", b"v").await.unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        assert_eq!(s.load("k").await.unwrap(), None);
        let bad = s
            .apply(&[StoreOp::Put {
                key: "bad\u{7}".into(),
                value: vec![],
            }])
            .await;
        assert!(matches!(bad, Err(StoreError::InvalidKey(_))));
    }

    #[tokio::test]
    async fn one_writer_until_every_clone_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.json");
        let first = JsonFileStore::open(&path).await.unwrap();
        let clone = first.clone();
        drop(first);
        let err = JsonFileStore::open(&path).await.unwrap_err();
        match &err {
            StoreError::Locked { path: p, pid, .. } => {
                assert_eq!(p, &path.display().to_string());
                assert_eq!(*pid, Some(std::process::id()));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert!(err.to_string().contains("w.json"), "{err}");
        drop(clone);
        JsonFileStore::open(&path).await.unwrap();
    }
}
