use crate::intern::Interner;
use crate::num::{parse_u64, tokens};
use crate::scan::Scan;
use crate::snapshot::{CpuLine, Skipped, Stat, CPU_FIELDS, STAT_SCALARS};

/// A `cpu` line as the kernel prints it (name, spaces, 10 values one space apart) for `name`,
/// the one last parsed at this position: the values go straight into `fields`.
#[inline(always)]
fn fast_cpu_line(sc: &mut Scan, name: &[u8], fields: &mut [u64; CPU_FIELDS]) -> Option<()> {
    if !sc.lit(name) || sc.spaces() == 0 {
        return None;
    }
    for (i, f) in fields.iter_mut().enumerate() {
        if i > 0 && !sc.byte(b' ') {
            return None;
        }
        *f = sc.u64()?;
    }
    sc.eol().then_some(())
}

/// The line at `sc` in one pass as cpu entry `i` (see `fast_cpu_line`); false if it is not.
#[inline(always)]
fn reparse_cpu_line(sc: &mut Scan, i: usize, out: &mut [CpuLine]) -> bool {
    out.get_mut(i)
        .is_some_and(|c| fast_cpu_line(sc, c.name.as_bytes(), &mut c.fields).is_some())
}

/// `cpu` or `cpuN`.
fn is_cpu_key(key: &[u8]) -> bool {
    key.starts_with(b"cpu") && key[3..].iter().all(u8::is_ascii_digit)
}

/// Where `key` goes in `Stat::scalars`, if it is one of `STAT_SCALARS`.
fn scalar_index(key: &[u8]) -> Option<usize> {
    STAT_SCALARS.iter().position(|s| s.as_bytes() == key)
}

/// `/proc/stat`: the `cpu` and `cpuN` lines (user nice system idle iowait irq softirq steal
/// guest guest_nice; fields an older kernel lacks read 0), the `intr` total only, `ctxt`,
/// `btime`, `processes`, `procs_running`, `procs_blocked`. Other lines are ignored.
pub fn parse_stat(input: &[u8], out: &mut Stat, names: &mut Interner) -> Skipped {
    let mut n = 0;
    let mut skipped = 0;
    out.scalars = [0; 6];
    let mut sc = Scan::new(input);
    while !sc.at_end() {
        let start = sc.pos;
        if reparse_cpu_line(&mut sc, n, &mut out.cpus) {
            n += 1;
            continue;
        }
        sc.pos = start;
        let line = sc.line();
        let mut it = tokens(line);
        let Some(key) = it.next() else { continue };
        if is_cpu_key(key) {
            let mut fields = [0u64; CPU_FIELDS];
            let mut count = 0;
            let mut ok = true;
            for t in it {
                if count < CPU_FIELDS {
                    match parse_u64(t) {
                        Some(v) => fields[count] = v,
                        None => ok = false,
                    }
                }
                count += 1;
            }
            if !ok || count < 4 {
                skipped += 1;
                continue;
            }
            match out.cpus.get_mut(n) {
                Some(c) if c.name.as_bytes() == key => c.fields = fields,
                prev => {
                    let name = names.intern_like(prev.map(|c| &c.name), key);
                    super::put(&mut out.cpus, n, CpuLine { name, fields });
                }
            }
            n += 1;
        } else if let Some(i) = scalar_index(key) {
            match it.next().and_then(parse_u64) {
                Some(v) => out.scalars[i] = v,
                None => skipped += 1,
            }
        }
    }
    super::finish(&mut out.cpus, n, names);
    Skipped(skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat() {
        let text = b"cpu  10 20 30 40 50 60 70 80 90 100\ncpu0 1 2 3 4 5 6 7 8 9 10\ncpu1 1 2 3 4 5 6 7\n\
intr 12345 1 2 3\nctxt 999\nbtime 1700000000\nprocesses 42\nprocs_running 3\nprocs_blocked 1\nsoftirq 5 1 1\ncpuX 1 2 3 4\n";
        let mut out = Stat::default();
        let sk = parse_stat(text, &mut out, &mut Interner::default());
        assert_eq!(out.cpus.len(), 3);
        assert_eq!(&*out.cpus[0].name, "cpu");
        assert_eq!(out.cpus[0].fields[9], 100);
        assert_eq!(out.cpus[2].fields[7], 0);
        assert_eq!(out.scalars, [12345, 999, 1700000000, 42, 3, 1]);
        assert_eq!(sk, Skipped(0));
    }
}
