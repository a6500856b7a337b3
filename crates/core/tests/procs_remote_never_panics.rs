//! Property test: no frame a remote loop (or anything posing as one) sends makes the remote
//! watcher panic, and what it reports stays consistent (unique keys, at most the cap).
use hostseries_core::intern::Interner;
use hostseries_core::procs::{RemoteFile, RemoteProcs, RemoteWatcher, WatchSpec};
use proptest::prelude::*;

const FILES: [RemoteFile; 6] = [
    RemoteFile::Stat,
    RemoteFile::Status,
    RemoteFile::Io,
    RemoteFile::IoUnreadable,
    RemoteFile::Cmdline,
    RemoteFile::Listed,
];

/// A `stat` that parses (name `w` or `v`, random state, times) or random bytes.
fn text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u8..2, prop::sample::select(vec!['R', 'S', 'Z', 'D']), any::<u32>(), 0u64..1000).prop_map(
            |(n, st, ticks, start)| format!(
                "1 ({}) {st} 1 1 1 0 -1 0 1 0 2 0 {ticks} 3 0 0 20 0 3 0 {start} 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 {ticks}\n",
                ["w", "v"][n as usize]
            )
            .into_bytes()
        ),
        prop::collection::vec(any::<u8>(), 0..300),
        Just(b"w train x\n".to_vec()),
    ]
}

/// One frame: its files (PID, file, text), uptime text, the echoed request, truncated, no_cmdline.
type Frame = (Vec<(u32, usize, Vec<u8>)>, Vec<u8>, String, bool, bool);

fn frame() -> impl Strategy<Value = Frame> {
    (
        prop::collection::vec((1u32..20, 0usize..6, text()), 0..40),
        prop::collection::vec(any::<u8>(), 0..20),
        "[0-9c ]{0,20}",
        any::<bool>(),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_frames(frames in prop::collection::vec(frame(), 1..8)) {
        let items = ["name:w", "pid:3", "cmd:/train/"].iter().map(|i| WatchSpec::parse(i).unwrap()).collect();
        let mut w = RemoteWatcher::new(items).unwrap();
        let (mut names, mut out, mut errors, mut req) = (Interner::default(), Vec::new(), Vec::new(), String::new());
        for (i, (files, uptime, asked, truncated, no_cmdline)) in frames.iter().enumerate() {
            let f = RemoteProcs {
                btime: 1_700_000_000,
                uptime: Some(uptime),
                asked: asked.as_bytes(),
                files: files.iter().map(|(p, k, t)| (*p, FILES[*k], &t[..])).collect(),
                truncated: *truncated,
                no_cmdline: *no_cmdline,
            };
            w.read(&f, i as u64 * 1_000_000_000, &mut names, &mut out, &mut errors);
            w.request(&mut req);
            prop_assert!(req.bytes().all(|b| b.is_ascii_digit() || b == b' ' || b == b'c'));
            let mut keys: Vec<_> = out.iter().map(|e| e.ident.key.clone()).collect();
            keys.sort();
            keys.dedup();
            prop_assert_eq!(keys.len(), out.len());
        }
    }
}
