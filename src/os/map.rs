//! A capture file mapped into memory (`trace --read FILE`): frames are read
//! where the page cache holds them, without `read(2)` copying every byte.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A read-only, private mapping of a whole regular file, read by one reader
/// or by several threads at once ([`Mapped::split`]).
#[derive(Debug)]
pub struct Mapped {
    map: Arc<memmap2::Mmap>,
    readers: Arc<Readers>,
    /// This reader's place in `readers.done`.
    me: usize,
}

/// What the readers of one mapping share: each page is mapped in once, by
/// the first reader to need it, and released once, when the last is done
/// with it. (Each reader mapping in and releasing on its own walked every
/// page twice, and a page released under a slower reader was mapped in
/// again.)
#[derive(Debug)]
struct Readers {
    /// How far each reader is done: it never reads before this offset again.
    done: Vec<AtomicUsize>,
    /// The pages before this offset are released.
    released: AtomicUsize,
    /// The pages before this offset are mapped in, or being mapped in.
    populated: AtomicUsize,
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
        // saved (measured); pages are mapped a step at a time (`advance`).
        Ok(Some(Mapped { map: Arc::new(map), readers: Arc::new(Readers::new(1)), me: 0 }))
    }

    /// The same mapping for `n` readers (at least one), each reading the
    /// whole of it (`trace --threads`).
    #[must_use]
    pub fn split(self, n: usize) -> Vec<Mapped> {
        let readers = Arc::new(Readers::new(n.max(1)));
        (0..n.max(1)).map(|me| Mapped { map: self.map.clone(), readers: readers.clone(), me }).collect()
    }

    /// Another reader of the same mapping, from its start, on its own (the
    /// readers of [`Mapped::split`] do not wait for it, nor it for them).
    #[must_use]
    pub fn again(&self) -> Mapped {
        Mapped { map: self.map.clone(), readers: Arc::new(Readers::new(1)), me: 0 }
    }

    /// This reader is done with the bytes before `done`, and reads on up to
    /// `to`. The pages every reader is done with are released: a mapped
    /// page counts in the process's resident memory (RSS) as long as it stays
    /// mapped, so a long read would otherwise grow to the file's size. The
    /// pages up to `to` are mapped in, unless another reader did. Both are
    /// hints: a page released and read again is mapped in again.
    pub fn advance(&self, done: usize, to: usize) {
        let r = &*self.readers;
        r.done[self.me].fetch_max(done, Ordering::Relaxed);
        let all = r.done.iter().map(|d| d.load(Ordering::Relaxed)).min().unwrap_or(0).min(self.map.len());
        let before = r.released.fetch_max(all, Ordering::Relaxed);
        if all > before {
            self.release(before, all - before);
        }
        let to = to.min(self.map.len());
        let before = r.populated.fetch_max(to, Ordering::Relaxed);
        if to > before {
            self.populate(before, to - before);
        }
    }

    /// Unmaps the pages of `len` bytes from `offset`.
    fn release(&self, offset: usize, len: usize) {
        // SAFETY: the mapping is private and read-only, so no page of it was
        // ever written: MADV_DONTNEED only drops the pages, and reading them
        // again maps the file's bytes back in, the same bytes (short of the
        // file changing, the caveat of `new`). No byte anyone reads changes.
        let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
    }

    /// Maps in the pages of `len` bytes from `offset` in one call
    /// (MADV_POPULATE_READ, Linux 5.14), rather than a page fault each time
    /// they are first read. An older kernel's refusal is ignored.
    fn populate(&self, offset: usize, len: usize) {
        let _ = self.map.advise_range(memmap2::Advice::PopulateRead, offset, len);
    }
}

impl Readers {
    fn new(n: usize) -> Readers {
        Readers {
            done: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            released: AtomicUsize::new(0),
            populated: AtomicUsize::new(0),
        }
    }
}

impl Drop for Mapped {
    /// A reader gone holds no page back.
    fn drop(&mut self) {
        self.readers.done[self.me].store(usize::MAX, Ordering::Relaxed);
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
    use std::io::Write;

    const MIB: usize = 1 << 20;

    /// The bytes of the mapping mapped into this process (its Rss in
    /// /proc/self/smaps).
    fn mapped_in(map: &Mapped) -> usize {
        let at = map.map.as_ptr() as usize;
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&at);
            } else if inside && let Some(kb) = line.strip_prefix("Rss:") {
                return kb.trim().trim_end_matches(" kB").trim().parse::<usize>().unwrap() * 1024;
            }
        }
        panic!("the mapping is not in /proc/self/smaps");
    }

    #[test]
    fn each_page_is_mapped_in_once_and_released_when_every_reader_is_done() {
        let path = std::env::temp_dir().join(format!("synack-map-{}", std::process::id()));
        std::fs::File::create(&path).unwrap().write_all(&vec![7u8; 8 * MIB]).unwrap();
        let file = File::open(&path).unwrap();
        let map = Mapped::new(&file).unwrap().unwrap();
        std::fs::remove_file(&path).unwrap();
        let mut readers = map.split(2).into_iter();
        let (a, b) = (readers.next().unwrap(), readers.next().unwrap());
        assert_eq!(mapped_in(&a), 0);
        a.advance(0, 2 * MIB);
        assert_eq!(mapped_in(&a), 2 * MIB);
        // The other reader finds them mapped in.
        b.advance(0, 2 * MIB);
        assert_eq!(b.readers.populated.load(Ordering::Relaxed), 2 * MIB);
        // One reader done with the first 2 MiB: the other still reads them.
        a.advance(2 * MIB, 4 * MIB);
        assert_eq!(mapped_in(&a), 4 * MIB);
        // Both done with them: released.
        b.advance(2 * MIB, 4 * MIB);
        assert_eq!(mapped_in(&a), 2 * MIB);
        assert_eq!(a.readers.released.load(Ordering::Relaxed), 2 * MIB);
        // A reader gone holds nothing back; reading past the end maps what is there.
        drop(b);
        a.advance(4 * MIB, 16 * MIB);
        assert_eq!(mapped_in(&a), 4 * MIB);
        assert_eq!(a[8 * MIB - 1], 7);
    }
}
