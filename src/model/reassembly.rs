//! IP reassembly, as Linux does it. IPv4 (RFC 791): fragments of one
//! datagram (same source, destination, identification, protocol and virtual
//! network) are held until every byte from 0 to the last fragment's end is
//! there, then the datagram is rebuilt; overlaps keep the first copy of each
//! byte. IPv6 (RFC 8200 §4.5): the same, keyed by source, destination,
//! identification and virtual network, with the fragment header taken out of
//! the rebuilt packet; fragments that overlap make the whole datagram be
//! discarded (RFC 5722). Memory is bounded ([`MAX_DATAGRAMS`], [`MAX_BYTES`],
//! shared by both versions); a datagram not complete within [`TIMEOUT`] (v4)
//! or [`TIMEOUT_V6`] (Linux's `ipfrag_time` and `ip6frag_time`, on the
//! capture's clock) is given up, its fragments counted. Pure.

use std::collections::{HashMap, VecDeque};

use super::decode::wire::ipv6::fragment;
use super::encap::Encap;
use super::segment::Timestamp;

/// Datagrams being reassembled at once.
pub const MAX_DATAGRAMS: usize = 1024;
/// Bytes held in all of them.
pub const MAX_BYTES: usize = 4 << 20;
/// Linux's `net.ipv4.ipfrag_time`: 30 s.
pub const TIMEOUT: u64 = 30_000_000_000;
/// Linux's `net.ipv6.ip6frag_time`: 60 s.
pub const TIMEOUT_V6: u64 = 60_000_000_000;

/// The IPv6 next-header values of the extension headers that may come
/// before a fragment header (RFC 8200 §4.1), and of the fragment header.
mod next_header {
    pub use super::super::decode::wire::ip_protocol::{
        HOP_BY_HOP, IPV6_DESTINATION_OPTIONS as DESTINATION_OPTIONS, IPV6_FRAGMENT as FRAGMENT, IPV6_ROUTING as ROUTING,
    };
}

/// Which datagram a fragment belongs to: IPv4 (source, destination,
/// identification, protocol, virtual network) or IPv6 (source, destination,
/// identification, virtual network).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    V4([u8; 4], [u8; 4], u16, u8, u64),
    V6([u8; 16], [u8; 16], u32, u64),
}

impl Key {
    fn timeout(self) -> u64 {
        match self {
            Key::V4(..) => TIMEOUT,
            Key::V6(..) => TIMEOUT_V6,
        }
    }
}

#[derive(Debug, Default)]
struct Datagram {
    /// The header of the fragment at offset 0 (IPv6: its unfragmentable
    /// part, the headers before the fragment header).
    header: Vec<u8>,
    /// IPv6: where in `header` the next-header byte that named the fragment
    /// header is, and what the fragment header said comes next.
    v6_next: Option<(usize, u8)>,
    /// IPv6: two fragments overlapped; the datagram will be discarded.
    overlapped: bool,
    /// The payload, filled as fragments come; `have[i]` says byte i is there.
    payload: Vec<u8>,
    have: Vec<bool>,
    /// The payload's length, once the last fragment (MF clear) came.
    total: Option<usize>,
    frames: u64,
}

/// What adding a fragment gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// Held: the datagram is not complete yet.
    Held,
    /// The whole datagram, and how many fragment frames it took.
    Complete(Vec<u8>, u64),
    /// Not a well-formed fragment: it is not held.
    Refused,
}

/// Fragments in flight.
#[derive(Debug, Default)]
pub struct Reassembler {
    held: HashMap<Key, Datagram>,
    order: VecDeque<(Key, Timestamp)>,
    bytes: usize,
    /// Fragment frames of datagrams given up (timed out, or pushed out by
    /// the bounds).
    pub given_up: u64,
}

impl Reassembler {
    /// Fragment frames held now.
    #[must_use]
    pub fn held_frames(&self) -> u64 {
        self.held.values().map(|d| d.frames).sum()
    }

    /// Adds the IPv4 fragment `ip` (its header and what it carries) seen at
    /// `ts`, carried in `encap`.
    pub fn add(&mut self, ts: Timestamp, encap: &Encap, ip: &[u8]) -> Added {
        self.expire(ts);
        let header_len = usize::from(ip.first().map_or(0, |b| b & 0x0f)) * 4;
        let total_len =
            usize::from(u16::from_be_bytes([ip.get(2).copied().unwrap_or(0), ip.get(3).copied().unwrap_or(0)]));
        if header_len < 20 || total_len < header_len || ip.len() < total_len {
            return Added::Refused;
        }
        let frag = u16::from_be_bytes([ip[6], ip[7]]);
        let (more, offset) = (frag & 0x2000 != 0, usize::from(frag & 0x1fff) * 8);
        let data = &ip[header_len..total_len];
        let end = offset + data.len();
        if end > 65_535 - 20 || (more && !data.len().is_multiple_of(8)) {
            return Added::Refused;
        }
        let key = Key::V4(
            ip[12..16].try_into().unwrap_or([0; 4]),
            ip[16..20].try_into().unwrap_or([0; 4]),
            u16::from_be_bytes([ip[4], ip[5]]),
            ip[9],
            encap.network(),
        );
        let fragment = Fragment { offset, more, data, header: &ip[..header_len], v6_next: None };
        let Some(whole) = self.hold(ts, key, &fragment) else { return Added::Held };
        let mut out = whole.header;
        let len = u16::try_from(out.len() + whole.total).unwrap_or(u16::MAX);
        out[2..4].copy_from_slice(&len.to_be_bytes());
        out[6..8].copy_from_slice(&[0, 0]); // no longer a fragment
        out.extend_from_slice(&whole.payload[..whole.total]);
        Added::Complete(out, whole.frames)
    }

    /// Adds the IPv6 packet `ip` (from its fixed header on) that carries a
    /// fragment header, seen at `ts`, carried in `encap`. An atomic fragment
    /// (offset 0, no more fragments: RFC 6946) is complete at once and never
    /// held.
    pub fn add_v6(&mut self, ts: Timestamp, encap: &Encap, ip: &[u8]) -> Added {
        self.expire(ts);
        let Some((at, named_at)) = fragment_header(ip) else { return Added::Refused };
        let payload_len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let (Some(fh), Some(data)) = (ip.get(at..at + 8), ip.get(at + 8..40 + payload_len)) else {
            return Added::Refused;
        };
        let off = u16::from_be_bytes([fh[2], fh[3]]);
        let (more, offset) = (off & fragment::MORE != 0, usize::from(off & fragment::OFFSET));
        let end = offset + data.len();
        if end > 65_535 || (more && !data.len().is_multiple_of(8)) || (more && data.is_empty()) {
            return Added::Refused;
        }
        let key = Key::V6(
            ip[8..24].try_into().unwrap_or([0; 16]),
            ip[24..40].try_into().unwrap_or([0; 16]),
            u32::from_be_bytes([fh[4], fh[5], fh[6], fh[7]]),
            encap.network(),
        );
        let fragment = Fragment { offset, more, data, header: &ip[..at], v6_next: Some((named_at, fh[0])) };
        if offset == 0 && !more {
            return Added::Complete(rebuild_v6(ip[..at].to_vec(), (named_at, fh[0]), data), 1);
        }
        let Some(whole) = self.hold(ts, key, &fragment) else { return Added::Held };
        let next = whole.v6_next.unwrap_or((named_at, fh[0]));
        Added::Complete(rebuild_v6(whole.header, next, &whole.payload[..whole.total]), whole.frames)
    }

    /// Holds one fragment of datagram `key`; when the datagram is complete,
    /// takes it out. An IPv6 datagram whose fragments overlapped is
    /// discarded when complete, its frames counted as given up.
    fn hold(&mut self, ts: Timestamp, key: Key, f: &Fragment<'_>) -> Option<Whole> {
        let end = f.offset + f.data.len();
        if !self.held.contains_key(&key) {
            while self.held.len() >= MAX_DATAGRAMS || self.bytes + f.data.len() > MAX_BYTES {
                if !self.drop_oldest() {
                    break;
                }
            }
            self.order.push_back((key, ts));
        }
        let d = self.held.entry(key).or_default();
        d.frames += 1;
        if d.payload.len() < end {
            self.bytes += end - d.payload.len();
            d.payload.resize(end, 0);
            d.have.resize(end, false);
        }
        for (i, &b) in f.data.iter().enumerate() {
            if d.have[f.offset + i] {
                d.overlapped |= f.v6_next.is_some();
            } else {
                d.payload[f.offset + i] = b;
                d.have[f.offset + i] = true;
            }
        }
        if f.offset == 0 {
            d.header = f.header.to_vec();
            d.v6_next = f.v6_next;
        }
        if !f.more {
            d.total = Some(end);
        }
        let complete =
            d.total.is_some_and(|t| !d.header.is_empty() && d.have.len() >= t && d.have[..t].iter().all(|&h| h));
        if !complete {
            return None;
        }
        let d = self.held.remove(&key)?;
        self.bytes = self.bytes.saturating_sub(d.payload.len());
        self.order.retain(|(k, _)| *k != key);
        if d.overlapped {
            self.given_up += d.frames;
            return None;
        }
        Some(Whole {
            header: d.header,
            total: d.total.unwrap_or(0),
            payload: d.payload,
            frames: d.frames,
            v6_next: d.v6_next,
        })
    }

    /// Gives up the datagrams older than their version's timeout at `now`
    /// (held in arrival order: a v6 datagram behind an older v4 one waits
    /// for it, at most [`TIMEOUT`] more).
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(key, first)) = self.order.front() {
            if now.0.saturating_sub(first.0) < key.timeout() {
                break;
            }
            self.order.pop_front();
            if let Some(d) = self.held.remove(&key) {
                self.bytes = self.bytes.saturating_sub(d.payload.len());
                self.given_up += d.frames;
            }
        }
    }

    fn drop_oldest(&mut self) -> bool {
        let Some((key, _)) = self.order.pop_front() else { return false };
        if let Some(d) = self.held.remove(&key) {
            self.bytes = self.bytes.saturating_sub(d.payload.len());
            self.given_up += d.frames;
        }
        true
    }
}

/// A datagram whose fragments are all there: its first fragment's headers,
/// its payload (`total` bytes of it), how many fragment frames it took.
struct Whole {
    header: Vec<u8>,
    total: usize,
    payload: Vec<u8>,
    frames: u64,
    v6_next: Option<(usize, u8)>,
}

/// One fragment, as both versions hand it to [`Reassembler::hold`].
struct Fragment<'a> {
    offset: usize,
    more: bool,
    data: &'a [u8],
    /// The headers to rebuild the datagram with, if this is its first part.
    header: &'a [u8],
    v6_next: Option<(usize, u8)>,
}

/// Where an IPv6 packet's fragment header is, and where the next-header
/// byte that names it is: after the fixed header and any hop-by-hop,
/// routing or destination options headers. `None` when there is none, or
/// the headers before it run past the packet.
fn fragment_header(ip: &[u8]) -> Option<(usize, usize)> {
    if ip.len() < 40 || ip[0] >> 4 != 6 {
        return None;
    }
    let (mut next, mut named_at, mut at) = (ip[6], 6, 40);
    // Bounded: each header advances at least 8 bytes.
    loop {
        match next {
            next_header::FRAGMENT => return Some((at, named_at)),
            next_header::HOP_BY_HOP | next_header::ROUTING | next_header::DESTINATION_OPTIONS => {
                let (&nh, &len) = (ip.get(at)?, ip.get(at + 1)?);
                (next, named_at) = (nh, at);
                at += (usize::from(len) + 1) * 8;
            }
            _ => return None,
        }
    }
}

/// The IPv6 packet a datagram's fragments make: the unfragmentable headers,
/// the byte that named the fragment header now naming what it carried, the
/// payload length set, and the payload.
fn rebuild_v6(mut header: Vec<u8>, (named_at, carried): (usize, u8), payload: &[u8]) -> Vec<u8> {
    if let Some(b) = header.get_mut(named_at) {
        *b = carried;
    }
    let len = u16::try_from(header.len() - 40 + payload.len()).unwrap_or(u16::MAX);
    header[4..6].copy_from_slice(&len.to_be_bytes());
    header.extend_from_slice(payload);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 fragment of datagram 7 carrying `data` at `offset`.
    fn frag(offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
        let total = u16::try_from(20 + data.len()).unwrap();
        let flags = u16::try_from(offset / 8).unwrap() | if more { 0x2000 } else { 0 };
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&total.to_be_bytes());
        ip.extend_from_slice(&[0, 7]);
        ip.extend_from_slice(&flags.to_be_bytes());
        ip.extend_from_slice(&[64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        ip.extend_from_slice(data);
        ip
    }

    #[test]
    fn in_any_order_with_duplicates_then_whole() {
        let payload: Vec<u8> = (0..40).collect();
        let mut r = Reassembler::default();
        let e = Encap::default();
        assert_eq!(r.add(Timestamp(3), &e, &frag(24, false, &payload[24..])), Added::Held);
        assert_eq!(r.add(Timestamp(4), &e, &frag(8, true, &payload[8..24])), Added::Held);
        assert_eq!(r.add(Timestamp(5), &e, &frag(8, true, &payload[8..24])), Added::Held);
        let Added::Complete(whole, frames) = r.add(Timestamp(6), &e, &frag(0, true, &payload[..8])) else {
            panic!("complete");
        };
        assert_eq!(frames, 4);
        assert_eq!(&whole[20..], &payload[..]);
        assert_eq!(u16::from_be_bytes([whole[2], whole[3]]), 60);
        assert_eq!(&whole[6..8], &[0, 0]);
        assert_eq!(r.held_frames(), 0);
    }

    #[test]
    fn incomplete_datagrams_time_out_and_memory_is_bounded() {
        let mut r = Reassembler::default();
        let e = Encap::default();
        assert_eq!(r.add(Timestamp(0), &e, &frag(0, true, &[0; 8])), Added::Held);
        assert_eq!(r.held_frames(), 1);
        // 30 s later (capture clock) the first datagram is given up.
        let mut other = frag(0, true, &[0; 8]);
        other[5] = 8;
        assert_eq!(r.add(Timestamp(TIMEOUT), &e, &other), Added::Held);
        assert_eq!((r.given_up, r.held_frames()), (1, 1));
        // A flood of distinct datagrams stays within the bounds.
        for id in 0..5000u16 {
            let mut f = frag(0, true, &[0; 8]);
            f[4..6].copy_from_slice(&id.to_be_bytes());
            f[13] = 9;
            r.add(Timestamp(TIMEOUT + 1), &e, &f);
        }
        assert!(r.held.len() <= MAX_DATAGRAMS && r.bytes <= MAX_BYTES);
        assert_eq!(r.given_up + r.held_frames(), 5002);
        // Malformed: a middle fragment not a multiple of 8, lying lengths.
        assert_eq!(r.add(Timestamp(0), &e, &frag(0, true, &[0; 5])), Added::Refused);
        assert_eq!(r.add(Timestamp(0), &e, &frag(0, true, &[0; 8])[..20]), Added::Refused);
    }

    /// An IPv6 packet from 2001:db8::1 to 2001:db8::2 with a destination
    /// options header, then a fragment header (id 9) carrying `data` at
    /// `offset`, the fragmented payload being TCP.
    fn frag6(offset: usize, more: bool, data: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x60, 0, 0, 0];
        let payload_len = u16::try_from(8 + 8 + data.len()).unwrap();
        ip.extend_from_slice(&payload_len.to_be_bytes());
        ip.extend_from_slice(&[next_header::DESTINATION_OPTIONS, 64]);
        ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        ip.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        ip.extend_from_slice(&[next_header::FRAGMENT, 0, 1, 4, 0, 0, 0, 0]);
        let off = u16::try_from(offset / 8 * 8).unwrap() | u16::from(more);
        ip.extend_from_slice(&[6, 0]);
        ip.extend_from_slice(&off.to_be_bytes());
        ip.extend_from_slice(&9u32.to_be_bytes());
        ip.extend_from_slice(data);
        ip
    }

    /// The packet the fragments of [`frag6`] make: no fragment header, the
    /// options header naming TCP, the payload length without the 8 bytes.
    fn whole6(data: &[u8]) -> Vec<u8> {
        let mut ip = frag6(0, false, data);
        ip.drain(48..56);
        ip[40] = 6;
        let len = u16::try_from(8 + data.len()).unwrap();
        ip[4..6].copy_from_slice(&len.to_be_bytes());
        ip
    }

    #[test]
    fn ipv6_in_any_order_loses_its_fragment_header() {
        let payload: Vec<u8> = (0..40).collect();
        let mut r = Reassembler::default();
        let e = Encap::default();
        assert_eq!(r.add_v6(Timestamp(1), &e, &frag6(24, false, &payload[24..])), Added::Held);
        assert_eq!(r.add_v6(Timestamp(2), &e, &frag6(0, true, &payload[..8])), Added::Held);
        assert_eq!(r.add_v6(Timestamp(3), &e, &frag6(8, true, &payload[8..24])), Added::Complete(whole6(&payload), 3));
        assert_eq!((r.held_frames(), r.given_up), (0, 0));
    }

    #[test]
    fn ipv6_atomic_fragment_is_whole_at_once() {
        let mut r = Reassembler::default();
        let data = [7u8; 20];
        assert_eq!(
            r.add_v6(Timestamp(0), &Encap::default(), &frag6(0, false, &data)),
            Added::Complete(whole6(&data), 1)
        );
        assert_eq!(r.held_frames(), 0);
    }

    #[test]
    fn ipv6_overlap_discards_the_datagram() {
        let mut r = Reassembler::default();
        let e = Encap::default();
        assert_eq!(r.add_v6(Timestamp(0), &e, &frag6(0, true, &[1; 16])), Added::Held);
        assert_eq!(r.add_v6(Timestamp(0), &e, &frag6(8, true, &[2; 16])), Added::Held);
        // Complete, but two fragments overlapped: nothing comes out (RFC 5722).
        assert_eq!(r.add_v6(Timestamp(0), &e, &frag6(24, false, &[3; 4])), Added::Held);
        assert_eq!((r.held_frames(), r.given_up), (0, 3));
    }

    #[test]
    fn ipv6_times_out_after_60_s_not_30() {
        let mut r = Reassembler::default();
        let e = Encap::default();
        assert_eq!(r.add_v6(Timestamp(0), &e, &frag6(0, true, &[0; 8])), Added::Held);
        let mut other = frag6(0, true, &[0; 8]);
        other[55] = 10;
        assert_eq!(r.add_v6(Timestamp(TIMEOUT), &e, &other), Added::Held);
        assert_eq!((r.given_up, r.held_frames()), (0, 2));
        assert_eq!(r.add_v6(Timestamp(TIMEOUT_V6), &e, &frag6(8, true, &[0; 8])), Added::Held);
        assert_eq!((r.given_up, r.held_frames()), (1, 2));
    }

    #[test]
    fn ipv6_malformed_is_refused() {
        let mut r = Reassembler::default();
        let e = Encap::default();
        // A middle fragment not a multiple of 8, a cut packet, no fragment header.
        assert_eq!(r.add_v6(Timestamp(0), &e, &frag6(0, true, &[0; 5])), Added::Refused);
        assert_eq!(r.add_v6(Timestamp(0), &e, &frag6(0, true, &[0; 8])[..50]), Added::Refused);
        let mut plain = frag6(0, true, &[0; 8]);
        plain[40] = 6;
        assert_eq!(r.add_v6(Timestamp(0), &e, &plain), Added::Refused);
        // Every prefix and every one-byte change: an answer, never a panic.
        let f = frag6(8, true, &[0; 16]);
        for n in 0..f.len() {
            let _ = r.add_v6(Timestamp(0), &e, &f[..n]);
            let mut g = f.clone();
            g[n] ^= 0xff;
            let _ = r.add_v6(Timestamp(0), &e, &g);
        }
        assert!(r.held.len() <= MAX_DATAGRAMS);
    }
}
