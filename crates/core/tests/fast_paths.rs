//! The parsers read a line that repeats last tick's name in one pass (a fast path) and any other
//! line the general way. These tests build text in the kernel's own formats, re-number it as
//! the next tick would, damage it here and there, and check that a parse warmed by the previous
//! text always gives what a fresh parse gives.
use hostseries_core::intern::Interner;
use hostseries_core::parse::{parse_into, Incremental};
use hostseries_core::{Metric, Snapshot};
use proptest::prelude::*;

mod common;
use common::same_sections;

/// xorshift64*: the text is built from one seed, so a failing case is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
    /// A counter: mostly small, sometimes near or past the u64 limit.
    fn value(&mut self) -> String {
        match self.below(60) {
            0 => "18446744073709551615".into(),
            1 => "18446744073709551616".into(),
            2 => "99999999999999999999".into(),
            3..=6 => format!("{}", self.next()),
            7..=10 => format!("{}", self.next() >> 4),
            11..=20 => "0".into(),
            21..=30 => format!("{}", self.below(100_000_000)),
            31..=35 => format!("{}", self.below(10_000_000_000_000_000)),
            _ => format!("{}", self.below(1000)),
        }
    }
}

/// One file's text; the same `shape` seed gives the same lines and names, `values` the numbers.
fn text(metric: Metric, shape: u64, values: u64) -> String {
    let mut s = Rng(shape | 1);
    let mut v = Rng(values | 1);
    let mut out = String::new();
    let lines = 1 + s.below(8);
    match metric {
        Metric::Diskstats => {
            for _ in 0..lines {
                let name = s.pick(&["sda", "sda1", "nvme0n1", "nvme0n1p12", "loop0", "dm-0", "x"]);
                let count = 9 + s.below(12);
                let vals: Vec<String> = (0..count).map(|_| v.value()).collect();
                let (maj, min) = (s.below(300), s.below(300));
                out += &format!("{maj:>4} {min:>7} {name} {}\n", vals.join(" "));
            }
        }
        Metric::Vmstat => {
            for _ in 0..lines {
                let key = s.pick(&[
                    "nr_free_pages",
                    "pgpgin",
                    "nr_zone_inactive_anon",
                    "a",
                    "numa_hit",
                ]);
                out += &format!("{key} {}\n", v.value());
            }
        }
        Metric::Meminfo => {
            for _ in 0..lines {
                let key = s.pick(&[
                    "MemTotal",
                    "MemFree",
                    "HugePages_Total",
                    "Hugepagesize",
                    "DirectMap4k",
                ]);
                let unit = if s.below(3) == 0 { "" } else { " kB" };
                out += &format!("{key:<15}{:>9}{unit}\n", format!(":{}", v.value()));
            }
        }
        Metric::Netdev => {
            out += "Inter-|   Receive |  Transmit\n face |bytes    packets|bytes\n";
            for _ in 0..lines {
                let name = s.pick(&["lo", "eth0", "wlp2s0", "veth1234abcd", "br-0"]);
                let count = 14 + s.below(4);
                let vals: Vec<String> = (0..count).map(|_| format!("{:>8}", v.value())).collect();
                out += &format!("{name:>6}:{}\n", vals.join(" "));
            }
        }
        Metric::Stat => {
            for i in 0..lines {
                let name = if i == 0 {
                    "cpu ".to_string()
                } else {
                    format!("cpu{}", i - 1)
                };
                let count = if s.below(4) == 0 { 8 + s.below(4) } else { 10 };
                let vals: Vec<String> = (0..count).map(|_| v.value()).collect();
                out += &format!("{name} {}\n", vals.join(" "));
            }
            // The keys come from the values' seed too: now and then a line's key is another
            // scalar's or none of them, with the line count unchanged.
            let keys = hostseries_core::snapshot::STAT_SCALARS;
            for key in keys {
                let key = match v.below(10) {
                    0 => "softirq",
                    1 => keys[v.below(6) as usize],
                    _ => key,
                };
                out += &format!("{key} {} 1 2\n", v.value());
            }
        }
        Metric::Loadavg => {
            out += &format!(
                "0.{} 1.00 2.50 {}/{} 42\n",
                v.below(100),
                v.value(),
                v.value()
            )
        }
    }
    out
}

/// Damage a few bytes the way a truncated, concatenated or foreign file would.
fn damage(text: &str, seed: u64, edits: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    let mut b = text.as_bytes().to_vec();
    for _ in 0..edits {
        if b.is_empty() {
            break;
        }
        let at = r.below(b.len() as u64) as usize;
        let with =
            [b' ', b'\t', b'x', b'\n', b':', b'+', b'-', b'0', b'9', 0xff][r.below(10) as usize];
        match r.below(3) {
            0 => b[at] = with,
            1 => b.insert(at, with),
            _ => {
                b.remove(at);
            }
        }
    }
    b
}

fn check(metric: Metric, first: &[u8], second: &[u8]) -> Result<(), TestCaseError> {
    let mut cold = Snapshot::default();
    let cold_skipped = parse_into(metric, second, &mut cold, &mut Interner::default());
    // Warm: the whole text parsed over the previous parse.
    let mut warm = Snapshot::default();
    let mut names = Interner::default();
    parse_into(metric, first, &mut warm, &mut names);
    let warm_skipped = parse_into(metric, second, &mut warm, &mut names);
    prop_assert_eq!(warm_skipped.0, cold_skipped.0);
    same_sections(&warm, &cold)?;
    // Incremental: only the lines that differ from the previous text, as the reader does.
    let mut inc = Incremental::default();
    let mut snap = Snapshot::default();
    let mut names = Interner::default();
    inc.parse(metric, first, b"", &mut snap, &mut names);
    prop_assert_eq!(
        inc.parse(metric, second, first, &mut snap, &mut names),
        cold_skipped.0
    );
    same_sections(&snap, &cold)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn next_tick_parses_as_a_fresh_parse(
        metric in prop::sample::select(Metric::ALL.to_vec()),
        shape in any::<u64>(),
        v1 in any::<u64>(),
        v2 in any::<u64>(),
        other_shape in any::<u64>(),
        same_shape in any::<bool>(),
        edits in 0u64..4,
        where_ in any::<u64>(),
    ) {
        let first = text(metric, shape, v1);
        let second = text(metric, if same_shape { shape } else { other_shape }, v2);
        // Clean, then damaged after a clean tick, then clean after a damaged one.
        check(metric, first.as_bytes(), second.as_bytes())?;
        // An unchanged text (loadavg keeps its values then without parsing).
        check(metric, second.as_bytes(), second.as_bytes())?;
        let damaged = damage(&second, where_, edits);
        check(metric, first.as_bytes(), &damaged)?;
        check(metric, &damaged, second.as_bytes())?;
    }
}

#[test]
fn formats_take_the_fast_path_and_keep_every_value() {
    // Guards the generator: its clean text parses with nothing skipped and every line kept.
    let mut snap = Snapshot::default();
    let mut names = Interner::default();
    let text = text(Metric::Diskstats, 7, 1).replace("99999999999999999999", "1");
    let text = text.replace("18446744073709551616", "2");
    let skipped = parse_into(Metric::Diskstats, text.as_bytes(), &mut snap, &mut names);
    let kept = text
        .lines()
        .filter(|l| l.split_whitespace().count() >= 14)
        .count();
    assert_eq!(
        (skipped.0 as usize, snap.disks.len()),
        (text.lines().count() - kept, kept)
    );
}

#[test]
fn the_live_proc_files_are_reparsed_by_changed_lines() {
    // The kernel's own text parses cleanly (so only changed lines are re-read from the second
    // read on; /proc/stat, whose lines nearly all change each read, is parsed whole each time),
    // and re-reading it that way gives what a full parse gives.
    for metric in Metric::ALL {
        let mut file = hostseries_core::procfile::ProcFile::new(metric.path());
        let first = file.read().unwrap().to_vec();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = file.read().unwrap().to_vec();
        let mut inc = Incremental::default();
        let mut snap = Snapshot::default();
        let mut names = Interner::default();
        assert_eq!(inc.parse(metric, &first, b"", &mut snap, &mut names), 0);
        assert_eq!(inc.ready(), metric != Metric::Stat, "{metric:?}");
        inc.parse(metric, &second, &first, &mut snap, &mut names);
        let mut cold = Snapshot::default();
        parse_into(metric, &second, &mut cold, &mut Interner::default());
        same_sections(&snap, &cold).unwrap();
    }
}
