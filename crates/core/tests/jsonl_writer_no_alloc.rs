//! Once warm, submitting a sample to the stream writer allocates nothing (the sampling thread
//! calls it every tick): value buffers and the queue go round between submitter and writer.
//! (The counting allocator counts this thread only; the writer thread runs beside it.)
mod counting_alloc;

use std::time::{Duration, Instant};

use hostseries_core::jsonl::writer::{StreamConfig, StreamWriter};
use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::SampleRef;
use hostseries_core::{MetricSet, ProcReader};

use counting_alloc::allocations;

#[test]
fn a_warm_submit_does_not_allocate() {
    let dir =
        std::env::temp_dir().join(format!("hostseries-writer-noalloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("run.jsonl")).unwrap();
    let mut reader = ProcReader::new(MetricSet::all());
    let mut errors = Vec::new();
    reader.read(&mut errors);
    let snap = reader.snapshot();
    let layout = LayoutTracker::default().for_snapshot(snap).clone();
    let mut values = Vec::new();
    layout.encode(snap, &mut values);
    let mut w = StreamWriter::start(
        StreamConfig {
            file,
            host: "node1".into(),
            hostname: "node1".into(),
            good_bytes: 0,
            fsync_interval: Duration::from_secs(3600),
            max_samples: u64::MAX,
        },
        Box::new(|| {}),
    )
    .unwrap();
    // The same values each time: lines keep their length, so the writer's buffer stops growing
    // too. One sample at a time, as a sampler submits at its cadence.
    let mut counted = 0;
    for i in 0..250u64 {
        let n = allocations(|| {
            w.submit(SampleRef {
                layout: &layout,
                seq: i,
                wall_ns: 1_700_000_000_000_000_000 + i,
                mono_ns: i,
                values: &values,
                errors: &errors,
            });
        });
        if i >= 50 {
            counted += n;
        }
        let t0 = Instant::now();
        while w.status().written <= i {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "sample {i} not written"
            );
            std::thread::yield_now();
        }
    }
    assert_eq!(counted, 0, "{counted} allocations in 200 warm submits");
    let st = w.close();
    assert_eq!((st.written, st.failure), (250, None));
    let _ = std::fs::remove_dir_all(&dir);
}
