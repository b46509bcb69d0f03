//! TCP sequence numbers (RFC 9293 §3.4): 32-bit, compared modulo 2^32.
//!
//! An observer reads untrusted traffic, so nothing here can panic: every
//! operation wraps, and comparisons use the signed distance between numbers.

use std::fmt;

/// A sequence or acknowledgment number as it appears on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqNum(pub u32);

impl SeqNum {
    /// `self + n`, wrapping modulo 2^32.
    #[must_use]
    pub fn plus(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }

    /// Signed distance `self - other` (RFC 9293 comparisons: `a < b` iff `a - b < 0`).
    ///
    /// ```
    /// use synack::model::seq::SeqNum;
    /// let isn = SeqNum(u32::MAX - 1);
    /// let later = isn.plus(11); // wrapped past zero
    /// assert_eq!(later.delta(isn), 11);
    /// assert!(later.gt(isn));
    /// assert_eq!(later.relative_to(isn), 11);
    /// ```
    #[must_use]
    pub fn delta(self, other: SeqNum) -> i32 {
        // The cast reinterprets the wrapped difference as signed on purpose.
        self.0.wrapping_sub(other.0).cast_signed()
    }

    /// `self` is at or beyond `other` in sequence space.
    #[must_use]
    pub fn ge(self, other: SeqNum) -> bool {
        self.delta(other) >= 0
    }

    /// `self` is strictly beyond `other` in sequence space.
    #[must_use]
    pub fn gt(self, other: SeqNum) -> bool {
        self.delta(other) > 0
    }

    /// The number relative to an initial sequence number (`self - isn`, wrapping).
    #[must_use]
    pub fn relative_to(self, isn: SeqNum) -> u32 {
        self.0.wrapping_sub(isn.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::SeqNum;

    #[test]
    fn comparisons_wrap_around_zero() {
        let before = SeqNum(u32::MAX - 1);
        let after = before.plus(10);
        assert_eq!(after, SeqNum(8));
        assert!(after.gt(before));
        assert!(!before.ge(after));
        assert_eq!(after.delta(before), 10);
        assert_eq!(before.delta(after), -10);
        assert_eq!(after.relative_to(before), 10);
    }

    #[test]
    fn extremes_never_panic() {
        let a = SeqNum(0);
        let b = SeqNum(0x8000_0000);
        let _ = a.delta(b);
        let _ = b.delta(a);
        assert_eq!(SeqNum(u32::MAX).plus(u32::MAX), SeqNum(u32::MAX - 1));
    }
}
