//! Venue identifiers built on the stack: `sim-<n>` order ids and `sim-f<n>` fill ids.

use std::io::Write;

use rustrade_core::{FillId, OrderId};

/// Formats `prefix` followed by `n` into a stack buffer, returning the text.
fn render<'a>(buf: &'a mut [u8; 32], prefix: &str, n: u64) -> &'a str {
    let len = {
        let mut cursor = &mut buf[..];
        // 32 bytes hold any prefix used here plus the 20 digits of a u64.
        let _ = write!(cursor, "{prefix}{n}");
        32 - cursor.len()
    };
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
        assert_eq!(order_id(u64::MAX).as_str(), "sim-18446744073709551615");
        assert_eq!(fill_id(42).as_str(), "sim-f42");
    }
}
