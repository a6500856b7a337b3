//! Once warm, a read of the watched processes (list /proc, diff, pread every kept file, parse,
//! emit) allocates nothing.
mod counting_alloc;

use std::path::Path;
use std::process::Command;

use hostseries_core::clock::mono_ns;
use hostseries_core::intern::Interner;
use hostseries_core::procs::{ProcWatcher, WatchSpec};

use counting_alloc::allocations;

#[test]
fn warm_reads_do_not_allocate() {
    let mut root = Command::new("sh")
        .args(["-c", "sleep 60 & sleep 60 & sleep 60 & wait"])
        .spawn()
        .unwrap();
    let mut w = ProcWatcher::new(Path::new("/proc"));
    // Every kind of item: the tree and ourselves are read; the name and the pattern make
    // every other PID be looked at again now and then.
    for item in [
        format!("tree:{}", root.id()),
        "self".into(),
        "name:hs-never-seen".into(),
        r"cmd:/hostseries-never-\d+/".into(),
    ] {
        w.add(WatchSpec::parse(&item).unwrap());
    }
    let (mut names, mut out, mut errors) = (Interner::default(), Vec::new(), Vec::new());
    // Until the three sleeps are watched beside the shell and ourselves, then past the
    // rechecks' cycle so every buffer has its size.
    let t0 = std::time::Instant::now();
    while out.len() < 5 && t0.elapsed().as_secs() < 5 {
        w.read(mono_ns(), &mut names, &mut out, &mut errors);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        out.len(),
        5,
        "{:?}",
        out.iter().map(|e| &e.ident.key).collect::<Vec<_>>()
    );
    for _ in 0..30 {
        w.read(mono_ns(), &mut names, &mut out, &mut errors);
    }
    let n = allocations(|| {
        for _ in 0..300 {
            w.read(mono_ns(), &mut names, &mut out, &mut errors);
        }
    });
    let _ = root.kill();
    let _ = root.wait();
    // The machine is shared: more processes than ever before may appear while this runs and
    // grow the listing once; allow for that.
    assert!(n <= 4, "{n} allocations in 300 warm reads");
    assert!(errors.is_empty(), "{errors:?}");
}
