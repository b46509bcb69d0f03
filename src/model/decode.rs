//! Frame bytes + link type + timestamp -> [`Segment`], "not ours", or a typed
//! [`DecodeError`].
//!
//! Decoding is total: every input, however short or lying, gives one of those
//! three answers and never panics. Every length read from a header is checked
//! against the bytes actually captured before it is used (see smoltcp's
//! `check_len` contract). Truncated frames (caplen < len) still decode as long
//! as the fixed TCP header was captured: the payload length comes from the IP
//! header, the preview from what is there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use thiserror::Error;

use super::segment::{Flags, Preview, Segment, TcpOptions, Timestamp};
use super::seq::SeqNum;

/// Link-layer header types (numbers from the tcpdump.org link-type registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_ETHERNET (1); Linux `lo` frames carry a zeroed Ethernet header.
    Ethernet,
    /// LINKTYPE_NULL (0): BSD loopback, 4-byte address family in the writer's byte order.
    Null,
    /// LINKTYPE_LOOP (108): OpenBSD loopback, address family big-endian.
    Loop,
    /// LINKTYPE_RAW (101; also DLT_RAW 12 and 14), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229).
    RawIp,
    /// LINKTYPE_LINUX_SLL (113): Linux cooked capture v1.
    LinuxSll,
    /// LINKTYPE_LINUX_SLL2 (276): Linux cooked capture v2 (`tcpdump -i any`).
    LinuxSll2,
}

impl LinkType {
    /// The link type for a registry number, if synack can decode it.
    #[must_use]
    pub fn from_number(n: u32) -> Option<LinkType> {
        Some(match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            12 | 14 | 101 | 228 | 229 => LinkType::RawIp,
            108 => LinkType::Loop,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            _ => return None,
        })
    }
}

/// One captured frame, borrowed from its source.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Capture timestamp.
    pub ts: Timestamp,
    /// Link-layer type of `data`.
    pub link: LinkType,
    /// The captured bytes (possibly fewer than were on the wire).
    pub data: &'a [u8],
}

/// Why a frame that looked like ours could not be decoded.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DecodeError {
    #[error("truncated link-layer header")]
    TruncatedLinkHeader,
    #[error("bad IP version")]
    BadIpVersion,
    #[error("truncated IPv4 header")]
    TruncatedIpv4Header,
    #[error("bad IPv4 header length")]
    BadIpv4HeaderLength,
    #[error("bad IPv4 total length")]
    BadIpv4TotalLength,
    #[error("IPv4 fragment")]
    Ipv4Fragment,
    #[error("truncated IPv6 header")]
    TruncatedIpv6Header,
    #[error("bad IPv6 extension header")]
    BadIpv6ExtensionHeader,
    #[error("IPv6 fragment")]
    Ipv6Fragment,
    #[error("truncated TCP header")]
    TruncatedTcpHeader,
    #[error("bad TCP data offset")]
    BadTcpDataOffset,
}

/// What a frame turned out to be.
pub type Decoded = Result<Option<Segment>, DecodeError>;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const IPPROTO_TCP: u8 = 6;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Decodes one frame. `Ok(None)` means "not ours": not IP, or IP but not TCP.
///
/// # Errors
/// A [`DecodeError`] when a header is truncated or its lengths lie.
pub fn decode(frame: &Frame<'_>) -> Decoded {
    let data = frame.data;
    let ip = match frame.link {
        LinkType::Ethernet => {
            let mut ethertype = be16(data, 12).ok_or(DecodeError::TruncatedLinkHeader)?;
            let mut at = 14;
            // Walk every VLAN tag that fits in the frame (802.1Q, 802.1ad and the
            // older 0x9100 QinQ), as tcpdump does.
            while matches!(ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
                ethertype = be16(data, at + 2).ok_or(DecodeError::TruncatedLinkHeader)?;
                at += 4;
            }
            match ethertype {
                ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => &data[at..],
                _ => return Ok(None),
            }
        }
        LinkType::LinuxSll => match be16(data, 14).ok_or(DecodeError::TruncatedLinkHeader)? {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => &data[16..],
            _ => return Ok(None),
        },
        LinkType::LinuxSll2 => {
            if data.len() < 20 {
                return Err(DecodeError::TruncatedLinkHeader);
            }
            match be16(data, 0).ok_or(DecodeError::TruncatedLinkHeader)? {
                ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => &data[20..],
                _ => return Ok(None),
            }
        }
        LinkType::Null | LinkType::Loop => {
            let family: [u8; 4] =
                data.get(..4).and_then(|b| b.try_into().ok()).ok_or(DecodeError::TruncatedLinkHeader)?;
            // The writer's byte order is unknown for NULL: accept either.
            let le = u32::from_le_bytes(family);
            let be = u32::from_be_bytes(family);
            // AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD.
            let known = |f: u32| matches!(f, 2 | 24 | 28 | 30);
            if !(known(le) || known(be)) {
                return Ok(None);
            }
            &data[4..]
        }
        LinkType::RawIp => data,
    };
    decode_ip(frame.ts, ip)
}

fn decode_ip(ts: Timestamp, ip: &[u8]) -> Decoded {
    let Some(&first) = ip.first() else {
        return Err(DecodeError::BadIpVersion);
    };
    match first >> 4 {
        4 => decode_ipv4(ts, ip),
        6 => decode_ipv6(ts, ip),
        _ => Err(DecodeError::BadIpVersion),
    }
}

fn decode_ipv4(ts: Timestamp, ip: &[u8]) -> Decoded {
    if ip.len() < 20 {
        return Err(DecodeError::TruncatedIpv4Header);
    }
    let header_len = usize::from(ip[0] & 0x0f) * 4;
    if header_len < 20 {
        return Err(DecodeError::BadIpv4HeaderLength);
    }
    if ip.len() < header_len {
        return Err(DecodeError::TruncatedIpv4Header);
    }
    let total_len = usize::from(be16(ip, 2).unwrap_or(0));
    if total_len < header_len {
        return Err(DecodeError::BadIpv4TotalLength);
    }
    let frag = be16(ip, 6).unwrap_or(0);
    let more_fragments = frag & 0x2000 != 0;
    let offset = frag & 0x1fff;
    if ip[9] != IPPROTO_TCP {
        return Ok(None);
    }
    if more_fragments || offset != 0 {
        return Err(DecodeError::Ipv4Fragment);
    }
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let tcp_len = total_len - header_len;
    // Ethernet padding may follow the datagram: never read past total_len.
    let captured = &ip[header_len..ip.len().min(total_len)];
    decode_tcp(ts, IpAddr::V4(src), IpAddr::V4(dst), captured, tcp_len)
}

fn decode_ipv6(ts: Timestamp, ip: &[u8]) -> Decoded {
    if ip.len() < 40 {
        return Err(DecodeError::TruncatedIpv6Header);
    }
    let payload_len = usize::from(be16(ip, 4).unwrap_or(0));
    let mut next = ip[6];
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&ip[8..24]);
    dst.copy_from_slice(&ip[24..40]);
    let end = ip.len().min(40 + payload_len);
    let mut at = 40;
    // Walk extension headers (RFC 8200 §4); bounded: each step advances >= 8 bytes.
    loop {
        match next {
            IPPROTO_TCP => break,
            // Hop-by-hop, routing, destination options.
            0 | 43 | 60 => {
                let (Some(&nh), Some(&len)) = (ip.get(at), ip.get(at + 1)) else {
                    return Err(DecodeError::BadIpv6ExtensionHeader);
                };
                next = nh;
                at += (usize::from(len) + 1) * 8;
            }
            // Authentication header: length in 4-octet units, minus 2.
            51 => {
                let (Some(&nh), Some(&len)) = (ip.get(at), ip.get(at + 1)) else {
                    return Err(DecodeError::BadIpv6ExtensionHeader);
                };
                next = nh;
                at += (usize::from(len) + 2) * 4;
            }
            44 => return Err(DecodeError::Ipv6Fragment),
            _ => return Ok(None),
        }
        if at > end {
            return Err(DecodeError::BadIpv6ExtensionHeader);
        }
    }
    let tcp_len = (40 + payload_len).saturating_sub(at);
    let captured = ip.get(at..end).unwrap_or(&[]);
    decode_tcp(ts, IpAddr::V6(Ipv6Addr::from(src)), IpAddr::V6(Ipv6Addr::from(dst)), captured, tcp_len)
}

/// `tcp` is what was captured of the TCP segment; `tcp_len` its length on the wire.
fn decode_tcp(ts: Timestamp, src: IpAddr, dst: IpAddr, tcp: &[u8], tcp_len: usize) -> Decoded {
    if tcp.len() < 20 || tcp_len < 20 {
        return Err(DecodeError::TruncatedTcpHeader);
    }
    let header_len = usize::from(tcp[12] >> 4) * 4;
    if header_len < 20 || header_len > tcp_len {
        return Err(DecodeError::BadTcpDataOffset);
    }
    let src_port = be16(tcp, 0).unwrap_or(0);
    let dst_port = be16(tcp, 2).unwrap_or(0);
    let seq = be32(tcp, 4).unwrap_or(0);
    let ack = be32(tcp, 8).unwrap_or(0);
    let flags = Flags(tcp[13]);
    let window = be16(tcp, 14).unwrap_or(0);
    let options_end = tcp.len().min(header_len);
    let mut options = parse_options(&tcp[20..options_end]);
    options.truncated |= options_end < header_len;
    let payload = tcp.get(header_len..).unwrap_or(&[]);
    Ok(Some(Segment {
        ts,
        src: SocketAddr::new(src, src_port),
        dst: SocketAddr::new(dst, dst_port),
        flags,
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        window,
        options,
        payload_len: u32::try_from(tcp_len - header_len).unwrap_or(u32::MAX),
        preview: Preview::new(payload),
    }))
}

/// Parses the options area (RFC 9293 §3.2). A malformed or cut option ends the
/// walk and sets `truncated`; what was read before it is kept.
fn parse_options(mut b: &[u8]) -> TcpOptions {
    let mut o = TcpOptions::default();
    while let Some(&kind) = b.first() {
        match kind {
            0 => break,
            1 => {
                b = &b[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = b.get(1) else {
            o.truncated = true;
            break;
        };
        let len = usize::from(len);
        if len < 2 || len > b.len() {
            o.truncated = true;
            break;
        }
        let body = &b[2..len];
        match (kind, body.len()) {
            (2, 2) => o.mss = be16(body, 0),
            (3, 1) => o.window_scale = Some(body[0]),
            (4, 0) => o.sack_permitted = true,
            (5, n) => o.sack_blocks = u8::try_from(n / 8).unwrap_or(u8::MAX),
            (8, 8) => o.timestamps = be32(body, 0).zip(be32(body, 4)),
            _ => {}
        }
        b = &b[len..];
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zeroed-Ethernet IPv4 SYN to 127.0.0.1:8001, as Linux `lo` shows it.
    fn lo_syn() -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let tcp_len = 40u16;
        let total = 20 + tcp_len;
        f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, 64, 6, 0, 0]);
        f.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1]);
        f.extend_from_slice(&[0xb6, 0x38, 0x1f, 0x41]); // 46648 -> 8001
        f.extend_from_slice(&1000u32.to_be_bytes());
        f.extend_from_slice(&0u32.to_be_bytes());
        f.extend_from_slice(&[0xa0, 0x02, 0xff, 0xd7, 0, 0, 0, 0]);
        // mss 65495, sackOK, TS, nop, wscale 7
        f.extend_from_slice(&[2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
        f
    }

    #[test]
    fn decodes_a_loopback_syn_with_options() {
        let data = lo_syn();
        let frame = Frame { ts: Timestamp(5), link: LinkType::Ethernet, data: &data };
        let s = decode(&frame).unwrap().unwrap();
        assert_eq!(s.src.to_string(), "127.0.0.1:46648");
        assert_eq!(s.dst.port(), 8001);
        assert_eq!(s.flags.to_string(), "SYN");
        assert_eq!(s.seq, SeqNum(1000));
        assert_eq!(s.options.mss, Some(65495));
        assert_eq!(s.options.window_scale, Some(7));
        assert!(s.options.sack_permitted);
        assert_eq!(s.options.timestamps, Some((1, 0)));
        assert!(!s.options.truncated);
        assert_eq!(s.payload_len, 0);
    }

    #[test]
    fn snap_length_68_keeps_headers_and_marks_cut_options() {
        let data = lo_syn();
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data[..68] };
        let s = decode(&frame).unwrap().unwrap();
        assert_eq!(s.options.mss, Some(65495));
        assert!(s.options.truncated);
    }

    #[test]
    fn lying_header_lengths_are_errors() {
        let mut data = lo_syn();
        data[14] = 0x44; // IHL 4
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data };
        assert_eq!(decode(&frame), Err(DecodeError::BadIpv4HeaderLength));
        let mut data = lo_syn();
        data[14 + 20 + 12] = 0xf0; // data offset 60 > segment
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data };
        assert_eq!(decode(&frame), Err(DecodeError::BadTcpDataOffset));
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &lo_syn()[..40] };
        assert_eq!(decode(&frame), Err(DecodeError::TruncatedTcpHeader));
    }

    #[test]
    fn fragments_and_other_protocols() {
        let mut data = lo_syn();
        data[14 + 6] = 0x20; // MF
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data };
        assert_eq!(decode(&frame), Err(DecodeError::Ipv4Fragment));
        let mut data = lo_syn();
        data[14 + 9] = 17; // UDP
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data };
        assert_eq!(decode(&frame), Ok(None));
        let mut data = lo_syn();
        data[12] = 0x08;
        data[13] = 0x06; // ARP
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data };
        assert_eq!(decode(&frame), Ok(None));
    }

    #[test]
    fn other_link_types_reach_the_same_segment() {
        let eth = lo_syn();
        let ip = &eth[14..];
        let want = decode(&Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &eth }).unwrap();
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(ip);
        let mut sll = vec![0u8; 16];
        sll[14] = 0x08;
        sll.extend_from_slice(ip);
        let mut sll2 = vec![0u8; 20];
        sll2[0] = 0x08;
        sll2.extend_from_slice(ip);
        for (link, data) in [
            (LinkType::RawIp, ip.to_vec()),
            (LinkType::Null, null),
            (LinkType::LinuxSll, sll),
            (LinkType::LinuxSll2, sll2),
        ] {
            assert_eq!(decode(&Frame { ts: Timestamp(0), link, data: &data }).unwrap(), want, "{link:?}");
        }
    }

    #[test]
    fn ipv6_walks_extension_headers() {
        let eth = lo_syn();
        let tcp = &eth[34..];
        let mut ip = vec![0x60, 0, 0, 0];
        let payload = (8 + tcp.len()) as u16;
        ip.extend_from_slice(&payload.to_be_bytes());
        ip.extend_from_slice(&[60, 64]); // next: destination options
        let mut lo = [0u8; 16];
        lo[15] = 1;
        ip.extend_from_slice(&lo);
        ip.extend_from_slice(&lo);
        ip.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // dest opts -> TCP
        ip.extend_from_slice(tcp);
        let s = decode(&Frame { ts: Timestamp(0), link: LinkType::RawIp, data: &ip }).unwrap().unwrap();
        assert_eq!(s.src.to_string(), "[::1]:46648");
        assert_eq!(s.options.mss, Some(65495));
    }
}
