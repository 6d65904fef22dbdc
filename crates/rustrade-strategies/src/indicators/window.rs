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

/// Mean and population variance of the last `n` values, from a fresh two-pass sum over the
/// window on every value (`O(n)`, free of the cancellation of running sums of squares).
///
/// As in TA-Lib's `VAR` (which `STDDEV` and `BBANDS` build on), a variance below `1e-12` of the
/// mean squared deviation is rounding noise of a flat window and reads exactly 0.
#[derive(Debug, Clone)]
pub(super) struct Moments {
    ring: Ring<f64>,
    n: f64,
}

impl Moments {
    pub(super) fn new(period: u16) -> Self {
        Self {
            ring: Ring::new(usize::from(period)),
            n: f64::from(period),
        }
    }

    /// Feeds `x`; `(mean, population variance)` once `period` values were seen.
    pub(super) fn next(&mut self, x: f64) -> Option<(f64, f64)> {
        self.ring.push(x);
        if !self.ring.is_full() {
            return None;
        }
        let values = self.ring.values();
        let mean = values.iter().sum::<f64>() / self.n;
        let (dev, dev_sq) = values.iter().fold((0.0, 0.0), |(s, s2), &v| {
            let d = v - mean;
            (s + d, s2 + d * d)
        });
        let (m1, m2) = (dev / self.n, dev_sq / self.n);
        let variance = m2 - m1 * m1;
        Some((mean, if variance < 1e-12 * m2 { 0.0 } else { variance }))
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
    fn rolling_max_rescans_when_the_extreme_leaves() {
        let mut m = RollingMax::new(2);
        assert_eq!(m.next(5.0), None);
        assert_eq!(m.next(1.0), Some(5.0));
        assert_eq!(m.next(2.0), Some(2.0));
        assert_eq!(m.next(f64::NAN), Some(2.0));
        assert_eq!(m.next(0.5), Some(0.5));
    }
}
