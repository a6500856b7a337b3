//! Once warm, a sample (read every file, parse, check the layout, store) allocates nothing.
use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::Store;
use hostseries_core::{MetricSet, ProcReader};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: AllocLayout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: AllocLayout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: AllocLayout, n: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn warm_samples_do_not_allocate() {
    let mut reader = ProcReader::new(MetricSet::all());
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(8);
    let mut errors = Vec::new();
    let mut sample = |count: bool| {
        COUNTING.store(count, Ordering::SeqCst);
        reader.read(&mut errors);
        let snap = reader.snapshot();
        let layout = layouts.for_snapshot(snap).clone();
        store.push(&layout, 0, 0, snap, &mut errors);
        COUNTING.store(false, Ordering::SeqCst);
    };
    // Warm up past the store's capacity so its value buffers are recycled from then on.
    for _ in 0..20 {
        sample(false);
    }
    for _ in 0..200 {
        sample(true);
    }
    // A disk or interface may come or go while this runs (a new layout); allow for one.
    let n = ALLOCS.load(Ordering::SeqCst);
    assert!(n <= 16, "{n} allocations in 200 warm samples");
}
