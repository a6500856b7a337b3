//! Many watched processes under a low descriptor limit: the soft `RLIMIT_NOFILE` is raised to
//! the hard one (which the test lowers first, for its whole process: hence its own binary), the
//! processes that fit keep their descriptors, the rest are read by path, every one is read, and
//! one warning says so. Processes read by path still end when they end.
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use hostseries_core::clock::mono_ns;
use hostseries_core::intern::Interner;
use hostseries_core::procs::{nofile_limits, ProcEntry, ProcWatcher, WatchSpec, PROC_FIELDS};
use hostseries_core::store::SampleError;

const SLEEPS: usize = 60;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count() - 1
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        for c in children(self.0.id()) {
            // SAFETY: signalling processes this test started.
            unsafe { libc::kill(c as libc::pid_t, libc::SIGKILL) };
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn past_the_descriptor_limit_processes_are_read_by_path_with_one_warning() {
    // Soft 64, hard 128: the watcher raises the soft one to 128, which still cannot hold
    // 61 processes × 4 descriptors.
    let low = libc::rlimit {
        rlim_cur: 64,
        rlim_max: 128,
    };
    // SAFETY: a valid pointer to a local rlimit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &low) }, 0);
    let tree = Reaped(
        Command::new("sh")
            .args([
                "-c",
                &format!("for i in $(seq {SLEEPS}); do sleep 60 & done; wait"),
            ])
            .spawn()
            .unwrap(),
    );
    let root = tree.0.id();
    let t0 = Instant::now();
    while children(root).len() < SLEEPS {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the sleeps did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let mut w = ProcWatcher::new(Path::new("/proc"));
    w.add(WatchSpec::parse(&format!("tree:{root}")).unwrap());
    let (mut names, mut out, mut errors) = (
        Interner::default(),
        Vec::<ProcEntry>::new(),
        Vec::<SampleError>::new(),
    );
    w.read(mono_ns(), &mut names, &mut out, &mut errors);
    assert_eq!(
        nofile_limits(),
        (128, 128),
        "the soft limit raised to the hard one"
    );
    assert_eq!(out.len(), SLEEPS + 1, "every process is watched");
    assert!(open_fds() < 128, "{} descriptors open", open_fds());
    let warned: Vec<_> = errors
        .iter()
        .filter(|e| e.message.contains("descriptor limit"))
        .collect();
    assert_eq!(warned.len(), 1, "{errors:?}");
    assert_eq!(warned[0].source, "processes");
    assert!(
        warned[0].message.contains("RLIMIT_NOFILE 128"),
        "{}",
        warned[0].message
    );

    // Read each tick, kept or not: the same values, no more warnings.
    std::thread::sleep(Duration::from_millis(20));
    errors.clear();
    w.read(mono_ns(), &mut names, &mut out, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    let state = PROC_FIELDS.iter().position(|f| f.0 == "state").unwrap();
    let threads = PROC_FIELDS
        .iter()
        .position(|f| f.0 == "num_threads")
        .unwrap();
    let rss = PROC_FIELDS.iter().position(|f| f.0 == "rss_kb").unwrap();
    for e in &out {
        // Sleeping, or (a child just forked, on a busy machine) still running or in exec.
        assert!(
            b"SRD".contains(&(e.values[state] as u8)),
            "state {} of {:?}",
            e.values[state],
            e.ident
        );
        assert_eq!(e.values[threads], 1);
        assert!(e.values[rss] > 0);
    }

    // The last sleeps started were the last watched, read by path: they end when killed.
    let mut last = children(root);
    last.sort_unstable();
    for &p in &last[SLEEPS - 5..] {
        // SAFETY: signalling processes this test started.
        unsafe { libc::kill(p as libc::pid_t, libc::SIGKILL) };
    }
    let t0 = Instant::now();
    loop {
        w.read(mono_ns(), &mut names, &mut out, &mut errors);
        if out.len() == SLEEPS - 4 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "{} watched",
            out.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(out
        .iter()
        .all(|e| !last[SLEEPS - 5..].contains(&e.ident.pid)));
}
