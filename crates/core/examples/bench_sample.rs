//! Per-sample CPU cost of the native sampler path, for `bench/sampler.mjs` (`npm run bench`).
//!
//! ```text
//! bench_sample loop N            what the sampling thread does per tick (clocks, ProcReader::read,
//!                                layout, store push under the mutex), N times back to back
//! bench_sample paced HZ SECONDS [PHASE_NS]
//!                                the real `Sampler` thread at HZ for SECONDS, drained every
//!                                100 ms by the main thread; CPU of the sampling thread alone
//!                                (/proc/self/task/*/schedstat, ns) and of the whole process;
//!                                with PHASE_NS started that long after a multiple of the
//!                                interval
//! bench_sample pingpong B        for each byte `g` on stdin take B samples (as `loop`) and
//!                                answer `k`; on `q` print the CPU of every burst (the bench
//!                                alternates bursts with `bench/floor.c pingpong`)
//! bench_sample parse N          the parsers alone over in-memory copies of the files, N times
//! bench_sample parts N [HZ]      the tick cut into stages, each timed in place with the thread
//!                                CPU clock: pread and parse per file, layout + store push; back
//!                                to back, or paced at HZ
//!
//! Where a paced tick's cost goes (development tools; each prints one JSON line):
//! bench_sample ladder STEP HZ S  the paced tick built up step by step (see `ladder_mode`), run
//!                                beside `floor paced HZ S PHASE_NS` to see what each step adds
//! bench_sample waits HZ N        clock_nanosleep vs a mutex + condvar loop vs `Alarm`, in turn
//! bench_sample bufs HZ N         one buffer per file vs two swapped (`read_pair`), in turn
//! bench_sample ab WHAT HZ N      the reader's tick with and without WHAT (`prefetch`: the texts,
//!                                `snap`: + the snapshot, `touch`: texts loaded untimed), in turn
//! bench_sample coldparse N [F]   the incremental parse of each file (or F) after the caches are
//!                                written through
//! ```
//! Each prints one JSON line; CPU is getrusage(RUSAGE_SELF) user + sys around the loop only.
use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use hostseries_core::clock::{mono_ns, sleep_until, wall_ns};
use hostseries_core::intern::Interner;
use hostseries_core::layout::LayoutTracker;
use hostseries_core::parse::{parse_into, Incremental};
use hostseries_core::procfile::ProcFile;
use hostseries_core::store::{SampleRef, Store};
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
    values: Vec<u64>,
    skipped: u64,
}

impl Ticker {
    fn new() -> Ticker {
        let mut t = Ticker {
            store: Mutex::new(Store::new(4096)),
            reader: ProcReader::new(MetricSet::all()),
            layouts: LayoutTracker::default(),
            errors: Vec::new(),
            values: Vec::new(),
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
        // As the sampling thread does: encode once, then hand the sample to the store.
        self.values.clear();
        layout.encode(snap, &mut self.values);
        let mut st = self.store.lock().unwrap();
        st.push_sample(SampleRef {
            layout: &layout,
            seq: 0,
            wall_ns: wall,
            mono_ns: mono,
            values: &self.values,
            errors: &self.errors,
        });
        self.errors.clear();
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

fn paced_mode(hz: f64, secs: f64, phase: Option<u64>) -> String {
    if let Some(phase) = phase {
        // Start on a known phase (the thread's tick k is due at its start + k * interval): the
        // bench puts `floor paced` half a period away, so neither finds the kernel's /proc
        // paths just warmed by the other more often than the other does.
        let iv = (1e9 / hz) as u64;
        sleep_until((mono_ns() / iv + 1) * iv + phase % iv);
    }
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

/// The `Sampler` thread's wait before the `Alarm`: a mutex + `Condvar::wait_timeout` loop until
/// `due` (CLOCK_MONOTONIC ns) or the gate opens.
fn condvar_wait(gate: &Mutex<bool>, wake: &std::sync::Condvar, due: u64) {
    let mut g = gate.lock().unwrap();
    loop {
        let now = mono_ns();
        if *g || now >= due {
            break;
        }
        g = wake
            .wait_timeout(g, Duration::from_nanos(due - now))
            .unwrap()
            .0;
    }
}

/// The paced tick built up step by step, each step one run (the bench runs each beside `floor
/// paced`), to see which part of the tick costs what at a real cadence, where caches are cold:
/// 0 the six preads into one kept buffer each (the floor's work, in Rust), 1 the same through
/// `read_pair` (two buffers per file, as the reader keeps), 2 `ProcReader::read` (+ the
/// incremental parse), 3 the whole tick body (+ clocks, layout, store push), all on absolute
/// `clock_nanosleep` deadlines; 4 the same tick body waiting on a `Condvar` with a timeout
/// under a mutex, as the `Sampler` thread does. CPU of the looping thread (thread CPU clock).
fn ladder_mode(step: u32, hz: f64, secs: f64) -> String {
    let interval = (1e9 / hz) as u64;
    let n = (hz * secs) as u64;
    let mut files: Vec<ProcFile> = Metric::ALL
        .iter()
        .map(|m| ProcFile::new(m.path()))
        .collect();
    let mut t = Ticker::new();
    let wake = std::sync::Condvar::new();
    let gate = Mutex::new(false);
    let mut bytes = 0usize;
    let (mut full, mut names) = (Snapshot::default(), Interner::default());
    let alarm = hostseries_core::clock::Alarm::new();
    let mut body = |t: &mut Ticker| match step {
        0 => {
            for f in &mut files {
                bytes += f.read().expect("read").len();
            }
        }
        1 => {
            for f in &mut files {
                bytes += f.read_pair().expect("read").0.len();
            }
        }
        2 => {
            t.skipped += u64::from(t.reader.read(&mut t.errors));
        }
        5 => {
            for (f, m) in files.iter_mut().zip(Metric::ALL) {
                let text = f.read().expect("read");
                parse_into(m, text, &mut full, &mut names);
            }
        }
        _ => t.tick(),
    };
    // Ticks at a multiple of the interval: the bench runs `floor paced` half a period away.
    let start = (mono_ns() / interval + 1) * interval;
    let (mut wait_ns, mut body_ns) = (0, 0);
    for k in 1..=n {
        let due = start + k * interval;
        let c0 = thread_cpu_ns();
        if step == 6 {
            alarm.sleep_until(due);
        } else if step == 4 {
            condvar_wait(&gate, &wake, due);
        } else {
            sleep_until(due);
        }
        let c1 = thread_cpu_ns();
        body(&mut t);
        let c2 = thread_cpu_ns();
        wait_ns += c1 - c0;
        body_ns += c2 - c1;
    }
    let thread_ns = wait_ns + body_ns;
    std::hint::black_box((bytes, &t.store));
    format!("{{\"step\":{step},\"iters\":{n},\"thread_ns\":{thread_ns},\"wait_ns\":{wait_ns},\"body_ns\":{body_ns}}}")
}

/// Three ways to wait for a deadline, tick by tick in turn (so all see the same machine):
/// `clock_nanosleep(TIMER_ABSTIME)` as the floor does, a mutex + `Condvar::wait_timeout` loop
/// (the `Sampler` thread's wait before the `Alarm`), and `Alarm::sleep_until` (one futex wait
/// on an absolute deadline, the `Sampler` thread's wait now). Between waits a whole tick body
/// runs, so caches are as the sampling thread finds them. Thread CPU per wait, ns.
fn waits_mode(hz: f64, n: u64) -> String {
    let interval = (1e9 / hz) as u64;
    let mut t = Ticker::new();
    let wake = std::sync::Condvar::new();
    let gate = Mutex::new(false);
    let alarm = hostseries_core::clock::Alarm::new();
    let mut waits: [Vec<u64>; 3] = Default::default();
    let start = mono_ns();
    for k in 1..=3 * n {
        let due = start + k * interval;
        let kind = (k % 3) as usize;
        let c0 = thread_cpu_ns();
        match kind {
            0 => sleep_until(due),
            1 => condvar_wait(&gate, &wake, due),
            _ => {
                alarm.sleep_until(due);
            }
        }
        waits[kind].push(thread_cpu_ns() - c0);
        t.tick();
    }
    let stats = |v: &mut Vec<u64>| {
        let mean = v.iter().sum::<u64>() / v.len() as u64;
        v.sort_unstable();
        format!("{{\"mean\":{mean},\"median\":{}}}", v[v.len() / 2])
    };
    let [s, c, a] = &mut waits;
    format!(
        "{{\"iters\":{n},\"clock_nanosleep\":{},\"condvar\":{},\"alarm\":{}}}",
        stats(s),
        stats(c),
        stats(a)
    )
}

/// One buffer per file (`ProcFile::read`, as the floor) or two swapped (`read_pair`, as the
/// reader keeps for the incremental parse), tick by tick in turn at `hz`: thread CPU of the
/// six preads, ns per tick, and of a compare of each new text with the previous one.
fn bufs_mode(hz: f64, n: u64) -> String {
    let interval = (1e9 / hz) as u64;
    let mut one: Vec<ProcFile> = Metric::ALL
        .iter()
        .map(|m| ProcFile::new(m.path()))
        .collect();
    let mut two: Vec<ProcFile> = Metric::ALL
        .iter()
        .map(|m| ProcFile::new(m.path()))
        .collect();
    let (mut a, mut b, mut cmp, mut cmp2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut same = 0usize;
    let mut texts = Vec::with_capacity(Metric::ALL.len());
    let start = mono_ns();
    for k in 1..=2 * n {
        sleep_until(start + k * interval);
        let c0 = thread_cpu_ns();
        if k % 2 == 0 {
            for f in &mut one {
                std::hint::black_box(f.read().expect("read").len());
            }
            a.push(thread_cpu_ns() - c0);
        } else {
            texts.clear();
            for f in &mut two {
                let (cur, prev) = f.read_pair().expect("read");
                texts.push((cur.as_ptr(), cur.len(), prev.as_ptr(), prev.len()));
            }
            let c1 = thread_cpu_ns();
            let sum = |v: &[u8]| v.iter().map(|&x| x as usize).sum::<usize>();
            for &(c, cl, _, _) in &texts {
                // SAFETY: the buffers live in `two`, untouched since the reads above.
                same += sum(unsafe { std::slice::from_raw_parts(c, cl) });
            }
            let c2 = thread_cpu_ns();
            for &(_, _, p, pl) in &texts {
                // SAFETY: as above.
                same += sum(unsafe { std::slice::from_raw_parts(p, pl) });
            }
            let c3 = thread_cpu_ns();
            b.push(c1 - c0);
            cmp.push(c2 - c1);
            cmp2.push(c3 - c2);
        }
    }
    let med = |v: &mut Vec<u64>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    std::hint::black_box(same);
    format!(
        "{{\"iters\":{n},\"read_median\":{},\"read_pair_median\":{},\"scan_cur_median\":{},\"scan_prev_median\":{}}}",
        med(&mut a),
        med(&mut b),
        med(&mut cmp),
        med(&mut cmp2)
    )
}

/// A/B of one change to the tick body, tick by tick in turn at `hz` (so both see the same
/// machine): the reader's work (preads + incremental parse) + layout + store push, with `what`
/// on in even ticks and off in odd ones. Thread CPU per tick, median and mean, ns.
/// `what`: `prefetch` (`ProcFile::prefetch_text` before the preads).
fn ab_mode(what: &str, hz: f64, n: u64) -> String {
    let interval = (1e9 / hz) as u64;
    let mut files: Vec<(Metric, ProcFile, Incremental)> = Metric::ALL
        .iter()
        .map(|&m| (m, ProcFile::new(m.path()), Incremental::default()))
        .collect();
    let mut names = Interner::default();
    let mut snap = Snapshot::default();
    let mut layouts = LayoutTracker::default();
    let mut store = Store::new(64);
    let mut errors = Vec::new();
    let mut tick = |on: bool| {
        if on && what == "touch" {
            // Untimed: load the texts the parse will compare against into the cache.
            let sum: usize = files
                .iter()
                .map(|(_, f, _)| f.text().iter().map(|&b| b as usize).sum::<usize>())
                .sum();
            std::hint::black_box(sum);
        }
        let c0 = thread_cpu_ns();
        if what == "snap" || what == "split" || (on && what == "prefetch") {
            for (_, f, _) in &files {
                f.prefetch_text();
            }
        }
        if on && what == "snap" {
            snap.prefetch();
        }
        if on && what == "split" {
            // Every pread first, then every parse.
            for (_, f, _) in files.iter_mut() {
                f.read_next().expect("read");
            }
            for (m, f, inc) in files.iter_mut() {
                let (text, prev) = f.pair();
                inc.parse(*m, text, prev, &mut snap, &mut names);
                snap.present.insert(*m);
            }
        } else {
            for (m, f, inc) in files.iter_mut() {
                if on && what == "prefetch1" {
                    f.prefetch_text();
                }
                let (text, prev) = f.read_pair().expect("read");
                inc.parse(*m, text, prev, &mut snap, &mut names);
                snap.present.insert(*m);
            }
        }
        let l = layouts.for_snapshot(&snap).clone();
        store.push(&l, 0, 0, &snap, &mut errors);
        thread_cpu_ns() - c0
    };
    for _ in 0..100 {
        tick(false);
    }
    let (mut on, mut off) = (Vec::new(), Vec::new());
    let start = mono_ns();
    for k in 1..=2 * n {
        sleep_until(start + k * interval);
        let c = tick(k % 2 == 0);
        if k % 2 == 0 {
            on.push(c)
        } else {
            off.push(c)
        }
    }
    let stats = |v: &mut Vec<u64>| {
        let mean = v.iter().sum::<u64>() / v.len() as u64;
        v.sort_unstable();
        format!("{{\"mean\":{mean},\"median\":{}}}", v[v.len() / 2])
    };
    format!(
        "{{\"what\":\"{what}\",\"iters\":{n},\"on\":{},\"off\":{}}}",
        stats(&mut on),
        stats(&mut off)
    )
}

/// The incremental parse of each file with the caches made cold first (a 16 MiB buffer
/// written through before each parse, as other work on the machine does between two ticks),
/// over two reads taken 10 ms apart, alternately: median thread CPU per parse, ns, of N.
fn coldparse_mode(n: u64, only: Option<&str>) -> String {
    let mut thrash = vec![0u8; 16 << 20];
    let mut out = Vec::new();
    for m in Metric::ALL
        .into_iter()
        .filter(|m| only.is_none_or(|o| o == m.name()))
    {
        let mut file = ProcFile::new(m.path());
        let a = file.read().expect("read").to_vec();
        std::thread::sleep(Duration::from_millis(10));
        let b = file.read().expect("read").to_vec();
        let (mut names, mut snap, mut inc) = (
            Interner::default(),
            Snapshot::default(),
            Incremental::default(),
        );
        inc.parse(m, &a, b"", &mut snap, &mut names);
        let mut times = Vec::new();
        for k in 0..n {
            for (i, x) in thrash.iter_mut().enumerate().step_by(64) {
                *x = x.wrapping_add(i as u8);
            }
            let (cur, prev) = if k % 2 == 0 { (&b, &a) } else { (&a, &b) };
            let t0 = thread_cpu_ns();
            inc.parse(m, std::hint::black_box(cur), prev, &mut snap, &mut names);
            times.push(thread_cpu_ns() - t0);
        }
        times.sort_unstable();
        out.push(format!("\"{}\":{}", m.name(), times[times.len() / 2]));
    }
    std::hint::black_box(&thrash);
    format!("{{\"iters\":{n},\"cold_ns\":{{{}}}}}", out.join(","))
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
        // As `ProcReader::read`: prefetch, every pread, then every parse.
        for (_, f, _) in &files {
            f.prefetch_text();
        }
        snap.prefetch();
        for (i, (_, f, _)) in files.iter_mut().enumerate() {
            let t0 = thread_cpu_ns();
            f.read_next().expect("read");
            if measure {
                io[i] += thread_cpu_ns() - t0;
            }
        }
        for (i, (m, f, inc)) in files.iter_mut().enumerate() {
            let t1 = thread_cpu_ns();
            let (text, prev) = f.pair();
            inc.parse(*m, text, prev, &mut snap, &mut names);
            snap.present.insert(*m);
            if measure {
                parse[i] += thread_cpu_ns() - t1;
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
            sleep_until(start + k * iv);
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
        Some("paced") => paced_mode(num(1), num(2), args.get(3).map(|_| num(3) as u64)),
        Some("pingpong") => pingpong_mode(num(1) as u64),
        Some("parse") => parse_mode(num(1) as u64),
        Some("parts") => parts_mode(num(1) as u64, args.get(2).map(|_| num(2))),
        Some("coldparse") => coldparse_mode(num(1) as u64, args.get(2).map(String::as_str)),
        Some("ab") => ab_mode(
            args.get(1).map_or("", String::as_str),
            num(2),
            num(3) as u64,
        ),
        Some("bufs") => bufs_mode(num(1), num(2) as u64),
        Some("waits") => waits_mode(num(1), num(2) as u64),
        Some("ladder") => ladder_mode(num(1) as u32, num(2), num(3)),
        _ => usage(),
    };
    println!("{line}");
}

fn usage() -> ! {
    eprintln!(
        "usage: bench_sample loop N | paced HZ SECONDS [PHASE_NS] | pingpong B | parse N | parts N [HZ] | ladder STEP HZ SECONDS"
    );
    std::process::exit(2)
}
