//! The watched processes: found by listing `/proc` and reading only the PIDs that are new since
//! the last listing (and, now and then, those that did not match: `exec` changes a name), then
//! read each tick through descriptors kept for the life of each process.
mod discover;
mod listing;

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::intern::{Interner, Name};
use crate::store::SampleError;

use super::adopt::{reap, Adoption, REAP_AFTER_NS};
use super::cmdline::{recorded_cmdline, CmdlinePolicy};
use super::fds::FdBudget;
use super::files::{ProcDir, WatchedFile};
use super::kept::{read_all, KeptFile, PidLister};
use super::parse::{parse_io, parse_stat, parse_status};
use super::spec::{Kind, WatchSpec};
use super::table::ProcTable;
use super::times;
use super::{ExitStatus, ProcEntry};
use listing::{Known, Seen};

struct Item {
    spec: WatchSpec,
    /// For `N`/`tree:N`: the start time of the process first seen with that PID, so a later
    /// process that reuses the PID is not taken for it.
    root_start: Option<u64>,
}

/// Ticks an empty command line is read again (an `exec` caught half done shows none).
const CMDLINE_RETRIES: u8 = 3;

/// A watched process's kept descriptors (at the index of its slot in the [`ProcTable`]).
struct Proc {
    /// In a `tree:` item's tree: its children join it.
    in_tree: bool,
    /// An adopted orphan (see `adopt`) first seen a zombie then (monotonic ns).
    zombie_since: Option<u64>,
    /// Ticks left to read an empty command line again: right after `exec` the kernel shows
    /// the new name before the new arguments (a tree's worker read then kept "").
    cmdline_retries: u8,
    dir: ProcDir,
    stat: WatchedFile,
    status: WatchedFile,
    /// None once it could not be opened or read: the I/O fields stay 0, reported once.
    io: Option<WatchedFile>,
}

impl Proc {
    /// Descriptors it keeps open.
    fn kept(&self) -> usize {
        usize::from(self.dir.is_kept())
            + self.stat.kept()
            + self.status.kept()
            + self.io.as_ref().map_or(0, WatchedFile::kept)
    }
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
    /// Descriptors the watched processes keep, and may.
    fds: FdBudget,
    /// A warning for the caller to give once (besides the sample's error).
    warning: Option<String>,
    /// Our children that join a tree (orphans re-parented to us, a subreaper).
    adoption: Option<Adoption>,
    /// A command line as recorded, and what of it is (see [`recorded_cmdline`]).
    recorded: Vec<u8>,
    policy: CmdlinePolicy,
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
            fds: FdBudget::default(),
            adoption: None,
            warning: None,
            recorded: Vec::with_capacity(super::CMDLINE_MAX + 8),
            policy: CmdlinePolicy::default(),
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

    /// What of the command lines is recorded from now on (`cmd:` items match them whole).
    pub fn set_cmdline_policy(&mut self, policy: CmdlinePolicy) {
        self.policy = policy;
    }

    /// Our children other than `root` and `exclude` are orphans of `root`'s tree (this process
    /// is a child subreaper: [`set_child_subreaper`](super::set_child_subreaper)): they join
    /// the tree of a `tree:<root>` item, and are reaped once zombies (see `adopt`).
    pub fn adopt(&mut self, root: u32, exclude: Vec<u32>) {
        self.adoption = Some(Adoption { root, exclude });
        self.rescan = true;
    }

    /// What to warn of, once, since the last call: the descriptor limit leaves too few to keep
    /// for every watched process (the same text as the sample's error).
    pub fn take_warning(&mut self) -> Option<String> {
        self.warning.take()
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
        if stat.state == b'Z' {
            self.reap_adopted(j, pid, stat.ppid, mono_ns);
        } else if self.procs[j].as_ref().expect("live").cmdline_retries > 0 {
            self.retry_cmdline(j, names);
        }
        let p = self.procs[j].as_mut().expect("live");
        let status = p.status.read().map(parse_status).unwrap_or_default();
        let mut io = Default::default();
        if let Some(f) = p.io.as_mut() {
            match f.read() {
                Ok(text) => io = parse_io(text),
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(e) => {
                    let kept = f.kept();
                    p.io = None;
                    self.fds.give_back(kept);
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
        if let Some(p) = self.procs[j].take() {
            self.fds.give_back(p.kept());
        }
        let pid = self.table.end(j);
        if let Some(i) = self.known_index(pid) {
            if self.known[i].seen == Seen::Watched(j) {
                self.known[i].seen = Seen::New;
                self.known[i].age = 0;
            }
        }
    }

    /// Watched zombie `j` (`pid`, child of `ppid`): reaped when it is an orphan we adopted that
    /// libuv has not reaped for `REAP_AFTER_NS` (it never does: not its child); how it ended is
    /// its key's `last_exit`.
    fn reap_adopted(&mut self, j: usize, pid: u32, ppid: u32, mono_ns: u64) {
        let self_pid = self.self_pid;
        if !self
            .adoption
            .as_ref()
            .is_some_and(|a| a.adopts(pid, ppid, self_pid))
        {
            return;
        }
        let p = self.procs[j].as_mut().expect("live");
        let since = *p.zombie_since.get_or_insert(mono_ns);
        if mono_ns.saturating_sub(since) >= REAP_AFTER_NS {
            if let Some(status) = reap(pid) {
                self.table.note_exit(pid, status);
            }
        }
    }

    /// Watched process `j` changed its name (`exec`): its command line is read again, and it
    /// moves to a key of its new name.
    fn renamed(&mut self, j: usize, comm: &[u8], names: &mut Interner) {
        let mut p = self.procs[j].take().expect("live");
        let read = self.record_cmdline(&p.dir);
        p.cmdline_retries = self.cmdline_retries(read);
        self.procs[j] = Some(p);
        self.table.rename(j, comm, Some(&self.recorded), names);
    }

    /// How many ticks to read again a command line that read `len` bytes.
    fn cmdline_retries(&self, len: usize) -> u8 {
        if len == 0 && self.policy != CmdlinePolicy::Off {
            CMDLINE_RETRIES
        } else {
            0
        }
    }

    /// Watched process `j`'s command line read again if it was empty (see `cmdline_retries`).
    fn retry_cmdline(&mut self, j: usize, names: &mut Interner) {
        let mut p = self.procs[j].take().expect("live");
        p.cmdline_retries -= 1;
        if self.record_cmdline(&p.dir) > 0 {
            p.cmdline_retries = 0;
            self.table.set_cmdline(j, &self.recorded, names);
        }
        self.procs[j] = Some(p);
    }

    /// The command line of the process whose `/proc/<pid>` dirfd is `dir`, as recorded, into
    /// `self.recorded` (not read at all when none is recorded); the bytes read.
    fn record_cmdline(&mut self, dir: &ProcDir) -> usize {
        let len = match (self.policy, dir.open_file(c"cmdline")) {
            (CmdlinePolicy::Off, _) | (_, Err(_)) => 0,
            (_, Ok(fd)) => read_all(fd.as_raw_fd(), &mut self.cmdline).unwrap_or(0),
        };
        recorded_cmdline(
            &self.cmdline[..len],
            0,
            false,
            self.policy,
            &mut self.recorded,
        );
        len
    }
}
