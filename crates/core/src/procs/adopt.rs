//! Orphans of a wrapped command kept in its tree. A process whose parent exits is re-parented
//! to init, or to the nearest ancestor that made itself a child subreaper
//! (`PR_SET_CHILD_SUBREAPER`); a double fork whose middle process exits before the next tick
//! would leave its grandchild outside the command's tree. When the recording process is a
//! subreaper, such orphans become its children: those not excluded (its own other children,
//! which Node spawned) join the tree of `root`, and, as their parent now, it reaps them once they
//! have been zombies for [`REAP_AFTER_NS`] (Node's libuv waits only for the children it spawned;
//! the delay keeps a reap from ever racing libuv for one of those).
use std::io;

use super::parse::decode_wait_status;
use super::ExitStatus;

/// A zombie of ours not reaped by libuv within this long is not libuv's to reap.
pub const REAP_AFTER_NS: u64 = 2_000_000_000;

/// Make this process a child subreaper: orphans of its descendants become its children.
pub fn set_child_subreaper() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether this process is a child subreaper.
pub fn is_child_subreaper() -> bool {
    let mut on: libc::c_int = 0;
    // SAFETY: a valid out-pointer for PR_GET_CHILD_SUBREAPER.
    let r = unsafe { libc::prctl(libc::PR_GET_CHILD_SUBREAPER, &mut on as *mut libc::c_int) };
    r == 0 && on != 0
}

/// Which of our children are orphans adopted into the tree of `root`.
#[derive(Clone, Debug)]
pub struct Adoption {
    pub root: u32,
    /// Our children that are not orphans (Node spawned them: a guard process).
    pub exclude: Vec<u32>,
}

impl Adoption {
    /// Whether `pid`, whose parent is `ppid`, is an orphan we (`self_pid`) adopted.
    pub fn adopts(&self, pid: u32, ppid: u32, self_pid: u32) -> bool {
        ppid == self_pid && pid != self.root && !self.exclude.contains(&pid)
    }
}

/// Reap our zombie child `pid`, without blocking: how it ended, or None when it was not ours
/// to reap (already reaped, not a zombie yet).
pub fn reap(pid: u32) -> Option<ExitStatus> {
    let mut status: libc::c_int = 0;
    // SAFETY: a valid out-pointer; WNOHANG never blocks.
    let r = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, libc::WNOHANG) };
    (r == pid as libc::pid_t).then(|| decode_wait_status(status))
}
