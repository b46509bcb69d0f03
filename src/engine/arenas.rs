//! How many malloc arenas the process uses (glibc). Each thread that
//! allocates gets an arena of its own by default; memory freed in one stays
//! there for that arena's next allocations. Threads that each allocate and
//! free connections at a high rate (`trace --threads`, split by tuple) then
//! hold several arenas' worth of free memory at once: measured 3 MiB of RSS
//! on the benchmark capture with two threads, for no gain in speed.

#![allow(unsafe_code)]

/// Lets the process use at most `n` malloc arenas from now on (threads
/// started later share them). A hint: other C libraries have no arenas.
pub fn limit(n: usize) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let n = libc::c_int::try_from(n.max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a malloc tunable; M_ARENA_MAX takes any
        // positive count and affects arenas made afterwards. It reads and
        // writes no memory of ours.
        let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, n) };
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = n;
}

/// Makes room for about `bytes` in the calling thread's malloc arena at
/// once. glibc makes the heap of an arena other than the main one writable
/// only as far as each allocation needs: a page at a time, one mprotect(2)
/// call each (about 1,600 for a shard of `trace --threads 2` on the
/// benchmark capture), each taking the process's memory map lock for
/// writing, which the other threads' page faults wait for. Allocating
/// `bytes` in blocks and freeing them makes it writable in one call a
/// block. The pages are not written (but for malloc's header of each
/// block), and malloc gives them back when they are freed.
pub fn reserve(bytes: usize) {
    // Under malloc's threshold for a mapping of its own (128 KiB).
    const BLOCK: usize = 96 << 10;
    let blocks: Vec<Vec<u8>> = (0..bytes / BLOCK).map(|_| Vec::with_capacity(BLOCK)).collect();
    // (Not optimised away: the allocations are what this is for.)
    drop(std::hint::black_box(blocks));
}
