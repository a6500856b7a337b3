//! The PIDs of the last listing of `/proc` and what is known of each (its start time, parent,
//! name, whether it is watched); a new listing merged into them, skipped while no PID was handed
//! out since the last one.
use crate::store::SampleError;

use super::super::kept::{KeptFile, PidLister};
use super::super::spec::COMM_MAX;
use super::ProcWatcher;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seen {
    /// Listed for the first time (or its PID was freed and listed again): read its `stat`.
    New,
    /// Read; matched no item.
    Other,
    /// Watched: the index in the process table.
    Watched(usize),
}

/// A PID of the last listing and what we know of it (sorted by PID).
#[derive(Clone, Copy, Debug)]
pub(super) struct Known {
    pub(super) pid: u32,
    pub(super) start: u64,
    pub(super) ppid: u32,
    /// Listings it has been in, minus one.
    pub(super) age: u32,
    pub(super) comm: [u8; COMM_MAX + 1],
    pub(super) comm_len: u8,
    pub(super) seen: Seen,
    /// The tick it was last read at (for the tree's second pass).
    pub(super) checked: u64,
}

impl Known {
    pub(super) fn new(pid: u32) -> Known {
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

    pub(super) fn comm(&self) -> &[u8] {
        &self.comm[..self.comm_len as usize]
    }

    pub(super) fn set_comm(&mut self, comm: &[u8]) {
        let n = comm.len().min(self.comm.len());
        self.comm[..n].copy_from_slice(&comm[..n]);
        self.comm_len = n as u8;
    }
}

impl ProcWatcher {
    /// List `/proc` and merge it into the known PIDs. False when it could not be listed (the
    /// watched processes are still read through their kept descriptors).
    pub(super) fn list(&mut self, errors: &mut Vec<SampleError>) -> bool {
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

    pub(super) fn known_index(&self, pid: u32) -> Option<usize> {
        self.known.binary_search_by_key(&pid, |k| k.pid).ok()
    }
}
