//! The JSON Lines stream's sample line, formatted natively: byte for byte what the JS writer
//! (lib/files/jsonl-format.ts `sampleLine(host, sample)` over the sample lib/native/decode.ts
//! makes of the same values) writes: `{"record":"sample","host":…,"sample":{"timestamp":…,
//! "timestamp_ns":…,"hostname":…,<sections>,"errors":{…}}}` and a newline.
//!
//! It formats a sample in its compact form (a [`Layout`] and its flat `u64` values, as the
//! sampler stores it and a [`Batch`] carries it). Everything that depends only on the layout
//! (quoted names, keys, separators) is laid out once per layout as a template of literal bytes
//! with value slots; a sample then writes the stamp, fills the slots and adds its errors, into
//! a caller's reused `Vec<u8>`: no allocation per sample once the layout's template exists.
//!
//! Where a JS object cannot keep the file's order or duplicates, the line follows JS, since the
//! stream must not change: a name met twice keeps its first place and its last value, and
//! integer-like keys (`10`) come first in numeric order (decode.ts explains why).
//!
//! [`writer::StreamWriter`] appends these lines on a thread of its own, fed by the sampling
//! thread, with the JS writer's crash and disk-failure guarantees.
mod pyjson;
pub mod writer;

use std::sync::Arc;

use crate::app::AppKind;
use crate::layout::{Layout, LOADAVG_VALUES};
use crate::metrics::Metric;
use crate::procs::{ExitStatus, ProcIdent, ProcValue, PROC_FIELDS, PROC_IO_FIRST, PROC_VALUES};
use crate::snapshot::{CPU_FIELDS, NET_FIELDS, STAT_SCALARS};
use crate::store::{Batch, SampleError};

pub use pyjson::{as_js_number, counter, iso_seconds, py_float, quote};

/// Field names after `device_name`, in file order (lib/types/sample.ts `DISKSTATS_FIELDS`).
pub const DISKSTATS_KEYS: [&str; 17] = [
    "reads_completed",
    "reads_merged",
    "sectors_read",
    "time_reading_ms",
    "writes_completed",
    "writes_merged",
    "sectors_written",
    "time_writing_ms",
    "ios_in_progress",
    "time_doing_ios_ms",
    "weighted_time_doing_ios_ms",
    "discards_completed",
    "discards_merged",
    "sectors_discarded",
    "time_discarding_ms",
    "flush_requests_completed",
    "time_flushing_ms",
];

/// Field names after `interface_name` (`NETDEV_FIELDS`).
pub const NETDEV_KEYS: [&str; NET_FIELDS] = [
    "rx_bytes",
    "rx_packets",
    "rx_errors",
    "rx_dropped",
    "rx_fifo",
    "rx_frame",
    "rx_compressed",
    "rx_multicast",
    "tx_bytes",
    "tx_packets",
    "tx_errors",
    "tx_dropped",
    "tx_fifo",
    "tx_collisions",
    "tx_carrier",
    "tx_compressed",
];

/// CPU time fields (`CPU_FIELDS`).
pub const CPU_KEYS: [&str; CPU_FIELDS] = [
    "user",
    "nice",
    "system",
    "idle",
    "iowait",
    "irq",
    "softirq",
    "steal",
    "guest",
    "guest_nice",
];

/// `Some(n)` when JS takes `key` as an array index (canonical decimal, 0 ..= 2^32 - 2): such
/// keys come first in a JS object, in numeric order.
pub fn array_index(key: &str) -> Option<u32> {
    let b = key.as_bytes();
    if b.is_empty() || b.len() > 10 || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    if !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: u64 = key.parse().ok()?;
    u32::try_from(n).ok().filter(|&n| n != u32::MAX)
}

/// The entries of a JS object built by assigning `keys[i]` in order, in the order JS lists
/// them: `(i, j)` with `i` the key's first place and `j` its last (whose value stays). Written
/// into `out`, which is cleared first; sorting in place allocates nothing.
pub fn js_key_order<'a>(keys: impl Fn(usize) -> &'a str, n: usize, out: &mut Vec<(u32, u32)>) {
    out.clear();
    for i in 0..n {
        let k = keys(i);
        if (0..i).any(|p| keys(p) == k) {
            continue;
        }
        let last = (i..n).rev().find(|&j| keys(j) == k).unwrap_or(i);
        out.push((i as u32, last as u32));
    }
    out.sort_unstable_by_key(|&(i, _)| match array_index(keys(i as usize)) {
        Some(n) => (0, n, i),
        None => (1, 0, i),
    });
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A u64 counter, exact.
    Counter,
    /// f64 bits, as Python's float repr.
    Float,
    /// A u64 JS holds as a number (loadavg's process counts).
    JsNumber,
    /// A process state letter (its ASCII code) as a one-letter string.
    Letter,
    /// Hundredths, as Python's float repr of `v / 100`.
    Centi,
    /// Thousandths, as Python's float repr of `v / 1000`.
    Milli,
    /// f64 bits of a number with no type of its own (a gauge), as the JS writer's `numberText`
    /// writes it: integral as an integer, otherwise as Python's float repr.
    Number,
}

/// A process state code as the letter written for it (decode.ts `stateLetter` is the same):
/// anything but an ASCII letter is `?`.
pub fn state_letter(v: u64) -> u8 {
    match u8::try_from(v) {
        Ok(c) if c.is_ascii_alphabetic() => c,
        _ => b'?',
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Literal bytes before this value end here in `Template::lits`.
    lit_end: u32,
    value: u32,
    kind: Kind,
}

/// The sections of one layout's samples: literal bytes with value slots between them.
struct Template {
    layout: Arc<Layout>,
    lits: Vec<u8>,
    slots: Vec<Slot>,
}

struct Builder {
    lits: Vec<u8>,
    slots: Vec<Slot>,
    order: Vec<(u32, u32)>,
}

impl Builder {
    fn lit(&mut self, b: &[u8]) {
        self.lits.extend_from_slice(b);
    }

    fn value(&mut self, value: usize, kind: Kind) {
        self.slots.push(Slot {
            lit_end: self.lits.len() as u32,
            value: value as u32,
            kind,
        });
    }

    /// `"key":` with the separator before it (none for the object's first entry).
    fn key(&mut self, first: bool, key: &str) {
        if !first {
            self.lit(b",");
        }
        quote(&mut self.lits, key);
        self.lit(b":");
    }

    /// A record of counters keyed by `names`, values from `base` on (JS key order).
    fn counters(&mut self, names: &[Arc<str>], base: usize) {
        self.lit(b"{");
        js_key_order(|i| &names[i], names.len(), &mut self.order);
        for e in 0..self.order.len() {
            let (first, last) = self.order[e];
            self.key(e == 0, &names[first as usize]);
            self.value(base + last as usize, Kind::Counter);
        }
        self.lit(b"}");
    }

    /// `{"name_key":"name","field":v,…}` for a disk or interface.
    fn entry(&mut self, name_key: &[u8], name: &str, keys: &[&str], base: usize) {
        self.lit(name_key);
        quote(&mut self.lits, name);
        for (f, k) in keys.iter().enumerate() {
            self.key(false, k);
            self.value(base + f, Kind::Counter);
        }
        self.lit(b"}");
    }

    /// `{"key":…,"pid":…,…}` for one watched process whose values start at `base` (the order
    /// decode.ts builds; I/O fields only where `/proc/<pid>/io` was read).
    fn process(&mut self, p: &ProcIdent, base: usize) {
        self.lit(b"{\"key\":");
        quote(&mut self.lits, &p.key);
        self.key(false, "pid");
        counter(&mut self.lits, u64::from(p.pid));
        self.key(false, "ppid");
        counter(&mut self.lits, u64::from(p.ppid));
        self.key(false, "name");
        quote(&mut self.lits, &p.name);
        self.key(false, "cmdline");
        quote(&mut self.lits, &p.cmdline);
        self.key(false, "start_time_ns");
        as_js_number(&mut self.lits, p.start_time_ns);
        let fields = if p.has_io { PROC_VALUES } else { PROC_IO_FIRST };
        for (f, (k, kind)) in PROC_FIELDS[..fields].iter().enumerate() {
            self.key(false, k);
            let kind = match kind {
                ProcValue::Char => Kind::Letter,
                ProcValue::Int => Kind::Counter,
                ProcValue::Centi => Kind::Centi,
                ProcValue::Milli => Kind::Milli,
            };
            self.value(base + f, kind);
        }
        self.key(false, "restarts");
        counter(&mut self.lits, u64::from(p.restarts));
        match p.last_exit {
            Some(ExitStatus::Code(c)) => {
                self.key(false, "last_exit_code");
                int(&mut self.lits, c);
            }
            Some(ExitStatus::Signal(s)) => {
                self.key(false, "last_exit_signal");
                int(&mut self.lits, s);
            }
            None => {}
        }
        self.lit(b"}");
    }

    /// CPU times from `base`, or the zeros JS puts where the aggregate line is missing.
    fn cpu_times(&mut self, base: Option<usize>) {
        self.lit(b"{");
        for (f, k) in CPU_KEYS.iter().enumerate() {
            self.key(f == 0, k);
            match base {
                Some(b) => self.value(b + f, Kind::Counter),
                None => self.lit(b"0"),
            }
        }
        self.lit(b"}");
    }
}

impl Template {
    fn of(layout: &Arc<Layout>) -> Template {
        let l = &**layout;
        let p = l.present;
        let mut b = Builder {
            lits: Vec::new(),
            slots: Vec::new(),
            order: Vec::new(),
        };
        let mut v = 0usize;
        if p.contains(Metric::Diskstats) {
            b.lit(b",\"diskstats\":[");
            for (d, (name, n)) in l.disks.iter().enumerate() {
                if d > 0 {
                    b.lit(b",");
                }
                let n = usize::from(*n);
                b.entry(b"{\"device_name\":", name, &DISKSTATS_KEYS[..n], v);
                v += n;
            }
            b.lit(b"]");
        }
        if p.contains(Metric::Vmstat) {
            b.lit(b",\"vmstat\":");
            b.counters(&l.vmstat, v);
            v += l.vmstat.len();
        }
        if p.contains(Metric::Meminfo) {
            b.lit(b",\"meminfo\":");
            b.counters(&l.meminfo, v);
            v += l.meminfo.len();
        }
        if p.contains(Metric::Loadavg) {
            let keys = [
                ("load_1min", Kind::Float),
                ("load_5min", Kind::Float),
                ("load_15min", Kind::Float),
                ("running_processes", Kind::JsNumber),
                ("total_processes", Kind::JsNumber),
            ];
            b.lit(b",\"loadavg\":{");
            for (i, (k, kind)) in keys.into_iter().enumerate() {
                b.key(i == 0, k);
                b.value(v + i, kind);
            }
            b.lit(b"}");
            v += LOADAVG_VALUES;
        }
        if p.contains(Metric::Netdev) {
            b.lit(b",\"netdev\":[");
            for (i, name) in l.net.iter().enumerate() {
                if i > 0 {
                    b.lit(b",");
                }
                b.entry(b"{\"interface_name\":", name, &NETDEV_KEYS, v);
                v += NET_FIELDS;
            }
            b.lit(b"]");
        }
        if p.contains(Metric::Stat) {
            // decode.ts: the last `cpu` line is `cpu`, every other goes into `cpus` by name.
            let cpu = l.cpus.iter().rposition(|c| &**c == "cpu");
            let others: Vec<usize> = (0..l.cpus.len())
                .filter(|&i| &*l.cpus[i] != "cpu")
                .collect();
            b.lit(b",\"stat\":{\"cpu\":");
            b.cpu_times(cpu.map(|i| v + i * CPU_FIELDS));
            b.lit(b",\"cpus\":{");
            let mut order = std::mem::take(&mut b.order);
            js_key_order(|i| &l.cpus[others[i]], others.len(), &mut order);
            for (e, &(first, last)) in order.iter().enumerate() {
                b.key(e == 0, &l.cpus[others[first as usize]]);
                b.cpu_times(Some(v + others[last as usize] * CPU_FIELDS));
            }
            b.lit(b"}");
            v += l.cpus.len() * CPU_FIELDS;
            for (i, k) in STAT_SCALARS.iter().enumerate() {
                b.key(false, k);
                b.value(v + i, Kind::Counter);
            }
            b.lit(b"}");
            v += STAT_SCALARS.len();
        }
        if let Some(procs) = &l.procs {
            b.lit(b",\"processes\":[");
            for (i, p) in procs.iter().enumerate() {
                if i > 0 {
                    b.lit(b",");
                }
                b.process(p, v);
                v += PROC_VALUES;
            }
            b.lit(b"]");
        }
        if !l.app.is_empty() {
            // Names cannot be integer-like (app.rs), so the JS key order is registration order.
            b.lit(b",\"app\":{");
            for (i, (name, kind)) in l.app.iter().enumerate() {
                b.key(i == 0, name);
                let kind = match kind {
                    AppKind::Counter => Kind::Counter,
                    AppKind::Gauge => Kind::Number,
                };
                b.value(v + i, kind);
            }
            b.lit(b"}");
            v += l.app.len();
        }
        debug_assert_eq!(v, l.value_count());
        Template {
            layout: layout.clone(),
            lits: b.lits,
            slots: b.slots,
        }
    }

    fn write(&self, out: &mut Vec<u8>, values: &[u64]) {
        let mut from = 0;
        for s in &self.slots {
            let end = s.lit_end as usize;
            out.extend_from_slice(&self.lits[from..end]);
            from = end;
            let v = values[s.value as usize];
            match s.kind {
                Kind::Counter => counter(out, v),
                Kind::Float => py_float(out, f64::from_bits(v)),
                Kind::JsNumber => as_js_number(out, v),
                Kind::Letter => out.extend_from_slice(&[b'"', state_letter(v), b'"']),
                Kind::Centi => py_float(out, v as f64 / 100.0),
                Kind::Milli => py_float(out, v as f64 / 1000.0),
                Kind::Number => number(out, f64::from_bits(v)),
            }
        }
        out.extend_from_slice(&self.lits[from..]);
    }
}

/// lib/json/stringify.ts `numberText`: all the digits of an integral value (never an exponent;
/// -0 is 0), Python's float repr otherwise.
fn number(out: &mut Vec<u8>, x: f64) {
    use std::io::Write;
    if x.is_finite() && x.fract() == 0.0 {
        let x = if x == 0.0 { 0.0 } else { x };
        // Rust prints a float's exact value: an integral double's digits, as BigInt(x) does.
        let _ = write!(out, "{x:.0}");
    } else {
        py_float(out, x);
    }
}

fn int(out: &mut Vec<u8>, v: i32) {
    if v < 0 {
        out.push(b'-');
    }
    counter(out, u64::from(v.unsigned_abs()));
}

/// Layouts whose templates are kept: the sampler uses one at a time; a batch may hold a few.
const TEMPLATES: usize = 4;

/// Formats sample lines for one host (see the module comment).
pub struct SampleLineFormatter {
    /// `{"record":"sample","host":"…","sample":{"timestamp":"`
    head: Vec<u8>,
    /// `,"hostname":"…"`
    hostname: Vec<u8>,
    /// Most recently used last.
    templates: Vec<Template>,
    order: Vec<(u32, u32)>,
}

impl SampleLineFormatter {
    /// `host` as the stream's `host` (the host as requested), `hostname` as the sample's own.
    pub fn new(host: &str, hostname: &str) -> SampleLineFormatter {
        let mut head = b"{\"record\":\"sample\",\"host\":".to_vec();
        quote(&mut head, host);
        head.extend_from_slice(b",\"sample\":{\"timestamp\":\"");
        let mut hn = b",\"hostname\":".to_vec();
        quote(&mut hn, hostname);
        SampleLineFormatter {
            head,
            hostname: hn,
            templates: Vec::new(),
            order: Vec::new(),
        }
    }

    fn template(&mut self, layout: &Arc<Layout>) -> &Template {
        let found = self
            .templates
            .iter()
            .rposition(|t| Arc::ptr_eq(&t.layout, layout));
        match found {
            Some(i) if i + 1 == self.templates.len() => {}
            Some(i) => {
                let t = self.templates.remove(i);
                self.templates.push(t);
            }
            None => {
                if self.templates.len() == TEMPLATES {
                    self.templates.remove(0);
                }
                self.templates.push(Template::of(layout));
            }
        }
        self.templates.last().expect("pushed above")
    }

    /// Append one sample's line (ending in `\n`) to `out`. `values` are the sample's values in
    /// `layout`'s order ([`Layout::encode`]); `errors` its errors in the order they arose.
    ///
    /// Panics if `values` does not hold `layout.value_count()` values.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        layout: &Arc<Layout>,
        wall_ns: u64,
        values: &[u64],
        errors: &[impl AsSampleError],
    ) {
        assert_eq!(
            values.len(),
            layout.value_count(),
            "sample values do not follow layout {}",
            layout.id
        );
        out.extend_from_slice(&self.head);
        iso_seconds(out, wall_ns);
        out.extend_from_slice(b"\",\"timestamp_ns\":");
        as_js_number(out, wall_ns);
        out.extend_from_slice(&self.hostname);
        let mut order = std::mem::take(&mut self.order);
        self.template(layout).write(out, values);
        if !errors.is_empty() {
            // decode.ts: `errors[source] = message` in order.
            let e = |i: usize| errors[i].sample_error();
            js_key_order(|i| &e(i).source, errors.len(), &mut order);
            out.extend_from_slice(b",\"errors\":{");
            for (n, &(first, last)) in order.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                quote(out, &e(first as usize).source);
                out.push(b':');
                quote(out, &e(last as usize).message);
            }
            out.push(b'}');
        }
        self.order = order;
        out.extend_from_slice(b"}}\n");
    }

    /// Append the line of sample `i` of `batch` (its layout must be in this batch: a batch
    /// filtered by [`crate::store::SentLayouts`] may lack it, and then this panics).
    pub fn write_batch_sample(&mut self, out: &mut Vec<u8>, batch: &Batch, i: usize) {
        let id = batch.layout_ids[i];
        let layout = batch
            .layouts
            .iter()
            .find(|l| l.id == id)
            .unwrap_or_else(|| panic!("layout {id} of sample {i} is not in this batch"));
        let values = &batch.values[batch.offsets[i] as usize..batch.offsets[i + 1] as usize];
        // A batch's errors are in sample order.
        let at = batch.errors.partition_point(|e| (e.0 as usize) < i);
        let end = batch.errors.partition_point(|e| (e.0 as usize) <= i);
        self.write(
            out,
            layout,
            batch.wall_ns[i],
            values,
            &batch.errors[at..end],
        );
    }
}

/// A sample's error as the sampler holds it, or as a batch does (with its sample index).
pub trait AsSampleError {
    fn sample_error(&self) -> &SampleError;
}

impl AsSampleError for SampleError {
    fn sample_error(&self) -> &SampleError {
        self
    }
}

impl AsSampleError for (u32, SampleError) {
    fn sample_error(&self) -> &SampleError {
        &self.1
    }
}
