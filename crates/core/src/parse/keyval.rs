use crate::intern::{Interner, Name};
use crate::num::{lines, parse_digits, parse_u64, tokens, trim};
use crate::snapshot::Skipped;

/// `line` is `key` + `sep` + digits and nothing else: the value. Gives what the general path
/// gives for such a line, without tokenising it.
#[inline]
fn same_key_value(line: &[u8], key: &Name, sep: u8) -> Option<u64> {
    let rest = line.strip_prefix(key.as_bytes())?.strip_prefix(&[sep])?;
    parse_digits(rest)
}

/// `Key:` + spaces + digits + optional ` kB`, with `Key` the previous key at this position.
#[inline]
fn meminfo_value(line: &[u8], key: &Name) -> Option<u64> {
    let rest = line.strip_prefix(key.as_bytes())?.strip_prefix(b":")?;
    let start = rest.iter().position(|&b| b != b' ')?;
    let rest = &rest[start..];
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    match &rest[end..] {
        b"" | b" kB" => parse_digits(&rest[..end]),
        _ => None,
    }
}

/// `/proc/vmstat`: lines of exactly two tokens whose second is an integer.
pub fn parse_vmstat(input: &[u8], out: &mut Vec<(Name, u64)>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    for line in lines(input) {
        // Fast path: the same key as last time at this position, `key value` exactly.
        if let Some(v) = out.get(n).and_then(|(p, _)| same_key_value(line, p, b' ')) {
            out[n].1 = v;
            n += 1;
            continue;
        }
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
    super::finish(out, n, names);
    Skipped(skipped)
}

/// `/proc/meminfo`: `Key: value [kB]`, value in the file's unit (kB). Lines that do not split on
/// `:` into exactly one key and one value are skipped, as is a value that is not an integer.
pub fn parse_meminfo(input: &[u8], out: &mut Vec<(Name, u64)>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    for line in lines(input) {
        // Fast path: the same key as last time at this position, `Key:   value[ kB]`.
        if let Some(v) = out.get(n).and_then(|(p, _)| meminfo_value(line, p)) {
            out[n].1 = v;
            n += 1;
            continue;
        }
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
    super::finish(out, n, names);
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
