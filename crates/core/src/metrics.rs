//! The set of /proc files a reader samples.
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Diskstats,
    Vmstat,
    Meminfo,
    Loadavg,
    Netdev,
    Stat,
}

impl Metric {
    pub const ALL: [Metric; 6] = [
        Metric::Diskstats,
        Metric::Vmstat,
        Metric::Meminfo,
        Metric::Loadavg,
        Metric::Netdev,
        Metric::Stat,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::Diskstats => "diskstats",
            Metric::Vmstat => "vmstat",
            Metric::Meminfo => "meminfo",
            Metric::Loadavg => "loadavg",
            Metric::Netdev => "netdev",
            Metric::Stat => "stat",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Metric::Diskstats => "/proc/diskstats",
            Metric::Vmstat => "/proc/vmstat",
            Metric::Meminfo => "/proc/meminfo",
            Metric::Loadavg => "/proc/loadavg",
            Metric::Netdev => "/proc/net/dev",
            Metric::Stat => "/proc/stat",
        }
    }

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MetricSet(u8);

impl MetricSet {
    pub const EMPTY: MetricSet = MetricSet(0);

    pub fn all() -> MetricSet {
        Metric::ALL.into_iter().collect()
    }

    pub fn contains(self, m: Metric) -> bool {
        self.0 & m.bit() != 0
    }

    pub fn insert(&mut self, m: Metric) {
        self.0 |= m.bit();
    }

    pub fn remove(&mut self, m: Metric) {
        self.0 &= !m.bit();
    }

    pub fn iter(self) -> impl Iterator<Item = Metric> {
        Metric::ALL.into_iter().filter(move |m| self.contains(*m))
    }

    pub fn bits(self) -> u8 {
        self.0
    }
}

impl FromIterator<Metric> for MetricSet {
    fn from_iter<I: IntoIterator<Item = Metric>>(iter: I) -> Self {
        let mut s = MetricSet::EMPTY;
        for m in iter {
            s.insert(m);
        }
        s
    }
}
