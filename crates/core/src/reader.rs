//! Reads the selected `/proc` files and parses them into a reusable [`Snapshot`].
use crate::intern::Interner;
use crate::metrics::{Metric, MetricSet};
use crate::parse::parse_into;
use crate::procfile::ProcFile;
use crate::snapshot::Snapshot;
use crate::store::SampleError;

pub struct ProcReader {
    files: Vec<(Metric, ProcFile)>,
    names: Interner,
}

impl ProcReader {
    pub fn new(metrics: MetricSet) -> ProcReader {
        ProcReader {
            files: metrics
                .iter()
                .map(|m| (m, ProcFile::new(m.path())))
                .collect(),
            names: Interner::default(),
        }
    }

    /// Fill `snap` with one sample. A file that cannot be read leaves its section absent and
    /// adds an error naming the file; the others are still read. Returns lines skipped.
    pub fn read(&mut self, snap: &mut Snapshot, errors: &mut Vec<SampleError>) -> u32 {
        let mut skipped = 0;
        snap.present = MetricSet::EMPTY;
        for (metric, file) in &mut self.files {
            match file.read() {
                Ok(text) => {
                    skipped += parse_into(*metric, text, snap, &mut self.names).0;
                    snap.present.insert(*metric);
                }
                Err(e) => errors.push(SampleError {
                    source: metric.name().into(),
                    message: format!("{}: {}", file.path().display(), e),
                }),
            }
        }
        skipped
    }

    /// Parse text from elsewhere (a remote host) with the same parsers and name table.
    pub fn parse(&mut self, metric: Metric, text: &[u8], snap: &mut Snapshot) -> u32 {
        let skipped = parse_into(metric, text, snap, &mut self.names).0;
        snap.present.insert(metric);
        skipped
    }
}
