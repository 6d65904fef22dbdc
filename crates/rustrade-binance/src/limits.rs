//! [`RateBudget`]: the venue's rate limits as we track them, so we wait before Binance refuses.
//!
//! Binance counts request weight per IP and orders per account in fixed windows (per minute,
//! per 10 s, per day) and reports the running totals on every answer
//! (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`, ...). The budget takes those totals as the
//! truth, adds the cost of each request it admits (so concurrent requests count before their
//! answers arrive), and when a request would cross `headroom × limit` it says how long to wait
//! for the window to roll. A 429 stops requests until its `Retry-After` has passed; a 418 (IP
//! ban) stops them until the ban ends. Time is an argument (server epoch ms) throughout.

use std::time::Duration;

use crate::BinanceError;
use crate::parse::{Obj, ParseError};

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Request weight per IP (`REQUEST_WEIGHT`).
    RequestWeight,
    /// New orders per account (`ORDERS`).
    Orders,
    /// Raw request count per IP (`RAW_REQUESTS`).
    RawRequests,
}

/// One venue limit: at most `limit` of `kind` per `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// What is counted.
    pub kind: LimitKind,
    /// Window length (windows start at multiples of it, in server time).
    pub interval: Duration,
    /// Most allowed per window.
    pub limit: u32,
}

impl RateLimit {
    /// The documented Spot defaults, used until `exchangeInfo` brings the live values.
    pub fn spot_defaults() -> Vec<Self> {
        vec![
            Self::new(LimitKind::RequestWeight, Duration::from_secs(60), 6_000),
            Self::new(LimitKind::Orders, Duration::from_secs(10), 50),
            Self::new(LimitKind::Orders, Duration::from_secs(86_400), 160_000),
        ]
    }

    /// The USD-M futures defaults (2,400 weight and 1,200 orders a minute), used until
    /// `/fapi/v1/exchangeInfo` brings the live values.
    pub fn usdm_defaults() -> Vec<Self> {
        vec![
            Self::new(LimitKind::RequestWeight, Duration::from_secs(60), 2_400),
            Self::new(LimitKind::Orders, Duration::from_secs(60), 1_200),
        ]
    }

    /// A limit.
    pub const fn new(kind: LimitKind, interval: Duration, limit: u32) -> Self {
        Self {
            kind,
            interval,
            limit,
        }
    }

    /// Reads the `rateLimits` array of `exchangeInfo`; entries of unknown types are skipped.
    pub fn parse_list(v: &serde_json::Value) -> Result<Vec<Self>, ParseError> {
        let Some(items) = v.as_array() else {
            return Err(ParseError::new("rateLimits", Some(v), "expected an array"));
        };
        let mut out = Vec::new();
        for item in items {
            let o = Obj::root(item)?;
            let kind = match o.str("rateLimitType")? {
                "REQUEST_WEIGHT" => LimitKind::RequestWeight,
                "ORDERS" => LimitKind::Orders,
                "RAW_REQUESTS" => LimitKind::RawRequests,
                _ => continue,
            };
            let unit = match o.str("interval")? {
                "SECOND" => 1,
                "MINUTE" => 60,
                "HOUR" => 3_600,
                "DAY" => 86_400,
                _ => return Err(o.bad("interval", "unknown interval")),
            };
            let num = u64::try_from(o.int("intervalNum")?)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| o.bad("intervalNum", "must be a positive integer"))?;
            let limit = u32::try_from(o.int("limit")?)
                .map_err(|_| o.bad("limit", "must fit 0..=u32::MAX"))?;
            out.push(Self::new(kind, Duration::from_secs(unit * num), limit));
        }
        Ok(out)
    }

    /// The header suffix Binance uses for this window (`1M`, `10S`, `1D`).
    fn suffix(&self) -> String {
        let s = self.interval.as_secs().max(1);
        let (n, unit) = if s.is_multiple_of(86_400) {
            (s / 86_400, 'D')
        } else if s.is_multiple_of(3_600) {
            (s / 3_600, 'H')
        } else if s.is_multiple_of(60) {
            (s / 60, 'M')
        } else {
            (s, 'S')
        };
        format!("{n}{unit}")
    }

    fn interval_ms(&self) -> i64 {
        i64::try_from(self.interval.as_millis())
            .unwrap_or(i64::MAX)
            .max(1)
    }
}

/// The budget's answer to "may this request go now?".
#[derive(Debug)]
pub enum Admission {
    /// Send it (its cost is now counted).
    Go,
    /// Wait this long, then ask again.
    Wait(Duration),
    /// Do not send it: rate limited or banned.
    Refuse(BinanceError),
}

/// Usage of one limit, for health reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// The limit.
    pub limit: RateLimit,
    /// Counted in the current window.
    pub used: u32,
}

/// A snapshot of the budget for health and status pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateStatus {
    /// Time left on an IP ban (HTTP 418); `Some` means no request is sent.
    pub banned_for: Option<Duration>,
    /// Time left of a 429's `Retry-After`; `Some` means no request is sent.
    pub backoff_for: Option<Duration>,
    /// Each tracked limit and its usage in the current window.
    pub usage: Vec<Usage>,
}

impl RateStatus {
    /// Whether requests may be sent now.
    pub fn is_open(&self) -> bool {
        self.banned_for.is_none() && self.backoff_for.is_none()
    }
}

#[derive(Debug, Clone)]
struct Tracked {
    limit: RateLimit,
    suffix: String,
    used: u32,
    window: i64,
}

/// Local accounting of the venue's limits (see the module doc).
#[derive(Debug)]
pub struct RateBudget {
    tracked: Vec<Tracked>,
    headroom: f64,
    max_wait: Duration,
    backoff_until: Option<i64>,
    banned_until: Option<i64>,
}

/// Wait used after a 429 without a `Retry-After` header.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);
/// Ban assumed after a 418 without a `Retry-After` header (the shortest Binance gives).
const DEFAULT_BAN: Duration = Duration::from_secs(120);

impl RateBudget {
    /// A budget over `limits`, using at most `headroom` (0–1] of each, waiting at most
    /// `max_wait` for a window to roll.
    pub fn new(limits: Vec<RateLimit>, headroom: f64, max_wait: Duration) -> Self {
        let mut b = Self {
            tracked: Vec::new(),
            headroom: if headroom > 0.0 && headroom <= 1.0 {
                headroom
            } else {
                0.9
            },
            max_wait,
            backoff_until: None,
            banned_until: None,
        };
        b.set_limits(limits);
        b
    }

    /// Replaces the limits (live values from `exchangeInfo`), keeping usage of unchanged ones.
    pub fn set_limits(&mut self, limits: Vec<RateLimit>) {
        let old = std::mem::take(&mut self.tracked);
        self.tracked = limits
            .into_iter()
            .map(|limit| {
                let prev = old
                    .iter()
                    .find(|t| t.limit.kind == limit.kind && t.limit.interval == limit.interval);
                Tracked {
                    suffix: limit.suffix(),
                    used: prev.map_or(0, |t| t.used),
                    window: prev.map_or(i64::MIN, |t| t.window),
                    limit,
                }
            })
            .collect();
    }

    /// Whether a request of `weight` (and, if `order`, one new order) may go at `now_ms`.
    pub fn admit(&mut self, now_ms: i64, weight: u32, order: bool) -> Admission {
        if let Some(left) = remaining(self.banned_until, now_ms) {
            return Admission::Refuse(BinanceError::Banned { remaining: left });
        }
        self.banned_until = None;
        if let Some(left) = remaining(self.backoff_until, now_ms) {
            return Admission::Refuse(BinanceError::RateLimited {
                retry_after: Some(left),
            });
        }
        self.backoff_until = None;
        let mut wait_ms = 0i64;
        for t in &mut self.tracked {
            let len = t.limit.interval_ms();
            let window = now_ms.div_euclid(len);
            if window != t.window {
                t.window = window;
                t.used = 0;
            }
            let cost = cost(t.limit.kind, weight, order);
            let cap = (f64::from(t.limit.limit) * self.headroom).floor() as u32;
            if cost > 0 && t.used.saturating_add(cost) > cap {
                // Past the next window's start, plus a margin for the estimate of the offset.
                let until = (window + 1) * len + 10 + len / 100;
                wait_ms = wait_ms.max(until - now_ms);
            }
        }
        if wait_ms > 0 {
            let wait = Duration::from_millis(wait_ms.unsigned_abs());
            if wait > self.max_wait {
                return Admission::Refuse(BinanceError::RateLimited {
                    retry_after: Some(wait),
                });
            }
            return Admission::Wait(wait);
        }
        for t in &mut self.tracked {
            t.used = t.used.saturating_add(cost(t.limit.kind, weight, order));
        }
        Admission::Go
    }

    /// Takes the venue's running totals from the headers of an answer received at `now_ms`.
    /// Names must be lowercase (as the HTTP client gives them).
    pub fn observe<'a>(
        &mut self,
        now_ms: i64,
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        for (name, value) in headers {
            let (kind, suffix) = if let Some(s) = name.strip_prefix("x-mbx-used-weight-") {
                (LimitKind::RequestWeight, s)
            } else if let Some(s) = name.strip_prefix("x-mbx-order-count-") {
                (LimitKind::Orders, s)
            } else {
                continue;
            };
            let Ok(used) = value.trim().parse::<u32>() else {
                continue;
            };
            for t in &mut self.tracked {
                if t.limit.kind == kind && t.suffix.eq_ignore_ascii_case(suffix) {
                    t.window = now_ms.div_euclid(t.limit.interval_ms());
                    t.used = used;
                }
            }
        }
    }

    /// The venue answered 429: no request until `retry_after` (1 s when it did not say).
    pub fn on_too_many(&mut self, now_ms: i64, retry_after: Option<Duration>) {
        self.backoff_until = Some(now_ms + ms(retry_after.unwrap_or(DEFAULT_BACKOFF)));
    }

    /// The venue answered 418: this IP is banned; no request until the ban ends.
    pub fn on_banned(&mut self, now_ms: i64, retry_after: Option<Duration>) -> Duration {
        let ban = retry_after.unwrap_or(DEFAULT_BAN);
        self.banned_until = Some(now_ms + ms(ban));
        ban
    }

    /// The state of the budget at `now_ms`.
    pub fn status(&self, now_ms: i64) -> RateStatus {
        RateStatus {
            banned_for: remaining(self.banned_until, now_ms),
            backoff_for: remaining(self.backoff_until, now_ms),
            usage: self
                .tracked
                .iter()
                .map(|t| Usage {
                    limit: t.limit,
                    used: if t.window == now_ms.div_euclid(t.limit.interval_ms()) {
                        t.used
                    } else {
                        0
                    },
                })
                .collect(),
        }
    }
}

fn cost(kind: LimitKind, weight: u32, order: bool) -> u32 {
    match kind {
        LimitKind::RequestWeight => weight,
        LimitKind::Orders => u32::from(order),
        LimitKind::RawRequests => 1,
    }
}

fn remaining(until: Option<i64>, now_ms: i64) -> Option<Duration> {
    until
        .filter(|u| *u > now_ms)
        .map(|u| Duration::from_millis((u - now_ms).unsigned_abs()))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: u32) -> RateBudget {
        RateBudget::new(
            vec![RateLimit::new(
                LimitKind::RequestWeight,
                Duration::from_secs(60),
                limit,
            )],
            1.0,
            Duration::from_secs(120),
        )
    }

    #[test]
    fn waits_for_the_next_window_before_the_venue_refuses() {
        let mut b = budget(100);
        let t0 = 60_000 * 1_000; // start of a window
        assert!(matches!(b.admit(t0, 60, false), Admission::Go));
        // The venue says 95 used (other processes share the IP).
        b.observe(
            t0 + 5,
            [("x-mbx-used-weight-1m", "95"), ("content-type", "x")],
        );
        let Admission::Wait(w) = b.admit(t0 + 1_000, 10, false) else {
            panic!("expected a wait");
        };
        assert_eq!(w, Duration::from_millis(59_000 + 10 + 600));
        // In the next window the request goes.
        assert!(matches!(
            b.admit(t0 + 60_000 + 610, 10, false),
            Admission::Go
        ));
        assert_eq!(b.status(t0 + 60_700).usage[0].used, 10);
    }

    #[test]
    fn orders_count_separately_and_long_waits_are_refused() {
        let mut b = RateBudget::new(
            vec![RateLimit::new(
                LimitKind::Orders,
                Duration::from_secs(86_400),
                2,
            )],
            1.0,
            Duration::from_secs(60),
        );
        assert!(matches!(b.admit(0, 20, false), Admission::Go));
        assert!(matches!(b.admit(0, 1, true), Admission::Go));
        b.observe(1, [("x-mbx-order-count-1d", "2")]);
        assert!(matches!(b.admit(2, 1, false), Admission::Go));
        match b.admit(2, 1, true) {
            Admission::Refuse(BinanceError::RateLimited {
                retry_after: Some(d),
            }) => {
                assert!(d > Duration::from_secs(3_600));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn too_many_and_ban_stop_requests_until_they_end() {
        let mut b = budget(1_000);
        b.on_too_many(1_000, Some(Duration::from_secs(3)));
        assert!(matches!(
            b.admit(2_000, 1, false),
            Admission::Refuse(BinanceError::RateLimited { .. })
        ));
        assert!(!b.status(2_000).is_open());
        assert!(matches!(b.admit(4_000, 1, false), Admission::Go));
        let ban = b.on_banned(5_000, None);
        assert_eq!(ban, DEFAULT_BAN);
        assert_eq!(b.status(6_000).banned_for, Some(Duration::from_secs(119)));
        assert!(matches!(
            b.admit(6_000, 1, false),
            Admission::Refuse(BinanceError::Banned { .. })
        ));
        assert!(matches!(b.admit(125_000, 1, false), Admission::Go));
        assert!(b.status(125_000).is_open());
    }

    #[test]
    fn exchange_info_limits_parse_and_name_headers() {
        let v = serde_json::json!([
            {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
            {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},
            {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},
            {"rateLimitType":"SOMETHING_NEW","interval":"MINUTE","intervalNum":1,"limit":1}
        ]);
        let l = RateLimit::parse_list(&v).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(
            l.iter().map(RateLimit::suffix).collect::<Vec<_>>(),
            ["1M", "10S", "1D"]
        );
        let bad = serde_json::json!([{"rateLimitType":"ORDERS","interval":"WEEK","intervalNum":1,"limit":1}]);
        assert!(
            RateLimit::parse_list(&bad)
                .unwrap_err()
                .to_string()
                .contains("interval")
        );
    }
}
