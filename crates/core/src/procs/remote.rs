//! Watched processes of a remote host, from the text its shell loop streams: per tick, the
//! `stat`, `status`, `io` (and, where asked, `cmdline`) of the processes we ask for by PID (the
//! ones we track, and `cmd:` matches found in the command lines the loop sends of processes it
//! had not sent yet) and of new ones the loop picked (`name:` by a `case` over `comm`, `pid:` by
//! PID). Keys, restarts, CPU % and uptime come from the same table as local processes.
use crate::error::{Error, Result};
use crate::intern::Interner;
use crate::store::SampleError;

use super::cmdline::join_cmdline;
use super::keys::key_base;
use super::parse::{parse_io, parse_stat, parse_status, Stat};
use super::spec::{Kind, WatchSpec};
use super::table::{Found, ProcTable};
use super::{ProcEntry, CMDLINE_MAX};

/// The remote host's clock tick: `USER_HZ`, which Linux fixes at 100 for every architecture
/// we run on (what `/proc/<pid>/stat` counts in, whatever the kernel's `HZ`); the loop cannot
/// ask `getconf` without starting a process.
const REMOTE_CLK_TCK: u64 = 100;

/// A `cmd:` match found in a command line waits this many frames for the process to come
/// with its files (the tick line asking for it may have gone out before the frame arrived).
const PENDING_FRAMES: u32 = 3;

/// New processes the loop sends a tick at most (the loop's own bound, `MAX_NEW_PER_TICK` of
/// lib/remote/script.ts).
const MAX_NEW_PER_TICK: usize = 256;

/// Processes watched on one host at most: each costs the loop ~2 KB of frame a tick (`status`
/// is most of it), and the collector drops a frame past 4 MB.
pub const MAX_TRACKED: usize = 1024;

/// Bytes a name may hold to go into the remote loop's `case` pattern: nothing a shell or a
/// pattern gives a meaning to.
pub fn is_script_safe_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_' | b'+' | b'-' | b':' | b'@' | b'%' | b',' | b'=' | b'/'
                )
        })
}

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
struct Group<'a> {
    pid: u32,
    stat: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
    io: Option<&'a [u8]>,
    io_unreadable: bool,
    cmdline: Option<&'a [u8]>,
    listed: Option<&'a [u8]>,
    used: bool,
}

struct Item {
    spec: WatchSpec,
    root_start: Option<u64>,
}

/// What the remote loop is to pick by itself (the rest it is asked for each tick).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemotePlan {
    pub names: Vec<String>,
    pub pids: Vec<u32>,
    /// Command lines are needed (`cmd:` items): bash only.
    pub cmd: bool,
}

pub struct RemoteWatcher {
    items: Vec<Item>,
    table: ProcTable,
    /// `cmd:` matches waiting for their files: PID, command line, frames left.
    pending: Vec<(u32, Vec<u8>, u32)>,
    /// Tracked PIDs whose command line is to be sent (their name changed).
    want_cmdline: Vec<u32>,
    /// The host's time since boot at the last frame, and our monotonic time then.
    last_boot: Option<(u64, u64)>,
    cmdline: Vec<u8>,
    /// Errors said once: the shell cannot read command lines.
    said_no_cmdline: bool,
}

impl RemoteWatcher {
    /// Watch `items` on a remote host: `name:` (of a safe character set, since it goes into the
    /// remote loop), `pid:`/`N` and `cmd:`; `self` and `tree:` name processes of this machine.
    pub fn new(items: Vec<WatchSpec>) -> Result<RemoteWatcher> {
        for s in &items {
            let bad =
                |why: &str| Error::invalid_option("watch", format!("item {:?}: {why}", s.as_str()));
            match &s.kind {
                Kind::Myself => {
                    return Err(bad(
                        "a remote host has no process of ours: self is for this machine only",
                    ))
                }
                Kind::Tree(_) => {
                    return Err(bad(
                        "tree: follows a process tree of this machine and is not available \
                         for remote hosts (use name:, pid: or cmd:/REGEX/)",
                    ))
                }
                Kind::Name(n) if !is_script_safe_name(n) => {
                    return Err(bad(
                        "on remote hosts a name may hold only letters, digits and . _ + - : @ \
                         % , = / (use cmd:/REGEX/ for others)",
                    ))
                }
                _ => {}
            }
        }
        Ok(RemoteWatcher {
            items: items
                .into_iter()
                .map(|spec| Item {
                    spec,
                    root_start: None,
                })
                .collect(),
            table: ProcTable::new(REMOTE_CLK_TCK),
            pending: Vec::new(),
            want_cmdline: Vec::new(),
            last_boot: None,
            cmdline: Vec::new(),
            said_no_cmdline: false,
        })
    }

    /// What the remote loop picks by itself.
    pub fn plan(&self) -> RemotePlan {
        let mut p = RemotePlan::default();
        for it in &self.items {
            match &it.spec.kind {
                Kind::Name(n) => p.names.push(String::from_utf8_lossy(n).into_owned()),
                Kind::Pid(n) => p.pids.push(*n),
                Kind::Cmd(_) => p.cmd = true,
                Kind::Myself | Kind::Tree(_) => {}
            }
        }
        p
    }

    /// What the next tick line asks for: every PID tracked or waiting (`cmd:` matches), and
    /// `cPID` for those whose command line is wanted.
    pub fn request(&self, out: &mut String) {
        use std::fmt::Write;
        out.clear();
        for j in 0..self.table.slots() {
            if let Some(t) = self.table.get(j) {
                let _ = write!(out, "{} ", t.pid);
            }
        }
        for (pid, _, _) in &self.pending {
            let _ = write!(out, "{pid} ");
        }
        for pid in &self.want_cmdline {
            let _ = write!(out, "c{pid} ");
        }
        out.pop();
    }

    /// Read one frame's processes into `out` (see `ProcWatcher::read`): true when the shape
    /// changed.
    pub fn read(
        &mut self,
        frame: &RemoteProcs<'_>,
        mono_ns: u64,
        names: &mut Interner,
        out: &mut Vec<ProcEntry>,
        errors: &mut Vec<SampleError>,
    ) -> bool {
        let boot_ns = match frame.uptime.and_then(parse_uptime_ns) {
            Some(b) => b,
            None => match self.last_boot {
                Some((b, m)) => b + mono_ns.saturating_sub(m),
                None => 0,
            },
        };
        self.last_boot = Some((boot_ns, mono_ns));
        let boot_wall_ns = frame.btime.saturating_mul(1_000_000_000);
        if frame.no_cmdline
            && !self.said_no_cmdline
            && self
                .items
                .iter()
                .any(|i| matches!(i.spec.kind, Kind::Cmd(_)))
        {
            self.said_no_cmdline = true;
            let items: Vec<&str> = self
                .items
                .iter()
                .filter(|i| matches!(i.spec.kind, Kind::Cmd(_)))
                .map(|i| i.spec.as_str())
                .collect();
            errors.push(SampleError {
                source: "processes".into(),
                message: format!(
                    "{} need bash on the remote host to read command lines; it runs /bin/sh only, so they match nothing there",
                    items.join(", ")
                ),
            });
        }
        let mut groups = group(&frame.files);
        self.want_cmdline.clear();

        // The processes tracked: read, renamed, or ended.
        for j in 0..self.table.slots() {
            let Some(t) = self.table.get(j) else { continue };
            let (pid, start) = (t.pid, t.start);
            let g = groups.binary_search_by_key(&pid, |g| g.pid).ok();
            let read = g.and_then(|i| Some((i, parse_stat(groups[i].stat?)?)));
            match read {
                Some((i, (comm, s))) if s.starttime == start => {
                    groups[i].used = true;
                    let g = &groups[i];
                    if comm != self.table.get(j).expect("live").ident.name.as_bytes() {
                        let cmdline = g.cmdline.map(|c| self.joined(c).to_vec());
                        if cmdline.is_none() && !frame.no_cmdline {
                            self.want_cmdline.push(pid);
                        }
                        self.table.rename(j, comm, cmdline.as_deref(), names);
                    } else if let Some(c) = g.cmdline {
                        let c = self.joined(c).to_vec();
                        self.table.set_cmdline(j, &c, names);
                    }
                    self.update(j, &s, g, mono_ns, boot_ns, errors);
                }
                Some(_) => {
                    // Another process took the PID: it may be a new one to watch (below).
                    self.table.end(j);
                }
                None => {
                    // Not sent: gone if the loop was asked for it; else the tick line went
                    // out before we tracked it, and it is kept as it was.
                    if asked(frame.asked, pid) {
                        self.table.end(j);
                    }
                }
            }
        }

        // Command lines of processes not watched: `cmd:` matches wait for their files.
        for p in &mut self.pending {
            p.2 = p.2.saturating_sub(1);
        }
        self.pending.retain(|p| p.2 > 0);
        for g in &groups {
            let Some(listed) = g.listed else {
                continue;
            };
            let pid = g.pid;
            let c = self.joined(listed).to_vec();
            if self.cmd_matches(&c) && !self.pending.iter().any(|p| p.0 == pid) {
                self.pending.push((pid, c, PENDING_FRAMES));
            }
        }

        // New processes, by PID.
        let mut live = (0..self.table.slots())
            .filter(|&j| self.table.get(j).is_some())
            .count();
        let mut full = frame.truncated;
        for g in &groups {
            if g.used {
                continue;
            }
            let Some((comm, s)) = g.stat.and_then(parse_stat) else {
                continue;
            };
            let pid = g.pid;
            let cmdline: Vec<u8> = match (g.cmdline, self.pending.iter().position(|p| p.0 == pid)) {
                (Some(c), _) => self.joined(c).to_vec(),
                (None, Some(k)) => self.pending[k].1.clone(),
                (None, None) => Vec::new(),
            };
            if !self.matches(pid, comm, &s, &cmdline) {
                continue;
            }
            self.pending.retain(|p| p.0 != pid);
            if live >= MAX_TRACKED {
                full = true;
                continue;
            }
            live += 1;
            let j = self.table.insert(
                Found {
                    pid,
                    stat: &s,
                    comm,
                    cmdline: &cmdline,
                    base: &key_base(comm),
                    boot_wall_ns,
                    has_io: g.io.is_some() || !g.io_unreadable,
                },
                names,
            );
            if g.io_unreadable {
                self.io_error(j, errors);
            }
            self.update(j, &s, g, mono_ns, boot_ns, errors);
        }
        if full {
            errors.push(SampleError {
                source: "processes".into(),
                message: format!(
                    "more processes matched than are watched on a remote host ({MAX_TRACKED}, \
                     and {} new ones a tick): some were left out",
                    MAX_NEW_PER_TICK
                ),
            });
        }
        self.table.emit(out)
    }

    fn update(
        &mut self,
        j: usize,
        s: &Stat,
        g: &Group<'_>,
        mono_ns: u64,
        boot_ns: u64,
        errors: &mut Vec<SampleError>,
    ) {
        let status = g.status.map(parse_status).unwrap_or_default();
        let has_io = self.table.get(j).expect("live").ident.has_io;
        let io = match g.io {
            Some(t) if has_io => parse_io(t),
            _ => Default::default(),
        };
        if g.io_unreadable && has_io {
            self.io_error(j, errors);
        }
        self.table.update(j, s, &status, &io, mono_ns, boot_ns);
    }

    fn io_error(&mut self, j: usize, errors: &mut Vec<SampleError>) {
        let (key, pid) = self.table.io_lost(j);
        errors.push(SampleError {
            source: format!("processes.{key}"),
            message: format!("/proc/{pid}/io: not readable by the remote user (permission denied)"),
        });
    }

    /// A command line as the loop sent it (arguments joined by spaces, a newline after), made
    /// what a local read gives: cut to `CMDLINE_MAX` on a character.
    fn joined(&mut self, text: &[u8]) -> &[u8] {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        self.cmdline.clear();
        self.cmdline
            .extend_from_slice(&text[..text.len().min(CMDLINE_MAX + 4)]);
        let n = join_cmdline(&mut self.cmdline);
        &self.cmdline[..n]
    }

    fn cmd_matches(&self, cmdline: &[u8]) -> bool {
        !cmdline.is_empty()
            && self.items.iter().any(|i| match &i.spec.kind {
                Kind::Cmd(re) => re.is_match(cmdline),
                _ => false,
            })
    }

    /// Whether a process not tracked matches an item; binds `pid:` items to the start time of
    /// the process first seen with their PID, as locally.
    fn matches(&mut self, pid: u32, comm: &[u8], s: &Stat, cmdline: &[u8]) -> bool {
        let mut hit = false;
        for item in &mut self.items {
            hit |= match &item.spec.kind {
                Kind::Name(n) => **n == *comm,
                Kind::Pid(n) => {
                    let ok = *n == pid && item.root_start.is_none_or(|st| st == s.starttime);
                    if ok {
                        item.root_start = Some(s.starttime);
                    }
                    ok
                }
                Kind::Cmd(re) => !cmdline.is_empty() && re.is_match(cmdline),
                Kind::Myself | Kind::Tree(_) => false,
            };
        }
        hit
    }
}

/// The files of a frame by process, sorted by PID (a process's files come together).
fn group<'a>(files: &[(u32, RemoteFile, &'a [u8])]) -> Vec<Group<'a>> {
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
fn asked(request: &[u8], pid: u32) -> bool {
    crate::num::tokens(request).any(|t| crate::num::parse_u64(t) == Some(u64::from(pid)))
}

/// `/proc/uptime`'s first field (`12345.67`) as nanoseconds.
fn parse_uptime_ns(text: &[u8]) -> Option<u64> {
    let tok = crate::num::tokens(text).next()?;
    let (int, frac) = match memchr::memchr(b'.', tok) {
        Some(i) => (&tok[..i], &tok[i + 1..]),
        None => (tok, &b""[..]),
    };
    let secs = crate::num::parse_u64(int)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::procs::{ExitStatus, PROC_FIELDS};
    use crate::ErrorCode;

    /// `stat` of a process: name, state, ppid, utime/stime ticks, start (ticks after boot).
    fn stat(pid: u32, comm: &str, state: char, ticks: (u64, u64), start: u64) -> String {
        format!(
            "{pid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560 10 0 2 0 {} {} 0 0 20 0 3 0 {start} \
             2539520 134 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 {}\n",
            ticks.0,
            ticks.1,
            if state == 'Z' { 9 } else { 0 }
        )
    }
    const STATUS: &str = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n\
voluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t2\n";
    const IO: &str =
        "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\n";

    struct Host {
        w: RemoteWatcher,
        names: Interner,
        out: Vec<ProcEntry>,
        errors: Vec<SampleError>,
        /// Texts of the next frame: (pid, file, text).
        texts: Vec<(u32, RemoteFile, String)>,
        uptime: String,
        asked: String,
        truncated: bool,
        no_cmdline: bool,
        mono: u64,
    }

    impl Host {
        fn new(items: &[&str]) -> Host {
            let specs = items.iter().map(|i| WatchSpec::parse(i).unwrap()).collect();
            Host {
                w: RemoteWatcher::new(specs).unwrap(),
                names: Interner::default(),
                out: Vec::new(),
                errors: Vec::new(),
                texts: Vec::new(),
                uptime: "1000.00 1900.00\n".into(),
                asked: String::new(),
                truncated: false,
                no_cmdline: false,
                mono: 0,
            }
        }

        /// A process as the loop sends it: stat, status, io (or `io!`), maybe its command line.
        fn proc(&mut self, pid: u32, stat: String, io: bool, cmdline: Option<&str>) {
            self.texts.push((pid, RemoteFile::Stat, stat));
            self.texts.push((pid, RemoteFile::Status, STATUS.into()));
            if io {
                self.texts.push((pid, RemoteFile::Io, IO.into()));
            } else {
                self.texts
                    .push((pid, RemoteFile::IoUnreadable, String::new()));
            }
            if let Some(c) = cmdline {
                self.texts
                    .push((pid, RemoteFile::Cmdline, format!("{c}\n")));
            }
        }

        /// One frame, `dt_s` seconds after the last (the host's uptime advances as much).
        fn frame(&mut self, dt_s: u64) -> bool {
            self.mono += dt_s * 1_000_000_000;
            let up: f64 = self.uptime.split(' ').next().unwrap().parse().unwrap();
            self.uptime = format!("{:.2} 0.00\n", up + dt_s as f64);
            let texts = std::mem::take(&mut self.texts);
            let frame = RemoteProcs {
                btime: 1_700_000_000,
                uptime: Some(self.uptime.as_bytes()),
                asked: self.asked.as_bytes(),
                files: texts
                    .iter()
                    .map(|(p, f, t)| (*p, *f, t.as_bytes()))
                    .collect(),
                truncated: self.truncated,
                no_cmdline: self.no_cmdline,
            };
            self.errors.clear();
            let changed = self.w.read(
                &frame,
                self.mono,
                &mut self.names,
                &mut self.out,
                &mut self.errors,
            );
            let mut r = String::new();
            self.w.request(&mut r);
            self.asked = r;
            changed
        }

        fn keys(&self) -> Vec<(String, u32)> {
            self.out
                .iter()
                .map(|e| (e.ident.key.to_string(), e.ident.pid))
                .collect()
        }

        fn value(&self, key: &str, field: &str) -> u64 {
            let e = self.out.iter().find(|e| &*e.ident.key == key).unwrap();
            let i = PROC_FIELDS.iter().position(|f| f.0 == field).unwrap();
            e.values[i]
        }
    }

    #[test]
    fn keys_cpu_uptime_start_and_io_from_text() {
        let mut h = Host::new(&["name:fio"]);
        // Started 500 s after boot (ticks of 1/100 s), 100 s of CPU so far.
        h.proc(
            40,
            stat(40, "fio", 'R', (8000, 2000), 50_000),
            true,
            Some("fio job.fio"),
        );
        h.proc(
            41,
            stat(41, "fio", 'S', (0, 0), 60_000),
            false,
            Some("fio --server"),
        );
        assert!(h.frame(1));
        assert_eq!(
            h.keys(),
            [("fio".to_string(), 40), ("fio#2".to_string(), 41)]
        );
        let e = &h.out[0].ident;
        assert_eq!(&*e.cmdline, "fio job.fio");
        assert_eq!(e.start_time_ns, (1_700_000_000 + 500) * 1_000_000_000);
        assert!(e.has_io);
        // Uptime: 1001 s of the host's, minus 500.
        assert_eq!(h.value("fio", "uptime_s"), 501_000);
        // Over its life at first: 100 s of CPU in 501 s.
        assert_eq!(h.value("fio", "cpu_pct"), 10000 * 100 / 501);
        assert_eq!(h.value("fio", "write_bytes"), 8192);
        assert_eq!(h.value("fio", "rss_kb"), 1024);
        // The unreadable io: one error, naming the key; no I/O fields.
        assert!(!h.out[1].ident.has_io);
        assert_eq!(h.errors.len(), 1);
        assert_eq!(h.errors[0].source, "processes.fio#2");
        assert!(h.errors[0].message.contains("/proc/41/io"));
        // The tick line asks for both from now on.
        assert_eq!(h.asked, "40 41");

        // Next tick: 150 ticks in 2 s is 75%; the io error is not said again.
        h.proc(40, stat(40, "fio", 'R', (8100, 2050), 50_000), true, None);
        h.proc(41, stat(41, "fio", 'S', (0, 0), 60_000), false, None);
        assert!(!h.frame(2));
        assert_eq!(h.value("fio", "cpu_pct"), 7500);
        assert_eq!(h.value("fio", "uptime_s"), 503_000);
        assert!(h.errors.is_empty());
        assert_eq!(&*h.out[0].ident.cmdline, "fio job.fio");
    }

    #[test]
    fn a_restart_under_the_name_and_a_reused_pid() {
        let mut h = Host::new(&["name:fio", "pid:77"]);
        h.proc(40, stat(40, "fio", 'S', (0, 0), 100), true, Some("fio"));
        h.proc(77, stat(77, "db", 'S', (0, 0), 200), true, Some("db"));
        h.frame(1);
        assert_eq!(h.keys(), [("fio".to_string(), 40), ("db".to_string(), 77)]);
        // fio dies as a zombie killed by signal 9, then is gone; another takes its name.
        h.proc(40, stat(40, "fio", 'Z', (0, 0), 100), true, None);
        h.proc(77, stat(77, "db", 'S', (0, 0), 200), true, None);
        h.frame(1);
        h.proc(77, stat(77, "db", 'S', (0, 0), 200), true, None);
        h.proc(90, stat(90, "fio", 'S', (0, 0), 300), true, Some("fio"));
        h.frame(1);
        let fio = h.out.iter().find(|e| &*e.ident.key == "fio").unwrap();
        assert_eq!((fio.ident.pid, fio.ident.restarts), (90, 1));
        assert_eq!(fio.ident.last_exit, Some(ExitStatus::Signal(9)));
        // PID 77 reused by another process: not the one `pid:77` was bound to.
        h.proc(77, stat(77, "other", 'S', (0, 0), 400), true, Some("other"));
        h.proc(90, stat(90, "fio", 'S', (0, 0), 300), true, None);
        h.frame(1);
        assert_eq!(h.keys(), [("fio".to_string(), 90)]);
    }

    #[test]
    fn cmd_matches_wait_for_their_files_and_renames_ask_for_the_command_line() {
        let mut h = Host::new(&[r"cmd:/train\.py/"]);
        assert!(h.w.plan().cmd);
        h.texts.push((
            50,
            RemoteFile::Listed,
            "python3 train.py --epochs 3\n".into(),
        ));
        h.texts
            .push((51, RemoteFile::Listed, "python3 serve.py\n".into()));
        h.frame(1);
        assert!(h.out.is_empty());
        assert_eq!(h.asked, "50");
        h.proc(50, stat(50, "python3", 'R', (10, 0), 100), true, None);
        h.frame(1);
        assert_eq!(h.keys(), [("python3".to_string(), 50)]);
        assert_eq!(&*h.out[0].ident.cmdline, "python3 train.py --epochs 3");
        // It execs: a new name, its command line asked for, then taken.
        h.proc(50, stat(50, "torchrun", 'R', (10, 0), 100), true, None);
        h.frame(1);
        assert_eq!(h.keys(), [("torchrun".to_string(), 50)]);
        assert_eq!(h.asked, "50 c50");
        h.proc(
            50,
            stat(50, "torchrun", 'R', (10, 0), 100),
            true,
            Some("torchrun train.py"),
        );
        h.frame(1);
        assert_eq!(&*h.out[0].ident.cmdline, "torchrun train.py");
        assert_eq!(h.asked, "50");
        // Not sent although asked for: it has ended.
        h.frame(1);
        assert!(h.out.is_empty());
    }

    #[test]
    fn a_tracked_process_not_asked_for_yet_is_kept() {
        let mut h = Host::new(&[r"cmd:/train/"]);
        h.texts.push((50, RemoteFile::Listed, "train\n".into()));
        h.frame(1);
        h.proc(50, stat(50, "python3", 'R', (10, 0), 100), true, None);
        h.frame(1);
        assert_eq!(h.keys().len(), 1);
        // A frame answering a tick line written before we tracked it: not sent, not ended.
        h.asked.clear();
        h.frame(1);
        assert_eq!(h.keys(), [("python3".to_string(), 50)]);
    }

    #[test]
    fn errors_of_the_loop_and_refused_items() {
        let mut h = Host::new(&["cmd:/x/"]);
        h.no_cmdline = true;
        h.truncated = true;
        h.frame(1);
        assert_eq!(h.errors.len(), 2);
        assert!(h
            .errors
            .iter()
            .any(|e| e.message.contains("cmd:/x/ need bash")));
        h.frame(1);
        assert_eq!(h.errors.len(), 1, "the shell's is said once");
        for (item, says) in [
            ("self", "this machine only"),
            ("tree:1", "not available for remote hosts"),
            ("name:a*b", "may hold only"),
            ("name:a b", "may hold only"),
            ("name:$(x)", "may hold only"),
        ] {
            let e = RemoteWatcher::new(vec![WatchSpec::parse(item).unwrap()])
                .err()
                .unwrap();
            assert_eq!(e.code(), ErrorCode::InvalidOption);
            let text = e.to_string();
            assert!(text.contains(&format!("{item:?}")), "{text}");
            assert!(text.contains(says), "{text}");
        }
        let plan = RemoteWatcher::new(
            ["name:kworker/0:1", "pid:9", "name:fio"]
                .iter()
                .map(|i| WatchSpec::parse(i).unwrap())
                .collect(),
        )
        .unwrap()
        .plan();
        assert_eq!(plan.names, ["kworker/0:1", "fio"]);
        assert_eq!(plan.pids, [9]);
        assert!(!plan.cmd);
    }

    #[test]
    fn at_most_max_tracked_processes_are_watched() {
        let mut h = Host::new(&["name:w"]);
        for pid in 1..=(MAX_TRACKED as u32 + 6) {
            h.proc(pid, stat(pid, "w", 'S', (0, 0), 100), true, None);
        }
        h.frame(1);
        assert_eq!(h.out.len(), MAX_TRACKED);
        assert_eq!(h.errors.len(), 1);
        assert!(h.errors[0].message.contains("left out"));
    }

    #[test]
    fn uptime_text() {
        assert_eq!(parse_uptime_ns(b"12.34 5.00\n"), Some(12_340_000_000));
        assert_eq!(parse_uptime_ns(b"7\n"), Some(7_000_000_000));
        assert_eq!(parse_uptime_ns(b"x"), None);
        assert_eq!(parse_uptime_ns(b""), None);
    }
}
