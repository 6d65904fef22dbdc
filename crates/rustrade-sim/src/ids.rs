//! Venue identifiers: `sim-<n>` order ids and `sim-f<n>` fill ids, numbered from 1.
//!
//! [`IdCounter`] keeps the decimal text of the last id it issued, so the next one is an
//! increment of that text (one digit on nine ids out of ten) rather than a conversion of the
//! number.

use rustrade_core::{FillId, OrderId};

/// Issues `<prefix>1`, `<prefix>2`, ... and counts them.
#[derive(Debug, Clone)]
pub(crate) struct IdCounter {
    issued: u64,
    /// The prefix and the decimal digits of `issued`. A `String` edited with `pop`/`push`, so
    /// handing out the text needs no UTF-8 validation.
    text: String,
    prefix_len: usize,
}

impl IdCounter {
    /// A counter that has issued nothing; `prefix` is ASCII.
    pub(crate) fn new(prefix: &str) -> Self {
        let mut text = String::with_capacity(prefix.len() + 20);
        text.push_str(prefix);
        text.push('0');
        Self {
            issued: 0,
            text,
            prefix_len: prefix.len(),
        }
    }

    /// How many ids were issued (the number in the last one).
    pub(crate) fn issued(&self) -> u64 {
        self.issued
    }

    /// The next order id.
    pub(crate) fn next_order_id(&mut self) -> OrderId {
        OrderId::new(self.advance()).expect("`sim-<digits>` is a valid order id")
    }

    /// The order id numbered `n`, as [`IdCounter::next_order_id`] issued it. Formats the text,
    /// so it is for the rare lookups of an earlier id (a resubmitted client id).
    pub(crate) fn order_id_of(&self, n: u64) -> OrderId {
        let prefix = &self.text[..self.prefix_len];
        OrderId::new(&format!("{prefix}{n}")).expect("`sim-<digits>` is a valid order id")
    }

    /// The next fill id.
    pub(crate) fn next_fill_id(&mut self) -> FillId {
        FillId::new(self.advance()).expect("`sim-f<digits>` is a valid fill id")
    }

    /// Adds one to the number and its text; returns the text.
    #[inline]
    fn advance(&mut self) -> &str {
        self.issued += 1;
        let len = self.text.len();
        let last = self.text.as_bytes()[len - 1];
        if last != b'9' && len > self.prefix_len {
            // Nine ids out of ten: only the last digit changes.
            self.text.truncate(len - 1);
            self.text.push(char::from(last + 1));
        } else {
            self.carry();
        }
        &self.text
    }

    /// Trailing nines become zeros; the digit before them goes up by one, or a `1` is put in
    /// front when every digit was a nine.
    #[cold]
    fn carry(&mut self) {
        let mut nines = 0;
        loop {
            if self.text.len() == self.prefix_len {
                self.text.push('1');
                break;
            }
            match self.text.pop() {
                Some('9') => nines += 1,
                Some(d) => {
                    self.text.push(char::from(d as u8 + 1));
                    break;
                }
                None => break,
            }
        }
        for _ in 0..nines {
            self.text.push('0');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_from_one_in_decimal() {
        let mut orders = IdCounter::new("sim-");
        let mut fills = IdCounter::new("sim-f");
        for n in 1..=100_000u64 {
            assert_eq!(orders.next_order_id().as_str(), format!("sim-{n}"));
            assert_eq!(orders.issued(), n);
            if n % 997 == 0 || n < 12 {
                assert_eq!(orders.order_id_of(n).as_str(), format!("sim-{n}"));
            }
        }
        assert_eq!(fills.next_fill_id().as_str(), "sim-f1");
        assert_eq!(fills.issued(), 1);
    }

    #[test]
    fn the_text_grows_to_the_largest_u64() {
        let mut c = IdCounter::new("sim-");
        // Start one below the largest u64 and issue the last id.
        c.issued = u64::MAX - 1;
        c.text = format!("sim-{}", u64::MAX - 1);
        assert_eq!(c.next_order_id().as_str(), "sim-18446744073709551615");
    }
}
