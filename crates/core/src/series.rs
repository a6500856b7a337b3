//! One host's samples kept compactly, in the one encoding every store of samples uses (the
//! collector's memory, a stream's unwritten samples, the aggregator's chunks): samples live in
//! chunks of [`CHUNK_SAMPLES`]; the first sample of a chunk (and any whose layout changed) is a
//! keyframe of raw values, every other one a bitmap of the values that changed since the
//! previous sample plus their differences as zigzag varints. Most counters move little or not
//! at all between ticks, so a sample of ~600 values takes ~150 bytes instead of ~4.8 KB.
//!
//! A chunk decodes on its own, so the oldest can be dropped whole (a rolling window) and any
//! sample decodes from its chunk's start. Values are exact `u64`: deltas wrap, never round.
use std::collections::VecDeque;
use std::sync::Arc;

use crate::layout::Layout;
use crate::store::{Batch, OwnedSample, SampleError, SampleRef};

/// Samples per chunk: the unit in which a rolling window drops its oldest samples.
pub const CHUNK_SAMPLES: usize = 128;

const KEYFRAME: u8 = 1;
const DELTA: u8 = 0;

/// What a bounded series does once it holds `max_samples`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Stop keeping: the first `max_samples` stay.
    KeepFirst,
    /// Keep the latest `max_samples`, dropping whole chunks of the oldest.
    Rolling,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub max_samples: usize,
    pub overflow: Overflow,
    /// Also a rolling window by time: samples taken more than this before the newest one (by
    /// the monotonic clock) are out of the window, and dropped chunk by chunk.
    pub max_age_ns: u64,
}

impl Retention {
    pub const UNBOUNDED: Retention = Retention {
        max_samples: usize::MAX,
        overflow: Overflow::KeepFirst,
        max_age_ns: u64::MAX,
    };

    /// A bound on the count only.
    pub const fn count(max_samples: usize, overflow: Overflow) -> Retention {
        Retention {
            max_samples,
            overflow,
            max_age_ns: u64::MAX,
        }
    }
}

struct Chunk {
    /// Sequence number of its first sample.
    base: u64,
    data: Vec<u8>,
    offsets: Vec<u32>,
    layout_ids: Vec<u32>,
    wall_ns: Vec<u64>,
    mono_ns: Vec<u64>,
}

impl Chunk {
    fn new(base: u64, bytes: usize) -> Chunk {
        Chunk {
            base,
            data: Vec::with_capacity(bytes),
            offsets: Vec::with_capacity(CHUNK_SAMPLES),
            layout_ids: Vec::with_capacity(CHUNK_SAMPLES),
            wall_ns: Vec::with_capacity(CHUNK_SAMPLES),
            mono_ns: Vec::with_capacity(CHUNK_SAMPLES),
        }
    }

    fn len(&self) -> usize {
        self.offsets.len()
    }

    /// Reuse a dropped chunk's buffers (a rolling window allocates nothing once warm).
    fn reset(&mut self, base: u64) {
        self.base = base;
        self.data.clear();
        self.offsets.clear();
        self.layout_ids.clear();
        self.wall_ns.clear();
        self.mono_ns.clear();
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = data[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Append one sample in the chunk encoding: a keyframe when `prev` is `None`, else the values
/// that differ from `prev` (of the same length).
pub fn encode_sample(out: &mut Vec<u8>, values: &[u64], prev: Option<&[u64]>) {
    let Some(prev) = prev else {
        out.push(KEYFRAME);
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        return;
    };
    debug_assert_eq!(prev.len(), values.len());
    out.push(DELTA);
    let bitmap = out.len();
    out.resize(bitmap + values.len().div_ceil(8), 0);
    for (j, (&v, &p)) in values.iter().zip(prev).enumerate() {
        if v == p {
            continue;
        }
        out[bitmap + j / 8] |= 1 << (j % 8);
        let d = v.wrapping_sub(p) as i64;
        put_varint(out, ((d << 1) ^ (d >> 63)) as u64);
    }
}

/// Decode the sample at `data[pos..]` into `values` (which holds the previous sample's values
/// for a delta; resized for a keyframe). Returns the position after it.
pub fn decode_sample(data: &[u8], mut pos: usize, n: usize, values: &mut Vec<u64>) -> usize {
    let tag = data[pos];
    pos += 1;
    if tag == KEYFRAME {
        values.clear();
        values.extend(
            data[pos..pos + 8 * n]
                .chunks_exact(8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes"))),
        );
        return pos + 8 * n;
    }
    let bitmap = pos;
    pos += n.div_ceil(8);
    for (j, v) in values.iter_mut().enumerate().take(n) {
        if data[bitmap + j / 8] & (1 << (j % 8)) == 0 {
            continue;
        }
        let z = get_varint(data, &mut pos);
        let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
        *v = v.wrapping_add(d as u64);
    }
    pos
}

pub struct Series {
    retention: Retention,
    chunks: VecDeque<Chunk>,
    /// A dropped chunk, kept for its buffers.
    spare: Option<Chunk>,
    /// Layouts the held samples use (few: one per change of disks or interfaces).
    layouts: Vec<Arc<Layout>>,
    /// Errors of held samples, by sequence number, ascending.
    errors: VecDeque<(u64, Vec<SampleError>)>,
    /// The number (`pushed` count) of the last sample encoded: the next one is a delta from it
    /// when it is still `recent`'s older entry (no third copy of the values is kept: measured,
    /// the copy cost the sampling thread 1–3 µs a tick with caches cold).
    last_encoded: Option<u64>,
    /// The last two samples pushed, kept or not, oldest first (for `current()` and rates).
    recent: VecDeque<OwnedSample>,
    /// Sequence number of the oldest held sample.
    first: u64,
    /// Sequence number the next held sample gets.
    end: u64,
    /// Samples pushed, kept or not.
    pushed: u64,
}

impl Series {
    pub fn new(retention: Retention) -> Series {
        Series {
            retention,
            chunks: VecDeque::new(),
            spare: None,
            layouts: Vec::new(),
            errors: VecDeque::new(),
            last_encoded: None,
            recent: VecDeque::with_capacity(2),
            first: 0,
            end: 0,
            pushed: 0,
        }
    }

    /// Samples held (a rolling window holds up to a chunk more than its `max_samples`).
    pub fn len(&self) -> usize {
        (self.end - self.first) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.first
    }

    /// Samples pushed since the start, kept or not.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Samples within the window (at most `max_samples`, none older than `max_age_ns`).
    pub fn visible(&self) -> usize {
        (self.end - self.visible_from()) as usize
    }

    /// Sequence number of the oldest sample within the window.
    pub fn visible_from(&self) -> u64 {
        let by_count = self.end - self.len().min(self.retention.max_samples) as u64;
        if self.retention.max_age_ns == u64::MAX {
            return by_count;
        }
        by_count.max(self.seq_within(self.retention.max_age_ns))
    }

    /// Bytes held by the encoded samples and their indexes.
    pub fn bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.data.capacity() + c.offsets.capacity() * 4 + c.layout_ids.capacity() * 4)
            .sum::<usize>()
            + self.chunks.len() * CHUNK_SAMPLES * 16
    }

    /// Add a sample; returns whether it was kept. It is numbered by this series (its own
    /// `seq` is not used: a series numbers what it was given, from 0).
    pub fn push(&mut self, s: SampleRef<'_>) -> bool {
        let SampleRef {
            layout,
            wall_ns,
            mono_ns,
            values,
            errors,
            ..
        } = s;
        self.remember(s);
        let this = self.pushed;
        self.pushed += 1;
        let r = self.retention;
        if r.overflow == Overflow::KeepFirst && self.len() >= r.max_samples {
            return false;
        }
        let full = self.chunks.back().is_none_or(|c| c.len() >= CHUNK_SAMPLES);
        if full {
            // Size a new chunk like the last one, so that it rarely grows.
            let bytes = self
                .chunks
                .back()
                .map_or(0, |c| c.data.len() + c.data.len() / 8);
            let chunk = match self.spare.take() {
                Some(mut c) => {
                    c.reset(self.end);
                    c
                }
                None => Chunk::new(self.end, bytes),
            };
            self.chunks.push_back(chunk);
        }
        let chunk = self.chunks.back_mut().expect("pushed above");
        // The chunk's previous sample, which a delta is decoded against: the older of the two
        // recent ones, if it was the last encoded (a sample not kept is not encoded).
        let prev = match (self.recent.front(), self.last_encoded) {
            (Some(p), Some(n)) if self.recent.len() == 2 && n + 1 == this => Some(p),
            _ => None,
        };
        let prev = prev
            .filter(|p| {
                chunk.len() > 0 && p.layout.id == layout.id && p.values.len() == values.len()
            })
            .map(|p| &p.values[..]);
        chunk.offsets.push(chunk.data.len() as u32);
        chunk.layout_ids.push(layout.id);
        chunk.wall_ns.push(wall_ns);
        chunk.mono_ns.push(mono_ns);
        encode_sample(&mut chunk.data, values, prev);
        self.last_encoded = Some(this);
        if !self.layouts.iter().any(|l| l.id == layout.id) {
            self.layouts.push(layout.clone());
        }
        if !errors.is_empty() {
            self.errors.push_back((self.end, errors.to_vec()));
        }
        self.end += 1;
        if r.overflow == Overflow::Rolling {
            while self.len() >= r.max_samples.saturating_add(CHUNK_SAMPLES) && self.chunks.len() > 1
            {
                self.drop_oldest_chunk();
            }
        }
        if r.max_age_ns != u64::MAX {
            // A chunk goes once its newest sample has left the window by time.
            let from = mono_ns.saturating_sub(r.max_age_ns);
            while self.chunks.len() > 1
                && self
                    .chunks
                    .front()
                    .is_some_and(|c| c.mono_ns.last().is_some_and(|&m| m < from))
            {
                self.drop_oldest_chunk();
            }
        }
        true
    }

    fn remember(&mut self, s: SampleRef<'_>) {
        let s = SampleRef {
            seq: self.pushed,
            ..s
        };
        if self.recent.len() == 2 {
            let mut r = self.recent.pop_front().expect("two held");
            r.assign(s);
            self.recent.push_back(r);
        } else {
            self.recent.push_back(OwnedSample::new(s, Vec::new()));
        }
    }

    fn drop_oldest_chunk(&mut self) {
        let Some(c) = self.chunks.pop_front() else {
            return;
        };
        self.first = c.base + c.len() as u64;
        while self.errors.front().is_some_and(|e| e.0 < self.first) {
            self.errors.pop_front();
        }
        let chunks = &self.chunks;
        self.layouts
            .retain(|l| chunks.iter().any(|c| c.layout_ids.contains(&l.id)));
        self.spare = Some(c);
    }

    /// Sequence number of the first held sample taken `last_ns` or less before the newest one
    /// (from the stored clocks, decoding nothing); `end` when none is held.
    pub fn seq_within(&self, last_ns: u64) -> u64 {
        let Some(newest) = self.chunks.back().and_then(|c| c.mono_ns.last()) else {
            return self.end;
        };
        let from = newest.saturating_sub(last_ns);
        for c in &self.chunks {
            if let Some(j) = c.mono_ns.iter().position(|&m| m >= from) {
                return c.base + j as u64;
            }
        }
        self.end
    }

    /// Sequence number the next kept sample would get: held samples are `first..end`.
    pub fn end_seq(&self) -> u64 {
        self.end
    }

    /// The samples within the window from sequence number `from` on (with `last_ns`, only
    /// those taken that long or less before the newest), decoded into `out`.
    pub fn window_into(&self, from: u64, last_ns: Option<u64>, out: &mut Batch) {
        let mut from = from.max(self.visible_from());
        if let Some(ns) = last_ns {
            from = from.max(self.seq_within(ns));
        }
        self.decode_into(from, out);
    }

    /// Every held sample from sequence number `from` on, decoded into `out` (appended, with
    /// their layouts, sequence numbers and errors).
    pub fn decode_into(&self, from: u64, out: &mut Batch) {
        let mut values = Vec::new();
        if out.offsets.is_empty() {
            out.offsets.push(0);
        }
        for c in &self.chunks {
            if c.base + (c.len() as u64) <= from {
                continue;
            }
            for j in 0..c.len() {
                let seq = c.base + j as u64;
                let layout = self.layout(c.layout_ids[j]);
                decode_sample(
                    &c.data,
                    c.offsets[j] as usize,
                    layout.value_count(),
                    &mut values,
                );
                if seq < from {
                    continue;
                }
                let s = SampleRef {
                    layout,
                    seq,
                    wall_ns: c.wall_ns[j],
                    mono_ns: c.mono_ns[j],
                    values: &values,
                    errors: self.errors_of(seq),
                };
                out.push(s);
            }
        }
    }

    /// The last `n` (at most 2) samples pushed, kept or not, appended to `out`.
    pub fn tail_into(&self, n: usize, out: &mut Batch) {
        if out.offsets.is_empty() {
            out.offsets.push(0);
        }
        for r in self.recent.iter().skip(self.recent.len().saturating_sub(n)) {
            out.push(r.as_ref());
        }
    }

    fn layout(&self, id: u32) -> &Arc<Layout> {
        self.layouts
            .iter()
            .find(|l| l.id == id)
            .expect("a held sample's layout is held")
    }

    fn errors_of(&self, seq: u64) -> &[SampleError] {
        let i = self.errors.partition_point(|e| e.0 < seq);
        match self.errors.get(i) {
            Some((s, e)) if *s == seq => e,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::LayoutTracker;
    use crate::metrics::MetricSet;
    use crate::reader::ProcReader;
    use proptest::prelude::*;

    /// A sample to push (a series numbers its own).
    fn at<'a>(
        layout: &'a Arc<Layout>,
        wall_ns: u64,
        mono_ns: u64,
        values: &'a [u64],
        errors: &'a [SampleError],
    ) -> SampleRef<'a> {
        SampleRef {
            layout,
            seq: 0,
            wall_ns,
            mono_ns,
            values,
            errors,
        }
    }

    fn read(n: usize) -> (Vec<Arc<Layout>>, Vec<Vec<u64>>) {
        let mut reader = ProcReader::new(MetricSet::all());
        let mut layouts = LayoutTracker::default();
        let (mut ls, mut vs) = (Vec::new(), Vec::new());
        for _ in 0..n {
            reader.read(&mut Vec::new());
            let snap = reader.snapshot();
            let l = layouts.for_snapshot(snap).clone();
            let mut v = Vec::new();
            l.encode(snap, &mut v);
            ls.push(l);
            vs.push(v);
        }
        (ls, vs)
    }

    #[test]
    fn real_samples_round_trip_and_stay_small() {
        let (ls, vs) = read(300);
        let mut s = Series::new(Retention::UNBOUNDED);
        for (i, (l, v)) in ls.iter().zip(&vs).enumerate() {
            assert!(s.push(at(l, i as u64, i as u64, v, &[])));
        }
        let mut b = Batch::default();
        s.decode_into(0, &mut b);
        assert_eq!(b.len(), 300);
        for (i, v) in vs.iter().enumerate() {
            assert_eq!(
                &b.values[b.offsets[i] as usize..b.offsets[i + 1] as usize],
                &v[..]
            );
            assert_eq!(b.seqs[i], i as u64);
        }
        let per_sample = s.chunks.iter().map(|c| c.data.len()).sum::<usize>() / 300;
        let raw = vs[0].len() * 8;
        assert!(per_sample * 4 < raw, "{per_sample} B a sample of {raw} raw");
    }

    fn layout_of(n: usize) -> Arc<Layout> {
        // A snapshot of n vmstat keys gives a layout of n values.
        let mut snap = crate::snapshot::Snapshot {
            present: [crate::metrics::Metric::Vmstat].into_iter().collect(),
            ..Default::default()
        };
        let mut names = crate::intern::Interner::default();
        for k in 0..n {
            snap.vmstat
                .push((names.intern(format!("k{k}").as_bytes()), 0));
        }
        let l = Arc::new(Layout::of(n as u32, &snap));
        assert_eq!(l.value_count(), n);
        l
    }

    proptest! {
        /// Any values (wrapping deltas, u64::MAX, a layout change) decode to what was pushed.
        #[test]
        fn decode_equals_pushed(
            samples in proptest::collection::vec(
                (0usize..3, proptest::collection::vec(any::<u64>(), 6)), 1..300),
            small in proptest::collection::vec(0u64..4, 6),
        ) {
            let layouts: Vec<_> = (0..3).map(|k| layout_of(4 + k)).collect();
            let mut s = Series::new(Retention::UNBOUNDED);
            let mut expect = Vec::new();
            for (i, (k, v)) in samples.iter().enumerate() {
                // Mostly small moves from the previous sample, as counters do.
                let v: Vec<u64> = if i % 3 == 0 { v[..4 + k].to_vec() } else {
                    v[..4 + k].iter().zip(&small).map(|(a, d)| a / 1024 + d).collect()
                };
                let errs = if i % 7 == 0 { vec![SampleError { source: "x".into(), message: format!("{i}") }] } else { vec![] };
                s.push(at(&layouts[*k], i as u64, i as u64 * 10, &v, &errs));
                expect.push((v, errs));
            }
            let mut b = Batch::default();
            s.decode_into(0, &mut b);
            prop_assert_eq!(b.len(), expect.len());
            for (i, (v, errs)) in expect.iter().enumerate() {
                prop_assert_eq!(&b.values[b.offsets[i] as usize..b.offsets[i + 1] as usize], &v[..]);
                let got: Vec<_> = b.errors.iter().filter(|e| e.0 as usize == i).map(|e| e.1.clone()).collect();
                prop_assert_eq!(&got, errs);
            }
        }
    }

    proptest! {
        /// Deltas are taken from the older of the two recent samples, not from a copy of the
        /// last values encoded: with keep-first (pushes past the cap are remembered, not kept)
        /// and a window by time, what is held still decodes to what was kept.
        #[test]
        fn samples_not_kept_are_never_a_delta_base(
            gaps in proptest::collection::vec(1u64..400, 1..800),
            max_samples in 1usize..300,
        ) {
            let l = layout_of(3);
            let mut s = Series::new(Retention {
                max_samples,
                overflow: Overflow::KeepFirst,
                max_age_ns: 10_000,
            });
            let mut held = std::collections::VecDeque::new();
            let mut t = 0;
            for (i, g) in gaps.iter().enumerate() {
                t += g;
                let v = [i as u64, t, i as u64 % 3];
                if s.push(at(&l, t, t, &v, &[])) {
                    held.push_back(v);
                }
                while held.len() > s.len() {
                    held.pop_front();
                }
            }
            let mut b = Batch::default();
            s.decode_into(s.end - s.len() as u64, &mut b);
            prop_assert_eq!(b.len(), held.len());
            for (i, v) in held.iter().enumerate() {
                let got = &b.values[b.offsets[i] as usize..b.offsets[i + 1] as usize];
                prop_assert_eq!(got, &v[..]);
            }
        }
    }

    #[test]
    fn keep_first_and_rolling() {
        let l = layout_of(3);
        let mut keep = Series::new(Retention::count(5, Overflow::KeepFirst));
        let mut roll = Series::new(Retention::count(5, Overflow::Rolling));
        for i in 0..1000u64 {
            keep.push(at(&l, i, i, &[i, 1, 2], &[]));
            roll.push(at(&l, i, i, &[i, 1, 2], &[]));
        }
        assert_eq!(
            (keep.len(), keep.pushed(), keep.visible_from()),
            (5, 1000, 0)
        );
        assert_eq!(roll.pushed(), 1000);
        assert!(roll.len() < 5 + CHUNK_SAMPLES, "{} held", roll.len());
        assert_eq!(roll.visible_from(), 995);
        let mut b = Batch::default();
        roll.decode_into(roll.visible_from(), &mut b);
        assert_eq!(b.wall_ns, vec![995, 996, 997, 998, 999]);
        // The last two pushed, kept or not.
        let mut t = Batch::default();
        keep.tail_into(2, &mut t);
        assert_eq!(
            (t.wall_ns.clone(), t.seqs.clone()),
            (vec![998, 999], vec![998, 999])
        );
        assert_eq!(&t.values[3..], &[999, 1, 2]);
    }

    #[test]
    fn rolling_window_by_time() {
        let l = layout_of(1);
        // 10 ns a sample, a window of 1000 ns: ~100 samples within it.
        let mut s = Series::new(Retention {
            max_age_ns: 1000,
            ..Retention::UNBOUNDED
        });
        for i in 0..2000u64 {
            s.push(at(&l, i, i * 10, &[i], &[]));
        }
        assert_eq!(s.visible(), 101, "19_990 - 1000 ..= 19_990");
        assert_eq!(s.visible_from(), 1899);
        assert!(s.len() <= 101 + CHUNK_SAMPLES, "{} held", s.len());
        let mut b = Batch::default();
        s.window_into(0, None, &mut b);
        assert_eq!(b.wall_ns.first(), Some(&1899));
        assert_eq!(b.len(), 101);
    }

    #[test]
    fn window_by_monotonic_time() {
        let l = layout_of(1);
        let mut s = Series::new(Retention::UNBOUNDED);
        assert_eq!(s.seq_within(5), 0);
        for i in 0..300u64 {
            s.push(at(&l, i, i * 10, &[i], &[]));
        }
        assert_eq!(s.seq_within(25), 297);
        assert_eq!(s.seq_within(0), 299);
        assert_eq!(s.seq_within(u64::MAX), 0);
    }
}
