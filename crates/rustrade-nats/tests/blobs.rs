//! The content-addressed blob store against the local server: keys are hashes, a re-put stores
//! nothing new, and bytes that do not match their key are refused.

use std::time::Duration;

use rustrade_nats::{BlobStore, NatsError, sha256_hex, testing};

#[tokio::test]
async fn a_blob_comes_back_under_the_hash_of_its_bytes() {
    let Some(client) = testing::client_or_skip("blob_roundtrip").await else {
        return;
    };
    let bucket = testing::unique_name("blobs");
    let store = BlobStore::open(client, &bucket, Duration::ZERO)
        .await
        .unwrap();
    // More than one 128 KiB chunk of the object store.
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let key = store.put(&bytes).await.unwrap();
    assert_eq!(key, sha256_hex(&bytes));
    assert!(store.contains(&key).await.unwrap());
    assert_eq!(
        store.put(&bytes).await.unwrap(),
        key,
        "same bytes, same key"
    );
    assert_eq!(store.get(&key).await.unwrap(), bytes);

    let absent = sha256_hex(b"never stored");
    assert!(!store.contains(&absent).await.unwrap());
    let err = store.get(&absent).await.unwrap_err();
    assert!(
        matches!(&err, NatsError::BlobMissing { key, .. } if *key == absent),
        "{err}"
    );
    store.delete_bucket().await.unwrap();
}

#[tokio::test]
async fn bytes_stored_under_another_key_are_refused() {
    let Some(client) = testing::client_or_skip("blob_mismatch").await else {
        return;
    };
    let bucket = testing::unique_name("blobs");
    let store = BlobStore::open(client.clone(), &bucket, Duration::ZERO)
        .await
        .unwrap();
    // Written around the blob store, as a faulty or hostile writer could.
    let claimed = sha256_hex(b"the real candles");
    let raw = async_nats::jetstream::new(client)
        .get_object_store(&bucket)
        .await
        .unwrap();
    raw.put(claimed.as_str(), &mut &b"forged candles"[..])
        .await
        .unwrap();
    let err = store.get(&claimed).await.unwrap_err();
    match &err {
        NatsError::BlobMismatch { key, actual, len } => {
            assert_eq!(key, &claimed);
            assert_eq!(actual, &sha256_hex(b"forged candles"));
            assert_eq!(*len, 14);
        }
        other => panic!("expected a mismatch, got {other}"),
    }
    store.delete_bucket().await.unwrap();
}
