//! Fill values no fill may carry are refused by the engine itself, whichever driver delivers
//! them: the state is left as it was and the refusal names the field and the value.

mod common;

use common::{BASIC, btc, harness, malformed};
use rustrade_core::{Decision, Money, Price, Quantity};
use rustrade_engine::testkit::VenueScript;
use rustrade_engine::{BrainId, FillField, Malformed, check_fill};

#[test]
fn zero_and_negative_prices_and_a_zero_quantity_are_refused_by_the_engine() {
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let entry = h.last_placed().expect("an entry");
    h.accept(entry);
    let before = h.engine.order(&entry).cloned();
    let good = h.make_fill(entry, 1.0, 100.0, 0.1);
    let cases = [
        (FillField::Price, 0.0),
        (FillField::Price, -3.0),
        (FillField::Quantity, 0.0),
    ];
    for (i, (field, value)) in cases.into_iter().enumerate() {
        let mut bad = good;
        match field {
            FillField::Price => bad.price = Price::new(value).unwrap(),
            _ => bad.quantity = Quantity::new(value).unwrap(),
        }
        h.deliver_fill(&bad);
        let refused = malformed(&h.events);
        let Some(Malformed::InvalidFill { fill, problem }) = refused.get(i) else {
            panic!("case {i}: expected an invalid fill, got {refused:?}");
        };
        assert_eq!(
            (fill.fill_id, problem.field, problem.value),
            (bad.fill_id, field, value)
        );
        let text = problem.to_string();
        assert!(text.starts_with(&format!("{field}: must be > 0")), "{text}");
        assert!(text.contains(&format!("(got {value})")), "{text}");
    }
    assert_eq!(h.engine.position(&btc()).quantity, 0.0, "nothing applied");
    assert!(
        !h.engine.recalls_fill(&good.fill_id),
        "a refused fill does not use up its id"
    );
    assert_eq!(
        h.engine.order(&entry).cloned(),
        before,
        "the order is untouched"
    );
    h.deliver_fill(&good);
    assert_eq!(
        h.engine.position(&btc()).quantity,
        1.0,
        "the valid fill applies"
    );
}

#[test]
fn nan_cannot_reach_a_fill_and_the_rule_accepts_a_rebate() {
    assert!(Price::new(f64::NAN).is_err());
    assert!(Quantity::new(f64::NAN).is_err());
    assert!(Money::new(f64::INFINITY).is_err());
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let entry = h.last_placed().expect("an entry");
    let rebate = h.make_fill(entry, 1.0, 100.0, -0.05);
    assert_eq!(check_fill(&rebate), Ok(()));
}

#[test]
fn good_fills_whose_values_sum_past_f64_max_still_pass() {
    // The check's one-comparison fast path adds the values; an overflow there must fall back
    // to the field-by-field check, not refuse a valid fill.
    let mut h = harness(&BASIC, VenueScript::manual());
    h.candle(btc(), 100.0);
    h.decide(BrainId(0), btc(), &Decision::buy(1.0));
    let entry = h.last_placed().expect("an entry");
    let mut fill = h.make_fill(entry, 1.0, 100.0, 0.1);
    fill.price = Price::new(f64::MAX).unwrap();
    fill.quantity = Quantity::new(f64::MAX).unwrap();
    fill.fee = Money::new(-f64::MAX).unwrap();
    assert_eq!(check_fill(&fill), Ok(()));
    fill.quantity = Quantity::new(0.0).unwrap();
    assert_eq!(
        check_fill(&fill).map_err(|e| e.field),
        Err(FillField::Quantity)
    );
}
