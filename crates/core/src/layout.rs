//! The shape of a sample (which sections, which devices, interfaces, keys and CPUs, in order).
//! Samples are stored as flat `u64` values in layout order; a new layout is made only when the
//! shape changes (a disk or interface appears or goes).
use std::sync::Arc;

use crate::app::AppKind;
use crate::intern::Name;
use crate::metrics::{Metric, MetricSet};
use crate::procs::{ProcIdent, PROC_VALUES};
use crate::snapshot::{Snapshot, CPU_FIELDS, NET_FIELDS, STAT_SCALARS};

/// Values per loadavg: three loads (f64 bits), running, total.
pub const LOADAVG_VALUES: usize = 5;

#[derive(Debug)]
pub struct Layout {
    pub id: u32,
    pub present: MetricSet,
    /// Device name and field count (11, 15 or 17).
    pub disks: Vec<(Name, u8)>,
    pub vmstat: Vec<Name>,
    pub meminfo: Vec<Name>,
    pub net: Vec<Name>,
    /// `cpu`, `cpu0`, ... in file order.
    pub cpus: Vec<Name>,
    /// The watched processes (`None`: none are watched), [`PROC_VALUES`] values each.
    pub procs: Option<Vec<ProcIdent>>,
    /// Application counters and gauges (none: no `app` section), one value each.
    pub app: Vec<(Name, AppKind)>,
}

fn same(a: &Name, b: &Name) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

fn same_names<'a, T: 'a>(
    ours: &[Name],
    theirs: impl ExactSizeIterator<Item = &'a T>,
    name: impl Fn(&T) -> &Name,
) -> bool {
    ours.len() == theirs.len() && ours.iter().zip(theirs).all(|(a, b)| same(a, name(b)))
}

impl Layout {
    pub fn of(id: u32, s: &Snapshot) -> Layout {
        let p = s.present;
        let pick = |m: Metric, v: Vec<Name>| if p.contains(m) { v } else { Vec::new() };
        Layout {
            id,
            present: p,
            disks: if p.contains(Metric::Diskstats) {
                s.disks
                    .iter()
                    .map(|d| (d.name.clone(), d.nfields))
                    .collect()
            } else {
                Vec::new()
            },
            vmstat: pick(
                Metric::Vmstat,
                s.vmstat.iter().map(|e| e.0.clone()).collect(),
            ),
            meminfo: pick(
                Metric::Meminfo,
                s.meminfo.iter().map(|e| e.0.clone()).collect(),
            ),
            net: pick(
                Metric::Netdev,
                s.net.iter().map(|e| e.name.clone()).collect(),
            ),
            cpus: pick(
                Metric::Stat,
                s.stat.cpus.iter().map(|c| c.name.clone()).collect(),
            ),
            procs: s
                .watching
                .then(|| s.procs.iter().map(|e| e.ident.clone()).collect()),
            app: s.app.iter().map(|e| (e.0.clone(), e.1)).collect(),
        }
    }

    pub fn matches(&self, s: &Snapshot) -> bool {
        let p = s.present;
        if self.present != p {
            return false;
        }
        let disks = !p.contains(Metric::Diskstats)
            || (self.disks.len() == s.disks.len()
                && self
                    .disks
                    .iter()
                    .zip(&s.disks)
                    .all(|(a, b)| a.1 == b.nfields && same(&a.0, &b.name)));
        disks
            && (!p.contains(Metric::Vmstat) || same_names(&self.vmstat, s.vmstat.iter(), |e| &e.0))
            && (!p.contains(Metric::Meminfo)
                || same_names(&self.meminfo, s.meminfo.iter(), |e| &e.0))
            && (!p.contains(Metric::Netdev) || same_names(&self.net, s.net.iter(), |e| &e.name))
            && (!p.contains(Metric::Stat)
                || same_names(&self.cpus, s.stat.cpus.iter(), |c| &c.name))
            && match &self.procs {
                None => !s.watching,
                Some(ours) => {
                    s.watching
                        && ours.len() == s.procs.len()
                        && ours.iter().zip(&s.procs).all(|(a, b)| *a == b.ident)
                }
            }
            && self.app.len() == s.app.len()
            && self
                .app
                .iter()
                .zip(&s.app)
                .all(|(a, b)| same(&a.0, &b.0) && a.1 == b.1)
    }

    pub fn value_count(&self) -> usize {
        let p = self.present;
        let mut n: usize = self.disks.iter().map(|d| d.1 as usize).sum();
        n += self.vmstat.len() + self.meminfo.len() + self.net.len() * NET_FIELDS;
        if p.contains(Metric::Loadavg) {
            n += LOADAVG_VALUES;
        }
        if p.contains(Metric::Stat) {
            n += self.cpus.len() * CPU_FIELDS + STAT_SCALARS.len();
        }
        n + self.procs.as_ref().map_or(0, |p| p.len() * PROC_VALUES) + self.app.len()
    }

    /// Append `s`'s values in layout order. `s` must match this layout.
    pub fn encode(&self, s: &Snapshot, out: &mut Vec<u64>) {
        let p = self.present;
        if p.contains(Metric::Diskstats) {
            for d in &s.disks {
                out.extend_from_slice(&d.fields[..d.nfields as usize]);
            }
        }
        if p.contains(Metric::Vmstat) {
            out.extend(s.vmstat.iter().map(|e| e.1));
        }
        if p.contains(Metric::Meminfo) {
            out.extend(s.meminfo.iter().map(|e| e.1));
        }
        if p.contains(Metric::Loadavg) {
            let l = &s.loadavg;
            out.extend(l.load.iter().map(|v| v.to_bits()));
            out.extend([l.running, l.total]);
        }
        if p.contains(Metric::Netdev) {
            for e in &s.net {
                out.extend_from_slice(&e.fields);
            }
        }
        if p.contains(Metric::Stat) {
            for c in &s.stat.cpus {
                out.extend_from_slice(&c.fields);
            }
            out.extend_from_slice(&s.stat.scalars);
        }
        if self.procs.is_some() {
            for e in &s.procs {
                out.extend_from_slice(&e.values);
            }
        }
        out.extend(s.app.iter().map(|e| e.2));
    }
}

/// Keeps the current layout and replaces it only when a snapshot no longer matches.
#[derive(Default)]
pub struct LayoutTracker {
    current: Option<Arc<Layout>>,
    next_id: u32,
}

impl LayoutTracker {
    pub fn for_snapshot(&mut self, s: &Snapshot) -> &Arc<Layout> {
        // Unchanged names and counts: the current layout fits without comparing every name.
        let stale = self.current.as_ref().is_none_or(|l| {
            l.present != s.present
                || l.procs.is_some() != s.watching
                || (s.shape_changed && !l.matches(s))
        });
        if stale {
            self.current = Some(Arc::new(Layout::of(self.next_id, s)));
            self.next_id = self.next_id.wrapping_add(1);
        }
        self.current.as_ref().expect("set above")
    }
}
