//! Per-sample CPU cost of the native sampler path, for `bench/sampler.mjs` (`npm run bench`).
//!
//! ```text
//! bench_sample loop N            what the sampling thread does per tick (clocks, ProcReader::read,
//!                                layout, store push under the mutex), N times back to back
//! bench_sample paced HZ SECONDS  the real `Sampler` thread at HZ for SECONDS (process CPU, the
//!                                main thread only sleeps)
//! bench_sample parts N           the same loop cut into stages: pread only (ProcFile), parse
//!                                per file (over text read once), layout + push
//! ```
//! Each prints one JSON line; CPU is getrusage(RUSAGE_SELF) user + sys around the loop only.
use std::sync::Mutex;
use std::time::Duration;

use hostseries_core::clock::{mono_ns, wall_ns};
use hostseries_core::intern::Interner;
use hostseries_core::layout::LayoutTracker;
use hostseries_core::parse::parse_into;
use hostseries_core::procfile::ProcFile;
use hostseries_core::store::Store;
use hostseries_core::{Metric, MetricSet, ProcReader, Sampler, SamplerConfig, Snapshot};

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
fn loop_mode(n: u64) -> String {
    let store = Mutex::new(Store::new(4096));
    let mut reader = ProcReader::new(MetricSet::all());
    let mut snap = Snapshot::default();
    let mut layouts = LayoutTracker::default();
    let mut errors = Vec::new();
    let mut skipped_total = 0u64;
    let mut tick = |store: &Mutex<Store>| {
        let wall = wall_ns();
        let mono = mono_ns();
        let skipped = reader.read(&mut snap, &mut errors);
        let layout = layouts.for_snapshot(&snap).clone();
        let mut st = store.lock().unwrap();
        st.push(&layout, wall, mono, &snap, &mut errors);
        skipped_total += u64::from(skipped);
    };
    // Warm-up: the store fills once, so the measured loop runs in steady state (a full store
    // recycles the oldest record's buffer, as a store drained by JS recycles drained ones).
    for _ in 0..4096 {
        tick(&store);
    }
    let a = cpu();
    for _ in 0..n {
        tick(&store);
    }
    let b = cpu();
    std::hint::black_box(&store);
    json(n, a, b, &format!(",\"skipped_lines\":{skipped_total}"))
}

fn paced_mode(hz: f64, secs: f64) -> String {
    let cfg = SamplerConfig {
        interval: Duration::from_secs_f64(1.0 / hz),
        capacity: 1 << 16,
        metrics: MetricSet::all(),
    };
    let a = cpu();
    let mut s = Sampler::start(cfg, None).expect("sampler");
    std::thread::sleep(Duration::from_secs_f64(secs));
    let batch = s.stop();
    let b = cpu();
    json(
        batch.len() as u64,
        a,
        b,
        &format!(",\"missed_ticks\":{}", batch.missed_ticks),
    )
}

fn stage<F: FnMut()>(name: &str, n: u64, mut f: F) -> String {
    for _ in 0..(n / 10).max(10) {
        f();
    }
    let a = cpu();
    for _ in 0..n {
        f();
    }
    let b = cpu();
    format!(
        "\"{name}\":{{\"cpu_ns\":{},\"clock_cpu_ns\":{}}}",
        (b.user - a.user) + (b.sys - a.sys),
        b.clock - a.clock
    )
}

/// The per-tick body cut into stages, each looped `n` times on its own.
fn parts_mode(n: u64) -> String {
    let mut out = Vec::new();
    // 1. I/O only: ProcFile::read of the six files (what the floor does).
    let mut files: Vec<ProcFile> = Metric::ALL
        .iter()
        .map(|m| ProcFile::new(m.path()))
        .collect();
    out.push(stage("io", n, || {
        for f in &mut files {
            std::hint::black_box(f.read().unwrap().len());
        }
    }));
    // 2. Parse only, per file, over text read once.
    let texts: Vec<(Metric, Vec<u8>)> = Metric::ALL
        .iter()
        .map(|&m| (m, std::fs::read(m.path()).unwrap()))
        .collect();
    for (m, text) in &texts {
        let mut snap = Snapshot::default();
        let mut names = Interner::default();
        out.push(stage(&format!("parse_{}", m.name()), n, || {
            std::hint::black_box(parse_into(*m, text, &mut snap, &mut names));
        }));
    }
    // 3. Layout check + store push (encode), over one parsed snapshot.
    let mut reader = ProcReader::new(MetricSet::all());
    let mut snap = Snapshot::default();
    let mut errors = Vec::new();
    reader.read(&mut snap, &mut errors);
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(4096);
    out.push(stage("layout_push", n, || {
        let l = layouts.for_snapshot(&snap).clone();
        store.push(&l, 0, 0, &snap, &mut errors);
    }));
    // 4. Clocks + mutex, as the thread does per tick.
    let m = Mutex::new(0u64);
    out.push(stage("clocks_mutex", n, || {
        let w = wall_ns();
        let t = mono_ns();
        *m.lock().unwrap() += w ^ t;
    }));
    // 5. Everything (ProcReader::read + layout + push), for the sum check.
    let mut reader = ProcReader::new(MetricSet::all());
    let mut snap = Snapshot::default();
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(4096);
    out.push(stage("read_layout_push", n, || {
        reader.read(&mut snap, &mut errors);
        let l = layouts.for_snapshot(&snap).clone();
        store.push(&l, 0, 0, &snap, &mut errors);
    }));
    format!("{{\"iters\":{n},{}}}", out.join(","))
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
        Some("parts") => parts_mode(num(1) as u64),
        _ => usage(),
    };
    println!("{line}");
}

fn usage() -> ! {
    eprintln!("usage: bench_sample loop N | paced HZ SECONDS | parts N");
    std::process::exit(2)
}
