//! serde_json into the core types that cross a boundary: `Candle`, `Order`, `Fill`,
//! `InstrumentSpec`, `Decision`, `MarketEvent`. The first byte picks the type (low 3 bits) and
//! whether the rest is raw JSON or mutations of a valid sample (bit 3).
//!
//! Checked: no panic; an accepted value serialises and decodes back to an equal value; an
//! accepted `Order` can be validated without a panic.

#![no_main]

use std::fmt::Debug;
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use rustrade_core::{Candle, Decision, Fill, InstrumentSpec, MarketEvent, Order};
use rustrade_fuzz::{Samples, instrument, mutate_json};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Valid samples, in the order of the type selector.
fn samples() -> &'static [Value; 6] {
    static SAMPLES: OnceLock<[Value; 6]> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let s = Samples::build();
        let candle = *s
            .market_event
            .as_candle()
            .expect("the sample event is a candle");
        let v = |x: &dyn erased::Json| x.json();
        [
            v(&candle),
            v(&s.order),
            v(&s.fill),
            v(&instrument()),
            v(&s.decision),
            v(&s.market_event),
        ]
    })
}

mod erased {
    /// Object-safe serialisation to a JSON value, so samples of different types share a list.
    pub(crate) trait Json {
        fn json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> serde_json::Value {
            serde_json::to_value(self).expect("a sample serialises")
        }
    }
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(bytes: &[u8]) -> Option<T> {
    let value: T = serde_json::from_slice(bytes).ok()?;
    let again = serde_json::to_vec(&value).expect("an accepted value serialises");
    let back: T = serde_json::from_slice(&again).unwrap_or_else(|e| {
        panic!(
            "{value:?} serialised as {} does not decode: {e}",
            String::from_utf8_lossy(&again)
        )
    });
    assert_eq!(back, value);
    Some(value)
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let kind = usize::from(selector & 7) % 6;
    let payload = if selector & 8 == 0 {
        rest.to_vec()
    } else {
        let mut value = samples()[kind].clone();
        let mut u = Unstructured::new(rest);
        if mutate_json(&mut value, &mut u).is_err() {
            return;
        }
        serde_json::to_vec(&value).expect("a JSON value serialises")
    };
    match kind {
        0 => drop(round_trip::<Candle>(&payload)),
        1 => {
            if let Some(order) = round_trip::<Order>(&payload) {
                let _ = order.validate();
            }
        }
        2 => drop(round_trip::<Fill>(&payload)),
        3 => drop(round_trip::<InstrumentSpec>(&payload)),
        4 => drop(round_trip::<Decision>(&payload)),
        _ => drop(round_trip::<MarketEvent>(&payload)),
    }
});
