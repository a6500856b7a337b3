//! Once warm, a sample (read every file, parse, check the layout, store) allocates nothing.
mod counting_alloc;

use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::{SampleRef, Store};
use hostseries_core::{MetricSet, ProcReader};

use counting_alloc::allocations;

#[test]
fn warm_samples_do_not_allocate() {
    let mut reader = ProcReader::new(MetricSet::all());
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(8);
    let mut errors = Vec::new();
    let mut values = Vec::new();
    // The sampling thread's tick (sampler.rs `Tick::sample`): encode once, hand the sample on.
    let mut sample = || {
        reader.read(&mut errors);
        let snap = reader.snapshot();
        let layout = layouts.for_snapshot(snap).clone();
        values.clear();
        layout.encode(snap, &mut values);
        store.push_sample(SampleRef {
            layout: &layout,
            seq: 0,
            wall_ns: 0,
            mono_ns: 0,
            values: &values,
            errors: &errors,
        });
        errors.clear();
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

#[test]
fn the_counter_counts_this_thread_only() {
    let n = allocations(|| drop(std::hint::black_box(vec![1u8; 64])));
    assert_eq!(n, 1);
    let n = allocations(|| {
        std::thread::spawn(|| drop(std::hint::black_box(vec![1u8; 64])))
            .join()
            .unwrap()
    });
    // Spawning allocates here; the other thread's vector is not counted.
    assert!(n >= 1);
    let other = std::thread::spawn(|| allocations(|| drop(std::hint::black_box(vec![1u8; 64]))));
    assert_eq!(other.join().unwrap(), 1);
}

/// The sampler's compact series under a rolling bound reuses a dropped chunk's buffers: once a
/// chunk has been dropped, pushing allocates nothing.
#[test]
fn warm_rolling_series_does_not_allocate() {
    use hostseries_core::series::{Overflow, Retention, Series, CHUNK_SAMPLES};
    let mut reader = ProcReader::new(MetricSet::all());
    let mut layouts = LayoutTracker::default();
    let mut series = Series::new(Retention::count(8, Overflow::Rolling));
    let mut values = Vec::new();
    let mut errors = Vec::new();
    let mut sample = |series: &mut Series| {
        reader.read(&mut errors);
        let snap = reader.snapshot();
        let layout = layouts.for_snapshot(snap).clone();
        values.clear();
        layout.encode(snap, &mut values);
        let n = allocations(|| {
            series.push(SampleRef {
                layout: &layout,
                seq: 0,
                wall_ns: 0,
                mono_ns: 0,
                values: &values,
                errors: &[],
            });
        });
        errors.clear();
        n
    };
    for _ in 0..3 * CHUNK_SAMPLES {
        sample(&mut series);
    }
    let n: usize = (0..3 * CHUNK_SAMPLES).map(|_| sample(&mut series)).sum();
    // A disk or interface may come or go while this runs (a keyframe of another size); allow it.
    assert!(
        n <= 4,
        "{n} allocations in {} warm pushes",
        3 * CHUNK_SAMPLES
    );
}
