//! Per-sample CPU cost of the native sampler path, for `bench/sampler.mjs` (`npm run bench`).
//!
//! ```text
//! bench_sample loop N            what the sampling thread does per tick (clocks, ProcReader::read,
//!                                layout, store push under the mutex), N times back to back
//! bench_sample paced HZ SECONDS  the real `Sampler` thread at HZ for SECONDS, drained every
//!                                100 ms by the main thread; CPU of the sampling thread alone
//!                                (/proc/self/task/*/schedstat, ns) and of the whole process
//! bench_sample pingpong B        for each byte `g` on stdin take B samples (as `loop`) and
//!                                answer `k`; on `q` print the CPU of every burst (the bench
//!                                alternates bursts with `bench/floor.c pingpong`)
//! bench_sample parse N          the parsers alone over in-memory copies of the files, N times
//! bench_sample parts N [HZ]      the tick cut into stages, each timed in place with the thread
//!                                CPU clock: pread and parse per file, layout + store push; back
//!                                to back, or paced at HZ
//! ```
//! Each prints one JSON line; CPU is getrusage(RUSAGE_SELF) user + sys around the loop only.
use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hostseries_core::clock::{mono_ns, wall_ns};
use hostseries_core::intern::Interner;
use hostseries_core::layout::LayoutTracker;
use hostseries_core::parse::{parse_into, Incremental};
use hostseries_core::procfile::ProcFile;
use hostseries_core::store::Store;
use hostseries_core::{Metric, MetricSet, ProcReader, Sampler, SamplerConfig, Snapshot};

/// Counts heap allocations, to check that a steady-state tick allocates nothing.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: AllocLayout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: AllocLayout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: AllocLayout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, Copy)]
struct Cpu {
    user: u64,
    sys: u64,
    clock: u64,
    wall: u64,
}

fn tv(t: libc::timeval) -> u64 {
    t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000
}

fn clock(c: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(c, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn cpu() -> Cpu {
    // SAFETY: zeroed rusage is a valid out-value.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid out-pointer.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    Cpu {
        user: tv(r.ru_utime),
        sys: tv(r.ru_stime),
        clock: clock(libc::CLOCK_PROCESS_CPUTIME_ID),
        wall: mono_ns(),
    }
}

fn json(iters: u64, a: Cpu, b: Cpu, extra: &str) -> String {
    let (user, sys) = (b.user - a.user, b.sys - a.sys);
    format!(
        "{{\"iters\":{iters},\"cpu_ns\":{},\"user_ns\":{user},\"sys_ns\":{sys},\"clock_cpu_ns\":{},\"wall_ns\":{}{extra}}}",
        user + sys,
        b.clock - a.clock,
        b.wall - a.wall
    )
}

/// The sampling thread's per-tick body (sampler.rs `run`), minus the sleep and the JS notify.
struct Ticker {
    store: Mutex<Store>,
    reader: ProcReader,
    layouts: LayoutTracker,
    errors: Vec<hostseries_core::SampleError>,
    skipped: u64,
}

impl Ticker {
    fn new() -> Ticker {
        let mut t = Ticker {
            store: Mutex::new(Store::new(4096)),
            reader: ProcReader::new(MetricSet::all()),
            layouts: LayoutTracker::default(),
            errors: Vec::new(),
            skipped: 0,
        };
        // Warm-up: the store fills once, so measured ticks run in steady state (a full store
        // recycles the oldest record's buffer, as a store drained by JS recycles drained ones).
        for _ in 0..4096 {
            t.tick();
        }
        t
    }

    #[inline(never)]
    fn tick(&mut self) {
        let wall = wall_ns();
        let mono = mono_ns();
        let skipped = self.reader.read(&mut self.errors);
        let snap = self.reader.snapshot();
        let layout = self.layouts.for_snapshot(snap).clone();
        let mut st = self.store.lock().unwrap();
        st.push(&layout, wall, mono, snap, &mut self.errors);
        self.skipped += u64::from(skipped);
    }
}

fn loop_mode(n: u64) -> String {
    let mut t = Ticker::new();
    let allocs = ALLOCS.load(Ordering::Relaxed);
    let a = cpu();
    for _ in 0..n {
        t.tick();
    }
    let b = cpu();
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs;
    std::hint::black_box(&t.store);
    json(
        n,
        a,
        b,
        &format!(",\"skipped_lines\":{},\"allocations\":{allocs}", t.skipped),
    )
}

fn rusage_ns() -> u64 {
    let c = cpu();
    c.user + c.sys
}

fn pingpong_mode(burst: u64) -> String {
    use std::io::{Read, Write};
    let mut t = Ticker::new();
    let mut cpu_ns = Vec::new();
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut c = [0u8];
    while stdin.read_exact(&mut c).is_ok() && c[0] == b'g' {
        let a = rusage_ns();
        for _ in 0..burst {
            t.tick();
        }
        cpu_ns.push(rusage_ns() - a);
        stdout
            .write_all(b"k")
            .and_then(|_| stdout.flush())
            .expect("stdout");
    }
    let list: Vec<String> = cpu_ns.iter().map(u64::to_string).collect();
    format!("{{\"burst\":{burst},\"cpu_ns\":[{}]}}", list.join(","))
}

/// On-CPU time (ns) of this process's thread whose name starts with `prefix`.
fn thread_run_ns(prefix: &str) -> Option<u64> {
    for e in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = e.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
        if comm.trim_end().starts_with(prefix) {
            let ss = std::fs::read_to_string(dir.join("schedstat")).ok()?;
            return ss.split_whitespace().next()?.parse().ok();
        }
    }
    None
}

fn paced_mode(hz: f64, secs: f64) -> String {
    let cfg = SamplerConfig {
        interval: Duration::from_secs_f64(1.0 / hz),
        capacity: 4096,
        metrics: MetricSet::all(),
        ..SamplerConfig::default()
    };
    let mut s = Sampler::start(cfg, None).expect("sampler");
    // Let it start and take its first samples (layouts, name table), then measure.
    std::thread::sleep(Duration::from_millis(300));
    s.drain();
    let mut n = 0;
    let t0 = thread_run_ns("hostseries-sam").expect("sampling thread");
    let a = cpu();
    let end = mono_ns() + (secs * 1e9) as u64;
    while mono_ns() < end {
        std::thread::sleep(Duration::from_millis(100));
        n += s.drain().len() as u64;
    }
    let t1 = thread_run_ns("hostseries-sam").expect("sampling thread");
    let b = cpu();
    n += s.drain().len() as u64;
    let batch = s.stop();
    json(
        n,
        a,
        b,
        &format!(
            ",\"thread_ns\":{},\"missed_ticks\":{}",
            t1 - t0,
            batch.missed_ticks
        ),
    )
}

fn thread_cpu_ns() -> u64 {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// The tick body cut into stages and timed in place (thread CPU clock around each stage): pread
/// and parse per file, then layout + store push. Back to back, or paced at `hz` on absolute
/// deadlines (caches as cold as the sampling thread finds them).
fn parts_mode(n: u64, hz: Option<f64>) -> String {
    let mut files: Vec<(Metric, ProcFile, Incremental)> = Metric::ALL
        .iter()
        .map(|&m| (m, ProcFile::new(m.path()), Incremental::default()))
        .collect();
    let mut names = Interner::default();
    let mut snap = Snapshot::default();
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(4096);
    let mut errors = Vec::new();
    let mut io = [0u64; 6];
    let mut parse = [0u64; 6];
    let mut push = 0u64;
    let mut tick = |measure: bool| {
        for (i, (m, f, inc)) in files.iter_mut().enumerate() {
            let t0 = thread_cpu_ns();
            let (text, prev) = f.read_pair().expect("read");
            let t1 = thread_cpu_ns();
            inc.parse(*m, text, prev, &mut snap, &mut names);
            snap.present.insert(*m);
            let t2 = thread_cpu_ns();
            if measure {
                io[i] += t1 - t0;
                parse[i] += t2 - t1;
            }
        }
        let t0 = thread_cpu_ns();
        let l = layouts.for_snapshot(&snap).clone();
        store.push(&l, 0, 0, &snap, &mut errors);
        if measure {
            push += thread_cpu_ns() - t0;
        }
    };
    for _ in 0..4096 {
        tick(false);
    }
    let interval = hz.map(|h| (1e9 / h) as u64);
    let start = mono_ns();
    for k in 1..=n {
        if let Some(iv) = interval {
            let due = start + k * iv;
            let ts = libc::timespec {
                tv_sec: (due / 1_000_000_000) as libc::time_t,
                tv_nsec: (due % 1_000_000_000) as libc::c_long,
            };
            // SAFETY: valid timespec; a null remainder is allowed with TIMER_ABSTIME.
            while unsafe {
                libc::clock_nanosleep(
                    libc::CLOCK_MONOTONIC,
                    libc::TIMER_ABSTIME,
                    &ts,
                    std::ptr::null_mut(),
                )
            } == libc::EINTR
            {}
        }
        tick(true);
    }
    // What one reading of the thread clock adds to a stage, to subtract.
    let c0 = thread_cpu_ns();
    for _ in 0..10_000 {
        std::hint::black_box(thread_cpu_ns());
    }
    let clock_ns = (thread_cpu_ns() - c0) / 10_000;
    let per = |x: u64| (x / n).saturating_sub(clock_ns);
    let list = |v: &[u64; 6]| {
        Metric::ALL
            .iter()
            .zip(v)
            .map(|(m, &x)| format!("\"{}\":{}", m.name(), per(x)))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{{\"iters\":{n},\"hz\":{},\"clock_ns\":{clock_ns},\"io\":{{{}}},\"parse\":{{{}}},\"layout_push\":{}}}",
        hz.unwrap_or(0.0),
        list(&io),
        list(&parse),
        per(push)
    )
}

/// The parsers alone over in-memory copies of each file, N times: ns per parse, the fastest of
/// 15 rounds (no kernel work and the least noise, so it resolves parser changes the pread
/// noise hides). `full`: the whole text each time; `changed`: two reads 10 ms apart, each
/// parsed knowing the other (only the lines that differ are re-parsed, as the reader does).
fn parse_mode(n: u64) -> String {
    let mut full = Vec::new();
    let mut changed = Vec::new();
    let best = |f: &mut dyn FnMut()| {
        (0..15)
            .map(|_| {
                let t0 = thread_cpu_ns();
                for _ in 0..n {
                    f();
                }
                (thread_cpu_ns() - t0) / n
            })
            .min()
            .unwrap_or(0)
    };
    for m in Metric::ALL {
        let mut file = ProcFile::new(m.path());
        let a = file.read().expect("read").to_vec();
        std::thread::sleep(Duration::from_millis(10));
        let b = file.read().expect("read").to_vec();
        let mut names = Interner::default();
        let mut snap = Snapshot::default();
        let ns = best(&mut || {
            parse_into(m, std::hint::black_box(&a), &mut snap, &mut names);
        });
        full.push(format!("\"{}\":{ns}", m.name()));
        let mut inc = Incremental::default();
        inc.parse(m, &a, b"", &mut snap, &mut names);
        let mut flip = false;
        let ns = best(&mut || {
            let (cur, prev) = if flip { (&a, &b) } else { (&b, &a) };
            flip = !flip;
            inc.parse(m, std::hint::black_box(cur), prev, &mut snap, &mut names);
        });
        changed.push(format!("\"{}\":{ns}", m.name()));
    }
    format!(
        "{{\"iters\":{n},\"full_ns\":{{{}}},\"changed_ns\":{{{}}}}}",
        full.join(","),
        changed.join(",")
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
        Some("loop") => loop_mode(num(1) as u64),
        Some("paced") => paced_mode(num(1), num(2)),
        Some("pingpong") => pingpong_mode(num(1) as u64),
        Some("parse") => parse_mode(num(1) as u64),
        Some("parts") => parts_mode(num(1) as u64, args.get(2).map(|_| num(2))),
        _ => usage(),
    };
    println!("{line}");
}

fn usage() -> ! {
    eprintln!(
        "usage: bench_sample loop N | paced HZ SECONDS | pingpong B | parse N | parts N [HZ]"
    );
    std::process::exit(2)
}
