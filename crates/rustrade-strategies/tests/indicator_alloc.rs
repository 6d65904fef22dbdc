//! `next` never allocates: every indicator's windows are allocated by its constructor.

mod common;

use rustrade_testalloc::{Counting, allocations_of};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn next_allocates_nothing_during_and_after_warm_up() {
    let bars = common::walk(11, 2_000);
    // The counter works: construction allocates the windows.
    assert!(allocations_of(|| drop(std::hint::black_box(common::all(14)))) > 0);
    for n in [2, 14, 50] {
        for mut p in common::all(n) {
            let mut seen = 0usize;
            let allocations = allocations_of(|| {
                for b in &bars {
                    seen += usize::from((p.step)(b).is_some());
                }
            });
            assert!(seen > 0, "{} produced values", p.name);
            assert_eq!(allocations, 0, "{} (n = {n}) allocated in next", p.name);
        }
    }
}
