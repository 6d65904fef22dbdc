//! [`CashFlow`]: the harness's own accounting of the venue's fills, written apart from the
//! engine's ledger so the two can disagree.
//!
//! It keeps only what does not depend on the order fills are applied in: the signed position,
//! the cash the fills moved (`−Σ side · qty · price · cv`) and the fees. Any average-cost
//! ledger that applied the same fills, in any order, satisfies
//! `realised − Q · avg_entry − open_fees = cash − fees`; flat, that is `realised = cash − fees`.
//! Which round trips the fills formed does depend on the order; [`round_trips`](crate::round_trips)
//! forms them in the order the bot applied the fills.

use rustrade_core::Fill;

/// Position, cash and fees of one symbol's fills.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CashFlow {
    /// Signed position.
    pub quantity: f64,
    /// Cash moved by the fills, fees excluded.
    pub cash: f64,
    /// Fees paid.
    pub fees: f64,
}

impl CashFlow {
    /// The cash flow of `fills` on an instrument of contract value `cv`.
    pub fn of(fills: &[Fill], cv: f64) -> Self {
        fills.iter().fold(Self::default(), |acc, f| {
            let signed = f.side.sign() * f.quantity.get();
            Self {
                quantity: acc.quantity + signed,
                cash: acc.cash - signed * f.price.get() * cv,
                fees: acc.fees + f.fee.get(),
            }
        })
    }

    /// What an average-cost ledger's `realised − Q · avg_entry − open_fees` must equal.
    pub fn net(&self) -> f64 {
        self.cash - self.fees
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::{
        Asset, ClientOrderId, FillId, Liquidity, Money, OrderId, Price, Quantity, Side, Symbol,
        Timestamp,
    };

    fn fill(side: Side, qty: f64, price: f64, fee: f64) -> Fill {
        Fill {
            fill_id: FillId::new("f").unwrap(),
            order_id: OrderId::new("o").unwrap(),
            client_id: Some(ClientOrderId::new("c").unwrap()),
            symbol: Symbol::new("AAAUSDT").unwrap(),
            side,
            price: Price::new(price).unwrap(),
            quantity: Quantity::new(qty).unwrap(),
            fee: Money::new(fee).unwrap(),
            fee_asset: Asset::new("USDT").unwrap(),
            liquidity: Liquidity::Taker,
            time: Timestamp::EPOCH,
        }
    }

    #[test]
    fn a_round_trip_nets_proceeds_less_costs_and_fees_in_any_order() {
        let fills = [
            fill(Side::Buy, 2.0, 100.0, 0.2),
            fill(Side::Sell, 2.0, 110.0, 0.2),
        ];
        let flow = CashFlow::of(&fills, 1.0);
        assert_eq!(flow.quantity, 0.0);
        assert!((flow.net() - 19.6).abs() < 1e-9);
        let reversed = [fills[1], fills[0]];
        assert_eq!(CashFlow::of(&reversed, 1.0).net(), flow.net());
    }
}
