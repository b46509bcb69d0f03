//! A capture file mapped into memory (`trace --read FILE`): frames are read
//! where the page cache holds them, without `read(2)` copying every byte.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::Arc;

/// A read-only, private mapping of a whole regular file, possibly read by
/// several threads at once ([`Mapped::share`]).
#[derive(Debug)]
pub struct Mapped {
    map: Arc<memmap2::Mmap>,
    /// How much of what its reader has read stays mapped (for the others).
    behind: usize,
}

/// What a shared mapping keeps mapped behind each reader: the readers of a
/// shared file (`trace --threads`) go at about the same pace, and a page
/// released before the slowest has read it would be mapped in again.
pub const SHARED_BEHIND: usize = 1 << 20;

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
        Ok(Some(Mapped { map: Arc::new(map), behind: 0 }))
    }

    /// The same mapping for another reader: both keep [`SHARED_BEHIND`]
    /// bytes mapped behind where they read, so that they can read the same
    /// pages once mapped in.
    #[must_use]
    pub fn share(&mut self) -> Mapped {
        self.behind = SHARED_BEHIND;
        Mapped { map: self.map.clone(), behind: SHARED_BEHIND }
    }

    /// How many bytes behind its reader stay mapped.
    #[must_use]
    pub fn behind(&self) -> usize {
        self.behind
    }

    /// Unmaps the pages of `len` bytes from `offset`, read and done with: a
    /// mapped page counts in the process's resident memory (RSS) as long as it
    /// stays mapped, so a long read would otherwise grow to the file's size.
    /// A hint: a later read of those bytes maps them in again.
    pub fn release(&self, offset: usize, len: usize) {
        // SAFETY: the mapping is private and read-only, so no page of it was
        // ever written: MADV_DONTNEED only drops the pages, and reading them
        // again maps the file's bytes back in, the same bytes (short of the
        // file changing, the caveat of `new`). No byte anyone reads changes.
        let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
    }

    /// Maps in the pages of `len` bytes from `offset` in one call
    /// (MADV_POPULATE_READ, Linux 5.14), rather than a page fault each time
    /// they are first read. A hint: an older kernel's refusal is ignored.
    pub fn populate(&self, offset: usize, len: usize) {
        let _ = self.map.advise_range(memmap2::Advice::PopulateRead, offset, len);
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map
    }
}
