//! Application counters and gauges: what a harness (or the command `record` wraps) counts, kept
//! in the same timeline as the host's metrics. Any thread sets them without a lock (an atomic per
//! value); the sampling thread copies them into each sample, so no JS runs per tick for them.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::intern::Name;

/// How a value is kept and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    /// A u64 that only grows (`count`): rates come out of it like any counter.
    Counter,
    /// An f64 set to the latest value (`gauge`), kept as its bits.
    Gauge,
}

/// Names past this many are refused: each is a value in every sample.
pub const MAX_APP_VALUES: usize = 1024;
pub const MAX_APP_NAME: usize = 128;

/// The values, shared between the threads that set them and the sampling thread.
pub struct AppValues {
    /// Registered names in slot order; only appended to.
    names: Mutex<Vec<(Name, AppKind)>>,
    /// How many slots are registered (read without the lock each tick).
    len: AtomicUsize,
    slots: Box<[AtomicU64]>,
}

impl std::fmt::Debug for AppValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AppValues({})", self.len.load(Ordering::Relaxed))
    }
}

impl Default for AppValues {
    fn default() -> Self {
        AppValues {
            names: Mutex::new(Vec::new()),
            len: AtomicUsize::new(0),
            slots: (0..MAX_APP_VALUES).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// A name as a JSON key and a path segment: a letter or `_` first, then letters, digits and
/// `_ . : -`. This keeps every name out of what JS objects reorder (integer-like keys) and what
/// paths cannot split (`rates.app.<name>_s`).
fn check_name(name: &str) -> Result<()> {
    let ok_first = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    let ok_rest = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'));
    if !ok_first || !ok_rest || name.len() > MAX_APP_NAME || name == "__proto__" {
        return Err(Error::invalid_option(
            "name",
            format!(
                "{name:?} is not a counter name: a letter or _ first, then letters, digits, _ . : - \
                 (at most {MAX_APP_NAME}), not __proto__"
            ),
        ));
    }
    Ok(())
}

impl AppValues {
    pub fn new() -> Arc<AppValues> {
        Arc::new(AppValues::default())
    }

    /// The slot of `name`, registered on first use as `kind`. A name used as the other kind,
    /// a bad name, or one past [`MAX_APP_VALUES`] is an error naming it.
    pub fn slot(&self, name: &str, kind: AppKind) -> Result<u32> {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = names.iter().position(|(n, _)| &**n == name) {
            if names[i].1 != kind {
                let (was, now) = match kind {
                    AppKind::Counter => ("a gauge", "count"),
                    AppKind::Gauge => ("a counter", "gauge"),
                };
                return Err(Error::invalid_option(
                    "name",
                    format!("{name:?} is {was}; {now}() cannot change it"),
                ));
            }
            return Ok(i as u32);
        }
        check_name(name)?;
        if names.len() == MAX_APP_VALUES {
            return Err(Error::invalid_option(
                "name",
                format!("{name:?}: at most {MAX_APP_VALUES} counters and gauges"),
            ));
        }
        names.push((Arc::from(name), kind));
        // Published after the name: a reader that sees the new length finds the name.
        self.len.store(names.len(), Ordering::Release);
        Ok(names.len() as u32 - 1)
    }

    /// Add `n` to a counter (wrapping at 2^64, like the kernel's).
    pub fn add(&self, slot: u32, n: u64) {
        if let Some(s) = self.slots.get(slot as usize) {
            s.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Set a gauge.
    pub fn set(&self, slot: u32, v: f64) {
        if let Some(s) = self.slots.get(slot as usize) {
            s.store(v.to_bits(), Ordering::Relaxed);
        }
    }

    /// Copy every value into `out` (names too when new ones came); true when names came.
    /// No lock and no allocation unless a name was registered since the last call.
    pub fn read_into(&self, out: &mut Vec<(Name, AppKind, u64)>) -> bool {
        let len = self.len.load(Ordering::Acquire);
        let grew = len != out.len();
        if grew {
            let names = self.names.lock().unwrap_or_else(|e| e.into_inner());
            out.extend(
                names[out.len()..len]
                    .iter()
                    .map(|(n, k)| (n.clone(), *k, 0)),
            );
        }
        for (e, s) in out.iter_mut().zip(self.slots.iter()) {
            e.2 = s.load(Ordering::Relaxed);
        }
        grew
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_gauges_reach_the_reader() {
        let app = AppValues::new();
        let mut out = Vec::new();
        assert!(!app.read_into(&mut out));
        let steps = app.slot("steps", AppKind::Counter).unwrap();
        app.add(steps, 3);
        app.add(steps, u64::MAX); // wraps, like a kernel counter
        let loss = app.slot("loss", AppKind::Gauge).unwrap();
        app.set(loss, -0.25);
        assert!(app.read_into(&mut out));
        assert_eq!(&*out[0].0, "steps");
        assert_eq!(out[0].2, 2);
        assert_eq!(f64::from_bits(out[1].2), -0.25);
        assert_eq!(app.slot("steps", AppKind::Counter).unwrap(), steps);
        app.add(steps, 1);
        assert!(!app.read_into(&mut out));
        assert_eq!(out[0].2, 3);
    }

    #[test]
    fn bad_names_and_kind_changes_are_refused_by_name() {
        let app = AppValues::new();
        app.slot("steps", AppKind::Counter).unwrap();
        let e = app.slot("steps", AppKind::Gauge).unwrap_err();
        assert!(e.problem().contains("\"steps\" is a counter"), "{e}");
        for bad in ["", "1x", "a b", "__proto__", "é", &"x".repeat(129)] {
            let e = app.slot(bad, AppKind::Counter).unwrap_err();
            assert!(e.problem().contains("not a counter name"), "{bad}: {e}");
        }
        for good in ["_", "io.bytes", "rank:0", "epoch-time", "A9"] {
            app.slot(good, AppKind::Gauge).unwrap();
        }
    }

    #[test]
    fn at_most_max_names() {
        let app = AppValues::new();
        for i in 0..MAX_APP_VALUES {
            app.slot(&format!("c{i}"), AppKind::Counter).unwrap();
        }
        let e = app.slot("one_more", AppKind::Counter).unwrap_err();
        assert!(e.problem().contains("at most 1024"), "{e}");
    }
}
