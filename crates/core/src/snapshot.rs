//! One parsed sample of the selected /proc files, in reusable buffers: parsing into a snapshot
//! that already holds last tick's data allocates nothing when the layout is unchanged.
use crate::app::AppKind;
use crate::intern::Name;
use crate::metrics::MetricSet;
use crate::procs::ProcEntry;

/// Fields after major, minor and name: 11 always, 15 with discards, 17 with flushes.
pub const DISK_FIELDS_MAX: usize = 17;
pub const NET_FIELDS: usize = 16;
pub const CPU_FIELDS: usize = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct DiskEntry {
    pub name: Name,
    pub fields: [u64; DISK_FIELDS_MAX],
    /// 11, 15 or 17.
    pub nfields: u8,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetEntry {
    pub name: Name,
    pub fields: [u64; NET_FIELDS],
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LoadAvg {
    pub load: [f64; 3],
    pub running: u64,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CpuLine {
    /// `cpu` for the aggregate line, `cpuN` otherwise.
    pub name: Name,
    pub fields: [u64; CPU_FIELDS],
}

/// `/proc/stat` scalars, in this order: intr (total), ctxt, btime, processes, procs_running,
/// procs_blocked.
pub const STAT_SCALARS: [&str; 6] = [
    "intr",
    "ctxt",
    "btime",
    "processes",
    "procs_running",
    "procs_blocked",
];

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stat {
    /// The aggregate `cpu` line first (when present), then `cpuN` lines in file order.
    pub cpus: Vec<CpuLine>,
    pub scalars: [u64; 6],
}

/// Lines a parser skipped as malformed (the reference parsers skip them silently; we count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Skipped(pub u32);

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Which sections hold data for this sample (selected and read without error).
    pub present: MetricSet,
    /// Whether a name or entry count differs from the previous parse into this snapshot
    /// (when false, the layout in use still fits and need not be compared).
    pub shape_changed: bool,
    pub disks: Vec<DiskEntry>,
    pub vmstat: Vec<(Name, u64)>,
    pub meminfo: Vec<(Name, u64)>,
    pub loadavg: LoadAvg,
    pub net: Vec<NetEntry>,
    pub stat: Stat,
    /// Processes are watched: the sample has a `processes` list (empty when none is alive).
    pub watching: bool,
    /// The watched processes alive at this tick.
    pub procs: Vec<ProcEntry>,
    /// Application counters and gauges (`u64`, or f64 bits for a gauge), in registration order.
    pub app: Vec<(Name, AppKind, u64)>,
}

impl Default for MetricSet {
    fn default() -> Self {
        MetricSet::EMPTY
    }
}

/// Ask the CPU to start loading `s` (one non-blocking hint per 64 bytes; nothing off x86-64).
#[inline]
pub(crate) fn prefetch<T>(s: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let (p, n) = (s.as_ptr().cast::<u8>(), std::mem::size_of_val(s));
        for off in (0..n).step_by(64) {
            // SAFETY: a prefetch is a hint that never faults; the address is in bounds.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    p.add(off).cast(),
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}

impl Snapshot {
    /// Start loading every section's entries (see `ProcReader::read`, which calls this before
    /// its preads so the parse and the encode find them in the cache).
    pub fn prefetch(&self) {
        prefetch(&self.disks);
        prefetch(&self.vmstat);
        prefetch(&self.meminfo);
        prefetch(&self.net);
        prefetch(&self.stat.cpus);
    }
}
