//! The crash-safe stream's sample lines (`record`'s `.partial.jsonl`, `JsonlSink` given a path),
//! appended natively on a thread of its own, with the guarantees of lib/files/jsonl-sink.ts:
//!
//! - The sampling thread [`StreamWriter::submit`]s each sample (its layout and flat values):
//!   it formats the line there with [`SampleLineFormatter`] (the JS writer's bytes), while the
//!   values are still in its cache, and queues it. Measured at 1 Hz (`record` beside the paced
//!   C floor, phases spread, medians of 5 windows of 30 s): the writer thread 117 → 90 µs a
//!   sample, the sampling thread 232 → 247 µs, the two together 352 → 342 µs. A submit never
//!   waits for I/O and, once warm, allocates nothing (line and value buffers go round between
//!   the queue and the writer).
//! - The writer thread only writes: everything queued in one write (a batch; one line unless
//!   it fell behind). Writes go to the kernel at once, so a killed process loses only what was
//!   still queued; fsync, which only matters for power loss, runs at most every
//!   `fsync_interval` and at close, so it adds no I/O to the benchmark being measured. (Writing
//!   on the sampling thread itself would let a benchmark that fills the dirty-page limit
//!   throttle the sampler's ticks.)
//! - After a failed write (or fsync) the file is cut back to the end of the last whole batch, so
//!   it holds exactly `written` samples, every line whole, and nothing more is written to it.
//!   The failed batch's samples and every later one are kept, compactly (a [`Series`]), for the
//!   caller to write elsewhere; `on_event` tells the caller without polling.
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::SampleLineFormatter;
use crate::error::{Error, ErrorCode, Result};
use crate::series::{Retention, Series};
use crate::store::{Batch, OwnedSample, SampleRef};

pub struct StreamConfig {
    /// Open for writing and positioned where sample lines go (the caller wrote the header
    /// through another descriptor sharing this offset, and writes the footer after close()).
    pub file: File,
    /// The stream's `host` (the host as requested).
    pub host: String,
    /// The sample's own hostname.
    pub hostname: String,
    /// Bytes of the file known good (the header), to cut back to after a failed write.
    pub good_bytes: u64,
    /// fsync at most this often (and at close). JsonlSink's default is 10 s.
    pub fsync_interval: Duration,
    /// Samples past this many are ignored (neither written nor kept): `record --samples N`.
    /// `u64::MAX` for none.
    pub max_samples: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamStatus {
    /// Samples on disk (whole lines, counted once their batch's write returned).
    pub written: u64,
    /// Samples accepted (submitted, up to `max_samples`): written + queued + unwritten.
    pub accepted: u64,
    /// Bytes of the file known good: the header and every written batch.
    pub good_bytes: u64,
    /// Writes made (batches): `written / batches` samples a write shows the batching.
    pub batches: u64,
    /// The failure that stopped the writer (it writes nothing after one).
    pub failure: Option<StreamFailure>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamFailure {
    /// The OS errno, 0 if none (a panic in the writer, a bug).
    pub errno: i32,
    /// `write` or `fsync` (`format` for a panic while formatting).
    pub action: &'static str,
    /// Names the action and the error, e.g. `write failed: No space left on device (os error 28)`.
    pub message: String,
}

impl StreamFailure {
    /// A panic (a bug) while formatting or writing, as a failure of the stream.
    fn panic(action: &'static str, p: &(dyn std::any::Any + Send)) -> StreamFailure {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        StreamFailure {
            errno: 0,
            action,
            message: format!("{action} failed: the stream writer panicked: {what}"),
        }
    }

    fn io(action: &'static str, e: &std::io::Error) -> StreamFailure {
        StreamFailure {
            errno: e.raw_os_error().unwrap_or(0),
            action,
            message: format!("{action} failed: {e}"),
        }
    }
}

/// Line and value buffers kept for reuse: a submit takes a pair, a written batch gives them
/// back. More than a tick or two's worth only after a stall; a stall's backlog is freed once
/// written.
const POOL: usize = 16;

/// A submitted sample: its line, formatted by the submitter, and its values, kept until the
/// line is written (a failed write keeps them, compactly); or a line of another record (a
/// marker), without a sample, kept in order with the samples around it.
struct Queued {
    sample: Option<OwnedSample>,
    line: Vec<u8>,
    /// The formatter panicked on this sample (a bug): the writer fails the stream here.
    bad: Option<StreamFailure>,
}

/// Samples accepted and never written, kept compactly, with the sequence numbers they were
/// submitted under (the series numbers its own from 0), as runs: one run for a steady sampler.
struct Unwritten {
    series: Series,
    seqs: Vec<(u64, u64)>,
}

impl Unwritten {
    fn push(&mut self, s: SampleRef<'_>) {
        self.series.push(s);
        match self.seqs.last_mut() {
            Some((first, n)) if first.wrapping_add(*n) == s.seq => *n += 1,
            _ => self.seqs.push((s.seq, 1)),
        }
    }
}

struct State {
    /// Submitted, not yet taken by the writer.
    queue: Vec<Queued>,
    pool: Vec<(Vec<u64>, Vec<u8>)>,
    accepted: u64,
    written: u64,
    good_bytes: u64,
    batches: u64,
    failure: Option<StreamFailure>,
    /// close() asked the writer to write what is queued and end.
    closing: bool,
    /// The writer takes nothing more (failed or closed): a submit goes to `unwritten`.
    ended: bool,
    /// on_event was called for the cap.
    capped: bool,
    unwritten: Unwritten,
}

impl State {
    /// Give a written batch's buffers back for submits to reuse.
    fn recycle(&mut self, batch: impl Iterator<Item = Queued>) {
        for q in batch {
            if let (Some(s), true) = (q.sample, self.pool.len() < POOL) {
                self.pool.push((s.values, q.line));
            }
        }
    }

    fn status(&self) -> StreamStatus {
        StreamStatus {
            written: self.written,
            accepted: self.accepted,
            good_bytes: self.good_bytes,
            batches: self.batches,
            failure: self.failure.clone(),
        }
    }
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    max_samples: u64,
    on_event: Box<dyn Fn() + Send + Sync>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic on the writer thread must not make every later call panic too.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The writer thread's own: the file, and a buffer to join a backlog's lines into one write.
struct Writer {
    file: File,
    buf: Vec<u8>,
    /// Mirrors `State::good_bytes` (only this thread changes it), to cut back without the lock.
    good_bytes: u64,
    fsync_interval: Duration,
    last_sync: Instant,
    /// Written since the last fsync.
    dirty: bool,
}

impl Writer {
    fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_all()?;
        self.last_sync = Instant::now();
        self.dirty = false;
        Ok(())
    }
}

pub struct StreamWriter {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Used by the submitter only (a lock, not `&mut self`: the sampler shares the writer).
    fmt: Mutex<SampleLineFormatter>,
}

impl StreamWriter {
    /// Spawns the thread `hostseries-write`. `on_event` is called (on the writer's or the
    /// submitter's thread, never under a lock) once when a failure happens and once when
    /// `accepted` reaches `max_samples`, so the JS side learns without polling.
    pub fn start(cfg: StreamConfig, on_event: Box<dyn Fn() + Send + Sync>) -> Result<StreamWriter> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: Vec::new(),
                pool: Vec::with_capacity(POOL),
                accepted: 0,
                written: 0,
                good_bytes: cfg.good_bytes,
                batches: 0,
                failure: None,
                closing: false,
                ended: false,
                capped: false,
                unwritten: Unwritten {
                    series: Series::new(Retention::UNBOUNDED),
                    seqs: Vec::new(),
                },
            }),
            wake: Condvar::new(),
            max_samples: cfg.max_samples,
            on_event,
        });
        let writer = Writer {
            file: cfg.file,
            buf: Vec::new(),
            good_bytes: cfg.good_bytes,
            fsync_interval: cfg.fsync_interval,
            last_sync: Instant::now(),
            dirty: false,
        };
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hostseries-write".into())
            .stack_size(256 * 1024)
            .spawn(move || thread_main(&thread_shared, writer))
            .map_err(|e| {
                Error::io(
                    ErrorCode::Thread,
                    "cannot start the stream writer thread",
                    e,
                )
            })?;
        Ok(StreamWriter {
            shared,
            thread: Some(thread),
            fmt: Mutex::new(SampleLineFormatter::new(&cfg.host, &cfg.hostname)),
        })
    }

    /// Queue one sample (values in `layout`'s order, as [`Layout::encode`] gives them; errors
    /// in the order they arose). Never blocks on I/O; once warm, allocates nothing (errors
    /// aside). After a failure or close() the sample goes straight to [`Self::unwritten`].
    ///
    /// Panics if `values` does not hold `layout.value_count()` values (as the formatter
    /// would, but here, on the caller's thread, not later on the writer's).
    pub fn submit(&self, s: SampleRef<'_>) {
        assert_eq!(
            s.values.len(),
            s.layout.value_count(),
            "sample values do not follow layout {}",
            s.layout.id
        );
        let sh = &*self.shared;
        let mut st = sh.lock();
        if st.accepted >= sh.max_samples {
            // Past the cap. With max_samples 0 no sample reaches it: it is told here.
            let first = !st.capped;
            st.capped = true;
            drop(st);
            if first {
                (sh.on_event)();
            }
            return;
        }
        st.accepted += 1;
        let capped = st.accepted == sh.max_samples;
        st.capped |= capped;
        if st.ended {
            st.unwritten.push(s);
            drop(st);
            if capped {
                (sh.on_event)();
            }
            return;
        }
        let (values, mut line) = st.pool.pop().unwrap_or_default();
        drop(st);
        // Formatted outside the state lock, so the writer is never held up by it.
        line.clear();
        let bad = catch_unwind(AssertUnwindSafe(|| {
            let mut fmt = self.fmt.lock().unwrap_or_else(|e| e.into_inner());
            fmt.write(&mut line, s.layout, s.wall_ns, s.values, s.errors);
        }))
        .err()
        .map(|p| StreamFailure::panic("format", &*p));
        let q = Queued {
            sample: Some(OwnedSample::new(s, values)),
            line,
            bad,
        };
        let mut st = sh.lock();
        // The writer may have failed meanwhile: then nothing more goes to the file.
        let ended = st.ended;
        if ended {
            st.unwritten.push(s);
        } else {
            st.queue.push(q);
        }
        drop(st);
        if !ended {
            sh.wake.notify_one();
        }
        if capped {
            (sh.on_event)();
        }
    }

    /// Append `line` (a whole JSON Lines record ending in `\n`, e.g. a marker) after the samples
    /// submitted so far, with the same guarantees; it counts as no sample. False once the
    /// writer takes nothing more (failed or closed): the caller keeps the line.
    pub fn append_line(&self, line: Vec<u8>) -> bool {
        let sh = &*self.shared;
        let mut st = sh.lock();
        if st.ended || st.closing {
            return false;
        }
        st.queue.push(Queued {
            sample: None,
            line,
            bad: None,
        });
        drop(st);
        sh.wake.notify_one();
        true
    }

    pub fn status(&self) -> StreamStatus {
        self.shared.lock().status()
    }

    /// Samples accepted and never written (those of the failed batch and every later one),
    /// appended to `out` with their sequence numbers and errors. Not drained: it may be asked
    /// again.
    pub fn unwritten(&self, out: &mut Batch) {
        let st = self.shared.lock();
        let from = out.seqs.len();
        st.unwritten.series.decode_into(0, out);
        let seqs = st
            .unwritten
            .seqs
            .iter()
            .flat_map(|&(first, n)| (0..n).map(move |k| first.wrapping_add(k)));
        for (slot, seq) in out.seqs[from..].iter_mut().zip(seqs) {
            *slot = seq;
        }
    }

    /// Write what is queued, fsync, end the thread and join it; returns the final status.
    /// Idempotent. Blocks the caller (call it from the sampling thread as it ends, not from
    /// the JS thread). Drop does the same.
    pub fn close(&mut self) -> StreamStatus {
        if let Some(t) = self.thread.take() {
            self.shared.lock().closing = true;
            self.shared.wake.notify_all();
            let _ = t.join();
            // Normally a no-op; if the thread died outside its guard, nothing queued is lost.
            let mut st = self.shared.lock();
            st.ended = true;
            let queue = std::mem::take(&mut st.queue);
            for s in queue.iter().filter_map(|q| q.sample.as_ref()) {
                st.unwritten.push(s.as_ref());
            }
        }
        self.status()
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        self.close();
    }
}

fn thread_main(shared: &Shared, mut w: Writer) {
    // Outside the guarded run, so that a panic leaves the batch it was formatting here.
    let mut batch = Vec::new();
    let run = catch_unwind(AssertUnwindSafe(|| run(shared, &mut w, &mut batch)));
    if let Err(p) = run {
        fail(
            shared,
            &mut w,
            &mut batch,
            StreamFailure::panic("write", &*p),
        );
    }
}

fn run(shared: &Shared, w: &mut Writer, batch: &mut Vec<Queued>) {
    loop {
        {
            let mut st = shared.lock();
            while st.queue.is_empty() && !st.closing {
                st = shared.wake.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.queue.is_empty() {
                st.ended = true;
                break;
            }
            // The submitter gets the emptied batch's capacity back: no allocation either side.
            std::mem::swap(&mut st.queue, batch);
        }
        // Lines up to a bad one (a formatter panic, a bug) are written; it fails the stream.
        let good = batch
            .iter()
            .position(|q| q.bad.is_some())
            .unwrap_or(batch.len());
        let bytes = match &batch[..good] {
            [] => &[][..],
            [one] => &one.line[..],
            lines => {
                w.buf.clear();
                for q in lines {
                    w.buf.extend_from_slice(&q.line);
                }
                &w.buf[..]
            }
        };
        if !bytes.is_empty() {
            if let Err(e) = w.file.write_all(bytes) {
                fail(shared, w, batch, StreamFailure::io("write", &e));
                return;
            }
            w.dirty = true;
            w.good_bytes += bytes.len() as u64;
            let mut st = shared.lock();
            st.written += batch[..good].iter().filter(|q| q.sample.is_some()).count() as u64;
            st.good_bytes = w.good_bytes;
            st.batches += 1;
            st.recycle(batch.drain(..good));
        }
        if let Some(q) = batch.first_mut() {
            let failure = q.bad.take().expect("a bad sample stops the batch");
            fail(shared, w, batch, failure);
            return;
        }
        if w.last_sync.elapsed() >= w.fsync_interval {
            if let Err(e) = w.sync() {
                // The batch is on disk as far as a killed process goes: it stays counted.
                fail(shared, w, batch, StreamFailure::io("fsync", &e));
                return;
            }
        }
    }
    if w.dirty {
        if let Err(e) = w.sync() {
            fail(shared, w, batch, StreamFailure::io("fsync", &e));
        }
    }
}

/// Stop writing: cut the file back to its whole batches, keep `batch` and every queued sample,
/// record the failure and tell the caller.
fn fail(shared: &Shared, w: &mut Writer, batch: &mut Vec<Queued>, failure: StreamFailure) {
    // A batch cut short leaves whole lines that are also kept, and a torn one: cut them off.
    // Shrinking needs no space and is allowed past a file size limit; a file that cannot be
    // cut (a device) has nothing to cut. The offset goes back too, so that a footer written
    // through a descriptor sharing it follows the last whole line, not a hole.
    let _ = w.file.set_len(w.good_bytes);
    let _ = w.file.seek(SeekFrom::Start(w.good_bytes));
    // What reached the disk stays there if the power goes (best effort: the failure is told).
    if w.dirty {
        let _ = w.file.sync_all();
        w.dirty = false;
    }
    let mut st = shared.lock();
    let first = st.failure.is_none();
    if first {
        st.failure = Some(failure);
    }
    st.ended = true;
    let queue = std::mem::take(&mut st.queue);
    // Other lines (markers) are the caller's to keep: append_line said so once ended.
    for s in batch.iter().chain(&queue).filter_map(|q| q.sample.as_ref()) {
        st.unwritten.push(s.as_ref());
    }
    batch.clear();
    st.pool = Vec::new();
    drop(st);
    if first {
        (shared.on_event)();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::Interner;
    use crate::layout::Layout;
    use crate::metrics::Metric;
    use crate::snapshot::Snapshot;

    /// A panic while formatting (a bug: submit checks what the formatter asserts, so the
    /// formatter is made to panic here, caught as submit catches it, and the sample slipped
    /// into the queue) stops the writer like a failed write: the lines before it are written,
    /// close() returns, the failure is told once, the sample is kept.
    #[test]
    fn a_panic_while_formatting_fails_the_stream_and_close_returns() {
        let mut snap = Snapshot {
            present: [Metric::Vmstat].into_iter().collect(),
            ..Default::default()
        };
        let mut names = Interner::default();
        snap.vmstat.push((names.intern(b"pgpgin"), 1));
        let layout = Arc::new(Layout::of(0, &snap));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .unwrap();
        let events = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = events.clone();
        let mut w = StreamWriter::start(
            StreamConfig {
                file,
                host: "h".into(),
                hostname: "h".into(),
                good_bytes: 0,
                fsync_interval: Duration::from_secs(3600),
                max_samples: u64::MAX,
            },
            Box::new(move || {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }),
        )
        .unwrap();
        w.submit(SampleRef {
            layout: &layout,
            seq: 0,
            wall_ns: 1,
            mono_ns: 1,
            values: &[7],
            errors: &[],
        });
        let wrong = vec![1, 2, 3];
        let bad = catch_unwind(AssertUnwindSafe(|| {
            let no_errors: &[crate::store::SampleError] = &[];
            SampleLineFormatter::new("h", "h").write(
                &mut Vec::new(),
                &layout,
                2,
                &wrong,
                no_errors,
            );
        }))
        .err()
        .map(|p| StreamFailure::panic("format", &*p));
        assert!(bad.is_some());
        {
            let mut st = w.shared.lock();
            st.accepted += 1;
            st.queue.push(Queued {
                sample: Some(OwnedSample {
                    layout: layout.clone(),
                    seq: 1,
                    wall_ns: 2,
                    mono_ns: 2,
                    values: wrong,
                    errors: Vec::new(),
                }),
                line: Vec::new(),
                bad,
            });
        }
        w.shared.wake.notify_one();
        let st = w.close();
        let f = st.failure.expect("the panic is a failure");
        assert_eq!((f.errno, f.action), (0, "format"));
        assert!(f.message.contains("do not follow layout"), "{}", f.message);
        assert_eq!(st.accepted, 2);
        assert_eq!(st.written, 1);
        assert_eq!(w.shared.lock().unwritten.series.len(), 1);
        assert_eq!(events.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
