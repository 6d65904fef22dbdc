//! `execution[<brain>]`: one brain's decision loop.
//!
//! For every market event: mark the engine (first service to see it), skip symbols the brain
//! does not own, call the brain with its position, publish a non-hold decision as a
//! [`Signal`] **before** the gates, then hand the decision to the engine, which gates it and
//! emits the orders the driver sends.
//!
//! A brain error is logged and counted and the loop goes on. A brain panic unwinds this
//! service's task; the supervisor records it and restarts the service, which resumes from the
//! same bus receiver (the receiver is returned to its slot while unwinding), so a sibling brain
//! and this brain's later events are unaffected.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use rustrade_core::{Brain, MarketDataBus, MarketEvent, MetricsSink, Signal, SignalBus};
use rustrade_engine::{BrainId, BrainRoster};
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use crate::driver::{BrainCounters, Driver, lock};
use crate::metrics::names;
use crate::progress::Through;

pub(crate) struct ExecutionService {
    name: String,
    id: BrainId,
    brain: Arc<dyn Brain>,
    roster: Arc<BrainRoster>,
    driver: Arc<Driver>,
    bus: MarketDataBus,
    signals: SignalBus,
    counters: Arc<BrainCounters>,
    rx: Mutex<Option<Receiver<MarketEvent>>>,
    brain_name: Arc<str>,
    /// Per symbol, the newest event this brain was handed before the bot started: events up
    /// to it that a resumed source delivers again are passed over.
    seen_before: Through,
}

impl ExecutionService {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: BrainId,
        brain: Arc<dyn Brain>,
        roster: Arc<BrainRoster>,
        driver: Arc<Driver>,
        bus: MarketDataBus,
        rx: Receiver<MarketEvent>,
        signals: SignalBus,
        seen_before: Through,
    ) -> Self {
        let counters = Arc::clone(&driver.brain_counters[id.index()]);
        Self {
            name: format!("execution[{}]", brain.name()),
            brain_name: Arc::from(brain.name()),
            id,
            brain,
            roster,
            driver,
            bus,
            signals,
            counters,
            rx: Mutex::new(Some(rx)),
            seen_before,
        }
    }

    async fn on_event(&self, event: MarketEvent) {
        if self
            .seen_before
            .get(&event.symbol)
            .is_some_and(|t| event.time <= *t)
        {
            self.counters.seen_before.fetch_add(1, Ordering::Relaxed);
            self.driver.metrics.counter(
                names::EVENTS_SEEN_BEFORE,
                &[("brain", self.brain_name.as_ref())],
                1,
            );
            return;
        }
        let position = self.driver.mark_and_position(&event, self.id).await;
        if !self.roster.routes(self.id.index(), &event.symbol) {
            return;
        }
        self.counters.events.fetch_add(1, Ordering::Relaxed);
        self.driver.metrics.counter(
            names::EVENTS_PROCESSED,
            &[("brain", self.brain_name.as_ref())],
            1,
        );
        let account = crate::driver::LiveAccount {
            driver: &self.driver,
            brain: self.id,
            symbol: event.symbol,
        };
        let decided = self.brain.on_event_in(
            &event,
            &rustrade_core::BrainContext::new(&position, &account),
        );
        let decision = match decided {
            Ok(d) => d,
            Err(e) => {
                self.counters.errors.fetch_add(1, Ordering::Relaxed);
                self.driver.metrics.counter(
                    names::BRAIN_ERRORS,
                    &[("brain", self.brain_name.as_ref())],
                    1,
                );
                tracing::warn!(brain = %self.brain_name, symbol = %event.symbol, error = %e, "brain error");
                self.held(&event).await;
                return;
            }
        };
        if decision.is_hold() {
            self.held(&event).await;
            return;
        }
        self.counters.non_hold.fetch_add(1, Ordering::Relaxed);
        self.driver.metrics.counter(
            names::DECISIONS,
            &[
                ("brain", self.brain_name.as_ref()),
                ("symbol", event.symbol.as_str()),
            ],
            1,
        );
        self.signals.publish(Signal {
            brain: Arc::clone(&self.brain_name),
            symbol: event.symbol,
            time: event.time,
            reference_price: event.reference_price(),
            decision: decision.clone(),
        });
        let id = self.id;
        let progress =
            self.driver
                .journal
                .progress
                .decided(&self.brain_name, event.symbol, event.time);
        self.driver
            .step_with_progress(Some(progress), move |engine, now| {
                engine.handle_decision(id, &event, &decision, now)
            })
            .await;
    }

    /// Moves the brain's progress past an event it held on (or failed on), writing the
    /// gathered progress once enough of it is in memory only.
    async fn held(&self, event: &MarketEvent) {
        let due = self
            .driver
            .journal
            .progress
            .held(&self.brain_name, event.symbol, event.time);
        if due {
            self.driver.write_progress().await;
        }
    }
}

/// Holds the bus receiver while a run uses it and puts it back when the run ends, including
/// when it unwinds from a brain panic.
struct RxGuard<'a> {
    slot: &'a Mutex<Option<Receiver<MarketEvent>>>,
    rx: Option<Receiver<MarketEvent>>,
}

impl Drop for RxGuard<'_> {
    fn drop(&mut self) {
        if let Some(rx) = self.rx.take() {
            *lock(self.slot) = Some(rx);
        }
    }
}

#[async_trait::async_trait]
impl TradingService for ExecutionService {
    fn name(&self) -> &str {
        &self.name
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::OnFailure
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let rx = lock(&self.rx)
            .take()
            .unwrap_or_else(|| self.bus.subscribe());
        let mut guard = RxGuard {
            slot: &self.rx,
            rx: Some(rx),
        };
        // One cancellation waiter for the whole run: registering and dropping one per message
        // cost two locks of the token's tree per message.
        let cancelled = cancel.cancelled();
        tokio::pin!(cancelled);
        loop {
            let Some(rx) = guard.rx.as_mut() else {
                return Ok(());
            };
            let received = tokio::select! {
                biased;
                () = &mut cancelled => return Ok(()),
                r = rx.recv() => r,
            };
            match received {
                Ok(event) => self.on_event(event).await,
                Err(RecvError::Lagged(missed)) => {
                    self.bus.record_lag(missed);
                    self.counters.lagged.fetch_add(missed, Ordering::Relaxed);
                    self.driver.metrics.counter(
                        names::BUS_LAGGED,
                        &[("consumer", self.name.as_str())],
                        missed,
                    );
                    tracing::warn!(service = %self.name, missed, "market data consumer lagged");
                }
                Err(RecvError::Closed) => return Ok(()),
            }
        }
    }
}
