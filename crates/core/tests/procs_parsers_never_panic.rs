//! Property tests: no input makes a process-file parser panic, and a well-formed `stat` reads
//! back whatever its name holds (spaces, parentheses); no command line makes the redaction
//! panic, and what it records is cut like any other and never holds a planted secret.
use hostseries_core::procs::parse::{parse_io, parse_stat, parse_status};
use hostseries_core::procs::{join_cmdline, recorded_cmdline, CmdlinePolicy, CMDLINE_MAX};
use proptest::prelude::*;

/// Text shaped like the files: keys, colons, numbers (some huge or negative), parentheses.
fn procish() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        "[a-zA-Z_]{1,12}",
        "[0-9]{1,25}",
        "-[0-9]{1,5}",
        Just("(".to_string()),
        Just(")".to_string()),
        Just("VmRSS".to_string()),
        Just("read_bytes".to_string()),
        Just("kB".to_string()),
        Just(":".to_string()),
    ];
    let sep = prop_oneof![Just(" "), Just("\t"), Just("\n"), Just(":\t"), Just("")];
    prop::collection::vec((token, sep), 0..80).prop_map(|v| {
        v.into_iter()
            .map(|(t, s)| format!("{t}{s}"))
            .collect::<String>()
            .into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn arbitrary_bytes(input in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_stat(&input);
        let _ = parse_status(&input);
        let _ = parse_io(&input);
        let mut buf = input.clone();
        let n = join_cmdline(&mut buf);
        prop_assert!(n <= CMDLINE_MAX && n <= input.len());
        prop_assert!(!buf[..n].contains(&0));
    }

    #[test]
    fn recorded_command_lines(
        args in prop::collection::vec(
            prop_oneof![
                "[a-zA-Z_.:/@=?&,-]{0,20}",
                Just("--password".to_string()),
                Just("-p".to_string()),
                Just("https://u:".to_string()),
                Just("TOKEN=".to_string()),
            ],
            0..40,
        ),
        remote in any::<bool>(),
        cut in any::<bool>(),
    ) {
        // A secret planted after each secret-looking form: it never shows.
        let mut line = Vec::new();
        for a in &args {
            line.extend_from_slice(a.as_bytes());
            if a == "--password" {
                line.push(if remote { b' ' } else { 0 });
                line.extend_from_slice(b"S3CR3T");
            } else if a == "https://u:" {
                line.extend_from_slice(b"S3CR3T@host");
            } else if a == "TOKEN=" {
                line.extend_from_slice(b"S3CR3T");
            }
            line.push(if remote { b' ' } else { 0 });
        }
        let mut out = Vec::new();
        for policy in [CmdlinePolicy::Redacted, CmdlinePolicy::Full, CmdlinePolicy::Off] {
            recorded_cmdline(&line, if remote { b' ' } else { 0 }, cut, policy, &mut out);
            prop_assert!(out.len() <= CMDLINE_MAX);
            prop_assert!(!out.contains(&0));
            if policy == CmdlinePolicy::Redacted {
                prop_assert!(
                    !out.windows(6).any(|w| w == b"S3CR3T"),
                    "{}", String::from_utf8_lossy(&out)
                );
            }
        }
    }

    #[test]
    fn procish_text(input in procish()) {
        let _ = parse_stat(&input);
        let _ = parse_status(&input);
        let _ = parse_io(&input);
    }

    #[test]
    fn status_and_io_equal_a_line_walk(input in procish(), keys in prop::collection::vec(0usize..8, 0..12)) {
        // Texts with the keys we read placed at line starts, some twice: the first counts.
        const KEYS: [&str; 8] = ["VmRSS", "VmHWM", "voluntary_ctxt_switches", "nonvoluntary_ctxt_switches",
            "rchar", "wchar", "read_bytes", "write_bytes"];
        let mut text = input.clone();
        for (n, k) in keys.iter().enumerate() {
            text.extend_from_slice(format!("\n{}:\t {} kB\n", KEYS[*k], n * 7).as_bytes());
            text.extend_from_slice(&input[..input.len() / (n + 2)]);
        }
        let walk = |key: &str| -> u64 {
            for line in text.split(|&b| b == b'\n') {
                if let Some(c) = line.iter().position(|&b| b == b':') {
                    if &line[..c] == key.as_bytes() {
                        return std::str::from_utf8(&line[c + 1..]).ok()
                            .and_then(|r| r.split_ascii_whitespace().next())
                            .and_then(|t| t.trim_start_matches('+').parse().ok().filter(|_| !t.starts_with("++")))
                            .unwrap_or(0);
                    }
                }
            }
            0
        };
        let s = parse_status(&text);
        prop_assert_eq!([s.rss_kb, s.hwm_kb, s.voluntary, s.involuntary],
            [walk(KEYS[0]), walk(KEYS[1]), walk(KEYS[2]), walk(KEYS[3])]);
        let io = parse_io(&text);
        prop_assert_eq!([io.rchar, io.wchar, io.read_bytes, io.write_bytes],
            [walk(KEYS[4]), walk(KEYS[5]), walk(KEYS[6]), walk(KEYS[7])]);
    }

    #[test]
    fn any_name_reads_back(
        comm in prop::collection::vec(any::<u8>().prop_filter("no newline", |b| *b != b'\n'), 0..16),
        nums in prop::collection::vec(0u64..1 << 40, 50),
    ) {
        let mut text = b"4242 (".to_vec();
        text.extend_from_slice(&comm);
        text.extend_from_slice(b") Z");
        // ppid is a PID (the parser wants a u32).
        let mut nums = nums;
        nums[0] %= 1 << 22;
        for n in &nums[..49] {
            text.extend_from_slice(format!(" {n}").as_bytes());
        }
        text.push(b'\n');
        let (c, s) = parse_stat(&text).unwrap();
        prop_assert_eq!(c, &comm[..]);
        prop_assert_eq!(s.state, b'Z');
        // Field k (k >= 4) is nums[k - 4].
        prop_assert_eq!(u64::from(s.ppid), nums[0]);
        prop_assert_eq!((s.minflt, s.majflt), (nums[6], nums[8]));
        prop_assert_eq!((s.utime, s.stime), (nums[10], nums[11]));
        prop_assert_eq!((s.num_threads, s.starttime), (nums[16], nums[18]));
        prop_assert_eq!(s.exit_code, i32::try_from(nums[48]).ok());
    }

    #[test]
    fn command_lines_cut_on_a_character(args in prop::collection::vec("\\PC{1,40}", 1..40)) {
        let mut raw = args.join("\0").into_bytes();
        raw.push(0);
        let joined = args.join(" ");
        let n = join_cmdline(&mut raw);
        let got = std::str::from_utf8(&raw[..n]);
        prop_assert!(got.is_ok(), "cut inside a character");
        let want = joined.as_str();
        prop_assert!(want.starts_with(got.unwrap()));
        prop_assert!(n <= CMDLINE_MAX);
        if want.len() <= CMDLINE_MAX { prop_assert_eq!(n, want.len()); }
    }
}
