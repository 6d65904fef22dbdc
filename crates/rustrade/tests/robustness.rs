//! Robustness of the fill boundary ([`decode_report`], [`validate_report`]) against hostile
//! payloads, on the stable toolchain (the libFuzzer target `fuzz/fuzz_targets/execution_report.rs`
//! explores the same boundary deeper).
//!
//! Inputs come from a seeded generator (fixed seeds, so every run checks the same cases): raw
//! bytes, JSON-alphabet noise, arbitrary JSON trees, and every kind of valid report with a few
//! nodes mutated. Properties:
//! - no panic;
//! - an accepted report passes [`validate_report`], a fill in it has quantity and price `> 0`,
//!   and it serialises and decodes back to itself;
//! - a refused report says why: an undecodable payload carries the decoder's reason and at most
//!   256 bytes of the payload; a value refusal names the fill and the field.

use rustrade::core::{
    Asset, ClientOrderId, ExecutionReport, Fill, FillId, Liquidity, Money, OrderId, Price,
    Quantity, RejectReason, Side, Symbol, Timestamp,
};
use rustrade::{DroppedReport, decode_report, validate_report};
use serde_json::{Value, json};

/// SplitMix64: a small seeded generator, deterministic across runs and platforms.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    /// Bytes from the characters JSON is made of, so the decoder gets past its first byte.
    fn json_noise(&mut self, max_len: usize) -> Vec<u8> {
        const ALPHABET: &[u8] = b"{}[]\":,.-+0123456789eEtrufalsn \\\"typefillquantityprice";
        let len = self.below(max_len + 1);
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())])
            .collect()
    }

    fn string(&mut self, max_len: usize) -> String {
        let len = self.below(max_len + 1);
        (0..len)
            .map(|_| char::from_u32(self.below(0x2FF) as u32 + 1).unwrap_or('?'))
            .collect()
    }

    /// A value chosen to break assumptions: signs, zero, extremes, empty and long strings, wrong
    /// types.
    fn hostile(&mut self) -> Value {
        match self.below(20) {
            0 => Value::Null,
            1 => json!(self.next().is_multiple_of(2)),
            2 => json!(0),
            3 => json!(-1),
            4 => json!(1),
            5 => json!(i64::MAX),
            6 => json!(i64::MIN),
            7 => json!(u64::MAX),
            8 => json!(f64::MAX),
            9 => json!(-f64::MAX),
            10 => json!(-0.0),
            11 => json!(1e-300),
            12 => json!(""),
            13 => json!("x".repeat(300)),
            14 => json!([]),
            15 => json!({}),
            16 => json!(self.next() as i64),
            17 => json!(f64::from_bits(self.next())),
            18 => json!(["fill", "accepted", "rejected", "cancelled", "expired"][self.below(5)]),
            _ => json!(self.string(24)),
        }
    }

    /// An arbitrary JSON tree of bounded depth.
    fn json(&mut self, depth: u32) -> Value {
        if depth == 0 || self.below(3) == 0 {
            return self.hostile();
        }
        let n = self.below(6);
        if self.next().is_multiple_of(2) {
            Value::Array((0..n).map(|_| self.json(depth - 1)).collect())
        } else {
            let keys = [
                "type", "fill_id", "price", "quantity", "fee", "time", "side", "x",
            ];
            Value::Object(
                (0..n)
                    .map(|_| {
                        (
                            keys[self.below(keys.len())].to_owned(),
                            self.json(depth - 1),
                        )
                    })
                    .collect(),
            )
        }
    }

    /// Replaces, removes or copies a few nodes of `value`.
    fn mutate(&mut self, value: &mut Value) {
        for _ in 0..=self.below(4) {
            let donor = self.walk(value).clone();
            let depth = self.below(4);
            let target = walk_mut(value, depth, self);
            match self.below(4) {
                0 | 1 => *target = self.hostile(),
                2 => {
                    if let Value::Object(map) = target
                        && !map.is_empty()
                    {
                        let key = map.keys().nth(self.below(map.len())).unwrap().clone();
                        map.remove(&key);
                    }
                }
                _ => *target = donor,
            }
        }
    }

    fn walk<'a>(&mut self, mut v: &'a Value) -> &'a Value {
        for _ in 0..self.below(4) {
            v = match v {
                Value::Array(a) if !a.is_empty() => &a[self.below(a.len())],
                Value::Object(m) if !m.is_empty() => m.values().nth(self.below(m.len())).unwrap(),
                _ => return v,
            };
        }
        v
    }
}

fn walk_mut<'a>(v: &'a mut Value, depth: usize, g: &mut Gen) -> &'a mut Value {
    let children = match &*v {
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        _ => 0,
    };
    if depth == 0 || children == 0 {
        return v;
    }
    let i = g.below(children);
    match v {
        Value::Array(a) => walk_mut(&mut a[i], depth - 1, g),
        Value::Object(m) => walk_mut(m.values_mut().nth(i).unwrap(), depth - 1, g),
        _ => unreachable!("only containers have children"),
    }
}

/// One valid report of every kind, as JSON.
fn samples() -> Vec<Value> {
    let time = Timestamp::from_nanos(1_704_067_200_000_000_000);
    let cid = ClientOrderId::new("bot-0-1").unwrap();
    let oid = OrderId::new("v1").unwrap();
    let fill = Fill {
        fill_id: FillId::new("f1").unwrap(),
        order_id: oid,
        client_id: Some(cid),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side: Side::Buy,
        price: Price::new(100.5).unwrap(),
        quantity: Quantity::new(0.25).unwrap(),
        fee: Money::new(0.01).unwrap(),
        fee_asset: Asset::new("USDT").unwrap(),
        liquidity: Liquidity::Taker,
        time,
    };
    [
        ExecutionReport::Fill(fill),
        ExecutionReport::Accepted {
            client_id: cid,
            order_id: oid,
            time,
        },
        ExecutionReport::Rejected {
            client_id: cid,
            reason: RejectReason::InsufficientFunds,
            time,
        },
        ExecutionReport::Cancelled {
            client_id: None,
            order_id: oid,
            time,
        },
        ExecutionReport::Expired {
            client_id: Some(cid),
            order_id: oid,
            time,
        },
    ]
    .iter()
    .map(|r| serde_json::to_value(r).unwrap())
    .collect()
}

/// Decodes `payload` and checks the boundary's contract on the answer.
fn check(payload: &[u8]) -> Result<(), ()> {
    match decode_report(payload) {
        Ok(report) => {
            validate_report(&report).expect("a decoded report is valid");
            if let ExecutionReport::Fill(f) = &report {
                assert!(f.quantity.get() > 0.0, "{report:?}");
                assert!(f.price.get() > 0.0, "{report:?}");
            }
            let again = serde_json::to_vec(&report).unwrap();
            assert_eq!(
                decode_report(&again).expect("re-serialised decodes"),
                report
            );
            Ok(())
        }
        Err(dropped) => {
            let shown = dropped.to_string();
            match &dropped {
                DroppedReport::Undecodable { reason, payload: p } => {
                    assert!(!reason.is_empty(), "{shown}");
                    assert!(p.chars().count() <= 256, "payload kept in full: {shown}");
                }
                DroppedReport::ZeroQuantity { fill_id } => {
                    assert!(!fill_id.is_empty() && shown.contains("quantity"), "{shown}");
                }
                DroppedReport::NonPositivePrice { fill_id, price } => {
                    assert!(!fill_id.is_empty() && shown.contains("price"), "{shown}");
                    assert!(*price <= 0.0, "{shown}");
                }
                other => assert!(!other.label().is_empty(), "{shown}"),
            }
            Err(())
        }
    }
}

#[test]
fn raw_bytes_never_panic() {
    let mut g = Gen(1);
    for _ in 0..20_000 {
        let bytes = g.bytes(300);
        let _ = check(&bytes);
    }
}

#[test]
fn json_alphabet_noise_never_panics() {
    let mut g = Gen(2);
    for _ in 0..20_000 {
        let bytes = g.json_noise(200);
        let _ = check(&bytes);
    }
}

#[test]
fn arbitrary_json_trees_never_panic() {
    let mut g = Gen(3);
    for _ in 0..10_000 {
        let value = g.json(4);
        let _ = check(&serde_json::to_vec(&value).unwrap());
    }
}

#[test]
fn mutated_valid_reports_are_accepted_only_when_valid() {
    let mut g = Gen(4);
    let samples = samples();
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..20_000 {
        let mut value = samples[i % samples.len()].clone();
        g.mutate(&mut value);
        match check(&serde_json::to_vec(&value).unwrap()) {
            Ok(()) => accepted += 1,
            Err(()) => refused += 1,
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

#[test]
fn the_unmutated_samples_are_accepted() {
    for sample in samples() {
        assert_eq!(
            check(&serde_json::to_vec(&sample).unwrap()),
            Ok(()),
            "{sample}"
        );
    }
}

#[test]
fn a_long_undecodable_payload_is_kept_truncated() {
    let payload = format!("{{\"type\":\"fill\",\"junk\":\"{}\"", "é".repeat(400));
    match decode_report(payload.as_bytes()) {
        Err(DroppedReport::Undecodable { payload: kept, .. }) => {
            assert!(
                kept.len() <= 256 * 3 && kept.chars().count() <= 256,
                "{kept}"
            );
        }
        other => panic!("expected an undecodable report, got {other:?}"),
    }
}

#[test]
fn a_zero_quantity_and_a_negative_price_are_named() {
    let fill = samples().remove(0);
    let mut zero = fill.clone();
    zero["quantity"] = json!(0.0);
    let err = decode_report(&serde_json::to_vec(&zero).unwrap()).unwrap_err();
    assert_eq!(err.label(), "zero_quantity");
    assert!(err.to_string().contains("f1"), "{err}");

    let mut negative = fill;
    negative["price"] = json!(-3.0);
    let err = decode_report(&serde_json::to_vec(&negative).unwrap()).unwrap_err();
    assert!(err.to_string().contains("price"), "{err}");
}

#[test]
fn the_facade_drops_the_fills_the_engine_refuses_naming_field_and_value() {
    let fill = samples().remove(0);
    for (field, value, label) in [
        ("price", json!(0.0), "non_positive_price"),
        ("price", json!(-3.0), "non_positive_price"),
        ("quantity", json!(0.0), "zero_quantity"),
    ] {
        let mut bad = fill.clone();
        bad[field] = value.clone();
        let err = decode_report(&serde_json::to_vec(&bad).unwrap()).unwrap_err();
        assert_eq!(err.label(), label, "{field} = {value}");
        let text = err.to_string();
        assert!(text.contains(&format!("{field} must be > 0")), "{text}");
        let got = value.as_f64().unwrap();
        assert!(text.contains(&format!("(got {got})")), "{text}");
        let ExecutionReport::Fill(parsed) = serde_json::from_value(bad).unwrap() else {
            panic!("a fill");
        };
        let engine = rustrade::engine::check_fill(&parsed).unwrap_err();
        assert_eq!(
            engine.to_string().split(':').next(),
            Some(field),
            "same rule"
        );
    }
    for nan in ["NaN", "1e999", "-1e999"] {
        let text = serde_json::to_string(&fill).unwrap().replace("100.5", nan);
        let err = decode_report(text.as_bytes()).unwrap_err();
        assert_eq!(err.label(), "undecodable", "{nan}");
    }
}
