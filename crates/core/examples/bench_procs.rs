//! CPU cost of reading watched processes, for `bench/procs.mjs` (beside `bench/procs_floor.c`).
//!
//! ```text
//! bench_procs paced HZ SECONDS PHASE_NS ITEM...
//!                        what the sampling thread does for `watch` each tick
//!                        (`ProcWatcher::read`: list /proc, look at new PIDs, pread and parse
//!                        stat, status, io of each watched process), HZ times a second on
//!                        absolute CLOCK_MONOTONIC deadlines PHASE_NS past each multiple of the
//!                        interval, for SECONDS; prints one JSON line (the bench reads the CPU
//!                        from outside, /proc/<pid>/task/*/schedstat, over its own windows)
//! bench_procs parse N    the parsers alone over this process's own stat, status and io texts,
//!                        N times; thread CPU ns per text
//! bench_procs list N     the /proc listing alone, N times each in turn: getdents64 on a kept
//!                        descriptor (`PidLister`) vs `std::fs::read_dir`; thread CPU ns each;
//!                        and a look at one PID (open, read, close its stat), hot caches
//! ```
use std::path::Path;

use hostseries_core::clock::{mono_ns, sleep_until};
use hostseries_core::intern::Interner;
use hostseries_core::procs::{PidLister, ProcWatcher, WatchSpec};

fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn paced(hz: f64, secs: f64, phase: u64, items: &[String]) -> String {
    let mut w = ProcWatcher::new(Path::new("/proc"));
    for i in items {
        w.add(WatchSpec::parse(i).unwrap_or_else(|e| {
            eprintln!("bench_procs: {e}");
            std::process::exit(2)
        }));
    }
    let (mut names, mut out, mut errors) = (Interner::default(), Vec::new(), Vec::new());
    let interval = (1e9 / hz) as u64;
    let n = (hz * secs) as u64;
    let base = (mono_ns() / interval + 1) * interval + phase % interval;
    let (mut shapes, mut min_entries, mut max_entries) = (0u64, usize::MAX, 0);
    let mut c0 = thread_cpu_ns();
    let mut k0 = w.counters();
    for i in 0..n {
        if i == 2 {
            // The first ticks open every watched process's files: start-up, not steady state.
            c0 = thread_cpu_ns();
            k0 = w.counters();
        }
        sleep_until(base + i * interval);
        shapes += u64::from(w.read(mono_ns(), &mut names, &mut out, &mut errors));
        min_entries = min_entries.min(out.len());
        max_entries = max_entries.max(out.len());
    }
    let cpu = thread_cpu_ns() - c0;
    let n = n.saturating_sub(2);
    let k = w.counters();
    let errs: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| format!("{:?}", format!("{}: {}", e.source, e.message)))
        .collect();
    format!(
        "{{\"iters\":{n},\"thread_cpu_ns\":{cpu},\"entries_min\":{min_entries},\"entries_max\":{max_entries},\
         \"shape_changes\":{shapes},\"listings\":{},\"listings_skipped\":{},\"looks\":{},\"errors\":{},\"first_errors\":[{}]}}",
        k.listings - k0.listings,
        k.listings_skipped - k0.listings_skipped,
        k.looks - k0.looks,
        errors.len(),
        errs.join(",")
    )
}

fn list(n: u64) -> String {
    let mut lister = PidLister::open(Path::new("/proc")).expect("/proc");
    let mut pids = Vec::new();
    let (mut ours, mut std_ns) = (0u64, 0u64);
    let mut count = 0;
    for _ in 0..n {
        let c0 = thread_cpu_ns();
        lister.list(&mut pids).expect("list");
        let c1 = thread_cpu_ns();
        let v: Vec<u32> = std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        let c2 = thread_cpu_ns();
        ours += c1 - c0;
        std_ns += c2 - c1;
        count = v.len().max(pids.len());
    }
    // What looking at one new PID costs: open its stat, read it, close it.
    use std::io::Read;
    let mut buf = vec![0u8; 1024];
    let (mut looks, mut look_ns) = (0u64, 0u64);
    for _ in 0..(n / 100).max(1) {
        for &pid in &pids {
            let c0 = thread_cpu_ns();
            if let Ok(mut f) = std::fs::File::open(format!("/proc/{pid}/stat")) {
                let _ = f.read(&mut buf);
            }
            look_ns += thread_cpu_ns() - c0;
            looks += 1;
        }
    }
    format!(
        "{{\"iters\":{n},\"pids\":{count},\"getdents_ns\":{},\"read_dir_ns\":{},\"look_ns\":{}}}",
        ours / n.max(1),
        std_ns / n.max(1),
        look_ns / looks.max(1)
    )
}

fn parse(n: u64) -> String {
    use hostseries_core::procs::parse::{parse_io, parse_stat, parse_status};
    let texts = ["stat", "status", "io"].map(|f| std::fs::read(format!("/proc/self/{f}")).unwrap());
    let mut per = [0u64; 3];
    let mut sink = 0u64;
    for (k, t) in texts.iter().enumerate() {
        let c0 = thread_cpu_ns();
        for _ in 0..n {
            let t = std::hint::black_box(&t[..]);
            sink += match k {
                0 => parse_stat(t).map_or(0, |s| s.1.utime),
                1 => parse_status(t).rss_kb,
                _ => parse_io(t).rchar,
            };
        }
        per[k] = (thread_cpu_ns() - c0) / n.max(1);
    }
    std::hint::black_box(sink);
    format!(
        "{{\"iters\":{n},\"stat_ns\":{},\"status_ns\":{},\"io_ns\":{},\"status_bytes\":{}}}",
        per[0],
        per[1],
        per[2],
        texts[1].len()
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize| -> f64 {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| usage())
    };
    let line = match args.first().map(String::as_str) {
        Some("paced") if args.len() >= 5 => paced(num(1), num(2), num(3) as u64, &args[4..]),
        Some("list") => list(num(1) as u64),
        Some("parse") => parse(num(1) as u64),
        _ => usage(),
    };
    println!("{line}");
}

fn usage() -> ! {
    eprintln!("usage: bench_procs paced HZ SECONDS PHASE_NS ITEM... | list N");
    std::process::exit(2)
}
