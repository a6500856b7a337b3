//! Process keys: the stable names (`fio`, `fio#2`, `self`) under which watched processes are
//! reported, kept when the process behind them changes, with each key's restart history.
use crate::intern::{Interner, Name};

use super::ExitStatus;

pub struct Key {
    pub name: Name,
    /// The name part (`fio`), dots made `_`.
    base: Box<[u8]>,
    /// 1 for `fio`, 2 for `fio#2`, ...
    slot: u32,
    /// The watched process under this key now (an index of the watcher's process table).
    pub live: Option<usize>,
    /// Processes it had before the live one (or before the next one, while free).
    pub restarts: u32,
    /// How the last process that ended here ended, when known.
    pub last_exit: Option<ExitStatus>,
    /// The PID of the last process that ended here (0: none yet), for a late `note_exit`.
    pub last_pid: u32,
    /// Left by a process that moved to another name before ever ending here (see `release`).
    vacant: bool,
}

/// What taking a key changed, to undo it if the process leaves by `exec` rather than by ending.
#[derive(Clone, Copy, Debug)]
pub struct Took {
    created: bool,
    restarts: u32,
    last_exit: Option<ExitStatus>,
}

#[derive(Default)]
pub struct Keys {
    keys: Vec<Key>,
}

/// The key base of a process name: `.` (and `#`, which numbers further processes) become `_`,
/// so `processes.<key>.cpu_pct` splits cleanly.
pub fn key_base(comm: &[u8]) -> Vec<u8> {
    if comm.is_empty() {
        return b"_".to_vec();
    }
    comm.iter()
        .map(|&b| if b == b'.' || b == b'#' { b'_' } else { b })
        .collect()
}

impl Keys {
    pub fn get(&self, i: usize) -> &Key {
        &self.keys[i]
    }

    /// Keys in creation order (indices into this table).
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.keys.iter().filter(|k| !k.vacant)
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Key> {
        self.keys.iter_mut().filter(|k| !k.vacant)
    }

    /// The lowest free slot of `base` for process `proc`: a key that had a process before
    /// counts a restart (its `restarts` and `last_exit` are then the new process's); else a
    /// new key after the others of that name.
    pub fn take(&mut self, base: &[u8], proc: usize, names: &mut Interner) -> (usize, Took) {
        let free = self
            .keys
            .iter()
            .enumerate()
            .filter(|(_, k)| !k.vacant && &*k.base == base && k.live.is_none())
            .min_by_key(|(_, k)| k.slot)
            .map(|(i, _)| i);
        if let Some(i) = free {
            let k = &mut self.keys[i];
            let took = Took {
                created: false,
                restarts: k.restarts,
                last_exit: k.last_exit,
            };
            k.restarts += 1;
            k.live = Some(proc);
            return (i, took);
        }
        let slot = 1 + self
            .keys
            .iter()
            .filter(|k| !k.vacant && &*k.base == base)
            .map(|k| k.slot)
            .max()
            .unwrap_or(0);
        let name = if slot == 1 {
            names.intern(base)
        } else {
            let mut n = base.to_vec();
            n.extend_from_slice(format!("#{slot}").as_bytes());
            names.intern(&n)
        };
        let key = Key {
            name,
            base: base.into(),
            slot,
            live: Some(proc),
            restarts: 0,
            last_exit: None,
            last_pid: 0,
            vacant: false,
        };
        // A vacant place is reused: the order stays stable for every key that lives on.
        let i = match self.keys.iter().position(|k| k.vacant) {
            Some(i) => {
                self.keys[i] = key;
                i
            }
            None => {
                self.keys.push(key);
                self.keys.len() - 1
            }
        };
        (
            i,
            Took {
                created: true,
                restarts: 0,
                last_exit: None,
            },
        )
    }

    /// The process under key `i` ended: the key is free, and remembers how it ended.
    pub fn ended(&mut self, i: usize, pid: u32, exit: Option<ExitStatus>) {
        let k = &mut self.keys[i];
        k.live = None;
        k.last_pid = pid;
        k.last_exit = exit;
    }

    /// The process under key `i` changed its name (exec) and moves to another key: undo what
    /// taking this one did, so a fork that execs is no restart of its parent's name.
    pub fn release(&mut self, i: usize, took: Took) {
        let k = &mut self.keys[i];
        k.live = None;
        if took.created {
            k.vacant = true;
        } else {
            k.restarts = took.restarts;
            k.last_exit = took.last_exit;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_restarts_and_exec() {
        let mut names = Interner::default();
        let mut keys = Keys::default();
        let (a, _) = keys.take(b"fio", 0, &mut names);
        let (b, _) = keys.take(b"fio", 1, &mut names);
        assert_eq!(&*keys.get(a).name, "fio");
        assert_eq!(&*keys.get(b).name, "fio#2");
        // fio ends; the next fio takes its slot, a restart.
        keys.ended(a, 100, Some(ExitStatus::Signal(9)));
        let (c, _) = keys.take(b"fio", 2, &mut names);
        assert_eq!(c, a);
        assert_eq!(keys.get(c).restarts, 1);
        assert_eq!(keys.get(c).last_exit, Some(ExitStatus::Signal(9)));
        // A third live fio: fio#3. It execs into something else: the key goes away unseen.
        let (d, took) = keys.take(b"fio", 3, &mut names);
        assert_eq!(&*keys.get(d).name, "fio#3");
        keys.release(d, took);
        assert_eq!(keys.iter().count(), 2);
        // fio#2 ends, a fork of fio takes it then execs: no restart is left behind.
        keys.ended(b, 101, None);
        let (e, took) = keys.take(b"fio", 4, &mut names);
        assert_eq!((e, keys.get(e).restarts), (b, 1));
        keys.release(e, took);
        assert_eq!(keys.get(b).restarts, 0);
        assert_eq!(key_base(b"python3.11"), b"python3_11");
        assert_eq!(key_base(b""), b"_");
    }
}
