//! Discovery: the PIDs that are new (or due for another look) read once (open, read, close their
//! `stat`), matched against the items, and those that match watched through kept descriptors;
//! a tree's children join it even when listed before their parent joined.
use std::os::fd::AsRawFd;

use crate::intern::Interner;
use crate::store::SampleError;

use super::super::cmdline::read_cmdline_fd;
use super::super::fds::{self, PER_PROC};
use super::super::files::{ProcDir, WatchedFile};
use super::super::kept::{openat, read_all, PidPath};
use super::super::keys::key_base;
use super::super::parse::{parse_stat, Stat};
use super::super::spec::{Kind, COMM_MAX};
use super::super::table::Found;
use super::super::times;
use super::listing::Seen;
use super::{Proc, ProcWatcher};

/// A PID that did not match a name or command-line item is looked at again in its first ticks
/// (a fork execs at once, usually well within a tick) ...
const YOUNG_TICKS: u32 = 3;
/// ... and then every this many ticks (spread over PIDs, so no tick reads them all).
const RECHECK_EVERY: u32 = 10;
/// What `read_stat` found.
enum Look {
    Read(Stat, [u8; COMM_MAX + 1], usize),
    /// The process is gone (or its `stat` makes no sense): no error.
    Gone,
}

impl ProcWatcher {
    /// Look at the PIDs that are new (or due for another look) and watch those that match.
    pub(super) fn discover(
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
            let ours = self.adoption.is_some() && stat.ppid == self.self_pid;
            if unchanged && !self.has_cmd && !rescan && !ours && !self.tree_parent(stat.ppid) {
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
        let adopted_by = self
            .adoption
            .as_ref()
            .filter(|a| a.adopts(k.pid, k.ppid, self.self_pid))
            .map(|a| a.root);
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
                    // An orphan of the tree re-parented to us (see `adopt`).
                    let joined = parent_in_tree || adopted_by == Some(*n);
                    if tree && (root || joined) {
                        in_tree = true;
                    }
                    root || (tree && joined)
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
        let proc_fd = lister.fd();
        let open = |keep: bool| {
            let dir = ProcDir::open(proc_fd, &self.proc_path, k.pid, keep)?;
            let stat = dir.file(c"stat", 512)?;
            let status = dir.file(c"status", 2048)?;
            let io = dir.file(c"io", 256);
            Ok::<_, std::io::Error>((dir, stat, status, io))
        };
        // Kept while the descriptor limit leaves room (see `fds`), else by path.
        let mut keep = self.fds.take(PER_PROC, self.tick);
        let mut opened = open(keep);
        if keep && opened.as_ref().is_err_and(too_many_open) {
            self.fds.give_back(PER_PROC);
            keep = false;
            opened = open(false);
        }
        let held = match opened {
            Ok(o) => self.start_watching(i, in_tree, o, mono_ns, boot_ns, names, errors),
            Err(e) => {
                if !vanished(&e) {
                    let path = self.proc_path.join(k.pid.to_string());
                    errors.push(self.error("processes", format_args!("{}: {e}", path.display())));
                }
                None
            }
        };
        if keep {
            self.fds.give_back(PER_PROC - held.unwrap_or(0));
        } else if held.is_some() && self.fds.first_fallback() {
            let (soft, hard) = fds::nofile_limits();
            let e = self.error(
                "processes",
                format_args!(
                    "the descriptor limit (RLIMIT_NOFILE {soft}, hard {hard}) leaves no room to \
                     keep {PER_PROC} descriptors for each watched process ({} kept): PID {} and \
                     further ones are read by path (open, read, close at each sample), which \
                     costs more CPU; raise the limit (ulimit -n) to keep them all",
                    self.fds.kept(),
                    k.pid
                ),
            );
            self.warning = Some(e.message.clone());
            errors.push(e);
        }
    }

    /// Start watching known PID `i` through `files` (just opened): its `stat` read through them
    /// must show the start time it was matched with. The descriptors it keeps, once watched.
    #[allow(clippy::too_many_arguments)]
    fn start_watching(
        &mut self,
        i: usize,
        in_tree: bool,
        files: Opened,
        mono_ns: u64,
        boot_ns: u64,
        names: &mut Interner,
        errors: &mut Vec<SampleError>,
    ) -> Option<usize> {
        let k = self.known[i];
        let (dir, mut stat, status, io) = files;
        let (comm, s) = stat.read().ok().and_then(parse_stat)?;
        if s.starttime != k.start {
            self.known[i].seen = Seen::New;
            return None;
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
        let read = self.record_cmdline(&dir);
        let cmdline_retries = self.cmdline_retries(read);
        let (io, io_error) = match io {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e)),
        };
        let j = self.table.insert(
            Found {
                pid: k.pid,
                stat: &s,
                comm,
                cmdline: &self.recorded,
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
        let p = Proc {
            in_tree,
            zombie_since: None,
            cmdline_retries,
            dir,
            stat,
            status,
            io,
        };
        let held = p.kept();
        self.procs[j] = Some(p);
        self.known[i].seen = Seen::Watched(j);
        self.read_proc(j, mono_ns, boot_ns, names, errors, false);
        Some(held)
    }

    /// Whether `ppid` is a watched process in a tree.
    fn tree_parent(&self, ppid: u32) -> bool {
        match self.known_index(ppid).map(|i| self.known[i].seen) {
            Some(Seen::Watched(j)) => self.procs[j].as_ref().is_some_and(|p| p.in_tree),
            _ => false,
        }
    }
}

/// A process's files as first opened: its directory, `stat`, `status`, and `io` or why not.
type Opened = (
    ProcDir,
    WatchedFile,
    WatchedFile,
    std::io::Result<WatchedFile>,
);

fn too_many_open(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

fn vanished(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH))
}
