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

/// One sample in compact form, borrowed: what the sampling thread hands to each store.
#[derive(Clone, Copy, Debug)]
pub struct SampleRef<'a> {
    pub layout: &'a Arc<Layout>,
    /// Samples taken before it since the start.
    pub seq: u64,
    pub wall_ns: u64,
    pub mono_ns: u64,
    /// In `layout`'s order ([`Layout::encode`]).
    pub values: &'a [u64],
    /// In the order they arose.
    pub errors: &'a [SampleError],
}

/// One sample in compact form, owning its values (reused: see [`OwnedSample::assign`]).
#[derive(Clone, Debug)]
pub struct OwnedSample {
    pub layout: Arc<Layout>,
    pub seq: u64,
    pub wall_ns: u64,
    pub mono_ns: u64,
    pub values: Vec<u64>,
    pub errors: Vec<SampleError>,
}

impl OwnedSample {
    /// A copy of `s`, in `values` (a recycled buffer: no allocation once it is large enough).
    pub fn new(s: SampleRef<'_>, mut values: Vec<u64>) -> OwnedSample {
        values.clear();
        values.extend_from_slice(s.values);
        OwnedSample {
            layout: s.layout.clone(),
            seq: s.seq,
            wall_ns: s.wall_ns,
            mono_ns: s.mono_ns,
            values,
            errors: s.errors.to_vec(),
        }
    }

    /// Become a copy of `s`, reusing this sample's buffers.
    pub fn assign(&mut self, s: SampleRef<'_>) {
        if !Arc::ptr_eq(&self.layout, s.layout) {
            self.layout = s.layout.clone();
        }
        self.seq = s.seq;
        self.wall_ns = s.wall_ns;
        self.mono_ns = s.mono_ns;
        self.values.clear();
        self.values.extend_from_slice(s.values);
        self.errors.clear();
        self.errors.extend_from_slice(s.errors);
    }

    pub fn as_ref(&self) -> SampleRef<'_> {
        SampleRef {
            layout: &self.layout,
            seq: self.seq,
            wall_ns: self.wall_ns,
            mono_ns: self.mono_ns,
            values: &self.values,
            errors: &self.errors,
        }
    }
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
    /// (sample index, JSON text): what a stored sample carried beyond its layout's values (custom
    /// collectors' values), for the stores that keep samples from elsewhere ([`crate::blob`]).
    pub extras: Vec<(u32, String)>,
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

    /// Append one sample to the columns (its layout too, unless this batch has it already).
    pub fn push(&mut self, s: SampleRef<'_>) {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        let i = self.layout_ids.len() as u32;
        if !self.layouts.iter().any(|l| l.id == s.layout.id) {
            self.layouts.push(s.layout.clone());
        }
        self.layout_ids.push(s.layout.id);
        self.seqs.push(s.seq);
        self.wall_ns.push(s.wall_ns);
        self.mono_ns.push(s.mono_ns);
        self.values.extend_from_slice(s.values);
        self.offsets.push(self.values.len() as u32);
        self.errors.extend(s.errors.iter().map(|e| (i, e.clone())));
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
    records: VecDeque<OwnedSample>,
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
        let mut values = self.take_buffer();
        layout.encode(snap, &mut values);
        self.commit(OwnedSample {
            layout: layout.clone(),
            seq: self.pushed,
            wall_ns,
            mono_ns,
            values,
            errors: std::mem::take(errors),
        });
    }

    /// Add a sample already encoded, under its own sequence number.
    pub fn push_sample(&mut self, s: SampleRef<'_>) {
        let values = self.take_buffer();
        self.commit(OwnedSample::new(s, values));
    }

    /// A recycled value buffer (the oldest record's, when full).
    fn take_buffer(&mut self) -> Vec<u64> {
        if self.records.len() >= self.capacity {
            if let Some(old) = self.records.pop_front() {
                self.pool.push(old.values);
                self.dropped += 1;
            }
        }
        let mut values = self.pool.pop().unwrap_or_default();
        values.clear();
        values
    }

    fn commit(&mut self, s: OwnedSample) {
        self.pushed = s.seq + 1;
        self.records.push_back(s);
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
        for r in self.records.drain(..) {
            b.push(r.as_ref());
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
