//! `fill-routing[<source>]`: execution reports from a [`FillSource`] into the engine.
//!
//! # The boundary
//!
//! Core's report types cannot hold a NaN or a negative size, so invalid venue data is refused
//! where it is decoded: [`decode_report`] parses a JSON report and [`validate_report`] checks
//! what the types alone do not, by the engine's rule (a fill of zero size, a fill price `<= 0`). A report refused
//! there — or a source error that says the venue sent a bad value
//! ([`ExchangeError::Value`], [`ExchangeError::Malformed`]) — is **dropped, counted and
//! logged**, and the stream goes on. Other source errors end the run as retryable, so the
//! supervisor reconnects.
//!
//! After every (re)connect, before reading the stream, the fills the venue lists after the
//! engine's cursor are applied (`recovery.rs`): a disconnect loses no fill, and fills the stream
//! repeats are applied once.
//!
//! From the moment a run ends (an error, the end of the stream, a circuit that opens) until the
//! next run has connected and caught up, the engine refuses entries (`fill_routing_down`, see
//! `degraded.rs`): new exposure whose fills could not be seen is not taken.

use std::sync::Arc;

use rustrade_core::{ExchangeError, ExecutionReport, FillSource, Symbol};
use rustrade_engine::{EntryBlock, FillField};
use rustrade_supervisor::{CancellationToken, RestartPolicy, ServiceError, TradingService};

use crate::driver::Driver;

/// Why an execution report was dropped at the boundary.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DroppedReport {
    /// The payload did not decode into a valid report (names the field and value when the
    /// refusal came from a value check).
    #[error("undecodable execution report: {reason} (payload: {payload})")]
    Undecodable {
        /// What the decoder said.
        reason: String,
        /// The payload, truncated to 256 bytes.
        payload: String,
    },
    /// A fill's quantity was zero.
    #[error("fill {fill_id}: quantity must be > 0 (got 0)")]
    ZeroQuantity {
        /// The fill's id.
        fill_id: String,
    },
    /// A fill's price was zero or negative.
    #[error("fill {fill_id}: price must be > 0 (got {price})")]
    NonPositivePrice {
        /// The fill's id.
        fill_id: String,
        /// The price.
        price: f64,
    },
    /// Another value of a fill the engine's rule refuses ([`rustrade_engine::check_fill`]).
    #[error("fill {fill_id}: {problem}")]
    InvalidFill {
        /// The fill's id.
        fill_id: String,
        /// The field and value refused.
        problem: rustrade_engine::InvalidFill,
    },
}

impl DroppedReport {
    /// Stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Undecodable { .. } => "undecodable",
            Self::ZeroQuantity { .. } => "zero_quantity",
            Self::NonPositivePrice { .. } => "non_positive_price",
            Self::InvalidFill { .. } => "invalid_fill",
        }
    }
}

/// Decodes a JSON execution report and validates it ([`validate_report`]).
///
/// ```
/// use rustrade::decode_report;
/// let bad = r#"{"type":"fill","fill_id":"1","order_id":"9","client_id":null,"symbol":"BTCUSDT",
///   "side":"buy","price":100.0,"quantity":-1.0,"fee":0.0,"fee_asset":"USDT",
///   "liquidity":"taker","time":0}"#;
/// let err = decode_report(bad.as_bytes()).unwrap_err();
/// assert!(err.to_string().contains("quantity"), "{err}");
/// ```
pub fn decode_report(payload: &[u8]) -> Result<ExecutionReport, DroppedReport> {
    let report: ExecutionReport =
        serde_json::from_slice(payload).map_err(|e| DroppedReport::Undecodable {
            reason: e.to_string(),
            payload: String::from_utf8_lossy(&payload[..payload.len().min(256)]).into_owned(),
        })?;
    validate_report(&report)?;
    Ok(report)
}

/// Checks what the report types do not, by the engine's rule for every fill
/// ([`rustrade_engine::check_fill`]): a fill has a quantity `> 0`, a price `> 0` and a finite fee.
pub fn validate_report(report: &ExecutionReport) -> Result<(), DroppedReport> {
    let ExecutionReport::Fill(f) = report else {
        return Ok(());
    };
    let Err(problem) = rustrade_engine::check_fill(f) else {
        return Ok(());
    };
    let fill_id = f.fill_id.to_string();
    Err(match problem.field {
        FillField::Price => DroppedReport::NonPositivePrice {
            fill_id,
            price: problem.value,
        },
        FillField::Quantity if problem.value == 0.0 => DroppedReport::ZeroQuantity { fill_id },
        _ => DroppedReport::InvalidFill { fill_id, problem },
    })
}

pub(crate) struct FillRoutingService {
    name: String,
    source: tokio::sync::Mutex<Box<dyn FillSource>>,
    symbols: Vec<Symbol>,
    driver: Arc<Driver>,
}

impl FillRoutingService {
    pub(crate) fn new(
        source: Box<dyn FillSource>,
        symbols: Vec<Symbol>,
        driver: Arc<Driver>,
    ) -> Self {
        Self {
            name: format!("fill-routing[{}]", source.name()),
            source: tokio::sync::Mutex::new(source),
            symbols,
            driver,
        }
    }

    fn drop_report(&self, label: &'static str, why: &dyn std::fmt::Display) {
        self.driver.report_dropped(label, why);
    }
}

#[async_trait::async_trait]
impl TradingService for FillRoutingService {
    fn name(&self) -> &str {
        &self.name
    }

    fn restart_policy(&self) -> RestartPolicy {
        RestartPolicy::OnFailure
    }

    async fn run(&self, cancel: CancellationToken) -> Result<(), ServiceError> {
        let outcome = self.route(&cancel).await;
        if !cancel.is_cancelled() {
            self.driver
                .report_condition(EntryBlock::FillRouting, true)
                .await;
        }
        outcome
    }
}

impl FillRoutingService {
    /// One connection: connect, catch up, then route the stream until it ends or fails.
    async fn route(&self, cancel: &CancellationToken) -> Result<(), ServiceError> {
        let mut source = self.source.lock().await;
        source
            .connect()
            .await
            .map_err(|e| ServiceError::retryable_from("fill source connect", e))?;
        // Fills made while the stream was down (or before it first connected) come from the
        // venue's history; those the stream then repeats are recognised by id.
        let caught_up = crate::recovery::catch_up_fills(&self.driver, &self.symbols)
            .await
            .map_err(|e| ServiceError::retryable_from("fill catch-up", e))?;
        if caught_up > 0 {
            tracing::info!(source = %self.name, fills = caught_up, "fills caught up after connecting");
        }
        self.driver
            .report_condition(EntryBlock::FillRouting, false)
            .await;
        // One cancellation waiter for the whole run: registering and dropping one per message
        // cost two locks of the token's tree per message.
        let cancelled = cancel.cancelled();
        tokio::pin!(cancelled);
        loop {
            let next = tokio::select! {
                biased;
                () = &mut cancelled => return Ok(()),
                n = source.next_report() => n,
            };
            match next {
                Ok(Some(report)) => {
                    if let Err(e) = validate_report(&report) {
                        self.drop_report(e.label(), &e);
                        continue;
                    }
                    if let ExecutionReport::Fill(fill) = report {
                        // Left behind the fill cursor if the record cannot be read: the
                        // reconnect's catch-up lists it again.
                        self.driver
                            .apply_fills(vec![fill])
                            .await
                            .map_err(|e| ServiceError::retryable_from("applied-fill record", e))?;
                    } else {
                        self.driver
                            .step(move |engine, _| engine.handle_report(&report))
                            .await;
                    }
                }
                Ok(None) => return Ok(()),
                Err(e @ (ExchangeError::Value(_) | ExchangeError::Malformed { .. })) => {
                    self.drop_report("invalid_value", &e);
                }
                Err(e) => return Err(ServiceError::retryable_from("fill source", e)),
            }
        }
    }
}
