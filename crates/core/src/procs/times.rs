//! The clocks a process's times are read against: clock ticks (`CLK_TCK`) for `stat`'s CPU and
//! start times, `CLOCK_BOOTTIME` for uptime, and the wall clock of boot for start times.

pub fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

pub use crate::clock::boot_ns;

/// The wall clock at boot, nanoseconds since 1970.
pub fn boot_wall_ns() -> u64 {
    crate::clock::wall_ns().saturating_sub(boot_ns())
}

/// Clock ticks as nanoseconds.
pub fn ticks_ns(ticks: u64, clk_tck: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000 / u128::from(clk_tck.max(1))).min(u64::MAX as u128) as u64
}
