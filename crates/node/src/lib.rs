//! N-API binding over hostseries-core: conversions only. Samples cross as one batch of typed
//! arrays per call; the TypeScript layer turns them into objects.
#![deny(clippy::all)]

use std::time::Duration;

use hostseries_core::clock::{mono_ns, wall_ns};
use hostseries_core::{
    Batch, Layout, Metric, MetricSet, Sampler, SamplerConfig, SamplerError, TextSampler,
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

fn metric(name: &str) -> Result<Metric> {
    Metric::from_name(name).ok_or_else(|| {
        coded(
            "ERR_INVALID_OPTION",
            format!(
                "unknown metric {name:?}; expected one of {}",
                Metric::ALL.map(Metric::name).join(", ")
            ),
        )
    })
}

/// Parse raw text of one /proc file (`diskstats`, `vmstat`, `meminfo`, `loadavg`, `netdev`,
/// `stat`) with the sampler's own parsers.
#[napi]
pub fn parse_proc(
    env: &Env,
    metric_name: String,
    text: Either<String, Buffer>,
) -> Result<NativeBatch<'_>> {
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

#[napi]
impl ProcParser {
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        ProcParser {
            inner: TextSampler::default(),
        }
    }

    /// One sample: `texts[i]` is the text of section `metrics[i]` (null: absent).
    #[napi]
    pub fn parse<'env>(
        &mut self,
        env: &'env Env,
        metrics: Vec<String>,
        texts: Vec<Option<Buffer>>,
        wall_ns: BigInt,
        mono_ns: BigInt,
    ) -> Result<NativeBatch<'env>> {
        if metrics.len() != texts.len() {
            return Err(coded(
                "ERR_INVALID_OPTION",
                format!("{} sections but {} texts", metrics.len(), texts.len()),
            ));
        }
        let ms = metrics
            .iter()
            .map(|m| metric(m))
            .collect::<Result<Vec<_>>>()?;
        let sections = ms
            .into_iter()
            .zip(&texts)
            .filter_map(|(m, t)| t.as_ref().map(|t| (m, &t[..])));
        let b = self
            .inner
            .sample(sections, wall_ns.get_u64().1, mono_ns.get_u64().1);
        batch_to_js(env, b)
    }
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
