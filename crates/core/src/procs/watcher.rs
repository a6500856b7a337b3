//! The watched processes: found by listing `/proc` and reading only the PIDs that are new since
//! the last listing (and, now and then, those that did not match: `exec` changes a name), then
//! read each tick through descriptors kept for the life of each process.
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use crate::intern::{Interner, Name};
use crate::store::SampleError;

use super::cmdline::{read_cmdline, read_cmdline_fd};
use super::kept::{openat, read_all, KeptFile, PidLister, PidPath};
use super::keys::key_base;
use super::parse::{parse_io, parse_stat, parse_status, Stat};
use super::spec::{Kind, WatchSpec, COMM_MAX};
use super::table::{Found, ProcTable};
use super::times;
use super::{ExitStatus, ProcEntry};

/// A PID that did not match a name or command-line item is looked at again in its first ticks
/// (a fork execs at once, usually well within a tick) ...
const YOUNG_TICKS: u32 = 3;
/// ... and then every this many ticks (spread over PIDs, so no tick reads them all).
const RECHECK_EVERY: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// Listed for the first time (or its PID was freed and listed again): read its `stat`.
    New,
    /// Read; matched no item.
    Other,
    /// Watched: the index in the process table.
    Watched(usize),
}

/// A PID of the last listing and what we know of it (sorted by PID).
#[derive(Clone, Copy, Debug)]
struct Known {
    pid: u32,
    start: u64,
    ppid: u32,
    /// Listings it has been in, minus one.
    age: u32,
    comm: [u8; COMM_MAX + 1],
    comm_len: u8,
    seen: Seen,
    /// The tick it was last read at (for the tree's second pass).
    checked: u64,
}

impl Known {
    fn new(pid: u32) -> Known {
        Known {
            pid,
            start: 0,
            ppid: 0,
            age: 0,
            comm: [0; COMM_MAX + 1],
            comm_len: 0,
            seen: Seen::New,
            checked: 0,
        }
    }

    fn comm(&self) -> &[u8] {
        &self.comm[..self.comm_len as usize]
    }

    fn set_comm(&mut self, comm: &[u8]) {
        let n = comm.len().min(self.comm.len());
        self.comm[..n].copy_from_slice(&comm[..n]);
        self.comm_len = n as u8;
    }
}

struct Item {
    spec: WatchSpec,
    /// For `N`/`tree:N`: the start time of the process first seen with that PID, so a later
    /// process that reuses the PID is not taken for it.
    root_start: Option<u64>,
}

/// A watched process's kept descriptors (at the index of its slot in the [`ProcTable`]).
struct Proc {
    /// In a `tree:` item's tree: its children join it.
    in_tree: bool,
    dir: OwnedFd,
    stat: KeptFile,
    status: KeptFile,
    /// None once it could not be opened or read: the I/O fields stay 0, reported once.
    io: Option<KeptFile>,
}

/// What discovery did since the watcher was made (for benchmarks and diagnostics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WatchCounters {
    /// Reads that listed `/proc`.
    pub listings: u64,
    /// Reads that did not need to (no PID handed out since the last listing).
    pub listings_skipped: u64,
    /// `stat` reads of PIDs not watched (new ones, and rechecks), to see whether they match.
    pub looks: u64,
}

pub struct ProcWatcher {
    counters: WatchCounters,
    proc_path: PathBuf,
    lister: Option<PidLister>,
    /// `/proc/loadavg`, whose last field is the last PID handed out: while it stays the same
    /// no process was created, and the listing is skipped (see `list`). Only when `proc_path`
    /// is our own PID namespace's (its `self` is us), which is the namespace loadavg counts.
    loadavg: Option<KeptFile>,
    last_pid: Option<u64>,
    items: Vec<Item>,
    /// Name or command-line items: PIDs that did not match are looked at again.
    recheck: bool,
    has_cmd: bool,
    /// Read every known PID again (an item was added).
    rescan: bool,
    self_pid: u32,
    tick: u64,
    listing: Vec<u32>,
    known: Vec<Known>,
    next_known: Vec<Known>,
    /// Keys, identities and values of the watched processes ...
    table: ProcTable,
    /// ... and their descriptors, by the same slot.
    procs: Vec<Option<Proc>>,
    /// `stat` of a PID being looked at, and a command line.
    scratch: Vec<u8>,
    cmdline: Vec<u8>,
}

/// What `read_stat` found.
enum Look {
    Read(Stat, [u8; COMM_MAX + 1], usize),
    /// The process is gone (or its `stat` makes no sense): no error.
    Gone,
}

impl ProcWatcher {
    pub fn new(proc_path: &Path) -> ProcWatcher {
        ProcWatcher {
            counters: WatchCounters::default(),
            proc_path: proc_path.to_path_buf(),
            lister: None,
            loadavg: None,
            last_pid: None,
            items: Vec::new(),
            recheck: false,
            has_cmd: false,
            rescan: false,
            self_pid: std::process::id(),
            tick: 0,
            listing: Vec::new(),
            known: Vec::new(),
            next_known: Vec::new(),
            table: ProcTable::new(times::clk_tck()),
            procs: Vec::new(),
            scratch: vec![0; 1024],
            cmdline: vec![0; 4096],
        }
    }

    /// Watch what `spec` names too, from the next read on (every PID is looked at again then).
    pub fn add(&mut self, spec: WatchSpec) {
        self.recheck |= matches!(spec.kind, Kind::Name(_) | Kind::Cmd(_));
        self.has_cmd |= matches!(spec.kind, Kind::Cmd(_));
        self.items.push(Item {
            spec,
            root_start: None,
        });
        self.rescan = true;
    }

    pub fn counters(&self) -> WatchCounters {
        self.counters
    }

    /// Nothing to watch.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// We were the parent of `pid` and reaped it: how it ended goes to its key's `last_exit`.
    pub fn note_exit(&mut self, pid: u32, status: ExitStatus) {
        self.table.note_exit(pid, status);
    }

    /// Read every watched process into `out`, in the order of their keys' creation. `out` is
    /// the previous read's (its entries are reused); returns true when the shape changed: the
    /// entry count or any entry's [`ProcIdent`].
    pub fn read(
        &mut self,
        mono_ns: u64,
        names: &mut Interner,
        out: &mut Vec<ProcEntry>,
        errors: &mut Vec<SampleError>,
    ) -> bool {
        self.tick += 1;
        if !self.items.is_empty() {
            let listed = self.list(errors);
            let boot_ns = times::boot_ns();
            for j in 0..self.procs.len() {
                if self.procs[j].is_some() {
                    self.read_proc(j, mono_ns, boot_ns, names, errors, listed);
                }
            }
            if listed {
                self.discover(mono_ns, boot_ns, names, errors);
            }
        }
        self.table.emit(out)
    }

    /// List `/proc` and merge it into the known PIDs. False when it could not be listed (the
    /// watched processes are still read through their kept descriptors).
    fn list(&mut self, errors: &mut Vec<SampleError>) -> bool {
        if self.lister.is_none() {
            match PidLister::open(&self.proc_path) {
                Ok(l) => {
                    let ours = std::fs::read_link(self.proc_path.join("self"))
                        .is_ok_and(|p| p.as_os_str() == self.self_pid.to_string().as_str());
                    self.loadavg = ours
                        .then(|| KeptFile::open(l.fd(), c"loadavg", 256).ok())
                        .flatten();
                    self.last_pid = None;
                    self.lister = Some(l);
                }
                Err(e) => {
                    errors.push(self.error(
                        "processes",
                        format_args!("{}: {e}", self.proc_path.display()),
                    ));
                    return false;
                }
            }
        }
        // No PID handed out since the last listing: no process can have joined it. Measured
        // (`perf` on `bench_procs paced`, 100 watched, ~100 other processes): getdents64 of
        // /proc was 15% of a tick's CPU, its dcache lookups mostly; one pread of loadavg ~1 µs.
        if let Some(f) = self.loadavg.as_mut() {
            let last = f
                .read()
                .ok()
                .and_then(|t| crate::num::tokens(t).last())
                .and_then(crate::num::parse_u64);
            if last.is_some() && last == self.last_pid && !self.rescan {
                for k in &mut self.known {
                    k.age = k.age.saturating_add(1);
                }
                self.counters.listings_skipped += 1;
                return true;
            }
            self.last_pid = last;
        }
        self.counters.listings += 1;
        let lister = self.lister.as_mut().expect("opened above");
        if let Err(e) = lister.list(&mut self.listing) {
            self.lister = None;
            errors.push(self.error(
                "processes",
                format_args!("{}: {e}", self.proc_path.display()),
            ));
            return false;
        }
        // Both sorted: one merge. A PID that left the listing is forgotten (a watched one ends
        // in `read_proc`); one that joined it is new.
        let (known, next) = (&self.known, &mut self.next_known);
        next.clear();
        let mut i = 0;
        for &pid in &self.listing {
            while i < known.len() && known[i].pid < pid {
                i += 1;
            }
            if i < known.len() && known[i].pid == pid {
                let mut k = known[i];
                k.age = k.age.saturating_add(1);
                next.push(k);
            } else {
                next.push(Known::new(pid));
            }
        }
        std::mem::swap(&mut self.known, &mut self.next_known);
        true
    }

    fn known_index(&self, pid: u32) -> Option<usize> {
        self.known.binary_search_by_key(&pid, |k| k.pid).ok()
    }

    fn error(&self, source: &str, message: std::fmt::Arguments<'_>) -> SampleError {
        SampleError {
            source: source.to_string(),
            message: message.to_string(),
        }
    }

    /// Read watched process `j`; it ends when it is no longer listed, its kept `stat` no
    /// longer reads (ESRCH once reaped), or shows another start time (a fake tree's reuse).
    fn read_proc(
        &mut self,
        j: usize,
        mono_ns: u64,
        boot_ns: u64,
        names: &mut Interner,
        errors: &mut Vec<SampleError>,
        listed: bool,
    ) {
        let t = self.table.get(j).expect("live");
        let (pid, start) = (t.pid, t.start);
        let in_listing = !listed || self.known_index(pid).is_some();
        let p = self.procs[j].as_mut().expect("live");
        let stat = match p.stat.read().ok().and_then(parse_stat) {
            Some((comm, s)) if in_listing && s.starttime == start => {
                if comm != self.table.get(j).expect("live").ident.name.as_bytes() {
                    let comm = comm.to_vec();
                    self.renamed(j, &comm, names);
                }
                s
            }
            _ => return self.ended(j),
        };
        let p = self.procs[j].as_mut().expect("live");
        let status = p.status.read().map(parse_status).unwrap_or_default();
        let mut io = Default::default();
        if let Some(f) = p.io.as_mut() {
            match f.read() {
                Ok(text) => io = parse_io(text),
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => {
                    p.io = None;
                    let (key, pid) = self.table.io_lost(j);
                    errors.push(self.io_error(&key, pid, e));
                }
            }
        }
        self.table.update(j, &stat, &status, &io, mono_ns, boot_ns);
    }

    fn io_error(&self, key: &Name, pid: u32, e: std::io::Error) -> SampleError {
        self.error(
            &format!("processes.{key}"),
            format_args!("{}/{pid}/io: {e}", self.proc_path.display()),
        )
    }

    /// Process `j` has ended: free its key (remembering how it ended) and its PID, which a
    /// new process may already have taken.
    fn ended(&mut self, j: usize) {
        self.procs[j] = None;
        let pid = self.table.end(j);
        if let Some(i) = self.known_index(pid) {
            if self.known[i].seen == Seen::Watched(j) {
                self.known[i].seen = Seen::New;
                self.known[i].age = 0;
            }
        }
    }

    /// Watched process `j` changed its name (`exec`): its command line is read again, and it
    /// moves to a key of its new name.
    fn renamed(&mut self, j: usize, comm: &[u8], names: &mut Interner) {
        let p = self.procs[j].as_ref().expect("live");
        let len = read_cmdline(p.dir.as_raw_fd(), &mut self.cmdline);
        self.table
            .rename(j, comm, Some(&self.cmdline[..len]), names);
    }

    /// Look at the PIDs that are new (or due for another look) and watch those that match.
    fn discover(
        &mut self,
        mono_ns: u64,
        boot_ns: u64,
        names: &mut Interner,
        errors: &mut Vec<SampleError>,
    ) {
        let rescan = std::mem::take(&mut self.rescan);
        let mut joined_tree = false;
        for i in 0..self.known.len() {
            let k = self.known[i];
            let due = match k.seen {
                Seen::New => true,
                Seen::Watched(_) => false,
                Seen::Other => {
                    rescan
                        || (self.recheck
                            && (k.age < YOUNG_TICKS
                                || k.age.wrapping_add(k.pid).is_multiple_of(RECHECK_EVERY)))
                }
            };
            if !due {
                continue;
            }
            let (stat, comm, comm_len) = match self.look(k.pid) {
                Look::Read(s, c, n) => (s, c, n),
                Look::Gone => {
                    self.known[i].seen = Seen::Other;
                    continue;
                }
            };
            let comm = &comm[..comm_len];
            let k = &mut self.known[i];
            let same = k.seen == Seen::Other && k.start == stat.starttime;
            let unchanged = same && k.comm() == comm;
            if !same {
                k.age = 0;
            }
            k.start = stat.starttime;
            k.ppid = stat.ppid;
            k.checked = self.tick;
            k.set_comm(comm);
            k.seen = Seen::Other;
            // Nothing a name or a tree could newly match; a command line can change without
            // the name (python execs python).
            if unchanged && !self.has_cmd && !rescan && !self.tree_parent(stat.ppid) {
                continue;
            }
            if let Some(in_tree) = self.matches(i) {
                joined_tree |= in_tree;
                self.watch(i, in_tree, mono_ns, boot_ns, names, errors);
            }
        }
        // A child listed before its parent joined a tree this tick: look again at what was
        // read this tick until no more join.
        while joined_tree {
            joined_tree = false;
            for i in 0..self.known.len() {
                let k = self.known[i];
                if k.seen == Seen::Other && k.checked == self.tick && self.tree_parent(k.ppid) {
                    self.watch(i, true, mono_ns, boot_ns, names, errors);
                    joined_tree |= matches!(self.known[i].seen, Seen::Watched(_));
                }
            }
        }
    }

    /// Read `<pid>/stat` once (open, read, close): its fields and name.
    fn look(&mut self, pid: u32) -> Look {
        self.counters.looks += 1;
        let Some(lister) = self.lister.as_ref() else {
            return Look::Gone;
        };
        let path = PidPath::new(pid, b"stat");
        let Ok(fd) = openat(lister.fd(), path.as_cstr(), libc::O_RDONLY) else {
            return Look::Gone;
        };
        let Ok(n) = read_all(fd.as_raw_fd(), &mut self.scratch) else {
            return Look::Gone;
        };
        match parse_stat(&self.scratch[..n]) {
            Some((comm, s)) => {
                let mut c = [0u8; COMM_MAX + 1];
                let n = comm.len().min(c.len());
                c[..n].copy_from_slice(&comm[..n]);
                Look::Read(s, c, n)
            }
            None => Look::Gone,
        }
    }

    /// Whether known PID `i` (just read) matches an item; `Some(in a tree)` if so. Binds the
    /// PID items to the start time of the process first seen with their PID.
    fn matches(&mut self, i: usize) -> Option<bool> {
        let k = self.known[i];
        let parent_in_tree = self.tree_parent(k.ppid);
        let (mut hit, mut in_tree) = (false, false);
        let mut cmdline_len = None;
        for item in &mut self.items {
            let ok = match &item.spec.kind {
                Kind::Myself => k.pid == self.self_pid,
                Kind::Pid(n) | Kind::Tree(n) => {
                    let root = *n == k.pid && item.root_start.is_none_or(|s| s == k.start);
                    if root {
                        item.root_start = Some(k.start);
                    }
                    let tree = matches!(item.spec.kind, Kind::Tree(_));
                    if tree && (root || parent_in_tree) {
                        in_tree = true;
                    }
                    root || (tree && parent_in_tree)
                }
                Kind::Name(name) => **name == *k.comm(),
                Kind::Cmd(re) => {
                    let len = *cmdline_len.get_or_insert_with(|| {
                        let Some(lister) = self.lister.as_ref() else {
                            return 0;
                        };
                        let path = PidPath::new(k.pid, b"cmdline");
                        match openat(lister.fd(), path.as_cstr(), libc::O_RDONLY) {
                            Ok(fd) => read_cmdline_fd(fd.as_raw_fd(), &mut self.cmdline),
                            Err(_) => 0,
                        }
                    });
                    len > 0 && re.is_match(&self.cmdline[..len])
                }
            };
            hit |= ok;
        }
        hit.then_some(in_tree)
    }

    /// Start watching known PID `i`: a dirfd of `/proc/<pid>` and its files, kept; its `stat`
    /// read through them must show the start time it was matched with (else it is another
    /// process that took the PID meanwhile, looked at next tick).
    fn watch(
        &mut self,
        i: usize,
        in_tree: bool,
        mono_ns: u64,
        boot_ns: u64,
        names: &mut Interner,
        errors: &mut Vec<SampleError>,
    ) {
        let k = self.known[i];
        let Some(lister) = self.lister.as_ref() else {
            return;
        };
        let opened = (|| {
            let dir = openat(
                lister.fd(),
                PidPath::new(k.pid, b"").as_cstr(),
                libc::O_PATH | libc::O_DIRECTORY,
            )?;
            let stat = KeptFile::open(dir.as_raw_fd(), c"stat", 512)?;
            let status = KeptFile::open(dir.as_raw_fd(), c"status", 2048)?;
            let io = KeptFile::open(dir.as_raw_fd(), c"io", 256);
            Ok::<_, std::io::Error>((dir, stat, status, io))
        })();
        let (dir, mut stat, status, io) = match opened {
            Ok(o) => o,
            Err(e) if vanished(&e) => return,
            Err(e) => {
                let path = self.proc_path.join(k.pid.to_string());
                errors.push(self.error("processes", format_args!("{}: {e}", path.display())));
                return;
            }
        };
        let Some((comm, s)) = stat.read().ok().and_then(parse_stat) else {
            return;
        };
        if s.starttime != k.start {
            self.known[i].seen = Seen::New;
            return;
        }
        let base = if k.pid == self.self_pid
            && self
                .items
                .iter()
                .any(|it| matches!(it.spec.kind, Kind::Myself))
        {
            b"self".to_vec()
        } else {
            key_base(comm)
        };
        let len = read_cmdline(dir.as_raw_fd(), &mut self.cmdline);
        let (io, io_error) = match io {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e)),
        };
        let j = self.table.insert(
            Found {
                pid: k.pid,
                stat: &s,
                comm,
                cmdline: &self.cmdline[..len],
                base: &base,
                boot_wall_ns: times::boot_wall_ns(),
                has_io: io.is_some(),
            },
            names,
        );
        if let Some(e) = io_error {
            let key = self.table.get(j).expect("live").ident.key.clone();
            errors.push(self.io_error(&key, k.pid, e));
        }
        if self.procs.len() < self.table.slots() {
            self.procs.resize_with(self.table.slots(), || None);
        }
        self.procs[j] = Some(Proc {
            in_tree,
            dir,
            stat,
            status,
            io,
        });
        self.known[i].seen = Seen::Watched(j);
        self.read_proc(j, mono_ns, boot_ns, names, errors, false);
    }

    /// Whether `ppid` is a watched process in a tree.
    fn tree_parent(&self, ppid: u32) -> bool {
        match self.known_index(ppid).map(|i| self.known[i].seen) {
            Some(Seen::Watched(j)) => self.procs[j].as_ref().is_some_and(|p| p.in_tree),
            _ => false,
        }
    }
}

fn vanished(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH))
}
