//! `order-reaper` and `risk-sweep`: run the engine's timer on a period.
//!
//! The engine decides everything on a tick (session rollover, breaker cooldown, TTL of resting
//! entries); these services only give it the time. The reaper runs at a fraction of the order
//! TTL so a stale order is cancelled soon after it expires; the sweep runs every
//! `timer_interval` and its halt/resume transitions are logged and exported as the
//! `rustrade_risk_halted{symbol}` gauge by the driver.

use std::sync::Arc;
use std::time::Duration;

use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::Driver;

pub(crate) struct TimerService {
    name: &'static str,
    period: Duration,
    driver: Arc<Driver>,
}

impl TimerService {
    pub(crate) fn new(name: &'static str, period: Duration, driver: Arc<Driver>) -> Self {
        Self {
            name,
            period: period.max(Duration::from_millis(1)),
            driver,
        }
    }
}

#[async_trait::async_trait]
impl TradingService for TimerService {
    fn name(&self) -> &str {
        self.name
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::Always
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let mut ticker = tokio::time::interval(self.period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticker.tick() => {
                    self.driver.step(|engine, now| engine.handle_timer(now)).await;
                }
            }
        }
    }
}
