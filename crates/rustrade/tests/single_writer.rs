//! One writer per state file, and client order ids never reused across state resets.

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::*;
use rustrade::engine::DriftPolicy;
use rustrade::store::epoch::{EPOCH_KEY, IDS_PER_MILLISECOND};
use rustrade::store::{MemoryStore, SqliteStore, StateStore};
use rustrade::testkit::{MockExchange, ScriptedBrain, candle_event};
use rustrade::{Bot, BotError};
use rustrade_core::{Brain, ClientOrderId, Decision, StoreError};

/// Set in a re-executed copy of this test binary: the state file the child locks.
const HOLD_ENV: &str = "RUSTRADE_TEST_HOLD_STORE";
/// The child's line once it holds the lock.
const HOLDING: &str = "rustrade-test: holding the store lock";

/// Alternates buying and selling, so every candle places an order.
fn flip(name: &str) -> Arc<dyn Brain> {
    Arc::new(ScriptedBrain::new(name, |_, pos, _| {
        Ok(if pos.is_flat() {
            Decision::buy(1.0)
        } else {
            Decision::sell(1.0)
        })
    }))
}

/// The sequence number of one of our ids, `"{bot}-{brain}-{seq base 36}"`.
fn sequence(id: &ClientOrderId) -> u64 {
    let seq = id.as_str().rsplit('-').next().unwrap();
    u64::from_str_radix(seq, 36).unwrap()
}

/// Runs a bot on `exchange` with `wire` applied, publishes `candles` candles from minute
/// `from_minute` on, waits for one order per candle and stops it.
async fn trade(
    exchange: &Arc<MockExchange>,
    wire: impl FnOnce(Bot) -> Bot,
    from_minute: i64,
    candles: usize,
) {
    let before = exchange.placed().len();
    // A lost state file meets the venue's position from the earlier run: adopted, so these
    // tests see the ids of the next orders (halting on drift is tested in `recovery.rs`).
    let b = wire(bot(
        config(&["BTCUSDT"])
            .drift_policy(DriftPolicy::Adopt)
            .build()
            .unwrap(),
        exchange,
        vec![flip("b")],
    ));
    let run = start(b).await;
    for i in 0..candles {
        let minute = from_minute + i64::try_from(i).unwrap();
        run.bus.publish(candle_event("BTCUSDT", minute * 60, 100.0));
        wait_until("order placed", || {
            let e = exchange.clone();
            async move { e.placed().len() == before + i + 1 }
        })
        .await;
        settle().await;
    }
    run.stop().await.unwrap();
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("remove {}: {e}", Path::new(&p).display()),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_second_bot_on_the_same_sqlite_file_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = Arc::new(MockExchange::new());
    let first = start(
        bot(
            config(&["BTCUSDT"]).build().unwrap(),
            &exchange,
            vec![flip("b")],
        )
        .with_state_file(&path),
    )
    .await;

    let second = bot(
        config(&["BTCUSDT"]).build().unwrap(),
        &exchange,
        vec![flip("b")],
    )
    .with_state_file(&path);
    let err = second.run_until_shutdown().await.unwrap_err();
    match &err {
        BotError::Store(StoreError::Locked { path: p, pid, .. }) => {
            assert_eq!(p, &path.display().to_string());
            assert_eq!(*pid, Some(std::process::id()));
        }
        other => panic!("expected a locked store, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(
        shown.contains(&format!("pid {}", std::process::id())),
        "{shown}"
    );
    assert!(exchange.placed().is_empty());

    first.stop().await.unwrap();
    // The first bot's lock went with it: the file opens again.
    SqliteStore::open(&path).await.unwrap();
}

/// The child half of the cross-process test: holds the lock until its stdin closes (or it is
/// killed). Does nothing in a normal test run.
#[test]
fn child_holding_the_store_lock() {
    let Some(path) = std::env::var_os(HOLD_ENV) else {
        return;
    };
    let _store = SqliteStore::open_blocking(Path::new(&path)).unwrap();
    println!("\n{HOLDING}");
    let mut rest = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut rest);
}

#[test]
fn another_process_holding_the_file_is_named_and_its_death_frees_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_holding_the_store_lock",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HOLD_ENV, &path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "the child ended before it held the lock");
        if line.contains(HOLDING) {
            break;
        }
    }

    let err = SqliteStore::open_blocking(&path).unwrap_err();
    match &err {
        StoreError::Locked {
            path: p,
            pid,
            holder,
        } => {
            assert_eq!(p, &path.display().to_string());
            assert_eq!(*pid, Some(child.id()), "{holder}");
        }
        other => panic!("expected Locked, got {other:?}"),
    }
    assert!(
        err.to_string().contains(&format!("pid {}", child.id())),
        "{err}"
    );

    // Killed without running its destructors: the holder text stays, the OS lock does not.
    child.kill().unwrap();
    child.wait().unwrap();
    let lock_file = dir.path().join("shared.db.lock");
    let stale = std::fs::read_to_string(&lock_file).unwrap();
    assert!(stale.contains(&format!("pid={}", child.id())), "{stale}");
    let store = SqliteStore::open_blocking(&path).unwrap();
    let now = std::fs::read_to_string(&lock_file).unwrap();
    assert!(
        now.starts_with(&format!("pid={}\n", std::process::id())),
        "{now}"
    );
    drop(store);
}

#[tokio::test(start_paused = true)]
async fn a_fresh_state_file_never_reissues_an_earlier_files_client_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let exchange = Arc::new(MockExchange::new());

    trade(&exchange, |b| b.with_state_file(&path), 1, 3).await;
    let first: Vec<ClientOrderId> = exchange.placed().iter().map(|o| o.client_id).collect();
    assert_eq!(first.len(), 3);

    // The state is lost; the venue still remembers every id it saw.
    remove_sqlite(&path);
    trade(&exchange, |b| b.with_state_file(&path), 10, 3).await;
    let all: Vec<ClientOrderId> = exchange.placed().iter().map(|o| o.client_id).collect();
    let second = &all[first.len()..];
    assert_eq!(second.len(), 3);
    let distinct: BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "{all:?}");
    assert_eq!(exchange.duplicate_placements(), 0);
    assert!(
        sequence(&second[0]) >= sequence(&first[2]) + IDS_PER_MILLISECOND,
        "{first:?} then {second:?}"
    );
    for id in &all {
        assert!(id.as_str().len() <= 36, "{id}");
    }

    // Restored from its snapshot, the state continues its own sequence.
    trade(&exchange, |b| b.with_state_file(&path), 20, 1).await;
    let third = exchange.placed().last().unwrap().client_id;
    assert_eq!(sequence(&third), sequence(&second[2]) + 1, "{third}");
    assert_eq!(exchange.duplicate_placements(), 0);
    let store = SqliteStore::open(&path).await.unwrap();
    let epoch: u64 = String::from_utf8(store.load(EPOCH_KEY).await.unwrap().unwrap())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(sequence(&second[0]), epoch * IDS_PER_MILLISECOND);
}

#[tokio::test(start_paused = true)]
async fn fresh_memory_stores_do_not_reissue_each_others_ids_and_no_store_starts_at_one() {
    let exchange = Arc::new(MockExchange::new());
    for from in [1, 10] {
        let store: Arc<dyn StateStore> = Arc::new(MemoryStore::new());
        trade(&exchange, |b| b.with_state_store(store), from, 2).await;
    }
    assert_eq!(exchange.duplicate_placements(), 0);
    let ids: BTreeSet<_> = exchange.placed().iter().map(|o| o.client_id).collect();
    assert_eq!(ids.len(), 4);

    // Without a store there is no epoch: ids start at 1, as in a backtest.
    let bare = Arc::new(MockExchange::new());
    trade(&bare, |b| b, 1, 1).await;
    assert_eq!(bare.placed()[0].client_id.as_str(), "t-0-1");
}
