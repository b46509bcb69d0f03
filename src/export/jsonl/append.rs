//! Appending short text to a `String` with a few fixed-size stores: the jsonl
//! writer's hot path (about 190 bytes a segment, in pieces of a few to a
//! hundred bytes). `String::push` checks the capacity and encodes UTF-8 one
//! character at a time, and `push_str` of a piece whose length is not known at
//! compile time calls `memcpy`.
//!
//! The crate's one `unsafe` code outside `os/`: two blocks, each writing
//! ASCII or a whole `str` into capacity just reserved, each with its
//! `// SAFETY:` argument; the tests below append across reallocations.

#![allow(unsafe_code)]

/// Appends the first `len` bytes of `word` (first byte lowest) to `out`,
/// with one 8-byte store and a length update.
///
/// # Panics
/// When `len` is over 8, or a byte of `word` is not ASCII: a formatter's
/// bug, never the input's.
#[inline]
pub fn push_word(out: &mut String, word: u64, len: usize) {
    assert!(len <= 8 && word & 0x8080_8080_8080_8080 == 0, "not up to 8 ASCII bytes");
    out.reserve(8);
    // SAFETY: `reserve` left at least 8 bytes of spare capacity after the
    // length, so the unaligned 8-byte write stays inside the allocation. The
    // length grows by `len <= 8` bytes, all just written, each of them ASCII
    // (checked above): the String stays UTF-8. Bytes past the new length are
    // spare capacity, which may hold anything.
    unsafe {
        let v = out.as_mut_vec();
        let at = v.len();
        v.as_mut_ptr().add(at).cast::<[u8; 8]>().write_unaligned(word.to_le_bytes());
        v.set_len(at + len);
    }
}

/// The first `N` (at most 8) bytes of `s` as a word for [`push_word`].
#[must_use]
pub const fn word<const N: usize>(s: &[u8; N]) -> u64 {
    assert!(N <= 8);
    let mut w = 0u64;
    let mut i = 0;
    while i < N {
        w |= (s[i] as u64) << (8 * i);
        i += 1;
    }
    w
}

/// Up to 7 ASCII bytes (a key such as `,"ack":`) as a word, with room left
/// for one more byte in the same store. Made in a constant, a longer text is
/// refused at compile time.
#[derive(Clone, Copy, Debug)]
pub struct Short {
    word: u64,
    len: usize,
}

impl Short {
    /// `s`, at most 7 bytes.
    #[must_use]
    pub const fn new<const N: usize>(s: &[u8; N]) -> Short {
        assert!(N < 8, "a short text leaves room for one byte");
        Short { word: word(s), len: N }
    }

    /// Appends the text.
    #[inline]
    pub fn push(self, out: &mut String) {
        push_word(out, self.word, self.len);
    }

    /// Appends the text and then `last` (ASCII), in one store.
    #[inline]
    pub fn push_with(self, out: &mut String, last: u8) {
        push_word(out, self.word | u64::from(last) << (8 * self.len), self.len + 1);
    }
}

/// A piece of text kept in a zero-padded array of `N` bytes (a multiple of
/// 16), so that appending it copies whole 16-byte chunks.
#[derive(Clone, Debug)]
pub struct Padded<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Padded<N> {
    /// `s`, when it fits.
    #[must_use]
    pub fn new(s: &str) -> Option<Padded<N>> {
        const { assert!(N > 0 && N.is_multiple_of(16)) };
        let mut bytes = [0; N];
        bytes.get_mut(..s.len())?.copy_from_slice(s.as_bytes());
        Some(Padded { bytes, len: s.len() })
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // The first `len` bytes are those of a `str` (see `new`).
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    /// Appends the text to `out`.
    #[inline]
    pub fn push_to(&self, out: &mut String) {
        out.reserve(N);
        // SAFETY: `reserve` left at least N bytes of spare capacity after the
        // length, and each chunk copied lies within the first N (the chunks
        // cover `len <= N` bytes, rounded up to 16, and 16 divides N), read
        // from `bytes`, an array of N. The length grows by `len`: those bytes
        // are the ones `new` copied from a `str`, so the String stays UTF-8
        // (its old end was a character boundary, and so is the piece's end).
        // Bytes past the new length are spare capacity, which may hold anything.
        unsafe {
            let v = out.as_mut_vec();
            let at = v.len();
            let (src, dst) = (self.bytes.as_ptr(), v.as_mut_ptr().add(at));
            let mut i = 0;
            while i < self.len {
                dst.add(i).cast::<[u8; 16]>().write_unaligned(src.add(i).cast::<[u8; 16]>().read_unaligned());
                i += 16;
            }
            v.set_len(at + self.len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_append_their_first_bytes_and_nothing_else() {
        let mut s = String::from("x");
        push_word(&mut s, word(b"{\"t_ms\":"), 8);
        push_word(&mut s, word(b"abc"), 2);
        push_word(&mut s, 0, 0);
        assert_eq!(s, "x{\"t_ms\":ab");
        // Across reallocations, every length.
        let (mut long, mut want) = (String::new(), String::new());
        for i in 0..3_000usize {
            push_word(&mut long, word(b"01234567"), i % 9);
            want.push_str(&"01234567"[..i % 9]);
        }
        assert_eq!(long, want);
    }

    #[test]
    fn padded_pieces_append_their_text_and_nothing_else() {
        assert!(Padded::<16>::new("0123456789abcdefg").is_none());
        let pieces: Vec<Padded<32>> =
            ["", "é", "0123456789abcdef", "→ seventeen bytes", "0123456789abcdef0123456789abcdef"]
                .iter()
                .map(|s| Padded::new(s).unwrap())
                .collect();
        let (mut out, mut want) = (String::from("x"), String::from("x"));
        for i in 0..2_000 {
            let p = &pieces[i % pieces.len()];
            p.push_to(&mut out);
            want.push_str(p.as_str());
        }
        assert_eq!(out, want);
        assert!(want.contains("→ seventeen bytes"));
    }

    #[test]
    fn short_texts_append_with_and_without_their_last_byte() {
        const KEY: Short = Short::new(b",\"ack\":");
        let mut s = String::from("x");
        KEY.push(&mut s);
        KEY.push_with(&mut s, b'7');
        Short::new(b"").push_with(&mut s, b'!');
        assert_eq!(s, "x,\"ack\":,\"ack\":7!");
    }

    #[test]
    #[should_panic(expected = "not up to 8 ASCII bytes")]
    fn a_ninth_byte_is_refused() {
        push_word(&mut String::new(), word(b"01234567"), 9);
    }

    #[test]
    #[should_panic(expected = "not up to 8 ASCII bytes")]
    fn a_byte_that_is_not_ascii_is_refused() {
        push_word(&mut String::new(), u64::from_le_bytes([0xc3, 0xa9, 0, 0, 0, 0, 0, 0]), 2);
    }
}
