//! Parsers of a process's `/proc/<pid>/{stat,status,io}` over `&[u8]`: no allocation, no panic
//! on any input (a property test feeds them arbitrary bytes); a field that is missing or
//! malformed reads 0 (or `None` for the whole `stat`, without which there is no identity).
use memchr::memmem;

use crate::num::parse_u64;

/// What `stat` tells (the fields we keep), by the kernel's field numbers (`man 5 proc_pid_stat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// (3) `R`, `S`, `D`, `Z`, ...
    pub state: u8,
    /// (4)
    pub ppid: u32,
    /// (10), (12)
    pub minflt: u64,
    pub majflt: u64,
    /// (14), (15) clock ticks
    pub utime: u64,
    pub stime: u64,
    /// (20)
    pub num_threads: u64,
    /// (22) clock ticks after boot
    pub starttime: u64,
    /// (52) the wait status, read for a zombie (`Z`) only; absent before Linux 3.5.
    pub exit_code: Option<i32>,
}

/// `comm` and the fields after it. `comm` is what lies between the first `(` and the *last*
/// `)`: a process may name itself `a) (b` or anything else of up to 15 bytes.
pub fn parse_stat(text: &[u8]) -> Option<(&[u8], Stat)> {
    let open = memchr::memchr(b'(', text)?;
    let close = memchr::memrchr(b')', text)?;
    if close < open {
        return None;
    }
    let comm = &text[open + 1..close];
    // Fields from (3) on, numbered from 0 here: field k is token k - 3.
    let mut t = crate::num::tokens(&text[close + 1..]);
    let mut s = Stat::default();
    let state = t.next()?;
    s.state = *state.first()?;
    let num = |tok: Option<&[u8]>| tok.and_then(parse_u64);
    s.ppid = u32::try_from(num(t.next())?).ok()?;
    s.minflt = num(t.nth(5)).unwrap_or(0); // (10)
    s.majflt = num(t.nth(1)).unwrap_or(0); // (12)
    s.utime = num(t.nth(1)).unwrap_or(0); // (14)
    s.stime = num(t.next()).unwrap_or(0); // (15)
    s.num_threads = num(t.nth(4)).unwrap_or(0); // (20)
    s.starttime = num(t.nth(1))?; // (22)
                                  // (52), read for a zombie only: 30 more fields to skip on every other tick.
    if s.state == b'Z' {
        s.exit_code = num(t.nth(29)).and_then(|v| i32::try_from(v).ok());
    }
    Some((comm, s))
}

/// What we keep of `status`, in kB and counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub rss_kb: u64,
    pub hwm_kb: u64,
    pub voluntary: u64,
    pub involuntary: u64,
}

/// `Key:\tvalue[ kB]` lines; the first line of each key counts, others are skipped. Kernel
/// threads have no `VmRSS` (0 then). Each key is found with one SIMD substring search rather
/// than by walking ~55 lines: `bench_procs parse` measured 1.0 µs a text walking lines, 0.17 µs
/// this way (the kernel escapes newlines in the one free-form line, `Name`).
pub fn parse_status(text: &[u8]) -> Status {
    let f = &*FINDERS;
    Status {
        rss_kb: key_value(text, &f[0]),
        hwm_kb: key_value(text, &f[1]),
        voluntary: key_value(text, &f[2]),
        involuntary: key_value(text, &f[3]),
    }
}

/// The searchers, built once: building one per search cost more than the search in `io`.
static FINDERS: std::sync::LazyLock<[memmem::Finder<'static>; 8]> =
    std::sync::LazyLock::new(|| {
        [
            &b"VmRSS:"[..],
            b"VmHWM:",
            b"voluntary_ctxt_switches:",
            b"nonvoluntary_ctxt_switches:",
            b"rchar:",
            b"wchar:",
            b"read_bytes:",
            b"write_bytes:",
        ]
        .map(memmem::Finder::new)
    });

/// The number after the first line that starts with `key` (which ends in `:`); 0 if none.
fn key_value(text: &[u8], finder: &memmem::Finder<'_>) -> u64 {
    let key = finder.needle();
    let at = if text.starts_with(key) {
        Some(0)
    } else {
        // Preceded by a line end: `voluntary_` is not found inside `nonvoluntary_`.
        let mut from = 0;
        loop {
            let Some(i) = finder.find(&text[from..]) else {
                break None;
            };
            let i = from + i;
            if text[i - 1] == b'\n' {
                break Some(i);
            }
            from = i + 1;
        }
    };
    let Some(at) = at else {
        return 0;
    };
    let rest = &text[at + key.len()..];
    let line = &rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())];
    first_number(line)
}

/// What we keep of `io`, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Io {
    pub rchar: u64,
    pub wchar: u64,
    pub read_bytes: u64,
    pub write_bytes: u64,
}

pub fn parse_io(text: &[u8]) -> Io {
    let f = &*FINDERS;
    Io {
        rchar: key_value(text, &f[4]),
        wchar: key_value(text, &f[5]),
        read_bytes: key_value(text, &f[6]),
        write_bytes: key_value(text, &f[7]),
    }
}

fn first_number(rest: &[u8]) -> u64 {
    crate::num::tokens(rest)
        .next()
        .and_then(parse_u64)
        .unwrap_or(0)
}

/// A zombie's wait status as `waitpid` decodes it: killed by a signal, or exited with a code.
pub fn decode_wait_status(code: i32) -> super::ExitStatus {
    let sig = code & 0x7f;
    if sig != 0 {
        super::ExitStatus::Signal(sig)
    } else {
        super::ExitStatus::Code((code >> 8) & 0xff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procs::ExitStatus;

    const STAT: &[u8] = b"4242 (a) (b c) Z 1 4242 4242 0 -1 4194560 1021 0 3 0 17 5 0 0 20 0 \
3 0 123456 2539520 134 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 \
0 0 9\n";

    #[test]
    fn stat_after_the_last_paren() {
        let (comm, s) = parse_stat(STAT).unwrap();
        assert_eq!(comm, b"a) (b c");
        assert_eq!(
            s,
            Stat {
                state: b'Z',
                ppid: 1,
                minflt: 1021,
                majflt: 3,
                utime: 17,
                stime: 5,
                num_threads: 3,
                starttime: 123456,
                exit_code: Some(9),
            }
        );
        // An older kernel stops before field 52.
        let short = &STAT[..STAT.len() - 40];
        assert_eq!(parse_stat(short).unwrap().1.exit_code, None);
        assert!(parse_stat(b"1 (x").is_none());
        assert!(parse_stat(b"1 x) S").is_none());
        assert!(parse_stat(b"").is_none());
    }

    #[test]
    fn status_and_io() {
        let st = b"Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nvoluntary_ctxt_switches:\t7\n\
nonvoluntary_ctxt_switches:\t2\n";
        assert_eq!(
            parse_status(st),
            Status {
                rss_kb: 1024,
                hwm_kb: 2048,
                voluntary: 7,
                involuntary: 2
            }
        );
        let io = b"rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\n\
cancelled_write_bytes: 0\n";
        assert_eq!(
            parse_io(io),
            Io {
                rchar: 10,
                wchar: 20,
                read_bytes: 4096,
                write_bytes: 8192
            }
        );
    }

    #[test]
    fn wait_status_like_waitpid() {
        assert_eq!(decode_wait_status(0), ExitStatus::Code(0));
        assert_eq!(decode_wait_status(3 << 8), ExitStatus::Code(3));
        assert_eq!(decode_wait_status(9), ExitStatus::Signal(9));
        assert_eq!(decode_wait_status(0x80 | 11), ExitStatus::Signal(11)); // core dumped
    }
}
