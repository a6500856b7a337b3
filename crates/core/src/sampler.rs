//! The sampling thread: samples on absolute monotonic deadlines (tick k is due at
//! start + k * interval, so there is no drift), counts the ticks it missed, and stores compact
//! samples for the caller to drain. A stop wakes it at once; `finish` also has the thread take
//! one last sample before it ends, so a run is covered to its end.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::clock::{mono_ns, wall_ns};
use crate::error::{Error, ErrorCode, Result};
use crate::layout::LayoutTracker;
use crate::metrics::{Metric, MetricSet};
use crate::reader::ProcReader;
use crate::store::{Batch, SampleError, SentLayouts, Store};

pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct SamplerConfig {
    pub interval: Duration,
    /// Samples kept between drains; the oldest is dropped (and counted) beyond it.
    pub capacity: usize,
    pub metrics: MetricSet,
    /// Where the proc filesystem is mounted: `/proc`, or e.g. `/host/proc` in a container that
    /// samples its host.
    pub proc_path: PathBuf,
}

impl Default for SamplerConfig {
    /// Every 10 s, 4096 samples between drains, every metric, from `/proc`.
    fn default() -> Self {
        SamplerConfig {
            interval: Duration::from_secs(10),
            capacity: 4096,
            metrics: MetricSet::all(),
            proc_path: PathBuf::from("/proc"),
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
    store: Store,
    stop: bool,
    /// Take one last sample before ending (see `final_sample_min_gap`).
    final_sample: bool,
    /// The thread has ended (normally or by a panic).
    ended: bool,
    on_end: Vec<OnEnd>,
    missed_ticks: u64,
    skipped_lines: u64,
    layouts_sent: SentLayouts,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Notify once this many samples wait undrained (1: every sample).
    notify_every: AtomicU32,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic on the sampling thread must not make every later call panic too.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
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
        cfg.check()?;
        check_supported(&cfg.proc_path)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                store: Store::new(cfg.capacity),
                stop: false,
                final_sample: false,
                ended: false,
                on_end: Vec::new(),
                missed_ticks: 0,
                skipped_lines: 0,
                layouts_sent: SentLayouts::default(),
            }),
            wake: Condvar::new(),
            notify_every: AtomicU32::new(1),
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
        self.shared.wake.notify_all();
    }

    /// Stop the thread (it wakes at once), wait for it, and drain what is left.
    pub fn stop(&mut self) -> Batch {
        self.shared.lock().stop = true;
        self.shared.wake.notify_all();
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

impl Drop for EndGuard<'_> {
    fn drop(&mut self) {
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
    notify: Option<Notify>,
    reader: ProcReader,
    layouts: LayoutTracker,
    errors: Vec<SampleError>,
}

impl Tick<'_> {
    /// Read, store and notify; returns the monotonic time of the sample.
    fn sample(&mut self) -> u64 {
        let wall = wall_ns();
        let mono = mono_ns();
        let skipped = self.reader.read(&mut self.errors);
        let snap = self.reader.snapshot();
        let layout = self.layouts.for_snapshot(snap).clone();
        let pending = {
            let mut st = self.shared.lock();
            st.store.push(&layout, wall, mono, snap, &mut self.errors);
            st.skipped_lines += u64::from(skipped);
            st.store.len()
        };
        if let Some(n) = &self.notify {
            if pending >= self.shared.notify_every.load(Ordering::Relaxed) as usize {
                n();
            }
        }
        mono
    }
}

fn run(shared: &Shared, cfg: &SamplerConfig, notify: Option<Notify>) {
    let _end = EndGuard(shared);
    let interval = cfg.interval.as_nanos() as u64;
    let min_gap = final_sample_min_gap(cfg.interval).as_nanos() as u64;
    let mut t = Tick {
        shared,
        notify,
        reader: ProcReader::with_proc(&cfg.proc_path, cfg.metrics),
        layouts: LayoutTracker::default(),
        errors: Vec::new(),
    };
    let start = mono_ns();
    let mut tick: u64 = 0;
    loop {
        let last = t.sample();

        tick += 1;
        let now = mono_ns();
        let due = start + tick * interval;
        let mut st = shared.lock();
        if now >= due {
            // Late (a stalled machine or a slow read): skip the ticks that have passed.
            let late = (now - due) / interval + 1;
            st.missed_ticks += late;
            tick += late;
        }
        let deadline = start + tick * interval;
        loop {
            if st.stop {
                let take_final = st.final_sample && mono_ns().saturating_sub(last) >= min_gap;
                drop(st);
                if take_final {
                    t.sample();
                }
                return;
            }
            let now = mono_ns();
            if now >= deadline {
                break;
            }
            st = shared
                .wake
                .wait_timeout(st, Duration::from_nanos(deadline - now))
                .unwrap_or_else(|e| e.into_inner())
                .0;
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
        let mut s = Sampler::start(cfg(20), None).unwrap();
        std::thread::sleep(Duration::from_millis(210));
        let b = s.stop();
        // 0, 20, ..., 200 ms: 11 ticks sampled or counted as missed (a loaded machine may
        // stretch the sleep by a tick).
        let ticks = b.len() as u64 + b.missed_ticks;
        assert!((10..=12).contains(&ticks), "{ticks} ticks");
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
