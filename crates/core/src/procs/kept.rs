//! Descriptors kept for the life of a watched process (an `O_PATH` dirfd of `/proc/<pid>` and
//! its `stat`, `status`, `io` opened once), re-read with `pread` at offset 0 into buffers that
//! live as long as they do; and the listing of `/proc` through one kept dirfd with `getdents64`.
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `openat(dir, name, flags | O_CLOEXEC)`; `name` is NUL-terminated.
pub fn openat(dir: RawFd, name: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid C string; the returned fd is owned by nobody else.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor from openat.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `<pid>/<file>\0` (or `<pid>\0` when `file` is empty) in a stack buffer: no allocation.
pub struct PidPath {
    buf: [u8; 40],
}

impl PidPath {
    pub fn new(pid: u32, file: &[u8]) -> PidPath {
        let mut buf = [0u8; 40];
        let mut digits = [0u8; 10];
        let mut n = 0;
        let mut v = pid;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for i in 0..n {
            buf[i] = digits[n - 1 - i];
        }
        let mut len = n;
        if !file.is_empty() {
            let file = &file[..file.len().min(buf.len() - len - 2)];
            buf[len] = b'/';
            buf[len + 1..len + 1 + file.len()].copy_from_slice(file);
            len += 1 + file.len();
        }
        buf[len] = 0;
        PidPath { buf }
    }

    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).expect("NUL-terminated by construction")
    }
}

/// One file of a process, kept open.
pub struct KeptFile {
    fd: OwnedFd,
    buf: Vec<u8>,
}

impl KeptFile {
    pub fn open(dir: RawFd, name: &CStr, capacity: usize) -> io::Result<KeptFile> {
        Ok(KeptFile {
            fd: openat(dir, name, libc::O_RDONLY)?,
            buf: vec![0; capacity],
        })
    }

    /// Re-read the whole file. These files are `single_open` seq_files, which hand out all of
    /// their text in one read when the buffer holds it: a short read is the end, so a tick
    /// costs one `pread` per file, not two (the second would only confirm EOF). A full buffer
    /// doubles and the read goes on.
    pub fn read(&mut self) -> io::Result<&[u8]> {
        let len = read_all(self.fd.as_raw_fd(), &mut self.buf)?;
        Ok(&self.buf[..len])
    }
}

/// Read `fd` from offset 0 until a short read, growing `buf` when full; returns the length.
pub fn read_all(fd: RawFd, buf: &mut Vec<u8>) -> io::Result<usize> {
    if buf.is_empty() {
        buf.resize(256, 0);
    }
    let mut len = 0;
    loop {
        let room = buf.len() - len;
        // SAFETY: the pointer and length describe the unused tail of `buf`.
        let n = unsafe {
            libc::pread(
                fd,
                buf.as_mut_ptr().add(len).cast(),
                room,
                len as libc::off_t,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        len += n as usize;
        if (n as usize) < room {
            return Ok(len);
        }
        let grown = buf.len() * 2;
        buf.resize(grown, 0);
    }
}

/// The pids listed in a `/proc` directory, read with `getdents64` on a kept descriptor into
/// a kept buffer. `std::fs::read_dir` allocates a name per entry; this allocates nothing once
/// the buffers are large enough.
pub struct PidLister {
    dir: OwnedFd,
    buf: Vec<u8>,
}

impl PidLister {
    pub fn open(proc_path: &std::path::Path) -> io::Result<PidLister> {
        let c = std::ffi::CString::new(proc_path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let dir = openat(libc::AT_FDCWD, &c, libc::O_RDONLY | libc::O_DIRECTORY)?;
        Ok(PidLister {
            dir,
            buf: vec![0; 32 * 1024],
        })
    }

    pub fn fd(&self) -> RawFd {
        self.dir.as_raw_fd()
    }

    /// Every numeric entry, sorted, into `out` (cleared first).
    pub fn list(&mut self, out: &mut Vec<u32>) -> io::Result<()> {
        out.clear();
        let fd = self.dir.as_raw_fd();
        // SAFETY: rewinding a directory descriptor we own.
        if unsafe { libc::lseek(fd, 0, libc::SEEK_SET) } < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            // SAFETY: the buffer is ours and its length is passed.
            let n = unsafe {
                libc::syscall(
                    libc::SYS_getdents64,
                    fd,
                    self.buf.as_mut_ptr(),
                    self.buf.len(),
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if n == 0 {
                break;
            }
            let data = &self.buf[..n as usize];
            let mut off = 0;
            // struct linux_dirent64 { u64 d_ino; i64 d_off; u16 d_reclen; u8 d_type; char d_name[] }
            while off + 19 <= data.len() {
                let reclen = u16::from_ne_bytes([data[off + 16], data[off + 17]]) as usize;
                if reclen == 0 || off + reclen > data.len() {
                    break;
                }
                let name = &data[off + 19..off + reclen];
                let name = &name[..memchr::memchr(0, name).unwrap_or(name.len())];
                if let Some(pid) = parse_pid(name) {
                    out.push(pid);
                }
                off += reclen;
            }
        }
        out.sort_unstable();
        Ok(())
    }
}

fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || name.len() > 10 || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    crate::num::parse_u64(name).and_then(|v| u32::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_paths() {
        assert_eq!(PidPath::new(0, b"").as_cstr().to_bytes(), b"0");
        assert_eq!(
            PidPath::new(4242, b"stat").as_cstr().to_bytes(),
            b"4242/stat"
        );
        assert_eq!(
            PidPath::new(u32::MAX, b"cmdline").as_cstr().to_bytes(),
            b"4294967295/cmdline"
        );
    }

    #[test]
    fn lists_proc_like_read_dir() {
        let mut l = PidLister::open(std::path::Path::new("/proc")).unwrap();
        let mut pids = Vec::new();
        l.list(&mut pids).unwrap();
        assert!(pids.contains(&std::process::id()));
        assert!(pids.windows(2).all(|w| w[0] < w[1]));
        let mut again = Vec::new();
        l.list(&mut again).unwrap();
        assert!(again.contains(&std::process::id()));
        let by_std: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        // Processes come and go between the listings: most are common to both.
        let common = by_std.iter().filter(|p| pids.contains(p)).count();
        assert!(
            common * 10 >= by_std.len() * 9,
            "{common} of {}",
            by_std.len()
        );
    }
}
