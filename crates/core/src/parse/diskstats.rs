use crate::intern::Interner;
use crate::num::{lines, parse_u64, tokens};
use crate::snapshot::{DiskEntry, Skipped, DISK_FIELDS_MAX};

/// `/proc/diskstats`: `major minor name` then 11, 15 (discards) or 17 (flushes) counters.
/// As the reference does: lines with fewer than 14 fields are skipped, discards need 18 fields,
/// flushes 20; partitions and loop devices are kept; values stay raw (sectors, ms).
pub fn parse_diskstats(input: &[u8], out: &mut Vec<DiskEntry>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    for line in lines(input) {
        let mut toks = [&b""[..]; 3 + DISK_FIELDS_MAX];
        let mut count = 0;
        for t in tokens(line) {
            if count < toks.len() {
                toks[count] = t;
            }
            count += 1;
        }
        if count == 0 {
            continue;
        }
        if count < 14 {
            skipped += 1;
            continue;
        }
        let nfields = if count >= 20 {
            17
        } else if count >= 18 {
            15
        } else {
            11
        };
        let mut fields = [0u64; DISK_FIELDS_MAX];
        let ok = toks[3..3 + nfields]
            .iter()
            .zip(fields.iter_mut())
            .all(|(t, f)| parse_u64(t).map(|v| *f = v).is_some());
        if !ok || parse_u64(toks[0]).is_none() || parse_u64(toks[1]).is_none() {
            skipped += 1;
            continue;
        }
        let name = names.intern_like(out.get(n).map(|e| &e.name), toks[2]);
        if out.get(n).is_some_and(|e| e.nfields as usize != nfields) {
            names.mark_changed();
        }
        super::put(
            out,
            n,
            DiskEntry {
                name,
                fields,
                nfields: nfields as u8,
            },
        );
        n += 1;
    }
    super::finish(out, n, names);
    Skipped(skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (Vec<DiskEntry>, Skipped) {
        let mut out = Vec::new();
        let sk = parse_diskstats(s.as_bytes(), &mut out, &mut Interner::default());
        (out, sk)
    }

    #[test]
    fn field_counts() {
        let text = "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n\
                    8 1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n\
                    259 0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n\
                    7 0 loop0 1 2 3 4 5 6 7 8 9 10\n\
                    8 2 sda2 1 2 3 4 5 6 7 8 9 10 11 12 13\n";
        let (d, sk) = parse(text);
        assert_eq!(sk, Skipped(1)); // loop0 has 13 fields
        assert_eq!(d.len(), 4);
        assert_eq!((&*d[0].name, d[0].nfields), ("sda", 11));
        assert_eq!(d[1].nfields, 15);
        assert_eq!(d[2].nfields, 17);
        assert_eq!(d[2].fields[16], 17);
        // 16 counters: discards yes (>= 18 tokens), flushes no (< 20)
        assert_eq!(d[3].nfields, 11);
    }

    #[test]
    fn max_counters_and_garbage() {
        let (d, _) = parse("8 0 sda 18446744073709551615 0 0 0 0 0 0 0 0 0 0");
        assert_eq!(d[0].fields[0], u64::MAX);
        let (d, sk) = parse("8 0 sda x 0 0 0 0 0 0 0 0 0 0\n\n");
        assert!(d.is_empty());
        assert_eq!(sk, Skipped(1));
        assert!(parse("").0.is_empty());
    }

    #[test]
    fn reuses_names() {
        let mut out = Vec::new();
        let mut names = Interner::default();
        let t = b"8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n";
        parse_diskstats(t, &mut out, &mut names);
        let p = out[0].name.as_ptr();
        parse_diskstats(t, &mut out, &mut names);
        assert_eq!(out[0].name.as_ptr(), p);
    }
}
