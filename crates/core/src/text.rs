//! Samples from /proc text read elsewhere (a remote host streams it): the same parsers,
//! layouts and compact form as the local sampler, one frame at a time, with state kept
//! between frames so names are interned and layouts cross once. Watched processes come as
//! text too (see [`RemoteWatcher`]).
use crate::error::Result;
use crate::intern::Interner;
use crate::layout::LayoutTracker;
use crate::metrics::{Metric, MetricSet};
use crate::procs::{CmdlinePolicy, RemotePlan, RemoteProcs, RemoteWatcher, WatchSpec};
use crate::reader::ProcReader;
use crate::series::{Retention, Series};
use crate::snapshot::Snapshot;
use crate::store::{Batch, SampleError, SampleRef, SentLayouts, Store};

pub struct TextSampler {
    reader: ProcReader,
    snap: Snapshot,
    layouts: LayoutTracker,
    store: Store,
    sent: SentLayouts,
    values: Vec<u64>,
    /// The host's samples, kept compactly when asked to ([`TextSampler::retaining`]).
    series: Option<Series>,
    seq: u64,
    /// The watched processes, when any are (`watch`), and their names.
    watcher: Option<RemoteWatcher>,
    proc_names: Interner,
}

impl Default for TextSampler {
    fn default() -> Self {
        TextSampler {
            reader: ProcReader::new(MetricSet::EMPTY),
            snap: Snapshot::default(),
            layouts: LayoutTracker::default(),
            store: Store::new(1),
            sent: SentLayouts::default(),
            values: Vec::new(),
            series: None,
            seq: 0,
            watcher: None,
            proc_names: Interner::default(),
        }
    }
}

impl TextSampler {
    /// A sampler that also keeps its samples in a compact [`Series`] under `retention`.
    pub fn retaining(retention: Retention) -> TextSampler {
        TextSampler {
            series: Some(Series::new(retention)),
            ..TextSampler::default()
        }
    }

    /// Watch these processes of the remote host (errors name the item that cannot be).
    pub fn watch(&mut self, items: Vec<WatchSpec>) -> Result<()> {
        self.watcher = Some(RemoteWatcher::new(items)?);
        Ok(())
    }

    /// What of the watched processes' command lines is recorded (after `watch`; redacted by
    /// default).
    pub fn set_cmdline_policy(&mut self, policy: CmdlinePolicy) {
        if let Some(w) = &mut self.watcher {
            w.set_cmdline_policy(policy);
        }
    }

    /// What the remote loop picks by itself, when processes are watched.
    pub fn watch_plan(&self) -> Option<RemotePlan> {
        self.watcher.as_ref().map(RemoteWatcher::plan)
    }

    /// What the next tick line asks the remote loop for (see [`RemoteWatcher::request`]).
    pub fn watch_request(&self, out: &mut String) {
        match &self.watcher {
            Some(w) => w.request(out),
            None => out.clear(),
        }
    }

    /// One sample from the given sections' texts (absent sections are absent in the sample),
    /// as a one-sample batch that carries its layout only when it is new.
    pub fn sample<'a>(
        &mut self,
        sections: impl IntoIterator<Item = (Metric, &'a [u8])>,
        wall_ns: u64,
        mono_ns: u64,
    ) -> Batch {
        self.sample_with(sections, wall_ns, mono_ns, Vec::new())
    }

    /// [`TextSampler::sample`] with the sample's errors (a section missing, a lost connection).
    pub fn sample_with<'a>(
        &mut self,
        sections: impl IntoIterator<Item = (Metric, &'a [u8])>,
        wall_ns: u64,
        mono_ns: u64,
        errors: Vec<SampleError>,
    ) -> Batch {
        self.sample_frame(sections, None, wall_ns, mono_ns, errors)
    }

    /// [`TextSampler::sample_with`] with the frame's processes: a sample with `procs` carries
    /// the watched processes (when any are watched), one without none (the host gave no data).
    pub fn sample_frame<'a>(
        &mut self,
        sections: impl IntoIterator<Item = (Metric, &'a [u8])>,
        procs: Option<&RemoteProcs<'_>>,
        wall_ns: u64,
        mono_ns: u64,
        mut errors: Vec<SampleError>,
    ) -> Batch {
        self.snap.present = MetricSet::EMPTY;
        self.snap.shape_changed = false;
        let mut skipped = 0;
        for (metric, text) in sections {
            skipped += self.reader.parse(metric, text, &mut self.snap);
        }
        match (&mut self.watcher, procs) {
            (Some(w), Some(p)) => {
                let snap = &mut self.snap;
                snap.shape_changed |= w.read(
                    p,
                    mono_ns,
                    &mut self.proc_names,
                    &mut snap.procs,
                    &mut errors,
                );
                snap.shape_changed |= !snap.watching;
                snap.watching = true;
            }
            _ => {
                self.snap.shape_changed |= self.snap.watching;
                self.snap.watching = false;
                self.snap.procs.clear();
            }
        }
        let layout = self.layouts.for_snapshot(&self.snap).clone();
        self.values.clear();
        layout.encode(&self.snap, &mut self.values);
        let s = SampleRef {
            layout: &layout,
            seq: self.seq,
            wall_ns,
            mono_ns,
            values: &self.values,
            errors: &errors,
        };
        if let Some(series) = &mut self.series {
            series.push(s);
        }
        self.store.push_sample(s);
        self.seq += 1;
        let mut b = self.store.drain();
        b.skipped_lines = u64::from(skipped);
        self.sent.filter(&mut b);
        b
    }

    /// The retained samples (see [`Series::window_into`]); layouts cross once, as in `sample`.
    pub fn history(&mut self, from: u64, last_ns: Option<u64>) -> Batch {
        let mut b = Batch::default();
        if let Some(series) = &self.series {
            series.window_into(from, last_ns, &mut b);
        }
        self.sent.filter(&mut b);
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_cross_once_and_change_with_the_devices() {
        let mut t = TextSampler::default();
        let disk = |name: &str| format!("8 0 {name} 1 2 3 4 5 6 7 8 9 10 11\n");
        let a = disk("sda");
        let first = t.sample([(Metric::Diskstats, a.as_bytes())], 1, 1);
        assert_eq!(first.layouts.len(), 1);
        let again = t.sample([(Metric::Diskstats, a.as_bytes())], 2, 2);
        assert!(again.layouts.is_empty());
        assert_eq!(again.layout_ids, first.layout_ids);
        let b = disk("sdb");
        let other = t.sample([(Metric::Diskstats, b.as_bytes())], 3, 3);
        assert_eq!(other.layouts.len(), 1);
        assert_ne!(other.layout_ids, first.layout_ids);
        let none = t.sample([], 4, 4);
        assert_eq!(none.layouts.len(), 1);
        assert!(none.values.is_empty());
    }
}
