//! [`BlobStore`]: content-addressed files in a JetStream object store, so every process that
//! names a blob by its key reads the very bytes that were stored.
//!
//! # Invariants
//!
//! - A blob's key is the lowercase SHA-256 hex of its bytes ([`sha256_hex`]); [`BlobStore::put`]
//!   computes it, so a key can never name other bytes.
//! - [`BlobStore::get`] hashes what arrives and refuses a mismatch with
//!   [`NatsError::BlobMismatch`]: a corrupted or substituted object is never returned.
//! - Storing bytes that are already stored uploads nothing (same key, same bytes).

use std::time::Duration;

use async_nats::jetstream::object_store::{self, GetErrorKind, InfoErrorKind, ObjectStore};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::NatsError;

/// A JetStream object-store bucket holding blobs under the SHA-256 hex of their bytes.
#[derive(Clone)]
pub struct BlobStore {
    bucket: String,
    js: async_nats::jetstream::Context,
    store: ObjectStore,
}

/// The lowercase SHA-256 hex of `bytes`: the key a blob is stored under.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore {
    /// Opens bucket `bucket`, creating it when missing; `max_age` bounds how long a blob is
    /// kept (`Duration::ZERO`: forever).
    pub async fn open(
        client: async_nats::Client,
        bucket: &str,
        max_age: Duration,
    ) -> Result<Self, NatsError> {
        let js = async_nats::jetstream::new(client);
        let store = match js.get_object_store(bucket).await {
            Ok(store) => store,
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: bucket.to_owned(),
                    description: Some("rustrade content-addressed blobs".to_owned()),
                    max_age,
                    ..Default::default()
                })
                .await
                .map_err(|e| NatsError::jetstream(format!("create object store {bucket}"), e))?,
        };
        Ok(Self {
            bucket: bucket.to_owned(),
            js,
            store,
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Stores `bytes` unless a blob with their hash is there already; returns the key.
    pub async fn put(&self, bytes: &[u8]) -> Result<String, NatsError> {
        let key = sha256_hex(bytes);
        if self.contains(&key).await? {
            return Ok(key);
        }
        let mut reader = bytes;
        self.store
            .put(key.as_str(), &mut reader)
            .await
            .map_err(|e| NatsError::jetstream(format!("put blob {key} in {}", self.bucket), e))?;
        Ok(key)
    }

    /// Whether a blob is stored under `key`.
    pub async fn contains(&self, key: &str) -> Result<bool, NatsError> {
        match self.store.info(key).await {
            Ok(info) => Ok(!info.deleted),
            Err(e) if e.kind() == InfoErrorKind::NotFound => Ok(false),
            Err(e) => Err(NatsError::jetstream(
                format!("look up blob {key} in {}", self.bucket),
                e,
            )),
        }
    }

    /// The bytes stored under `key`, checked against it: [`NatsError::BlobMismatch`] when they
    /// hash to anything else, [`NatsError::BlobMissing`] when there is no such blob.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, NatsError> {
        let mut object = self.store.get(key).await.map_err(|e| match e.kind() {
            GetErrorKind::NotFound => self.missing(key),
            _ => NatsError::jetstream(format!("get blob {key} from {}", self.bucket), e),
        })?;
        let mut bytes = Vec::with_capacity(object.info().size);
        object.read_to_end(&mut bytes).await.map_err(|e| {
            NatsError::jetstream(format!("read blob {key} from {}", self.bucket), e)
        })?;
        verify(key, bytes)
    }

    /// Deletes the bucket and every blob in it.
    pub async fn delete_bucket(self) -> Result<(), NatsError> {
        self.js
            .delete_object_store(&self.bucket)
            .await
            .map(|_| ())
            .map_err(|e| NatsError::jetstream(format!("delete object store {}", self.bucket), e))
    }

    fn missing(&self, key: &str) -> NatsError {
        NatsError::BlobMissing {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
        }
    }
}

/// `bytes` when they hash to `key`, else [`NatsError::BlobMismatch`].
pub(crate) fn verify(key: &str, bytes: Vec<u8>) -> Result<Vec<u8>, NatsError> {
    let actual = sha256_hex(&bytes);
    if actual == key {
        Ok(bytes)
    } else {
        Err(NatsError::BlobMismatch {
            key: key.to_owned(),
            actual,
            len: bytes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_sha256_hex_of_the_bytes() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bytes_that_do_not_hash_to_their_key_are_refused() {
        let key = sha256_hex(b"candles");
        assert_eq!(verify(&key, b"candles".to_vec()).unwrap(), b"candles");
        let err = verify(&key, b"candlez".to_vec()).unwrap_err();
        assert!(
            matches!(&err, NatsError::BlobMismatch { key: k, len: 7, .. } if *k == key),
            "{err}"
        );
    }
}
