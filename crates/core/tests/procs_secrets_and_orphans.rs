//! Watched processes the test starts, for what a recording must not hold and must not lose: a
//! command line with secret-looking arguments (recorded redacted, matched whole, or not recorded
//! at all), and a double fork whose middle process exits at once (its orphan, re-parented to us
//! as a child subreaper, stays in the tree and is reaped once it ends). Its own binary: being a
//! subreaper is a property of the whole process.
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hostseries_core::procs::{
    is_child_subreaper, set_child_subreaper, CmdlinePolicy, REAP_AFTER_NS,
};

mod watch_harness;
use watch_harness::Watch;

/// `pid` is watched with its command line read: a process caught in the middle of its `exec`
/// shows none at first (it is read again at the next tick).
fn has_cmdline(w: &Watch, pid: u32) -> bool {
    w.with_pid(pid).is_some_and(|e| !e.ident.cmdline.is_empty())
}

/// How often `until` ticks.
const EVERY: Duration = Duration::from_millis(50);

/// One test at a time: every child of this process would be taken for an orphan of the tree.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A shell that sleeps, with these arguments after its script (its `$0`, `$1`...).
fn shell_with_args(args: &[&str]) -> Reaped {
    Reaped(
        Command::new("sh")
            .args(["-c", "sleep 30"])
            .args(args)
            .spawn()
            .unwrap(),
    )
}

#[test]
fn secret_arguments_are_redacted_matched_whole_or_not_recorded() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let args = [
        "sh",
        "--password",
        "hunter2",
        "--api-key=k3y",
        "https://bob:pa55@db.example/x",
    ];
    let child = shell_with_args(&args);
    let pid = child.0.id();
    // `cmd:` sees the whole line (the secret is in it), and so finds the process.
    let mut w = Watch::new(&[format!("pid:{pid}"), "cmd:/hunter2 --api-key=k3y/".into()]);
    assert!(w.until(EVERY, Duration::from_secs(5), |w| has_cmdline(w, pid)));
    let line = w.with_pid(pid).unwrap().ident.cmdline.to_string();
    assert_eq!(
        line,
        "sh -c sleep 30 sh --password *** --api-key=*** https://bob:***@db.example/x"
    );
    for secret in ["hunter2", "k3y", "pa55"] {
        assert!(!line.contains(secret), "{line}");
    }

    let mut only_cmd = Watch::new(&["cmd:/hunter2/".into()]);
    assert!(only_cmd.until(EVERY, Duration::from_secs(5), |w| has_cmdline(w, pid)));
    assert!(!only_cmd
        .with_pid(pid)
        .unwrap()
        .ident
        .cmdline
        .contains("hunter2"));

    let mut full = Watch::new(&[format!("pid:{pid}")]);
    full.w.set_cmdline_policy(CmdlinePolicy::Full);
    assert!(full.until(EVERY, Duration::from_secs(5), |w| has_cmdline(w, pid)));
    assert!(full
        .with_pid(pid)
        .unwrap()
        .ident
        .cmdline
        .contains("hunter2"));

    let mut off = Watch::new(&[format!("pid:{pid}")]);
    off.w.set_cmdline_policy(CmdlinePolicy::Off);
    assert!(off.until(EVERY, Duration::from_secs(5), |w| w.with_pid(pid).is_some()));
    assert_eq!(&*off.with_pid(pid).unwrap().ident.cmdline, "");
}

fn ppid_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].split(' ').nth(1)?.parse().ok()
}

fn state_of(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

#[test]
fn a_double_forked_orphan_stays_in_the_tree_and_is_reaped() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    set_child_subreaper().unwrap();
    assert!(is_child_subreaper());
    // The middle shell starts the sleep and exits at once: the sleep is re-parented before any
    // tick can see its first parent. It writes the sleep's PID for the test.
    let dir = std::env::temp_dir().join(format!("hostseries-orphan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("pid");
    let script = format!(
        "sh -c 'sleep 60 & echo $! > {}' ; exec sleep 60",
        pidfile.display()
    );
    let root = Reaped(Command::new("sh").args(["-c", &script]).spawn().unwrap());
    let root_pid = root.0.id();
    let t0 = Instant::now();
    let orphan: u32 = loop {
        if let Some(p) = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            if ppid_of(p) == Some(std::process::id()) {
                break p;
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "no orphan re-parented to us"
        );
        std::thread::sleep(Duration::from_millis(10));
    };

    // Without adoption the orphan is out of the tree (the middle process was never seen).
    let mut plain = Watch::new(&[format!("tree:{root_pid}")]);
    plain.tick();
    plain.tick();
    assert!(plain.with_pid(root_pid).is_some());
    assert!(plain.with_pid(orphan).is_none());

    let mut w = Watch::new(&[format!("tree:{root_pid}")]);
    w.w.adopt(root_pid, Vec::new());
    w.tick();
    assert!(w.with_pid(root_pid).is_some());
    assert!(w.with_pid(orphan).is_some(), "the orphan joined the tree");

    // It ends: a zombie of ours, reaped by the watcher once it has been one for REAP_AFTER_NS,
    // its exit recorded; it leaves the tree, and no zombie is left.
    // SAFETY: signalling a process this test started.
    unsafe { libc::kill(orphan as libc::pid_t, libc::SIGKILL) };
    let reaped = w.until(
        EVERY,
        Duration::from_nanos(REAP_AFTER_NS) + Duration::from_secs(5),
        |w| w.with_pid(orphan).is_none(),
    );
    assert!(reaped, "still watched: {:?}", state_of(orphan));
    assert_eq!(state_of(orphan), None, "reaped: no zombie left");
    let sleep = w
        .out
        .iter()
        .find(|e| e.ident.pid != root_pid && &*e.ident.name == "sleep");
    assert!(sleep.is_none(), "{:?}", w.out);
    drop(root);
    let _ = std::fs::remove_dir_all(&dir);
}
