//! A capture file mapped into memory (`trace --read FILE`): frames are read
//! where the page cache holds them, without `read(2)` copying every byte.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A read-only, private mapping of a whole regular file, possibly read by
/// several threads at once ([`Mapped::split`]).
#[derive(Debug)]
pub struct Mapped {
    map: Arc<memmap2::Mmap>,
    /// How far its pages were released (read and done with), when read alone.
    released: usize,
    /// What the readers of a split mapping share, and which of them this is.
    readers: Option<(Arc<Readers>, usize)>,
}

/// What the readers of one mapping share: one maps pages in, and pages are
/// released once every reader is past them.
#[derive(Debug)]
struct Readers {
    /// How far pages were mapped in, by whichever reader got there first.
    populated: AtomicUsize,
    /// How far pages were released.
    released: AtomicUsize,
    /// How far each reader has read (`usize::MAX` once it is done).
    read: Vec<AtomicUsize>,
}

impl Mapped {
    /// Maps `file`, or `None` when it is not a regular file or is empty (a
    /// pipe, a device: read it instead).
    ///
    /// # Errors
    /// When the kernel refuses the mapping.
    pub fn new(file: &File) -> io::Result<Option<Mapped>> {
        let meta = file.metadata()?;
        if !meta.is_file() || meta.len() == 0 {
            return Ok(None);
        }
        // SAFETY: the mapping is private and read-only, and its bytes are only
        // ever read as `[u8]` (any value is valid). What mmap cannot rule out
        // is another process truncating the file while it is mapped: reading a
        // page past the new end raises SIGBUS. Capture files are written by
        // appending (tcpdump -w, synack --write), which is safe; the risk is
        // the same as any mmap reader's (ripgrep's, for one).
        let map = unsafe { memmap2::MmapOptions::new().map(file)? };
        // No MADV_SEQUENTIAL: its read-ahead on every fault cost more than it
        // saved (measured); pages are mapped a step at a time (`populate`).
        Ok(Some(Mapped { map: Arc::new(map), released: 0, readers: None }))
    }

    /// The same mapping for `n` readers (at least one), each reading the
    /// whole file at about the same pace: a page is mapped in once, by the
    /// first to need it, and released once all of them are past it.
    #[must_use]
    pub fn split(self, n: usize) -> Vec<Mapped> {
        let readers = Arc::new(Readers {
            populated: AtomicUsize::new(0),
            released: AtomicUsize::new(0),
            read: (0..n.max(1)).map(|_| AtomicUsize::new(0)).collect(),
        });
        (0..n.max(1))
            .map(|me| Mapped { map: self.map.clone(), released: 0, readers: Some((readers.clone(), me)) })
            .collect()
    }

    /// Says that this reader will read nothing before `offset` again: the
    /// pages before it are unmapped once no reader needs them. A mapped page
    /// counts in the process's resident memory (RSS) as long as it stays
    /// mapped, so a long read would otherwise grow to the file's size.
    pub fn done_before(&mut self, offset: usize) {
        let (from, to) = match &self.readers {
            None => {
                let from = self.released;
                self.released = from.max(offset);
                (from, offset)
            }
            Some((r, me)) => {
                r.read[*me].fetch_max(offset, Ordering::AcqRel);
                let least = r.read.iter().map(|a| a.load(Ordering::Acquire)).min().unwrap_or(0).min(self.map.len());
                // Whoever moves the mark releases what it passed.
                (r.released.fetch_max(least, Ordering::AcqRel), least)
            }
        };
        if to > from {
            self.release(from, to - from);
        }
    }

    /// Unmaps the pages of `len` bytes from `offset`. A hint: a later read
    /// of those bytes maps them in again.
    fn release(&self, offset: usize, len: usize) {
        // SAFETY: the mapping is private and read-only, so no page of it was
        // ever written: MADV_DONTNEED only drops the pages, and reading them
        // again maps the file's bytes back in, the same bytes (short of the
        // file changing, the caveat of `new`). No byte anyone reads changes.
        let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
    }

    /// Maps in the pages of `len` bytes from `offset` in one call
    /// (MADV_POPULATE_READ, Linux 5.14), rather than a page fault each time
    /// they are first read; of a split mapping, only what no reader mapped in
    /// yet. A hint: an older kernel's refusal is ignored.
    pub fn populate(&self, offset: usize, len: usize) {
        let end = offset + len;
        let from = match &self.readers {
            None => offset,
            Some((r, _)) => r.populated.fetch_max(end, Ordering::AcqRel).max(offset),
        };
        if end > from {
            let _ = self.map.advise_range(memmap2::Advice::PopulateRead, from, end - from);
        }
    }
}

impl Drop for Mapped {
    /// A reader that is done holds no page back.
    fn drop(&mut self) {
        if let Some((r, me)) = &self.readers {
            r.read[*me].store(usize::MAX, Ordering::Release);
        }
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How far a split mapping's pages were released.
    fn released(m: &Mapped) -> usize {
        m.readers.as_ref().map_or(m.released, |(r, _)| r.released.load(Ordering::Acquire))
    }

    #[test]
    fn a_split_mapping_releases_only_what_every_reader_passed() {
        let path = std::env::temp_dir().join(format!("synack-map-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let file = File::open(&path).unwrap();
        let mut readers = Mapped::new(&file).unwrap().unwrap().split(2).into_iter();
        let (mut a, mut b) = (readers.next().unwrap(), readers.next().unwrap());
        a.done_before(512 << 10);
        assert_eq!(released(&a), 0, "b has read nothing yet");
        b.done_before(256 << 10);
        assert_eq!(released(&b), 256 << 10);
        a.populate(0, 1 << 20);
        assert!(b.iter().all(|&x| x == 7), "the bytes stay readable");
        // A reader that is done holds nothing back.
        drop(a);
        b.done_before(768 << 10);
        assert_eq!(released(&b), 768 << 10);
        let _ = std::fs::remove_file(&path);
    }
}
