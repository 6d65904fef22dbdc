//! Venue identifiers: `sim-<n>` order ids and `sim-f<n>` fill ids, numbered from 1.
//!
//! [`IdCounter`] keeps the last id it issued, so the next one is an increment of its trailing
//! digits in place ([`OrderId::next_decimal`]) rather than a conversion of the number and a
//! check of the text.

use rustrade_core::{FillId, OrderId};

/// Issues `<prefix>1`, `<prefix>2`, ... and counts them.
#[derive(Debug, Clone)]
pub(crate) struct IdCounter {
    issued: u64,
    prefix: &'static str,
    /// The last order id issued (`<prefix>0` before the first), when counting order ids.
    order: OrderId,
    /// The last fill id issued (`<prefix>0` before the first), when counting fill ids.
    fill: FillId,
}

impl IdCounter {
    /// A counter of `<prefix><n>` ids; `prefix` is a valid order and fill id.
    pub(crate) fn new(prefix: &'static str) -> Self {
        let zero = format!("{prefix}0");
        Self {
            issued: 0,
            prefix,
            order: OrderId::new(&zero).expect("`<prefix>0` is a valid order id"),
            fill: FillId::new(&zero).expect("`<prefix>0` is a valid fill id"),
        }
    }

    /// How many ids were issued.
    pub(crate) fn issued(&self) -> u64 {
        self.issued
    }

    /// The next order id (a counter issues either order ids or fill ids).
    #[inline]
    pub(crate) fn next_order_id(&mut self) -> OrderId {
        self.issued += 1;
        self.order = self
            .order
            .next_decimal()
            .expect("`sim-<u64>` fits an order id");
        self.order
    }

    /// The order id numbered `n`.
    pub(crate) fn order_id_of(&self, n: u64) -> OrderId {
        let prefix = self.prefix;
        OrderId::new(&format!("{prefix}{n}")).expect("`sim-<digits>` is a valid order id")
    }

    /// The next fill id.
    #[inline]
    pub(crate) fn next_fill_id(&mut self) -> FillId {
        self.issued += 1;
        self.fill = self
            .fill
            .next_decimal()
            .expect("`sim-f<u64>` fits a fill id");
        self.fill
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
        c.order = OrderId::new(&format!("sim-{}", u64::MAX - 1)).unwrap();
        assert_eq!(c.next_order_id().as_str(), "sim-18446744073709551615");
    }
}
