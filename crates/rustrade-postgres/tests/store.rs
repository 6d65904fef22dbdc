//! The `StateStore` contract on a real PostgreSQL server: atomic batches, one writer per bot,
//! bots kept apart, corruption reported, the schema migrated, the journal projected into
//! queryable rows. Each test works in a schema of its own, dropped at its end; without a
//! server each test says it was skipped and passes (unless `RUSTRADE_REQUIRE_SERVERS=1`).

use std::time::Duration;

use rustrade::engine::testkit::{Harness, VenueScript};
use rustrade::engine::{BrainId, EngineConfig, EngineEvent, JournalRecord};
use rustrade_core::{
    AssetClass, Decision, InstrumentSpec, StateStore, StoreError, StoreOp, Symbol,
};
use rustrade_postgres::testing::TestSchema;
use rustrade_postgres::{PostgresError, PostgresStore, SCHEMA_VERSION};

fn put(key: &str, value: &[u8]) -> StoreOp {
    StoreOp::Put {
        key: key.to_owned(),
        value: value.to_vec(),
    }
}

async fn open(schema: &TestSchema, bot: &str) -> PostgresStore {
    schema.options(bot).connect().await.unwrap()
}

/// The journal ops of `events`, numbered from `first_seq`, as the facade writes them.
fn journal_ops(events: &[EngineEvent], first_seq: u64, time_ns: u64) -> Vec<StoreOp> {
    events
        .iter()
        .zip(first_seq..)
        .map(|(e, seq)| {
            put(
                &format!("journal/{seq:020}-{time_ns:020}"),
                &JournalRecord::encode(seq, e).unwrap(),
            )
        })
        .collect()
}

/// A round trip on an instant venue without fees: buy 1 at 100, close at `exit`.
fn round_trip(bot: &str, exit: f64) -> Vec<EngineEvent> {
    let btc = Symbol::new("BTCUSDT").unwrap();
    let spec = InstrumentSpec::new(btc, AssetClass::CryptoSpot, 0.01, 0.0001).unwrap();
    let config = EngineConfig::new(bot, rustrade::risk::RiskConfig::default())
        .with_brain("b")
        .with_instrument(spec);
    let mut h = Harness::new(config, VenueScript::instant());
    h.candle(btc, 100.0);
    h.decide(BrainId(0), btc, &Decision::buy(1.0));
    h.advance(Duration::from_secs(60));
    h.candle(btc, exit);
    h.decide(BrainId(0), btc, &Decision::close());
    h.events.clone()
}

/// When the round trip in `events` closed.
fn closed_at(events: &[EngineEvent]) -> rustrade_core::Timestamp {
    events
        .iter()
        .find_map(|e| match e {
            EngineEvent::TradeClosed { trade, .. } => Some(trade.closed_at),
            _ => None,
        })
        .expect("a closed trade")
}

fn single_f64(schema: &TestSchema, sql: &str) -> f64 {
    let rows = schema.query(sql).unwrap();
    assert_eq!(rows.len(), 1, "{sql}");
    rows[0].get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_list_and_atomic_batches() {
    let Some(schema) = TestSchema::new("crud_list_and_atomic_batches") else {
        return;
    };
    let s = open(&schema, "alpha").await;
    assert_eq!(s.load("a").await.unwrap(), None);
    s.save("a/1", b"x").await.unwrap();
    s.save("a/2", b"y").await.unwrap();
    s.save("b/1", b"z").await.unwrap();
    s.save("a/1", b"x2").await.unwrap();
    s.save("a_%/1", b"w").await.unwrap();
    assert_eq!(s.load("a/1").await.unwrap(), Some(b"x2".to_vec()));
    assert_eq!(s.list("a/").await.unwrap(), vec!["a/1", "a/2"]);
    assert_eq!(s.list("a_%").await.unwrap(), vec!["a_%/1"], "no wildcards");
    assert_eq!(
        s.list("").await.unwrap(),
        vec!["a/1", "a/2", "a_%/1", "b/1"]
    );
    let bad = s
        .apply(&[StoreOp::Delete { key: "a/1".into() }, put("", b"")])
        .await;
    assert!(matches!(bad, Err(StoreError::InvalidKey(_))), "{bad:?}");
    assert!(
        s.load("a/1").await.unwrap().is_some(),
        "a refused batch writes nothing"
    );
    // Within a batch the last operation on a key wins.
    s.apply(&[
        put("c", b"1"),
        StoreOp::Delete { key: "c".into() },
        put("d", b"1"),
        put("d", b"2"),
        StoreOp::Delete { key: "a/2".into() },
    ])
    .await
    .unwrap();
    assert_eq!(s.load("c").await.unwrap(), None);
    assert_eq!(s.load("d").await.unwrap(), Some(b"2".to_vec()));
    s.delete("a/1").await.unwrap();
    s.delete("never-there").await.unwrap();
    s.flush().await.unwrap();
    drop(s);
    let reopened = open(&schema, "alpha").await;
    assert_eq!(reopened.list("").await.unwrap(), vec!["a_%/1", "b/1", "d"]);
    assert_eq!(reopened.bot_id(), "alpha");
    assert_eq!(reopened.schema(), schema.name());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_writer_per_bot_until_every_clone_is_dropped_and_other_bots_open_freely() {
    let Some(schema) = TestSchema::new("one_writer_per_bot") else {
        return;
    };
    let first = open(&schema, "alpha").await;
    let clone = first.clone();
    let err = schema.options("alpha").connect().await.unwrap_err();
    let PostgresError::Store(StoreError::Locked { path, pid, holder }) = &err else {
        panic!("expected Locked, got {err:?}");
    };
    assert!(path.contains("\"alpha\""), "{path}");
    assert!(path.contains(schema.name()), "{path}");
    assert_eq!(*pid, Some(std::process::id()), "{holder}");
    assert!(holder.contains("bot=alpha"), "{holder}");
    assert!(err.to_string().contains("alpha"), "{err}");
    let other = open(&schema, "beta").await;
    drop(first);
    assert!(
        matches!(
            schema.options("alpha").connect().await,
            Err(PostgresError::Store(StoreError::Locked { .. }))
        ),
        "a clone still holds the lock"
    );
    clone.save("k", b"v").await.unwrap();
    drop(clone);
    let again = open(&schema, "alpha").await;
    assert_eq!(again.load("k").await.unwrap(), Some(b"v".to_vec()));
    drop(other);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_holder_does_not_block_a_waiting_open() {
    let Some(schema) = TestSchema::new("a_killed_holder_does_not_block") else {
        return;
    };
    let first = open(&schema, "killed-holder").await;
    first.save("k", b"v").await.unwrap();
    // The holder's session ends from the server's side, as when its process is killed (the
    // bot id is this test's alone: other tests of this process run beside it).
    schema
        .execute(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'rustrade pid={} bot=killed-holder'",
            std::process::id()
        ))
        .unwrap();
    let second = schema
        .options("killed-holder")
        .lock_wait(Duration::from_secs(5))
        .connect()
        .await
        .unwrap();
    assert_eq!(second.load("k").await.unwrap(), Some(b"v".to_vec()));
    let err = first.save("k", b"w").await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert_eq!(
        second.load("k").await.unwrap(),
        Some(b"v".to_vec()),
        "the lost writer wrote nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_in_one_schema_see_only_their_own_state() {
    let Some(schema) = TestSchema::new("bots_in_one_schema") else {
        return;
    };
    let a = open(&schema, "alpha").await;
    let b = open(&schema, "beta").await;
    a.save("engine/snapshot", b"a").await.unwrap();
    b.save("engine/snapshot", b"b").await.unwrap();
    b.save("journal/x", b"b").await.unwrap();
    assert_eq!(
        a.load("engine/snapshot").await.unwrap(),
        Some(b"a".to_vec())
    );
    assert_eq!(
        b.load("engine/snapshot").await.unwrap(),
        Some(b"b".to_vec())
    );
    assert_eq!(a.list("").await.unwrap(), vec!["engine/snapshot"]);
    a.delete("engine/snapshot").await.unwrap();
    assert_eq!(
        b.list("").await.unwrap(),
        vec!["engine/snapshot", "journal/x"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_records_become_rows_and_the_days_pnl_per_bot_is_one_select() {
    let Some(schema) = TestSchema::new("journal_records_become_rows") else {
        return;
    };
    let s = schema.name();
    for (bot, exit) in [("alpha", 110.0), ("beta", 97.0)] {
        let store = open(&schema, bot).await;
        let events = round_trip(bot, exit);
        // Two steps, as the driver writes them, with a snapshot in the second.
        let (first, second) = events.split_at(events.len() / 2);
        store.apply(&journal_ops(first, 1, 1)).await.unwrap();
        let mut ops = journal_ops(second, first.len() as u64 + 1, 2);
        ops.push(put("engine/snapshot", b"{}"));
        store.apply(&ops).await.unwrap();
    }
    // The day the trades closed, as a dashboard would ask for today.
    let day = closed_at(&round_trip("alpha", 110.0)).to_rfc3339()[..10].to_owned();
    let rows = schema
        .query(&format!(
            "SELECT bot_id, sum(net_pnl) FROM {s}.trades \
             WHERE closed_at >= '{day}'::date AT TIME ZONE 'UTC' \
               AND closed_at < ('{day}'::date + 1) AT TIME ZONE 'UTC' \
             GROUP BY bot_id ORDER BY bot_id"
        ))
        .unwrap();
    let pnl: Vec<(String, f64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(pnl, vec![("alpha".into(), 10.0), ("beta".into(), -3.0)]);
    let daily = schema
        .query(&format!(
            "SELECT bot_id, realised_pnl, fills FROM {s}.daily_pnl ORDER BY bot_id"
        ))
        .unwrap();
    let daily: Vec<(String, f64, i64)> = daily
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        daily,
        vec![("alpha".into(), 10.0, 2), ("beta".into(), -3.0, 2)]
    );
    let orders = schema
        .query(&format!(
            "SELECT role, side, kind, status, filled_quantity, venue_order_id IS NOT NULL \
             FROM {s}.orders WHERE bot_id = 'alpha' ORDER BY placed_ns, client_id"
        ))
        .unwrap();
    let orders: Vec<(String, String, String, String, f64, bool)> = orders
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect();
    assert_eq!(orders.len(), 2, "{orders:?}");
    assert_eq!(orders[0].0, "entry");
    assert_eq!(
        (
            &orders[0].1[..],
            &orders[0].2[..],
            &orders[0].3[..],
            orders[0].4,
            orders[0].5
        ),
        ("buy", "market", "filled", 1.0, true)
    );
    assert_eq!((&orders[1].1[..], &orders[1].3[..]), ("sell", "filled"));
    assert_eq!(
        single_f64(
            &schema,
            &format!("SELECT sum(quantity) FROM {s}.fills WHERE bot_id = 'beta'")
        ),
        2.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_journal_record_is_corrupt_and_its_batch_is_not_written() {
    let Some(schema) = TestSchema::new("an_undecodable_journal_record") else {
        return;
    };
    let store = open(&schema, "alpha").await;
    let key = "journal/00000000000000000001-00000000000000000001";
    let err = store
        .apply(&[put("engine/genesis", b"{}"), put(key, b"{\"format\":9}")])
        .await
        .unwrap_err();
    match err {
        StoreError::Corrupt { key: k, .. } => assert_eq!(k, key),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(store.load("engine/genesis").await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_value_is_corrupt_not_missing() {
    let Some(schema) = TestSchema::new("an_unreadable_value_is_corrupt") else {
        return;
    };
    let s = schema.name();
    open(&schema, "alpha")
        .await
        .save("engine/snapshot", b"{}")
        .await
        .unwrap();
    // Someone changed the column under the store.
    schema
        .execute(&format!(
            "ALTER TABLE {s}.kv ALTER COLUMN value TYPE text USING encode(value, 'escape')"
        ))
        .unwrap();
    let store = open(&schema, "alpha").await;
    let err = store.load("engine/snapshot").await.unwrap_err();
    match err {
        StoreError::Corrupt { key, .. } => assert_eq!(key, "engine/snapshot"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_this_build_or_without_a_version_is_corrupt() {
    let Some(schema) = TestSchema::new("a_schema_newer_than_this_build") else {
        return;
    };
    let s = schema.name();
    drop(open(&schema, "alpha").await);
    schema
        .execute(&format!(
            "INSERT INTO {s}.schema_version (version) VALUES ({})",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    let err = schema.options("alpha").connect().await.unwrap_err();
    let PostgresError::Store(StoreError::Corrupt { key, reason }) = &err else {
        panic!("expected Corrupt, got {err:?}");
    };
    assert_eq!(key, &format!("{s}.schema_version"));
    assert!(
        reason.contains(&format!("schema version {}", SCHEMA_VERSION + 1)),
        "{reason}"
    );
    schema
        .execute(&format!("DROP TABLE {s}.schema_version"))
        .unwrap();
    let err = schema.options("alpha").connect().await.unwrap_err();
    assert!(
        matches!(&err, PostgresError::Store(StoreError::Corrupt { reason, .. })
            if reason.contains("no schema_version")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_database_is_migrated_and_its_journal_projected() {
    let Some(schema) = TestSchema::new("a_version_1_database_is_migrated") else {
        return;
    };
    let s = schema.name();
    // The layout of version 1, as that release created it, with one bot's journal in it.
    let mut sql = format!(
        "CREATE SCHEMA {s}; \
         CREATE TABLE {s}.schema_version (version integer PRIMARY KEY, \
           applied_at timestamptz NOT NULL DEFAULT now()); \
         INSERT INTO {s}.schema_version (version) VALUES (1); \
         CREATE TABLE {s}.kv (bot_id text NOT NULL, key text COLLATE \"C\" NOT NULL, \
           value bytea NOT NULL, PRIMARY KEY (bot_id, key));"
    );
    for op in journal_ops(&round_trip("old", 104.0), 1, 7) {
        let StoreOp::Put { key, value } = op else {
            unreachable!("journal ops are puts")
        };
        let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
        sql.push_str(&format!(
            "INSERT INTO {s}.kv VALUES ('old', '{key}', decode('{hex}', 'hex'));"
        ));
    }
    schema.execute(&sql).unwrap();
    let store = open(&schema, "old").await;
    let versions = schema
        .query(&format!(
            "SELECT version FROM {s}.schema_version ORDER BY version"
        ))
        .unwrap();
    let versions: Vec<i32> = versions.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    assert_eq!(
        single_f64(
            &schema,
            &format!("SELECT sum(net_pnl) FROM {s}.trades WHERE bot_id = 'old'")
        ),
        4.0
    );
    assert_eq!(
        store.list("journal/").await.unwrap().len(),
        round_trip("old", 104.0).len()
    );
    // Opening again migrates nothing and projects nothing twice.
    drop(store);
    drop(open(&schema, "old").await);
    assert_eq!(
        single_f64(&schema, &format!("SELECT count(*)::float8 FROM {s}.fills")),
        2.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_opens_migrate_once() {
    let Some(schema) = TestSchema::new("concurrent_first_opens") else {
        return;
    };
    let opens: Vec<_> = ["a", "b", "c", "d"]
        .into_iter()
        .map(|bot| tokio::spawn(schema.options(bot).connect()))
        .collect();
    for open in opens {
        open.await.unwrap().unwrap();
    }
    let versions = schema
        .query(&format!(
            "SELECT count(*)::float8 FROM {}.schema_version",
            schema.name()
        ))
        .unwrap();
    assert_eq!(versions[0].get::<_, f64>(0), f64::from(SCHEMA_VERSION));
}
