//! Once warm, a sample (read every file, parse, check the layout, store) allocates nothing.
mod counting_alloc;

use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::Store;
use hostseries_core::{MetricSet, ProcReader};

use counting_alloc::allocations;

#[test]
fn warm_samples_do_not_allocate() {
    let mut reader = ProcReader::new(MetricSet::all());
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(8);
    let mut errors = Vec::new();
    let mut sample = || {
        reader.read(&mut errors);
        let snap = reader.snapshot();
        let layout = layouts.for_snapshot(snap).clone();
        store.push(&layout, 0, 0, snap, &mut errors);
    };
    // Warm up past the store's capacity so its value buffers are recycled from then on.
    for _ in 0..20 {
        sample();
    }
    let n = allocations(|| {
        for _ in 0..200 {
            sample();
        }
    });
    // A disk or interface may come or go while this runs (a new layout); allow for one.
    assert!(n <= 16, "{n} allocations in 200 warm samples");
}
