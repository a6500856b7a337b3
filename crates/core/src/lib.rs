//! hostseries core: zero-copy `/proc` readers and parsers, a drift-free sampling thread and a
//! compact bounded sample store. Pure Rust, no N-API: the binding crate only converts.
#![deny(clippy::all)]

pub mod app;
pub mod blob;
pub mod clock;
pub mod error;
pub mod intern;
pub mod jsonl;
pub mod layout;
pub mod metrics;
mod num;
pub mod parse;
pub mod procfile;
pub mod procs;
pub mod reader;
pub mod sampler;
mod scan;
pub mod series;
pub mod snapshot;
pub mod store;
pub mod text;

pub use error::{Error, ErrorCode};
pub use layout::Layout;
pub use metrics::{Metric, MetricSet};
pub use reader::ProcReader;
pub use sampler::{Sampler, SamplerConfig};
pub use snapshot::Snapshot;
pub use store::{Batch, SampleError};
pub use text::TextSampler;
