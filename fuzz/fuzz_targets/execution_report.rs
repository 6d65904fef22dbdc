//! The facade's fill boundary: `rustrade::decode_report` over raw bytes (first byte even) or
//! over a mutated valid fill report (first byte odd).
//!
//! Checked: no panic; an accepted report passes `validate_report`, a fill in it has a quantity
//! and a price `> 0`, and it serialises and decodes back to itself.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use rustrade::{decode_report, validate_report};
use rustrade_core::ExecutionReport;
use rustrade_fuzz::{Samples, mutate_json};
use serde_json::Value;

fn sample() -> &'static Value {
    static SAMPLE: OnceLock<Value> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        serde_json::to_value(ExecutionReport::Fill(Samples::build().fill))
            .expect("a fill report serialises")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let payload = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut value = sample().clone();
        let mut u = Unstructured::new(rest);
        if mutate_json(&mut value, &mut u).is_err() {
            return;
        }
        serde_json::to_vec(&value).expect("a JSON value serialises")
    };
    if let Ok(report) = decode_report(&payload) {
        validate_report(&report).expect("a decoded report is valid");
        if let ExecutionReport::Fill(f) = &report {
            assert!(f.quantity.get() > 0.0 && f.price.get() > 0.0, "{report:?}");
        }
        let again = serde_json::to_vec(&report).expect("a report serialises");
        let back = decode_report(&again).expect("a re-serialised report decodes");
        assert_eq!(back, report);
    }
});
