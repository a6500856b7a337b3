//! A process's command line: `/proc/<pid>/cmdline` read once (at discovery and when its name
//! changes), arguments joined by spaces and cut to [`CMDLINE_MAX`] bytes on a character.
use std::os::fd::{AsRawFd, RawFd};

use super::kept::{openat, read_all};
use super::CMDLINE_MAX;

/// The command line of the process whose `/proc/<pid>` dirfd is `dir`, arguments joined by
/// spaces, cut to [`CMDLINE_MAX`] bytes (at a character boundary) in `buf`; its length.
pub fn read_cmdline(dir: RawFd, buf: &mut Vec<u8>) -> usize {
    match openat(dir, c"cmdline", libc::O_RDONLY) {
        Ok(fd) => read_cmdline_fd(fd.as_raw_fd(), buf),
        Err(_) => 0,
    }
}

pub fn read_cmdline_fd(fd: RawFd, buf: &mut Vec<u8>) -> usize {
    let Ok(n) = read_all(fd, buf) else {
        return 0;
    };
    join_cmdline(&mut buf[..n])
}

/// NUL-separated arguments joined by spaces in place (trailing NULs dropped), cut to
/// [`CMDLINE_MAX`] bytes without splitting a UTF-8 character; the joined length.
pub fn join_cmdline(buf: &mut [u8]) -> usize {
    let mut n = buf.len();
    while n > 0 && buf[n - 1] == 0 {
        n -= 1;
    }
    for b in &mut buf[..n] {
        if *b == 0 {
            *b = b' ';
        }
    }
    if n > CMDLINE_MAX {
        n = CMDLINE_MAX;
        // Back off continuation bytes (10xxxxxx) so the cut does not split a character.
        while n > 0 && buf[n] & 0xC0 == 0x80 {
            n -= 1;
        }
    }
    n
}
