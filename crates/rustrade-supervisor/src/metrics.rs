//! Names of the metrics the supervisor emits through core's
//! [`MetricsSink`](rustrade_core::MetricsSink).
//!
//! Per-service metrics carry a `service` label with the service's name; terminations also carry a
//! `reason` label ([`TerminationReason::as_str`](crate::TerminationReason::as_str)).
//!
//! # Invariants
//!
//! - `SERVICES_ACTIVE = SERVICES_SPAWNED_TOTAL − Σ SERVICES_TERMINATED_TOTAL` at every update:
//!   both counters and the gauge are written under one lock.
//! - Every failure counted in `SERVICE_PANICS_TOTAL` is also counted in `SERVICE_FAILURES_TOTAL`.

/// Counter: services handed to the supervisor.
pub const SERVICES_SPAWNED_TOTAL: &str = "rustrade_services_spawned_total";
/// Counter `{service, reason}`: services that reached the terminated phase.
pub const SERVICES_TERMINATED_TOTAL: &str = "rustrade_services_terminated_total";
/// Gauge: services spawned and not yet terminated (running, starting, backing off or stopping).
pub const SERVICES_ACTIVE: &str = "rustrade_services_active";
/// Counter `{service}`: restarts after a run ended.
pub const SERVICE_RESTARTS_TOTAL: &str = "rustrade_service_restarts_total";
/// Counter `{service}`: runs that ended in an error or a panic.
pub const SERVICE_FAILURES_TOTAL: &str = "rustrade_service_failures_total";
/// Counter `{service}`: runs that ended in a panic.
pub const SERVICE_PANICS_TOTAL: &str = "rustrade_service_panics_total";
