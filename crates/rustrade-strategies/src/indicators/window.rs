//! Fixed-size windows the indicators keep their recent inputs in, allocated once at construction.

/// The last `capacity` values pushed, oldest first when iterated in order.
#[derive(Debug, Clone)]
pub(super) struct Ring<T> {
    buf: Box<[T]>,
    /// Slot the next push writes (the oldest value once full).
    next: usize,
    len: usize,
}

impl<T: Copy + Default> Ring<T> {
    /// A ring of `capacity >= 1` slots (callers validate their periods first).
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            buf: vec![T::default(); capacity.max(1)].into_boxed_slice(),
            next: 0,
            len: 0,
        }
    }

    /// Stores `x`; the value it pushed out if the ring was full.
    pub(super) fn push(&mut self, x: T) -> Option<T> {
        let out = (self.len == self.buf.len()).then(|| self.buf[self.next]);
        self.buf[self.next] = x;
        self.next = (self.next + 1) % self.buf.len();
        self.len = (self.len + 1).min(self.buf.len());
        out
    }

    /// Whether the ring holds `capacity` values.
    pub(super) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// The oldest value held, the one the next push evicts once full.
    pub(super) fn oldest(&self) -> Option<T> {
        if self.is_full() {
            Some(self.buf[self.next])
        } else if self.len > 0 {
            Some(self.buf[0])
        } else {
            None
        }
    }

    /// The values held, in no particular order.
    pub(super) fn values(&self) -> &[T] {
        &self.buf[..self.len.min(self.buf.len())]
    }
}

/// Highest of the last `n` values; the lowest is the highest of the negated values.
///
/// `O(1)` amortised: the window is rescanned only when its extreme leaves it. Unlike yata's
/// `Highest`, a NaN input does not panic: it never becomes the extreme.
#[derive(Debug, Clone)]
pub(super) struct RollingMax {
    ring: Ring<f64>,
    value: f64,
}

impl RollingMax {
    pub(super) fn new(period: usize) -> Self {
        Self {
            ring: Ring::new(period),
            value: f64::NEG_INFINITY,
        }
    }

    /// Feeds `x`; the highest of the window once it holds `period` values.
    pub(super) fn next(&mut self, x: f64) -> Option<f64> {
        let evicted = self.ring.push(x);
        if x >= self.value {
            self.value = x;
        } else if evicted.is_some_and(|e| e.to_bits() == self.value.to_bits()) {
            self.value = self
                .ring
                .values()
                .iter()
                .fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        }
        self.ring.is_full().then_some(self.value)
    }
}

/// Mean and population variance of the last `n` values in `O(1)` per value, without the
/// cancellation of plain running sums of squares.
///
/// The running sums are of deviations from a shift near the window (`Σ (x − shift)` and
/// `Σ (x − shift)²`), so they stay at the scale of the variance rather than of the squared
/// price. When the shift has gone stale (the variance is below `1e-6` of the mean squared
/// deviation it is read from, so rounding could eat its digits), when a value leaving the window
/// dwarfs the sums it leaves, or every `32 n` values, the sums are rebuilt by a two-pass over the
/// window around its mean. As in TA-Lib's `VAR` (which `STDDEV` and `BBANDS` build on, with the
/// same safeguards), a rebuilt variance below `1e-12` of its mean squared deviation is rounding
/// noise of a flat window and reads exactly 0.
#[derive(Debug, Clone)]
pub(super) struct Moments {
    ring: Ring<f64>,
    period: u16,
    n: f64,
    shift: f64,
    sum: f64,
    sum_sq: f64,
    until_rebuild: u32,
}

impl Moments {
    pub(super) fn new(period: u16) -> Self {
        Self {
            ring: Ring::new(usize::from(period)),
            period,
            n: f64::from(period),
            shift: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            until_rebuild: Self::rebuild_every(period),
        }
    }

    /// Feeds `x`; `(mean, population variance)` once `period` values were seen.
    pub(super) fn next(&mut self, x: f64) -> Option<(f64, f64)> {
        if self.ring.values().is_empty() {
            self.shift = x;
        }
        let d = x - self.shift;
        self.sum += d;
        self.sum_sq += d * d;
        let mut left_sq = 0.0;
        if let Some(old) = self.ring.push(x) {
            let e = old - self.shift;
            self.sum -= e;
            self.sum_sq -= e * e;
            left_sq = e * e;
        }
        if !self.ring.is_full() {
            return None;
        }
        let m1 = self.sum / self.n;
        let mean_sq = self.sum_sq / self.n;
        let variance = mean_sq - m1 * m1;
        self.until_rebuild = self.until_rebuild.saturating_sub(1);
        if variance < 1e-6 * mean_sq || left_sq > 1e6 * self.sum_sq || self.until_rebuild == 0 {
            return Some(self.rebuild());
        }
        Some((self.shift + m1, variance))
    }

    /// Re-anchors the shift at the window's mean and recomputes the sums by a two-pass.
    fn rebuild(&mut self) -> (f64, f64) {
        self.until_rebuild = Self::rebuild_every(self.period);
        let values = self.ring.values();
        let mean = values.iter().sum::<f64>() / self.n;
        let (sum, sum_sq) = values.iter().fold((0.0, 0.0), |(s, s2), &v| {
            let d = v - mean;
            (s + d, s2 + d * d)
        });
        (self.shift, self.sum, self.sum_sq) = (mean, sum, sum_sq);
        let (m1, mean_sq) = (sum / self.n, sum_sq / self.n);
        let variance = mean_sq - m1 * m1;
        let variance = if variance < 1e-12 * mean_sq {
            0.0
        } else {
            variance
        };
        (mean + m1, variance)
    }

    fn rebuild_every(period: u16) -> u32 {
        32 * u32::from(period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_evicts_the_oldest_once_full() {
        let mut r = Ring::new(3);
        assert_eq!(r.push(1.0), None);
        assert_eq!(r.push(2.0), None);
        assert!(!r.is_full());
        assert_eq!(r.oldest(), Some(1.0));
        assert_eq!(r.push(3.0), None);
        assert!(r.is_full());
        assert_eq!(r.oldest(), Some(1.0));
        assert_eq!(r.push(4.0), Some(1.0));
        assert_eq!(r.oldest(), Some(2.0));
        let mut held = r.values().to_vec();
        held.sort_by(f64::total_cmp);
        assert_eq!(held, [2.0, 3.0, 4.0]);
    }

    #[test]
    fn moments_stay_accurate_far_from_zero_and_across_level_shifts() {
        // Prices near 1e9 with a spread of a few units, then a jump to 1e3 and a flat stretch:
        // the shifted sums must re-anchor instead of losing the variance to cancellation.
        let mut rng = fastrand::Rng::with_seed(3);
        let mut xs: Vec<f64> = (0..3_000).map(|_| 1e9 + rng.f64() * 4.0).collect();
        xs.extend((0..500).map(|_| 1e3 + rng.f64()));
        xs.extend(std::iter::repeat_n(7.25, 100));
        let n = 20;
        let mut m = Moments::new(20);
        for (i, &x) in xs.iter().enumerate() {
            let Some((mean, var)) = m.next(x) else {
                assert!(i + 1 < n);
                continue;
            };
            let w = &xs[i + 1 - n..=i];
            let want_mean = w.iter().sum::<f64>() / 20.0;
            let want_var = w.iter().map(|v| (v - want_mean).powi(2)).sum::<f64>() / 20.0;
            assert!(
                (mean - want_mean).abs() <= 1e-12 * want_mean.abs(),
                "mean at {i}"
            );
            assert!(
                (var - want_var).abs() <= 1e-6 * want_var + 1e-300,
                "variance at {i}: {var} vs {want_var}"
            );
        }
        assert_eq!(m.next(7.25), Some((7.25, 0.0)));
    }

    #[test]
    fn rolling_max_rescans_when_the_extreme_leaves() {
        let mut m = RollingMax::new(2);
        assert_eq!(m.next(5.0), None);
        assert_eq!(m.next(1.0), Some(5.0));
        assert_eq!(m.next(2.0), Some(2.0));
        assert_eq!(m.next(f64::NAN), Some(2.0));
        assert_eq!(m.next(0.5), Some(0.5));
    }
}
