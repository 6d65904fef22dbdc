//! The coordinator's side of a [`WorkQueue`]: [`Collector`] reads one batch's results until
//! every job has one.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::pin::Pin;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use futures_util::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use super::{Batch, Outcome, ResultEnvelope, WorkQueue};
use crate::NatsError;

/// The results of one batch, each job's once, in the order they arrive.
pub struct Collector<R> {
    batch: String,
    remaining: BTreeSet<u64>,
    by_sequence: BTreeMap<u64, u64>,
    events: Pin<Box<dyn Stream<Item = Event> + Send>>,
    subject: String,
    _result: PhantomData<fn() -> R>,
}

/// What the collector listens to: results, and the server's word that a job ran out of
/// deliveries.
enum Event {
    Result(Result<Box<async_nats::jetstream::Message>, String>),
    MaxDeliveries(async_nats::Message),
}

/// The part of the server's max-deliveries advisory the collector reads.
#[derive(serde::Deserialize)]
struct MaxDeliveries {
    stream_seq: u64,
    deliveries: i64,
}

impl<R: DeserializeOwned> Collector<R> {
    pub(super) async fn open(queue: &WorkQueue, batch: &Batch) -> Result<Self, NatsError> {
        let config = &queue.config;
        let advisory = format!(
            "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{}.{}",
            config.jobs_stream(),
            config.consumer()
        );
        let advisories = queue
            .js
            .client()
            .subscribe(advisory.clone())
            .await
            .map_err(|e| NatsError::jetstream(format!("subscribe to {advisory}"), e))?;
        let subject = config.results_subject(&batch.id);
        let results = queue
            .results
            .create_consumer(pull::OrderedConfig {
                filter_subject: subject.clone(),
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(|e| NatsError::jetstream(format!("read {subject}"), e))?
            .messages()
            .await
            .map_err(|e| NatsError::jetstream(format!("read {subject}"), e))?;
        let events = futures_util::stream::select(
            results.map(|m| Event::Result(m.map(Box::new).map_err(|e| e.to_string()))),
            advisories.map(Event::MaxDeliveries),
        );
        Ok(Self {
            batch: batch.id.clone(),
            remaining: batch.jobs.clone(),
            by_sequence: batch.by_sequence.clone(),
            events: Box::pin(events),
            subject,
            _result: PhantomData,
        })
    }

    /// The next job's result as `(job id, result)`; `None` once every job has one.
    ///
    /// Ends with [`NatsError::JobFailed`] for a job that failed on its last delivery or ran out of
    /// deliveries, and with [`NatsError::Malformed`] for a result that does not decode.
    pub async fn next(&mut self) -> Option<Result<(u64, R), NatsError>> {
        while !self.remaining.is_empty() {
            let Some(event) = self.events.next().await else {
                return Some(Err(NatsError::jetstream(
                    format!("read {}", self.subject),
                    "the connection closed",
                )));
            };
            match event {
                Event::Result(Err(e)) => {
                    return Some(Err(NatsError::jetstream(
                        format!("read {}", self.subject),
                        e,
                    )));
                }
                Event::Result(Ok(message)) => {
                    if let Some(out) = self.result(&message) {
                        return Some(out);
                    }
                }
                Event::MaxDeliveries(message) => {
                    if let Some(out) = self.advisory(&message) {
                        return Some(Err(out));
                    }
                }
            }
        }
        None
    }

    /// Job ids still without a result.
    pub fn remaining(&self) -> usize {
        self.remaining.len()
    }

    fn result(
        &mut self,
        message: &async_nats::jetstream::Message,
    ) -> Option<Result<(u64, R), NatsError>> {
        let envelope: ResultEnvelope<R> = match serde_json::from_slice(&message.payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                return Some(Err(NatsError::Malformed {
                    subject: self.subject.clone(),
                    reason: format!("a result does not decode: {e}"),
                }));
            }
        };
        // Another batch's, or a second result of a job (a redelivered job run twice).
        if envelope.batch != self.batch || !self.remaining.remove(&envelope.id) {
            return None;
        }
        Some(match envelope.outcome {
            Outcome::Done { result } => Ok((envelope.id, result)),
            Outcome::Failed { deliveries, reason } => Err(NatsError::JobFailed {
                batch: self.batch.clone(),
                job: envelope.id,
                deliveries,
                reason,
            }),
        })
    }

    fn advisory(&self, message: &async_nats::Message) -> Option<NatsError> {
        let advisory: MaxDeliveries = serde_json::from_slice(&message.payload).ok()?;
        let job = *self.by_sequence.get(&advisory.stream_seq)?;
        self.remaining.contains(&job).then(|| NatsError::JobFailed {
            batch: self.batch.clone(),
            job,
            deliveries: advisory.deliveries,
            reason: "no worker finished it within ack_wait on any delivery".to_owned(),
        })
    }
}
