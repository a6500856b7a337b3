//! The bounded native sample store: compact records (a layout and flat `u64` values), drained
//! in batches. Value buffers are recycled, so a steady-state push allocates nothing.
use std::collections::VecDeque;
use std::sync::Arc;

use crate::layout::Layout;
use crate::snapshot::Snapshot;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleError {
    /// The section (`diskstats`, ...) or other source at fault.
    pub source: String,
    pub message: String,
}

struct Record {
    layout: Arc<Layout>,
    seq: u64,
    wall_ns: u64,
    mono_ns: u64,
    values: Vec<u64>,
    errors: Vec<SampleError>,
}

/// Samples handed to the caller in one go, as columns.
#[derive(Debug, Default)]
pub struct Batch {
    /// Each layout the samples use, once.
    pub layouts: Vec<Arc<Layout>>,
    /// Per sample: its layout's id.
    pub layout_ids: Vec<u32>,
    /// Per sample: its sequence number (samples taken before it since the start).
    pub seqs: Vec<u64>,
    pub wall_ns: Vec<u64>,
    pub mono_ns: Vec<u64>,
    /// Per sample `i`, its values are `values[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<u32>,
    pub values: Vec<u64>,
    /// (sample index in this batch, error).
    pub errors: Vec<(u32, SampleError)>,
    /// Ticks that came too late to be sampled, since start.
    pub missed_ticks: u64,
    /// Samples dropped because the store was full, since start.
    pub dropped: u64,
    /// Malformed lines the parsers skipped, since start.
    pub skipped_lines: u64,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.layout_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layout_ids.is_empty()
    }
}

/// Hands each layout to the caller once: a batch keeps only layouts not sent before, so names
/// cross to JS once, not on every drain. A set, not a watermark: a history or tail batch may
/// carry an older layout after a newer one has crossed.
#[derive(Default)]
pub struct SentLayouts(std::collections::HashSet<u32>);

impl SentLayouts {
    pub fn filter(&mut self, b: &mut Batch) {
        let sent = &mut self.0;
        b.layouts.retain(|l| sent.insert(l.id));
    }
}

pub struct Store {
    capacity: usize,
    records: VecDeque<Record>,
    pool: Vec<Vec<u64>>,
    dropped: u64,
    pushed: u64,
}

impl Store {
    pub fn new(capacity: usize) -> Store {
        Store {
            capacity: capacity.max(1),
            records: VecDeque::new(),
            pool: Vec::new(),
            dropped: 0,
            pushed: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Add a sample; when full, the oldest is dropped and counted (the caller drains to keep up).
    pub fn push(
        &mut self,
        layout: &Arc<Layout>,
        wall_ns: u64,
        mono_ns: u64,
        snap: &Snapshot,
        errors: &mut Vec<SampleError>,
    ) {
        let values = self.take_buffer(layout.value_count());
        layout.encode(snap, values);
        let seq = self.pushed;
        self.commit(layout, seq, wall_ns, mono_ns, std::mem::take(errors));
    }

    /// Add a sample already encoded (`values` in `layout`'s order) under its sequence number.
    pub fn push_values(
        &mut self,
        layout: &Arc<Layout>,
        seq: u64,
        wall_ns: u64,
        mono_ns: u64,
        values: &[u64],
        errors: Vec<SampleError>,
    ) {
        self.take_buffer(values.len()).extend_from_slice(values);
        self.commit(layout, seq, wall_ns, mono_ns, errors);
    }

    /// A recycled value buffer, empty, parked at the back of the pool for `commit`.
    fn take_buffer(&mut self, n: usize) -> &mut Vec<u64> {
        if self.records.len() >= self.capacity {
            if let Some(old) = self.records.pop_front() {
                self.pool.push(old.values);
                self.dropped += 1;
            }
        }
        if self.pool.is_empty() {
            self.pool.push(Vec::new());
        }
        let values = self.pool.last_mut().expect("one at least");
        values.clear();
        values.reserve(n);
        values
    }

    fn commit(
        &mut self,
        layout: &Arc<Layout>,
        seq: u64,
        wall_ns: u64,
        mono_ns: u64,
        errors: Vec<SampleError>,
    ) {
        let values = self.pool.pop().expect("take_buffer left one");
        self.pushed = seq + 1;
        self.records.push_back(Record {
            layout: layout.clone(),
            seq,
            wall_ns,
            mono_ns,
            values,
            errors,
        });
    }

    /// Move every stored sample into a batch.
    pub fn drain(&mut self) -> Batch {
        let n = self.records.len();
        let total: usize = self.records.iter().map(|r| r.values.len()).sum();
        let mut b = Batch {
            layout_ids: Vec::with_capacity(n),
            seqs: Vec::with_capacity(n),
            wall_ns: Vec::with_capacity(n),
            mono_ns: Vec::with_capacity(n),
            offsets: Vec::with_capacity(n + 1),
            values: Vec::with_capacity(total),
            dropped: self.dropped,
            ..Batch::default()
        };
        b.offsets.push(0);
        for (i, r) in self.records.drain(..).enumerate() {
            if !b.layouts.iter().any(|l| l.id == r.layout.id) {
                b.layouts.push(r.layout.clone());
            }
            b.layout_ids.push(r.layout.id);
            b.seqs.push(r.seq);
            b.wall_ns.push(r.wall_ns);
            b.mono_ns.push(r.mono_ns);
            b.values.extend_from_slice(&r.values);
            b.offsets.push(b.values.len() as u32);
            b.errors.extend(r.errors.into_iter().map(|e| (i as u32, e)));
            self.pool.push(r.values);
        }
        // Keep enough recycled buffers for one full store, no more.
        self.pool.truncate(self.capacity);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LayoutTracker;
    use crate::metrics::{Metric, MetricSet};
    use crate::reader::ProcReader;

    #[test]
    fn bounded_and_drained() {
        let mut store = Store::new(3);
        let mut reader = ProcReader::new(MetricSet::all());
        let mut layouts = LayoutTracker::default();
        for i in 0..5 {
            let mut errs = Vec::new();
            reader.read(&mut errs);
            let snap = reader.snapshot();
            let l = layouts.for_snapshot(snap).clone();
            store.push(&l, i, i, snap, &mut errs);
        }
        assert_eq!(store.len(), 3);
        let b = store.drain();
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped, 2);
        assert_eq!(b.wall_ns, vec![2, 3, 4]);
        assert_eq!(b.layouts.len(), 1);
        assert!(b.layouts[0].present.contains(Metric::Meminfo));
        assert_eq!(*b.offsets.last().unwrap() as usize, b.values.len());
        assert_eq!(b.values.len(), 3 * b.layouts[0].value_count());
        assert!(store.is_empty());
    }
}
