//! Watched processes: which to watch (the wrapped command's tree, PIDs, names, command-line
//! patterns, ourselves), found without re-reading all of `/proc` each tick, and read through
//! kept descriptors; or, on a remote host, from the text its shell loop streams.
mod adopt;
mod cmdline;
mod entry;
mod fds;
mod files;
mod kept;
mod keys;
pub mod parse;
mod redact;
mod remote;
mod spec;
mod table;
mod times;
mod watcher;

pub use adopt::{is_child_subreaper, set_child_subreaper, REAP_AFTER_NS};
pub use cmdline::{join_cmdline, recorded_cmdline, CmdlinePolicy};
pub use entry::*;
pub use fds::nofile_limits;
pub use kept::PidLister;
pub use remote::{is_script_safe_name, RemoteFile, RemotePlan, RemoteProcs, RemoteWatcher};
pub use spec::WatchSpec;
pub use watcher::{ProcWatcher, WatchCounters};
