//! N-API binding over hostseries-core: conversions only. Samples cross as one batch of typed
//! arrays per call; the TypeScript layer turns them into objects. Errors cross as JS errors
//! whose `code` is the core's [`ErrorCode`] (see [`Throw`]).
#![deny(clippy::all)]

use std::path::PathBuf;

use hostseries_core::app::{AppKind, AppValues};
use hostseries_core::blob::{Picked, Picks};
use hostseries_core::clock::{mono_ns, wall_ns};
use hostseries_core::jsonl::writer::StreamConfig;
use hostseries_core::jsonl::SampleLineFormatter;
use hostseries_core::layout::LayoutTracker;
use hostseries_core::procs::{
    CmdlinePolicy, ExitStatus, ProcIdent, RemoteFile, RemoteProcs, WatchSpec,
};
use hostseries_core::sampler::interval_from_ms;
use hostseries_core::series::{Overflow, Retention};
use hostseries_core::store::{SampleError, Store};
use hostseries_core::{
    Batch, Error as CoreError, ErrorCode, Layout, Metric, MetricSet, ProcReader, Sampler,
    SamplerConfig, Snapshot, TextSampler,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// The `code` of a thrown error: the core's code, or N-API's status for a failure of N-API
/// itself (the TypeScript layer reports those as ERR_NATIVE).
pub enum Code {
    Core(ErrorCode),
    Napi(Status),
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        match self {
            Code::Core(c) => c.as_str(),
            Code::Napi(s) => s.as_ref(),
        }
    }
}

mod js {
    /// What the exported functions return: napi-rs throws the error with its `code` set. (The
    /// `#[napi]` macro knows a result by the last segment of its name, hence a module.)
    pub type Result<T> = std::result::Result<T, napi::Error<super::Code>>;
}

/// The one conversion of errors to JS: `.or_throw()?` on a core or an N-API result.
trait Throw<T> {
    fn or_throw(self) -> js::Result<T>;
}

impl<T> Throw<T> for std::result::Result<T, CoreError> {
    fn or_throw(self) -> js::Result<T> {
        self.map_err(|e| {
            let message = match e.option() {
                Some(option) => format!("{} {}", js_option(option), e.problem()),
                None => e.to_string(),
            };
            napi::Error::new(Code::Core(e.code()), message)
        })
    }
}

impl<T> Throw<T> for Result<T> {
    fn or_throw(self) -> js::Result<T> {
        self.map_err(|e| napi::Error::new(Code::Napi(e.status), e.reason))
    }
}

/// A core option's name as the JS caller spells it (`SamplerOptions`' field).
fn js_option(rust: &'static str) -> &'static str {
    match rust {
        "interval" => "intervalMs",
        "proc_path" => "procPath",
        "retain_samples" => "retainSamples",
        "retain_seconds" => "retainSeconds",
        "fd" => "stream.fd",
        other => other,
    }
}

fn metric_set(metrics: Option<Vec<String>>) -> js::Result<MetricSet> {
    let Some(names) = metrics else {
        return Ok(MetricSet::all());
    };
    names.iter().map(|n| metric(n)).collect()
}

#[napi(object)]
pub struct NativeLayout {
    pub id: u32,
    /// Sections present in samples of this layout.
    pub sections: Vec<String>,
    pub disks: Vec<String>,
    /// Per disk: 11, 15 or 17 fields.
    pub disk_fields: Vec<u32>,
    pub vmstat: Vec<String>,
    pub meminfo: Vec<String>,
    pub net: Vec<String>,
    pub cpus: Vec<String>,
    /// The watched processes, when processes are watched (then `sections` has `processes`).
    pub procs: Option<Vec<NativeProc>>,
    /// Application counter and gauge names (then `sections` has `app`).
    pub app: Vec<String>,
    /// Per `app` name: a gauge (an f64's bits) or a counter.
    pub app_gauge: Vec<bool>,
}

/// What identifies one watched process in a layout (its values come per sample).
#[napi(object)]
pub struct NativeProc {
    pub key: String,
    pub pid: u32,
    pub ppid: u32,
    pub name: String,
    pub cmdline: String,
    pub start_time_ns: BigInt,
    pub restarts: u32,
    pub last_exit_code: Option<i32>,
    pub last_exit_signal: Option<i32>,
    pub has_io: bool,
}

fn proc_to_js(p: &ProcIdent) -> NativeProc {
    let (code, signal) = match p.last_exit {
        Some(ExitStatus::Code(c)) => (Some(c), None),
        Some(ExitStatus::Signal(s)) => (None, Some(s)),
        None => (None, None),
    };
    NativeProc {
        key: p.key.to_string(),
        pid: p.pid,
        ppid: p.ppid,
        name: p.name.to_string(),
        cmdline: p.cmdline.to_string(),
        start_time_ns: BigInt::from(p.start_time_ns),
        restarts: p.restarts,
        last_exit_code: code,
        last_exit_signal: signal,
        has_io: p.has_io,
    }
}

#[napi(object)]
pub struct NativeSampleError {
    pub sample: u32,
    pub source: String,
    pub message: String,
}

#[napi(object)]
pub struct NativeSampleExtra {
    pub sample: u32,
    /// JSON text (custom collectors' values).
    pub json: String,
}

#[napi(object, object_from_js = false)]
pub struct NativeBatch<'env> {
    pub layouts: Vec<NativeLayout>,
    pub layout_ids: Uint32ArraySlice<'env>,
    /// Per sample: its sequence number since the start.
    pub seqs: Float64ArraySlice<'env>,
    pub wall_ns: BigUint64ArraySlice<'env>,
    pub mono_ns: BigUint64ArraySlice<'env>,
    pub offsets: Uint32ArraySlice<'env>,
    pub values: BigUint64ArraySlice<'env>,
    pub errors: Vec<NativeSampleError>,
    /// What stored samples carried beyond their layout's values (see `decodeSampleBlob`).
    pub extras: Vec<NativeSampleExtra>,
    pub missed_ticks: f64,
    pub dropped: f64,
    pub skipped_lines: f64,
}

fn names(v: &[std::sync::Arc<str>]) -> Vec<String> {
    v.iter().map(|n| n.to_string()).collect()
}

fn layout_to_js(l: &Layout) -> NativeLayout {
    NativeLayout {
        id: l.id,
        sections: l
            .present
            .iter()
            .map(|m| m.name().to_string())
            .chain(l.procs.is_some().then(|| "processes".to_string()))
            .chain((!l.app.is_empty()).then(|| "app".to_string()))
            .collect(),
        disks: l.disks.iter().map(|d| d.0.to_string()).collect(),
        disk_fields: l.disks.iter().map(|d| u32::from(d.1)).collect(),
        vmstat: names(&l.vmstat),
        meminfo: names(&l.meminfo),
        net: names(&l.net),
        cpus: names(&l.cpus),
        procs: l.procs.as_ref().map(|p| p.iter().map(proc_to_js).collect()),
        app: l.app.iter().map(|a| a.0.to_string()).collect(),
        app_gauge: l.app.iter().map(|a| a.1 == AppKind::Gauge).collect(),
    }
}

/// Columns are copied into JS-owned memory: cheaper per drain than an external buffer each
/// (measured: ~10x on a 4 KB batch), and nothing native outlives the batch.
fn batch_to_js(env: &Env, b: Batch) -> js::Result<NativeBatch<'_>> {
    batch_columns(env, b).or_throw()
}

fn batch_columns(env: &Env, b: Batch) -> Result<NativeBatch<'_>> {
    Ok(NativeBatch {
        layouts: b.layouts.iter().map(|l| layout_to_js(l)).collect(),
        layout_ids: Uint32ArraySlice::copy_from(env, &b.layout_ids)?,
        seqs: Float64ArraySlice::copy_from(
            env,
            b.seqs.iter().map(|&s| s as f64).collect::<Vec<_>>(),
        )?,
        wall_ns: BigUint64ArraySlice::copy_from(env, &b.wall_ns)?,
        mono_ns: BigUint64ArraySlice::copy_from(env, &b.mono_ns)?,
        offsets: Uint32ArraySlice::copy_from(env, &b.offsets)?,
        values: BigUint64ArraySlice::copy_from(env, &b.values)?,
        errors: b
            .errors
            .into_iter()
            .map(|(sample, e)| NativeSampleError {
                sample,
                source: e.source,
                message: e.message,
            })
            .collect(),
        extras: b
            .extras
            .into_iter()
            .map(|(sample, json)| NativeSampleExtra { sample, json })
            .collect(),
        missed_ticks: b.missed_ticks as f64,
        dropped: b.dropped as f64,
        skipped_lines: b.skipped_lines as f64,
    })
}

/// One host's samples as columns, to store as a blob (`encodeSampleBlob`).
#[napi(object)]
pub struct SampleColumns {
    pub layout_ids: Uint32Array,
    pub wall_ns: BigUint64Array,
    /// Per sample `i`, its values are `values[offsets[i]..offsets[i + 1]]`.
    pub offsets: Uint32Array,
    pub values: BigUint64Array,
    pub errors: Vec<NativeSampleError>,
    pub extras: Vec<NativeSampleExtra>,
}

fn columns_error(problem: String) -> CoreError {
    CoreError::invalid_option("columns", problem)
}

/// The samples as one self-contained blob (the series encoding: a keyframe, then changed-value
/// bitmaps and varint deltas), for a store that keeps layouts by id beside it.
#[napi]
pub fn encode_sample_blob(columns: SampleColumns) -> js::Result<Buffer> {
    let n = columns.layout_ids.len();
    let offsets: &[u32] = &columns.offsets;
    let ok_offsets = offsets.len() == n + 1
        && offsets.first() == Some(&0)
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && offsets.last().map(|&o| o as usize) == Some(columns.values.len());
    if !ok_offsets || columns.wall_ns.len() != n {
        return Err(columns_error(format!(
            "{n} samples need {n} wallNs and {} offsets from 0 up to values.length ({}), got {} and {}",
            n + 1,
            columns.values.len(),
            columns.wall_ns.len(),
            offsets.len()
        )))
        .or_throw();
    }
    let mut errors: Vec<(u32, SampleError)> = columns
        .errors
        .into_iter()
        .map(|e| {
            (
                e.sample,
                SampleError {
                    source: e.source,
                    message: e.message,
                },
            )
        })
        .collect();
    let mut extras: Vec<(u32, String)> = columns
        .extras
        .into_iter()
        .map(|e| (e.sample, e.json))
        .collect();
    if let Some(bad) = errors
        .iter()
        .map(|e| e.0)
        .chain(extras.iter().map(|e| e.0))
        .find(|&i| i as usize >= n)
    {
        return Err(columns_error(format!(
            "an error or extra names sample {bad} of {n}"
        )))
        .or_throw();
    }
    // In sample order, as a batch keeps them (stable: an error's order within its sample stays).
    errors.sort_by_key(|e| e.0);
    extras.sort_by_key(|e| e.0);
    let b = Batch {
        layout_ids: columns.layout_ids.to_vec(),
        wall_ns: columns.wall_ns.to_vec(),
        offsets: offsets.to_vec(),
        values: columns.values.to_vec(),
        errors,
        extras,
        ..Batch::default()
    };
    Ok(Buffer::from(hostseries_core::blob::encode_blob(&b)))
}

/// The samples of a blob as a batch without layouts (the store knows them by id). With
/// `maxValues` (a blob from elsewhere), more values than that in all is an error.
#[napi]
pub fn decode_sample_blob(
    env: &Env,
    blob: Buffer,
    max_values: Option<u32>,
) -> js::Result<NativeBatch<'_>> {
    let mut b = Batch::default();
    let max = max_values.map_or(usize::MAX, |m| m as usize);
    hostseries_core::blob::decode_blob_bounded(&blob, &mut b, max).or_throw()?;
    batch_to_js(env, b)
}

/// Which values `pickSampleBlob` reads: for the layout `layoutIds[i]`, the value indices
/// `at[i * k .. i * k + k]` (`0xFFFFFFFF`: that layout has no such value).
#[napi(object)]
pub struct SamplePicks {
    pub k: u32,
    pub layout_ids: Uint32Array,
    pub at: Uint32Array,
}

/// Per sample of a blob its layout id, wall time and the `k` picked values (0 where none).
#[napi(object, object_from_js = false)]
pub struct PickedValues<'env> {
    pub layout_ids: Uint32ArraySlice<'env>,
    pub wall_ns: BigUint64ArraySlice<'env>,
    pub values: BigUint64ArraySlice<'env>,
}

fn picked_to_js(env: &Env, p: Picked) -> Result<PickedValues<'_>> {
    Ok(PickedValues {
        layout_ids: Uint32ArraySlice::copy_from(env, &p.layout_ids)?,
        wall_ns: BigUint64ArraySlice::copy_from(env, &p.wall_ns)?,
        values: BigUint64ArraySlice::copy_from(env, &p.values)?,
    })
}

/// A few values of every sample of a blob (a store reading some paths), the others skipped: the
/// same values `decodeSampleBlob` gives at those indices, without making the rest.
#[napi]
pub fn pick_sample_blob(
    env: &Env,
    blob: Buffer,
    picks: SamplePicks,
) -> js::Result<PickedValues<'_>> {
    let picks_ref = Picks {
        k: picks.k as usize,
        layout_ids: &picks.layout_ids,
        at: &picks.at,
    };
    let mut out = Picked::default();
    hostseries_core::blob::pick_blob(&blob, &picks_ref, &mut out).or_throw()?;
    picked_to_js(env, out).or_throw()
}

fn metric(name: &str) -> js::Result<Metric> {
    name.parse::<Metric>().or_throw()
}

/// Parse raw text of one /proc file (`diskstats`, `vmstat`, `meminfo`, `loadavg`, `netdev`,
/// `stat`) with the sampler's own parsers.
#[napi]
pub fn parse_proc(
    env: &Env,
    metric_name: String,
    text: Either<String, Buffer>,
) -> js::Result<NativeBatch<'_>> {
    let m = metric(&metric_name)?;
    let bytes: &[u8] = match &text {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    };
    let b = TextSampler::default().sample([(m, bytes)], wall_ns(), mono_ns());
    batch_to_js(env, b)
}

/// Samples from /proc text read elsewhere (a remote host), one frame at a time. State is kept
/// between frames: names are interned once and a layout crosses only when it is new.
#[napi]
pub struct ProcParser {
    inner: TextSampler,
}

#[napi(object)]
pub struct ProcParserOptions {
    /// Keep the samples natively too, at most this many (Infinity: no bound; see `history`).
    pub retain_samples: Option<f64>,
    /// What a full retention does: `keep-first` (the default) or `rolling`.
    pub overflow: Option<String>,
    /// Also keep only the samples of the last this many seconds (a rolling window by time).
    pub retain_seconds: Option<f64>,
    /// Processes of the remote host to watch (`name:`, `pid:`, `cmd:`): samples given `procs`
    /// carry them.
    pub watch: Option<Vec<String>>,
    /// What of their command lines is recorded: `redacted` (the default), `full` or `off`.
    pub cmdline: Option<String>,
}

/// The process part of a remote frame: per file, its PID, its name (`stat`, `status`, `io`,
/// `io!`, `cmdline`, `cmdline?`) and its text.
#[napi(object)]
pub struct RemoteProcsInit {
    /// The host's boot time, seconds since 1970.
    pub btime: f64,
    /// `/proc/uptime`.
    pub uptime: Option<Buffer>,
    /// What the tick line asked for, as the loop echoed it.
    pub asked: Option<String>,
    pub pids: Vec<u32>,
    pub files: Vec<String>,
    pub texts: Vec<Buffer>,
    pub truncated: Option<bool>,
    pub no_cmdline: Option<bool>,
}

/// What the remote loop picks by itself.
#[napi(object)]
pub struct RemoteWatchPlan {
    pub names: Vec<String>,
    pub pids: Vec<u32>,
    pub cmd: bool,
    /// Send the command lines of the processes picked (not with `cmdline: 'off'`).
    pub cmdlines: bool,
}

fn watch_specs(items: &[String]) -> js::Result<Vec<WatchSpec>> {
    items
        .iter()
        .map(|i| WatchSpec::parse(i))
        .collect::<std::result::Result<Vec<_>, CoreError>>()
        .or_throw()
}

/// Make this process a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): orphans of its
/// descendants are re-parented to it rather than to init. Null, or why it could not.
#[napi]
pub fn set_child_subreaper() -> Option<String> {
    hostseries_core::procs::set_child_subreaper()
        .err()
        .map(|e| format!("prctl(PR_SET_CHILD_SUBREAPER): {e}"))
}

/// The soft and hard RLIMIT_NOFILE of this process.
#[napi]
pub fn nofile_limits() -> Vec<f64> {
    let (soft, hard) = hostseries_core::procs::nofile_limits();
    vec![soft as f64, hard as f64]
}

fn cmdline_policy(s: Option<&str>) -> js::Result<CmdlinePolicy> {
    s.map_or(Ok(CmdlinePolicy::default()), CmdlinePolicy::parse)
        .or_throw()
}

#[napi(object)]
pub struct SampleErrorInit {
    pub source: String,
    pub message: String,
}

#[napi]
impl ProcParser {
    #[napi(constructor)]
    pub fn new(options: Option<ProcParserOptions>) -> js::Result<Self> {
        let (inner, watch, cmdline) = match options {
            Some(o) => match retention(o.retain_samples, o.overflow, o.retain_seconds)? {
                Some(r) => (TextSampler::retaining(r), o.watch, o.cmdline),
                None => (TextSampler::default(), o.watch, o.cmdline),
            },
            None => (TextSampler::default(), None, None),
        };
        let policy = cmdline_policy(cmdline.as_deref())?;
        let mut p = ProcParser { inner };
        if let Some(items) = watch {
            let specs = watch_specs(&items)?;
            p.inner.watch(specs).or_throw()?;
            p.inner.set_cmdline_policy(policy);
        }
        Ok(p)
    }

    /// What the remote loop is to pick by itself (null: no process is watched).
    #[napi]
    pub fn watch_plan(&self) -> Option<RemoteWatchPlan> {
        self.inner.watch_plan().map(|p| RemoteWatchPlan {
            names: p.names,
            pids: p.pids,
            cmd: p.cmd,
            cmdlines: p.cmdlines,
        })
    }

    /// What the next tick line asks the remote loop for (PIDs, `cPID`), space-separated.
    #[napi]
    pub fn watch_request(&self) -> String {
        let mut s = String::new();
        self.inner.watch_request(&mut s);
        s
    }

    /// One sample: `texts[i]` is the text of section `metrics[i]` (null: absent); `errors` are
    /// the sample's own (a section missing, a lost connection), kept with it; `procs`, the
    /// frame's watched processes.
    #[napi]
    #[allow(clippy::too_many_arguments)] // the JS call's own arguments, as they cross
    pub fn parse<'env>(
        &mut self,
        env: &'env Env,
        metrics: Vec<String>,
        texts: Vec<Option<Buffer>>,
        wall_ns: BigInt,
        mono_ns: BigInt,
        errors: Option<Vec<SampleErrorInit>>,
        procs: Option<RemoteProcsInit>,
    ) -> js::Result<NativeBatch<'env>> {
        if metrics.len() != texts.len() {
            return Err(CoreError::invalid_option(
                "texts",
                format!("has {} entries for {} metrics", texts.len(), metrics.len()),
            ))
            .or_throw();
        }
        let ms = metrics
            .iter()
            .map(|m| metric(m))
            .collect::<js::Result<Vec<_>>>()?;
        let sections = ms
            .into_iter()
            .zip(&texts)
            .filter_map(|(m, t)| t.as_ref().map(|t| (m, &t[..])));
        let errors = errors
            .unwrap_or_default()
            .into_iter()
            .map(|e| SampleError {
                source: e.source,
                message: e.message,
            })
            .collect();
        let procs = match &procs {
            Some(p) => Some(remote_procs(p)?),
            None => None,
        };
        let b = self.inner.sample_frame(
            sections,
            procs.as_ref(),
            wall_ns.get_u64().1,
            mono_ns.get_u64().1,
            errors,
        );
        batch_to_js(env, b)
    }

    /// The retained samples from sequence number `from` on, optionally only those of the last
    /// `lastMs` before the newest.
    #[napi]
    pub fn history<'env>(
        &mut self,
        env: &'env Env,
        from: f64,
        last_ms: Option<f64>,
    ) -> js::Result<NativeBatch<'env>> {
        let b = self
            .inner
            .history(seq_of(from), last_ms.map(|ms| seq_of(ms * 1e6)));
        batch_to_js(env, b)
    }
}

fn remote_procs(p: &RemoteProcsInit) -> js::Result<RemoteProcs<'_>> {
    if p.pids.len() != p.files.len() || p.files.len() != p.texts.len() {
        return Err(CoreError::invalid_option(
            "procs",
            format!(
                "{} pids, {} files and {} texts: expected as many of each",
                p.pids.len(),
                p.files.len(),
                p.texts.len()
            ),
        ))
        .or_throw();
    }
    let mut files = Vec::with_capacity(p.files.len());
    for ((pid, name), text) in p.pids.iter().zip(&p.files).zip(&p.texts) {
        let Some(file) = RemoteFile::from_name(name) else {
            return Err(CoreError::invalid_option(
                "procs",
                format!("{name:?} is not a process file"),
            ))
            .or_throw();
        };
        files.push((*pid, file, &text[..]));
    }
    Ok(RemoteProcs {
        btime: p.btime.max(0.0) as u64,
        uptime: p.uptime.as_deref(),
        asked: p.asked.as_deref().unwrap_or("").as_bytes(),
        files,
        truncated: p.truncated.unwrap_or(false),
        no_cmdline: p.no_cmdline.unwrap_or(false),
    })
}

#[napi(object)]
pub struct SampleLinesOptions {
    /// The stream's `host` (the host as requested).
    pub host: String,
    /// The samples' own `hostname`.
    pub hostname: String,
    /// Samples to read from the proc filesystem when no `frames` are given (default 1).
    pub count: Option<u32>,
    /// Where the proc filesystem is mounted (default `/proc`); a missing file is an error in
    /// the sample, as in the sampler.
    pub proc_path: Option<String>,
    /// Sections to read (default all); with `frames`, the section of each text.
    pub metrics: Option<Vec<String>>,
    /// Text instead of reads, one sample per frame: `frames[i][j]` is the text of section
    /// `metrics[j]` (null: absent). Parsed in order with one name table, as `ProcParser` does.
    pub frames: Option<Vec<Vec<Option<Buffer>>>>,
    /// Per frame, its wall time in ns since the epoch (default: now).
    pub wall_ns: Option<Vec<BigInt>>,
}

#[napi(object, object_from_js = false)]
pub struct SampleLines<'env> {
    /// Per sample, its line of the JSON Lines stream (ASCII, ending in a newline).
    pub lines: Vec<Buffer>,
    /// The same samples, every layout included, for the TypeScript decoder.
    pub batch: NativeBatch<'env>,
}

/// Samples' lines of the JSON Lines stream as the core formats them, beside the samples
/// themselves, so that a test can compare them with the JS writer's. Not a public API.
#[napi]
pub fn format_sample_lines(env: &Env, options: SampleLinesOptions) -> js::Result<SampleLines<'_>> {
    let mut formatter = SampleLineFormatter::new(&options.host, &options.hostname);
    let mut layouts = LayoutTracker::default();
    let mut values = Vec::new();
    let mut lines = Vec::new();
    let walls: Vec<u64> = options
        .wall_ns
        .unwrap_or_default()
        .iter()
        .map(|w| w.get_u64().1)
        .collect();
    let capacity = options
        .frames
        .as_ref()
        .map_or(options.count.unwrap_or(1), |f| f.len() as u32);
    let mut store = Store::new(capacity as usize);
    let mut sample = |snap: &Snapshot, wall: u64, errors: &mut Vec<SampleError>| {
        let layout = layouts.for_snapshot(snap).clone();
        values.clear();
        layout.encode(snap, &mut values);
        let mut line = Vec::new();
        formatter.write(&mut line, &layout, wall, &values, errors);
        lines.push(Buffer::from(line));
        store.push(&layout, wall, mono_ns(), snap, errors);
    };
    match &options.frames {
        Some(frames) => {
            let Some(names) = &options.metrics else {
                return Err(CoreError::invalid_option(
                    "metrics",
                    "must name the section of each text when frames are given",
                ))
                .or_throw();
            };
            let ms = names
                .iter()
                .map(|m| metric(m))
                .collect::<js::Result<Vec<_>>>()?;
            let mut reader = ProcReader::new(MetricSet::EMPTY);
            let mut snap = Snapshot::default();
            for (i, frame) in frames.iter().enumerate() {
                if frame.len() != ms.len() {
                    return Err(CoreError::invalid_option(
                        "frames",
                        format!("[{i}] has {} texts for {} metrics", frame.len(), ms.len()),
                    ))
                    .or_throw();
                }
                snap.present = MetricSet::EMPTY;
                snap.shape_changed = false;
                for (m, text) in ms.iter().zip(frame) {
                    if let Some(t) = text {
                        reader.parse(*m, t, &mut snap);
                    }
                }
                let wall = walls.get(i).copied().unwrap_or_else(wall_ns);
                sample(&snap, wall, &mut Vec::new());
            }
        }
        None => {
            let proc = options.proc_path.as_deref().unwrap_or("/proc");
            let mut reader =
                ProcReader::with_proc(std::path::Path::new(proc), metric_set(options.metrics)?);
            for _ in 0..capacity {
                let mut errors = Vec::new();
                reader.read(&mut errors);
                sample(reader.snapshot(), wall_ns(), &mut errors);
            }
        }
    }
    Ok(SampleLines {
        lines,
        batch: batch_to_js(env, store.drain())?,
    })
}

#[napi(object)]
pub struct SamplerOptions {
    pub interval_ms: f64,
    pub capacity: Option<u32>,
    pub metrics: Option<Vec<String>>,
    /// Where the proc filesystem is mounted (default `/proc`).
    pub proc_path: Option<String>,
    /// Keep the samples natively too, at most this many (Infinity: no bound; see `history`).
    pub retain_samples: Option<f64>,
    /// What a full retention does: `keep-first` (the default) or `rolling`.
    pub overflow: Option<String>,
    /// Also keep only the samples of the last this many seconds (a rolling window by time).
    pub retain_seconds: Option<f64>,
    /// Processes to watch (see `NativeSampler.watch`).
    pub watch: Option<Vec<String>>,
    /// What of their command lines is recorded: `redacted` (the default), `full` or `off`.
    pub cmdline: Option<String>,
}

/// Where `start` appends each sample's line of the JSON Lines stream, natively.
#[napi(object)]
pub struct StreamOptions {
    /// An open descriptor of the stream, positioned after its header (duplicated: the caller
    /// keeps its own, which shares the offset, for the footer).
    pub fd: i32,
    pub host: String,
    pub hostname: String,
    /// Bytes of the file known good (the header), to cut back to after a failed write.
    pub good_bytes: f64,
    pub fsync_interval_ms: f64,
    /// Samples past this many are neither written nor kept (default: no cap).
    pub max_samples: Option<f64>,
}

#[napi(object)]
pub struct StreamFailureInfo {
    /// The OS errno (0 for a failure of the writer itself).
    pub errno: i32,
    /// `write`, `fsync` or `format`.
    pub action: String,
    pub message: String,
}

#[napi(object)]
pub struct StreamStatusInfo {
    pub written: f64,
    pub accepted: f64,
    pub good_bytes: f64,
    pub batches: f64,
    pub failure: Option<StreamFailureInfo>,
}

fn stream_config(o: StreamOptions) -> js::Result<StreamConfig> {
    use std::os::fd::BorrowedFd;
    if o.fd < 0 {
        return Err(CoreError::invalid_option(
            "fd",
            format!("must be an open descriptor, got {}", o.fd),
        ))
        .or_throw();
    }
    // SAFETY: only borrowed for the dup; a closed descriptor makes the dup fail (EBADF).
    let owned = unsafe { BorrowedFd::borrow_raw(o.fd) }
        .try_clone_to_owned()
        .map_err(|e| CoreError::invalid_option("fd", format!("{} cannot be duplicated: {e}", o.fd)))
        .or_throw()?;
    Ok(StreamConfig {
        file: std::fs::File::from(owned),
        host: o.host,
        hostname: o.hostname,
        good_bytes: seq_of(o.good_bytes),
        fsync_interval: std::time::Duration::from_secs_f64(o.fsync_interval_ms.max(0.0) / 1000.0),
        max_samples: o.max_samples.map_or(u64::MAX, seq_of),
    })
}

#[napi(object)]
pub struct SamplerCounts {
    pub taken: f64,
    pub retained: f64,
    pub retained_bytes: f64,
    pub missed_ticks: f64,
    pub feed_dropped: f64,
    pub skipped_lines: f64,
}

fn retention(
    max: Option<f64>,
    overflow: Option<String>,
    seconds: Option<f64>,
) -> js::Result<Option<Retention>> {
    let overflow = match overflow.as_deref() {
        None | Some("keep-first") => Overflow::KeepFirst,
        Some("rolling") => Overflow::Rolling,
        Some(other) => {
            return Err(CoreError::invalid_option(
                "overflow",
                format!("must be 'keep-first' or 'rolling', got {other:?}"),
            ))
            .or_throw()
        }
    };
    if max.is_none() && seconds.is_none() {
        return Ok(None);
    }
    let max = max.unwrap_or(f64::INFINITY);
    if max.is_nan() || max < 1.0 {
        return Err(CoreError::invalid_option(
            "retain_samples",
            format!("must be at least 1, got {max}"),
        ))
        .or_throw();
    }
    let seconds = seconds.unwrap_or(f64::INFINITY);
    if seconds.is_nan() || seconds <= 0.0 {
        return Err(CoreError::invalid_option(
            "retain_seconds",
            format!("must be more than 0, got {seconds}"),
        ))
        .or_throw();
    }
    Ok(Some(Retention {
        max_samples: if max >= usize::MAX as f64 {
            usize::MAX
        } else {
            max as usize
        },
        overflow,
        max_age_ns: seq_of(seconds * 1e9),
    }))
}

/// A sequence number or count from JS: a whole number (fractions and negatives are clamped).
fn seq_of(n: f64) -> u64 {
    if n.is_nan() || n <= 0.0 {
        0
    } else if n >= u64::MAX as f64 {
        u64::MAX
    } else {
        n as u64
    }
}

type Wake = ThreadsafeFunction<(), (), (), Status, false, true>;

/// Resolves `finish()`'s promise when dropped, however the callback is disposed of: a deferred
/// never settled would hold the event loop open for ever.
struct Settle(Option<Deferred>);

type Deferred = napi::JsDeferred<(), fn(Env) -> Result<()>>;

impl Drop for Settle {
    fn drop(&mut self) {
        if let Some(d) = self.0.take() {
            d.resolve(|_| Ok(()));
        }
    }
}

/// The sampling thread. `start(onSample?)` calls `onSample` (without arguments) after each
/// sample; the callback never keeps the event loop alive.
#[napi]
pub struct NativeSampler {
    config: SamplerConfig,
    sampler: Option<Sampler>,
}

impl NativeSampler {
    fn app(&self) -> &AppValues {
        self.config.app.as_deref().expect("made with the sampler")
    }
}

#[napi]
impl NativeSampler {
    #[napi(constructor)]
    pub fn new(options: SamplerOptions) -> js::Result<Self> {
        let defaults = SamplerConfig::default();
        let config = SamplerConfig {
            interval: interval_from_ms(options.interval_ms).or_throw()?,
            capacity: options.capacity.map_or(defaults.capacity, |c| c as usize),
            metrics: metric_set(options.metrics)?,
            proc_path: options.proc_path.map_or(defaults.proc_path, PathBuf::from),
            retention: retention(
                options.retain_samples,
                options.overflow,
                options.retain_seconds,
            )?,
            watch: watch_specs(options.watch.as_deref().unwrap_or_default())?,
            cmdline: cmdline_policy(options.cmdline.as_deref())?,
            app: Some(AppValues::new()),
        };
        config.check().or_throw()?;
        Ok(NativeSampler {
            config,
            sampler: None,
        })
    }

    #[napi]
    pub fn start(
        &mut self,
        on_sample: Option<Function<(), ()>>,
        stream: Option<StreamOptions>,
    ) -> js::Result<()> {
        if let Some(s) = &self.sampler {
            let message = if s.is_running() {
                "the sampler is already running"
            } else {
                "the sampler has stopped; a sampler runs once (make a new one)"
            };
            return Err(CoreError::new(ErrorCode::AlreadyStarted, message)).or_throw();
        }
        let notify = match on_sample {
            Some(f) => {
                let tsfn: Wake = f
                    .build_threadsafe_function::<()>()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()
                    .or_throw()?;
                Some(Box::new(move || {
                    // Closing (env teardown) is not an error worth reporting from this thread.
                    let _ = tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
                }) as hostseries_core::sampler::Notify)
            }
            None => None,
        };
        let stream = stream.map(stream_config).transpose()?;
        self.sampler =
            Some(Sampler::start_streaming(self.config.clone(), notify, stream).or_throw()?);
        Ok(())
    }

    /// The native stream's state (see `start`'s `stream`), if there is one.
    #[napi]
    pub fn stream_status(&self) -> Option<StreamStatusInfo> {
        let st = self.sampler.as_ref()?.stream_status()?;
        Some(StreamStatusInfo {
            written: st.written as f64,
            accepted: st.accepted as f64,
            good_bytes: st.good_bytes as f64,
            batches: st.batches as f64,
            failure: st.failure.map(|f| StreamFailureInfo {
                errno: f.errno,
                action: f.action.to_string(),
                message: f.message,
            }),
        })
    }

    /// Append a whole record line (a marker, ending in `\n`) to the native stream after the
    /// samples so far; false without a stream or once it takes nothing more (the caller keeps it).
    #[napi]
    pub fn stream_append_line(&self, line: String) -> bool {
        self.sampler
            .as_ref()
            .is_some_and(|s| s.stream_append_line(line.into_bytes()))
    }

    /// The samples the stream accepted and could not write (after a failure).
    #[napi]
    pub fn stream_unwritten<'env>(&self, env: &'env Env) -> js::Result<NativeBatch<'env>> {
        let b = self
            .sampler
            .as_ref()
            .map(Sampler::stream_unwritten)
            .unwrap_or_default();
        batch_to_js(env, b)
    }

    /// Watch more processes: `self`, `N` or `pid:N`, `tree:N` (N and its descendants),
    /// `name:NAME`, `cmd:/REGEX/`; from the start, or from the next sample on.
    #[napi]
    pub fn watch(&mut self, items: Vec<String>) -> js::Result<()> {
        let specs = watch_specs(&items)?;
        match &self.sampler {
            Some(s) => specs.into_iter().for_each(|w| s.watch(w)),
            None => self.config.watch.extend(specs),
        }
        Ok(())
    }

    /// Our children other than `root` and `exclude` are orphans of the tree `tree:<root>`
    /// (this process made itself a child subreaper, `setChildSubreaper`): they join that tree
    /// and are reaped once zombies. Applies from the next sample on; false before `start`.
    #[napi]
    pub fn adopt_orphans(&self, root: u32, exclude: Vec<u32>) -> bool {
        match &self.sampler {
            Some(s) => {
                s.adopt(root, exclude);
                true
            }
            None => false,
        }
    }

    /// What the sampling thread said to warn of since the last call, each once (a sample that
    /// adds one calls `onSample`).
    #[napi]
    pub fn take_warnings(&self) -> Vec<String> {
        self.sampler
            .as_ref()
            .map(Sampler::take_warnings)
            .unwrap_or_default()
    }

    /// How a watched process we were the parent of ended: an exit code or a signal number.
    #[napi]
    pub fn note_exit(&self, pid: u32, code: Option<i32>, signal: Option<i32>) {
        let status = match (code, signal) {
            (_, Some(s)) => ExitStatus::Signal(s),
            (Some(c), None) => ExitStatus::Code(c),
            (None, None) => return,
        };
        if let Some(s) = &self.sampler {
            s.note_exit(pid, status);
        }
    }

    /// The slot of an application counter (`gauge` false) or gauge, registered on first use;
    /// samples carry it in `app` from the next one on.
    #[napi]
    pub fn app_slot(&self, name: String, gauge: bool) -> js::Result<u32> {
        let kind = if gauge {
            AppKind::Gauge
        } else {
            AppKind::Counter
        };
        self.app().slot(&name, kind).or_throw()
    }

    /// Add `n` (a whole number, checked by the caller) to a counter.
    #[napi]
    pub fn app_add(&self, slot: u32, n: f64) {
        self.app().add(slot, n as u64);
    }

    #[napi]
    pub fn app_set(&self, slot: u32, v: f64) {
        self.app().set(slot, v);
    }

    /// Call `onSample` only once `n` samples wait undrained (default 1: after every sample).
    #[napi]
    pub fn set_notify_every(&self, n: u32) {
        if let Some(s) = &self.sampler {
            s.set_notify_every(n);
        }
    }

    /// Feed `drain` (the default) or not (samples are retained either way, see `retainSamples`).
    #[napi]
    pub fn set_feed(&self, on: bool) {
        if let Some(s) = &self.sampler {
            s.set_feed(on);
        }
    }

    /// Call `onSample` once when the `n`th sample has been taken (Infinity: never).
    #[napi]
    pub fn set_wake_at(&self, n: f64) {
        if let Some(s) = &self.sampler {
            s.set_wake_at(seq_of(n));
        }
    }

    /// The retained samples from sequence number `from` on, optionally only those of the last
    /// `lastMs` before the newest; also after `stop()`.
    #[napi]
    pub fn history<'env>(
        &self,
        env: &'env Env,
        from: f64,
        last_ms: Option<f64>,
    ) -> js::Result<NativeBatch<'env>> {
        let last_ns = last_ms.map(|ms| seq_of(ms * 1e6));
        let b = self
            .sampler
            .as_ref()
            .map(|s| s.history(seq_of(from), last_ns))
            .unwrap_or_default();
        batch_to_js(env, b)
    }

    /// The last `n` (at most 2) samples taken, retained or not.
    #[napi]
    pub fn tail<'env>(&self, env: &'env Env, n: u32) -> js::Result<NativeBatch<'env>> {
        let b = self
            .sampler
            .as_ref()
            .map(|s| s.tail(n as usize))
            .unwrap_or_default();
        batch_to_js(env, b)
    }

    #[napi]
    pub fn counts(&self) -> SamplerCounts {
        let c = self
            .sampler
            .as_ref()
            .map(Sampler::counts)
            .unwrap_or_default();
        SamplerCounts {
            taken: c.taken as f64,
            retained: c.retained as f64,
            retained_bytes: c.retained_bytes as f64,
            missed_ticks: c.missed_ticks as f64,
            feed_dropped: c.feed_dropped as f64,
            skipped_lines: c.skipped_lines as f64,
        }
    }

    /// Samples stored since the last drain, as one batch.
    #[napi]
    pub fn drain<'env>(&self, env: &'env Env) -> js::Result<NativeBatch<'env>> {
        let b = self
            .sampler
            .as_ref()
            .map(Sampler::drain)
            .unwrap_or_default();
        batch_to_js(env, b)
    }

    /// End the sampling thread without blocking: it wakes at once and, with `finalSample`, takes
    /// one last sample on its own thread (skipped when the previous one is under a tenth of
    /// the interval, at most 10 ms, old). Resolves once the thread has ended; `stop()` then
    /// returns the rest at once. The pending promise keeps the process alive until then.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn finish<'env>(&self, env: &'env Env, final_sample: bool) -> Result<Object<'env>> {
        let (deferred, promise) = env.create_deferred()?;
        let settle = Settle(Some(deferred));
        // Without a running thread, `settle` is dropped here and the promise resolves at once.
        if let Some(s) = &self.sampler {
            s.finish(final_sample, Box::new(move || drop(settle)));
        }
        Ok(promise)
    }

    /// Stop at once and return what was left; a second stop returns an empty batch. The
    /// retained samples stay (`history`).
    #[napi]
    pub fn stop<'env>(&mut self, env: &'env Env) -> js::Result<NativeBatch<'env>> {
        let b = self.sampler.as_mut().map(|s| s.stop()).unwrap_or_default();
        batch_to_js(env, b)
    }

    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.sampler.as_ref().is_some_and(|s| s.is_running())
    }
}
