use crate::intern::{Interner, Name};
use crate::num::{parse_u64, tokens, trim};
use crate::scan::Scan;
use crate::snapshot::Skipped;

/// `key value\n` with `key` the previous key at this position (one pass; what the general path
/// gives for such a line).
#[inline(always)]
fn vmstat_line(sc: &mut Scan, key: &[u8]) -> Option<u64> {
    if !(sc.lit(key) && sc.byte(b' ')) {
        return None;
    }
    let v = sc.u64()?;
    sc.eol().then_some(v)
}

/// `Key:` + spaces + digits + ` kB` or nothing + end of line, `Key` the previous key here.
#[inline(always)]
fn meminfo_line(sc: &mut Scan, key: &[u8]) -> Option<u64> {
    if !(sc.lit(key) && sc.byte(b':')) {
        return None;
    }
    sc.spaces();
    let v = sc.u64()?;
    (sc.eol() || (sc.lit(b" kB") && sc.eol())).then_some(v)
}

/// The line at `sc` in one pass (by `fast`) as entry `i`'s key; false if it is not.
#[inline(always)]
fn reparse_line(
    sc: &mut Scan,
    i: usize,
    out: &mut [(Name, u64)],
    fast: impl Fn(&mut Scan, &[u8]) -> Option<u64>,
) -> bool {
    let Some(e) = out.get_mut(i) else {
        return false;
    };
    match fast(sc, e.0.as_bytes()) {
        Some(v) => {
            e.1 = v;
            true
        }
        None => false,
    }
}

pub(crate) fn reparse_vmstat_line(sc: &mut Scan, i: usize, out: &mut [(Name, u64)]) -> bool {
    reparse_line(sc, i, out, vmstat_line)
}

pub(crate) fn reparse_meminfo_line(sc: &mut Scan, i: usize, out: &mut [(Name, u64)]) -> bool {
    reparse_line(sc, i, out, meminfo_line)
}

/// What the general path makes of one line: nothing (blank), a key and value, or malformed.
enum Line<'a> {
    Blank,
    Entry(&'a [u8], u64),
    Malformed,
}

/// The loop both key/value files share: `fast` takes a line that repeats the previous parse's
/// key at this position in one pass; any other line goes through `general`.
#[inline(always)]
fn parse_key_values(
    input: &[u8],
    out: &mut Vec<(Name, u64)>,
    names: &mut Interner,
    fast: impl Fn(&mut Scan, &[u8]) -> Option<u64>,
    general: impl Fn(&[u8]) -> Line<'_>,
) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    let mut sc = Scan::new(input);
    while !sc.at_end() {
        let start = sc.pos;
        if reparse_line(&mut sc, n, out, &fast) {
            n += 1;
            continue;
        }
        sc.pos = start;
        match general(sc.line()) {
            Line::Entry(k, v) => {
                let name = names.intern_like(out.get(n).map(|e| &e.0), k);
                super::put(out, n, (name, v));
                n += 1;
            }
            Line::Blank => {}
            Line::Malformed => skipped += 1,
        }
    }
    super::finish(out, n, names);
    Skipped(skipped)
}

/// `/proc/vmstat`: lines of exactly two tokens whose second is an integer.
pub fn parse_vmstat(input: &[u8], out: &mut Vec<(Name, u64)>, names: &mut Interner) -> Skipped {
    parse_key_values(input, out, names, vmstat_line, |line| {
        let mut it = tokens(line);
        match (it.next(), it.next().map(parse_u64), it.next()) {
            (Some(k), Some(Some(v)), None) => Line::Entry(k, v),
            (None, _, _) => Line::Blank,
            _ => Line::Malformed,
        }
    })
}

/// `/proc/meminfo`: `Key: value [kB]`, value in the file's unit (kB). Lines that do not split on
/// `:` into exactly one key and one value are skipped, as is a value that is not an integer.
pub fn parse_meminfo(input: &[u8], out: &mut Vec<(Name, u64)>, names: &mut Interner) -> Skipped {
    parse_key_values(input, out, names, meminfo_line, |line| {
        if trim(line).is_empty() {
            return Line::Blank;
        }
        let mut parts = line.split(|&b| b == b':');
        let key = parts.next().map(trim).unwrap_or_default();
        let value = match (parts.next(), parts.next()) {
            (Some(v), None) => tokens(v).next().and_then(parse_u64),
            _ => None,
        };
        match value {
            Some(v) if !key.is_empty() => Line::Entry(key, v),
            _ => Line::Malformed,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmstat() {
        let mut out = Vec::new();
        let sk = parse_vmstat(
            b"nr_free_pages 123\npgpgin 18446744073709551615\nbad line here\nx y\n",
            &mut out,
            &mut Interner::default(),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(&*out[0].0, "nr_free_pages");
        assert_eq!(out[1].1, u64::MAX);
        assert_eq!(sk, Skipped(2));
    }

    #[test]
    fn fast_path_agrees_with_the_general_one() {
        let texts: [&[u8]; 4] = [
            b"MemTotal:       16384 kB\nMemFree:  5 kB\nHugePages_Total:       0\n",
            b"MemTotal:       16385 kB\nMemFree:  x kB\nHugePages_Total:       0 kB extra\n",
            b"MemTotal: 1:2 kB\nMemFree:\t7 kB\n MemTotal:  9 kB\n",
            b"",
        ];
        let mut warm = Vec::new();
        let mut names = Interner::default();
        for t in texts {
            let mut cold = Vec::new();
            let a = parse_meminfo(t, &mut warm, &mut names);
            let b = parse_meminfo(t, &mut cold, &mut Interner::default());
            assert_eq!((a, &warm), (b, &cold));
        }
        let vm: [&[u8]; 3] = [b"a 1\nb 2\n", b"a 3\nb 2 3\nb\t4\n", b"a +5\nb -1\n"];
        let mut warm = Vec::new();
        for t in vm {
            let mut cold = Vec::new();
            let a = parse_vmstat(t, &mut warm, &mut names);
            let b = parse_vmstat(t, &mut cold, &mut Interner::default());
            assert_eq!((a, &warm), (b, &cold));
        }
    }

    #[test]
    fn meminfo() {
        let mut out = Vec::new();
        let sk = parse_meminfo(
            b"MemTotal:       16384 kB\nHugePages_Total:       0\nBad: x kB\nA:b:c 1\nnocolon 5\n",
            &mut out,
            &mut Interner::default(),
        );
        assert_eq!(out.len(), 2);
        assert_eq!((&*out[0].0, out[0].1), ("MemTotal", 16384));
        assert_eq!((&*out[1].0, out[1].1), ("HugePages_Total", 0));
        assert_eq!(sk, Skipped(3));
    }
}
