//! The hold path allocates nothing: `on_market` with no working orders, and with resting orders
//! the event does not reach, is counted with a thread-local counting allocator.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::*;
use rustrade_core::Side;
use rustrade_sim::{FundingModel, SimConfig};

struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter only reads and
// writes const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.with(Cell::get) {
            COUNT.with(|c| c.set(c.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn allocations(f: impl FnOnce()) -> u64 {
    COUNT.with(|c| c.set(0));
    ON.with(|on| on.set(true));
    f();
    ON.with(|on| on.set(false));
    COUNT.with(Cell::get)
}

#[test]
fn on_market_allocates_nothing_without_fills() {
    let probe = allocations(|| {
        std::hint::black_box(vec![1u8; 16]);
    });
    assert_eq!(probe, 1, "the counter sees allocations");
    let events: Vec<_> = (0..2_000)
        .map(|n| {
            let px = 100.0 + (n % 7) as f64;
            bar(n, px, px + 1.0, px - 1.0, px)
        })
        .collect();
    let mut v = venue(SimConfig::default());
    let hourly = FundingModel::Constant {
        rate: 0.0001,
        interval: std::time::Duration::from_secs(3_600),
        anchor: rustrade_core::Timestamp::EPOCH,
    };
    v.set_funding(&sym(), hourly).unwrap();
    v.on_market(&events[0]);
    let hold = allocations(|| {
        for e in &events[1..1_000] {
            v.on_market(e);
        }
    });
    assert_eq!(hold, 0, "hold path");

    v.submit(&limit("far", Side::Buy, 1.0, 10.0)).unwrap();
    v.submit(&stop("never", Side::Sell, 1.0, 5.0)).unwrap();
    v.on_market(&events[1_000]);
    while v.poll_report().is_some() {}
    let resting = allocations(|| {
        for e in &events[1_001..] {
            v.on_market(e);
        }
    });
    assert_eq!(resting, 0, "resting orders that are not reached");
    assert_eq!(v.working_orders(), 2);
}
