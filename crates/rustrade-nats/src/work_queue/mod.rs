//! [`WorkQueue`]: batches of jobs handed to worker processes on any machine through JetStream,
//! and their results collected back, with nothing lost when a worker dies.
//!
//! A queue named `q` is two streams: `q_jobs` (work-queue retention, subjects `q.jobs.<batch>`)
//! and `q_results` (limits retention, subjects `q.results.<batch>`), and one durable pull
//! consumer `q_workers` on the jobs that every [`Worker`] shares. A coordinator
//! [`WorkQueue::submit`]s a batch and reads it back with a [`Collector`]; a worker takes one
//! [`Lease`] at a time, runs it and [`Lease::complete`]s it.
//!
//! # Invariants
//!
//! - A job is acknowledged only after the server has acknowledged the publish of its result,
//!   so a worker killed at any instant leaves its job unacknowledged, and the server delivers
//!   it again after `ack_wait`. A worker running a long job keeps it with in-progress acks
//!   ([`Lease::keep_alive`]).
//! - Jobs and results carry ids in `Nats-Msg-Id` (`<batch>.<job>` and `<batch>.<job>.r`), so a
//!   publish repeated within the duplicate window is stored once; a [`Collector`] also yields
//!   each job id once, whatever arrives twice.
//! - A job is delivered at most `max_deliver` times. A worker failing it on its last delivery
//!   publishes the failure; a job whose workers all vanished is reported by the server's
//!   max-deliveries advisory. Either way the collector ends with [`NatsError::JobFailed`].
//! - A worker takes one job at a time (no prefetch), so no job waits behind a busy worker.

mod collect;
mod worker;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, PullConsumer, pull};
use async_nats::jetstream::context::Context;
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream::{self, RetentionPolicy};
use serde::{Deserialize, Serialize};

use crate::NatsError;

pub use collect::Collector;
pub use worker::{Lease, Worker};

/// How a work queue is named and how patient it is with workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkQueueConfig {
    /// The queue's name: ASCII letters, digits, `_` and `-`; its streams are `<name>_jobs` and
    /// `<name>_results`.
    pub name: String,
    /// How long a delivered job may go without an acknowledgement or an in-progress ack before
    /// the server delivers it to another worker.
    pub ack_wait: Duration,
    /// Most deliveries of one job.
    pub max_deliver: i64,
    /// How long results are kept when no coordinator removes them.
    pub results_max_age: Duration,
    /// The window in which a repeated `Nats-Msg-Id` is dropped as a duplicate.
    pub duplicate_window: Duration,
}

/// A JetStream work queue: jobs out to workers, results back.
#[derive(Clone)]
pub struct WorkQueue {
    js: Context,
    config: Arc<WorkQueueConfig>,
    jobs: stream::Stream,
    results: stream::Stream,
}

/// A submitted batch: its id, its job ids and where the server stored each job.
#[derive(Debug, Clone)]
pub struct Batch {
    id: String,
    jobs: BTreeSet<u64>,
    /// Jobs-stream sequence → job id, to name a job in a max-deliveries advisory.
    by_sequence: BTreeMap<u64, u64>,
}

impl WorkQueueConfig {
    /// Queue `name` with a 30 s `ack_wait`, 5 deliveries, results kept a day and a 2 minute
    /// duplicate window.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            results_max_age: Duration::from_secs(86_400),
            duplicate_window: Duration::from_secs(120),
        }
    }

    /// The jobs stream's name.
    pub fn jobs_stream(&self) -> String {
        format!("{}_jobs", self.name)
    }

    /// The results stream's name.
    pub fn results_stream(&self) -> String {
        format!("{}_results", self.name)
    }

    /// The workers' shared consumer's name.
    pub fn consumer(&self) -> String {
        format!("{}_workers", self.name)
    }

    fn jobs_subject(&self, batch: &str) -> String {
        format!("{}.jobs.{batch}", self.name)
    }

    fn results_subject(&self, batch: &str) -> String {
        format!("{}.results.{batch}", self.name)
    }

    fn validate(&self) -> Result<(), NatsError> {
        check_token("work_queue.name", &self.name)?;
        if self.ack_wait < Duration::from_millis(100) {
            return Err(NatsError::InvalidOption {
                field: "work_queue.ack_wait",
                value: format!("{:?}", self.ack_wait),
                reason: "must be at least 100 ms".to_owned(),
            });
        }
        if self.max_deliver < 1 {
            return Err(NatsError::InvalidOption {
                field: "work_queue.max_deliver",
                value: self.max_deliver.to_string(),
                reason: "must be at least 1".to_owned(),
            });
        }
        Ok(())
    }
}

impl WorkQueue {
    /// Opens queue `config.name` on `client`'s server, creating its streams and the workers'
    /// consumer when missing (existing ones are used as they are).
    pub async fn open(
        client: async_nats::Client,
        config: WorkQueueConfig,
    ) -> Result<Self, NatsError> {
        config.validate()?;
        let js = async_nats::jetstream::new(client);
        let jobs = js
            .get_or_create_stream(stream::Config {
                name: config.jobs_stream(),
                subjects: vec![format!("{}.jobs.>", config.name)],
                retention: RetentionPolicy::WorkQueue,
                duplicate_window: config.duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                NatsError::jetstream(format!("create stream {}", config.jobs_stream()), e)
            })?;
        let results = js
            .get_or_create_stream(stream::Config {
                name: config.results_stream(),
                subjects: vec![format!("{}.results.>", config.name)],
                max_age: config.results_max_age,
                duplicate_window: config.duplicate_window,
                ..Default::default()
            })
            .await
            .map_err(|e| {
                NatsError::jetstream(format!("create stream {}", config.results_stream()), e)
            })?;
        let queue = Self {
            js,
            config: Arc::new(config),
            jobs,
            results,
        };
        // Created here, not by the first worker, so jobs submitted before any worker starts are
        // kept for it.
        queue.consumer().await?;
        Ok(queue)
    }

    /// The queue's settings.
    pub fn config(&self) -> &WorkQueueConfig {
        &self.config
    }

    /// A fresh batch id, unique across processes and machines (a NUID, as the client's inboxes
    /// use).
    pub fn new_batch_id(&self) -> String {
        let inbox = self.js.client().new_inbox();
        inbox.rsplit('.').next().unwrap_or(&inbox).to_owned()
    }

    /// Publishes `jobs` (`(id, job)`, ids unique within the batch) as batch `batch` and waits
    /// until the server has stored every one.
    pub async fn submit<T: Serialize>(
        &self,
        batch: &str,
        jobs: impl IntoIterator<Item = (u64, T)>,
    ) -> Result<Batch, NatsError> {
        /// Publishes in flight before waiting for their acknowledgements.
        const IN_FLIGHT: usize = 256;
        check_token("batch", batch)?;
        let subject = self.config.jobs_subject(batch);
        let mut out = Batch {
            id: batch.to_owned(),
            jobs: BTreeSet::new(),
            by_sequence: BTreeMap::new(),
        };
        let mut pending = Vec::with_capacity(IN_FLIGHT);
        for (id, job) in jobs {
            if !out.jobs.insert(id) {
                return Err(NatsError::InvalidOption {
                    field: "jobs",
                    value: id.to_string(),
                    reason: format!("job id given twice in batch {batch}"),
                });
            }
            let body = serde_json::to_vec(&JobEnvelope {
                batch: batch.to_owned(),
                id,
                job,
            })
            .map_err(|e| NatsError::Malformed {
                subject: subject.clone(),
                reason: format!("job {id} does not encode: {e}"),
            })?;
            let ack = self
                .js
                .send_publish(
                    subject.clone(),
                    PublishMessage::build()
                        .payload(body.into())
                        .message_id(format!("{batch}.{id}")),
                )
                .await
                .map_err(|e| NatsError::jetstream(format!("publish job {id} to {subject}"), e))?;
            pending.push((id, ack));
            if pending.len() >= IN_FLIGHT {
                drain(&mut pending, &mut out, &subject).await?;
            }
        }
        drain(&mut pending, &mut out, &subject).await?;
        Ok(out)
    }

    /// Reads batch `batch`'s results: each job's once, until every job has one.
    pub async fn collect<R: serde::de::DeserializeOwned>(
        &self,
        batch: &Batch,
    ) -> Result<Collector<R>, NatsError> {
        Collector::open(self, batch).await
    }

    /// A worker taking jobs of every batch from the shared consumer.
    pub async fn worker(&self) -> Result<Worker, NatsError> {
        Ok(Worker::new(
            self.consumer().await?,
            self.js.clone(),
            Arc::clone(&self.config),
        ))
    }

    /// Removes batch `batch`'s remaining jobs and its results: after it completed, failed or was
    /// abandoned.
    pub async fn clear(&self, batch: &str) -> Result<(), NatsError> {
        check_token("batch", batch)?;
        for (stream, subject) in [
            (&self.jobs, self.config.jobs_subject(batch)),
            (&self.results, self.config.results_subject(batch)),
        ] {
            stream
                .purge()
                .filter(subject.clone())
                .await
                .map_err(|e| NatsError::jetstream(format!("purge {subject}"), e))?;
        }
        Ok(())
    }

    /// Deletes the queue's streams (and with them its consumer, jobs and results).
    pub async fn delete(self) -> Result<(), NatsError> {
        for name in [self.config.jobs_stream(), self.config.results_stream()] {
            self.js
                .delete_stream(&name)
                .await
                .map_err(|e| NatsError::jetstream(format!("delete stream {name}"), e))?;
        }
        Ok(())
    }

    /// The workers' consumer, created when missing and brought to this config's `ack_wait`
    /// and `max_deliver` when an earlier run created it with others (the server applies the
    /// change to jobs delivered from then on).
    async fn consumer(&self) -> Result<PullConsumer, NatsError> {
        let name = self.config.consumer();
        let config = pull::Config {
            durable_name: Some(name.clone()),
            ack_policy: AckPolicy::Explicit,
            ack_wait: self.config.ack_wait,
            max_deliver: self.config.max_deliver,
            ..Default::default()
        };
        let mut consumer: PullConsumer = self
            .jobs
            .get_or_create_consumer(&name, config.clone())
            .await
            .map_err(|e| NatsError::jetstream(format!("create consumer {name}"), e))?;
        let current = &consumer.cached_info().config;
        if current.ack_wait != config.ack_wait || current.max_deliver != config.max_deliver {
            tracing::info!(
                consumer = %name,
                ack_wait = ?config.ack_wait,
                max_deliver = config.max_deliver,
                "work queue consumer updated"
            );
            consumer = self
                .jobs
                .create_consumer(config)
                .await
                .map_err(|e| NatsError::jetstream(format!("update consumer {name}"), e))?;
        }
        Ok(consumer)
    }

    /// The `ack_wait` and `max_deliver` the server holds for the workers' consumer.
    pub async fn consumer_limits(&self) -> Result<(Duration, i64), NatsError> {
        let mut consumer = self.consumer().await?;
        let name = self.config.consumer();
        let info = consumer
            .info()
            .await
            .map_err(|e| NatsError::jetstream(format!("consumer {name}"), e))?;
        Ok((info.config.ack_wait, info.config.max_deliver))
    }
}

impl Batch {
    /// The batch's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Number of jobs in it.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Whether it has no job.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

/// A job on the wire.
#[derive(Serialize, Deserialize)]
struct JobEnvelope<T> {
    batch: String,
    id: u64,
    job: T,
}

/// A result on the wire.
#[derive(Serialize, Deserialize)]
struct ResultEnvelope<R> {
    batch: String,
    id: u64,
    outcome: Outcome<R>,
}

/// What became of a job.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Outcome<R> {
    /// It ran; its result.
    Done { result: R },
    /// It failed on its last allowed delivery.
    Failed { deliveries: i64, reason: String },
}

async fn drain(
    pending: &mut Vec<(u64, async_nats::jetstream::context::PublishAckFuture)>,
    out: &mut Batch,
    subject: &str,
) -> Result<(), NatsError> {
    for (id, ack) in pending.drain(..) {
        let ack = ack
            .await
            .map_err(|e| NatsError::jetstream(format!("store job {id} on {subject}"), e))?;
        out.by_sequence.insert(ack.sequence, id);
    }
    Ok(())
}

/// Refuses a name that cannot be one subject token or stream-name part.
fn check_token(field: &'static str, value: &str) -> Result<(), NatsError> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(NatsError::InvalidOption {
            field,
            value: value.to_owned(),
            reason: "must be non-empty ASCII letters, digits, `_` or `-`".to_owned(),
        })
    }
}
