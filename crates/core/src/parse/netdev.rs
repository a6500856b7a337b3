use crate::intern::Interner;
use crate::num::{parse_u64, tokens, trim};
use crate::scan::Scan;
use crate::snapshot::{NetEntry, Skipped, NET_FIELDS};

/// A line as the kernel prints it (`%6s:%8llu %7llu ...`, exactly 16 values) for the interface
/// `name`, the one last parsed at this position: the values go straight into `fields`.
#[inline(always)]
fn fast_line(sc: &mut Scan, name: &[u8], fields: &mut [u64; NET_FIELDS]) -> Option<()> {
    sc.spaces();
    if !sc.lit(name) || !sc.byte(b':') {
        return None;
    }
    for f in fields.iter_mut() {
        sc.spaces();
        *f = sc.u64()?;
    }
    sc.eol().then_some(())
}

/// The column headings before the first interface.
pub(crate) const HEADER_LINES: usize = 2;

/// The line at `sc` in one pass as entry `i`'s interface (see `fast_line`); false if it is not.
#[inline(always)]
fn reparse_entry(sc: &mut Scan, i: usize, out: &mut [NetEntry]) -> bool {
    out.get_mut(i)
        .is_some_and(|e| fast_line(sc, e.name.as_bytes(), &mut e.fields).is_some())
}

/// Line `line` of the file (headings included) re-read by itself; false if it cannot be.
pub(crate) fn reparse_line(sc: &mut Scan, line: usize, out: &mut [NetEntry]) -> bool {
    line >= HEADER_LINES && reparse_entry(sc, line - HEADER_LINES, out)
}

/// `/proc/net/dev`: two header lines, then `name: 16 counters` (the name is what stands before
/// the first `:`, so `eth1:1 2 ...` parses). Lines with fewer than 16 integers are skipped.
pub fn parse_netdev(input: &[u8], out: &mut Vec<NetEntry>, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    let mut sc = Scan::new(input);
    for _ in 0..HEADER_LINES {
        sc.line();
    }
    while !sc.at_end() {
        let start = sc.pos;
        if reparse_entry(&mut sc, n, out) {
            n += 1;
            continue;
        }
        sc.pos = start;
        let line = sc.line();
        if trim(line).is_empty() {
            continue;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            skipped += 1;
            continue;
        };
        let name = trim(&line[..colon]);
        let mut fields = [0u64; NET_FIELDS];
        let mut count = 0;
        let mut ok = true;
        for t in tokens(&line[colon + 1..]) {
            if count < NET_FIELDS {
                match parse_u64(t) {
                    Some(v) => fields[count] = v,
                    None => ok = false,
                }
            }
            count += 1;
        }
        if !ok || count < NET_FIELDS || name.is_empty() {
            skipped += 1;
            continue;
        }
        match out.get_mut(n) {
            Some(e) if e.name.as_bytes() == name => e.fields = fields,
            prev => {
                let name = names.intern_like(prev.map(|e| &e.name), name);
                super::put(out, n, NetEntry { name, fields });
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

    const HDR: &str = "Inter-|   Receive |  Transmit\n face |bytes    packets|bytes\n";

    #[test]
    fn netdev() {
        let text = format!(
            "{HDR}    lo: 100 2 0 0 0 0 0 0 100 2 0 0 0 0 0 0\neth1:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\nshort: 1 2 3\n"
        );
        let mut out = Vec::new();
        let sk = parse_netdev(text.as_bytes(), &mut out, &mut Interner::default());
        assert_eq!(out.len(), 2);
        assert_eq!(&*out[0].name, "lo");
        assert_eq!(&*out[1].name, "eth1");
        assert_eq!(out[1].fields[0], 1);
        assert_eq!(out[1].fields[15], 16);
        assert_eq!(sk, Skipped(1));
    }
}
