//! The watched processes as reported, whatever reads them: each one's key (restarts, how the
//! last one ended), identity and per-tick values (CPU % from tick deltas, uptime). Shared by the
//! local watcher (kept descriptors) and the remote one (text a remote host streams), so both
//! number keys, count restarts and compute CPU % the same way.
use crate::intern::{Interner, Name};

use super::keys::{Keys, Took};
use super::parse::{decode_wait_status, Io, Stat, Status};
use super::times;
use super::{ExitStatus, ProcEntry, ProcIdent, PROC_VALUES};

/// `note_exit` for PIDs not (yet) seen to end, kept at most.
const PENDING_EXITS: usize = 256;

pub(crate) struct Tracked {
    pub pid: u32,
    /// `stat`'s start time (clock ticks after boot): with the PID, the process's identity.
    pub start: u64,
    key: usize,
    took: Took,
    pub ident: ProcIdent,
    values: [u64; PROC_VALUES],
    /// utime + stime and the monotonic time of the previous read (none before the first).
    prev: Option<(u64, u64)>,
    /// How it ended, when known (`note_exit`, or its zombie's exit code).
    exit: Option<ExitStatus>,
}

/// A process to start tracking, as first read.
pub(crate) struct Found<'a> {
    pub pid: u32,
    pub stat: &'a Stat,
    pub comm: &'a [u8],
    pub cmdline: &'a [u8],
    /// The key's name part (`self`, or the name with `.` and `#` made `_`).
    pub base: &'a [u8],
    /// The wall clock at the host's boot (ns since 1970), for the start time.
    pub boot_wall_ns: u64,
    pub has_io: bool,
}

pub(crate) struct ProcTable {
    procs: Vec<Option<Tracked>>,
    keys: Keys,
    pending_exits: Vec<(u32, ExitStatus)>,
    clk_tck: u64,
}

impl ProcTable {
    pub fn new(clk_tck: u64) -> ProcTable {
        ProcTable {
            procs: Vec::new(),
            keys: Keys::default(),
            pending_exits: Vec::new(),
            clk_tck,
        }
    }

    /// Slots (live or free); `get(j)` for `j` below it.
    pub fn slots(&self) -> usize {
        self.procs.len()
    }

    pub fn get(&self, j: usize) -> Option<&Tracked> {
        self.procs.get(j)?.as_ref()
    }

    /// Track a process from now on (its values are set by the `update` that follows); its slot.
    pub fn insert(&mut self, f: Found<'_>, names: &mut Interner) -> usize {
        let j = match self.procs.iter().position(Option::is_none) {
            Some(j) => j,
            None => {
                self.procs.push(None);
                self.procs.len() - 1
            }
        };
        let (key, took) = self.keys.take(f.base, j, names);
        let k = self.keys.get(key);
        let ident = ProcIdent {
            key: k.name.clone(),
            pid: f.pid,
            ppid: f.stat.ppid,
            name: names.intern(f.comm),
            cmdline: names.intern(f.cmdline),
            start_time_ns: f
                .boot_wall_ns
                .saturating_add(times::ticks_ns(f.stat.starttime, self.clk_tck)),
            restarts: k.restarts,
            last_exit: k.last_exit,
            has_io: f.has_io,
        };
        self.procs[j] = Some(Tracked {
            pid: f.pid,
            start: f.stat.starttime,
            key,
            took,
            ident,
            values: [0; PROC_VALUES],
            prev: None,
            exit: None,
        });
        j
    }

    /// This tick's reads of process `j`. `boot_ns`: the host's time since boot (what `stat`'s
    /// start time counts from); CPU % over the process's life on its first read.
    pub fn update(
        &mut self,
        j: usize,
        stat: &Stat,
        status: &Status,
        io: &Io,
        mono_ns: u64,
        boot_ns: u64,
    ) {
        let clk_tck = self.clk_tck;
        let p = self.procs[j].as_mut().expect("live");
        if stat.state == b'Z' {
            if let (None, Some(code)) = (p.exit, stat.exit_code) {
                p.exit = Some(decode_wait_status(code));
            }
        }
        let ticks = stat.utime + stat.stime;
        let start_ns = times::ticks_ns(p.start, clk_tck);
        let up_ns = boot_ns.saturating_sub(start_ns);
        // Hundredths of a percent of one CPU: Δticks / CLK_TCK / Δt × 100 × 100; over the
        // process's life on its first read.
        let (dticks, dns) = match p.prev {
            Some((t, m)) if mono_ns > m => (ticks.saturating_sub(t), mono_ns - m),
            Some(_) => (0, 0),
            None => (ticks, up_ns),
        };
        let cpu = if dns == 0 {
            0
        } else {
            (u128::from(dticks) * 10_000_000_000_000 / (u128::from(clk_tck) * u128::from(dns)))
                .min(u64::MAX as u128) as u64
        };
        p.prev = Some((ticks, mono_ns));
        p.ident.ppid = stat.ppid;
        p.values = [
            u64::from(stat.state),
            up_ns / 1_000_000,
            cpu,
            stat.utime,
            stat.stime,
            stat.num_threads,
            status.rss_kb,
            status.hwm_kb,
            stat.minflt,
            stat.majflt,
            status.voluntary,
            status.involuntary,
            io.read_bytes,
            io.write_bytes,
            io.rchar,
            io.wchar,
        ];
    }

    /// Process `j`'s `io` could not be read: its I/O fields are left out from now on. Its key
    /// and PID, for the one error that says so.
    pub fn io_lost(&mut self, j: usize) -> (Name, u32) {
        let p = self.procs[j].as_mut().expect("live");
        p.ident.has_io = false;
        (p.ident.key.clone(), p.pid)
    }

    /// Process `j` has ended: free its key (remembering how it ended); its PID.
    pub fn end(&mut self, j: usize) -> u32 {
        let p = self.procs[j].take().expect("live");
        let exit = p.exit.or_else(|| {
            let i = self.pending_exits.iter().position(|e| e.0 == p.pid)?;
            Some(self.pending_exits.remove(i).1)
        });
        self.keys.ended(p.key, p.pid, exit);
        p.pid
    }

    /// Process `j` changed its name (`exec`) to `comm`: it moves to a key of its new name
    /// (`self` keeps its key). `cmdline`: its command line now, if read.
    pub fn rename(&mut self, j: usize, comm: &[u8], cmdline: Option<&[u8]>, names: &mut Interner) {
        let p = self.procs[j].as_mut().expect("live");
        p.ident.name = names.intern(comm);
        if let Some(c) = cmdline {
            p.ident.cmdline = names.intern(c);
        }
        if p.ident.key.as_ref() == "self" {
            return;
        }
        self.keys.release(p.key, p.took);
        let (key, took) = self.keys.take(&super::keys::key_base(comm), j, names);
        let k = self.keys.get(key);
        let (name, restarts, last_exit) = (k.name.clone(), k.restarts, k.last_exit);
        let p = self.procs[j].as_mut().expect("live");
        p.key = key;
        p.took = took;
        p.ident.key = name;
        p.ident.restarts = restarts;
        p.ident.last_exit = last_exit;
    }

    /// Process `j`'s command line, read later than its name change.
    pub fn set_cmdline(&mut self, j: usize, cmdline: &[u8], names: &mut Interner) {
        let p = self.procs[j].as_mut().expect("live");
        p.ident.cmdline = names.intern(cmdline);
    }

    /// We were the parent of `pid` and reaped it: how it ended goes to its key's `last_exit`.
    pub fn note_exit(&mut self, pid: u32, status: ExitStatus) {
        if let Some(p) = self.procs.iter_mut().flatten().find(|p| p.pid == pid) {
            p.exit = Some(status);
            return;
        }
        // Seen to end already: the key remembers it, and so does a process that took it since.
        let mut found = false;
        for k in self.keys.iter_mut().filter(|k| k.last_pid == pid) {
            k.last_exit = Some(status);
            if let Some(j) = k.live {
                if let Some(p) = self.procs[j].as_mut() {
                    p.ident.last_exit = Some(status);
                }
            }
            found = true;
        }
        if !found {
            if self.pending_exits.len() >= PENDING_EXITS {
                self.pending_exits.remove(0);
            }
            self.pending_exits.push((pid, status));
        }
    }

    /// Copy each tracked process into `out`, keys in creation order. `out` is the previous
    /// read's (its entries are reused); true when the shape changed: the entry count or any
    /// entry's [`ProcIdent`].
    pub fn emit(&self, out: &mut Vec<ProcEntry>) -> bool {
        let mut changed = false;
        let mut n = 0;
        for key in self.keys.iter() {
            let Some(p) = key.live.and_then(|j| self.procs[j].as_ref()) else {
                continue;
            };
            match out.get_mut(n) {
                Some(e) => {
                    if e.ident != p.ident {
                        e.ident = p.ident.clone();
                        changed = true;
                    }
                    e.values = p.values;
                }
                None => {
                    out.push(ProcEntry {
                        ident: p.ident.clone(),
                        values: p.values,
                    });
                    changed = true;
                }
            }
            n += 1;
        }
        if out.len() != n {
            out.truncate(n);
            changed = true;
        }
        changed
    }
}
