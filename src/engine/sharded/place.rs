//! Which shard a connection falls to: its tuple, folded into a word and
//! scaled to the number of shards, the same for both directions (and for an
//! ICMP error quoting one of its segments). A plain Ethernet/IPv4/TCP frame
//! is placed from its headers alone ([`plain_shard`]), without being decoded.

use std::net::SocketAddr;

use crate::model::decode::{self, Frame};
use crate::model::segment::Segment;

/// Which of `n` shards a segment's connection belongs to, when the
/// connections of a capture are split between threads by tuple: both
/// directions of a tuple (and an ICMP error quoting it) go to the same one.
#[must_use]
pub fn shard_of(seg: &Segment, n: usize) -> usize {
    shard_of_tuple(seg.src, seg.dst, seg.encap.network(), n)
}

/// [`shard_of`] a segment from `a` to `b` in virtual network `network`.
/// The endpoints are folded into one word each and added (so that both
/// directions give the same), an IPv4 address as its IPv6-mapped form (as
/// the tuple table sees it).
#[must_use]
pub fn shard_of_tuple(a: SocketAddr, b: SocketAddr, network: u64, n: usize) -> usize {
    let ip = |e: SocketAddr| match e.ip() {
        std::net::IpAddr::V4(v4) => u64::from(v4.to_bits()),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u64::from(v4.to_bits()),
            None => {
                let bits = v6.to_bits();
                (bits >> 64) as u64 ^ (bits as u64).rotate_left(29) ^ 1 << 63
            }
        },
    };
    shard_of_words(fold(ip(a), a.port()).wrapping_add(fold(ip(b), b.port())) ^ network, n)
}

/// [`shard_of_tuple`] for IPv4 endpoints (address bits, port) outside any
/// virtual network.
#[inline]
#[must_use]
pub fn shard_of_v4(a: (u32, u16), b: (u32, u16), n: usize) -> usize {
    shard_of_words(fold(u64::from(a.0), a.1).wrapping_add(fold(u64::from(b.0), b.1)), n)
}

/// An endpoint folded into a word.
fn fold(ip: u64, port: u16) -> u64 {
    (ip ^ u64::from(port) << 32).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A tuple's word mixed and scaled to 0..n (a product's upper half, not a
/// division).
fn shard_of_words(word: u64, n: usize) -> usize {
    let m = u128::from(word) * 0xd6e8_feb8_6659_fd93;
    let word = (m >> 64) as u64 ^ m as u64;
    // Below n: fits in usize.
    ((u128::from(word) * n.max(1) as u128) >> 64) as usize
}

/// The shard (of `n`) of a plain segment's connection
/// ([`decode::plain_endpoints`]), as [`shard_of`] places it: for a reader
/// that passes over most frames and reads little else of them. `None` for
/// the others: place those by decoding.
#[inline]
#[must_use]
pub fn plain_shard(frame: &Frame<'_>, n: usize) -> Option<usize> {
    decode::plain_endpoints(frame).map(|(a, b)| shard_of_v4(a, b, n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, SocketAddrV4};

    proptest::proptest! {
        /// The shard of a plain segment, read from its headers, is the one of
        /// its decoded tuple, either way, and of the same tuple written as
        /// IPv6-mapped addresses.
        #[test]
        fn a_tuple_has_one_shard(a: u32, ap: u16, b: u32, bp: u16, n in 1usize..9) {
            let (a4, b4) = ((Ipv4Addr::from_bits(a), ap), (Ipv4Addr::from_bits(b), bp));
            let v4 = |(ip, port): (Ipv4Addr, u16)| SocketAddr::V4(SocketAddrV4::new(ip, port));
            let v6 = |(ip, port): (Ipv4Addr, u16)| SocketAddr::new(ip.to_ipv6_mapped().into(), port);
            let shard = shard_of_v4((a, ap), (b, bp), n);
            proptest::prop_assert!(shard < n);
            proptest::prop_assert_eq!(shard, shard_of_v4((b, bp), (a, ap), n));
            proptest::prop_assert_eq!(shard, shard_of_tuple(v4(a4), v4(b4), 0, n));
            proptest::prop_assert_eq!(shard, shard_of_tuple(v6(b4), v4(a4), 0, n));
        }

        /// A plain frame is placed from its headers where its decoded
        /// segment goes.
        #[test]
        fn a_plain_frame_goes_where_its_segment_goes(a: u32, ap: u16, b: u32, bp: u16, n in 1usize..9) {
            let mut frame = vec![0u8; 12];
            frame.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0]);
            frame.extend_from_slice(&a.to_be_bytes());
            frame.extend_from_slice(&b.to_be_bytes());
            frame.extend_from_slice(&ap.to_be_bytes());
            frame.extend_from_slice(&bp.to_be_bytes());
            frame.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]);
            let frame = Frame { ts: crate::model::segment::Timestamp(0), link: decode::LinkType::Ethernet, data: &frame };
            let Ok(Some(seg)) = decode::decode(&frame) else { panic!("a plain SYN: {:?}", decode::decode(&frame)) };
            proptest::prop_assert_eq!(plain_shard(&frame, n), Some(shard_of(&seg, n)));
        }
    }
}
