//! Venue identifiers built on the stack: `sim-<n>` order ids and `sim-f<n>` fill ids.

use rustrade_core::{FillId, OrderId};

/// Writes `prefix` followed by the decimal digits of `n` into a stack buffer, returning the text.
/// Digits are produced directly rather than through `fmt`, which cost more than the rest of an
/// order's placement.
fn render<'a>(buf: &'a mut [u8; 32], prefix: &str, mut n: u64) -> &'a str {
    let p = prefix.len();
    buf[..p].copy_from_slice(prefix.as_bytes());
    // A u64 has at most 20 digits; 32 bytes hold every prefix used here plus those.
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    loop {
        k -= 1;
        digits[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = p + digits.len() - k;
    buf[p..len].copy_from_slice(&digits[k..]);
    std::str::from_utf8(&buf[..len]).unwrap_or_default()
}

/// The venue id of the `n`-th order.
pub(crate) fn order_id(n: u64) -> OrderId {
    let mut buf = [0u8; 32];
    OrderId::new(render(&mut buf, "sim-", n)).expect("`sim-<digits>` is a valid order id")
}

/// The venue id of the `n`-th fill.
pub(crate) fn fill_id(n: u64) -> FillId {
    let mut buf = [0u8; 32];
    FillId::new(render(&mut buf, "sim-f", n)).expect("`sim-f<digits>` is a valid fill id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_render_without_heap() {
        assert_eq!(order_id(0).as_str(), "sim-0");
        assert_eq!(order_id(7).as_str(), "sim-7");
        assert_eq!(order_id(1_000_000).as_str(), "sim-1000000");
        assert_eq!(order_id(u64::MAX).as_str(), "sim-18446744073709551615");
        assert_eq!(fill_id(42).as_str(), "sim-f42");
    }

    proptest::proptest! {
        #[test]
        fn ids_match_the_formatted_number(n in proptest::prelude::any::<u64>()) {
            let (order, fill) = (order_id(n), fill_id(n));
            proptest::prop_assert_eq!(order.as_str(), format!("sim-{n}"));
            proptest::prop_assert_eq!(fill.as_str(), format!("sim-f{n}"));
        }
    }
}
