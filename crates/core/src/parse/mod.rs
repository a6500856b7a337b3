//! Parsers over raw `/proc` bytes. They keep the reference (mlpstorage) semantics, never panic
//! on any input, write into reusable buffers and return how many lines they skipped.
mod delta;
mod diskstats;
mod keyval;
mod loadavg;
mod netdev;
mod stat;

pub use delta::Incremental;
pub use diskstats::parse_diskstats;
pub use keyval::{parse_meminfo, parse_vmstat};
pub use loadavg::parse_loadavg;
pub use netdev::parse_netdev;
pub use stat::parse_stat;

use crate::intern::Interner;
use crate::metrics::Metric;
use crate::snapshot::{Skipped, Snapshot};

/// Parse one file's text into its section of `snap` (the same parsers serve local reads and
/// text fetched from remote hosts).
pub fn parse_into(
    metric: Metric,
    input: &[u8],
    snap: &mut Snapshot,
    names: &mut Interner,
) -> Skipped {
    match metric {
        Metric::Diskstats => parse_diskstats(input, &mut snap.disks, names),
        Metric::Vmstat => parse_vmstat(input, &mut snap.vmstat, names),
        Metric::Meminfo => parse_meminfo(input, &mut snap.meminfo, names),
        Metric::Loadavg => {
            let (l, s) = parse_loadavg(input);
            snap.loadavg = l;
            s
        }
        Metric::Netdev => parse_netdev(input, &mut snap.net, names),
        Metric::Stat => parse_stat(input, &mut snap.stat, names),
    }
}

/// Drop entries past `n`, noting a shrink as a shape change.
#[inline]
pub(crate) fn finish<T>(out: &mut Vec<T>, n: usize, names: &mut Interner) {
    if out.len() != n {
        names.mark_changed();
        out.truncate(n);
    }
}

/// Overwrite `out[i]` when it exists (keeps its name allocation), push otherwise.
#[inline]
pub(crate) fn put<T>(out: &mut Vec<T>, i: usize, v: T) {
    if i < out.len() {
        out[i] = v;
    } else {
        out.push(v);
    }
}
