//! Snapshot and restore of every piece of risk state.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{at, ts};
use rustrade_risk::{
    BreakerConfig, BreakerSnapshot, CircuitBreaker, PortfolioConfig, PortfolioRisk,
    PortfolioSnapshot, RiskConfig, SessionConfig, SessionPnl, SessionSnapshot, SymbolRisk,
    SymbolRiskSnapshot,
};

/// Counts warning events emitted while it is the default subscriber.
struct WarnCounter(Arc<AtomicUsize>);

impl tracing::Subscriber for WarnCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Runs `f` and returns its result with the number of warnings it logged.
fn warnings<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let count = Arc::new(AtomicUsize::new(0));
    let out = tracing::subscriber::with_default(WarnCounter(count.clone()), f);
    (out, count.load(Ordering::SeqCst))
}

fn breaker_config() -> BreakerConfig {
    BreakerConfig {
        loss_limit: 2,
        window: Duration::from_secs(3_600),
        cooldown: Duration::from_secs(600),
        extend_on_loss: false,
    }
}

fn json_round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> T {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

#[test]
fn a_tripped_breaker_restores_tripped_until_its_cooldown_ends() {
    let mut b = CircuitBreaker::new(breaker_config()).unwrap();
    b.record_loss(at(0));
    b.record_loss(at(0));
    let snap = json_round_trip(&b.snapshot());
    assert_eq!(snap.version, 1);

    let restored = CircuitBreaker::restore(&snap, breaker_config(), at(300)).unwrap();
    assert!(restored.is_tripped(at(300)));
    assert_eq!(
        restored.remaining_cooldown(at(300)),
        Some(Duration::from_secs(300))
    );

    let restored = CircuitBreaker::restore(&snap, breaker_config(), at(601)).unwrap();
    assert!(
        !restored.is_tripped(at(601)),
        "the cooldown expired while stopped"
    );
    assert_eq!(restored.recent_losses(), 0);
}

#[test]
fn a_breaker_keeps_its_loss_history_across_a_restart() {
    let mut b = CircuitBreaker::new(breaker_config()).unwrap();
    b.record_loss(at(0));
    let mut restored = CircuitBreaker::restore(&b.snapshot(), breaker_config(), at(10)).unwrap();
    restored.record_loss(at(20));
    assert!(restored.is_tripped(at(20)));
}

#[test]
fn a_session_from_an_earlier_day_restores_fresh() {
    let config = SessionConfig {
        loss_cap: Some(-100.0),
        ..Default::default()
    };
    let mut s = SessionPnl::new(config, ts("2024-05-01T10:00:00Z")).unwrap();
    s.record_close(-150.0, 2.0, ts("2024-05-01T10:00:00Z"))
        .unwrap();
    let snap = json_round_trip(&s.snapshot());

    let same_day = SessionPnl::restore(&snap, config, ts("2024-05-01T23:00:00Z")).unwrap();
    assert!(same_day.is_halted(ts("2024-05-01T23:00:00Z")));
    assert_eq!(same_day.net(), -152.0);
    assert_eq!(same_day.losses(), 1);

    let next_day = SessionPnl::restore(&snap, config, ts("2024-05-02T00:00:00Z")).unwrap();
    assert!(!next_day.is_halted(ts("2024-05-02T00:00:00Z")));
    assert_eq!(next_day.net(), 0.0);
    assert_eq!(next_day.session_start(), ts("2024-05-02T00:00:00Z"));
}

#[test]
fn the_daily_latch_restores_within_the_day_only() {
    let config = PortfolioConfig {
        daily_loss_limit: Some(-100.0),
        ..Default::default()
    };
    let mut p = PortfolioRisk::new(config, ts("2024-05-01T10:00:00Z")).unwrap();
    p.record_realised(-120.0, ts("2024-05-01T10:00:00Z"))
        .unwrap();
    p.record_realised(500.0, ts("2024-05-01T11:00:00Z"))
        .unwrap();
    let snap = json_round_trip(&p.snapshot());
    let restored = PortfolioRisk::restore(&snap, config, ts("2024-05-01T12:00:00Z")).unwrap();
    assert!(restored.is_latched(ts("2024-05-01T12:00:00Z")));
    assert_eq!(restored.daily_pnl(), 380.0);
    let restored = PortfolioRisk::restore(&snap, config, ts("2024-05-02T00:00:01Z")).unwrap();
    assert!(!restored.is_latched(ts("2024-05-02T00:00:01Z")));
    assert_eq!(restored.daily_pnl(), 0.0);
}

#[test]
fn unknown_versions_restore_fresh_with_a_warning() {
    let now = at(100);
    let breaker = BreakerSnapshot {
        version: 99,
        losses: vec![at(0)],
        tripped_until: Some(at(10_000)),
    };
    let (b, warned) = warnings(|| CircuitBreaker::restore(&breaker, breaker_config(), now));
    let b = b.unwrap();
    assert_eq!(warned, 1);
    assert!(!b.is_tripped(now));
    assert_eq!(b.recent_losses(), 0);

    let session = SessionSnapshot {
        version: 0,
        session_start: at(0),
        net: -500.0,
        halted: true,
        ..Default::default()
    };
    let (s, warned) = warnings(|| SessionPnl::restore(&session, SessionConfig::default(), now));
    assert_eq!(warned, 1);
    let s = s.unwrap();
    assert!(!s.is_halted(now));
    assert_eq!(s.net(), 0.0);

    let portfolio = PortfolioSnapshot {
        version: 7,
        session_start: at(0),
        daily_pnl: -1e6,
        latched: true,
    };
    let (p, warned) =
        warnings(|| PortfolioRisk::restore(&portfolio, PortfolioConfig::default(), now));
    assert_eq!(warned, 1);
    assert!(!p.unwrap().is_latched(now));

    // A snapshot written by a later format with fields we do not know still parses to its version.
    let text = r#"{"version":2,"session_start":0,"net":-1.0,"future_field":[1,2,3]}"#;
    let parsed: SessionSnapshot = serde_json::from_str(text).unwrap();
    assert_eq!(parsed.version, 2);
}

#[test]
fn a_corrupt_total_restores_fresh_with_a_warning() {
    let now = at(100);
    let session = SessionSnapshot {
        version: 1,
        session_start: at(0),
        net: f64::NAN,
        ..Default::default()
    };
    let (s, warned) = warnings(|| SessionPnl::restore(&session, SessionConfig::default(), now));
    assert_eq!(warned, 1);
    assert_eq!(s.unwrap().net(), 0.0);
}

#[test]
fn restore_refuses_an_invalid_config() {
    let bad = BreakerConfig {
        loss_limit: 0,
        ..breaker_config()
    };
    let err = CircuitBreaker::restore(&BreakerSnapshot::default(), bad, at(0)).unwrap_err();
    assert_eq!(err.field(), "breaker.loss_limit");
}

#[test]
fn symbol_risk_round_trips_through_json() {
    let config = RiskConfig::default();
    let mut r = SymbolRisk::new(&config, at(0)).unwrap();
    r.record_close(-5.0, 0.5, at(1)).unwrap();
    r.record_close(7.0, 0.5, at(2)).unwrap();
    let snap: SymbolRiskSnapshot = json_round_trip(&r.snapshot());
    let back = SymbolRisk::restore(&snap, &config, at(3)).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.snapshot(), r.snapshot());
}

#[test]
fn configs_serialise_durations_as_seconds() {
    let config = RiskConfig::default();
    let json = serde_json::to_value(config).unwrap();
    assert_eq!(json["breaker"]["window"], 3_600.0);
    assert_eq!(json["breaker"]["cooldown"], 1_800.0);
    let back: RiskConfig = serde_json::from_value(json).unwrap();
    assert_eq!(back, config);
    let bad = r#"{"breaker":{"loss_limit":3,"window":-1,"cooldown":60}}"#;
    let err = serde_json::from_str::<RiskConfig>(bad).unwrap_err();
    assert!(err.to_string().contains("got -1"), "{err}");
    let unknown = r#"{"breaker":{"loss_limit":3,"window":60,"cooldown":60,"typo":1}}"#;
    assert!(serde_json::from_str::<RiskConfig>(unknown).is_err());
}
