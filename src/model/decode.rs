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

use super::encap::{Encap, Layer};
use super::segment::{Flags, Icmp, Preview, Segment, TcpOptions, Timestamp};
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
    /// LINKTYPE_PPP (9) and LINKTYPE_PPP_HDLC (50).
    Ppp,
    /// LINKTYPE_PPP_ETHER (51): PPPoE without its Ethernet header.
    PppOverEthernet,
    /// LINKTYPE_C_HDLC (104): Cisco HDLC.
    CiscoHdlc,
    /// LINKTYPE_IEEE802_11 (105): 802.11 frames.
    Ieee80211,
    /// LINKTYPE_IEEE802_11_RADIOTAP (127).
    Radiotap,
    /// LINKTYPE_PPI (192): Per-Packet Information, then 802.11 or Ethernet.
    Ppi,
    /// LINKTYPE_ATM_RFC1483 (100): LLC/SNAP.
    LlcSnap,
    /// LINKTYPE_ENC (109): OpenBSD IPsec, 12-byte header.
    Enc,
    /// LINKTYPE_PFLOG (117): OpenBSD pf.
    Pflog,
    /// LINKTYPE_MPLS (219): an MPLS label stack.
    Mpls,
    /// LINKTYPE_NFLOG (239): Linux netfilter log.
    Nflog,
    /// LINKTYPE_NETANALYZER (240) and _TRANSPARENT (241): Ethernet after a
    /// 4- or 12-byte header; the number is the header's length.
    NetAnalyzer(u8),
    /// LINKTYPE_IPOIB (242): IP over InfiniBand.
    Ipoib,
    /// A link type synack does not decode: its frames are counted as such.
    Other(u32),
}

impl LinkType {
    /// The link type for a registry number ([`LinkType::Other`] when synack
    /// does not decode it).
    #[must_use]
    pub fn of(n: u32) -> LinkType {
        LinkType::from_number(n).unwrap_or(LinkType::Other(n))
    }

    /// The link type for a registry number, if synack can decode it.
    #[must_use]
    pub fn from_number(n: u32) -> Option<LinkType> {
        Some(match n {
            0 => LinkType::Null,
            1 => LinkType::Ethernet,
            9 | 50 => LinkType::Ppp,
            12 | 14 | 101 | 228 | 229 => LinkType::RawIp,
            51 => LinkType::PppOverEthernet,
            100 => LinkType::LlcSnap,
            104 => LinkType::CiscoHdlc,
            105 => LinkType::Ieee80211,
            108 => LinkType::Loop,
            109 => LinkType::Enc,
            113 => LinkType::LinuxSll,
            117 => LinkType::Pflog,
            127 => LinkType::Radiotap,
            192 => LinkType::Ppi,
            219 => LinkType::Mpls,
            239 => LinkType::Nflog,
            240 => LinkType::NetAnalyzer(4),
            241 => LinkType::NetAnalyzer(12),
            242 => LinkType::Ipoib,
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

/// What a frame that may carry TCP was carried in, when synack does not
/// decode it (counted by cause, reported once).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Undecoded {
    /// A link type synack does not decode (its registry number).
    LinkType(u32),
    /// An ethertype synack does not know.
    Ethertype(u16),
    /// A GRE payload type synack does not know, or GRE with source routing.
    GreProtocol(u16),
    /// GTP-C (UDP 2123): signalling.
    GtpC,
    /// IPsec ESP: encrypted.
    Esp,
    /// MACsec with encryption.
    MacSec,
    /// A protected (encrypted) 802.11 data frame.
    Protected80211,
    /// An MPLS payload that is neither IP nor a pseudowire's Ethernet.
    MplsPayload,
    /// More than 16 nested layers.
    TooDeep,
}

impl std::fmt::Display for Undecoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Undecoded::LinkType(n) => write!(f, "link type {n}"),
            Undecoded::Ethertype(t) => write!(f, "ethertype {t:#06x}"),
            Undecoded::GreProtocol(t) => write!(f, "GRE protocol {t:#06x}"),
            Undecoded::GtpC => f.write_str("GTP-C (signalling)"),
            Undecoded::Esp => f.write_str("IPsec ESP (encrypted)"),
            Undecoded::MacSec => f.write_str("MACsec (encrypted)"),
            Undecoded::Protected80211 => f.write_str("protected 802.11 frames (encrypted)"),
            Undecoded::MplsPayload => f.write_str("MPLS with a payload that is not IP"),
            Undecoded::TooDeep => f.write_str("more than 16 nested layers"),
        }
    }
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
    /// Well-formed, in something synack does not decode.
    #[error("in {0}")]
    NotDecoded(Undecoded),
}

impl DecodeError {
    /// A frame that is broken (as opposed to one carried in something synack
    /// does not decode, or a fragment).
    #[must_use]
    pub fn is_malformed(&self) -> bool {
        !matches!(self, DecodeError::NotDecoded(_) | DecodeError::Ipv4Fragment | DecodeError::Ipv6Fragment)
    }
}

/// What a frame turned out to be.
pub type Decoded = Result<Option<Segment>, DecodeError>;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const IPPROTO_TCP: u8 = 6;
/// Nested layers followed before giving up.
const MAX_DEPTH: u8 = 16;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// `&b[at..]`, or a truncated link header.
fn from(b: &[u8], at: usize) -> Result<&[u8], DecodeError> {
    b.get(at..).ok_or(DecodeError::TruncatedLinkHeader)
}

fn link16(b: &[u8], at: usize) -> Result<u16, DecodeError> {
    be16(b, at).ok_or(DecodeError::TruncatedLinkHeader)
}

/// Decodes one frame. `Ok(None)` means "not ours": not IP, or IP but not TCP.
///
/// # Errors
/// A [`DecodeError`] when a header is truncated or its lengths lie, or when
/// the frame is carried in something synack does not decode.
pub fn decode(frame: &Frame<'_>) -> Decoded {
    // Most frames: Ethernet, a 20-byte IPv4 header, TCP, no fragment. Read
    // at fixed places, as the walk would read them.
    if frame.link == LinkType::Ethernet
        && let Some(h) = frame.data.first_chunk::<34>()
        && h[12..15] == [0x08, 0x00, 0x45]
        && h[23] == IPPROTO_TCP
        && u16::from_be_bytes([h[20], h[21]]) & 0x3fff == 0
    {
        let ip = &frame.data[14..];
        let total_len = match usize::from(u16::from_be_bytes([h[16], h[17]])) {
            0 => ip.len(),
            n => n,
        };
        if total_len >= 20 {
            let src = Ipv4Addr::new(h[26], h[27], h[28], h[29]);
            let dst = Ipv4Addr::new(h[30], h[31], h[32], h[33]);
            let tcp = &ip[20..ip.len().min(total_len)];
            return decode_tcp(frame.ts, Encap::default(), IpAddr::V4(src), IpAddr::V4(dst), tcp, total_len - 20);
        }
    }
    Walk::new(frame.ts, frame.data).link(frame.link, frame.data)
}

/// For a frame [`decode`] called an IPv4 fragment: how it was carried and
/// where in `frame.data` the fragment (its IPv4 header and what it carries)
/// is, for reassembly.
#[must_use]
pub fn fragment(frame: &Frame<'_>) -> Option<(Encap, std::ops::Range<usize>)> {
    let mut walk = Walk::new(frame.ts, frame.data);
    let _ = walk.link_mut(frame.link, frame.data);
    walk.fragment.map(|r| (walk.encap, r))
}

/// The endpoints of a plain segment (Ethernet, an IPv4 header of 20 bytes,
/// no fragment, TCP, no tag), as [`decode`] would give its sender and
/// receiver: address bits and port each, read at fixed places without
/// building the segment. `None` for anything else: decode those. Its
/// lengths and TCP header are not checked: of a frame it reads, [`decode`]
/// gives a segment with these endpoints, or refuses it as broken.
#[inline]
#[must_use]
pub fn plain_endpoints(frame: &Frame<'_>) -> Option<((u32, u16), (u32, u16))> {
    if frame.link != LinkType::Ethernet {
        return None;
    }
    let h = frame.data.first_chunk::<38>()?;
    let word = |at: usize| u32::from_be_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    // The EtherType, the IP version and header length; no fragment (flags
    // and offset, but for Don't Fragment) and the protocol.
    if word(12) & 0xffff_ff00 != 0x0800_4500 || word(20) & 0x3fff_00ff != u32::from(IPPROTO_TCP) {
        return None;
    }
    let ports = word(34);
    Some(((word(26), (ports >> 16) as u16), (word(30), ports as u16)))
}

/// Decodes a whole IP datagram (a reassembled one) carried in `encap`.
///
/// # Errors
/// As [`decode`].
pub fn decode_ip(ts: Timestamp, encap: Encap, ip: &[u8]) -> Decoded {
    let mut walk = Walk::new(ts, ip);
    walk.encap = encap;
    walk.ip(ip)
}

/// The walk from the link layer in to TCP, one layer a call; each layer
/// consumes at least one byte and the depth is bounded, so it ends.
struct Walk {
    ts: Timestamp,
    encap: Encap,
    depth: u8,
    /// Where the frame's bytes start (to locate a fragment in them).
    base: usize,
    /// The IPv4 fragment met, as a range of the frame's bytes.
    fragment: Option<std::ops::Range<usize>>,
}

impl Walk {
    fn new(ts: Timestamp, data: &[u8]) -> Walk {
        Walk { ts, encap: Encap::default(), depth: 0, base: data.as_ptr() as usize, fragment: None }
    }

    fn deeper(&mut self, layer: Option<Layer>) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(DecodeError::NotDecoded(Undecoded::TooDeep));
        }
        if let Some(l) = layer {
            self.encap.push(l);
        }
        Ok(())
    }

    fn link(mut self, link: LinkType, data: &[u8]) -> Decoded {
        self.link_mut(link, data)
    }

    fn link_mut(&mut self, link: LinkType, data: &[u8]) -> Decoded {
        match link {
            LinkType::Ethernet => self.ethernet(data),
            LinkType::LinuxSll => self.ethertype(link16(data, 14)?, from(data, 16)?),
            LinkType::LinuxSll2 => {
                if data.len() < 20 {
                    return Err(DecodeError::TruncatedLinkHeader);
                }
                self.ethertype(link16(data, 0)?, &data[20..])
            }
            LinkType::Null | LinkType::Loop => {
                let family: [u8; 4] =
                    data.get(..4).and_then(|b| b.try_into().ok()).ok_or(DecodeError::TruncatedLinkHeader)?;
                // The writer's byte order is unknown for NULL: accept either.
                let (le, be) = (u32::from_le_bytes(family), u32::from_be_bytes(family));
                // AF_INET is 2 everywhere; AF_INET6 is 24, 28 or 30 depending on the BSD.
                let known = |f: u32| matches!(f, 2 | 24 | 28 | 30);
                if !(known(le) || known(be)) {
                    return Ok(None);
                }
                self.ip(&data[4..])
            }
            LinkType::RawIp => self.ip(data),
            LinkType::Ppp => self.ppp_frame(data),
            LinkType::PppOverEthernet => self.pppoe(data),
            LinkType::CiscoHdlc => self.ethertype(link16(data, 2)?, from(data, 4)?),
            LinkType::Ieee80211 => self.wifi(data),
            LinkType::Radiotap => {
                let len = usize::from(le16(data, 2).ok_or(DecodeError::TruncatedLinkHeader)?);
                self.wifi(from(data, len)?)
            }
            LinkType::Ppi => {
                let len = usize::from(le16(data, 2).ok_or(DecodeError::TruncatedLinkHeader)?);
                let dlt = data.get(4..8).ok_or(DecodeError::TruncatedLinkHeader)?;
                match u32::from_le_bytes(dlt.try_into().unwrap_or([0; 4])) {
                    1 => self.ethernet(from(data, len)?),
                    105 => self.wifi(from(data, len)?),
                    _ => Ok(None),
                }
            }
            LinkType::LlcSnap => self.llc(data),
            LinkType::Enc => self.ip(from(data, 12)?),
            LinkType::Pflog => {
                // The header's length, padded to 4 bytes.
                let len = usize::from(*data.first().ok_or(DecodeError::TruncatedLinkHeader)?);
                self.ip(from(data, len.div_ceil(4) * 4)?)
            }
            LinkType::Mpls => self.mpls(data),
            LinkType::Nflog => self.nflog(data),
            LinkType::NetAnalyzer(header) => self.ethernet(from(data, usize::from(header))?),
            // A 40-byte global route header, then the type and 2 reserved bytes.
            LinkType::Ipoib => self.ethertype(link16(data, 40)?, from(data, 44)?),
            LinkType::Other(n) => Err(DecodeError::NotDecoded(Undecoded::LinkType(n))),
        }
    }

    fn ethernet(&mut self, data: &[u8]) -> Decoded {
        let kind = link16(data, 12)?;
        if kind <= 1500 {
            // An 802.3 length: LLC follows.
            return self.llc(from(data, 14)?);
        }
        self.ethertype(kind, from(data, 14)?)
    }

    /// 802.2 LLC: only SNAP with an ethertype (OUI 0) can carry IP.
    fn llc(&mut self, data: &[u8]) -> Decoded {
        match data.get(..6) {
            Some([0xaa, 0xaa, 0x03, 0, 0, 0]) => self.ethertype(link16(data, 6)?, from(data, 8)?),
            Some(_) => Ok(None),
            None => Err(DecodeError::TruncatedLinkHeader),
        }
    }

    fn ethertype(&mut self, kind: u16, data: &[u8]) -> Decoded {
        match kind {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => self.ip(data),
            // 802.1Q, 802.1ad and the older QinQ 0x9100: tag, then an ethertype.
            0x8100 | 0x88a8 | 0x9100 => {
                self.deeper(Some(Layer::Vlan(link16(data, 0)? & 0x0fff)))?;
                self.ethertype(link16(data, 2)?, from(data, 4)?)
            }
            // 802.1ah: the I-TAG, then the customer's Ethernet frame.
            0x88e7 => {
                self.deeper(Some(Layer::Pbb(be32(data, 0).ok_or(DecodeError::TruncatedLinkHeader)? & 0x00ff_ffff)))?;
                self.ethernet(from(data, 4)?)
            }
            // Cisco FabricPath: FTag and TTL, then the original frame.
            0x8903 => {
                self.deeper(Some(Layer::FabricPath))?;
                self.ethernet(from(data, 2)?)
            }
            // VN-Tag, 802.1BR E-Tag, Cisco MetaData: a tag, then an ethertype.
            0x8926 => {
                self.deeper(Some(Layer::VnTag))?;
                self.ethertype(link16(data, 4)?, from(data, 6)?)
            }
            0x893f => {
                self.deeper(None)?;
                self.ethertype(link16(data, 6)?, from(data, 8)?)
            }
            0x8909 => {
                self.deeper(None)?;
                self.ethertype(link16(data, 6)?, from(data, 8)?)
            }
            // MACsec: readable only without encryption (E bit clear).
            0x88e5 => {
                let tci = *data.first().ok_or(DecodeError::TruncatedLinkHeader)?;
                if tci & 0x08 != 0 {
                    return Err(DecodeError::NotDecoded(Undecoded::MacSec));
                }
                let at = if tci & 0x20 != 0 { 14 } else { 6 };
                self.deeper(None)?;
                self.ethertype(link16(data, at)?, from(data, at + 2)?)
            }
            0x8847 | 0x8848 => self.mpls(data),
            0x8864 => self.pppoe(data),
            0x880b => self.ppp_frame(data),
            // Transparent Ethernet bridging (in GRE, Geneve).
            0x6558 => self.ethernet(data),
            // Not IP, and nothing that carries it.
            0x0806
            | 0x8035
            | 0x88cc
            | 0x888e
            | 0x8809
            | 0x9000
            | 0x8137
            | 0x8138
            | 0x809b
            | 0x80f3
            | 0x88f7
            | 0x8899
            | 0x893a
            | 0x88e1
            | 0x8912
            | 0x88b8..=0x88ba
            | 0x8863
            | 0x6000..=0x6007
            | 0x88a2
            | 0x8906
            | 0x8914
            | 0x22f0
            | 0x88ab
            | 0x8892
            | 0x88a4
            | 0x0842
            | 0x8808
            | 0x8902
            | 0x88f5
            | 0x88f6
            | 0x0600
            | 0x88e3
            | 0x22f3
            | 0x88cd
            | 0x88d9
            | 0x8819
            | 0x891d => Ok(None),
            other => Err(DecodeError::NotDecoded(Undecoded::Ethertype(other))),
        }
    }

    /// An MPLS label stack; after the bottom label, IP by its first nibble
    /// (as tcpdump guesses), or a pseudowire's control word and Ethernet.
    fn mpls(&mut self, data: &[u8]) -> Decoded {
        let mut at = 0;
        loop {
            let entry = be32(data, at).ok_or(DecodeError::TruncatedLinkHeader)?;
            self.deeper(Some(Layer::Mpls(entry >> 12)))?;
            at += 4;
            if entry & 0x100 != 0 {
                break;
            }
        }
        let rest = from(data, at)?;
        // An Ethernet pseudowire, with (RFC 4448) or without its control word,
        // when an IP ethertype sits where Ethernet would put it.
        let ip_at = |at: usize| matches!(be16(rest, at), Some(ETHERTYPE_IPV4 | ETHERTYPE_IPV6 | 0x8100 | 0x88a8));
        match rest.first().map(|b| b >> 4) {
            Some(0) if ip_at(16) && be16(rest, 0) == Some(0) => self.ethernet(&rest[4..]),
            Some(4 | 6) => self.ip(rest),
            Some(_) if ip_at(12) => self.ethernet(rest),
            _ => Err(DecodeError::NotDecoded(Undecoded::MplsPayload)),
        }
    }

    /// PPPoE session: 6-byte header, then a PPP protocol number.
    fn pppoe(&mut self, data: &[u8]) -> Decoded {
        self.deeper(Some(Layer::Pppoe(link16(data, 2)?)))?;
        self.ppp(link16(data, 6)?, from(data, 8)?)
    }

    /// A PPP frame with or without the HDLC address and control bytes, and
    /// a one- or two-byte protocol field.
    fn ppp_frame(&mut self, data: &[u8]) -> Decoded {
        // A PPP link may carry Cisco HDLC frames (address 0x0f or 0x8f), as
        // tcpdump and Wireshark read them.
        if matches!(data.get(..2), Some([0x0f | 0x8f, 0x00])) {
            return self.ethertype(link16(data, 2)?, from(data, 4)?);
        }
        let data = if data.starts_with(&[0xff, 0x03]) { &data[2..] } else { data };
        let first = *data.first().ok_or(DecodeError::TruncatedLinkHeader)?;
        if first & 1 == 1 { self.ppp(u16::from(first), &data[1..]) } else { self.ppp(link16(data, 0)?, from(data, 2)?) }
    }

    fn ppp(&mut self, protocol: u16, data: &[u8]) -> Decoded {
        match protocol {
            0x0021 | 0x0057 => self.ip(data),
            0x0281 | 0x0283 => self.mpls(data),
            // LCP, IPCP, authentication and the rest: control, not IP.
            _ => Ok(None),
        }
    }

    /// 802.11: data frames only, unprotected, LLC/SNAP after the header.
    fn wifi(&mut self, data: &[u8]) -> Decoded {
        let (&fc, &flags) = (data.first().ok_or(DecodeError::TruncatedLinkHeader)?, data.get(1).unwrap_or(&0));
        let (kind, subtype) = ((fc >> 2) & 3, fc >> 4);
        // Data frames; the null-function subtypes carry nothing.
        if kind != 2 || subtype & 0x4 != 0 {
            return Ok(None);
        }
        if flags & 0x40 != 0 {
            return Err(DecodeError::NotDecoded(Undecoded::Protected80211));
        }
        let mut at = 24;
        if flags & 0x03 == 0x03 {
            at += 6; // a fourth address
        }
        if subtype & 0x8 != 0 {
            at += 2; // QoS control
            if flags & 0x80 != 0 {
                at += 4; // HT control
            }
        }
        self.llc(from(data, at)?)
    }

    /// NFLOG: TLVs in the capturing host's byte order; the payload TLV
    /// (type 9) holds the IP packet.
    fn nflog(&mut self, data: &[u8]) -> Decoded {
        let mut at = 4;
        // The byte order from the first TLV's length: the one that fits.
        let fits = |len: u16| usize::from(len) >= 4 && usize::from(len) <= data.len().saturating_sub(at);
        let little = le16(data, at).is_some_and(fits);
        while at + 4 <= data.len() {
            let (len, kind) = if little {
                (le16(data, at).unwrap_or(0), le16(data, at + 2).unwrap_or(0))
            } else {
                (be16(data, at).unwrap_or(0), be16(data, at + 2).unwrap_or(0))
            };
            let len = usize::from(len);
            if len < 4 {
                return Err(DecodeError::TruncatedLinkHeader);
            }
            if kind & 0x7fff == 9 {
                let end = data.len().min(at + len);
                return self.ip(&data[at + 4..end]);
            }
            at += len.div_ceil(4) * 4;
        }
        Ok(None)
    }

    fn ip(&mut self, ip: &[u8]) -> Decoded {
        let Some(&first) = ip.first() else {
            return Err(DecodeError::BadIpVersion);
        };
        match first >> 4 {
            4 => self.ipv4(ip),
            6 => self.ipv6(ip),
            _ => Err(DecodeError::BadIpVersion),
        }
    }

    fn ipv4(&mut self, ip: &[u8]) -> Decoded {
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
        let total_len = match usize::from(be16(ip, 2).unwrap_or(0)) {
            // A total length of 0: a frame captured before the NIC segmented it
            // (TSO): what was captured is the datagram, as Wireshark reads it.
            0 => ip.len(),
            n => n,
        };
        if total_len < header_len {
            return Err(DecodeError::BadIpv4TotalLength);
        }
        let frag = be16(ip, 6).unwrap_or(0);
        let fragment = frag & 0x2000 != 0 || frag & 0x1fff != 0;
        let protocol = ip[9];
        if protocol == 1 && !fragment {
            let from = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
            return self.icmp(false, from, &ip[header_len..ip.len().min(total_len)]);
        }
        if !carries_tcp(protocol) {
            return Ok(None);
        }
        if fragment {
            let start = (ip.as_ptr() as usize).saturating_sub(self.base);
            self.fragment = Some(start..start + ip.len().min(total_len));
            return Err(DecodeError::Ipv4Fragment);
        }
        // Ethernet padding may follow the datagram: never read past total_len.
        let captured = &ip[header_len..ip.len().min(total_len)];
        if protocol != IPPROTO_TCP {
            return self.inner(protocol, captured);
        }
        let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
        let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
        self.tcp(IpAddr::V4(src), IpAddr::V4(dst), captured, total_len - header_len)
    }

    fn ipv6(&mut self, ip: &[u8]) -> Decoded {
        if ip.len() < 40 {
            return Err(DecodeError::TruncatedIpv6Header);
        }
        let payload_len = usize::from(be16(ip, 4).unwrap_or(0));
        let mut next = ip[6];
        let end = ip.len().min(40 + payload_len);
        let mut at = 40;
        // Walk extension headers (RFC 8200 §4); bounded: each step advances >= 8 bytes.
        loop {
            match next {
                n if carries_tcp(n) || n == 58 => break,
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
        let captured = ip.get(at..end).unwrap_or(&[]);
        if next == 58 {
            let mut from = [0u8; 16];
            from.copy_from_slice(&ip[8..24]);
            return self.icmp(true, IpAddr::V6(Ipv6Addr::from(from)), captured);
        }
        if next != IPPROTO_TCP {
            return self.inner(next, captured);
        }
        let mut src = [0u8; 16];
        let mut dst = [0u8; 16];
        src.copy_from_slice(&ip[8..24]);
        dst.copy_from_slice(&ip[24..40]);
        let tcp_len = (40 + payload_len).saturating_sub(at);
        self.tcp(IpAddr::V6(Ipv6Addr::from(src)), IpAddr::V6(Ipv6Addr::from(dst)), captured, tcp_len)
    }

    /// What an IP packet carries when it is not TCP itself.
    fn inner(&mut self, protocol: u8, data: &[u8]) -> Decoded {
        match protocol {
            4 | 41 => {
                self.deeper(Some(Layer::IpInIp))?;
                self.ip(data)
            }
            47 => self.gre(data),
            17 => self.udp(data),
            // EtherIP: a 2-byte header, then Ethernet.
            97 => {
                self.deeper(None)?;
                self.ethernet(from(data, 2)?)
            }
            50 => Err(DecodeError::NotDecoded(Undecoded::Esp)),
            _ => Ok(None),
        }
    }

    /// GRE (RFC 2784/2890) and enhanced GRE (PPTP); ERSPAN inside.
    fn gre(&mut self, data: &[u8]) -> Decoded {
        let flags = link16(data, 0)?;
        let protocol = link16(data, 2)?;
        let (checksum, routing, key, seq) =
            (flags & 0x8000 != 0, flags & 0x4000 != 0, flags & 0x2000 != 0, flags & 0x1000 != 0);
        if routing {
            return Err(DecodeError::NotDecoded(Undecoded::GreProtocol(protocol)));
        }
        let mut at = 4;
        if checksum {
            at += 4;
        }
        let key_value = if key { be32(data, at) } else { None };
        if key {
            at += 4;
        }
        if seq {
            at += 4;
        }
        let layer = if flags & 7 == 1 {
            if flags & 0x0080 != 0 {
                at += 4; // enhanced GRE's acknowledgment number
            }
            // Its "key" is the payload length and the call id.
            Layer::Pptp(key_value.map_or(0, |k| u16::try_from(k & 0xffff).unwrap_or(0)))
        } else {
            Layer::Gre(key_value)
        };
        self.deeper(Some(layer))?;
        let payload = from(data, at)?;
        match protocol {
            // ERSPAN type II (with a sequence number) or I (without).
            0x88be if seq => {
                self.deeper(Some(Layer::Erspan(link16(payload, 2)? & 0x03ff)))?;
                self.ethernet(from(payload, 8)?)
            }
            0x88be => self.ethernet(payload),
            // ERSPAN type III; O flag: an 8-byte platform subheader follows.
            0x22eb => {
                self.deeper(Some(Layer::Erspan(link16(payload, 2)? & 0x03ff)))?;
                let o = payload.get(11).ok_or(DecodeError::TruncatedLinkHeader)? & 1 != 0;
                self.ethernet(from(payload, if o { 20 } else { 12 })?)
            }
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 | 0x8847 | 0x8848 | 0x880b | 0x6558 | 0x8100 | 0x88a8 => {
                self.ethertype(protocol, payload)
            }
            other => Err(DecodeError::NotDecoded(Undecoded::GreProtocol(other))),
        }
    }

    /// UDP tunnels on their registered ports: VXLAN, Geneve, GTP-U, Teredo,
    /// L2TP, LISP. A datagram that does not parse as its port's tunnel is
    /// just UDP.
    fn udp(&mut self, data: &[u8]) -> Decoded {
        let (Some(sport), Some(dport)) = (be16(data, 0), be16(data, 2)) else {
            return Ok(None);
        };
        let payload = data.get(8..).unwrap_or(&[]);
        let port = |p: u16| sport == p || dport == p;
        if port(4789) {
            return self.vxlan(payload);
        }
        if port(6081) {
            return self.geneve(payload);
        }
        if port(2152) {
            return self.gtpu(payload);
        }
        if port(2123) {
            return Err(DecodeError::NotDecoded(Undecoded::GtpC));
        }
        if port(3544) {
            return self.teredo(payload);
        }
        if port(1701) {
            return self.l2tp(payload);
        }
        if port(4341) && payload.get(8).is_some_and(|b| matches!(b >> 4, 4 | 6)) {
            self.deeper(None)?;
            return self.ip(&payload[8..]);
        }
        Ok(None)
    }

    fn vxlan(&mut self, data: &[u8]) -> Decoded {
        match (data.first(), be32(data, 4)) {
            (Some(flags), Some(vni)) if flags & 0x08 != 0 => {
                self.deeper(Some(Layer::Vxlan(vni >> 8)))?;
                self.ethernet(&data[8..])
            }
            _ => Ok(None),
        }
    }

    fn geneve(&mut self, data: &[u8]) -> Decoded {
        let (Some(&first), Some(protocol), Some(vni)) = (data.first(), be16(data, 2), be32(data, 4)) else {
            return Ok(None);
        };
        if first >> 6 != 0 {
            return Ok(None); // an unknown version
        }
        self.deeper(Some(Layer::Geneve(vni >> 8)))?;
        let at = 8 + usize::from(first & 0x3f) * 4;
        self.ethertype(protocol, from(data, at)?)
    }

    /// GTP-U G-PDUs (message type 255), extension headers skipped.
    fn gtpu(&mut self, data: &[u8]) -> Decoded {
        let (Some(&flags), Some(&kind), Some(teid)) = (data.first(), data.get(1), be32(data, 4)) else {
            return Ok(None);
        };
        if flags >> 5 != 1 || flags & 0x10 == 0 || kind != 0xff {
            return Ok(None); // not GTPv1-U, or not a G-PDU (echo, error indication)
        }
        self.deeper(Some(Layer::GtpU(teid)))?;
        let mut at = 8;
        if flags & 0x07 != 0 {
            let mut next = *data.get(11).ok_or(DecodeError::TruncatedLinkHeader)?;
            at = 12;
            while next != 0 && flags & 0x04 != 0 {
                let len = usize::from(*data.get(at).ok_or(DecodeError::TruncatedLinkHeader)?) * 4;
                if len == 0 {
                    return Err(DecodeError::TruncatedLinkHeader);
                }
                next = *data.get(at + len - 1).ok_or(DecodeError::TruncatedLinkHeader)?;
                at += len;
            }
        }
        let inner = from(data, at)?;
        match inner.first().map(|b| b >> 4) {
            Some(4 | 6) => self.ip(inner),
            _ => Ok(None),
        }
    }

    /// Teredo: optional authentication and origin indicators, then IPv6.
    fn teredo(&mut self, data: &[u8]) -> Decoded {
        let mut at = 0;
        if be16(data, 0) == Some(1) {
            let (Some(&id), Some(&auth)) = (data.get(2), data.get(3)) else {
                return Ok(None);
            };
            at = 4 + usize::from(id) + usize::from(auth) + 9;
        }
        if be16(data, at) == Some(0) {
            at += 8;
        }
        match data.get(at) {
            Some(b) if b >> 4 == 6 => {
                self.deeper(Some(Layer::Teredo))?;
                self.ip(&data[at..])
            }
            _ => Ok(None),
        }
    }

    /// L2TPv2 data messages carry PPP.
    fn l2tp(&mut self, data: &[u8]) -> Decoded {
        let Some(flags) = be16(data, 0) else {
            return Ok(None);
        };
        if flags & 0x8000 != 0 || flags & 0x000f != 2 {
            return Ok(None); // control message, or not version 2
        }
        let mut at = 2;
        if flags & 0x4000 != 0 {
            at += 2;
        }
        at += 4; // tunnel and session ids
        if flags & 0x0800 != 0 {
            at += 4;
        }
        if flags & 0x0200 != 0 {
            at += 2 + usize::from(be16(data, at).ok_or(DecodeError::TruncatedLinkHeader)?);
        }
        self.deeper(Some(Layer::Ppp))?;
        self.ppp_frame(from(data, at)?)
    }

    /// An ICMP or ICMPv6 error that quotes a TCP segment: the quoted
    /// segment's addresses, ports and sequence number, with what the error
    /// said ([`Icmp`]). Other ICMP messages are not ours.
    fn icmp(&mut self, v6: bool, from: IpAddr, icmp: &[u8]) -> Decoded {
        let (Some(&kind), Some(&code)) = (icmp.first(), icmp.get(1)) else {
            return Ok(None);
        };
        let error = if v6 { matches!(kind, 1..=4) } else { matches!(kind, 3 | 4 | 11 | 12) };
        if !error {
            return Ok(None);
        }
        let mtu = match (v6, kind) {
            (false, 3) if code == 4 => u32::from(be16(icmp, 6).unwrap_or(0)),
            (true, 2) => be32(icmp, 4).unwrap_or(0),
            _ => 0,
        };
        let quoted = icmp.get(8..).unwrap_or(&[]);
        let Some((src, dst, tcp)) = quoted_tcp(quoted) else {
            return Ok(None);
        };
        let (Some(sport), Some(dport), Some(seq)) = (be16(tcp, 0), be16(tcp, 2), be32(tcp, 4)) else {
            return Ok(None);
        };
        Ok(Some(Segment {
            ts: self.ts,
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
            flags: Flags(tcp.get(13).copied().unwrap_or(0)),
            seq: SeqNum(seq),
            ack: SeqNum(be32(tcp, 8).unwrap_or(0)),
            window: 0,
            options: TcpOptions::default(),
            payload_len: 0,
            preview: Preview::default(),
            encap: self.encap,
            icmp: Some(Icmp { v6, kind, code, mtu, from }),
        }))
    }

    /// `tcp` is what was captured of the TCP segment; `tcp_len` its length on the wire.
    fn tcp(&self, src: IpAddr, dst: IpAddr, tcp: &[u8], tcp_len: usize) -> Decoded {
        decode_tcp(self.ts, self.encap, src, dst, tcp, tcp_len)
    }
}

/// The IP header an ICMP error quotes, if it carried TCP: its addresses and
/// the quoted start of the TCP header (at least the ports and the sequence
/// number, as RFC 792 promises).
fn quoted_tcp(ip: &[u8]) -> Option<(IpAddr, IpAddr, &[u8])> {
    match ip.first()? >> 4 {
        4 => {
            // The whole fixed header, or nothing (a quote cut inside it).
            let h = ip.first_chunk::<20>()?;
            let header_len = usize::from(h[0] & 0x0f) * 4;
            if header_len < 20 || h[9] != IPPROTO_TCP || u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0 {
                return None;
            }
            let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
            let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
            let tcp = ip.get(header_len..)?;
            (tcp.len() >= 8).then_some((IpAddr::V4(src), IpAddr::V4(dst), tcp))
        }
        6 => {
            if *ip.get(6)? != IPPROTO_TCP {
                return None;
            }
            let src: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let tcp = ip.get(40..)?;
            (tcp.len() >= 8).then_some((IpAddr::V6(Ipv6Addr::from(src)), IpAddr::V6(Ipv6Addr::from(dst)), tcp))
        }
        _ => None,
    }
}

/// IP protocols that are TCP or may carry it.
fn carries_tcp(protocol: u8) -> bool {
    matches!(protocol, IPPROTO_TCP | 4 | 41 | 47 | 17 | 97 | 50)
}

fn decode_tcp(ts: Timestamp, encap: Encap, src: IpAddr, dst: IpAddr, tcp: &[u8], tcp_len: usize) -> Decoded {
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
        encap,
        icmp: None,
    }))
}

/// Parses the options area (RFC 9293 §3.2). A malformed or cut option ends the
/// walk and sets `truncated`; what was read before it is kept.
fn parse_options(b: &[u8]) -> TcpOptions {
    // Most segments after the SYNs (Linux, with timestamps): NOP, NOP and
    // the timestamps, and nothing else. Read as the walk reads them.
    if let Ok(&[1, 1, 8, 10, v0, v1, v2, v3, e0, e1, e2, e3]) = <&[u8; 12]>::try_from(b) {
        let timestamps = (u32::from_be_bytes([v0, v1, v2, v3]), u32::from_be_bytes([e0, e1, e2, e3]));
        return TcpOptions { timestamps: Some(timestamps), ..TcpOptions::default() };
    }
    walk_options(b)
}

/// [`parse_options`], one option after the other.
fn walk_options(mut b: &[u8]) -> TcpOptions {
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

    /// What [`plain_endpoints`] says of a frame, [`decode`] says too (or it
    /// refuses the frame as broken); [`decode`]'s short way for plain frames
    /// says what the walk says.
    fn plain_tuple_agrees(data: &[u8]) {
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data };
        assert_eq!(decode(&frame), Walk::new(frame.ts, data).link(frame.link, data));
        let Some(((src, sp), (dst, dp))) = plain_endpoints(&frame) else {
            return;
        };
        let seg = match decode(&frame) {
            Ok(Some(seg)) => seg,
            // Its lengths or its TCP header.
            Err(DecodeError::BadIpv4TotalLength | DecodeError::TruncatedTcpHeader | DecodeError::BadTcpDataOffset) => {
                return;
            }
            other => panic!("plain endpoints, neither a segment nor broken: {other:?}"),
        };
        let (src, dst) =
            (SocketAddr::from((Ipv4Addr::from_bits(src), sp)), SocketAddr::from((Ipv4Addr::from_bits(dst), dp)));
        assert_eq!((seg.src, seg.dst, seg.encap.network(), seg.icmp), (src, dst, 0, None));
    }

    #[test]
    fn a_plain_tuple_is_what_decoding_gives() {
        let mut syn = lo_syn();
        // Payload, and Ethernet padding past the datagram's length.
        syn.extend_from_slice(b"hello");
        let ip_len = u16::try_from(syn.len() - 14).unwrap();
        syn[16..18].copy_from_slice(&ip_len.to_be_bytes());
        syn.extend_from_slice(&[0; 6]);
        assert!(plain_endpoints(&Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &syn }).is_some());
        plain_tuple_agrees(&syn);
        // Every cut, and every bit flipped in the headers.
        for cut in 0..syn.len() {
            plain_tuple_agrees(&syn[..cut]);
        }
        for byte in 0..syn.len().min(14 + 20 + 20) {
            for bit in 0..8 {
                let mut f = syn.clone();
                f[byte] ^= 1 << bit;
                plain_tuple_agrees(&f);
            }
        }
    }

    #[test]
    fn nop_nop_timestamps_read_in_order() {
        let o = parse_options(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 1, 2]);
        assert_eq!(o.timestamps, Some((1, 258)));
        assert_eq!(o, walk_options(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 1, 2]));
    }

    proptest::proptest! {
        /// The short way for NOP, NOP, timestamps reads what the walk reads,
        /// of that layout, near it and of anything else.
        #[test]
        fn options_read_the_short_way_are_those_walked(
            mut b in proptest::collection::vec(proptest::num::u8::ANY, 0..16),
            layout in proptest::bool::ANY,
        ) {
            if layout && b.len() >= 4 {
                b[..4].copy_from_slice(&[1, 1, 8, 10]);
            }
            proptest::prop_assert_eq!(parse_options(&b), walk_options(&b));
        }

        #[test]
        fn a_plain_tuple_is_what_decoding_gives_of_any_bytes(
            header in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
            flips in proptest::collection::vec((0usize..60, 0u8..8), 0..4),
        ) {
            // Mostly near-valid frames: a lo SYN with some bytes replaced.
            let mut f = lo_syn();
            for (i, b) in header.iter().enumerate().skip(f.len().min(header.len()) / 2) {
                if i < f.len() { f[i] = *b; }
            }
            for (at, bit) in flips {
                if at < f.len() { f[at] ^= 1 << bit; }
            }
            plain_tuple_agrees(&f);
            plain_tuple_agrees(&header);
        }
    }

    #[test]
    fn an_icmp_quote_cut_inside_the_ipv4_header_is_no_quote() {
        // A quoted IPv4 header carrying TCP, then 8 bytes of TCP.
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, IPPROTO_TCP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip.extend_from_slice(&[0x1f, 0x41, 0x9c, 0x40, 0, 0, 0, 1]);
        for cut in 0..20 {
            assert!(quoted_tcp(&ip[..cut]).is_none(), "cut at {cut}");
        }
        let (src, dst, tcp) = quoted_tcp(&ip).unwrap();
        assert_eq!((src.to_string(), dst.to_string(), tcp.len()), ("10.0.0.1".into(), "10.0.0.2".into(), 8));
    }

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
    fn a_tso_frame_with_total_length_zero_uses_what_was_captured() {
        let mut data = lo_syn();
        data.extend_from_slice(b"payload");
        data[14 + 2] = 0;
        data[14 + 3] = 0;
        let s = decode(&Frame { ts: Timestamp(0), link: LinkType::Ethernet, data: &data }).unwrap().unwrap();
        assert_eq!(s.payload_len, 7);
        assert_eq!(s.preview.as_bytes(), b"payload");
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
