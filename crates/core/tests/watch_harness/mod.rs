//! The watcher harness the process tests share: a `ProcWatcher` with its interner, entries
//! and errors, ticked now or until a condition holds.
#![allow(dead_code)] // each test binary uses part of it
use std::path::Path;
use std::time::{Duration, Instant};

use hostseries_core::clock::mono_ns;
use hostseries_core::intern::Interner;
use hostseries_core::procs::{ProcEntry, ProcWatcher, WatchSpec};
use hostseries_core::store::SampleError;

pub struct Watch {
    pub w: ProcWatcher,
    pub names: Interner,
    pub out: Vec<ProcEntry>,
    pub errors: Vec<SampleError>,
}

impl Watch {
    pub fn new(items: &[String]) -> Watch {
        let mut w = ProcWatcher::new(Path::new("/proc"));
        for i in items {
            w.add(WatchSpec::parse(i).unwrap());
        }
        Watch {
            w,
            names: Interner::default(),
            out: Vec::new(),
            errors: Vec::new(),
        }
    }

    pub fn tick(&mut self) -> bool {
        self.w
            .read(mono_ns(), &mut self.names, &mut self.out, &mut self.errors)
    }

    pub fn find(&self, key: &str) -> Option<&ProcEntry> {
        self.out.iter().find(|e| &*e.ident.key == key)
    }

    pub fn get(&self, key: &str) -> &ProcEntry {
        self.find(key)
            .unwrap_or_else(|| panic!("no {key} in {:?}", self.keys()))
    }

    pub fn keys(&self) -> Vec<String> {
        self.out.iter().map(|e| e.ident.key.to_string()).collect()
    }

    /// Tick every `every` until `done` or `limit` passes.
    pub fn until(
        &mut self,
        every: Duration,
        limit: Duration,
        done: impl Fn(&Watch) -> bool,
    ) -> bool {
        let t0 = Instant::now();
        loop {
            self.tick();
            if done(self) {
                return true;
            }
            if t0.elapsed() > limit {
                return false;
            }
            std::thread::sleep(every);
        }
    }

    pub fn with_pid(&self, pid: u32) -> Option<&ProcEntry> {
        self.out.iter().find(|e| e.ident.pid == pid)
    }
}
