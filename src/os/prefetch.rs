//! Cache prefetch hints: asks the CPU to start loading memory that will be
//! read soon, so that the load is under way while other work is done.

#![allow(unsafe_code)]

/// The cache line size assumed (x86-64 and most aarch64 cores).
const LINE: usize = 64;

/// Hints that the bytes of `value` (a struct, or a slice's elements) will be
/// read soon. A hint only: it changes no value and cannot fault.
pub fn prefetch<T: ?Sized>(value: &T) {
    let start = std::ptr::from_ref(value).cast::<u8>();
    let len = std::mem::size_of_val(value);
    let mut off = 0;
    while off < len {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `_mm_prefetch` is a hint that never faults and reads nothing
        // architecturally; the address is within a live reference anyway. SSE
        // is part of the x86-64 baseline.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(start.wrapping_add(off).cast());
        }
        off += LINE;
    }
}
