//! The set of /proc files a reader samples.
use std::fmt;

use crate::error::Error;

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

    /// The names, as an error message lists them.
    pub fn names() -> String {
        Metric::ALL.map(Metric::name).join(", ")
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl std::str::FromStr for Metric {
    type Err = Error;

    /// A metric by name; an unknown one is an [`crate::ErrorCode::InvalidOption`] naming it.
    fn from_str(name: &str) -> Result<Metric, Error> {
        Metric::from_name(name).ok_or_else(|| {
            Error::invalid_option(
                "metrics",
                format!(
                    "has an unknown metric {name:?}; expected one of {}",
                    Metric::names()
                ),
            )
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn names_parse_and_an_unknown_one_is_an_invalid_option() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
        }
        let e = "disks".parse::<Metric>().unwrap_err();
        assert_eq!(
            (e.code(), e.option()),
            (ErrorCode::InvalidOption, Some("metrics"))
        );
        assert_eq!(
            e.to_string(),
            "metrics has an unknown metric \"disks\"; expected one of diskstats, vmstat, meminfo, loadavg, netdev, stat"
        );
    }
}
