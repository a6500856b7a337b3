use crate::intern::Interner;
use crate::num::{parse_u64, tokens, trim};
use crate::scan::Scan;
use crate::snapshot::{DiskEntry, Skipped, DISK_FIELDS_MAX};

/// Fields kept for a line of `tokens` tokens (major, minor and name included); `None`: skipped.
#[inline(always)]
fn kept_fields(tokens: usize) -> Option<usize> {
    match tokens {
        20.. => Some(17),
        18 | 19 => Some(15),
        14..=17 => Some(11),
        _ => None,
    }
}

/// A line as the kernel prints it (`%4d %7d %s %lu ...`, one space between values) for the
/// device `name`, the one last parsed at this position: the values go straight into `fields`
/// (zeros past the last) and the kept field count is returned.
#[inline(always)]
fn fast_line(sc: &mut Scan, name: &[u8], fields: &mut [u64; DISK_FIELDS_MAX]) -> Option<usize> {
    sc.spaces();
    sc.u64()?;
    if sc.spaces() == 0 {
        return None;
    }
    sc.u64()?;
    if sc.spaces() == 0 || !sc.lit(name) || !sc.byte(b' ') {
        return None;
    }
    let mut count = 0;
    loop {
        *fields.get_mut(count)? = sc.u64()?;
        count += 1;
        if sc.eol() {
            break;
        }
        if !sc.byte(b' ') {
            return None;
        }
    }
    fields[count..].fill(0);
    kept_fields(3 + count)
}

/// The line at `sc` in one pass as entry `i`'s device (see `fast_line`); false if it is not.
#[inline(always)]
pub(crate) fn reparse_line(
    sc: &mut Scan,
    i: usize,
    out: &mut [DiskEntry],
    names: &mut Interner,
) -> bool {
    let Some(e) = out.get_mut(i) else {
        return false;
    };
    match fast_line(sc, e.name.as_bytes(), &mut e.fields) {
        Some(nfields) => {
            if e.nfields as usize != nfields {
                names.mark_changed();
                e.nfields = nfields as u8;
            }
            true
        }
        None => false,
    }
}

/// `/proc/diskstats`: `major minor name` then 11, 15 (discards) or 17 (flushes) counters.
/// As the reference does: lines with fewer than 14 fields are skipped, discards need 18 fields,
/// flushes 20; partitions and loop devices are kept; values stay raw (sectors, ms). A value the
/// line's field count does not use is not checked (the reference never reads it).
pub fn parse_diskstats(input: &[u8], out: &mut Vec<DiskEntry>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    let mut sc = Scan::new(input);
    while !sc.at_end() {
        let start = sc.pos;
        if reparse_line(&mut sc, n, out, names) {
            n += 1;
            continue;
        }
        sc.pos = start;
        let line = sc.line();
        let mut toks = tokens(line);
        let (Some(major), Some(minor), Some(name)) = (toks.next(), toks.next(), toks.next()) else {
            skipped += u32::from(!trim(line).is_empty());
            continue;
        };
        // Parse in place, noting which values were not integers (bit i: field i).
        let mut fields = [0u64; DISK_FIELDS_MAX];
        let mut bad: u32 = 0;
        let mut count = 3;
        for (i, t) in toks.enumerate() {
            if i < DISK_FIELDS_MAX {
                match parse_u64(t) {
                    Some(v) => fields[i] = v,
                    None => bad |= 1 << i,
                }
            }
            count += 1;
        }
        let Some(nfields) = kept_fields(count) else {
            skipped += 1;
            continue;
        };
        if bad & ((1 << nfields) - 1) != 0
            || parse_u64(major).is_none()
            || parse_u64(minor).is_none()
        {
            skipped += 1;
            continue;
        }
        match out.get_mut(n) {
            // Same device as last time here: update in place (no name clone, no move).
            Some(e) if e.name.as_bytes() == name => {
                if e.nfields as usize != nfields {
                    names.mark_changed();
                    e.nfields = nfields as u8;
                }
                e.fields = fields;
            }
            prev => {
                let name = names.intern_like(prev.map(|e| &e.name), name);
                let entry = DiskEntry {
                    name,
                    fields,
                    nfields: nfields as u8,
                };
                super::put(out, n, entry);
            }
        }
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
