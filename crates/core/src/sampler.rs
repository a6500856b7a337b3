//! The sampling thread: samples on absolute monotonic deadlines (tick k is due at
//! start + k * interval, so there is no drift), counts the ticks it missed, and stores compact
//! samples for the caller to drain. A stop wakes it at once.
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::clock::{mono_ns, wall_ns};
use crate::layout::LayoutTracker;
use crate::metrics::MetricSet;
use crate::reader::ProcReader;
use crate::store::{Batch, SentLayouts, Store};

pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

#[derive(Clone, Debug)]
pub struct SamplerConfig {
    pub interval: Duration,
    /// Samples kept between drains; the oldest is dropped (and counted) beyond it.
    pub capacity: usize,
    pub metrics: MetricSet,
}

#[derive(Debug)]
pub enum SamplerError {
    InvalidOption(String),
    Unsupported(String),
    Spawn(std::io::Error),
}

impl SamplerError {
    pub fn code(&self) -> &'static str {
        match self {
            SamplerError::InvalidOption(_) => "ERR_INVALID_OPTION",
            SamplerError::Unsupported(_) => "ERR_UNSUPPORTED_PLATFORM",
            SamplerError::Spawn(_) => "ERR_THREAD",
        }
    }
}

impl fmt::Display for SamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplerError::InvalidOption(m) | SamplerError::Unsupported(m) => f.write_str(m),
            SamplerError::Spawn(e) => write!(f, "cannot start the sampling thread: {e}"),
        }
    }
}

impl std::error::Error for SamplerError {}

/// Called on the sampling thread after each stored sample (e.g. to wake a JS callback).
pub type Notify = Box<dyn Fn() + Send + Sync>;

struct State {
    store: Store,
    stop: bool,
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

pub fn check_supported() -> Result<(), SamplerError> {
    if !cfg!(target_os = "linux") || !std::path::Path::new("/proc/self/stat").exists() {
        return Err(SamplerError::Unsupported(
            "hostseries reads Linux /proc, which this system does not have".into(),
        ));
    }
    Ok(())
}

impl Sampler {
    pub fn start(cfg: SamplerConfig, notify: Option<Notify>) -> Result<Sampler, SamplerError> {
        if cfg.interval < MIN_INTERVAL {
            return Err(SamplerError::InvalidOption(format!(
                "interval {:?} is below the minimum of 10 ms",
                cfg.interval
            )));
        }
        if cfg.capacity == 0 {
            return Err(SamplerError::InvalidOption(
                "capacity must be at least 1".into(),
            ));
        }
        if cfg.metrics == MetricSet::EMPTY {
            return Err(SamplerError::InvalidOption("no metrics selected".into()));
        }
        check_supported()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                store: Store::new(cfg.capacity),
                stop: false,
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
            .map_err(SamplerError::Spawn)?;
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

fn run(shared: &Shared, cfg: &SamplerConfig, notify: Option<Notify>) {
    let interval = cfg.interval.as_nanos() as u64;
    let mut reader = ProcReader::new(cfg.metrics);
    let mut layouts = LayoutTracker::default();
    let mut errors = Vec::new();
    let start = mono_ns();
    let mut tick: u64 = 0;
    loop {
        let wall = wall_ns();
        let mono = mono_ns();
        let skipped = reader.read(&mut errors);
        let snap = reader.snapshot();
        let layout = layouts.for_snapshot(snap).clone();
        let pending = {
            let mut st = shared.lock();
            st.store.push(&layout, wall, mono, snap, &mut errors);
            st.skipped_lines += u64::from(skipped);
            st.store.len()
        };
        if let Some(n) = &notify {
            if pending >= shared.notify_every.load(Ordering::Relaxed) as usize {
                n();
            }
        }

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
            metrics: MetricSet::all(),
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

    #[test]
    fn rejects_bad_options() {
        assert!(matches!(
            Sampler::start(cfg(5), None),
            Err(SamplerError::InvalidOption(_))
        ));
        let mut c = cfg(100);
        c.metrics = MetricSet::EMPTY;
        assert!(Sampler::start(c, None).is_err());
    }
}
