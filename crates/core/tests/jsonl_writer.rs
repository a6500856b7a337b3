//! The native stream writer against real files, pipes and devices: what it writes equals the
//! formatter's lines for the same samples (the JS writer's bytes), bursts go out in few writes,
//! the sample cap holds, and real I/O failures (ENOSPC on /dev/full, EFBIG past RLIMIT_FSIZE,
//! fsync EINVAL on a pipe) leave whole lines on disk and every other sample kept, decodable.
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hostseries_core::jsonl::writer::{StreamConfig, StreamStatus, StreamWriter};
use hostseries_core::jsonl::SampleLineFormatter;
use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::{Batch, OwnedSample, SampleError};
use hostseries_core::{Metric, MetricSet, ProcReader, Snapshot};

const HOST: &str = "node1";
const HOSTNAME: &str = "node1.example";
const HEADER: &[u8] = b"{\"record\":\"header\",\"test\":true}\n";
const FOOTER: &[u8] = b"{\"record\":\"footer\",\"test\":true}\n";
const HOUR: Duration = Duration::from_secs(3600);

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p =
            std::env::temp_dir().join(format!("hostseries-writer-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type Sample = OwnedSample;

/// A small host of its own (three sections from text), its numbers moving with `i`.
fn synthetic(reader: &mut ProcReader, i: u64) -> Snapshot {
    let mut snap = Snapshot::default();
    let texts: [(Metric, String); 3] = [
        (
            Metric::Vmstat,
            format!("pgpgin {}\n10 {}\nnr_free_pages {}\n", i * i, i, 1 << 20),
        ),
        (
            Metric::Loadavg,
            format!("{}.25 0.50 2.00 1/{} {}\n", i % 7, 200 + i, 9000 + i),
        ),
        (
            Metric::Stat,
            format!("cpu0 {i} 2 3 4 5 6 7 8 9 10\ncpu 1 2 3 4 5 6 7 8 9 {i}\nintr 5\n"),
        ),
    ];
    for (m, t) in texts {
        reader.parse(m, t.as_bytes(), &mut snap);
    }
    snap
}

/// `n` samples: real reads of this machine's /proc, every 50th from another (smaller) layout,
/// some with errors, sequence numbers from `first_seq`.
fn samples(n: usize, first_seq: u64) -> Vec<Sample> {
    let mut real = ProcReader::new(MetricSet::all());
    let mut other = ProcReader::new(MetricSet::EMPTY);
    let mut layouts = LayoutTracker::default();
    let mut out = Vec::with_capacity(n);
    for i in 0..n as u64 {
        let mut errors = Vec::new();
        let synth;
        let snap = if i % 50 == 25 {
            synth = synthetic(&mut other, i);
            &synth
        } else {
            real.read(&mut errors);
            real.snapshot()
        };
        if i % 7 == 3 {
            for source in ["meminfo", "10"] {
                errors.push(SampleError {
                    source: source.into(),
                    message: format!("{source}: gone \"é\" at {i}"),
                });
            }
        }
        let layout = layouts.for_snapshot(snap).clone();
        let mut values = Vec::new();
        layout.encode(snap, &mut values);
        out.push(Sample {
            layout,
            seq: first_seq + i,
            wall_ns: 1_700_000_000_123_456_789 + i * 1_000_000_000,
            mono_ns: 5_000_000_000 + i * 1_000_000_000,
            values,
            errors,
        });
    }
    out
}

/// Each sample's line as the formatter writes it.
fn lines(samples: &[Sample]) -> Vec<Vec<u8>> {
    let mut f = SampleLineFormatter::new(HOST, HOSTNAME);
    samples
        .iter()
        .map(|s| {
            let mut line = Vec::new();
            f.write(&mut line, &s.layout, s.wall_ns, &s.values, &s.errors);
            line
        })
        .collect()
}

fn submit(w: &StreamWriter, s: &Sample) {
    w.submit(s.as_ref());
}

/// An `on_event` that counts its calls.
fn events() -> (Arc<AtomicUsize>, Box<dyn Fn() + Send + Sync>) {
    let n = Arc::new(AtomicUsize::new(0));
    let m = n.clone();
    (
        n,
        Box::new(move || {
            m.fetch_add(1, Ordering::SeqCst);
        }),
    )
}

fn wait_until(w: &StreamWriter, what: &str, done: impl Fn(&StreamStatus) -> bool) {
    let t0 = Instant::now();
    loop {
        let st = w.status();
        if done(&st) {
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "{what}: {st:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The writer tells of a failure once, just after recording it (outside its lock): wait for
/// the call, then check that there was one only.
fn told_once(events: &AtomicUsize) {
    let t0 = Instant::now();
    while events.load(Ordering::SeqCst) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the failure was never told"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(events.load(Ordering::SeqCst), 1);
}

/// A new file holding the header, and a second descriptor sharing its offset for the writer
/// (as the caller hands it one).
fn stream_file(path: &Path) -> (File, File) {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .unwrap();
    f.write_all(HEADER).unwrap();
    let for_writer = f.try_clone().unwrap();
    (f, for_writer)
}

fn config(file: File, good_bytes: u64, fsync_interval: Duration, max_samples: u64) -> StreamConfig {
    StreamConfig {
        file,
        host: HOST.into(),
        hostname: HOSTNAME.into(),
        good_bytes,
        fsync_interval,
        max_samples,
    }
}

/// The writer's unwritten samples decode to exactly `expect`: values, clocks, sequence
/// numbers, layouts and errors.
fn assert_unwritten(w: &StreamWriter, expect: &[Sample]) {
    for _ in 0..2 {
        // Asked twice: it is not drained.
        let mut b = Batch::default();
        w.unwritten(&mut b);
        assert_eq!(b.len(), expect.len());
        for (i, s) in expect.iter().enumerate() {
            assert_eq!(
                &b.values[b.offsets[i] as usize..b.offsets[i + 1] as usize],
                &s.values[..],
                "values of unwritten sample {i}"
            );
            assert_eq!(
                (b.seqs[i], b.wall_ns[i], b.mono_ns[i]),
                (s.seq, s.wall_ns, s.mono_ns)
            );
            let layout = b.layouts.iter().find(|l| l.id == b.layout_ids[i]).unwrap();
            assert!(Arc::ptr_eq(layout, &s.layout));
            let errors: Vec<_> = b
                .errors
                .iter()
                .filter(|e| e.0 as usize == i)
                .map(|e| e.1.clone())
                .collect();
            assert_eq!(errors, s.errors);
        }
    }
}

#[test]
fn the_file_holds_the_formatters_lines_for_the_samples_submitted() {
    let dir = TempDir::new("round-trip");
    let path = dir.0.join("run.partial.jsonl");
    let (mut own, for_writer) = stream_file(&path);
    let all = samples(300, 7);
    let (events, on_event) = events();
    let mut w = StreamWriter::start(
        config(for_writer, HEADER.len() as u64, HOUR, u64::MAX),
        on_event,
    )
    .unwrap();
    // A burst, then one at a time as a sampler submits.
    for s in &all[..100] {
        submit(&w, s);
    }
    wait_until(&w, "the burst written", |st| st.written == 100);
    for s in &all[100..] {
        submit(&w, s);
    }
    let st = w.close();
    let expect: Vec<u8> = HEADER.iter().copied().chain(lines(&all).concat()).collect();
    assert_eq!(
        st,
        StreamStatus {
            written: 300,
            accepted: 300,
            good_bytes: expect.len() as u64,
            batches: st.batches,
            failure: None,
        }
    );
    assert!((2..=300).contains(&st.batches), "{st:?}");
    // The footer, through the caller's descriptor, follows the last line.
    own.write_all(FOOTER).unwrap();
    drop(own);
    let got = std::fs::read(&path).unwrap();
    assert_eq!(got.len(), expect.len() + FOOTER.len());
    assert!(
        got.starts_with(&expect),
        "file differs from the formatter's lines"
    );
    assert!(got.ends_with(FOOTER));
    assert_unwritten(&w, &[]);
    assert_eq!(events.load(Ordering::SeqCst), 0);
}

/// A pipe full to the brim: any write blocks until the test reads.
fn full_pipe() -> (File, File, usize) {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (read, mut write) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK) };
    let mut filled = 0;
    for chunk in [4096, 1] {
        let x = vec![b'x'; chunk];
        while let Ok(n) = write.write(&x) {
            filled += n;
        }
    }
    unsafe { libc::fcntl(fds[1], libc::F_SETFL, 0) };
    (read, write, filled)
}

#[test]
fn a_burst_goes_out_in_one_write() {
    let (mut read, write, filled) = full_pipe();
    let all = samples(200, 0);
    let (events, on_event) = events();
    let mut w = StreamWriter::start(config(write, 0, HOUR, u64::MAX), on_event).unwrap();
    // The writer takes what is queued when it wakes and blocks writing it; all the rest queues
    // behind it, and goes out in one more write once the pipe is read.
    for s in &all {
        submit(&w, s);
    }
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        read.read_to_end(&mut got).unwrap();
        got
    });
    let st = w.close();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), filled + lines(&all).concat().len());
    assert!(got[..filled].iter().all(|&b| b == b'x'));
    assert!(got[filled..] == lines(&all).concat()[..], "pipe differs");
    assert_eq!((st.written, st.accepted), (200, 200));
    assert!((1..=2).contains(&st.batches), "{st:?}");
    // A pipe cannot be synced: close's fsync fails, after every sample was written.
    let f = st.failure.expect("fsync of a pipe fails");
    assert_eq!(
        (f.errno, f.action),
        (libc::EINVAL, "fsync"),
        "{}",
        f.message
    );
    assert_unwritten(&w, &[]);
    told_once(&events);
}

#[test]
fn a_failed_fsync_keeps_every_later_sample() {
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (mut read, write) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    let all = samples(10, 100);
    let (events, on_event) = events();
    let mut w = StreamWriter::start(config(write, 0, Duration::ZERO, u64::MAX), on_event).unwrap();
    submit(&w, &all[0]);
    wait_until(&w, "fsync failed", |st| st.failure.is_some());
    for s in &all[1..] {
        submit(&w, s);
    }
    let st = w.close();
    assert_eq!((st.written, st.accepted, st.batches), (1, 10, 1));
    let f = st.failure.unwrap();
    assert_eq!((f.errno, f.action), (libc::EINVAL, "fsync"));
    assert!(f.message.starts_with("fsync failed: "), "{}", f.message);
    assert_unwritten(&w, &all[1..]);
    let mut got = Vec::new();
    read.read_to_end(&mut got).unwrap();
    assert!(got == lines(&all[..1])[0], "pipe differs");
    told_once(&events);
}

#[test]
fn a_full_device_keeps_every_sample_and_tells_once() {
    let full = OpenOptions::new().write(true).open("/dev/full").unwrap();
    let all = samples(40, 0);
    let (events, on_event) = events();
    let mut w = StreamWriter::start(config(full, 0, HOUR, u64::MAX), on_event).unwrap();
    for s in &all[..30] {
        submit(&w, s);
    }
    wait_until(&w, "the write failed", |st| st.failure.is_some());
    // After a failure nothing more is written: later samples are kept straight away.
    for s in &all[30..] {
        submit(&w, s);
    }
    let st = w.status();
    assert_eq!(
        (st.written, st.accepted, st.good_bytes, st.batches),
        (0, 40, 0, 0)
    );
    let f = st.failure.clone().unwrap();
    assert_eq!((f.errno, f.action), (libc::ENOSPC, "write"));
    assert!(f.message.starts_with("write failed: "), "{}", f.message);
    assert_unwritten(&w, &all);
    told_once(&events);
    // close is idempotent, and adds no event.
    assert_eq!(w.close(), st);
    assert_eq!(w.close(), st);
    assert_unwritten(&w, &all);
    assert_eq!(events.load(Ordering::SeqCst), 1);
}

#[test]
fn samples_past_the_cap_are_ignored_and_the_cap_told_once() {
    let dir = TempDir::new("cap");
    let all = samples(12, 0);
    for cap in [5u64, 0] {
        let path = dir.0.join(format!("cap{cap}.jsonl"));
        let (_own, for_writer) = stream_file(&path);
        let (events, on_event) = events();
        let mut w =
            StreamWriter::start(config(for_writer, HEADER.len() as u64, HOUR, cap), on_event)
                .unwrap();
        for (i, s) in all.iter().enumerate() {
            submit(&w, s);
            if i as u64 + 1 == cap {
                assert_eq!(
                    events.load(Ordering::SeqCst),
                    1,
                    "told as the cap is reached"
                );
            }
        }
        let st = w.close();
        assert_eq!((st.written, st.accepted), (cap, cap));
        assert_eq!(st.failure, None);
        assert_eq!(events.load(Ordering::SeqCst), 1);
        let expect = [HEADER.to_vec(), lines(&all[..cap as usize]).concat()].concat();
        assert!(std::fs::read(&path).unwrap() == expect, "cap {cap}");
    }
}

#[test]
fn close_is_idempotent_and_drop_writes_what_is_queued() {
    let dir = TempDir::new("close");
    let all = samples(60, 0);
    let expect = [HEADER.to_vec(), lines(&all).concat()].concat();

    let path = dir.0.join("closed.jsonl");
    let (_own, for_writer) = stream_file(&path);
    let (_, on_event) = events();
    let mut w = StreamWriter::start(
        config(for_writer, HEADER.len() as u64, Duration::ZERO, u64::MAX),
        on_event,
    )
    .unwrap();
    for s in &all {
        submit(&w, s);
    }
    let first = w.close();
    assert_eq!((first.written, first.failure.clone()), (60, None));
    assert_eq!(w.close(), first);
    assert_eq!(w.status(), first);
    // A sample after close is kept, not lost (the caller should not, but nothing vanishes).
    submit(&w, &all[0]);
    assert_eq!(w.status().accepted, 61);
    assert_unwritten(&w, &all[..1]);
    assert!(std::fs::read(&path).unwrap() == expect);

    let path = dir.0.join("dropped.jsonl");
    let (_own, for_writer) = stream_file(&path);
    let (_, on_event) = events();
    let w = StreamWriter::start(
        config(for_writer, HEADER.len() as u64, HOUR, u64::MAX),
        on_event,
    )
    .unwrap();
    for s in &all {
        submit(&w, s);
    }
    drop(w);
    assert!(std::fs::read(&path).unwrap() == expect);
}

/// Set in the child the fsize test runs itself in: the directory to write in.
const FSIZE_CHILD: &str = "HOSTSERIES_WRITER_FSIZE_DIR";
const FSIZE_TEST: &str = "a_write_past_the_file_size_limit_is_cut_back_to_whole_lines";
const FSIZE_OK: &str = "fsize child: ok";

/// A disk that fills mid-line: RLIMIT_FSIZE (with SIGXFSZ ignored) makes the write that crosses
/// it short and the next one fail with EFBIG, as `ulimit -f` does in the JS tests. The limit
/// is per process, so the test runs itself again in a child with the limit set.
#[test]
fn a_write_past_the_file_size_limit_is_cut_back_to_whole_lines() {
    if let Ok(dir) = std::env::var(FSIZE_CHILD) {
        fsize_child(Path::new(&dir));
        println!("{FSIZE_OK}");
        return;
    }
    let dir = TempDir::new("fsize");
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([FSIZE_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(FSIZE_CHILD, &dir.0)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(FSIZE_OK),
        "child failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // Seen from outside too: the header, five whole sample lines, the footer.
    let text = std::fs::read_to_string(dir.0.join("full.jsonl")).unwrap();
    let got: Vec<&str> = text.split_inclusive('\n').collect();
    assert_eq!(got.len(), 7, "{text}");
    assert!(got[1..6]
        .iter()
        .all(|l| l.starts_with("{\"record\":\"sample\"") && l.ends_with("}}\n")));
    assert_eq!(got[6].as_bytes(), FOOTER);
}

fn fsize_child(dir: &Path) {
    let all = samples(20, 0);
    let lines = lines(&all);
    let good = HEADER.len() + lines[..5].concat().len();
    // Mid-way through the sixth line: its write is cut short, then fails.
    let limit = (good + lines[5].len() / 2) as u64;
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut r: libc::rlimit = std::mem::zeroed();
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut r), 0);
        r.rlim_cur = limit;
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &r), 0);
    }
    let path = dir.join("full.jsonl");
    let (mut own, for_writer) = stream_file(&path);
    let (events, on_event) = events();
    let mut w = StreamWriter::start(
        config(for_writer, HEADER.len() as u64, Duration::ZERO, u64::MAX),
        on_event,
    )
    .unwrap();
    for (i, s) in all[..5].iter().enumerate() {
        submit(&w, s);
        wait_until(&w, "written", |st| st.written == i as u64 + 1);
    }
    for s in &all[5..15] {
        submit(&w, s);
    }
    wait_until(&w, "the write failed", |st| st.failure.is_some());
    for s in &all[15..] {
        submit(&w, s);
    }
    let st = w.close();
    assert_eq!(
        (st.written, st.accepted, st.good_bytes),
        (5, 20, good as u64)
    );
    let f = st.failure.clone().unwrap();
    assert_eq!((f.errno, f.action), (libc::EFBIG, "write"), "{}", f.message);
    told_once(&events);
    assert_unwritten(&w, &all[5..]);
    // Exactly the samples written, every line whole: the torn sixth line is cut off.
    let expect = [HEADER.to_vec(), lines[..5].concat()].concat();
    assert!(std::fs::read(&path).unwrap() == expect, "file not cut back");
    // And the shared offset is back at the end of the good bytes: the footer follows them.
    own.write_all(FOOTER).unwrap();
    let expect = [expect, FOOTER.to_vec()].concat();
    assert!(std::fs::read(&path).unwrap() == expect, "footer misplaced");
}
