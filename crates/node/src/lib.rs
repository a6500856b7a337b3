//! N-API binding over hostseries-core: conversions only. Samples cross as one batch of typed
//! arrays per call; the TypeScript layer turns them into objects.
#![deny(clippy::all)]

use std::time::Duration;

use hostseries_core::layout::LayoutTracker;
use hostseries_core::store::Store;
use hostseries_core::{
    Batch, Layout, Metric, MetricSet, ProcReader, Sampler, SamplerConfig, SamplerError, Snapshot,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

fn coded(code: &str, message: impl std::fmt::Display) -> Error {
    Error::new(Status::GenericFailure, format!("[{code}] {message}"))
}

fn sampler_error(e: SamplerError) -> Error {
    coded(e.code(), e)
}

fn metric_set(metrics: Option<Vec<String>>) -> Result<MetricSet> {
    let Some(names) = metrics else {
        return Ok(MetricSet::all());
    };
    names
        .iter()
        .map(|n| {
            Metric::from_name(n).ok_or_else(|| {
                coded(
                    "ERR_INVALID_OPTION",
                    format!(
                        "unknown metric {n:?}; expected one of {}",
                        Metric::ALL.map(Metric::name).join(", ")
                    ),
                )
            })
        })
        .collect()
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
}

#[napi(object)]
pub struct NativeSampleError {
    pub sample: u32,
    pub source: String,
    pub message: String,
}

#[napi(object, object_from_js = false)]
pub struct NativeBatch<'env> {
    pub layouts: Vec<NativeLayout>,
    pub layout_ids: Uint32ArraySlice<'env>,
    pub wall_ns: BigUint64ArraySlice<'env>,
    pub mono_ns: BigUint64ArraySlice<'env>,
    pub offsets: Uint32ArraySlice<'env>,
    pub values: BigUint64ArraySlice<'env>,
    pub errors: Vec<NativeSampleError>,
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
        sections: l.present.iter().map(|m| m.name().to_string()).collect(),
        disks: l.disks.iter().map(|d| d.0.to_string()).collect(),
        disk_fields: l.disks.iter().map(|d| u32::from(d.1)).collect(),
        vmstat: names(&l.vmstat),
        meminfo: names(&l.meminfo),
        net: names(&l.net),
        cpus: names(&l.cpus),
    }
}

/// Columns are copied into JS-owned memory: cheaper per drain than an external buffer each
/// (measured: ~10x on a 4 KB batch), and nothing native outlives the batch.
fn batch_to_js(env: &Env, b: Batch) -> Result<NativeBatch<'_>> {
    Ok(NativeBatch {
        layouts: b.layouts.iter().map(|l| layout_to_js(l)).collect(),
        layout_ids: Uint32ArraySlice::copy_from(env, &b.layout_ids)?,
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
        missed_ticks: b.missed_ticks as f64,
        dropped: b.dropped as f64,
        skipped_lines: b.skipped_lines as f64,
    })
}

/// One snapshot as a one-sample batch (the same shape the sampler drains).
fn single(snap: &Snapshot, mut errors: Vec<hostseries_core::SampleError>, skipped: u32) -> Batch {
    let mut store = Store::new(1);
    let mut layouts = LayoutTracker::default();
    let layout = layouts.for_snapshot(snap).clone();
    let wall = hostseries_core::clock::wall_ns();
    let mono = hostseries_core::clock::mono_ns();
    store.push(&layout, wall, mono, snap, &mut errors);
    let mut b = store.drain();
    b.skipped_lines = u64::from(skipped);
    b
}

/// Parse raw text of one /proc file (`diskstats`, `vmstat`, `meminfo`, `loadavg`, `netdev`,
/// `stat`) with the sampler's own parsers; text from a remote host goes through here.
#[napi]
pub fn parse_proc(
    env: &Env,
    metric: String,
    text: Either<String, Buffer>,
) -> Result<NativeBatch<'_>> {
    let m = Metric::from_name(&metric).ok_or_else(|| {
        coded(
            "ERR_INVALID_OPTION",
            format!("unknown /proc section {metric:?}"),
        )
    })?;
    let bytes: &[u8] = match &text {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    };
    let mut snap = Snapshot::default();
    let mut reader = ProcReader::new(MetricSet::EMPTY);
    let skipped = reader.parse(m, bytes, &mut snap);
    batch_to_js(env, single(&snap, Vec::new(), skipped))
}

#[napi(object)]
pub struct SamplerOptions {
    pub interval_ms: f64,
    pub capacity: Option<u32>,
    pub metrics: Option<Vec<String>>,
}

type Wake = ThreadsafeFunction<(), (), (), Status, false, true>;

/// The sampling thread. `start(onSample?)` calls `onSample` (without arguments) after each
/// sample; the callback never keeps the event loop alive.
#[napi]
pub struct NativeSampler {
    config: SamplerConfig,
    sampler: Option<Sampler>,
}

#[napi]
impl NativeSampler {
    #[napi(constructor)]
    pub fn new(options: SamplerOptions) -> Result<Self> {
        if !options.interval_ms.is_finite() || options.interval_ms < 10.0 {
            return Err(coded(
                "ERR_INVALID_OPTION",
                format!(
                    "intervalMs must be a number >= 10, got {}",
                    options.interval_ms
                ),
            ));
        }
        let capacity = options.capacity.unwrap_or(4096);
        if capacity == 0 {
            return Err(coded("ERR_INVALID_OPTION", "capacity must be at least 1"));
        }
        Ok(NativeSampler {
            config: SamplerConfig {
                interval: Duration::from_secs_f64(options.interval_ms / 1000.0),
                capacity: capacity as usize,
                metrics: metric_set(options.metrics)?,
            },
            sampler: None,
        })
    }

    #[napi]
    pub fn start(&mut self, on_sample: Option<Function<(), ()>>) -> Result<()> {
        if self.sampler.is_some() {
            return Err(coded(
                "ERR_ALREADY_STARTED",
                "the sampler is already running",
            ));
        }
        let notify = match on_sample {
            Some(f) => {
                let tsfn: Wake = f
                    .build_threadsafe_function::<()>()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?;
                Some(Box::new(move || {
                    // Closing (env teardown) is not an error worth reporting from this thread.
                    let _ = tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
                }) as hostseries_core::sampler::Notify)
            }
            None => None,
        };
        self.sampler = Some(Sampler::start(self.config.clone(), notify).map_err(sampler_error)?);
        Ok(())
    }

    /// Call `onSample` only once `n` samples wait undrained (default 1: after every sample).
    #[napi]
    pub fn set_notify_every(&self, n: u32) {
        if let Some(s) = &self.sampler {
            s.set_notify_every(n);
        }
    }

    /// Samples stored since the last drain, as one batch.
    #[napi]
    pub fn drain<'env>(&self, env: &'env Env) -> Result<NativeBatch<'env>> {
        let b = self
            .sampler
            .as_ref()
            .map(Sampler::drain)
            .unwrap_or_default();
        batch_to_js(env, b)
    }

    /// Stop at once and return what was left; a second stop returns an empty batch.
    #[napi]
    pub fn stop<'env>(&mut self, env: &'env Env) -> Result<NativeBatch<'env>> {
        let b = self
            .sampler
            .take()
            .map(|mut s| s.stop())
            .unwrap_or_default();
        batch_to_js(env, b)
    }

    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.sampler.as_ref().is_some_and(|s| s.is_running())
    }
}
