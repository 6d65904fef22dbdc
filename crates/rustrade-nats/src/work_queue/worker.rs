//! The worker's side of a [`WorkQueue`](super::WorkQueue): [`Worker`] takes one job at a time as
//! a [`Lease`], which ends in exactly one of complete, fail or release.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::context::Context;
use async_nats::jetstream::message::PublishMessage;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{JobEnvelope, Outcome, ResultEnvelope, WorkQueueConfig};
use crate::NatsError;

/// Takes jobs from a queue's shared consumer, one at a time.
pub struct Worker {
    consumer: PullConsumer,
    js: Context,
    config: Arc<WorkQueueConfig>,
}

/// One delivered job, held until [`Lease::complete`], [`Lease::fail`] or [`Lease::release`]. A
/// lease dropped without either (the process died) is delivered again after `ack_wait`.
pub struct Lease<T> {
    job: T,
    batch: String,
    id: u64,
    delivered: i64,
    message: async_nats::jetstream::Message,
    js: Context,
    config: Arc<WorkQueueConfig>,
}

impl Worker {
    pub(super) fn new(consumer: PullConsumer, js: Context, config: Arc<WorkQueueConfig>) -> Self {
        Self {
            consumer,
            js,
            config,
        }
    }

    /// The next job, or `None` when none arrived within `wait` (at least 1 ms). A job whose body
    /// does not decode as `T` is failed for good (its batch's collector reports it) and skipped.
    pub async fn next<T: DeserializeOwned>(
        &self,
        wait: Duration,
    ) -> Result<Option<Lease<T>>, NatsError> {
        loop {
            let mut batch = self
                .consumer
                .batch()
                .max_messages(1)
                .expires(wait.max(Duration::from_millis(1)))
                .messages()
                .await
                .map_err(|e| NatsError::jetstream("pull a job", e))?;
            let message = match batch.next().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(NatsError::jetstream("pull a job", e)),
                Some(Ok(message)) => message,
            };
            match self.lease(message).await? {
                Some(lease) => return Ok(Some(lease)),
                None => continue,
            }
        }
    }

    /// `message` as a lease, or `None` after refusing a body that does not decode.
    async fn lease<T: DeserializeOwned>(
        &self,
        message: async_nats::jetstream::Message,
    ) -> Result<Option<Lease<T>>, NatsError> {
        let delivered = message.info().map(|i| i.delivered).unwrap_or(1);
        // Decoded straight into `T` (not through a JSON value), so numbers arrive exactly as sent.
        let decoded = serde_json::from_slice::<JobEnvelope<T>>(&message.payload);
        let ids = serde_json::from_slice::<JobEnvelope<serde::de::IgnoredAny>>(&message.payload);
        let (batch, id, job) = match (decoded, ids) {
            (Ok(e), _) => (e.batch, e.id, Some(e.job)),
            (Err(e), Ok(ids)) => {
                tracing::warn!(subject = %message.subject, id = ids.id, error = %e,
                    "a job that does not decode fails for good");
                (ids.batch, ids.id, None)
            }
            (Err(e), Err(_)) => {
                tracing::warn!(subject = %message.subject, error = %e,
                    "a message that is not a job is dropped");
                message
                    .ack_with(AckKind::Term)
                    .await
                    .map_err(|e| NatsError::jetstream("terminate a malformed job", e))?;
                return Ok(None);
            }
        };
        let lease = Lease {
            job: (),
            batch,
            id,
            delivered,
            message,
            js: self.js.clone(),
            config: Arc::clone(&self.config),
        };
        match job {
            Some(job) => Ok(Some(lease.with_job(job))),
            None => {
                lease.finish_failed("the job does not decode").await?;
                Ok(None)
            }
        }
    }
}

impl<T> Lease<T> {
    /// The job.
    pub fn job(&self) -> &T {
        &self.job
    }

    /// The batch it belongs to.
    pub fn batch(&self) -> &str {
        &self.batch
    }

    /// Its id within the batch.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Which delivery this is (1 for the first).
    pub fn delivered(&self) -> i64 {
        self.delivered
    }

    /// Runs `work` to its end while telling the server, every third of `ack_wait`, that the job
    /// is still in progress, so a job longer than `ack_wait` stays with this worker.
    pub async fn keep_alive<F: Future>(&self, work: F) -> F::Output {
        let period = (self.config.ack_wait / 3).max(Duration::from_millis(10));
        let mut work = pin!(work);
        loop {
            match select(work.as_mut(), pin!(tokio::time::sleep(period))).await {
                Either::Left((out, _)) => return out,
                Either::Right(((), _)) => {
                    if let Err(e) = self.message.ack_with(AckKind::Progress).await {
                        tracing::warn!(batch = %self.batch, id = self.id, error = %e,
                            "in-progress ack not sent");
                    }
                }
            }
        }
    }

    /// Publishes `result`, waits until the server has stored it, then acknowledges the job
    /// (and waits for the server to confirm that too).
    pub async fn complete<R: Serialize>(self, result: &R) -> Result<(), NatsError> {
        self.publish(Outcome::Done { result }, "r").await?;
        self.message
            .double_ack()
            .await
            .map_err(|e| NatsError::jetstream(format!("acknowledge job {}", self.id), e))
    }

    /// Gives the job up because running it failed with `reason`: on its last allowed delivery
    /// the failure is published (the batch fails with it) and the job is removed; before that it
    /// is delivered again after a pause.
    pub async fn fail(self, reason: &str) -> Result<(), NatsError> {
        if self.delivered >= self.config.max_deliver {
            return self.finish_failed(reason).await;
        }
        let pause = (self.config.ack_wait / 10).min(Duration::from_secs(5));
        self.message
            .ack_with(AckKind::Nak(Some(pause)))
            .await
            .map_err(|e| NatsError::jetstream(format!("return job {}", self.id), e))
    }

    /// Hands the job back unrun (shutting down): the server delivers it to another worker at
    /// once.
    pub async fn release(self) -> Result<(), NatsError> {
        self.message
            .ack_with(AckKind::Nak(None))
            .await
            .map_err(|e| NatsError::jetstream(format!("release job {}", self.id), e))
    }

    fn with_job<U>(self, job: U) -> Lease<U> {
        Lease {
            job,
            batch: self.batch,
            id: self.id,
            delivered: self.delivered,
            message: self.message,
            js: self.js,
            config: self.config,
        }
    }

    async fn finish_failed(self, reason: &str) -> Result<(), NatsError> {
        let outcome: Outcome<()> = Outcome::Failed {
            deliveries: self.delivered,
            reason: reason.to_owned(),
        };
        self.publish(outcome, "f").await?;
        self.message
            .ack_with(AckKind::Term)
            .await
            .map_err(|e| NatsError::jetstream(format!("terminate job {}", self.id), e))
    }

    async fn publish<R: Serialize>(
        &self,
        outcome: Outcome<R>,
        kind: &str,
    ) -> Result<(), NatsError> {
        let subject = self.config.results_subject(&self.batch);
        let body = serde_json::to_vec(&ResultEnvelope {
            batch: self.batch.clone(),
            id: self.id,
            outcome,
        })
        .map_err(|e| NatsError::Malformed {
            subject: subject.clone(),
            reason: format!("result of job {} does not encode: {e}", self.id),
        })?;
        self.js
            .send_publish(
                subject.clone(),
                PublishMessage::build()
                    .payload(body.into())
                    .message_id(format!("{}.{}.{kind}", self.batch, self.id)),
            )
            .await
            .map_err(|e| NatsError::jetstream(format!("publish result to {subject}"), e))?
            .await
            .map_err(|e| NatsError::jetstream(format!("store result on {subject}"), e))?;
        Ok(())
    }
}
