//! The native sample line against a straightforward reference: the sample built as a tree the
//! way lib/native/decode.ts builds its dict (JS object semantics: a repeated key keeps its first
//! place and last value, array-index keys first in numeric order), written by a plain recursive
//! writer with its own quoting, number and timestamp code. The line must be valid JSON that
//! parses back to that tree, and equal the reference's bytes.
use std::sync::Arc;

use hostseries_core::jsonl::SampleLineFormatter;
use hostseries_core::jsonl::{CPU_KEYS, DISKSTATS_KEYS, NETDEV_KEYS};
use hostseries_core::layout::Layout;
use hostseries_core::snapshot::STAT_SCALARS;
use hostseries_core::store::SampleError;
use hostseries_core::{Metric, MetricSet};
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq)]
enum V {
    Obj(Vec<(String, V)>),
    Arr(Vec<V>),
    Str(String),
    /// A number, as its JSON text.
    Num(String),
}

/// A JS object under construction: assignment replaces in place or appends.
#[derive(Default)]
struct JsObj(Vec<(String, V)>);

fn is_array_index(k: &str) -> Option<u32> {
    let n: u32 = k.parse().ok()?;
    (n.to_string() == k && n != u32::MAX).then_some(n)
}

impl JsObj {
    fn set(&mut self, k: &str, v: V) {
        match self.0.iter_mut().find(|e| e.0 == k) {
            Some(e) => e.1 = v,
            None => self.0.push((k.to_string(), v)),
        }
    }
    /// In the order JS lists the keys.
    fn done(self) -> V {
        let (mut idx, rest): (Vec<_>, Vec<_>) = self
            .0
            .into_iter()
            .partition(|e| is_array_index(&e.0).is_some());
        idx.sort_by_key(|e| is_array_index(&e.0));
        idx.extend(rest);
        V::Obj(idx)
    }
}

fn num(v: u64) -> V {
    V::Num(v.to_string())
}

/// JS's `Number(v)` written with its exact integer digits.
fn js_number(v: u64) -> V {
    V::Num(format!("{:.0}", v as f64))
}

/// Python's repr: Rust's Debug switches to exponent form at the same bounds; Python signs the
/// exponent and gives it two digits at least.
fn py_repr(x: f64) -> V {
    let d = format!("{x:?}");
    V::Num(match d.split_once('e') {
        None => d,
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            format!("{m}e{sign}{digits:0>2}")
        }
    })
}

fn iso(wall_ns: u64) -> String {
    let secs = wall_ns / 1_000_000_000;
    let (mut days, rem) = (secs / 86_400, secs % 86_400);
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let mut y = 1970;
    while days >= if leap(y) { 366 } else { 365 } {
        days -= if leap(y) { 366 } else { 365 };
        y += 1;
    }
    let months = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut m = 0;
    while days >= months[m] {
        days -= months[m];
        m += 1;
    }
    format!(
        "{y:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        m + 1,
        days + 1,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn fields(o: &mut JsObj, keys: &[&str], values: &[u64]) {
    for (k, v) in keys.iter().zip(values) {
        o.set(k, num(*v));
    }
}

/// The sample line's tree, as decode.ts + `sampleLine` build it.
fn reference(
    host: &str,
    hostname: &str,
    l: &Layout,
    wall: u64,
    values: &[u64],
    errors: &[SampleError],
) -> V {
    let mut it = values.iter().copied();
    let mut take = |n: usize| -> Vec<u64> { (&mut it).take(n).collect() };
    let mut s = JsObj::default();
    s.set("timestamp", V::Str(iso(wall)));
    s.set("timestamp_ns", js_number(wall));
    s.set("hostname", V::Str(hostname.into()));
    let p = l.present;
    if p.contains(Metric::Diskstats) {
        let disks = l.disks.iter().map(|(name, n)| {
            let mut o = JsObj::default();
            o.set("device_name", V::Str(name.to_string()));
            fields(&mut o, &DISKSTATS_KEYS[..*n as usize], &take(*n as usize));
            o.done()
        });
        s.set("diskstats", V::Arr(disks.collect()));
    }
    for (m, names) in [(Metric::Vmstat, &l.vmstat), (Metric::Meminfo, &l.meminfo)] {
        if p.contains(m) {
            let mut o = JsObj::default();
            for (k, v) in names.iter().zip(take(names.len())) {
                o.set(k, num(v));
            }
            s.set(m.name(), o.done());
        }
    }
    if p.contains(Metric::Loadavg) {
        let v = take(5);
        let mut o = JsObj::default();
        o.set("load_1min", py_repr(f64::from_bits(v[0])));
        o.set("load_5min", py_repr(f64::from_bits(v[1])));
        o.set("load_15min", py_repr(f64::from_bits(v[2])));
        o.set("running_processes", js_number(v[3]));
        o.set("total_processes", js_number(v[4]));
        s.set("loadavg", o.done());
    }
    if p.contains(Metric::Netdev) {
        let nets = l.net.iter().map(|name| {
            let mut o = JsObj::default();
            o.set("interface_name", V::Str(name.to_string()));
            fields(&mut o, &NETDEV_KEYS, &take(16));
            o.done()
        });
        s.set("netdev", V::Arr(nets.collect()));
    }
    if p.contains(Metric::Stat) {
        let mut cpu = None;
        let mut cpus = JsObj::default();
        for name in &l.cpus {
            let mut t = JsObj::default();
            fields(&mut t, &CPU_KEYS, &take(10));
            if &**name == "cpu" {
                cpu = Some(t.done());
            } else {
                cpus.set(name, t.done());
            }
        }
        let mut st = JsObj::default();
        st.set(
            "cpu",
            cpu.unwrap_or_else(|| {
                let mut z = JsObj::default();
                fields(&mut z, &CPU_KEYS, &[0; 10]);
                z.done()
            }),
        );
        st.set("cpus", cpus.done());
        fields(&mut st, &STAT_SCALARS, &take(STAT_SCALARS.len()));
        s.set("stat", st.done());
    }
    if !errors.is_empty() {
        let mut o = JsObj::default();
        for e in errors {
            o.set(&e.source, V::Str(e.message.clone()));
        }
        s.set("errors", o.done());
    }
    let mut line = JsObj::default();
    line.set("record", V::Str("sample".into()));
    line.set("host", V::Str(host.into()));
    line.set("sample", s.done());
    line.done()
}

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for u in s.encode_utf16() {
        match u {
            0x22 => out.push_str("\\\""),
            0x5c => out.push_str("\\\\"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x09 => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            0x20..=0x7e => out.push(char::from(u as u8)),
            _ => out.push_str(&format!("\\u{u:04x}")),
        }
    }
    out.push('"');
}

fn write(out: &mut String, v: &V) {
    match v {
        V::Str(s) => quote(out, s),
        V::Num(n) => out.push_str(n),
        V::Arr(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, e);
            }
            out.push(']');
        }
        V::Obj(o) => {
            out.push('{');
            for (i, (k, e)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                quote(out, k);
                out.push(':');
                write(out, e);
            }
            out.push('}');
        }
    }
}

/// A strict JSON parser (numbers kept as text).
struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn eat(&mut self, c: u8) -> Result<(), String> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", c as char, self.i))
        }
    }
    fn value(&mut self) -> Result<V, String> {
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut o = Vec::new();
                if self.eat(b'}').is_ok() {
                    return Ok(V::Obj(o));
                }
                loop {
                    let k = self.string()?;
                    self.eat(b':')?;
                    o.push((k, self.value()?));
                    if self.eat(b'}').is_ok() {
                        return Ok(V::Obj(o));
                    }
                    self.eat(b',')?;
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(b']').is_ok() {
                    return Ok(V::Arr(a));
                }
                loop {
                    a.push(self.value()?);
                    if self.eat(b']').is_ok() {
                        return Ok(V::Arr(a));
                    }
                    self.eat(b',')?;
                }
            }
            Some(b'"') => self.string().map(V::Str),
            _ => self.number(),
        }
    }
    fn number(&mut self) -> Result<V, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.b.get(p.i).is_some_and(u8::is_ascii_digit) {
                p.i += 1;
            }
            p.i > s
        };
        let _ = self.eat(b'-');
        if self.eat(b'0').is_err() && !digits(self) {
            return Err(format!("bad value at {start}"));
        }
        if self.eat(b'.').is_ok() && !digits(self) {
            return Err(format!("bad fraction at {start}"));
        }
        if self.eat(b'e').is_ok() || self.eat(b'E').is_ok() {
            let _ = self.eat(b'+').is_ok() || self.eat(b'-').is_ok();
            if !digits(self) {
                return Err(format!("bad exponent at {start}"));
            }
        }
        Ok(V::Num(
            String::from_utf8(self.b[start..self.i].to_vec()).unwrap(),
        ))
    }
    fn string(&mut self) -> Result<String, String> {
        self.eat(b'"')?;
        let mut units = Vec::new();
        loop {
            let c = *self.b.get(self.i).ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.b.get(self.i).ok_or("bad escape")?;
                    self.i += 1;
                    units.push(match e {
                        b'"' | b'\\' | b'/' => u16::from(e),
                        b'n' => 0x0a,
                        b'r' => 0x0d,
                        b't' => 0x09,
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'u' => {
                            let hex = self.b.get(self.i..self.i + 4).ok_or("bad \\u")?;
                            self.i += 4;
                            u16::from_str_radix(std::str::from_utf8(hex).unwrap(), 16)
                                .map_err(|e| e.to_string())?
                        }
                        _ => return Err(format!("bad escape at {}", self.i)),
                    });
                }
                0x00..=0x1f | 0x80.. => return Err(format!("raw byte {c:#x} at {}", self.i)),
                _ => units.push(u16::from(c)),
            }
        }
        String::from_utf16(&units).map_err(|e| e.to_string())
    }
}

fn parse(line: &[u8]) -> Result<V, String> {
    let body = line.strip_suffix(b"\n").ok_or("no newline at the end")?;
    let mut p = Parser { b: body, i: 0 };
    let v = p.value()?;
    if p.i != body.len() {
        return Err(format!("trailing data at {}", p.i));
    }
    Ok(v)
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "a", "b", "sda", "10", "2", "0", "007", "4294967294", "4294967295", "é\"q",
            "\\\u{1}\u{7f}", "😀", "", "__proto__", "cpu",
        ])
        .prop_map(String::from),
        1 => "\\PC{0,6}",
        1 => any::<String>(),
    ]
}

fn names(max: usize) -> impl Strategy<Value = Vec<Arc<str>>> {
    prop::collection::vec(name().prop_map(Arc::from), 0..max)
}

fn layout() -> impl Strategy<Value = Layout> {
    let cpu =
        prop::sample::select(vec!["cpu", "cpu0", "cpu1", "cpu2", "cpu10"]).prop_map(Arc::from);
    (
        any::<u8>(),
        prop::collection::vec(
            (
                name().prop_map(Arc::from),
                prop::sample::select(vec![11u8, 15, 17]),
            ),
            0..4,
        ),
        names(8),
        names(8),
        names(4),
        prop::collection::vec(cpu, 0..6),
    )
        .prop_map(|(bits, disks, vmstat, meminfo, net, cpus)| {
            let present: MetricSet = Metric::ALL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, m)| m)
                .collect();
            let keep =
                |m: Metric, v: Vec<Arc<str>>| if present.contains(m) { v } else { Vec::new() };
            Layout {
                id: 0,
                present,
                disks: if present.contains(Metric::Diskstats) {
                    disks
                } else {
                    Vec::new()
                },
                vmstat: keep(Metric::Vmstat, vmstat),
                meminfo: keep(Metric::Meminfo, meminfo),
                net: keep(Metric::Netdev, net),
                cpus: keep(Metric::Stat, cpus),
                procs: None,
                app: Vec::new(),
            }
        })
}

/// A counter: small, near 2^53, or anywhere up to 2^64 - 1.
fn counter() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..1000u64,
        (1u64 << 53) - 2..(1u64 << 53) + 3,
        any::<u64>(),
        Just(u64::MAX)
    ]
}

fn load() -> impl Strategy<Value = u64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            0.52,
            1e-4,
            1e-5,
            1e16,
            9999999999999998.0
        ]),
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
    ]
    .prop_map(f64::to_bits)
}

/// A layout with the values of one sample.
fn sample() -> impl Strategy<Value = (Layout, Vec<u64>)> {
    layout().prop_flat_map(|l| {
        let n = l.value_count();
        let loads = l.present.contains(Metric::Loadavg);
        let before: usize =
            l.disks.iter().map(|d| d.1 as usize).sum::<usize>() + l.vmstat.len() + l.meminfo.len();
        (
            prop::collection::vec(counter(), n),
            prop::collection::vec(load(), 3),
        )
            .prop_map(move |(mut v, f)| {
                if loads {
                    v[before..before + 3].copy_from_slice(&f);
                }
                (
                    Layout {
                        id: l.id,
                        present: l.present,
                        disks: l.disks.clone(),
                        vmstat: l.vmstat.clone(),
                        meminfo: l.meminfo.clone(),
                        net: l.net.clone(),
                        cpus: l.cpus.clone(),
                        procs: l.procs.clone(),
                        app: l.app.clone(),
                    },
                    v,
                )
            })
    })
}

fn errors() -> impl Strategy<Value = Vec<SampleError>> {
    let source = prop::sample::select(vec!["diskstats", "meminfo", "stat", "10", "2", "x\"y"]);
    prop::collection::vec(
        (source, name()).prop_map(|(s, m)| SampleError {
            source: s.into(),
            message: m,
        }),
        0..4,
    )
}

fn wall() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        1_600_000_000_000_000_000..1_900_000_000_000_000_000u64,
        Just(0),
        Just(u64::MAX)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn line_is_json_and_equals_the_reference(
        (l, values) in sample(),
        errs in errors(),
        wall in wall(),
        host in name(),
        hostname in name(),
    ) {
        let l = Arc::new(l);
        let mut f = SampleLineFormatter::new(&host, &hostname);
        let mut out = b"kept".to_vec();
        f.write(&mut out, &l, wall, &values, &errs);
        prop_assert!(out.starts_with(b"kept"), "appends");
        let line = &out[4..];
        let tree = reference(&host, &hostname, &l, wall, &values, &errs);
        let mut want = String::new();
        write(&mut want, &tree);
        want.push('\n');
        prop_assert_eq!(std::str::from_utf8(line).unwrap(), want.as_str());
        prop_assert_eq!(parse(line).map_err(TestCaseError::fail)?, tree);
        // Again with the template cached: the same bytes.
        let mut again = Vec::new();
        f.write(&mut again, &l, wall, &values, &errs);
        prop_assert_eq!(&again[..], line);
    }
}

#[test]
fn a_batch_sample_is_the_same_line_as_the_sample() {
    use hostseries_core::text::TextSampler;
    let mut t = TextSampler::default();
    let texts: [(Metric, &[u8]); 2] = [
        (Metric::Diskstats, b"8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"),
        (Metric::Loadavg, b"0.50 1.00 2.00 1/2 3\n"),
    ];
    let b = t.sample(texts, 1_700_000_000_000_000_000, 1);
    let mut f = SampleLineFormatter::new("h", "h");
    let mut out = Vec::new();
    f.write_batch_sample(&mut out, &b, 0);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "{\"record\":\"sample\",\"host\":\"h\",\"sample\":{\"timestamp\":\"2023-11-14T22:13:20Z\",\
\"timestamp_ns\":1700000000000000000,\"hostname\":\"h\",\"diskstats\":[{\"device_name\":\"sda\",\
\"reads_completed\":1,\"reads_merged\":2,\"sectors_read\":3,\"time_reading_ms\":4,\
\"writes_completed\":5,\"writes_merged\":6,\"sectors_written\":7,\"time_writing_ms\":8,\
\"ios_in_progress\":9,\"time_doing_ios_ms\":10,\"weighted_time_doing_ios_ms\":11}],\
\"loadavg\":{\"load_1min\":0.5,\"load_5min\":1.0,\"load_15min\":2.0,\"running_processes\":1,\
\"total_processes\":2}}}\n"
    );
}
