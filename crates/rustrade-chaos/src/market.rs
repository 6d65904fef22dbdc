//! [`SeededMarket`]: the candles the venue replays, generated from a seed.
//!
//! Each symbol follows its own random walk (uniform returns of up to ±`step_pct` per bar, with
//! an occasional jump of three times that so brackets trigger), one bar of `BAR` per step, all
//! symbols bar by bar in symbol order. The same seed gives the same bars on any machine.

use std::time::Duration;

use rustrade_core::{Candle, MarketEvent, Symbol, Timestamp, ValueError, Venue};

/// Length of one bar of simulated time.
pub const BAR: Duration = Duration::from_secs(1);

/// Where simulated time starts: 2026-01-01T00:00:00Z, so a run of up to a day of bars stays in
/// one risk session.
pub const START: Timestamp = Timestamp::from_nanos(1_767_225_600_000_000_000);

/// A seeded multi-symbol bar generator.
#[derive(Debug, Clone)]
pub struct SeededMarket {
    venue: Venue,
    symbols: Vec<(Symbol, f64)>,
    rng: fastrand::Rng,
    step: u64,
    step_pct: f64,
}

impl SeededMarket {
    /// A market of `symbols` starting at `start_price`, moving up to `step_pct` per bar.
    pub fn new(
        venue: Venue,
        symbols: &[Symbol],
        start_price: f64,
        step_pct: f64,
        seed: u64,
    ) -> Self {
        Self {
            venue,
            symbols: symbols.iter().map(|s| (*s, start_price)).collect(),
            rng: fastrand::Rng::with_seed(seed ^ 0x6d61_726b_6574),
            step: 0,
            step_pct,
        }
    }

    /// Bars produced so far (per symbol).
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Simulated time after `steps` bars.
    pub fn time_after(steps: u64) -> Timestamp {
        let nanos = i64::try_from(BAR.as_nanos()).unwrap_or(i64::MAX);
        Timestamp::from_nanos(START.as_nanos() + nanos * i64::try_from(steps).unwrap_or(i64::MAX))
    }

    /// The next bar of every symbol, closing one bar later than the last.
    pub fn next_bars(&mut self) -> Result<Vec<MarketEvent>, ValueError> {
        let open_time = Self::time_after(self.step);
        self.step += 1;
        let close_time = Self::time_after(self.step);
        let mut out = Vec::with_capacity(self.symbols.len());
        for (symbol, last) in &mut self.symbols {
            let jump = if self.rng.u32(0..20) == 0 { 3.0 } else { 1.0 };
            let ret = (self.rng.f64() * 2.0 - 1.0) * self.step_pct / 100.0 * jump;
            let open = *last;
            let close = (open * (1.0 + ret)).max(1.0);
            let wiggle = open * self.step_pct / 100.0 * self.rng.f64() * 0.5;
            let high = open.max(close) + wiggle;
            let low = (open.min(close) - wiggle).max(0.5);
            let volume = 50.0 + self.rng.f64() * 50.0;
            let candle = Candle::new(
                open_time,
                round(open),
                round(high),
                round(low),
                round(close),
                volume,
            )?;
            *last = close;
            out.push(MarketEvent::candle(self.venue, *symbol, close_time, candle));
        }
        Ok(out)
    }
}

fn round(price: f64) -> f64 {
    (price * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bars_and_time_advances() {
        let venue = Venue::new("chaos").unwrap();
        let s = [
            Symbol::new("AAAUSDT").unwrap(),
            Symbol::new("BBBUSDT").unwrap(),
        ];
        let mut a = SeededMarket::new(venue, &s, 100.0, 0.5, 7);
        let mut b = SeededMarket::new(venue, &s, 100.0, 0.5, 7);
        let first = a.next_bars().unwrap();
        assert_eq!(first, b.next_bars().unwrap());
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].time, SeededMarket::time_after(1));
        let second = a.next_bars().unwrap();
        assert!(second[0].time > first[0].time);
        assert_eq!(a.steps(), 2);
    }
}
