//! Watched processes of a remote host, from the text its shell loop streams: per tick, the
//! `stat`, `status`, `io` (and, where asked, `cmdline`) of the processes we ask for by PID (the
//! ones we track, and `cmd:` matches found in the command lines the loop sends of processes it
//! had not sent yet) and of new ones the loop picked (`name:` by a `case` over `comm`, `pid:` by
//! PID). Keys, restarts, CPU % and uptime come from the same table as local processes.
mod frame;
mod plan;

use crate::error::Result;
use crate::intern::Interner;
use crate::store::SampleError;

pub use frame::{RemoteFile, RemoteProcs};
pub use plan::{is_script_safe_name, RemotePlan};

use super::cmdline::{join_cmdline, recorded_cmdline, CmdlinePolicy};
use super::keys::key_base;
use super::parse::{parse_io, parse_stat, parse_status, Stat};
use super::spec::{Kind, WatchSpec};
use super::table::{Found, ProcTable};
use super::{ProcEntry, CMDLINE_MAX};
use frame::{asked, group, parse_uptime_ns, Group};

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

/// The loop sends a command line's first this many characters (`${v:0:600}` in
/// lib/remote/script.ts): one this long may end in a cut argument.
const REMOTE_CMDLINE_CUT: usize = 600;

/// Processes watched on one host at most: each costs the loop ~2 KB of frame a tick (`status`
/// is most of it), and the collector drops a frame past 4 MB.
pub const MAX_TRACKED: usize = 1024;

struct Item {
    spec: WatchSpec,
    root_start: Option<u64>,
}

pub struct RemoteWatcher {
    items: Vec<Item>,
    table: ProcTable,
    /// `cmd:` matches waiting for their files: PID, command line (as matched, as recorded),
    /// frames left.
    pending: Vec<(u32, Vec<u8>, Vec<u8>, u32)>,
    /// Tracked PIDs whose command line is to be sent (their name changed).
    want_cmdline: Vec<u32>,
    /// The host's time since boot at the last frame, and our monotonic time then.
    last_boot: Option<(u64, u64)>,
    cmdline: Vec<u8>,
    /// What of a command line is recorded.
    policy: CmdlinePolicy,
    /// Errors said once: the shell cannot read command lines.
    said_no_cmdline: bool,
}

impl RemoteWatcher {
    /// Watch `items` on a remote host: `name:` (of a safe character set, since it goes into the
    /// remote loop), `pid:`/`N` and `cmd:`; `self` and `tree:` name processes of this machine.
    pub fn new(items: Vec<WatchSpec>) -> Result<RemoteWatcher> {
        plan::check_items(&items)?;
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
            policy: CmdlinePolicy::default(),
            said_no_cmdline: false,
        })
    }

    /// What of the command lines is recorded (matching sees them whole).
    pub fn set_cmdline_policy(&mut self, policy: CmdlinePolicy) {
        self.policy = policy;
    }

    /// What the remote loop picks by itself.
    pub fn plan(&self) -> RemotePlan {
        RemotePlan {
            cmdlines: self.policy != CmdlinePolicy::Off,
            ..plan::plan(self.items.iter().map(|i| &i.spec))
        }
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
        for (pid, ..) in &self.pending {
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
                        let cmdline = g.cmdline.map(|c| self.recorded(c));
                        if cmdline.is_none()
                            && !frame.no_cmdline
                            && self.policy != CmdlinePolicy::Off
                        {
                            self.want_cmdline.push(pid);
                        }
                        self.table.rename(j, comm, cmdline.as_deref(), names);
                    } else if let Some(c) = g.cmdline {
                        let c = self.recorded(c);
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
            p.3 = p.3.saturating_sub(1);
        }
        self.pending.retain(|p| p.3 > 0);
        for g in &groups {
            let Some(listed) = g.listed else {
                continue;
            };
            let pid = g.pid;
            let c = self.joined(listed).to_vec();
            if self.cmd_matches(&c) && !self.pending.iter().any(|p| p.0 == pid) {
                let recorded = self.recorded(listed);
                self.pending.push((pid, c, recorded, PENDING_FRAMES));
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
            // As matched (the process's own) and as recorded (under the policy).
            let (cmdline, recorded) =
                match (g.cmdline, self.pending.iter().position(|p| p.0 == pid)) {
                    (Some(c), _) => (self.joined(c).to_vec(), self.recorded(c)),
                    (None, Some(k)) => (self.pending[k].1.clone(), self.pending[k].2.clone()),
                    (None, None) => (Vec::new(), Vec::new()),
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
                    cmdline: &recorded,
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

    /// A command line as the loop sent it, as recorded under the policy (see
    /// [`recorded_cmdline`]; the loop joined the arguments by spaces, so a space in one splits it).
    fn recorded(&mut self, text: &[u8]) -> Vec<u8> {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let cut = text.len() >= REMOTE_CMDLINE_CUT;
        let mut out = Vec::new();
        recorded_cmdline(text, b' ', cut, self.policy, &mut out);
        out
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

#[cfg(test)]
mod tests;
