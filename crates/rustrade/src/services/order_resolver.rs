//! `order-resolver`: looks up, by client id, every order whose placement got no definite answer,
//! until the venue settles it.
//!
//! Each unknown order is asked about after 1 s, then after twice the previous wait, up to 30 s
//! between lookups, for as long as it stays unknown: its risk reservation stays held meanwhile
//! and nothing is sent again. The rules for what settles an order are in `recovery.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rustrade_core::ClientOrderId;
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::Driver;
use crate::recovery::{Lookup, look_up};

/// How often the service checks for unknown orders; waits are counted in these ticks.
const TICK: Duration = Duration::from_millis(250);
/// The first wait before a lookup (1 s), doubled after each one without an answer.
const FIRST_WAIT: u64 = 4;
/// The longest wait between two lookups of one order (30 s).
const MAX_WAIT: u64 = 120;

pub(crate) struct OrderResolverService {
    grace: Duration,
    driver: Arc<Driver>,
}

impl OrderResolverService {
    pub(crate) fn new(grace: Duration, driver: Arc<Driver>) -> Self {
        Self { grace, driver }
    }
}

#[async_trait::async_trait]
impl TradingService for OrderResolverService {
    fn name(&self) -> &str {
        "order-resolver"
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::Always
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        // Per order: the tick to ask at next, and the wait after that (in ticks).
        let mut schedule: BTreeMap<ClientOrderId, (u64, u64)> = BTreeMap::new();
        let mut ticker = tokio::time::interval(TICK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tick: u64 = 0;
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Ok(()),
                _ = ticker.tick() => tick += 1,
            }
            let unknown: Vec<_> = self
                .driver
                .read(|e| {
                    e.unresolved_orders()
                        .filter(|o| o.outcome_unknown)
                        .map(|o| (o.order.symbol, o.order.client_id, o.created))
                        .collect()
                })
                .unwrap_or_default();
            schedule.retain(|cid, _| unknown.iter().any(|(_, c, _)| c == cid));
            for (symbol, client_id, sent) in unknown {
                let (due, wait) = *schedule
                    .entry(client_id)
                    .or_insert((tick + FIRST_WAIT, FIRST_WAIT));
                if due > tick {
                    continue;
                }
                let answer = look_up(&self.driver, symbol, client_id, sent, self.grace).await;
                match answer {
                    Ok(Lookup::Settled) => {
                        schedule.remove(&client_id);
                    }
                    Ok(Lookup::Open) => {
                        schedule.insert(client_id, (tick + wait, (wait * 2).min(MAX_WAIT)));
                    }
                    Err(e) => {
                        tracing::warn!(%client_id, error = %e, "order lookup failed; asking again later");
                        schedule.insert(client_id, (tick + wait, (wait * 2).min(MAX_WAIT)));
                    }
                }
            }
        }
    }
}
