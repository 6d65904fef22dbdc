//! The work queue against the local server: every job's result comes back once, a job whose
//! worker vanished is delivered again, a long job stays with its worker, and a job that keeps
//! failing ends the batch with a clear error.

use std::time::Duration;

use rustrade_nats::{NatsError, WorkQueue, WorkQueueConfig, testing};

/// Long enough for any pull on a loaded machine to return a waiting job.
const PULL: Duration = Duration::from_secs(5);

async fn queue(test: &str, ack_wait: Duration, max_deliver: i64) -> Option<WorkQueue> {
    let client = testing::client_or_skip(test).await?;
    let mut config = WorkQueueConfig::new(testing::unique_name(test));
    config.ack_wait = ack_wait;
    config.max_deliver = max_deliver;
    Some(WorkQueue::open(client, config).await.expect("queue opened"))
}

#[tokio::test]
async fn every_job_of_a_batch_comes_back_once() {
    let Some(queue) = queue("wq_all", Duration::from_secs(30), 3).await else {
        return;
    };
    let batch_id = queue.new_batch_id();
    let batch = queue
        .submit(&batch_id, (0..20u64).map(|i| (i, i as f64 * 0.1)))
        .await
        .unwrap();
    assert_eq!(batch.len(), 20);
    // The same jobs again (a coordinator retrying its publishes): dropped as duplicates.
    queue
        .submit(&batch_id, (0..20u64).map(|i| (i, i as f64 * 0.1)))
        .await
        .unwrap();

    let worker = queue.worker().await.unwrap();
    for _ in 0..20 {
        let lease = worker.next::<f64>(PULL).await.unwrap().expect("a job");
        assert_eq!(lease.batch(), batch_id);
        assert_eq!(lease.delivered(), 1);
        let result = lease.job() * 3.0;
        lease.complete(&result).await.unwrap();
    }
    assert!(
        worker
            .next::<f64>(Duration::from_millis(200))
            .await
            .unwrap()
            .is_none(),
        "the duplicates were not stored"
    );

    let mut results = queue.collect::<f64>(&batch).await.unwrap();
    let mut seen = Vec::new();
    while let Some(r) = results.next().await {
        seen.push(r.unwrap());
    }
    seen.sort_by_key(|(id, _)| *id);
    let expected: Vec<(u64, f64)> = (0..20u64).map(|i| (i, i as f64 * 0.1 * 3.0)).collect();
    assert_eq!(seen, expected, "exact floats, every id once");
    queue.clear(&batch_id).await.unwrap();
    queue.delete().await.unwrap();
}

#[tokio::test]
async fn the_job_of_a_vanished_worker_is_delivered_again_and_counted_once() {
    let Some(queue) = queue("wq_redeliver", Duration::from_millis(400), 3).await else {
        return;
    };
    let batch_id = queue.new_batch_id();
    let batch = queue
        .submit(&batch_id, [(7u64, "x".to_owned())])
        .await
        .unwrap();
    let dead = queue.worker().await.unwrap();
    let held = dead.next::<String>(PULL).await.unwrap().expect("a job");
    assert_eq!(held.delivered(), 1);

    // Neither acknowledged nor kept alive: the server hands it to the next worker.
    let alive = queue.worker().await.unwrap();
    let again = alive
        .next::<String>(PULL)
        .await
        .unwrap()
        .expect("redelivered");
    assert_eq!((again.id(), again.delivered()), (7, 2));
    again.complete(&"done".to_owned()).await.unwrap();
    // The first worker finishing late publishes a duplicate result, which is dropped.
    let _ = held.complete(&"late".to_owned()).await;

    let mut results = queue.collect::<String>(&batch).await.unwrap();
    assert_eq!(
        results.next().await.unwrap().unwrap(),
        (7, "done".to_owned())
    );
    assert!(results.next().await.is_none());
    queue.delete().await.unwrap();
}

#[tokio::test]
async fn a_long_job_kept_alive_stays_with_its_worker() {
    let Some(queue) = queue("wq_keepalive", Duration::from_millis(300), 3).await else {
        return;
    };
    let batch_id = queue.new_batch_id();
    let batch = queue.submit(&batch_id, [(1u64, 1u32)]).await.unwrap();
    let worker = queue.worker().await.unwrap();
    let other = queue.worker().await.unwrap();
    let lease = worker.next::<u32>(PULL).await.unwrap().expect("a job");
    // Three ack_waits of work, while another worker asks for a job the whole time.
    let (stolen, ()) = lease
        .keep_alive(async {
            let stolen = other.next::<u32>(Duration::from_millis(900)).await.unwrap();
            (stolen.map(|l| l.delivered()), ())
        })
        .await;
    assert_eq!(
        stolen, None,
        "the job was delivered again while in progress"
    );
    lease.complete(&2u32).await.unwrap();
    let mut results = queue.collect::<u32>(&batch).await.unwrap();
    assert_eq!(results.next().await.unwrap().unwrap(), (1, 2));
    queue.delete().await.unwrap();
}

#[tokio::test]
async fn a_job_that_fails_on_every_delivery_fails_the_batch_with_its_reason() {
    let Some(queue) = queue("wq_fails", Duration::from_millis(500), 2).await else {
        return;
    };
    let batch_id = queue.new_batch_id();
    let batch = queue.submit(&batch_id, [(3u64, ())]).await.unwrap();
    let worker = queue.worker().await.unwrap();
    for delivery in 1..=2 {
        let lease = worker.next::<()>(PULL).await.unwrap().expect("a job");
        assert_eq!(lease.delivered(), delivery);
        lease.fail("data file unreadable").await.unwrap();
    }
    let mut results = queue.collect::<()>(&batch).await.unwrap();
    let err = results.next().await.unwrap().unwrap_err();
    assert!(
        matches!(&err, NatsError::JobFailed { job: 3, deliveries: 2, reason, .. }
            if reason == "data file unreadable"),
        "{err}"
    );
    assert!(
        worker
            .next::<()>(Duration::from_millis(700))
            .await
            .unwrap()
            .is_none(),
        "a job failed for good is not delivered again"
    );
    queue.delete().await.unwrap();
}

#[tokio::test]
async fn a_job_whose_workers_all_vanish_fails_the_batch() {
    let Some(queue) = queue("wq_vanish", Duration::from_millis(300), 1).await else {
        return;
    };
    let batch_id = queue.new_batch_id();
    let batch = queue.submit(&batch_id, [(5u64, ())]).await.unwrap();
    let mut results = queue.collect::<()>(&batch).await.unwrap();
    let worker = queue.worker().await.unwrap();
    let lease = worker.next::<()>(PULL).await.unwrap().expect("a job");
    drop(lease);
    // The server notices a job out of deliveries when a worker asks for the next one.
    let pulling = async {
        loop {
            if let Some(lease) = worker.next::<()>(Duration::from_millis(500)).await.unwrap() {
                panic!("delivered again: delivery {}", lease.delivered());
            }
        }
    };
    let err = tokio::select! {
        r = results.next() => r.unwrap().unwrap_err(),
        () = pulling => unreachable!(),
        () = tokio::time::sleep(Duration::from_secs(30)) => panic!("the server never gave up on the job"),
    };
    assert!(matches!(&err, NatsError::JobFailed { job: 5, .. }), "{err}");
    queue.clear(&batch_id).await.unwrap();
    queue.delete().await.unwrap();
}

#[tokio::test]
async fn a_queue_name_that_is_not_one_subject_token_is_refused() {
    let Some(client) = testing::client_or_skip("wq_name").await else {
        return;
    };
    let err = WorkQueue::open(client, WorkQueueConfig::new("a.b"))
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(
            err,
            NatsError::InvalidOption {
                field: "work_queue.name",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn reopening_a_queue_with_other_limits_updates_its_consumer() {
    let Some(client) = testing::client_or_skip("wq_limits").await else {
        return;
    };
    let mut config = WorkQueueConfig::new(testing::unique_name("wq_limits"));
    config.ack_wait = Duration::from_secs(30);
    config.max_deliver = 5;
    let first = WorkQueue::open(client.clone(), config.clone())
        .await
        .unwrap();
    assert_eq!(
        first.consumer_limits().await.unwrap(),
        (Duration::from_secs(30), 5)
    );
    config.ack_wait = Duration::from_secs(2);
    config.max_deliver = 3;
    let again = WorkQueue::open(client, config).await.unwrap();
    assert_eq!(
        again.consumer_limits().await.unwrap(),
        (Duration::from_secs(2), 3),
        "the later run's --ack-wait applies"
    );
    again.delete().await.unwrap();
}
