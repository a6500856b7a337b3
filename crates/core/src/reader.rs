//! Reads the selected `/proc` files and parses them into the reader's own [`Snapshot`], which
//! therefore always holds the previous read's parse: only lines that changed are re-parsed.
use std::path::Path;

use crate::app::AppValues;
use crate::intern::Interner;
use crate::metrics::{Metric, MetricSet};
use crate::parse::{parse_into, Incremental};
use crate::procfile::ProcFile;
use crate::procs::ProcWatcher;
use crate::snapshot::Snapshot;
use crate::store::SampleError;

pub struct ProcReader {
    files: Vec<(Metric, ProcFile, Incremental)>,
    names: Interner,
    snap: Snapshot,
    proc_path: std::path::PathBuf,
    /// Set once a process is to be watched (see `watcher`).
    watcher: Option<ProcWatcher>,
}

impl ProcReader {
    pub fn new(metrics: MetricSet) -> ProcReader {
        ProcReader::with_root(Path::new("/"), metrics)
    }

    /// Read the files under another root (a container's or a test's copy of /proc).
    pub fn with_root(root: &Path, metrics: MetricSet) -> ProcReader {
        ProcReader::with_proc(&root.join("proc"), metrics)
    }

    /// Read the files of a proc filesystem mounted at `proc` (e.g. `/host/proc`).
    pub fn with_proc(proc: &Path, metrics: MetricSet) -> ProcReader {
        ProcReader {
            files: metrics
                .iter()
                .map(|m| {
                    let file = ProcFile::new(proc.join(&m.path()["/proc/".len()..]));
                    (m, file, Incremental::default())
                })
                .collect(),
            names: Interner::default(),
            snap: Snapshot::default(),
            proc_path: proc.to_path_buf(),
            watcher: None,
        }
    }

    /// The watched processes' reader, made on first use: from then on every sample has a
    /// `processes` section (`read_procs`).
    pub fn watcher(&mut self) -> &mut ProcWatcher {
        let path = &self.proc_path;
        self.watcher.get_or_insert_with(|| ProcWatcher::new(path))
    }

    /// A one-time warning of the watcher since the last call (see `ProcWatcher::take_warning`).
    pub fn take_watch_warning(&mut self) -> Option<String> {
        self.watcher.as_mut()?.take_warning()
    }

    /// Copy the application counters and gauges into the snapshot, after `read`.
    pub fn read_app(&mut self, app: &AppValues) {
        self.snap.shape_changed |= app.read_into(&mut self.snap.app);
    }

    /// Read the watched processes (if any are watched) into the snapshot, after `read`.
    pub fn read_procs(&mut self, mono_ns: u64, errors: &mut Vec<SampleError>) {
        if let Some(w) = &mut self.watcher {
            let snap = &mut self.snap;
            snap.shape_changed |= w.read(mono_ns, &mut self.names, &mut snap.procs, errors);
            snap.shape_changed |= !snap.watching;
            snap.watching = true;
        }
    }

    /// Read one sample into the snapshot (see [`ProcReader::snapshot`]). A file that cannot be
    /// read leaves its section absent and adds an error naming the file; the others are still
    /// read. Returns lines skipped.
    pub fn read(&mut self, errors: &mut Vec<SampleError>) -> u32 {
        let mut skipped = 0;
        let snap = &mut self.snap;
        snap.present = MetricSet::EMPTY;
        self.names.take_changed();
        // At a real cadence the texts the parse compares against and the snapshot it updates
        // (and the store push reads) are out of the cache; start loading them now, so the
        // loads overlap the preads. `bench_sample ab prefetch` / `ab snap` (100 Hz, each tick
        // with and without in turn): median −2.2 µs a tick over 11 runs for the texts, a
        // further −1.2 µs over 8 runs for the snapshot (noisy: single runs range +1 to −11).
        for (_, file, _) in &self.files {
            file.prefetch_text();
        }
        snap.prefetch();
        // Every pread first, then every parse: the kernel's work for one file (for
        // /proc/stat, a walk over every IRQ) no longer evicts the parse code and data between
        // two parses, and the parse code stays loaded from one file to the next.
        // `bench_sample ab split`: median −1.2 µs a tick over 6 runs (+1.1 to −4.4).
        let mut read = MetricSet::EMPTY;
        for (metric, file, inc) in &mut self.files {
            match file.read_next() {
                Ok(()) => read.insert(*metric),
                Err(e) => {
                    inc.forget();
                    errors.push(SampleError {
                        source: metric.name().into(),
                        message: format!("{}: {}", file.path().display(), e),
                    })
                }
            }
        }
        for (metric, file, inc) in &mut self.files {
            if read.contains(*metric) {
                let (text, prev) = file.pair();
                skipped += inc.parse(*metric, text, prev, snap, &mut self.names);
                snap.present.insert(*metric);
            }
        }
        snap.shape_changed = self.names.take_changed();
        skipped
    }

    /// The last sample read.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Parse text from elsewhere (a remote host) with the same parsers and name table.
    pub fn parse(&mut self, metric: Metric, text: &[u8], snap: &mut Snapshot) -> u32 {
        let skipped = parse_into(metric, text, snap, &mut self.names).0;
        snap.present.insert(metric);
        snap.shape_changed |= self.names.take_changed();
        skipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_file_is_an_error_naming_it_and_the_rest_is_read() {
        let root = std::env::temp_dir().join(format!("hostseries-reader-{}", std::process::id()));
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::write(root.join("proc/loadavg"), "1.00 2.00 3.00 4/5 6\n").unwrap();
        let metrics: MetricSet = [Metric::Loadavg, Metric::Meminfo].into_iter().collect();
        let mut reader = ProcReader::with_root(&root, metrics);
        let mut errors = Vec::new();
        reader.read(&mut errors);
        let snap = reader.snapshot();
        assert!(snap.present.contains(Metric::Loadavg));
        assert!(!snap.present.contains(Metric::Meminfo));
        assert_eq!(snap.loadavg.running, 4);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].source, "meminfo");
        assert!(
            errors[0].message.contains("proc/meminfo"),
            "{}",
            errors[0].message
        );
        // The file appears later: picked up on the next read.
        std::fs::write(root.join("proc/meminfo"), "MemTotal: 5 kB\n").unwrap();
        errors.clear();
        reader.read(&mut errors);
        assert!(errors.is_empty());
        assert_eq!(reader.snapshot().meminfo[0].1, 5);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
