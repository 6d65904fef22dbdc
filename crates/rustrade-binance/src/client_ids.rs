//! Our client order ids on Binance's wire.
//!
//! Binance takes our [`ClientOrderId`](rustrade_core::ClientOrderId) verbatim as
//! `newClientOrderId` (`clientAlgoId` for futures conditional orders) and accepts only
//! `[A-Za-z0-9_-]{1,36}`, while core also allows `.`, `:` and `/`. The engine composes ids as
//! `"{bot name}-{brain}-{seq}"` from dashes and base-36 digits, so only the bot name can bring
//! in a refused character: [`check_client_id_prefix`] refuses such a name when the bot is built
//! (through `ExchangeClient::check_client_id_prefix`), naming it and the character, and
//! [`check_client_id`] still guards every id at the wire.
//!
//! The id is not re-encoded into the accepted set: an id the operator sees in our journal and
//! logs is the one Binance shows in its order history and sends back in every report, with no
//! decoding step on any inbound path, and a bot name that could not trade on Binance has no
//! orders there to keep.

use crate::BinanceError;

/// Whether Binance accepts `b` in a client order id.
fn accepted(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Checks that `id` is a Binance-safe client order id (`[A-Za-z0-9_-]{1,36}`).
pub fn check_client_id(id: &str) -> Result<(), BinanceError> {
    if (1..=36).contains(&id.len()) && id.bytes().all(accepted) {
        Ok(())
    } else {
        Err(rustrade_core::ValueError::BadText {
            field: "client_order_id",
            value: id.to_owned(),
            reason: "Binance accepts only [A-Za-z0-9_-]{1,36}",
        }
        .into())
    }
}

/// Checks that every id composed under the bot name `prefix` is one Binance accepts; the
/// error names the bot name and its first refused character.
pub fn check_client_id_prefix(prefix: &str) -> Result<(), BinanceError> {
    check_prefix("bot name", prefix)
}

/// The same check for the prefix of the ids of the adapter's own closing orders.
pub(crate) fn check_close_id_prefix(prefix: &str) -> Result<(), BinanceError> {
    check_prefix("close_id_prefix", prefix)
}

fn check_prefix(field: &'static str, prefix: &str) -> Result<(), BinanceError> {
    match prefix
        .chars()
        .find(|c| !c.is_ascii() || !accepted(*c as u8))
    {
        None => Ok(()),
        Some(character) => Err(BinanceError::ClientIdPrefix {
            field,
            prefix: prefix.to_owned(),
            character,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustrade_core::ClientOrderId;

    #[test]
    fn refused_prefixes_name_the_prefix_and_the_character() {
        for (name, bad) in [("desk.eth", '.'), ("a:b", ':'), ("x/y", '/')] {
            let e = check_client_id_prefix(name).unwrap_err().to_string();
            assert!(
                e.contains(&format!("{name:?}")) && e.contains(&format!("{bad:?}")),
                "{e}"
            );
            assert!(e.contains("bot name"), "{e}");
        }
        assert!(check_client_id_prefix("desk_eth-2").is_ok());
        assert!(check_client_id_prefix("").is_ok());
        let e = check_close_id_prefix("close.me").unwrap_err().to_string();
        assert!(e.contains("close_id_prefix") && e.contains("'.'"), "{e}");
    }

    #[test]
    fn both_clients_refuse_a_bad_bot_name_and_close_prefix_before_sending() {
        use crate::{BinanceSpot, BinanceUsdm, Environment, SpotConfig, UsdmConfig};
        use rustrade_core::ExchangeClient;
        let spot = BinanceSpot::new(SpotConfig::new(Environment::default(), None)).unwrap();
        let usdm = BinanceUsdm::new(UsdmConfig::new(Environment::default(), None)).unwrap();
        for client in [&spot as &dyn ExchangeClient, &usdm] {
            let e = client
                .check_client_id_prefix("desk:1")
                .unwrap_err()
                .to_string();
            assert!(e.contains(r#""desk:1""#) && e.contains("':'"), "{e}");
            assert!(client.check_client_id_prefix("desk-1").is_ok());
        }
        let mut config = SpotConfig::new(Environment::default(), None);
        config.close_id_prefix = "rt/close".into();
        let e = BinanceSpot::new(config).unwrap_err().to_string();
        assert!(e.contains("close_id_prefix") && e.contains("'/'"), "{e}");
        let mut config = UsdmConfig::new(Environment::default(), None);
        config.close_id_prefix = "rt.close".into();
        assert!(BinanceUsdm::new(config).is_err());
    }

    proptest::proptest! {
        /// Every id the engine can compose under a name this check accepts is sent verbatim and
        /// matches Binance's pattern, so it maps back to itself and distinct ids stay distinct;
        /// a name it refuses holds a character outside the pattern.
        #[test]
        fn composed_ids_fit_the_wire_pattern(
            prefix in "[A-Za-z0-9_.:/-]{0,14}",
            brain in proptest::num::u32::ANY,
            seq in proptest::num::u64::ANY,
            other_seq in proptest::num::u64::ANY,
        ) {
            let id = ClientOrderId::compose(&prefix, brain, seq).unwrap();
            match check_client_id_prefix(&prefix) {
                Ok(()) => {
                    proptest::prop_assert!(check_client_id(id.as_str()).is_ok(), "{id}");
                    let back = ClientOrderId::new(id.as_str()).unwrap();
                    proptest::prop_assert_eq!(back, id);
                    let other = ClientOrderId::compose(&prefix, brain, other_seq).unwrap();
                    proptest::prop_assert_eq!(other == id, other_seq == seq);
                }
                Err(_) => {
                    proptest::prop_assert!(prefix.contains(['.', ':', '/']));
                    proptest::prop_assert!(check_client_id(id.as_str()).is_err());
                }
            }
        }
    }
}
