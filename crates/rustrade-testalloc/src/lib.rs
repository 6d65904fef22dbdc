//! A global allocator for tests that forwards to the system allocator and keeps, per thread, the
//! number of allocations and the live and peak bytes. Per thread, so tests running in parallel
//! (and the harness's own threads) do not disturb each other's counts.
//!
//! A test binary installs it once and measures with [`allocations_of`], [`allocations`],
//! [`live_bytes`], [`reset_peak`] and [`peak_bytes`]; without it installed the counters stay at
//! zero.
//!
//! ```
//! #[global_allocator]
//! static GLOBAL: rustrade_testalloc::Counting = rustrade_testalloc::Counting;
//!
//! let boxed = rustrade_testalloc::allocations_of(|| drop(std::hint::black_box(Box::new(1u64))));
//! assert_eq!(boxed, 1);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator; see the crate documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Records one allocation (`alloc` or `realloc`, `counted`) and a change of the live bytes.
/// `try_with`: a thread's slots may be gone while it shuts down.
fn record(counted: bool, delta: isize) {
    if counted {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
    }
    let _ = LIVE.try_with(|live| {
        live.set(live.get() + delta);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
    });
}

fn size(bytes: usize) -> isize {
    isize::try_from(bytes).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// bookkeeping only touches const-initialised thread-locals, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record(true, size(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record(false, -size(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record(true, size(new_size) - size(layout.size()));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations (`alloc` and `realloc` calls) this thread has made so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Allocations this thread makes while running `f`.
pub fn allocations_of(f: impl FnOnce()) -> u64 {
    let before = allocations();
    f();
    allocations() - before
}

/// Bytes this thread has allocated and not freed (negative when it freed memory another thread
/// allocated).
pub fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// Starts a new peak measurement from the current [`live_bytes`].
pub fn reset_peak() {
    PEAK.with(|peak| peak.set(live_bytes()));
}

/// The highest [`live_bytes`] since the last [`reset_peak`] (or since the thread started).
pub fn peak_bytes() -> isize {
    PEAK.with(Cell::get)
}
