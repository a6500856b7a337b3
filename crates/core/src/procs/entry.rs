//! One watched process at one tick, as the sampling thread stores it: what identifies it (a
//! change there makes a new layout) and its per-tick values (flat `u64`, like every section).
use crate::intern::Name;

/// How the previous process under a key ended, when known (we were its parent, or it was seen
/// as a zombie with its exit status in `/proc/<pid>/stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

/// What stays the same from tick to tick while the process lives; a new value means a new
/// layout (the sample's shape, names and identities, changed).
#[derive(Clone, Debug, PartialEq)]
pub struct ProcIdent {
    /// Stable across restarts: the name (`.` and `#` made `_`, so a path `processes.<key>.cpu_pct`
    /// splits cleanly), `#2`, `#3`... for further live processes of that name, `self` for the
    /// sampler's own process.
    pub key: Name,
    pub pid: u32,
    pub ppid: u32,
    /// `comm` (the kernel's 15-byte name).
    pub name: Name,
    /// The command line, arguments joined by spaces, cut to [`CMDLINE_MAX`] bytes.
    pub cmdline: Name,
    /// Start time, wall clock, nanoseconds since 1970.
    pub start_time_ns: u64,
    /// Processes this key had before this one (a watched name whose PID changed).
    pub restarts: u32,
    /// How the previous process under this key ended, when known.
    pub last_exit: Option<ExitStatus>,
    /// Whether `/proc/<pid>/io` could be read (the I/O fields are zero otherwise).
    pub has_io: bool,
}

pub const CMDLINE_MAX: usize = 512;

/// The per-tick values, in this order; the JSON key of each, and how to print it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcValue {
    /// The state letter (`R`, `S`, `D`, `Z`...), as its ASCII code.
    Char,
    /// An integer as it is.
    Int,
    /// Hundredths, printed as a decimal number (`cpu_pct` 9950 is 99.5).
    Centi,
    /// Thousandths, printed as a decimal number (`uptime_s`).
    Milli,
}

pub const PROC_FIELDS: [(&str, ProcValue); 16] = [
    ("state", ProcValue::Char),
    ("uptime_s", ProcValue::Milli),
    ("cpu_pct", ProcValue::Centi),
    ("cpu_user_ticks", ProcValue::Int),
    ("cpu_system_ticks", ProcValue::Int),
    ("num_threads", ProcValue::Int),
    ("rss_kb", ProcValue::Int),
    ("rss_peak_kb", ProcValue::Int),
    ("minor_faults", ProcValue::Int),
    ("major_faults", ProcValue::Int),
    ("voluntary_ctxt_switches", ProcValue::Int),
    ("involuntary_ctxt_switches", ProcValue::Int),
    ("read_bytes", ProcValue::Int),
    ("write_bytes", ProcValue::Int),
    ("read_chars", ProcValue::Int),
    ("write_chars", ProcValue::Int),
];

/// Index of the first I/O field (`/proc/<pid>/io`): these are left out where it was unreadable.
pub const PROC_IO_FIRST: usize = 12;

pub const PROC_VALUES: usize = PROC_FIELDS.len();

#[derive(Clone, Debug, PartialEq)]
pub struct ProcEntry {
    pub ident: ProcIdent,
    /// In [`PROC_FIELDS`] order.
    pub values: [u64; PROC_VALUES],
}
