//! The watcher against real processes the test starts: a CPU burner, a tree that forks
//! workers, a restart with its exit signal, a name reached by `exec`, memory and writes of our
//! own process, and processes that vanish.
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hostseries_core::procs::{ExitStatus, ProcEntry, PROC_FIELDS};

mod watch_harness;
use watch_harness::Watch;

fn value(e: &ProcEntry, field: &str) -> u64 {
    e.values[PROC_FIELDS.iter().position(|f| f.0 == field).unwrap()]
}

/// User + system ticks of `pid` (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = after
        .split(' ')
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap())
        .collect();
    f[0] + f[1]
}

/// Kills and reaps the child when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sh(script: &str) -> Reaped {
    Reaped(Command::new("sh").arg("-c").arg(script).spawn().unwrap())
}

/// `sleep` under a name of our own (a symlink: `comm` is the name it was run by), so tests
/// running at once, and other processes on the machine, do not match each other's names.
fn named_sleep(tag: &str) -> (PathBuf, String) {
    let name = format!("hs{tag}{}", std::process::id() % 100_000);
    let dir = std::env::temp_dir().join(format!("hostseries-procs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(&name);
    let _ = std::fs::remove_file(&link);
    let sleep = ["/bin/sleep", "/usr/bin/sleep"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("sleep");
    std::os::unix::fs::symlink(sleep, &link).unwrap();
    (link, name)
}

#[test]
fn a_cpu_burner_reads_about_one_cpu() {
    let burner = sh("while :; do :; done");
    let pid = burner.0.id();
    let mut w = Watch::new(&[format!("pid:{pid}")]);
    std::thread::sleep(Duration::from_millis(300));
    w.tick();
    let (t0, c0) = (Instant::now(), cpu_ticks(pid));
    std::thread::sleep(Duration::from_millis(1500));
    w.tick();
    let (t1, c1) = (Instant::now(), cpu_ticks(pid));
    let e = &w.out[0];
    assert_eq!(
        (e.ident.pid, &*e.ident.name, &*e.ident.key),
        (pid, "sh", "sh")
    );
    assert_eq!(&*e.ident.cmdline, "sh -c while :; do :; done");
    let cpu = value(e, "cpu_pct");
    // 100% is one CPU. A shared machine gives the burner what it can spare (46% seen in CI),
    // so the figure is held to the kernel's own count over the same interval, read here.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let expected = (c1 - c0) as f64 / hz / (t1 - t0).as_secs_f64() * 10_000.0;
    assert!(
        cpu > 0 && cpu <= 10_500 && (cpu as f64 - expected).abs() <= 1_000.0,
        "cpu_pct {cpu} (hundredths), the kernel's ticks say {expected:.0}"
    );
    assert!(value(e, "cpu_user_ticks") > 0);
    assert_eq!(value(e, "state"), u64::from(b'R'));
    let up = value(e, "uptime_s");
    assert!((1_500..5_000).contains(&up), "uptime {up} ms");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let age_ms = (now - e.ident.start_time_ns) / 1_000_000;
    assert!((1_500..5_000).contains(&age_ms), "started {age_ms} ms ago");
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn a_tree_that_forks_workers_has_every_worker() {
    let (link, name) = named_sleep("w");
    let l = link.display();
    // Workers come after the first tick; one lives shorter than a tick but is alive at one.
    let root = sh(&format!(
        "sleep 0.4; {l} 3 & {l} 3 & {l} 3 & sleep 0.4; {l} 0.5 & wait"
    ));
    let mut w = Watch::new(&[format!("tree:{}", root.0.id())]);
    w.tick();
    assert_eq!(w.keys()[0], "sh");
    let all = [
        name.clone(),
        format!("{name}#2"),
        format!("{name}#3"),
        format!("{name}#4"),
    ];
    let found = w.until(Duration::from_millis(200), Duration::from_secs(3), |w| {
        all.iter().all(|k| w.find(k).is_some())
    });
    assert!(found, "{:?}", w.keys());
    // A worker read in the middle of its `exec` shows its new name before its arguments: its
    // command line is read again at the next tick.
    w.tick();
    for k in &all {
        let e = w.get(k);
        assert_eq!(&*e.ident.name, name);
        assert!(
            e.ident.cmdline.starts_with(&*l.to_string()),
            "{:?}",
            e.ident.cmdline
        );
    }
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn a_restart_counts_with_its_exit_signal() {
    let (link, name) = named_sleep("r");
    let mut w = Watch::new(&[format!("name:{name}")]);
    let mut first = Command::new(&link).arg("60").spawn().unwrap();
    assert!(
        w.until(Duration::from_millis(50), Duration::from_secs(3), |w| {
            w.find(&name).is_some()
        })
    );
    assert_eq!(w.get(&name).ident.restarts, 0);
    // We are its parent: killed, reaped, and how it ended handed over.
    first.kill().unwrap();
    let status = first.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(9));
    w.w.note_exit(first.id(), ExitStatus::Signal(9));
    w.tick();
    assert!(w.find(&name).is_none());
    let second = Reaped(Command::new(&link).arg("60").spawn().unwrap());
    assert!(
        w.until(Duration::from_millis(50), Duration::from_secs(3), |w| {
            w.find(&name).is_some()
        })
    );
    let e = w.get(&name);
    assert_eq!(e.ident.pid, second.0.id());
    assert_eq!(
        (e.ident.restarts, e.ident.last_exit),
        (1, Some(ExitStatus::Signal(9)))
    );
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}

#[test]
fn a_zombie_tells_how_it_ended() {
    let (link, name) = named_sleep("z");
    let mut w = Watch::new(&[format!("name:{name}")]);
    let mut child = Command::new(&link).arg("60").spawn().unwrap();
    assert!(
        w.until(Duration::from_millis(50), Duration::from_secs(3), |w| {
            w.find(&name).is_some()
        })
    );
    // SIGTERM and not reaped yet: a zombie, its wait status in stat.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert!(
        w.until(Duration::from_millis(20), Duration::from_secs(3), |w| {
            w.find(&name)
                .is_some_and(|e| value(e, "state") == u64::from(b'Z'))
        })
    );
    child.wait().unwrap();
    let _next = Reaped(Command::new(&link).arg("60").spawn().unwrap());
    assert!(
        w.until(Duration::from_millis(50), Duration::from_secs(3), |w| {
            w.find(&name).is_some_and(|e| e.ident.restarts == 1)
        })
    );
    assert_eq!(w.get(&name).ident.last_exit, Some(ExitStatus::Signal(15)));
}

#[test]
fn a_name_reached_by_exec_is_found() {
    let (link, name) = named_sleep("e");
    let mut w = Watch::new(&[format!("name:{name}")]);
    let shell = sh(&format!("sleep 0.3; exec {} 5", link.display()));
    let found = w.until(Duration::from_millis(100), Duration::from_secs(4), |w| {
        w.find(&name).is_some()
    });
    assert!(found, "{:?}", w.keys());
    let e = w.get(&name);
    assert_eq!(e.ident.pid, shell.0.id());
    assert_eq!(&*e.ident.cmdline, format!("{} 5", link.display()));
    // And by command line, through the same exec.
    let mut c = Watch::new(&[format!("cmd:/{name} 6$/")]);
    let _shell = sh(&format!("sleep 0.3; exec {} 6", link.display()));
    assert!(
        c.until(Duration::from_millis(100), Duration::from_secs(4), |w| {
            w.find(&name).is_some()
        })
    );
}

#[test]
fn our_own_memory_and_writes_show() {
    let mut w = Watch::new(&["self".to_string()]);
    w.tick();
    let e = w.get("self");
    assert_eq!(e.ident.pid, std::process::id());
    assert!(e.ident.has_io);
    let (rss0, w0) = (value(e, "rss_kb"), value(e, "write_bytes"));
    // 200 MB touched, 50 MB written to a file (on disk, not tmpfs: write_bytes counts what
    // is bound for storage).
    let mem = std::hint::black_box(vec![1u8; 200 << 20]);
    let path = std::env::temp_dir().join(format!("hostseries-procs-w-{}", std::process::id()));
    std::fs::write(&path, vec![7u8; 50 << 20]).unwrap();
    w.tick();
    let e = w.get("self");
    let (rss1, w1) = (value(e, "rss_kb"), value(e, "write_bytes"));
    drop(mem);
    let _ = std::fs::remove_file(&path);
    assert!(rss1 >= rss0 + 190 * 1024, "rss {rss0} -> {rss1} kB");
    assert!(value(e, "rss_peak_kb") >= rss1);
    assert!(w1 >= w0 + (50 << 20), "write_bytes {w0} -> {w1}");
    assert!(value(e, "write_chars") >= 50 << 20);
}

#[test]
fn vanished_processes_are_no_error() {
    // A tree of short-lived children, read often: most end between listing and reading.
    let root = sh("for i in $(seq 200); do /bin/true & done; wait");
    let mut w = Watch::new(&[format!("tree:{}", root.0.id())]);
    let t0 = Instant::now();
    let mut seen = 0;
    while t0.elapsed() < Duration::from_secs(2) {
        w.tick();
        seen = seen.max(w.out.len());
    }
    assert!(w.errors.is_empty(), "{:?}", w.errors);
    assert!(seen >= 1);
    // A watched process that ended and was reaped: gone without error (its kept stat reads
    // ESRCH).
    let mut child = Command::new("sleep").arg("60").spawn().unwrap();
    let mut w = Watch::new(&[format!("pid:{}", child.id())]);
    w.tick();
    assert_eq!(w.out.len(), 1);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(w.tick());
    assert!(w.out.is_empty());
    assert!(w.errors.is_empty(), "{:?}", w.errors);
}
