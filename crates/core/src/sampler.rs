//! The sampling thread: samples on absolute monotonic deadlines (tick k is due at
//! start + k * interval, so there is no drift), counts the ticks it missed, and stores compact
//! samples for the caller to drain. A stop wakes it at once; `finish` also has the thread take
//! one last sample before it ends, so a run is covered to its end.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::app::AppValues;
use crate::clock::{mono_ns, wall_ns, Alarm};
use crate::error::{Error, ErrorCode, Result};
use crate::jsonl::writer::{StreamConfig, StreamStatus, StreamWriter};
use crate::layout::LayoutTracker;
use crate::metrics::{Metric, MetricSet};
use crate::procs::{CmdlinePolicy, ExitStatus, WatchSpec};
use crate::reader::ProcReader;
use crate::series::{Retention, Series};
use crate::store::{Batch, SampleError, SampleRef, SentLayouts, Store};

pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct SamplerConfig {
    pub interval: Duration,
    /// Samples kept between drains; the oldest is dropped (and counted) beyond it.
    pub capacity: usize,
    /// Keep every sample in a compact [`Series`] on the sampling thread as well, under this
    /// bound, so that a caller that needs no live feed is not woken per sample
    /// ([`Sampler::set_feed`]) and decodes only what it asks for ([`Sampler::history`]).
    pub retention: Option<Retention>,
    pub metrics: MetricSet,
    /// Where the proc filesystem is mounted: `/proc`, or e.g. `/host/proc` in a container that
    /// samples its host.
    pub proc_path: PathBuf,
    /// Processes to watch from the first sample on (more may come: [`Sampler::watch`]).
    pub watch: Vec<WatchSpec>,
    /// What of the watched processes' command lines is recorded (redacted by default).
    pub cmdline: CmdlinePolicy,
    /// Application counters and gauges, copied into each sample (`app`) once one is set.
    pub app: Option<Arc<AppValues>>,
}

impl Default for SamplerConfig {
    /// Every 10 s, 4096 samples between drains, every metric, from `/proc`.
    fn default() -> Self {
        SamplerConfig {
            interval: Duration::from_secs(10),
            capacity: 4096,
            retention: None,
            metrics: MetricSet::all(),
            proc_path: PathBuf::from("/proc"),
            watch: Vec::new(),
            cmdline: CmdlinePolicy::default(),
            app: None,
        }
    }
}

impl SamplerConfig {
    /// The one check of every option ([`Sampler::start`] makes it too); the error names the
    /// field at fault ([`Error::option`]).
    pub fn check(&self) -> Result<()> {
        if self.interval < MIN_INTERVAL {
            return Err(interval_error(format_args!("{:?}", self.interval)));
        }
        if self.capacity == 0 {
            return Err(Error::invalid_option(
                "capacity",
                "must be at least 1, got 0",
            ));
        }
        if self.metrics == MetricSet::EMPTY {
            return Err(Error::invalid_option(
                "metrics",
                format!("must name at least one of {}", Metric::names()),
            ));
        }
        if self.proc_path.as_os_str().is_empty() {
            return Err(Error::invalid_option("proc_path", "must not be empty"));
        }
        Ok(())
    }
}

/// An interval given as a float number of milliseconds (as JavaScript gives it). NaN, infinite
/// and negative values are refused here; the minimum is [`SamplerConfig::check`]'s.
pub fn interval_from_ms(ms: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| interval_error(format_args!("{ms} ms")))
}

fn interval_error(got: std::fmt::Arguments<'_>) -> Error {
    Error::invalid_option(
        "interval",
        format!(
            "must be at least {} ms, got {got}",
            MIN_INTERVAL.as_millis()
        ),
    )
}

/// Called on the sampling thread after each stored sample (e.g. to wake a JS callback).
pub type Notify = Box<dyn Fn() + Send + Sync>;

/// Called once the sampling thread has ended (on that thread, or at once if it already had).
pub type OnEnd = Box<dyn FnOnce() + Send>;

/// A final sample closer than this to the previous one is not taken: CPU time moves in 10 ms
/// jiffies, so within one the pair would give rates of pure noise, and a stop that lands during
/// or just after a tick adds no near-duplicate. Never more than one jiffy: a command shorter
/// than the interval (a 60 ms `dd` of 32 MiB was measured) must still have its I/O between the
/// first sample and the last; at fast cadences, a tenth of the interval.
pub fn final_sample_min_gap(interval: Duration) -> Duration {
    (interval / 10).min(Duration::from_millis(10))
}

struct State {
    /// The live feed: samples waiting for `drain`, while `feed` is on.
    store: Store,
    feed: bool,
    series: Option<Series>,
    /// Notify once when this many samples have been taken (e.g. a bound is first passed).
    wake_at: u64,
    /// Sequence number of the next sample.
    seq: u64,
    stop: bool,
    /// Take one last sample before ending (see `final_sample_min_gap`).
    final_sample: bool,
    /// The thread has ended (normally or by a panic).
    ended: bool,
    on_end: Vec<OnEnd>,
    missed_ticks: u64,
    skipped_lines: u64,
    layouts_sent: SentLayouts,
    /// Watch changes for the sampling thread to apply before its next read.
    watch_changes: Vec<WatchChange>,
    /// What the caller is to warn of, once (the watcher's: see `take_warnings`).
    warnings: Vec<String>,
}

enum WatchChange {
    Cmdline(CmdlinePolicy),
    Adopt(u32, Vec<u32>),
    Add(WatchSpec),
    Exit(u32, ExitStatus),
}

struct Shared {
    state: Mutex<State>,
    /// The stream the samples are appended to as they are taken (see `start_streaming`);
    /// closed (written out and synced) as the thread ends, kept for its status afterwards.
    stream: Mutex<Option<StreamWriter>>,
    /// Rung (after `stop` is set) to wake the sampling thread at once.
    wake: Alarm,
    /// Notify once this many samples wait undrained (1: every sample).
    notify_every: AtomicU32,
    /// `State::watch_changes` is not empty (checked each tick without the lock).
    watch_changed: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic on the sampling thread must not make every later call panic too.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Counters since the start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Samples taken.
    pub taken: u64,
    /// Samples within the retained series' window.
    pub retained: u64,
    /// Memory of the retained series.
    pub retained_bytes: u64,
    pub missed_ticks: u64,
    /// Samples the live feed dropped because nobody drained it in time (still retained).
    pub feed_dropped: u64,
    pub skipped_lines: u64,
}

pub struct Sampler {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Linux, and a proc filesystem at `proc_path` that can be listed.
pub fn check_supported(proc_path: &Path) -> Result<()> {
    if !cfg!(target_os = "linux") {
        return Err(Error::new(
            ErrorCode::UnsupportedPlatform,
            "hostseries reads Linux /proc, which this system does not have",
        ));
    }
    std::fs::read_dir(proc_path)
        .map(drop)
        .map_err(|e| Error::io(ErrorCode::ProcRead, proc_path.display(), e))
}

impl Sampler {
    pub fn start(cfg: SamplerConfig, notify: Option<Notify>) -> Result<Sampler> {
        Sampler::start_streaming(cfg, notify, None)
    }

    /// [`Sampler::start`], with every sample also appended to a JSON Lines stream by a writer
    /// thread of its own ([`StreamWriter`]); its events (a failure, its cap reached) call
    /// `notify` too.
    pub fn start_streaming(
        cfg: SamplerConfig,
        notify: Option<Notify>,
        stream: Option<StreamConfig>,
    ) -> Result<Sampler> {
        cfg.check()?;
        check_supported(&cfg.proc_path)?;
        let notify = notify.map(Arc::new);
        let stream = match stream {
            Some(sc) => {
                let n = notify.clone();
                let on_event = Box::new(move || {
                    if let Some(n) = &n {
                        n();
                    }
                });
                Some(StreamWriter::start(sc, on_event)?)
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                store: Store::new(cfg.capacity),
                feed: true,
                series: cfg.retention.map(Series::new),
                wake_at: u64::MAX,
                seq: 0,
                stop: false,
                final_sample: false,
                ended: false,
                on_end: Vec::new(),
                missed_ticks: 0,
                skipped_lines: 0,
                layouts_sent: SentLayouts::default(),
                watch_changes: std::iter::once(WatchChange::Cmdline(cfg.cmdline))
                    .chain(cfg.watch.iter().cloned().map(WatchChange::Add))
                    .collect(),
                warnings: Vec::new(),
            }),
            stream: Mutex::new(stream),
            wake: Alarm::new(),
            notify_every: AtomicU32::new(1),
            watch_changed: AtomicBool::new(!cfg.watch.is_empty()),
        });
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hostseries-sampler".into())
            .stack_size(256 * 1024)
            .spawn(move || run(&thread_shared, &cfg, notify))
            .map_err(|e| Error::io(ErrorCode::Thread, "cannot start the sampling thread", e))?;
        Ok(Sampler {
            shared,
            thread: Some(thread),
        })
    }

    /// Call the notifier only once `n` samples wait undrained (1, the default: every sample).
    /// A consumer that needs no live feed wakes up `n` times less often.
    pub fn set_notify_every(&self, n: u32) {
        self.shared.notify_every.store(n.max(1), Ordering::Relaxed);
    }

    /// Feed `drain` (the default) or not: with a retained series, samples are kept there either
    /// way, and a caller with no live consumer turns the feed (and its wake-ups) off.
    pub fn set_feed(&self, on: bool) {
        let mut st = self.shared.lock();
        st.feed = on;
        if !on {
            st.store.drain();
        }
    }

    /// Watch more processes from the next sample on.
    pub fn watch(&self, spec: WatchSpec) {
        self.change_watch(WatchChange::Add(spec));
    }

    /// Our children other than `root` and `exclude` are orphans of `root`'s tree, re-parented
    /// to us as a child subreaper (see `ProcWatcher::adopt`).
    pub fn adopt(&self, root: u32, exclude: Vec<u32>) {
        self.change_watch(WatchChange::Adopt(root, exclude));
    }

    /// How a watched process we were the parent of ended (its key's `last_exit`).
    pub fn note_exit(&self, pid: u32, status: ExitStatus) {
        self.change_watch(WatchChange::Exit(pid, status));
    }

    fn change_watch(&self, change: WatchChange) {
        self.shared.lock().watch_changes.push(change);
        self.shared.watch_changed.store(true, Ordering::Release);
    }

    /// Notify once when the `n`th sample has been taken (`u64::MAX`: never).
    pub fn set_wake_at(&self, n: u64) {
        self.shared.lock().wake_at = n;
    }

    /// The retained samples from sequence number `from` on (those within the retention's
    /// window; with `last_ns`, only those taken that long or less before the newest), decoded.
    /// Layouts cross once, as in `drain`. Empty without a retention.
    pub fn history(&self, from: u64, last_ns: Option<u64>) -> Batch {
        let mut st = self.shared.lock();
        let mut b = Batch::default();
        if let Some(series) = &st.series {
            series.window_into(from, last_ns, &mut b);
        }
        st.layouts_sent.filter(&mut b);
        b
    }

    /// The last `n` (at most 2) samples taken, retained or not.
    pub fn tail(&self, n: usize) -> Batch {
        let mut st = self.shared.lock();
        let mut b = Batch::default();
        if let Some(series) = &st.series {
            series.tail_into(n, &mut b);
        }
        st.layouts_sent.filter(&mut b);
        b
    }

    /// The stream's state (see `start_streaming`), if there is one.
    pub fn stream_status(&self) -> Option<StreamStatus> {
        lock(&self.shared.stream).as_ref().map(StreamWriter::status)
    }

    /// Append a whole record line (a marker) to the stream after the samples so far; false
    /// without a stream, or once it takes nothing more.
    pub fn stream_append_line(&self, line: Vec<u8>) -> bool {
        lock(&self.shared.stream)
            .as_ref()
            .is_some_and(|w| w.append_line(line))
    }

    /// The samples the stream accepted and could not write (after a failure), decoded.
    pub fn stream_unwritten(&self) -> Batch {
        let mut b = Batch::default();
        if let Some(w) = lock(&self.shared.stream).as_ref() {
            w.unwritten(&mut b);
        }
        self.shared.lock().layouts_sent.filter(&mut b);
        b
    }

    /// What the sampling thread said to warn of since the last call, each once (the watched
    /// processes': the descriptor limit reached); a sample that adds one notifies.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.shared.lock().warnings)
    }

    pub fn counts(&self) -> Counts {
        let st = self.shared.lock();
        Counts {
            taken: st.seq,
            retained: st.series.as_ref().map_or(0, |s| s.visible() as u64),
            retained_bytes: st.series.as_ref().map_or(0, |s| s.bytes() as u64),
            missed_ticks: st.missed_ticks,
            feed_dropped: st.store.dropped(),
            skipped_lines: st.skipped_lines,
        }
    }

    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }

    /// Everything stored so far, leaving the store empty. Holds the lock only to copy. A
    /// layout is included only in the first batch that uses it: the caller keeps it by id, so
    /// names cross once, not on every drain.
    pub fn drain(&self) -> Batch {
        let mut st = self.shared.lock();
        let mut b = st.store.drain();
        b.missed_ticks = st.missed_ticks;
        b.skipped_lines = st.skipped_lines;
        st.layouts_sent.filter(&mut b);
        b
    }

    /// Ask the thread to end without waiting for it: it wakes at once, takes one last sample if
    /// `final_sample` (unless the previous one is too recent, see `final_sample_min_gap`), and
    /// then calls `on_end` on its own thread. `stop()` afterwards returns the rest at once.
    pub fn finish(&self, final_sample: bool, on_end: OnEnd) {
        let mut st = self.shared.lock();
        if st.ended || self.thread.is_none() {
            drop(st);
            on_end();
            return;
        }
        st.stop = true;
        st.final_sample |= final_sample;
        st.on_end.push(on_end);
        drop(st);
        self.shared.wake.ring();
    }

    /// Stop the thread (it wakes at once), wait for it, and drain what is left.
    pub fn stop(&mut self) -> Batch {
        self.shared.lock().stop = true;
        self.shared.wake.ring();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.drain()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop();
        }
    }
}

/// Marks the thread ended and calls the `on_end` callbacks, also when the thread panics.
struct EndGuard<'a>(&'a Shared);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
        // Everything taken is in the stream (and synced) before anyone hears that the thread ended.
        if let Some(w) = lock(&self.0.stream).as_mut() {
            w.close();
        }
        let callbacks = {
            let mut st = self.0.lock();
            st.ended = true;
            std::mem::take(&mut st.on_end)
        };
        for f in callbacks {
            f();
        }
    }
}

struct Tick<'a> {
    shared: &'a Shared,
    notify: Option<Arc<Notify>>,
    /// Sequence number of the next sample.
    seq: u64,
    reader: ProcReader,
    layouts: LayoutTracker,
    errors: Vec<SampleError>,
    values: Vec<u64>,
    app: Option<Arc<AppValues>>,
}

impl Tick<'_> {
    fn apply_watch_changes(&mut self) {
        if !self.shared.watch_changed.swap(false, Ordering::Acquire) {
            return;
        }
        let changes = std::mem::take(&mut self.shared.lock().watch_changes);
        let w = self.reader.watcher();
        for c in changes {
            match c {
                WatchChange::Cmdline(p) => w.set_cmdline_policy(p),
                WatchChange::Adopt(root, exclude) => w.adopt(root, exclude),
                WatchChange::Add(spec) => w.add(spec),
                WatchChange::Exit(pid, status) => w.note_exit(pid, status),
            }
        }
    }

    /// Read, store and notify; returns the monotonic time of the sample.
    fn sample(&mut self) -> u64 {
        self.apply_watch_changes();
        let wall = wall_ns();
        let mono = mono_ns();
        let skipped = self.reader.read(&mut self.errors);
        self.reader.read_procs(mono, &mut self.errors);
        if let Some(app) = &self.app {
            self.reader.read_app(app);
        }
        let snap = self.reader.snapshot();
        let layout = self.layouts.for_snapshot(snap).clone();
        self.values.clear();
        layout.encode(snap, &mut self.values);
        let s = SampleRef {
            layout: &layout,
            seq: self.seq,
            wall_ns: wall,
            mono_ns: mono,
            values: &self.values,
            errors: &self.errors,
        };
        self.seq += 1;
        if let Some(w) = lock(&self.shared.stream).as_ref() {
            w.submit(s);
        }
        let wake = {
            let mut st = self.shared.lock();
            let st = &mut *st;
            st.seq = self.seq;
            st.skipped_lines += u64::from(skipped);
            if let Some(series) = &mut st.series {
                series.push(s);
            }
            let mut wake = st.seq == st.wake_at;
            if let Some(w) = self.reader.take_watch_warning() {
                st.warnings.push(w);
                wake = true;
            }
            if st.feed {
                st.store.push_sample(s);
                wake |= st.store.len() >= self.shared.notify_every.load(Ordering::Relaxed) as usize;
            }
            wake
        };
        self.errors.clear();
        if let Some(n) = &self.notify {
            if wake {
                n();
            }
        }
        mono
    }
}

fn run(shared: &Shared, cfg: &SamplerConfig, notify: Option<Arc<Notify>>) {
    let _end = EndGuard(shared);
    let interval = cfg.interval.as_nanos() as u64;
    let min_gap = final_sample_min_gap(cfg.interval).as_nanos() as u64;
    let mut t = Tick {
        shared,
        notify,
        seq: 0,
        reader: ProcReader::with_proc(&cfg.proc_path, cfg.metrics),
        layouts: LayoutTracker::default(),
        errors: Vec::new(),
        values: Vec::new(),
        app: cfg.app.clone(),
    };
    let start = mono_ns();
    let mut tick: u64 = 0;
    loop {
        let last = t.sample();

        tick += 1;
        let now = mono_ns();
        let due = start + tick * interval;
        if now >= due {
            // Late (a stalled machine or a slow read): skip the ticks that have passed.
            let late = (now - due) / interval + 1;
            shared.lock().missed_ticks += late;
            tick += late;
        }
        // Rung only after `stop` is set: the lock is taken then, not on every tick.
        if shared.wake.sleep_until(start + tick * interval) {
            let st = shared.lock();
            if st.stop {
                let take_final = st.final_sample && mono_ns().saturating_sub(last) >= min_gap;
                drop(st);
                if take_final {
                    t.sample();
                }
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn cfg(ms: u64) -> SamplerConfig {
        SamplerConfig {
            interval: Duration::from_millis(ms),
            capacity: 1000,
            ..SamplerConfig::default()
        }
    }

    #[test]
    fn cadence_and_prompt_stop() {
        let t0 = Instant::now();
        let mut s = Sampler::start(cfg(20), None).unwrap();
        std::thread::sleep(Duration::from_millis(210));
        let b = s.stop();
        let ran = t0.elapsed().as_millis() as u64;
        // A tick every 20 ms from 0, sampled or counted as missed: 11 in 210 ms. The sleep may
        // overrun on a loaded machine, so the count is held to the time that really passed
        // (a tick either side: the start and the stop each take a moment).
        let ticks = b.len() as u64 + b.missed_ticks;
        let expected = ran / 20 + 1;
        assert!(
            (10..=expected + 1).contains(&ticks),
            "{ticks} ticks in {ran} ms"
        );
        for w in b.mono_ns.windows(2) {
            assert!(w[1] > w[0]);
        }
        assert!(!s.is_running());
    }

    #[test]
    fn layouts_cross_once() {
        let mut s = Sampler::start(cfg(10), None).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        let first = s.drain();
        std::thread::sleep(Duration::from_millis(30));
        let second = s.stop();
        assert_eq!(first.layouts.len(), 1);
        assert!(!second.is_empty());
        // Same disks and interfaces: the layout is not sent again.
        assert!(second.layouts.iter().all(|l| l.id > first.layouts[0].id));
    }

    #[test]
    fn retained_series_without_feed() {
        let mut s = Sampler::start(
            SamplerConfig {
                retention: Some(Retention::count(3, crate::series::Overflow::Rolling)),
                ..cfg(10)
            },
            None,
        )
        .unwrap();
        s.set_feed(false);
        std::thread::sleep(Duration::from_millis(120));
        assert!(s.drain().is_empty(), "no live feed");
        let b = s.stop();
        let c = s.counts();
        assert!(c.taken >= 5, "{c:?}");
        assert_eq!(c.retained, 3);
        assert!(b.is_empty());
        let h = s.history(0, None);
        assert_eq!(h.len(), 3);
        assert_eq!(h.seqs, vec![c.taken - 3, c.taken - 2, c.taken - 1]);
        assert_eq!(
            h.layouts.len(),
            1,
            "the layout crosses with the first batch that uses it"
        );
        let t = s.tail(2);
        assert_eq!(t.seqs, h.seqs[1..]);
        assert_eq!(t.values, h.values[h.offsets[1] as usize..]);
        // Within the last 0 ns: the newest only.
        assert_eq!(s.history(0, Some(0)).seqs, vec![c.taken - 1]);
    }

    #[test]
    fn long_interval_stops_at_once() {
        let mut s = Sampler::start(cfg(60_000), None).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let t = Instant::now();
        let b = s.stop();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "stop waited out the interval"
        );
        assert_eq!(b.len(), 1);
    }

    /// Waits for `finish`'s callback (it runs on the sampling thread).
    fn finish_and_wait(s: &Sampler, final_sample: bool) -> Duration {
        let (tx, rx) = std::sync::mpsc::channel();
        let t = Instant::now();
        s.finish(final_sample, Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(Duration::from_secs(5))
            .expect("on_end was not called");
        t.elapsed()
    }

    #[test]
    fn finish_takes_a_final_sample_at_once() {
        let mut s = Sampler::start(cfg(5_000), None).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let took = finish_and_wait(&s, true);
        assert!(took < Duration::from_secs(2), "finish waited {took:?}");
        let b = s.stop();
        assert_eq!(b.len(), 2, "a start and an end sample");
        let gap = b.mono_ns[1] - b.mono_ns[0];
        assert!(gap >= 290_000_000, "end sample {gap} ns after the first");
        assert!(!s.is_running());
        // Once ended, a later finish calls back at once.
        finish_and_wait(&s, true);
    }

    #[test]
    fn finish_without_final_sample_or_too_soon_adds_none() {
        let mut s = Sampler::start(cfg(5_000), None).unwrap();
        std::thread::sleep(Duration::from_millis(150));
        finish_and_wait(&s, false);
        assert_eq!(s.stop().len(), 1);
        // Stopped right after the first sample: a second one would be a near-duplicate.
        let mut s = Sampler::start(cfg(60_000), None).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while s.drain().is_empty() && Instant::now() < deadline {
            std::thread::yield_now();
        }
        finish_and_wait(&s, true);
        assert_eq!(s.stop().len(), 0, "only the first sample, already drained");
    }

    #[test]
    fn final_sample_gap_rule() {
        assert_eq!(
            final_sample_min_gap(Duration::from_millis(10)),
            Duration::from_millis(1)
        );
        assert_eq!(
            final_sample_min_gap(Duration::from_secs(10)),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn rejects_bad_options_naming_the_option() {
        let refused = |c: SamplerConfig| Sampler::start(c, None).err().expect("refused");
        let e = refused(cfg(5));
        assert_eq!(
            (e.code(), e.option()),
            (ErrorCode::InvalidOption, Some("interval"))
        );
        assert_eq!(e.to_string(), "interval must be at least 10 ms, got 5ms");
        let e = refused(SamplerConfig {
            capacity: 0,
            ..cfg(100)
        });
        assert_eq!(
            (e.code(), e.option()),
            (ErrorCode::InvalidOption, Some("capacity"))
        );
        let e = refused(SamplerConfig {
            metrics: MetricSet::EMPTY,
            ..cfg(100)
        });
        assert_eq!(
            (e.code(), e.option()),
            (ErrorCode::InvalidOption, Some("metrics"))
        );
        assert!(
            e.to_string()
                .starts_with("metrics must name at least one of diskstats"),
            "{e}"
        );
        let e = refused(SamplerConfig {
            proc_path: PathBuf::new(),
            ..cfg(100)
        });
        assert_eq!(e.option(), Some("proc_path"));
        // The same check without starting anything.
        assert_eq!(cfg(9).check().unwrap_err().option(), Some("interval"));
        assert!(cfg(10).check().is_ok());
    }

    #[test]
    fn intervals_in_milliseconds() {
        assert_eq!(
            interval_from_ms(12.5).unwrap(),
            Duration::from_micros(12_500)
        );
        for bad in [f64::NAN, f64::INFINITY, -1.0] {
            let e = interval_from_ms(bad).unwrap_err();
            assert_eq!(
                (e.code(), e.option()),
                (ErrorCode::InvalidOption, Some("interval"))
            );
            assert!(e.to_string().contains(&format!("got {bad} ms")), "{e}");
        }
    }

    #[test]
    fn an_unreadable_proc_path_is_a_proc_read_error_naming_it() {
        let missing =
            std::env::temp_dir().join(format!("hostseries-noproc-{}", std::process::id()));
        let e = Sampler::start(
            SamplerConfig {
                proc_path: missing.clone(),
                ..cfg(100)
            },
            None,
        )
        .err()
        .expect("refused");
        assert_eq!(e.code(), ErrorCode::ProcRead);
        assert_eq!(e.option(), None);
        assert!(
            e.to_string()
                .starts_with(&format!("{}: ", missing.display())),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn samples_a_proc_copy_and_names_its_unreadable_files() {
        let dir = std::env::temp_dir().join(format!("hostseries-proccopy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("loadavg"), "1.00 2.00 3.00 4/5 6\n").unwrap();
        let metrics: MetricSet = [Metric::Loadavg, Metric::Meminfo].into_iter().collect();
        let mut s = Sampler::start(
            SamplerConfig {
                proc_path: dir.clone(),
                metrics,
                ..cfg(60_000)
            },
            None,
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let b = s.stop();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b.errors.len(), 1);
        assert_eq!(b.errors[0].1.source, "meminfo");
        assert!(b.errors[0]
            .1
            .message
            .contains(&*dir.join("meminfo").to_string_lossy()));
    }
}
