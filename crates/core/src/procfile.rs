//! A `/proc` file kept open and re-read with `pread` at offset 0 into a buffer that lives as
//! long as the reader: no open, no close and no allocation per sample in steady state.
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

const INITIAL_CAPACITY: usize = 16 * 1024;

pub struct ProcFile {
    path: PathBuf,
    file: Option<File>,
    buf: Vec<u8>,
    /// The previous read's text (`prev[..prev_len]`), for parsers that re-read only what
    /// changed; the two buffers swap roles on each `read_pair`.
    prev: Vec<u8>,
    prev_len: usize,
    len: usize,
}

impl ProcFile {
    /// Opens lazily: a file that cannot be opened now is retried on the next read.
    pub fn new(path: impl Into<PathBuf>) -> ProcFile {
        let path = path.into();
        let file = File::open(&path).ok();
        ProcFile {
            path,
            file,
            buf: vec![0; INITIAL_CAPACITY],
            prev: Vec::new(),
            prev_len: 0,
            len: 0,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The whole current content. seq_file hands out about a page per read, so read on at
    /// growing offsets until EOF; the buffer doubles when full and is kept.
    pub fn read(&mut self) -> io::Result<&[u8]> {
        let n = match self.read_once() {
            Ok(n) => Ok(n),
            Err(_) => {
                // A stale descriptor (e.g. the file was re-created): reopen once and retry.
                self.file = None;
                self.read_once()
            }
        };
        self.len = *n.as_ref().unwrap_or(&0);
        Ok(&self.buf[..n?])
    }

    /// The whole current content and the previous read's (empty after a failed read or at
    /// first). Keeps a second buffer, swapped with the first on each call: no copy.
    pub fn read_pair(&mut self) -> io::Result<(&[u8], &[u8])> {
        self.read_next()?;
        Ok(self.pair())
    }

    /// `read_pair` in two steps: read now, look at the two texts later (`pair`).
    pub fn read_next(&mut self) -> io::Result<()> {
        std::mem::swap(&mut self.buf, &mut self.prev);
        self.prev_len = self.len;
        if self.buf.len() < self.prev.len() {
            self.buf.resize(self.prev.len(), 0);
        }
        if let Err(e) = self.read() {
            self.prev_len = 0;
            return Err(e);
        }
        Ok(())
    }

    /// The texts of the last `read_next` and of the read before it (empty if that one failed).
    pub fn pair(&self) -> (&[u8], &[u8]) {
        (&self.buf[..self.len], &self.prev[..self.prev_len])
    }

    /// The last read's text.
    pub fn text(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Ask the CPU to start loading the last read's text, which the next `read_pair` returns
    /// as the previous one for the parse to compare against: issued for every file before the
    /// first pread of a tick, the loads overlap the kernel's work instead of stalling the
    /// compare. Costs one non-blocking instruction per 64 bytes; nothing off x86-64.
    #[inline]
    pub fn prefetch_text(&self) {
        crate::snapshot::prefetch(self.text());
    }

    fn read_once(&mut self) -> io::Result<usize> {
        if self.file.is_none() {
            self.file = Some(File::open(&self.path)?);
        }
        let file = self.file.as_ref().expect("opened above");
        let mut len = 0;
        loop {
            if len == self.buf.len() {
                let grown = (self.buf.len() * 2).max(INITIAL_CAPACITY);
                self.buf.resize(grown, 0);
            }
            match file.read_at(&mut self.buf[len..], len as u64) {
                Ok(0) => return Ok(len),
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn rereads_and_grows() {
        let dir = std::env::temp_dir().join(format!("hostseries-procfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, b"abc").unwrap();
        let mut f = ProcFile::new(&p);
        assert_eq!(f.read().unwrap(), b"abc");
        let big = vec![b'x'; 40_000];
        std::fs::File::create(&p).unwrap().write_all(&big).unwrap();
        assert_eq!(f.read().unwrap().len(), 40_000);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(ProcFile::new(dir.join("missing")).read().is_err());
    }

    #[test]
    fn pairs_of_reads() {
        let dir = std::env::temp_dir().join(format!("hostseries-pair-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        let mut f = ProcFile::new(&p);
        assert!(f.read_pair().is_err());
        // After a failed read (here: no file yet) there is no previous text.
        std::fs::write(&p, b"one").unwrap();
        assert_eq!(f.read_pair().unwrap(), (&b"one"[..], &b""[..]));
        std::fs::write(&p, b"two!").unwrap();
        assert_eq!(f.read_pair().unwrap(), (&b"two!"[..], &b"one"[..]));
        assert_eq!(f.read_pair().unwrap(), (&b"two!"[..], &b"two!"[..]));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_proc() {
        let mut f = ProcFile::new("/proc/meminfo");
        let a = f.read().unwrap().to_vec();
        assert!(a.starts_with(b"MemTotal:"));
        assert!(f.read().unwrap().starts_with(b"MemTotal:"));
    }
}
