use crate::num::{parse_f64, parse_u64, tokens};
use crate::snapshot::{LoadAvg, Skipped};

/// `/proc/loadavg`: `0.52 0.58 0.59 2/1234 5678`. Malformed input gives all zeros, as the
/// reference does; empty input too.
pub fn parse_loadavg(input: &[u8]) -> (LoadAvg, Skipped) {
    let mut it = tokens(input);
    let parsed = (|| {
        let l1 = parse_f64(it.next()?)?;
        let l5 = parse_f64(it.next()?)?;
        let l15 = parse_f64(it.next()?)?;
        let procs = it.next()?;
        let slash = procs.iter().position(|&b| b == b'/')?;
        let running = parse_u64(&procs[..slash])?;
        let total = parse_u64(&procs[slash + 1..])?;
        Some(LoadAvg {
            load: [l1, l5, l15],
            running,
            total,
        })
    })();
    match parsed {
        Some(l) => (l, Skipped(0)),
        None => (LoadAvg::default(), Skipped(u32::from(!input.is_empty()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg() {
        let (l, _) = parse_loadavg(b"0.52 0.58 0.59 2/1234 5678\n");
        assert_eq!(l.load, [0.52, 0.58, 0.59]);
        assert_eq!((l.running, l.total), (2, 1234));
        assert_eq!(parse_loadavg(b"garbage").0, LoadAvg::default());
        assert_eq!(parse_loadavg(b"").0, LoadAvg::default());
        assert_eq!(parse_loadavg(b"1 2 3 4-5 6").0, LoadAvg::default());
    }
}
