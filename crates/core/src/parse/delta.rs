//! Re-parsing only the lines that changed since the previous read of the same file.
//!
//! From one tick to the next most lines of a /proc file are byte for byte the same (on an idle
//! node ~14 of vmstat's ~190 lines, none of diskstats'). When the previous text was parsed
//! cleanly into the snapshot (every line made its entry, nothing skipped), the new text is
//! compared with it a word at a time; identical lines keep what they gave last time, and only
//! a line that differs is parsed, by its section's one-pass reader for that entry. Anything
//! else (a line that does not parse that way, lines added or removed) gives up and the caller
//! parses the whole text, so the result is always what a full parse gives.
use crate::intern::Interner;
use crate::metrics::Metric;
use crate::scan::Scan;
use crate::snapshot::Snapshot;

use super::{diskstats, keyval, netdev, parse_into};

/// Length of the common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let mut i = 0;
    // 32 bytes per step, as four independent word compares.
    while i + 32 <= n {
        let d = (word(a, i) ^ word(b, i))
            | (word(a, i + 8) ^ word(b, i + 8))
            | (word(a, i + 16) ^ word(b, i + 16))
            | (word(a, i + 24) ^ word(b, i + 24));
        if d != 0 {
            break;
        }
        i += 32;
    }
    while i + 8 <= n {
        let d = word(a, i) ^ word(b, i);
        if d != 0 {
            return i + (d.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// `\n` bytes in `s` (a loop the compiler vectorises).
fn newlines(s: &[u8]) -> usize {
    s.chunks(255)
        .map(|c| {
            c.iter()
                .map(|&b| u8::from(b == b'\n'))
                .fold(0u8, u8::wrapping_add) as usize
        })
        .sum()
}

/// Lines as the parsers see them: pieces between `\n`, without the empty one after a final `\n`.
fn line_count(s: &[u8]) -> usize {
    newlines(s) + usize::from(s.last().is_some_and(|&b| b != b'\n'))
}

/// Calls `changed(scan, i, prev_line)` for each line `i` of `cur` that differs from line `i`
/// of `prev` (the scan at the line's start; it must consume the line and its `\n`). False as
/// soon as `changed` does, or when the texts do not have the same number of lines.
fn each_changed_line(
    cur: &[u8],
    prev: &[u8],
    mut changed: impl FnMut(&mut Scan, usize, &[u8]) -> bool,
) -> bool {
    let mut sc = Scan::new(cur);
    let mut p = 0;
    let mut line = 0;
    loop {
        let same = common_prefix(&cur[sc.pos..], &prev[p..]);
        if sc.pos + same == cur.len() && p + same == prev.len() {
            return true;
        }
        // Whole lines before the first difference are unchanged: skip to the start of its line.
        let region = &cur[sc.pos..sc.pos + same];
        let skip = match memchr::memrchr(b'\n', region) {
            Some(i) => {
                line += newlines(region);
                i + 1
            }
            None => 0,
        };
        sc.pos += skip;
        p += skip;
        if sc.at_end() || p >= prev.len() {
            return false; // a line added or removed at the end
        }
        let prev_line = match memchr::memchr(b'\n', &prev[p..]) {
            Some(i) => &prev[p..p + i],
            None => &prev[p..],
        };
        if !changed(&mut sc, line, prev_line) {
            return false;
        }
        p = (p + prev_line.len() + 1).min(prev.len());
        line += 1;
        if sc.at_end() || p >= prev.len() {
            return sc.at_end() && p >= prev.len();
        }
    }
}

/// Whether a full parse of `text` left every line accounted for in `snap`, so that the next
/// read can re-parse only changed lines.
fn clean(metric: Metric, text: &[u8], snap: &Snapshot) -> bool {
    let lines = line_count(text);
    match metric {
        Metric::Diskstats => lines == snap.disks.len(),
        Metric::Vmstat => lines == snap.vmstat.len(),
        Metric::Meminfo => lines == snap.meminfo.len(),
        Metric::Netdev => lines == snap.net.len() + netdev::HEADER_LINES,
        // Parsed whole every time (see `Incremental::parse`).
        Metric::Stat => false,
        // One line: an unchanged text keeps its values (see `changed_lines`).
        Metric::Loadavg => true,
    }
}

/// Per-file state: whether the previous text was parsed cleanly into the snapshot.
#[derive(Default)]
pub struct Incremental {
    clean: bool,
}

impl Incremental {
    /// Parse `cur` into `snap`, which must hold the parse of `prev` (the previous read of the
    /// same file) unless this is the first parse or the previous read failed (`prev` empty, or
    /// `forget()` called). Returns lines skipped, as `parse_into` does.
    pub fn parse(
        &mut self,
        metric: Metric,
        cur: &[u8],
        prev: &[u8],
        snap: &mut Snapshot,
        names: &mut Interner,
    ) -> u32 {
        if metric == Metric::Stat {
            // Every line but btime and procs_blocked changes from one read to the next, even
            // 10 ms apart (cpu times, intr, ctxt, softirq): comparing with the previous text
            // only adds a read of it, out of the cache at a real cadence, and two more scans
            // of the ~1 KB `intr` line. Measured with caches cold (`bench_sample coldparse
            // 2000 stat`, three runs each, interleaved): 2.9–3.4 µs compared line by line,
            // 2.3–3.0 µs whole.
            return parse_into(metric, cur, snap, names).0;
        }
        if self.clean && !prev.is_empty() && changed_lines(metric, cur, prev, snap, names) {
            return 0;
        }
        let skipped = parse_into(metric, cur, snap, names).0;
        self.clean = skipped == 0 && clean(metric, cur, snap);
        skipped
    }

    /// Whether the last parse was clean, so the next one may re-parse only changed lines.
    pub fn ready(&self) -> bool {
        self.clean
    }

    /// The snapshot no longer holds the previous text's parse.
    pub fn forget(&mut self) {
        self.clean = false;
    }
}

/// Re-parse the lines of `cur` that differ from `prev`'s, in place; false if it cannot be done
/// that way.
fn changed_lines(
    metric: Metric,
    cur: &[u8],
    prev: &[u8],
    snap: &mut Snapshot,
    names: &mut Interner,
) -> bool {
    match metric {
        Metric::Diskstats => each_changed_line(cur, prev, |sc, i, _| {
            diskstats::reparse_line(sc, i, &mut snap.disks, names)
        }),
        Metric::Vmstat => each_changed_line(cur, prev, |sc, i, _| {
            keyval::reparse_vmstat_line(sc, i, &mut snap.vmstat)
        }),
        Metric::Meminfo => each_changed_line(cur, prev, |sc, i, _| {
            keyval::reparse_meminfo_line(sc, i, &mut snap.meminfo)
        }),
        Metric::Netdev => each_changed_line(cur, prev, |sc, i, _| {
            netdev::reparse_line(sc, i, &mut snap.net)
        }),
        Metric::Stat => false,
        // Unchanged (the loads move every 5 s, the last pid with each fork): nothing to parse
        // (see `num::short_decimal` for what loadavg's parse cost a tick before).
        Metric::Loadavg => cur == prev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_lines() {
        let a = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789";
        for cut in 0..a.len() {
            let mut b = a.to_vec();
            b[cut] = b'#';
            assert_eq!(common_prefix(a, &b), cut);
        }
        assert_eq!(common_prefix(a, &a[..10]), 10);
        assert_eq!(line_count(b""), 0);
        assert_eq!(line_count(b"a"), 1);
        assert_eq!(line_count(b"a\n"), 1);
        assert_eq!(line_count(b"a\n\n"), 2);
        assert_eq!(line_count(b"a\nb"), 2);
    }

    #[test]
    fn only_changed_lines_are_visited() {
        let prev = b"a 1\nb 2\nc 3\nd 4\n";
        let cur = b"a 1\nb 22\nc 3\nd 5\n";
        let mut seen = Vec::new();
        let ok = each_changed_line(cur, prev, |sc, i, p| {
            seen.push((
                i,
                String::from_utf8_lossy(sc.line()).into_owned(),
                p.to_vec(),
            ));
            true
        });
        assert!(ok);
        assert_eq!(
            seen,
            vec![
                (1, "b 22".into(), b"b 2".to_vec()),
                (3, "d 5".into(), b"d 4".to_vec())
            ]
        );
        // A line more, a line less, or the last line without its newline.
        assert!(!each_changed_line(
            b"a 1\nb 2\nc 3\nd 4\ne 5\n",
            prev,
            |sc, _, _| {
                sc.line();
                true
            }
        ));
        assert!(!each_changed_line(b"a 1\nb 2\nc 3\n", prev, |sc, _, _| {
            sc.line();
            true
        }));
        assert!(each_changed_line(
            b"a 1\nb 2\nc 3\nd 4",
            prev,
            |sc, _, _| {
                sc.line();
                true
            }
        ));
        assert!(each_changed_line(prev, prev, |_, _, _| false));
    }
}
