//! Watched processes: which to watch (the wrapped command's tree, PIDs, names, command-line
//! patterns, ourselves), found without re-reading all of `/proc` each tick, and read through
//! kept descriptors.
mod entry;

pub use entry::*;
