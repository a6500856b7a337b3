//! One frame of the remote loop as the watcher takes it: the files of each process (`stat`,
//! `status`, `io`, command lines) grouped by PID, what the tick line asked for, the host's uptime.
use crate::num;

/// One file of a process in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoteFile {
    Stat,
    Status,
    Io,
    /// `io` exists and the remote user may not read it.
    IoUnreadable,
    /// The command line (arguments joined by spaces) of a process sent with its files.
    Cmdline,
    /// The command line of a process not (yet) watched, for `cmd:` items.
    Listed,
}

impl RemoteFile {
    /// The frame's name of the file: `stat`, `status`, `io`, `io!`, `cmdline`, `cmdline?`.
    pub fn from_name(name: &str) -> Option<RemoteFile> {
        Some(match name {
            "stat" => RemoteFile::Stat,
            "status" => RemoteFile::Status,
            "io" => RemoteFile::Io,
            "io!" => RemoteFile::IoUnreadable,
            "cmdline" => RemoteFile::Cmdline,
            "cmdline?" => RemoteFile::Listed,
            _ => return None,
        })
    }
}

/// The process part of one frame.
#[derive(Default)]
pub struct RemoteProcs<'a> {
    /// The host's boot time (`btime`, seconds since 1970).
    pub btime: u64,
    /// `/proc/uptime`.
    pub uptime: Option<&'a [u8]>,
    /// What the tick line asked for (the loop echoes it): PIDs, `cPID` for a command line too.
    pub asked: &'a [u8],
    pub files: Vec<(u32, RemoteFile, &'a [u8])>,
    /// More processes matched than a frame carries: the rest were left out.
    pub truncated: bool,
    /// The loop runs under a shell that cannot read command lines (`cmd:` unavailable).
    pub no_cmdline: bool,
}

#[derive(Default)]
pub(super) struct Group<'a> {
    pub(super) pid: u32,
    pub(super) stat: Option<&'a [u8]>,
    pub(super) status: Option<&'a [u8]>,
    pub(super) io: Option<&'a [u8]>,
    pub(super) io_unreadable: bool,
    pub(super) cmdline: Option<&'a [u8]>,
    pub(super) listed: Option<&'a [u8]>,
    pub(super) used: bool,
}

/// The files of a frame by process, sorted by PID (a process's files come together).
pub(super) fn group<'a>(files: &[(u32, RemoteFile, &'a [u8])]) -> Vec<Group<'a>> {
    let mut out: Vec<Group<'a>> = Vec::new();
    for &(pid, file, text) in files {
        if out.last().is_none_or(|g| g.pid != pid) {
            out.push(Group {
                pid,
                ..Group::default()
            });
        }
        let g = out.last_mut().expect("pushed");
        match file {
            RemoteFile::Stat => g.stat = Some(text),
            RemoteFile::Status => g.status = Some(text),
            RemoteFile::Io => g.io = Some(text),
            RemoteFile::IoUnreadable => g.io_unreadable = true,
            RemoteFile::Cmdline => g.cmdline = Some(text),
            RemoteFile::Listed => g.listed = Some(text),
        }
    }
    out.sort_by_key(|g| g.pid);
    // A PID twice (asked for and picked by a name): its files are merged into the first.
    out.dedup_by(|b, a| {
        if a.pid != b.pid {
            return false;
        }
        a.stat = a.stat.or(b.stat);
        a.status = a.status.or(b.status);
        a.io = a.io.or(b.io);
        a.io_unreadable |= b.io_unreadable;
        a.cmdline = a.cmdline.or(b.cmdline);
        a.listed = a.listed.or(b.listed);
        true
    });
    out
}

/// Whether the tick line's request (`12 34 c34`) holds PID `pid`.
pub(super) fn asked(request: &[u8], pid: u32) -> bool {
    num::tokens(request).any(|t| num::parse_u64(t) == Some(u64::from(pid)))
}

/// `/proc/uptime`'s first field (`12345.67`) as nanoseconds.
pub(super) fn parse_uptime_ns(text: &[u8]) -> Option<u64> {
    let tok = num::tokens(text).next()?;
    let (int, frac) = match memchr::memchr(b'.', tok) {
        Some(i) => (&tok[..i], &tok[i + 1..]),
        None => (tok, &b""[..]),
    };
    let secs = num::parse_u64(int)?;
    let mut ns = 0u64;
    let mut scale = 100_000_000u64;
    for &d in frac.iter().take(9) {
        if !d.is_ascii_digit() {
            return None;
        }
        ns += u64::from(d - b'0') * scale;
        scale /= 10;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(ns)
}
