//! What a remote host can be asked to watch (`name:` of a character set safe in its shell
//! loop, `pid:`, `cmd:`; not `self` nor `tree:`, which are this machine's), and what its loop is
//! to pick by itself each tick.
use crate::error::{Error, Result};

use super::super::spec::{Kind, WatchSpec};

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

/// What the remote loop is to pick by itself (the rest it is asked for each tick).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemotePlan {
    pub names: Vec<String>,
    pub pids: Vec<u32>,
    /// Command lines are needed (`cmd:` items): bash only.
    pub cmd: bool,
    /// The command lines of the processes it picks are wanted (not with `cmdline: off`: they
    /// would cross the connection only to be dropped).
    pub cmdlines: bool,
}

/// Refuse the items a remote host cannot watch, naming the item and why.
pub(super) fn check_items(items: &[WatchSpec]) -> Result<()> {
    for s in items {
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
    Ok(())
}

/// What the remote loop picks by itself for `items`.
pub(super) fn plan<'a>(items: impl Iterator<Item = &'a WatchSpec>) -> RemotePlan {
    let mut p = RemotePlan::default();
    for spec in items {
        match &spec.kind {
            Kind::Name(n) => p.names.push(String::from_utf8_lossy(n).into_owned()),
            Kind::Pid(n) => p.pids.push(*n),
            Kind::Cmd(_) => p.cmd = true,
            Kind::Myself | Kind::Tree(_) => {}
        }
    }
    p
}
