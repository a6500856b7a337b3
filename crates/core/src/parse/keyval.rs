use crate::intern::{Interner, Name};
use crate::num::{lines, parse_u64, tokens, trim};
use crate::snapshot::Skipped;

/// `/proc/vmstat`: lines of exactly two tokens whose second is an integer.
pub fn parse_vmstat(input: &[u8], out: &mut Vec<(Name, u64)>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    for line in lines(input) {
        let mut it = tokens(line);
        let (Some(k), v, None) = (it.next(), it.next(), it.next()) else {
            skipped += u32::from(!trim(line).is_empty());
            continue;
        };
        let Some(v) = v.and_then(parse_u64) else {
            skipped += 1;
            continue;
        };
        let name = names.intern_like(out.get(n).map(|e| &e.0), k);
        super::put(out, n, (name, v));
        n += 1;
    }
    out.truncate(n);
    Skipped(skipped)
}

/// `/proc/meminfo`: `Key: value [kB]`, value in the file's unit (kB). Lines that do not split on
/// `:` into exactly one key and one value are skipped, as is a value that is not an integer.
pub fn parse_meminfo(input: &[u8], out: &mut Vec<(Name, u64)>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    for line in lines(input) {
        if trim(line).is_empty() {
            continue;
        }
        let mut parts = line.split(|&b| b == b':');
        let (Some(k), Some(v), None) = (parts.next(), parts.next(), parts.next()) else {
            skipped += 1;
            continue;
        };
        let key = trim(k);
        let Some(v) = tokens(v).next().and_then(parse_u64) else {
            skipped += 1;
            continue;
        };
        if key.is_empty() {
            skipped += 1;
            continue;
        }
        let name = names.intern_like(out.get(n).map(|e| &e.0), key);
        super::put(out, n, (name, v));
        n += 1;
    }
    out.truncate(n);
    Skipped(skipped)
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
