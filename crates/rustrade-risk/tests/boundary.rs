//! Session boundaries in fixed offsets and in time zones, across daylight-saving changes.

mod common;

use common::ts;
use proptest::prelude::*;
use rustrade_core::Timestamp;
use rustrade_risk::{PortfolioConfig, PortfolioRisk, SessionBoundary, SessionConfig, SessionPnl};

#[test]
fn a_zoned_boundary_follows_daylight_saving() {
    let ny = SessionBoundary::in_time_zone(17 * 3_600, "America/New_York").unwrap();
    // Winter: 17:00 EST = 22:00 UTC.
    assert_eq!(
        ny.session_start(ts("2024-03-08T23:00:00Z")),
        ts("2024-03-08T22:00:00Z")
    );
    // The session that spans the spring-forward change lasts 23 hours.
    let start = ny.session_start(ts("2024-03-10T12:00:00Z"));
    assert_eq!(start, ts("2024-03-09T22:00:00Z"));
    assert_eq!(ny.next_boundary(start), ts("2024-03-10T21:00:00Z"));
    // The one spanning fall-back lasts 25 hours.
    let start = ny.session_start(ts("2024-11-03T12:00:00Z"));
    assert_eq!(start, ts("2024-11-02T21:00:00Z"));
    assert_eq!(ny.next_boundary(start), ts("2024-11-03T22:00:00Z"));
}

#[test]
fn a_boundary_in_a_skipped_hour_uses_the_offset_before_the_gap() {
    // 02:30 does not exist in New York on 2024-03-10; EST (-5) puts it at 07:30 UTC.
    let b = SessionBoundary::in_time_zone(2 * 3_600 + 1_800, "America/New_York").unwrap();
    assert_eq!(
        b.next_boundary(ts("2024-03-10T05:00:00Z")),
        ts("2024-03-10T07:30:00Z")
    );
}

#[test]
fn a_boundary_in_a_repeated_hour_is_its_first_occurrence() {
    // 01:30 happens twice in New York on 2024-11-03: first at 05:30 UTC (EDT).
    let b = SessionBoundary::in_time_zone(3_600 + 1_800, "America/New_York").unwrap();
    assert_eq!(
        b.next_boundary(ts("2024-11-03T04:00:00Z")),
        ts("2024-11-03T05:30:00Z")
    );
    assert_eq!(
        b.session_start(ts("2024-11-03T06:00:00Z")),
        ts("2024-11-03T05:30:00Z")
    );
}

#[test]
fn the_session_halt_rolls_over_at_the_zoned_boundary_to_the_nanosecond() {
    let config = SessionConfig {
        loss_cap: Some(-10.0),
        boundary: SessionBoundary::in_time_zone(17 * 3_600, "America/New_York").unwrap(),
    };
    let mut s = SessionPnl::new(config, ts("2024-07-01T12:00:00Z")).unwrap();
    s.record_close(-20.0, 0.0, ts("2024-07-01T12:00:00Z"))
        .unwrap();
    let boundary = ts("2024-07-01T21:00:00Z");
    assert!(s.is_halted(Timestamp::from_nanos(boundary.as_nanos() - 1)));
    assert!(!s.is_halted(boundary));

    let mut p = PortfolioRisk::new(
        PortfolioConfig {
            daily_loss_limit: Some(-10.0),
            boundary: config.boundary,
            ..Default::default()
        },
        ts("2024-07-01T12:00:00Z"),
    )
    .unwrap();
    p.record_realised(-20.0, ts("2024-07-01T12:00:00Z"))
        .unwrap();
    assert!(p.is_latched(Timestamp::from_nanos(boundary.as_nanos() - 1)));
    assert!(!p.is_latched(boundary));
}

#[test]
fn zones_parse_and_serialise_by_name_and_bad_ones_are_refused() {
    let b = SessionBoundary::in_time_zone(0, "Europe/London").unwrap();
    let json = serde_json::to_string(&b).unwrap();
    assert_eq!(
        json,
        r#"{"time_of_day_secs":0,"utc_offset_secs":0,"time_zone":"Europe/London"}"#
    );
    assert_eq!(serde_json::from_str::<SessionBoundary>(&json).unwrap(), b);
    let fixed = serde_json::to_string(&SessionBoundary::UTC_MIDNIGHT).unwrap();
    assert_eq!(fixed, r#"{"time_of_day_secs":0,"utc_offset_secs":0}"#);

    let err = SessionBoundary::in_time_zone(0, "Mars/Olympus_Mons").unwrap_err();
    assert_eq!(err.field(), "session.boundary.time_zone");
    assert!(err.to_string().contains("Mars/Olympus_Mons"), "{err}");
    assert!(
        serde_json::from_str::<SessionBoundary>(r#"{"time_of_day_secs":0,"time_zone":"Nowhere"}"#)
            .is_err()
    );

    let mut both = b;
    both.utc_offset_secs = 3_600;
    let err = SessionPnl::new(
        SessionConfig {
            loss_cap: None,
            boundary: both,
        },
        ts("2024-01-01T00:00:00Z"),
    )
    .unwrap_err();
    assert_eq!(err.field(), "session.boundary.utc_offset_secs");
}

fn boundary() -> impl Strategy<Value = SessionBoundary> {
    let zone = prop_oneof![
        Just("America/New_York"),
        Just("Europe/London"),
        Just("Australia/Lord_Howe"),
        Just("Asia/Kolkata"),
        Just("Pacific/Chatham"),
        Just("UTC"),
    ];
    prop_oneof![
        (0u32..86_400, -86_399i32..86_400).prop_map(|(t, o)| SessionBoundary::new(t, o).unwrap()),
        (0u32..86_400, zone).prop_map(|(t, z)| SessionBoundary::in_time_zone(t, z).unwrap()),
    ]
}

proptest! {
    #[test]
    fn every_instant_lies_in_exactly_one_session(
        b in boundary(),
        now in prop_oneof![
            9 => 0i64..4_000_000_000i64,
            1 => -8_000_000_000i64..16_000_000_000i64,
        ],
        nanos in 0i64..1_000_000_000,
    ) {
        let now = Timestamp::from_nanos(now.saturating_mul(1_000_000_000).saturating_add(nanos));
        let start = b.session_start(now);
        let end = b.next_boundary(now);
        prop_assert!(start <= now && (now < end || end == Timestamp::MAX), "{:?} {:?} {:?}", start, now, end);
        if start == Timestamp::MIN || end == Timestamp::MAX {
            // Saturated at an end of the representable range.
            return Ok(());
        }
        prop_assert_eq!(b.session_start(start), start);
        prop_assert_eq!(b.session_start(end), end);
        prop_assert_eq!(b.next_boundary(start), end);
        let len = end.duration_since(start).unwrap().as_secs();
        prop_assert!((82_800..=90_000).contains(&len), "a session of {} s", len);
    }
}
