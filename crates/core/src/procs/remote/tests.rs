//! The remote watcher over frames made here: keys, CPU, uptime and I/O from text, restarts and
//! reused PIDs, `cmd:` matches waiting for their files, the loop's errors and refused items.
use super::*;
use crate::procs::{ExitStatus, PROC_FIELDS};
use crate::ErrorCode;

/// `stat` of a process: name, state, ppid, utime/stime ticks, start (ticks after boot).
fn stat(pid: u32, comm: &str, state: char, ticks: (u64, u64), start: u64) -> String {
    format!(
        "{pid} ({comm}) {state} 1 {pid} {pid} 0 -1 4194560 10 0 2 0 {} {} 0 0 20 0 3 0 {start} \
         2539520 134 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 {}\n",
        ticks.0,
        ticks.1,
        if state == 'Z' { 9 } else { 0 }
    )
}
const STATUS: &str = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n\
voluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t2\n";
const IO: &str = "rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\n";

struct Host {
    w: RemoteWatcher,
    names: Interner,
    out: Vec<ProcEntry>,
    errors: Vec<SampleError>,
    /// Texts of the next frame: (pid, file, text).
    texts: Vec<(u32, RemoteFile, String)>,
    uptime: String,
    asked: String,
    truncated: bool,
    no_cmdline: bool,
    mono: u64,
}

impl Host {
    fn new(items: &[&str]) -> Host {
        let specs = items.iter().map(|i| WatchSpec::parse(i).unwrap()).collect();
        Host {
            w: RemoteWatcher::new(specs).unwrap(),
            names: Interner::default(),
            out: Vec::new(),
            errors: Vec::new(),
            texts: Vec::new(),
            uptime: "1000.00 1900.00\n".into(),
            asked: String::new(),
            truncated: false,
            no_cmdline: false,
            mono: 0,
        }
    }

    /// A process as the loop sends it: stat, status, io (or `io!`), maybe its command line.
    fn proc(&mut self, pid: u32, stat: String, io: bool, cmdline: Option<&str>) {
        self.texts.push((pid, RemoteFile::Stat, stat));
        self.texts.push((pid, RemoteFile::Status, STATUS.into()));
        if io {
            self.texts.push((pid, RemoteFile::Io, IO.into()));
        } else {
            self.texts
                .push((pid, RemoteFile::IoUnreadable, String::new()));
        }
        if let Some(c) = cmdline {
            self.texts
                .push((pid, RemoteFile::Cmdline, format!("{c}\n")));
        }
    }

    /// One frame, `dt_s` seconds after the last (the host's uptime advances as much).
    fn frame(&mut self, dt_s: u64) -> bool {
        self.mono += dt_s * 1_000_000_000;
        let up: f64 = self.uptime.split(' ').next().unwrap().parse().unwrap();
        self.uptime = format!("{:.2} 0.00\n", up + dt_s as f64);
        let texts = std::mem::take(&mut self.texts);
        let frame = RemoteProcs {
            btime: 1_700_000_000,
            uptime: Some(self.uptime.as_bytes()),
            asked: self.asked.as_bytes(),
            files: texts
                .iter()
                .map(|(p, f, t)| (*p, *f, t.as_bytes()))
                .collect(),
            truncated: self.truncated,
            no_cmdline: self.no_cmdline,
        };
        self.errors.clear();
        let changed = self.w.read(
            &frame,
            self.mono,
            &mut self.names,
            &mut self.out,
            &mut self.errors,
        );
        let mut r = String::new();
        self.w.request(&mut r);
        self.asked = r;
        changed
    }

    fn keys(&self) -> Vec<(String, u32)> {
        self.out
            .iter()
            .map(|e| (e.ident.key.to_string(), e.ident.pid))
            .collect()
    }

    fn value(&self, key: &str, field: &str) -> u64 {
        let e = self.out.iter().find(|e| &*e.ident.key == key).unwrap();
        let i = PROC_FIELDS.iter().position(|f| f.0 == field).unwrap();
        e.values[i]
    }
}

#[test]
fn keys_cpu_uptime_start_and_io_from_text() {
    let mut h = Host::new(&["name:fio"]);
    // Started 500 s after boot (ticks of 1/100 s), 100 s of CPU so far.
    h.proc(
        40,
        stat(40, "fio", 'R', (8000, 2000), 50_000),
        true,
        Some("fio job.fio"),
    );
    h.proc(
        41,
        stat(41, "fio", 'S', (0, 0), 60_000),
        false,
        Some("fio --server"),
    );
    assert!(h.frame(1));
    assert_eq!(
        h.keys(),
        [("fio".to_string(), 40), ("fio#2".to_string(), 41)]
    );
    let e = &h.out[0].ident;
    assert_eq!(&*e.cmdline, "fio job.fio");
    assert_eq!(e.start_time_ns, (1_700_000_000 + 500) * 1_000_000_000);
    assert!(e.has_io);
    // Uptime: 1001 s of the host's, minus 500.
    assert_eq!(h.value("fio", "uptime_s"), 501_000);
    // Over its life at first: 100 s of CPU in 501 s.
    assert_eq!(h.value("fio", "cpu_pct"), 10000 * 100 / 501);
    assert_eq!(h.value("fio", "write_bytes"), 8192);
    assert_eq!(h.value("fio", "rss_kb"), 1024);
    // The unreadable io: one error, naming the key; no I/O fields.
    assert!(!h.out[1].ident.has_io);
    assert_eq!(h.errors.len(), 1);
    assert_eq!(h.errors[0].source, "processes.fio#2");
    assert!(h.errors[0].message.contains("/proc/41/io"));
    // The tick line asks for both from now on.
    assert_eq!(h.asked, "40 41");

    // Next tick: 150 ticks in 2 s is 75%; the io error is not said again.
    h.proc(40, stat(40, "fio", 'R', (8100, 2050), 50_000), true, None);
    h.proc(41, stat(41, "fio", 'S', (0, 0), 60_000), false, None);
    assert!(!h.frame(2));
    assert_eq!(h.value("fio", "cpu_pct"), 7500);
    assert_eq!(h.value("fio", "uptime_s"), 503_000);
    assert!(h.errors.is_empty());
    assert_eq!(&*h.out[0].ident.cmdline, "fio job.fio");
}

#[test]
fn a_restart_under_the_name_and_a_reused_pid() {
    let mut h = Host::new(&["name:fio", "pid:77"]);
    h.proc(40, stat(40, "fio", 'S', (0, 0), 100), true, Some("fio"));
    h.proc(77, stat(77, "db", 'S', (0, 0), 200), true, Some("db"));
    h.frame(1);
    assert_eq!(h.keys(), [("fio".to_string(), 40), ("db".to_string(), 77)]);
    // fio dies as a zombie killed by signal 9, then is gone; another takes its name.
    h.proc(40, stat(40, "fio", 'Z', (0, 0), 100), true, None);
    h.proc(77, stat(77, "db", 'S', (0, 0), 200), true, None);
    h.frame(1);
    h.proc(77, stat(77, "db", 'S', (0, 0), 200), true, None);
    h.proc(90, stat(90, "fio", 'S', (0, 0), 300), true, Some("fio"));
    h.frame(1);
    let fio = h.out.iter().find(|e| &*e.ident.key == "fio").unwrap();
    assert_eq!((fio.ident.pid, fio.ident.restarts), (90, 1));
    assert_eq!(fio.ident.last_exit, Some(ExitStatus::Signal(9)));
    // PID 77 reused by another process: not the one `pid:77` was bound to.
    h.proc(77, stat(77, "other", 'S', (0, 0), 400), true, Some("other"));
    h.proc(90, stat(90, "fio", 'S', (0, 0), 300), true, None);
    h.frame(1);
    assert_eq!(h.keys(), [("fio".to_string(), 90)]);
}

#[test]
fn cmd_matches_wait_for_their_files_and_renames_ask_for_the_command_line() {
    let mut h = Host::new(&[r"cmd:/train\.py/"]);
    assert!(h.w.plan().cmd);
    h.texts.push((
        50,
        RemoteFile::Listed,
        "python3 train.py --epochs 3\n".into(),
    ));
    h.texts
        .push((51, RemoteFile::Listed, "python3 serve.py\n".into()));
    h.frame(1);
    assert!(h.out.is_empty());
    assert_eq!(h.asked, "50");
    h.proc(50, stat(50, "python3", 'R', (10, 0), 100), true, None);
    h.frame(1);
    assert_eq!(h.keys(), [("python3".to_string(), 50)]);
    assert_eq!(&*h.out[0].ident.cmdline, "python3 train.py --epochs 3");
    // It execs: a new name, its command line asked for, then taken.
    h.proc(50, stat(50, "torchrun", 'R', (10, 0), 100), true, None);
    h.frame(1);
    assert_eq!(h.keys(), [("torchrun".to_string(), 50)]);
    assert_eq!(h.asked, "50 c50");
    h.proc(
        50,
        stat(50, "torchrun", 'R', (10, 0), 100),
        true,
        Some("torchrun train.py"),
    );
    h.frame(1);
    assert_eq!(&*h.out[0].ident.cmdline, "torchrun train.py");
    assert_eq!(h.asked, "50");
    // Not sent although asked for: it has ended.
    h.frame(1);
    assert!(h.out.is_empty());
}

#[test]
fn a_tracked_process_not_asked_for_yet_is_kept() {
    let mut h = Host::new(&[r"cmd:/train/"]);
    h.texts.push((50, RemoteFile::Listed, "train\n".into()));
    h.frame(1);
    h.proc(50, stat(50, "python3", 'R', (10, 0), 100), true, None);
    h.frame(1);
    assert_eq!(h.keys().len(), 1);
    // A frame answering a tick line written before we tracked it: not sent, not ended.
    h.asked.clear();
    h.frame(1);
    assert_eq!(h.keys(), [("python3".to_string(), 50)]);
}

#[test]
fn errors_of_the_loop_and_refused_items() {
    let mut h = Host::new(&["cmd:/x/"]);
    h.no_cmdline = true;
    h.truncated = true;
    h.frame(1);
    assert_eq!(h.errors.len(), 2);
    assert!(h
        .errors
        .iter()
        .any(|e| e.message.contains("cmd:/x/ need bash")));
    h.frame(1);
    assert_eq!(h.errors.len(), 1, "the shell's is said once");
    for (item, says) in [
        ("self", "this machine only"),
        ("tree:1", "not available for remote hosts"),
        ("name:a*b", "may hold only"),
        ("name:a b", "may hold only"),
        ("name:$(x)", "may hold only"),
    ] {
        let e = RemoteWatcher::new(vec![WatchSpec::parse(item).unwrap()])
            .err()
            .unwrap();
        assert_eq!(e.code(), ErrorCode::InvalidOption);
        let text = e.to_string();
        assert!(text.contains(&format!("{item:?}")), "{text}");
        assert!(text.contains(says), "{text}");
    }
    let plan = RemoteWatcher::new(
        ["name:kworker/0:1", "pid:9", "name:fio"]
            .iter()
            .map(|i| WatchSpec::parse(i).unwrap())
            .collect(),
    )
    .unwrap()
    .plan();
    assert_eq!(plan.names, ["kworker/0:1", "fio"]);
    assert_eq!(plan.pids, [9]);
    assert!(!plan.cmd);
}

#[test]
fn at_most_max_tracked_processes_are_watched() {
    let mut h = Host::new(&["name:w"]);
    for pid in 1..=(MAX_TRACKED as u32 + 6) {
        h.proc(pid, stat(pid, "w", 'S', (0, 0), 100), true, None);
    }
    h.frame(1);
    assert_eq!(h.out.len(), MAX_TRACKED);
    assert_eq!(h.errors.len(), 1);
    assert!(h.errors[0].message.contains("left out"));
}

#[test]
fn uptime_text() {
    assert_eq!(parse_uptime_ns(b"12.34 5.00\n"), Some(12_340_000_000));
    assert_eq!(parse_uptime_ns(b"7\n"), Some(7_000_000_000));
    assert_eq!(parse_uptime_ns(b"x"), None);
    assert_eq!(parse_uptime_ns(b""), None);
}

#[test]
fn remote_command_lines_are_redacted_and_matched_whole() {
    let mut h = Host::new(&[r"cmd:/hunter2/", "name:db"]);
    h.texts.push((
        50,
        RemoteFile::Listed,
        "app --password hunter2 --token=t0k\n".into(),
    ));
    h.frame(1);
    assert_eq!(h.asked, "50");
    h.proc(50, stat(50, "app", 'S', (0, 0), 100), true, None);
    h.proc(
        60,
        stat(60, "db", 'S', (0, 0), 100),
        true,
        Some("db postgres://u:pw@h/x"),
    );
    h.frame(1);
    let lines: Vec<&str> = h.out.iter().map(|e| &*e.ident.cmdline).collect();
    assert_eq!(
        lines,
        ["app --password *** --token=***", "db postgres://u:***@h/x"]
    );
    // Off: nothing recorded; matching still sees the line.
    let mut off = Host::new(&[r"cmd:/hunter2/"]);
    off.w.set_cmdline_policy(crate::procs::CmdlinePolicy::Off);
    off.texts
        .push((7, RemoteFile::Listed, "app --password hunter2\n".into()));
    off.frame(1);
    off.proc(7, stat(7, "app", 'S', (0, 0), 100), true, None);
    off.frame(1);
    assert_eq!(off.keys(), [("app".to_string(), 7)]);
    assert_eq!(&*off.out[0].ident.cmdline, "");
}

#[test]
fn with_cmdline_off_no_command_line_is_asked_of_the_remote_host() {
    let renamed = |policy: Option<crate::procs::CmdlinePolicy>| {
        let mut h = Host::new(&["name:db", "name:db2"]);
        if let Some(p) = policy {
            h.w.set_cmdline_policy(p);
        }
        h.proc(9, stat(9, "db", 'S', (0, 0), 100), true, Some("db -p 1"));
        h.frame(1);
        // Renamed (an exec) without its command line in the frame.
        h.proc(9, stat(9, "db2", 'S', (0, 0), 100), true, None);
        h.frame(1);
        (h.w.plan().cmdlines, h.asked)
    };
    // The loop sends the command lines of what it picks; a renamed process's is asked (`c9`).
    assert_eq!(renamed(None), (true, "9 c9".to_string()));
    // Off: not recorded, so neither sent nor asked.
    assert_eq!(
        renamed(Some(crate::procs::CmdlinePolicy::Off)),
        (false, "9".to_string())
    );
}
