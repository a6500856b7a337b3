//! Property tests: no input makes a parser panic, and what they keep is consistent with it.
use hostseries_core::intern::Interner;
use hostseries_core::parse::parse_into;
use hostseries_core::{Layout, Metric, Snapshot};
use proptest::prelude::*;

mod common;
use common::same_sections;

fn parse_all(input: &[u8]) -> Snapshot {
    let mut snap = Snapshot::default();
    let mut names = Interner::default();
    for m in Metric::ALL {
        parse_into(m, input, &mut snap, &mut names);
        snap.present.insert(m);
    }
    snap
}

/// Text shaped like /proc files: words, numbers (some huge or negative), colons, slashes.
fn procish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        "[a-z_]{1,12}",
        "[0-9]{1,25}",
        "-[0-9]{1,5}",
        Just(":".to_string()),
        Just("/".to_string()),
        "[0-9]\\.[0-9]{2}",
        Just("cpu".to_string()),
        "cpu[0-9]{1,2}",
        Just("MemTotal".to_string()),
        Just("kB".to_string()),
        Just("nr_free_pages".to_string()),
    ];
    let sep = prop_oneof![Just(" "), Just("  "), Just("\t"), Just("\n"), Just(":")];
    prop::collection::vec((token, sep), 0..120)
        .prop_map(|v| v.into_iter().map(|(t, s)| format!("{t}{s}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..2048)) {
        let snap = parse_all(&input);
        // Encoding what was parsed writes exactly as many values as the layout says.
        let layout = Layout::of(0, &snap);
        let mut out = Vec::new();
        layout.encode(&snap, &mut out);
        prop_assert_eq!(out.len(), layout.value_count());
    }

    #[test]
    fn warm_parse_equals_cold_parse(first in procish(), other in procish(), same_keys in any::<bool>()) {
        // Buffers and names left by an earlier parse (the fast paths) never change the result.
        // `same_keys`: the second text is the first with other numbers, as from tick to tick.
        let second = if same_keys {
            first.chars().map(|c| if c.is_ascii_digit() { char::from(b'0' + (c as u8 - b'0' + 3) % 10) } else { c }).collect()
        } else {
            other
        };
        let mut warm = Snapshot::default();
        let mut names = Interner::default();
        for m in Metric::ALL {
            parse_into(m, first.as_bytes(), &mut warm, &mut names);
            parse_into(m, second.as_bytes(), &mut warm, &mut names);
        }
        let mut cold = Snapshot::default();
        let mut fresh = Interner::default();
        for m in Metric::ALL {
            parse_into(m, second.as_bytes(), &mut cold, &mut fresh);
        }
        same_sections(&warm, &cold)?;
    }

    #[test]
    fn procish_text(input in procish()) {
        let snap = parse_all(input.as_bytes());
        let lines = input.lines().count();
        prop_assert!(snap.disks.len() <= lines);
        prop_assert!(snap.vmstat.len() <= lines);
        prop_assert!(snap.meminfo.len() <= lines);
        prop_assert!(snap.net.len() <= lines.saturating_sub(2));
        for d in &snap.disks {
            prop_assert!([11, 15, 17].contains(&d.nfields));
        }
        let layout = Layout::of(0, &snap);
        prop_assert!(layout.matches(&snap));
    }
}

#[test]
fn real_proc_round_trip() {
    // Parsing the same text twice gives an identical, matching layout (names are re-used).
    let text = std::fs::read("/proc/diskstats").unwrap();
    let mut snap = Snapshot::default();
    let mut names = Interner::default();
    parse_into(Metric::Diskstats, &text, &mut snap, &mut names);
    snap.present.insert(Metric::Diskstats);
    let layout = Layout::of(1, &snap);
    parse_into(Metric::Diskstats, &text, &mut snap, &mut names);
    assert!(layout.matches(&snap));
}
