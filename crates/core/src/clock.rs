//! Wall and monotonic clocks in nanoseconds.

fn now(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out-pointer; both clocks always exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn wall_ns() -> u64 {
    now(libc::CLOCK_REALTIME)
}

pub fn mono_ns() -> u64 {
    now(libc::CLOCK_MONOTONIC)
}
