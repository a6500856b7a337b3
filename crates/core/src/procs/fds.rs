//! Descriptors for watched processes. Each kept process holds 4 (`/proc/<pid>` and its `stat`,
//! `status`, `io`), so many of them can exhaust `RLIMIT_NOFILE`: the soft limit is raised to the
//! hard one once, at the first process watched (Node already does so at its start; children
//! inherit it either way), and descriptors are kept only while that leaves a reserve for the
//! rest of the process (sinks, sockets, the command's pipes). Past it a process is read by path
//! (open, read, close at each tick: more CPU, nothing fails), and a warning says so once.
use std::sync::Once;

/// Descriptors a process's kept files take.
pub const PER_PROC: usize = 4;

/// What is left to the rest of the process: this many descriptors, or an eighth of the limit.
const RESERVE_MIN: u64 = 32;

/// The soft and hard `RLIMIT_NOFILE`.
pub fn nofile_limits() -> (u64, u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid out-pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return (1024, 1024);
    }
    (r.rlim_cur, r.rlim_max)
}

/// Raise the soft `RLIMIT_NOFILE` to the hard one, once per process (a failure leaves it).
pub fn raise_nofile_once() {
    static RAISE: Once = Once::new();
    RAISE.call_once(|| {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: valid pointers to a local rlimit.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
                r.rlim_cur = r.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &r);
            }
        }
    });
}

/// Descriptors open in this process now.
fn open_now() -> u64 {
    // The listing's own descriptor is one of them.
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count().saturating_sub(1) as u64)
}

/// How many descriptors the watched processes keep, and may.
#[derive(Default)]
pub struct FdBudget {
    kept: usize,
    /// Kept at most before counting again what is open.
    room: usize,
    /// The tick of the last count (once a tick at most).
    counted_at: Option<u64>,
    said: bool,
}

impl FdBudget {
    /// Whether `n` more descriptors may be kept (at tick `tick`); counted as kept if so.
    pub fn take(&mut self, n: usize, tick: u64) -> bool {
        if self.kept + n > self.room && self.counted_at != Some(tick) {
            raise_nofile_once();
            self.counted_at = Some(tick);
            let (soft, _) = nofile_limits();
            let reserve = RESERVE_MIN.max(soft / 8);
            let free = soft.saturating_sub(open_now()).saturating_sub(reserve);
            self.room = self.kept + usize::try_from(free).unwrap_or(usize::MAX);
        }
        if self.kept + n > self.room {
            return false;
        }
        self.kept += n;
        true
    }

    /// `n` kept descriptors were closed.
    pub fn give_back(&mut self, n: usize) {
        self.kept = self.kept.saturating_sub(n);
    }

    /// Descriptors kept now.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// True the first time only: whether to warn that processes are read by path.
    pub fn first_fallback(&mut self) -> bool {
        !std::mem::replace(&mut self.said, true)
    }
}
