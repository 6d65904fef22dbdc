//! The hold path allocates nothing: `on_market` with no working orders, and with resting orders
//! the event does not reach, is counted with the shared per-thread counting allocator.

mod common;

use common::*;
use rustrade_core::Side;
use rustrade_sim::{FundingModel, SimConfig};
use rustrade_testalloc::{Counting, allocations_of};

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn on_market_allocates_nothing_without_fills() {
    let probe = allocations_of(|| {
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
    let hold = allocations_of(|| {
        for e in &events[1..1_000] {
            v.on_market(e);
        }
    });
    assert_eq!(hold, 0, "hold path");

    v.submit(&limit("far", Side::Buy, 1.0, 10.0)).unwrap();
    v.submit(&stop("never", Side::Sell, 1.0, 5.0)).unwrap();
    v.on_market(&events[1_000]);
    while v.poll_report().is_some() {}
    let resting = allocations_of(|| {
        for e in &events[1_001..] {
            v.on_market(e);
        }
    });
    assert_eq!(resting, 0, "resting orders that are not reached");
    assert_eq!(v.working_orders(), 2);
}
