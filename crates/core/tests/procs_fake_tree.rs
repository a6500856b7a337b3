//! The watcher's logic against a proc tree built in a temp dir (a `proc_path` of our own): PID
//! reuse, restarts and exit statuses, keys, trees listed out of order, exec, an unreadable
//! `io`. Real processes are in `procs_real.rs`.
use std::fs;
use std::path::{Path, PathBuf};

use hostseries_core::intern::Interner;
use hostseries_core::procs::{ExitStatus, ProcEntry, ProcWatcher, WatchSpec, PROC_FIELDS};
use hostseries_core::store::SampleError;

struct Tree(PathBuf);

impl Tree {
    fn new(tag: &str) -> Tree {
        let dir =
            std::env::temp_dir().join(format!("hostseries-fakeproc-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        // Not a PID: must be skipped by the listing.
        fs::create_dir_all(dir.join("sys")).unwrap();
        fs::write(dir.join("uptime"), "1 1\n").unwrap();
        Tree(dir)
    }

    /// A process: `stat` with the fields the watcher reads, `status`, `io`, `cmdline`.
    fn put(&self, p: &Fake) {
        let d = self.0.join(p.pid.to_string());
        fs::create_dir_all(&d).unwrap();
        self.put_stat(p);
        fs::write(
            d.join("status"),
            format!(
                "Name:\t{}\nVmHWM:\t    {} kB\nVmRSS:\t    {} kB\nvoluntary_ctxt_switches:\t5\n\
                 nonvoluntary_ctxt_switches:\t6\n",
                p.comm,
                p.rss_kb * 2,
                p.rss_kb
            ),
        )
        .unwrap();
        if !d.join("io").is_dir() {
            fs::write(
                d.join("io"),
                "rchar: 11\nwchar: 12\nsyscr: 1\nsyscw: 1\nread_bytes: 13\nwrite_bytes: 14\n\
                 cancelled_write_bytes: 0\n",
            )
            .unwrap();
        }
        let mut cmd = p.cmdline.replace(' ', "\0");
        cmd.push('\0');
        fs::write(d.join("cmdline"), cmd).unwrap();
    }

    /// Rewrite `stat` in place (the same file: a kept descriptor sees the new text).
    fn put_stat(&self, p: &Fake) {
        let stat = format!(
            "{} ({}) {} {} 1 1 0 -1 0 100 0 2 0 {} {} 0 0 20 0 1 0 {} 1000 10 1 1 1 0 0 0 0 0 0 0 0 0 0 \
             17 0 0 0 0 0 0 0 0 0 0 0 0 0 {}\n",
            p.pid, p.comm, p.state, p.ppid, p.utime, p.stime, p.start, p.exit_code
        );
        fs::write(self.0.join(p.pid.to_string()).join("stat"), stat).unwrap();
    }

    fn remove(&self, pid: u32) {
        fs::remove_dir_all(self.0.join(pid.to_string())).unwrap();
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[derive(Clone)]
struct Fake {
    pid: u32,
    ppid: u32,
    comm: String,
    cmdline: String,
    state: char,
    utime: u64,
    stime: u64,
    start: u64,
    exit_code: i32,
    rss_kb: u64,
}

fn fake(pid: u32, ppid: u32, comm: &str, start: u64) -> Fake {
    Fake {
        pid,
        ppid,
        comm: comm.into(),
        cmdline: format!("/usr/bin/{comm} --pid {pid}"),
        state: 'S',
        utime: 10,
        stime: 5,
        start,
        exit_code: 0,
        rss_kb: 1000,
    }
}

struct Watch {
    w: ProcWatcher,
    names: Interner,
    out: Vec<ProcEntry>,
    errors: Vec<SampleError>,
    mono: u64,
}

impl Watch {
    fn new(tree: &Tree, items: &[&str]) -> Watch {
        let mut w = ProcWatcher::new(tree.path());
        for i in items {
            w.add(WatchSpec::parse(i).unwrap());
        }
        Watch {
            w,
            names: Interner::default(),
            out: Vec::new(),
            errors: Vec::new(),
            mono: 1_000_000_000,
        }
    }

    /// One tick, a second after the last; true when the shape changed.
    fn tick(&mut self) -> bool {
        self.mono += 1_000_000_000;
        self.w
            .read(self.mono, &mut self.names, &mut self.out, &mut self.errors)
    }

    fn keys(&self) -> Vec<String> {
        self.out.iter().map(|e| e.ident.key.to_string()).collect()
    }

    fn get(&self, key: &str) -> &ProcEntry {
        self.out
            .iter()
            .find(|e| &*e.ident.key == key)
            .unwrap_or_else(|| panic!("no {key} in {:?}", self.keys()))
    }
}

fn value(e: &ProcEntry, field: &str) -> u64 {
    let i = PROC_FIELDS.iter().position(|f| f.0 == field).unwrap();
    e.values[i]
}

#[test]
fn reads_the_fields_of_a_process() {
    let t = Tree::new("fields");
    let mut p = fake(100, 1, "fake", 50);
    t.put(&p);
    let mut w = Watch::new(&t, &["name:fake"]);
    assert!(w.tick());
    let e = w.get("fake").clone();
    assert_eq!(
        (e.ident.pid, e.ident.ppid, &*e.ident.name),
        (100, 1, "fake")
    );
    assert_eq!(&*e.ident.cmdline, "/usr/bin/fake --pid 100");
    assert!(e.ident.has_io);
    assert_eq!((e.ident.restarts, e.ident.last_exit), (0, None));
    assert_eq!(value(&e, "state"), u64::from(b'S'));
    assert_eq!(value(&e, "cpu_user_ticks"), 10);
    assert_eq!(value(&e, "cpu_system_ticks"), 5);
    assert_eq!(value(&e, "num_threads"), 1);
    assert_eq!(value(&e, "rss_kb"), 1000);
    assert_eq!(value(&e, "rss_peak_kb"), 2000);
    assert_eq!(value(&e, "minor_faults"), 100);
    assert_eq!(value(&e, "major_faults"), 2);
    assert_eq!(value(&e, "voluntary_ctxt_switches"), 5);
    assert_eq!(value(&e, "involuntary_ctxt_switches"), 6);
    assert_eq!(
        [
            value(&e, "read_bytes"),
            value(&e, "write_bytes"),
            value(&e, "read_chars"),
            value(&e, "write_chars")
        ],
        [13, 14, 11, 12]
    );
    // 15 ticks over its whole life on the first read: boot ~ hours ago, so about 0.
    assert!(value(&e, "cpu_pct") < 100, "{}", value(&e, "cpu_pct"));
    // Then the change over the tick: 50 ticks (0.5 s at 100 Hz) in one second is 50%.
    let hz = unsafe_clk_tck();
    p.utime += hz / 2;
    t.put_stat(&p);
    assert!(!w.tick(), "same process, same shape");
    assert_eq!(value(w.get("fake"), "cpu_pct"), 5000);
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

fn unsafe_clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_CLK_TCK) }) as u64
}

#[test]
fn pid_reuse_is_a_new_process() {
    let t = Tree::new("reuse");
    t.put(&fake(100, 1, "fake", 50));
    let mut by_name = Watch::new(&t, &["name:fake"]);
    let mut by_pid = Watch::new(&t, &["pid:100"]);
    by_name.tick();
    by_pid.tick();
    assert_eq!(by_name.keys(), ["fake"]);
    assert_eq!(by_pid.keys(), ["fake"]);
    let first_start = by_name.get("fake").ident.start_time_ns;
    // The process ends and another takes its PID between two ticks: same PID, later start.
    t.put_stat(&fake(100, 1, "fake", 70));
    assert!(by_name.tick());
    let e = by_name.get("fake");
    assert_eq!((e.ident.pid, e.ident.restarts), (100, 1));
    assert!(e.ident.start_time_ns > first_start);
    // `pid:100` meant the first process: the new one with its PID is not it.
    assert!(by_pid.tick());
    assert!(by_pid.out.is_empty(), "{:?}", by_pid.keys());
    assert!(by_name.errors.is_empty() && by_pid.errors.is_empty());
}

#[test]
fn restarts_keep_the_exit_status() {
    let t = Tree::new("restart");
    let mut p = fake(100, 1, "fake", 50);
    t.put(&p);
    let mut w = Watch::new(&t, &["name:fake"]);
    w.tick();
    // It is killed by SIGKILL: a zombie first, its wait status in stat field 52.
    p.state = 'Z';
    p.exit_code = 9;
    t.put_stat(&p);
    w.tick();
    assert_eq!(value(w.get("fake"), "state"), u64::from(b'Z'));
    t.remove(100);
    assert!(w.tick());
    assert!(w.out.is_empty());
    t.put(&fake(101, 1, "fake", 60));
    assert!(w.tick());
    let e = w.get("fake");
    assert_eq!((e.ident.pid, e.ident.restarts), (101, 1));
    assert_eq!(e.ident.last_exit, Some(ExitStatus::Signal(9)));
    // We were its parent: note_exit before we see it go ...
    w.w.note_exit(101, ExitStatus::Code(3));
    t.remove(101);
    w.tick();
    t.put(&fake(102, 1, "fake", 70));
    w.tick();
    let e = w.get("fake");
    assert_eq!(
        (e.ident.restarts, e.ident.last_exit),
        (2, Some(ExitStatus::Code(3)))
    );
    // ... or after the next process took the key: it still lands there.
    t.remove(102);
    w.tick();
    t.put(&fake(103, 1, "fake", 80));
    w.tick();
    assert_eq!(w.get("fake").ident.last_exit, None);
    w.w.note_exit(102, ExitStatus::Signal(15));
    assert!(w.tick());
    let e = w.get("fake");
    assert_eq!(
        (e.ident.restarts, e.ident.last_exit),
        (3, Some(ExitStatus::Signal(15)))
    );
    // A note for a PID it never saw is kept until that PID ends.
    w.w.note_exit(103, ExitStatus::Code(1));
    t.remove(103);
    w.tick();
    t.put(&fake(104, 1, "fake", 90));
    w.tick();
    assert_eq!(w.get("fake").ident.last_exit, Some(ExitStatus::Code(1)));
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn keys_number_live_processes_of_a_name() {
    let t = Tree::new("keys");
    t.put(&fake(100, 1, "fake", 50));
    t.put(&fake(101, 1, "fake", 51));
    t.put(&fake(102, 1, "fake", 52));
    t.put(&fake(103, 1, "py.thon", 53));
    let mut w = Watch::new(&t, &["name:fake", "name:py.thon"]);
    w.tick();
    assert_eq!(w.keys(), ["fake", "fake#2", "fake#3", "py_thon"]);
    // fake#2 ends: the next fake takes the lowest free slot, a restart there.
    t.remove(101);
    w.tick();
    assert_eq!(w.keys(), ["fake", "fake#3", "py_thon"]);
    t.put(&fake(104, 1, "fake", 54));
    assert!(w.tick());
    assert_eq!(w.keys(), ["fake", "fake#2", "fake#3", "py_thon"]);
    assert_eq!(w.get("fake#2").ident.pid, 104);
    assert_eq!(w.get("fake#2").ident.restarts, 1);
    assert_eq!(w.get("fake#3").ident.restarts, 0);
    // Steady: no shape change.
    assert!(!w.tick());
}

#[test]
fn a_tree_listed_out_of_order_is_found_whole() {
    let t = Tree::new("tree");
    t.put(&fake(200, 1, "root", 50));
    t.put(&fake(500, 1, "stranger", 50));
    let mut w = Watch::new(&t, &["tree:200"]);
    w.tick();
    assert_eq!(w.keys(), ["root"]);
    // Children and grandchildren appear, some with PIDs below their parents' (PIDs wrap).
    t.put(&fake(210, 200, "worker", 60));
    t.put(&fake(220, 210, "worker", 61));
    t.put(&fake(150, 220, "leaf", 62));
    t.put(&fake(151, 500, "leaf", 62));
    w.tick();
    // 150 joins in a second pass, once its parent 220 has: its key comes after theirs.
    assert_eq!(w.keys(), ["root", "worker", "worker#2", "leaf"]);
    // Re-parented to init when its parent ends: still in the tree; its own children join.
    t.remove(210);
    let mut g = fake(220, 1, "worker", 61);
    g.utime = 11;
    t.put_stat(&g);
    w.tick();
    t.put(&fake(230, 220, "late", 70));
    w.tick();
    assert_eq!(w.keys(), ["root", "worker#2", "leaf", "late"]);
    // A fork execs: it moves to its new name, and leaves no restart behind under the old one.
    t.put(&fake(240, 200, "root", 80));
    w.tick();
    assert_eq!(w.keys(), ["root", "worker#2", "leaf", "late", "root#2"]);
    let mut execd = fake(240, 200, "fio", 80);
    execd.cmdline = "fio job.fio".into();
    t.put(&execd);
    assert!(w.tick());
    assert_eq!(w.keys(), ["root", "worker#2", "leaf", "late", "fio"]);
    assert_eq!(&*w.get("fio").ident.cmdline, "fio job.fio");
    assert_eq!(w.get("fio").ident.restarts, 0);
    t.put(&fake(241, 200, "root", 81));
    w.tick();
    assert_eq!(w.get("root#2").ident.restarts, 0);
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn a_root_added_later_takes_its_existing_descendants() {
    let t = Tree::new("later");
    t.put(&fake(300, 1, "root", 50));
    t.put(&fake(301, 300, "kid", 51));
    let mut w = Watch::new(&t, &[]);
    assert!(w.w.is_empty());
    w.tick();
    assert!(w.out.is_empty());
    w.w.add(WatchSpec::parse("tree:300").unwrap());
    w.tick();
    assert_eq!(w.keys(), ["root", "kid"]);
}

#[test]
fn names_and_command_lines_are_found_after_exec() {
    let t = Tree::new("exec");
    t.put(&fake(100, 1, "sh", 50));
    t.put(&fake(101, 1, "python3", 50));
    let mut w = Watch::new(&t, &["name:fio", r"cmd:/train\.py/"]);
    w.tick();
    assert!(w.out.is_empty());
    let mut f = fake(100, 1, "fio", 50);
    f.cmdline = "fio job.fio".into();
    t.put(&f);
    // Same name, new command line (python execs python).
    let mut py = fake(101, 1, "python3", 50);
    py.cmdline = "python3 train.py --epochs 3".into();
    t.put(&py);
    w.tick();
    assert_eq!(w.keys(), ["fio", "python3"]);
    assert_eq!(
        &*w.get("python3").ident.cmdline,
        "python3 train.py --epochs 3"
    );
}

#[test]
fn an_unreadable_io_is_reported_once() {
    let t = Tree::new("io");
    t.put(&fake(100, 1, "fake", 50));
    // A directory opens but does not read (EISDIR): as /proc/<pid>/io of another user's
    // process reads EACCES when we are not root.
    fs::remove_file(t.path().join("100/io")).unwrap();
    fs::create_dir(t.path().join("100/io")).unwrap();
    let mut w = Watch::new(&t, &["name:fake"]);
    for _ in 0..5 {
        w.tick();
    }
    assert_eq!(w.errors.len(), 1, "{:?}", w.errors);
    assert_eq!(w.errors[0].source, "processes.fake");
    let want = format!("{}/100/io: ", t.path().display());
    assert!(w.errors[0].message.starts_with(&want), "{:?}", w.errors[0]);
    assert!(!w.get("fake").ident.has_io);
    assert_eq!(value(w.get("fake"), "write_bytes"), 0);
}

#[test]
fn vanishing_is_no_error() {
    let t = Tree::new("vanish");
    let mut w = Watch::new(&t, &["name:fake", "tree:100"]);
    for round in 0..20u32 {
        let pid = 100 + round;
        t.put(&fake(
            pid,
            if round == 0 { 1 } else { 100 },
            "fake",
            50 + u64::from(round),
        ));
        w.tick();
        if round > 1 {
            t.remove(pid - 1);
        }
    }
    // A directory without files (a process reaped mid-listing) and a stat that makes no sense.
    fs::create_dir_all(t.path().join("400")).unwrap();
    fs::create_dir_all(t.path().join("401")).unwrap();
    fs::write(t.path().join("401/stat"), "garbage").unwrap();
    w.tick();
    w.tick();
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn a_missing_proc_is_an_error_each_tick() {
    let t = Tree::new("missing");
    let gone = t.path().join("nowhere");
    let mut w = ProcWatcher::new(&gone);
    w.add(WatchSpec::parse("self").unwrap());
    let (mut names, mut out, mut errors) = (Interner::default(), Vec::new(), Vec::new());
    assert!(!w.read(1, &mut names, &mut out, &mut errors));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].source, "processes");
    assert!(errors[0].message.starts_with(&gone.display().to_string()));
}
