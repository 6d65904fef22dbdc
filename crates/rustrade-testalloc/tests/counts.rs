//! The allocator sees this thread's allocations, reallocations and live bytes.

#[global_allocator]
static GLOBAL: rustrade_testalloc::Counting = rustrade_testalloc::Counting;

use rustrade_testalloc::{allocations_of, live_bytes, peak_bytes, reset_peak};

#[test]
fn counts_allocations_and_reallocations() {
    assert_eq!(
        allocations_of(|| drop(std::hint::black_box(Box::new(1u64)))),
        1
    );
    let mut v: Vec<u8> = Vec::with_capacity(8);
    assert_eq!(
        allocations_of(|| v.reserve_exact(64)),
        1,
        "a realloc counts"
    );
    assert_eq!(allocations_of(|| v.push(1)), 0);
}

#[test]
fn tracks_live_and_peak_bytes() {
    let base = live_bytes();
    reset_peak();
    let block = std::hint::black_box(vec![0u8; 4096]);
    assert_eq!(live_bytes() - base, 4096);
    drop(block);
    assert_eq!(live_bytes(), base);
    assert_eq!(peak_bytes() - base, 4096);
}
