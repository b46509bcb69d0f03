//! IPv4 reassembly (RFC 791, as Linux does it): fragments of one datagram
//! (same source, destination, identification, protocol and virtual network)
//! are held until every byte from 0 to the last fragment's end is there,
//! then the datagram is rebuilt. Memory is bounded ([`MAX_DATAGRAMS`],
//! [`MAX_BYTES`]); a datagram not complete within [`TIMEOUT`] (Linux's
//! `ipfrag_time`, on the capture's clock) is given up, its fragments
//! counted. Overlaps keep the first copy of each byte. Pure.

use std::collections::{HashMap, VecDeque};

use super::encap::Encap;
use super::segment::Timestamp;

/// Datagrams being reassembled at once.
pub const MAX_DATAGRAMS: usize = 1024;
/// Bytes held in all of them.
pub const MAX_BYTES: usize = 4 << 20;
/// Linux's `net.ipv4.ipfrag_time`: 30 s.
pub const TIMEOUT: u64 = 30_000_000_000;

type Key = ([u8; 4], [u8; 4], u16, u8, u64);

#[derive(Debug, Default)]
struct Datagram {
    /// The header of the fragment at offset 0.
    header: Vec<u8>,
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
        let key: Key = (
            ip[12..16].try_into().unwrap_or([0; 4]),
            ip[16..20].try_into().unwrap_or([0; 4]),
            u16::from_be_bytes([ip[4], ip[5]]),
            ip[9],
            encap.network(),
        );
        if !self.held.contains_key(&key) {
            while self.held.len() >= MAX_DATAGRAMS || self.bytes + data.len() > MAX_BYTES {
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
        for (i, &b) in data.iter().enumerate() {
            if !d.have[offset + i] {
                d.payload[offset + i] = b;
                d.have[offset + i] = true;
            }
        }
        if offset == 0 {
            d.header = ip[..header_len].to_vec();
        }
        if !more {
            d.total = Some(end);
        }
        let complete =
            d.total.is_some_and(|t| !d.header.is_empty() && d.have.len() >= t && d.have[..t].iter().all(|&h| h));
        if !complete {
            return Added::Held;
        }
        let Some(d) = self.held.remove(&key) else { return Added::Held };
        self.bytes = self.bytes.saturating_sub(d.payload.len());
        self.order.retain(|(k, _)| *k != key);
        let total = d.total.unwrap_or(0);
        let mut out = d.header;
        let len = u16::try_from(out.len() + total).unwrap_or(u16::MAX);
        out[2..4].copy_from_slice(&len.to_be_bytes());
        out[6..8].copy_from_slice(&[0, 0]); // no longer a fragment
        out.extend_from_slice(&d.payload[..total]);
        Added::Complete(out, d.frames)
    }

    /// Gives up the datagrams older than [`TIMEOUT`] at `now`.
    fn expire(&mut self, now: Timestamp) {
        while let Some(&(key, first)) = self.order.front() {
            if now.0.saturating_sub(first.0) < TIMEOUT {
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
}
