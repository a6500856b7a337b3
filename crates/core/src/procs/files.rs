//! The files of a watched process, read each tick: through descriptors kept for its life (an
//! `O_PATH` dirfd of `/proc/<pid>`, and its `stat`, `status`, `io` re-read with `pread`), or,
//! where the descriptor limit leaves no room for more (see `fds`), by path: opened, read and
//! closed at each read.
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use super::kept::{openat, read_all, KeptFile, PidPath};

/// Where a watched process's files are opened from.
pub enum ProcDir {
    /// A kept `O_PATH` dirfd of `/proc/<pid>`.
    Kept(OwnedFd),
    /// `/proc/<pid>/`, opened by name at each read.
    Path(Vec<u8>),
}

impl ProcDir {
    /// `<proc>/<pid>`: kept (`keep`) or by path. The kept dirfd is opened from `proc_fd`.
    pub fn open(proc_fd: RawFd, proc_path: &Path, pid: u32, keep: bool) -> io::Result<ProcDir> {
        if keep {
            let path = PidPath::new(pid, b"");
            let fd = openat(proc_fd, path.as_cstr(), libc::O_PATH | libc::O_DIRECTORY)?;
            return Ok(ProcDir::Kept(fd));
        }
        let mut p = proc_path.as_os_str().as_encoded_bytes().to_vec();
        p.push(b'/');
        p.extend_from_slice(pid.to_string().as_bytes());
        p.push(b'/');
        Ok(ProcDir::Path(p))
    }

    pub fn is_kept(&self) -> bool {
        matches!(self, ProcDir::Kept(_))
    }

    /// One of its files, kept open with a buffer of `capacity` or by path.
    pub fn file(&self, name: &CStr, capacity: usize) -> io::Result<WatchedFile> {
        match self {
            ProcDir::Kept(dir) => Ok(WatchedFile::Kept(KeptFile::open(
                dir.as_raw_fd(),
                name,
                capacity,
            )?)),
            ProcDir::Path(_) => {
                let mut f = WatchedFile::Path {
                    path: self.path_of(name)?,
                    buf: vec![0; capacity],
                };
                // Opened once here so a missing or unreadable file is told now, as when kept.
                f.read()?;
                Ok(f)
            }
        }
    }

    /// Open one of its files once (a command line).
    pub fn open_file(&self, name: &CStr) -> io::Result<OwnedFd> {
        match self {
            ProcDir::Kept(dir) => openat(dir.as_raw_fd(), name, libc::O_RDONLY),
            ProcDir::Path(_) => openat(libc::AT_FDCWD, &self.path_of(name)?, libc::O_RDONLY),
        }
    }

    fn path_of(&self, name: &CStr) -> io::Result<CString> {
        let ProcDir::Path(dir) = self else {
            unreachable!("a path of a kept dirfd")
        };
        let mut p = dir.clone();
        p.extend_from_slice(name.to_bytes());
        CString::new(p).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    }
}

/// One file of a watched process.
pub enum WatchedFile {
    Kept(KeptFile),
    Path { path: CString, buf: Vec<u8> },
}

impl WatchedFile {
    /// Its whole text now.
    pub fn read(&mut self) -> io::Result<&[u8]> {
        match self {
            WatchedFile::Kept(f) => f.read(),
            WatchedFile::Path { path, buf } => {
                let fd = openat(libc::AT_FDCWD, path, libc::O_RDONLY)?;
                let n = read_all(fd.as_raw_fd(), buf)?;
                Ok(&buf[..n])
            }
        }
    }

    /// Descriptors it keeps.
    pub fn kept(&self) -> usize {
        usize::from(matches!(self, WatchedFile::Kept(_)))
    }
}
