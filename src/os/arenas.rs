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
