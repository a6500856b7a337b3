//! Shared by the property tests.
use hostseries_core::Snapshot;
use proptest::prelude::*;

/// Every parsed section of `a` equals `b`'s (the bookkeeping fields may differ).
pub fn same_sections(a: &Snapshot, b: &Snapshot) -> Result<(), TestCaseError> {
    prop_assert_eq!(&a.disks, &b.disks);
    prop_assert_eq!(&a.vmstat, &b.vmstat);
    prop_assert_eq!(&a.meminfo, &b.meminfo);
    prop_assert_eq!(&a.net, &b.net);
    prop_assert_eq!(&a.stat, &b.stat);
    prop_assert_eq!(a.loadavg, b.loadavg);
    Ok(())
}
