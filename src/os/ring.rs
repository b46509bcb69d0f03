//! A TPACKET_V3 receive ring (PACKET_MMAP): the kernel writes frames into
//! shared blocks, so reading them costs no system call and no copy.
//!
//! The layout of a block is parsed by pure functions over a byte slice
//! ([`parse`]): every offset the kernel hands over is checked against the
//! block, and a block that does not add up is given back rather than read
//! past. Tests feed them hand-made blocks, malformed ones included, without
//! root. [`Ring`] is the mapping itself.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use super::packet::{SOL_PACKET, socklen};

const PACKET_RX_RING: libc::c_int = 5;
const PACKET_VERSION: libc::c_int = 10;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;

/// `struct tpacket_req3` from `<linux/if_packet.h>`.
#[repr(C)]
struct TpacketReq3 {
    tp_block_size: u32,
    tp_block_nr: u32,
    tp_frame_size: u32,
    tp_frame_nr: u32,
    tp_retire_blk_tov: u32,
    tp_sizeof_priv: u32,
    tp_feature_req_word: u32,
}

/// The layout of a block and of a packet header in it: offsets into
/// `struct tpacket_block_desc` (with `tpacket_hdr_v1`) and `struct
/// tpacket3_hdr`, as the kernel lays them out.
pub mod parse {
    /// The block's status word.
    pub const BLOCK_STATUS: usize = 8;
    /// Packets in the block.
    pub const BLOCK_NUM_PKTS: usize = 12;
    /// Offset of the first packet header.
    pub const BLOCK_FIRST_PKT: usize = 16;
    /// The smallest block: its descriptor.
    pub const BLOCK_HEADER: usize = 48;
    /// In a packet header: offset of the next header from this one (0: last).
    pub const PKT_NEXT: usize = 0;
    pub const PKT_SEC: usize = 4;
    pub const PKT_NSEC: usize = 8;
    pub const PKT_SNAPLEN: usize = 12;
    /// Offset of the frame from the packet header.
    pub const PKT_MAC: usize = 24;
    /// A packet header must fit this many bytes.
    pub const PKT_HEADER: usize = 28;

    fn u32_at(block: &[u8], at: usize) -> Option<u32> {
        let b = block.get(at..at.checked_add(4)?)?;
        Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16_at(block: &[u8], at: usize) -> Option<u16> {
        let b = block.get(at..at.checked_add(2)?)?;
        Some(u16::from_ne_bytes([b[0], b[1]]))
    }

    /// Where reading a block starts: its packet count and the first packet's offset.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Cursor {
        /// Packets left to read.
        pub left: u32,
        /// Offset of the next packet header.
        pub at: usize,
    }

    /// The cursor at the start of `block`, or `None` if its descriptor does not fit.
    #[must_use]
    pub fn start(block: &[u8]) -> Option<Cursor> {
        if block.len() < BLOCK_HEADER {
            return None;
        }
        let left = u32_at(block, BLOCK_NUM_PKTS)?;
        let at = usize::try_from(u32_at(block, BLOCK_FIRST_PKT)?).ok()?;
        Some(Cursor { left, at })
    }

    /// One packet found in a block.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Packet {
        /// The kernel's arrival time, nanoseconds since the epoch.
        pub ts_nanos: u64,
        /// Where the frame's bytes are in the block.
        pub frame: std::ops::Range<usize>,
    }

    /// Why a block is given up before its end.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Malformed {
        /// A packet header outside the block (or inside the descriptor).
        Header,
        /// A frame that reaches past the block.
        Frame,
        /// A packet says it is the last while the count says more follow.
        Chain,
    }

    /// The packet at `cursor` in `block`, and the cursor moved past it.
    /// `Ok(None)` when the block has no packet left.
    ///
    /// # Errors
    /// [`Malformed`] when an offset or length does not fit the block.
    pub fn next(block: &[u8], cursor: Cursor) -> Result<Option<(Packet, Cursor)>, Malformed> {
        if cursor.left == 0 {
            return Ok(None);
        }
        let at = cursor.at;
        let header_end = at.checked_add(PKT_HEADER).ok_or(Malformed::Header)?;
        if at < BLOCK_FIRST_PKT || header_end > block.len() {
            return Err(Malformed::Header);
        }
        let field = |off: usize| u32_at(block, at + off).ok_or(Malformed::Header);
        let next_offset = usize::try_from(field(PKT_NEXT)?).map_err(|_| Malformed::Chain)?;
        let secs = u64::from(field(PKT_SEC)?);
        let nanos = u64::from(field(PKT_NSEC)?);
        let snaplen = usize::try_from(field(PKT_SNAPLEN)?).map_err(|_| Malformed::Frame)?;
        let mac = usize::from(u16_at(block, at + PKT_MAC).ok_or(Malformed::Header)?);
        let start = at.checked_add(mac).ok_or(Malformed::Frame)?;
        let end = start.checked_add(snaplen).ok_or(Malformed::Frame)?;
        if mac < PKT_HEADER || end > block.len() {
            return Err(Malformed::Frame);
        }
        if next_offset == 0 && cursor.left > 1 {
            return Err(Malformed::Chain);
        }
        let packet = Packet { ts_nanos: secs.saturating_mul(1_000_000_000).saturating_add(nanos), frame: start..end };
        Ok(Some((packet, Cursor { left: cursor.left - 1, at: at.saturating_add(next_offset) })))
    }
}

/// The ring mapped from a packet socket.
#[derive(Debug)]
pub struct Ring {
    base: *mut u8,
    block_size: usize,
    blocks: usize,
    /// The block being read, and where in it, while we hold it.
    block: usize,
    cursor: Option<parse::Cursor>,
    /// Blocks given up because they did not add up.
    pub malformed: u64,
}

// SAFETY: the mapping is owned by the Ring alone and only touched through &mut self.
unsafe impl Send for Ring {}

impl Ring {
    /// Sets up a ring of `blocks` blocks of `block_size` bytes on `fd` and maps
    /// it. A block is handed to user space when full or after `retire_ms`.
    ///
    /// # Errors
    /// When the kernel refuses the ring or the mapping.
    pub fn new(fd: BorrowedFd<'_>, block_size: usize, blocks: usize, retire_ms: u32) -> io::Result<Ring> {
        let raw = fd.as_raw_fd();
        let version = TPACKET_V3;
        // SAFETY: `version` is a live c_int for the duration of the call.
        if unsafe {
            libc::setsockopt(raw, SOL_PACKET, PACKET_VERSION, (&raw const version).cast(), socklen::<libc::c_int>())
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        if block_size < parse::BLOCK_HEADER || blocks == 0 {
            return Err(io::Error::other("ring blocks too small"));
        }
        let frame_size = 2048u32;
        let bs = u32::try_from(block_size).map_err(|_| io::Error::other("block too large"))?;
        let nr = u32::try_from(blocks).map_err(|_| io::Error::other("too many blocks"))?;
        let req = TpacketReq3 {
            tp_block_size: bs,
            tp_block_nr: nr,
            tp_frame_size: frame_size,
            tp_frame_nr: bs / frame_size * nr,
            tp_retire_blk_tov: retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        // SAFETY: `req` is live and laid out as `struct tpacket_req3`.
        if unsafe {
            libc::setsockopt(raw, SOL_PACKET, PACKET_RX_RING, (&raw const req).cast(), socklen::<TpacketReq3>())
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        let len = block_size * blocks;
        // SAFETY: mapping the ring the kernel just allocated for `fd`, read-write shared.
        let base = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, raw, 0)
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring { base: base.cast(), block_size, blocks, block: 0, cursor: None, malformed: 0 })
    }

    fn status_ptr(&self) -> *mut u32 {
        // SAFETY: `block < blocks` and BLOCK_STATUS + 4 <= BLOCK_HEADER <= block_size,
        // so the word is inside the mapping.
        unsafe { self.base.add(self.block * self.block_size + parse::BLOCK_STATUS).cast::<u32>() }
    }

    fn status(&self) -> u32 {
        // SAFETY: the status word is inside the mapping (see `status_ptr`); the
        // kernel writes it, so read it volatile, unaligned-safe as the kernel aligns it.
        let s = unsafe { std::ptr::read_volatile(self.status_ptr()) };
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        s
    }

    /// The bytes of the block we hold.
    fn block_bytes(&self) -> &[u8] {
        // SAFETY: the block lies inside the mapping; we hold it (TP_STATUS_USER),
        // so the kernel does not write it until `release`, which needs `&mut self`
        // and so cannot run while this borrow lives.
        unsafe { std::slice::from_raw_parts(self.base.add(self.block * self.block_size), self.block_size) }
    }

    /// Gives the current block back to the kernel and moves to the next.
    fn release(&mut self) {
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        // SAFETY: the status word is inside the block, which we hold.
        unsafe { std::ptr::write_volatile(self.status_ptr(), TP_STATUS_KERNEL) };
        self.cursor = None;
        self.block = (self.block + 1) % self.blocks;
    }

    /// Whether a packet can be read now (takes the next block if it is ready).
    pub fn ready(&mut self) -> bool {
        for _ in 0..=self.blocks {
            match self.cursor {
                Some(c) if c.left > 0 => return true,
                Some(_) => self.release(),
                None => {}
            }
            if self.status() & TP_STATUS_USER == 0 {
                return false;
            }
            match parse::start(self.block_bytes()) {
                Some(c) => self.cursor = Some(c),
                None => {
                    self.malformed += 1;
                    self.release();
                }
            }
        }
        false
    }

    /// The next packet: kernel timestamp in nanoseconds and the frame bytes.
    /// `None` when no packet is ready (see [`Ring::ready`]).
    pub fn next_packet(&mut self) -> Option<(u64, &[u8])> {
        if !self.ready() {
            return None;
        }
        let cursor = self.cursor?;
        match parse::next(self.block_bytes(), cursor) {
            Ok(Some((packet, moved))) => {
                self.cursor = Some(moved);
                Some((packet.ts_nanos, &self.block_bytes()[packet.frame]))
            }
            Ok(None) => None,
            Err(_) => {
                self.malformed += 1;
                self.release();
                None
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; nothing borrows it any more.
        unsafe { libc::munmap(self.base.cast(), self.block_size * self.blocks) };
    }
}

#[cfg(test)]
mod tests {
    use super::parse::*;

    /// A block of `size` bytes holding `frames`, laid out as the kernel does.
    fn block(size: usize, frames: &[&[u8]]) -> Vec<u8> {
        let mut b = vec![0u8; size];
        let put = |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        put(&mut b, BLOCK_NUM_PKTS, u32::try_from(frames.len()).unwrap());
        put(&mut b, BLOCK_FIRST_PKT, 48);
        let mut at = 48;
        for (i, f) in frames.iter().enumerate() {
            let mac = 32;
            let len = (mac + f.len()).div_ceil(16) * 16;
            let next = if i + 1 == frames.len() { 0 } else { len };
            put(&mut b, at + PKT_NEXT, u32::try_from(next).unwrap());
            put(&mut b, at + PKT_SEC, 7);
            put(&mut b, at + PKT_NSEC, u32::try_from(i).unwrap());
            put(&mut b, at + PKT_SNAPLEN, u32::try_from(f.len()).unwrap());
            b[at + PKT_MAC..at + PKT_MAC + 2].copy_from_slice(&u16::try_from(mac).unwrap().to_ne_bytes());
            b[at + mac..at + mac + f.len()].copy_from_slice(f);
            at += len;
        }
        b
    }

    fn read_all(b: &[u8]) -> Result<Vec<(u64, Vec<u8>)>, Malformed> {
        let mut c = start(b).ok_or(Malformed::Header)?;
        let mut out = Vec::new();
        while let Some((p, next_cursor)) = next(b, c)? {
            out.push((p.ts_nanos, b[p.frame].to_vec()));
            c = next_cursor;
        }
        Ok(out)
    }

    #[test]
    fn reads_every_frame_of_a_block_in_order() {
        let b = block(512, &[b"first", b"second frame", b"3"]);
        let got = read_all(&b).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (7_000_000_000, b"first".to_vec()));
        assert_eq!(got[1].1, b"second frame");
        assert_eq!(got[2], (7_000_000_002, b"3".to_vec()));
    }

    #[test]
    fn an_empty_block_has_no_packet() {
        assert_eq!(read_all(&block(64, &[])).unwrap(), vec![]);
        assert_eq!(start(&[0u8; 20]), None, "a block shorter than its descriptor");
    }

    #[test]
    fn a_frame_past_the_block_is_refused() {
        let mut b = block(256, &[b"hello"]);
        b[48 + PKT_SNAPLEN..48 + PKT_SNAPLEN + 4].copy_from_slice(&10_000u32.to_ne_bytes());
        assert_eq!(read_all(&b), Err(Malformed::Frame));
        let mut b = block(256, &[b"hello"]);
        b[48 + PKT_SNAPLEN..48 + PKT_SNAPLEN + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert_eq!(read_all(&b), Err(Malformed::Frame), "no overflow on a huge length");
    }

    #[test]
    fn a_header_outside_the_block_is_refused() {
        let mut b = block(256, &[b"x"]);
        b[BLOCK_FIRST_PKT..BLOCK_FIRST_PKT + 4].copy_from_slice(&250u32.to_ne_bytes());
        assert_eq!(read_all(&b), Err(Malformed::Header));
        let mut b = block(256, &[b"x"]);
        b[BLOCK_FIRST_PKT..BLOCK_FIRST_PKT + 4].copy_from_slice(&4u32.to_ne_bytes());
        assert_eq!(read_all(&b), Err(Malformed::Header), "inside the block descriptor");
        let mut b = block(256, &[b"x"]);
        b[48 + PKT_MAC..48 + PKT_MAC + 2].copy_from_slice(&2u16.to_ne_bytes());
        assert_eq!(read_all(&b), Err(Malformed::Frame), "a frame overlapping its own header");
    }

    #[test]
    fn a_broken_chain_is_refused() {
        let mut b = block(512, &[b"a", b"b"]);
        b[48 + PKT_NEXT..48 + PKT_NEXT + 4].copy_from_slice(&0u32.to_ne_bytes());
        assert_eq!(read_all(&b), Err(Malformed::Chain));
        // A count larger than the chain walks off the end, into a header check.
        let mut b = block(128, &[b"a"]);
        b[BLOCK_NUM_PKTS..BLOCK_NUM_PKTS + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(read_all(&b).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_give_frames_inside_the_block_or_an_error(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            if let Some(mut c) = start(&bytes) {
                for _ in 0..1000 {
                    match next(&bytes, c) {
                        Ok(Some((p, moved))) => {
                            proptest::prop_assert!(p.frame.end <= bytes.len() && p.frame.start <= p.frame.end);
                            c = moved;
                        }
                        Ok(None) | Err(_) => break,
                    }
                }
            }
        }
    }
}
