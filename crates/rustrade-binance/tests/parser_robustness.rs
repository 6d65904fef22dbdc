//! The parsers' robustness contract on the stable toolchain, through the same entry point as
//! the libFuzzer targets in `fuzz/` (`parse::probe::fuzz_input`): the committed seeds (and a
//! local fuzzing corpus, when one exists), then proptest-generated raw bytes and mutations of
//! every documented sample. No input may panic a parser, every refusal must name its field, and
//! every accepted fill must be usable.

use std::path::Path;

use proptest::prelude::*;
use rustrade_binance::parse::probe::{Surface, fuzz_input, samples};

fn dir_of(surface: Surface) -> &'static str {
    match surface {
        Surface::Market => "market",
        Surface::User => "user",
        Surface::Rest => "rest",
    }
}

/// Every file under `fuzz/seeds/<target>` and `fuzz/corpus/<target>`.
fn corpus(surface: Surface) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for kind in ["seeds", "corpus"] {
        let Ok(entries) = std::fs::read_dir(root.join(kind).join(dir_of(surface))) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                out.push((e.path().display().to_string(), bytes));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_seeds_keep_the_contract() {
    for surface in Surface::ALL {
        let seeds = corpus(surface);
        assert!(
            seeds.len() >= 2 * samples(surface).len(),
            "{surface:?}: seeds missing"
        );
        for (name, bytes) in seeds {
            if let Err(broken) = fuzz_input(surface, &bytes) {
                panic!("{name}: {broken}");
            }
        }
    }
}

#[test]
fn unmutated_samples_are_accepted() {
    for surface in Surface::ALL {
        for s in samples(surface) {
            let mut input = vec![0u8];
            input.extend_from_slice(s.as_bytes());
            assert!(fuzz_input(surface, &input).unwrap() > 0, "{surface:?}: {s}");
        }
    }
}

fn surface() -> impl Strategy<Value = Surface> {
    prop_oneof![
        Just(Surface::Market),
        Just(Surface::User),
        Just(Surface::Rest)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn mutated_samples_keep_the_contract(
        s in surface(),
        pick in any::<u8>(),
        choices in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let mut input = vec![1u8, pick];
        input.extend(choices);
        if let Err(broken) = fuzz_input(s, &input) {
            prop_assert!(false, "{broken}");
        }
    }

    #[test]
    fn raw_bytes_keep_the_contract(
        s in surface(),
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let mut input = vec![0u8];
        input.extend(bytes);
        if let Err(broken) = fuzz_input(s, &input) {
            prop_assert!(false, "{broken}");
        }
    }

    #[test]
    fn json_shaped_junk_keeps_the_contract(
        s in surface(),
        text in r#"\{("[a-zA-Z]{1,3}":("[-0-9.NaE]{0,6}"|-?[0-9]{1,20}|true|null|\[\]|\{\}),?){0,12}\}"#,
    ) {
        let mut input = vec![0u8];
        input.extend_from_slice(text.as_bytes());
        if let Err(broken) = fuzz_input(s, &input) {
            prop_assert!(false, "{broken}");
        }
    }
}
