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
use super::udp::Datagram;

pub mod wire;

use wire::{Plain, ethernet, ethertype, ip_protocol, ipv4, ipv6, link, ppp_protocol, tcp, udp_port};

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
    /// LINKTYPE_FDDI (10).
    Fddi,
    /// LINKTYPE_ARCNET_BSD (7).
    Arcnet,
    /// LINKTYPE_ARCNET_LINUX (129).
    ArcnetLinux,
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
            10 => LinkType::Fddi,
            7 => LinkType::Arcnet,
            129 => LinkType::ArcnetLinux,
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
    /// A piece of an ARCNET packet split in fragments (RFC 1201).
    ArcnetFragment,
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
            Undecoded::ArcnetFragment => f.write_str("ARCNET fragments"),
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

    /// A fragment of an IP datagram: it goes to the reassembler.
    #[must_use]
    pub fn is_fragment(self) -> bool {
        matches!(self, DecodeError::Ipv4Fragment | DecodeError::Ipv6Fragment)
    }
}

/// What a frame turned out to be.
pub type Decoded = Result<Option<Segment>, DecodeError>;

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

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The IPv4 address in field `f` of `b`.
fn v4(b: &[u8], f: wire::Field) -> Option<IpAddr> {
    be32(b, f.start).map(|a| IpAddr::V4(Ipv4Addr::from_bits(a)))
}

/// The IPv6 address in field `f` of `b`.
fn v6(b: &[u8], f: wire::Field) -> Option<IpAddr> {
    Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(b.get(f)?).ok()?)))
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
    // Most frames are plain: their headers are read at fixed places, as the
    // walk would read them.
    if let Some(plain) = Plain::new(frame) {
        let ip = &frame.data[Plain::IP..];
        let total_len = match usize::from(plain.total_len()) {
            0 => ip.len(),
            n => n,
        };
        if total_len >= ipv4::HEADER_LEN {
            let (src, dst) = (Ipv4Addr::from_bits(plain.src().0), Ipv4Addr::from_bits(plain.dst().0));
            let tcp = &ip[ipv4::HEADER_LEN..ip.len().min(total_len)];
            let tcp_len = total_len - ipv4::HEADER_LEN;
            return decode_tcp(frame.ts, Encap::default(), IpAddr::V4(src), IpAddr::V4(dst), tcp, tcp_len);
        }
    }
    Walk::new(frame.ts, frame.data).link(frame.link, frame.data)
}

/// For a frame [`decode`] called an IPv4 or IPv6 fragment: how it was
/// carried and where in `frame.data` the fragment (its IP header and what it
/// carries) is, for reassembly.
#[must_use]
pub fn fragment(frame: &Frame<'_>) -> Option<(Encap, std::ops::Range<usize>)> {
    let mut walk = Walk::new(frame.ts, frame.data);
    let _ = walk.link_mut(frame.link, frame.data);
    walk.fragment.map(|r| (walk.encap, r))
}

/// How long a frame was on the wire, as its outermost IP header says: the
/// bytes before that header and the datagram's own length (IPv4's total
/// length, IPv6's header and payload length). `None` when no IP header says.
#[must_use]
pub fn wire_len(frame: &Frame<'_>) -> Option<usize> {
    if let Some(plain) = Plain::new(frame) {
        return Some(Plain::IP + usize::from(plain.total_len()));
    }
    let mut walk = Walk::new(frame.ts, frame.data);
    let _ = walk.link_mut(frame.link, frame.data);
    walk.datagram_end
}

/// The endpoints of a plain segment ([`Plain`]), as [`decode`] would give
/// its sender and receiver: address bits and port each, read without
/// building the segment. `None` for anything else: decode those. Its
/// lengths and TCP header are not checked: of a frame it reads, [`decode`]
/// gives a segment with these endpoints, or refuses it as broken.
#[inline]
#[must_use]
pub fn plain_endpoints(frame: &Frame<'_>) -> Option<((u32, u16), (u32, u16))> {
    Plain::new(frame).map(|p| (p.src(), p.dst()))
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

/// The UDP datagram a frame carries, inside whatever encapsulation [`decode`]
/// follows, when it is not a tunnel synack follows (those are decoded for
/// what they carry) nor TCP: the datagram itself, or, from an ICMP error
/// quoting one, its quote (with [`Datagram::icmp`] set). `None` for
/// anything else. Called only for a frame [`decode`] found not to be ours,
/// so that the TCP path pays nothing for UDP.
#[must_use]
pub fn datagram(frame: &Frame<'_>) -> Option<Datagram> {
    let mut walk = Walk::new(frame.ts, frame.data);
    walk.want_udp = true;
    let _ = walk.link_mut(frame.link, frame.data);
    walk.datagram
}

/// [`datagram`] for a whole IP datagram (a reassembled one) carried in `encap`.
#[must_use]
pub fn datagram_ip(ts: Timestamp, encap: Encap, ip: &[u8]) -> Option<Datagram> {
    let mut walk = Walk::new(ts, ip);
    walk.encap = encap;
    walk.want_udp = true;
    let _ = walk.ip(ip);
    walk.datagram
}

/// The walk from the link layer in to TCP, one layer a call; each layer
/// consumes at least one byte and the depth is bounded, so it ends.
struct Walk {
    ts: Timestamp,
    encap: Encap,
    depth: u8,
    /// Where the frame's bytes start (to locate a fragment in them).
    base: usize,
    /// The IPv4 or IPv6 fragment met, as a range of the frame's bytes.
    fragment: Option<std::ops::Range<usize>>,
    /// Where the outermost IP datagram ends in the frame, by its header.
    datagram_end: Option<usize>,
    /// Note the innermost UDP datagram that is not a tunnel ([`datagram`]).
    want_udp: bool,
    /// That datagram, when `want_udp`.
    datagram: Option<Datagram>,
}

impl Walk {
    fn new(ts: Timestamp, data: &[u8]) -> Walk {
        Walk {
            ts,
            encap: Encap::default(),
            depth: 0,
            base: data.as_ptr() as usize,
            fragment: None,
            datagram_end: None,
            want_udp: false,
            datagram: None,
        }
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
            LinkType::LinuxSll => {
                self.ethertype(link16(data, link::SLL_PROTOCOL.start)?, from(data, link::SLL_HEADER_LEN)?)
            }
            LinkType::LinuxSll2 => {
                if data.len() < link::SLL2_HEADER_LEN {
                    return Err(DecodeError::TruncatedLinkHeader);
                }
                self.ethertype(link16(data, link::SLL2_PROTOCOL.start)?, &data[link::SLL2_HEADER_LEN..])
            }
            LinkType::Null | LinkType::Loop => self.null(data),
            LinkType::RawIp => self.ip(data),
            LinkType::Ppp => self.ppp_frame(data),
            LinkType::PppOverEthernet => self.pppoe(data),
            LinkType::CiscoHdlc => {
                self.ethertype(link16(data, link::CISCO_HDLC_PROTOCOL.start)?, from(data, link::CISCO_HDLC_HEADER_LEN)?)
            }
            LinkType::Ieee80211 => self.wifi(data),
            LinkType::Radiotap => {
                let len = usize::from(le16(data, link::RADIOTAP_LEN.start).ok_or(DecodeError::TruncatedLinkHeader)?);
                self.wifi(from(data, len)?)
            }
            LinkType::Ppi => self.ppi(data),
            LinkType::LlcSnap => self.llc(data),
            LinkType::Enc => self.ip(from(data, link::ENC_HEADER_LEN)?),
            LinkType::Pflog => {
                // The header's length, padded to 4 bytes.
                let len = usize::from(*data.first().ok_or(DecodeError::TruncatedLinkHeader)?);
                self.ip(from(data, len.div_ceil(4) * 4)?)
            }
            LinkType::Mpls => self.mpls(data),
            LinkType::Nflog => self.nflog(data),
            LinkType::NetAnalyzer(header) => self.ethernet(from(data, usize::from(header))?),
            LinkType::Ipoib => {
                self.ethertype(link16(data, link::IPOIB_PROTOCOL.start)?, from(data, link::IPOIB_HEADER_LEN)?)
            }
            LinkType::Fddi => self.llc(from(data, link::FDDI_HEADER_LEN)?),
            LinkType::Arcnet => self.arcnet(data),
            LinkType::ArcnetLinux => {
                let protocol = *data.get(link::ARCNET_LINUX_PROTOCOL).ok_or(DecodeError::TruncatedLinkHeader)?;
                let len = if arcnet_rfc1201(protocol) {
                    link::ARCNET_LINUX_HEADER_LEN
                } else {
                    link::ARCNET_LINUX_OLD_HEADER_LEN
                };
                self.arcnet_payload(protocol, from(data, len)?)
            }
            LinkType::Other(n) => Err(DecodeError::NotDecoded(Undecoded::LinkType(n))),
        }
    }

    /// BSD's ARCNET header; a packet split in fragments (RFC 1201) is not
    /// put back together.
    fn arcnet(&mut self, data: &[u8]) -> Decoded {
        let protocol = *data.get(link::ARCNET_PROTOCOL).ok_or(DecodeError::TruncatedLinkHeader)?;
        if !arcnet_rfc1201(protocol) {
            return self.arcnet_payload(protocol, from(data, link::ARCNET_OLD_HEADER_LEN)?);
        }
        let mut flag = *data.get(link::ARCNET_FLAG).ok_or(DecodeError::TruncatedLinkHeader)?;
        let mut len = link::ARCNET_HEADER_LEN;
        if flag == link::ARCNET_EXCEPTION {
            flag = *data.get(link::ARCNET_EXCEPTION_FLAG).ok_or(DecodeError::TruncatedLinkHeader)?;
            len = link::ARCNET_EXCEPTION_HEADER_LEN;
        }
        if flag != 0 {
            return Err(DecodeError::NotDecoded(Undecoded::ArcnetFragment));
        }
        self.arcnet_payload(protocol, from(data, len)?)
    }

    fn arcnet_payload(&mut self, protocol: u8, data: &[u8]) -> Decoded {
        match protocol {
            link::ARCTYPE_IP | link::ARCTYPE_IP_OLD | link::ARCTYPE_INET6 => self.ip(data),
            _ => Ok(None),
        }
    }

    /// BSD loopback: an address family, in the writer's byte order for
    /// LINKTYPE_NULL (unknown here: either is accepted), then IP.
    fn null(&mut self, data: &[u8]) -> Decoded {
        let family: [u8; link::NULL_HEADER_LEN] = *data.first_chunk().ok_or(DecodeError::TruncatedLinkHeader)?;
        let known = |f: u32| f == link::AF_INET || link::AF_INET6.contains(&f);
        if !(known(u32::from_le_bytes(family)) || known(u32::from_be_bytes(family))) {
            return Ok(None);
        }
        self.ip(&data[link::NULL_HEADER_LEN..])
    }

    /// Per-Packet Information: its header, then 802.11 or Ethernet.
    fn ppi(&mut self, data: &[u8]) -> Decoded {
        const DLT_EN10MB: u32 = 1;
        const DLT_IEEE802_11: u32 = 105;
        let len = usize::from(le16(data, link::PPI_LEN.start).ok_or(DecodeError::TruncatedLinkHeader)?);
        match le32(data, link::PPI_DLT.start).ok_or(DecodeError::TruncatedLinkHeader)? {
            DLT_EN10MB => self.ethernet(from(data, len)?),
            DLT_IEEE802_11 => self.wifi(from(data, len)?),
            _ => Ok(None),
        }
    }

    fn ethernet(&mut self, data: &[u8]) -> Decoded {
        let kind = link16(data, ethernet::field::ETHERTYPE.start)?;
        if kind <= ethernet::MAX_LENGTH {
            return self.llc(from(data, ethernet::HEADER_LEN)?);
        }
        self.ethertype(kind, from(data, ethernet::HEADER_LEN)?)
    }

    /// 802.2 LLC: only SNAP with an EtherType (OUI 0) can carry IP.
    fn llc(&mut self, data: &[u8]) -> Decoded {
        match data.first_chunk() {
            Some(&wire::llc::SNAP_ETHERTYPE) => {
                self.ethertype(link16(data, wire::llc::field::ETHERTYPE.start)?, from(data, wire::llc::HEADER_LEN)?)
            }
            Some(_) => Ok(None),
            None => Err(DecodeError::TruncatedLinkHeader),
        }
    }

    fn ethertype(&mut self, kind: u16, data: &[u8]) -> Decoded {
        use ethertype::*;
        use wire::tag;
        match kind {
            IPV4 | IPV6 => self.ip(data),
            VLAN | QINQ | QINQ_OLD => {
                self.deeper(Some(Layer::Vlan(link16(data, 0)? & tag::VLAN_ID)))?;
                self.ethertype(link16(data, tag::VLAN_ETHERTYPE.start)?, from(data, tag::VLAN_LEN)?)
            }
            PBB => {
                let itag = be32(data, 0).ok_or(DecodeError::TruncatedLinkHeader)?;
                self.deeper(Some(Layer::Pbb(itag & tag::PBB_ISID)))?;
                self.ethernet(from(data, tag::PBB_LEN)?)
            }
            FABRICPATH => {
                self.deeper(Some(Layer::FabricPath))?;
                self.ethernet(from(data, tag::FABRICPATH_LEN)?)
            }
            VN_TAG => {
                self.deeper(Some(Layer::VnTag))?;
                self.ethertype(link16(data, tag::VN_TAG_ETHERTYPE.start)?, from(data, tag::VN_TAG_ETHERTYPE.end)?)
            }
            E_TAG | CISCO_METADATA => {
                self.deeper(None)?;
                self.ethertype(link16(data, tag::LONG_TAG_ETHERTYPE.start)?, from(data, tag::LONG_TAG_ETHERTYPE.end)?)
            }
            MACSEC => self.macsec(data),
            MPLS_UNICAST | MPLS_MULTICAST => self.mpls(data),
            PPPOE_SESSION => self.pppoe(data),
            PPP => self.ppp_frame(data),
            TRANSPARENT_ETHERNET => self.ethernet(data),
            other if carries_no_ip(other) => Ok(None),
            other => Err(DecodeError::NotDecoded(Undecoded::Ethertype(other))),
        }
    }

    /// MACsec: readable only without encryption (E bit clear).
    fn macsec(&mut self, data: &[u8]) -> Decoded {
        use wire::tag;
        let tci = *data.first().ok_or(DecodeError::TruncatedLinkHeader)?;
        if tci & tag::MACSEC_ENCRYPTED != 0 {
            return Err(DecodeError::NotDecoded(Undecoded::MacSec));
        }
        let at = if tci & tag::MACSEC_SCI != 0 { tag::MACSEC_ETHERTYPE_AFTER_SCI } else { tag::MACSEC_ETHERTYPE };
        self.deeper(None)?;
        self.ethertype(link16(data, at)?, from(data, at + 2)?)
    }

    /// An MPLS label stack; after the bottom label, IP by its first nibble
    /// (as tcpdump guesses), or a pseudowire's control word and Ethernet.
    fn mpls(&mut self, data: &[u8]) -> Decoded {
        use wire::mpls;
        let mut at = 0;
        loop {
            let entry = be32(data, at).ok_or(DecodeError::TruncatedLinkHeader)?;
            self.deeper(Some(Layer::Mpls(entry >> mpls::LABEL_SHIFT)))?;
            at += mpls::ENTRY_LEN;
            if entry & mpls::BOTTOM_OF_STACK != 0 {
                break;
            }
        }
        let rest = from(data, at)?;
        // An Ethernet pseudowire, with (RFC 4448) or without its control word,
        // when an IP EtherType (or a tag) sits where Ethernet would put it.
        let ip_at = |at: usize| {
            matches!(be16(rest, at), Some(ethertype::IPV4 | ethertype::IPV6 | ethertype::VLAN | ethertype::QINQ))
        };
        let ethertype_after_control_word = mpls::CONTROL_WORD_LEN + ethernet::field::ETHERTYPE.start;
        match rest.first().map(|b| b >> 4) {
            Some(0) if ip_at(ethertype_after_control_word) && be16(rest, 0) == Some(0) => {
                self.ethernet(&rest[mpls::CONTROL_WORD_LEN..])
            }
            Some(ipv4::VERSION | ipv6::VERSION) => self.ip(rest),
            Some(_) if ip_at(ethernet::field::ETHERTYPE.start) => self.ethernet(rest),
            _ => Err(DecodeError::NotDecoded(Undecoded::MplsPayload)),
        }
    }

    /// PPPoE session: 6-byte header, then a PPP protocol number.
    fn pppoe(&mut self, data: &[u8]) -> Decoded {
        use wire::ppp;
        self.deeper(Some(Layer::Pppoe(link16(data, ppp::PPPOE_SESSION_ID.start)?)))?;
        self.ppp(link16(data, ppp::PPPOE_PROTOCOL.start)?, from(data, ppp::PPPOE_HEADER_LEN)?)
    }

    /// A PPP frame with or without the HDLC address and control bytes, and
    /// a one- or two-byte protocol field.
    fn ppp_frame(&mut self, data: &[u8]) -> Decoded {
        // A PPP link may carry Cisco HDLC frames, as tcpdump and Wireshark
        // read them.
        if let Some(&[address, 0]) = data.first_chunk::<2>()
            && link::CISCO_HDLC_ADDRESSES.contains(&address)
        {
            return self
                .ethertype(link16(data, link::CISCO_HDLC_PROTOCOL.start)?, from(data, link::CISCO_HDLC_HEADER_LEN)?);
        }
        let data = data.strip_prefix(&wire::ppp::ADDRESS_CONTROL).unwrap_or(data);
        let first = *data.first().ok_or(DecodeError::TruncatedLinkHeader)?;
        // A protocol number's last byte is odd: one odd byte is a compressed one.
        if first & 1 == 1 { self.ppp(u16::from(first), &data[1..]) } else { self.ppp(link16(data, 0)?, from(data, 2)?) }
    }

    fn ppp(&mut self, protocol: u16, data: &[u8]) -> Decoded {
        match protocol {
            ppp_protocol::IPV4 | ppp_protocol::IPV6 => self.ip(data),
            ppp_protocol::MPLS_UNICAST | ppp_protocol::MPLS_MULTICAST => self.mpls(data),
            // LCP, IPCP, authentication and the rest: control, not IP.
            _ => Ok(None),
        }
    }

    /// 802.11: data frames only, unprotected, LLC/SNAP after the header.
    fn wifi(&mut self, data: &[u8]) -> Decoded {
        use wire::wifi;
        let (&fc, &flags) = (data.first().ok_or(DecodeError::TruncatedLinkHeader)?, data.get(1).unwrap_or(&0));
        let (kind, subtype) = ((fc >> wifi::TYPE_SHIFT) & 3, fc >> 4);
        if kind != wifi::TYPE_DATA || subtype & wifi::SUBTYPE_NO_DATA != 0 {
            return Ok(None);
        }
        if flags & wifi::PROTECTED != 0 {
            return Err(DecodeError::NotDecoded(Undecoded::Protected80211));
        }
        let mut at = wifi::HEADER_LEN;
        if flags & wifi::TO_FROM_DS == wifi::TO_FROM_DS {
            at += wifi::ADDRESS_LEN;
        }
        if subtype & wifi::SUBTYPE_QOS != 0 {
            at += wifi::QOS_LEN;
            if flags & wifi::ORDER != 0 {
                at += wifi::HT_LEN;
            }
        }
        self.llc(from(data, at)?)
    }

    /// NFLOG: TLVs in the capturing host's byte order; the payload TLV holds
    /// the IP packet.
    fn nflog(&mut self, data: &[u8]) -> Decoded {
        let mut at = link::NFLOG_HEADER_LEN;
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
            if kind & link::NFLOG_TYPE == link::NFLOG_PAYLOAD {
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
            ipv4::VERSION => self.ipv4(ip),
            ipv6::VERSION => self.ipv6(ip),
            _ => Err(DecodeError::BadIpVersion),
        }
    }

    /// Notes where the outermost IP datagram ends by its header's length
    /// (for [`wire_len`]): `len` bytes from `ip`'s start.
    fn datagram(&mut self, ip: &[u8], len: Option<usize>) {
        if self.datagram_end.is_none() {
            self.datagram_end = len.map(|len| self.offset(ip) + len);
        }
    }

    /// Where `bytes` (a part of the frame) start in the frame.
    fn offset(&self, bytes: &[u8]) -> usize {
        (bytes.as_ptr() as usize).saturating_sub(self.base)
    }

    fn ipv4(&mut self, ip: &[u8]) -> Decoded {
        use ipv4::field;
        self.datagram(ip, be16(ip, field::LENGTH.start).map(usize::from));
        if ip.len() < ipv4::HEADER_LEN {
            return Err(DecodeError::TruncatedIpv4Header);
        }
        let header_len = ipv4::header_len(ip[field::VER_IHL]);
        if header_len < ipv4::HEADER_LEN {
            return Err(DecodeError::BadIpv4HeaderLength);
        }
        if ip.len() < header_len {
            return Err(DecodeError::TruncatedIpv4Header);
        }
        let total_len = match usize::from(be16(ip, field::LENGTH.start).unwrap_or(0)) {
            // A total length of 0: a frame captured before the NIC segmented it
            // (TSO): what was captured is the datagram, as Wireshark reads it.
            0 => ip.len(),
            n => n,
        };
        if total_len < header_len {
            return Err(DecodeError::BadIpv4TotalLength);
        }
        let fragment =
            be16(ip, field::FLG_OFF.start).unwrap_or(0) & (ipv4::MORE_FRAGMENTS | ipv4::FRAGMENT_OFFSET) != 0;
        let protocol = ip[field::PROTOCOL];
        // The fixed header was captured: both addresses are there.
        let address = |f: wire::Field| v4(ip, f).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let src = address(field::SRC_ADDR);
        if protocol == ip_protocol::ICMP && !fragment {
            return self.icmp(false, src, &ip[header_len..ip.len().min(total_len)]);
        }
        if !carries_tcp(protocol) {
            return Ok(None);
        }
        if fragment {
            let start = self.offset(ip);
            self.fragment = Some(start..start + ip.len().min(total_len));
            return Err(DecodeError::Ipv4Fragment);
        }
        // Ethernet padding may follow the datagram: never read past total_len.
        let captured = &ip[header_len..ip.len().min(total_len)];
        if protocol != ip_protocol::TCP {
            if protocol == ip_protocol::UDP && self.want_udp {
                return self.udp_datagram(src, address(field::DST_ADDR), captured, total_len - header_len);
            }
            return self.inner(protocol, captured);
        }
        self.tcp(src, address(field::DST_ADDR), captured, total_len - header_len)
    }

    fn ipv6(&mut self, ip: &[u8]) -> Decoded {
        use ipv6::field;
        let payload_len = be16(ip, field::PAYLOAD_LEN.start).map(usize::from);
        self.datagram(ip, payload_len.map(|len| ipv6::HEADER_LEN + len));
        if ip.len() < ipv6::HEADER_LEN {
            return Err(DecodeError::TruncatedIpv6Header);
        }
        let payload_len = payload_len.unwrap_or(0);
        let end = ip.len().min(ipv6::HEADER_LEN + payload_len);
        let (next, at) = match extension_headers(ip, end) {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(DecodeError::Ipv6Fragment) => {
                let start = self.offset(ip);
                self.fragment = Some(start..start + end);
                return Err(DecodeError::Ipv6Fragment);
            }
            Err(e) => return Err(e),
        };
        let captured = ip.get(at..end).unwrap_or(&[]);
        // The fixed header was captured: both addresses are there.
        let address = |f: wire::Field| v6(ip, f).unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        let src = address(field::SRC_ADDR);
        if next == ip_protocol::ICMPV6 {
            return self.icmp(true, src, captured);
        }
        let tcp_len = (ipv6::HEADER_LEN + payload_len).saturating_sub(at);
        if next != ip_protocol::TCP {
            if next == ip_protocol::UDP && self.want_udp {
                return self.udp_datagram(src, address(field::DST_ADDR), captured, tcp_len);
            }
            return self.inner(next, captured);
        }
        self.tcp(src, address(field::DST_ADDR), captured, tcp_len)
    }

    /// What an IP packet carries when it is not TCP itself.
    fn inner(&mut self, protocol: u8, data: &[u8]) -> Decoded {
        match protocol {
            ip_protocol::IPV4 | ip_protocol::IPV6 => {
                self.deeper(Some(Layer::IpInIp))?;
                self.ip(data)
            }
            ip_protocol::GRE => self.gre(data),
            ip_protocol::UDP => self.udp(data),
            // EtherIP: a 2-byte header, then Ethernet.
            ip_protocol::ETHERIP => {
                self.deeper(None)?;
                self.ethernet(from(data, 2)?)
            }
            ip_protocol::ESP => Err(DecodeError::NotDecoded(Undecoded::Esp)),
            _ => Ok(None),
        }
    }

    /// GRE (RFC 2784/2890) and enhanced GRE (PPTP); ERSPAN inside.
    fn gre(&mut self, data: &[u8]) -> Decoded {
        use wire::gre;
        let flags = link16(data, 0)?;
        let protocol = link16(data, gre::PROTOCOL.start)?;
        if flags & gre::ROUTING != 0 {
            return Err(DecodeError::NotDecoded(Undecoded::GreProtocol(protocol)));
        }
        let mut at = gre::HEADER_LEN;
        if flags & gre::CHECKSUM != 0 {
            at += gre::OPTION_LEN;
        }
        let key = if flags & gre::KEY != 0 { be32(data, at) } else { None };
        if flags & gre::KEY != 0 {
            at += gre::OPTION_LEN;
        }
        let seq = flags & gre::SEQUENCE != 0;
        if seq {
            at += gre::OPTION_LEN;
        }
        let layer = if flags & gre::VERSION == gre::VERSION_ENHANCED {
            if flags & gre::ACKNOWLEDGMENT != 0 {
                at += gre::OPTION_LEN;
            }
            // Its "key" is the payload length and the call id.
            Layer::Pptp(key.map_or(0, |k| u16::try_from(k & 0xffff).unwrap_or(0)))
        } else {
            Layer::Gre(key)
        };
        self.deeper(Some(layer))?;
        let payload = from(data, at)?;
        let session =
            |payload: &[u8]| Ok::<_, DecodeError>(link16(payload, gre::ERSPAN_SESSION.start)? & gre::ERSPAN_SESSION_ID);
        match protocol {
            // ERSPAN type II (with a sequence number) or I (without).
            ethertype::ERSPAN if seq => {
                self.deeper(Some(Layer::Erspan(session(payload)?)))?;
                self.ethernet(from(payload, gre::ERSPAN_II_LEN)?)
            }
            ethertype::ERSPAN => self.ethernet(payload),
            ethertype::ERSPAN_III => {
                self.deeper(Some(Layer::Erspan(session(payload)?)))?;
                let flags = payload.get(gre::ERSPAN_III_FLAGS).ok_or(DecodeError::TruncatedLinkHeader)?;
                let platform = if flags & 1 != 0 { gre::ERSPAN_III_PLATFORM_LEN } else { 0 };
                self.ethernet(from(payload, gre::ERSPAN_III_LEN + platform)?)
            }
            ethertype::IPV4
            | ethertype::IPV6
            | ethertype::MPLS_UNICAST
            | ethertype::MPLS_MULTICAST
            | ethertype::PPP
            | ethertype::TRANSPARENT_ETHERNET
            | ethertype::VLAN
            | ethertype::QINQ => self.ethertype(protocol, payload),
            aruba
                if (wire::aruba::FIRST..=wire::aruba::LAST).contains(&aruba)
                    && aruba.is_multiple_of(wire::aruba::STEP) =>
            {
                self.wifi(payload)
            }
            other => Err(DecodeError::NotDecoded(Undecoded::GreProtocol(other))),
        }
    }

    /// A UDP datagram (`udp` captured of its `len` bytes), when
    /// [`datagram`] looks for one: a tunnel is followed, and when none was
    /// entered (not a tunnel's port, or not its header) the datagram is the
    /// one noted, unless one inside it was.
    fn udp_datagram(&mut self, src: IpAddr, dst: IpAddr, udp: &[u8], len: usize) -> Decoded {
        use wire::udp::{HEADER_LEN, field};
        let depth = self.depth;
        let inside = self.udp(udp);
        if self.depth != depth || self.datagram.is_some() {
            return inside;
        }
        if let (Some(sport), Some(dport)) = (be16(udp, field::SRC_PORT.start), be16(udp, field::DST_PORT.start)) {
            self.datagram = Some(Datagram {
                ts: self.ts,
                src: SocketAddr::new(src, sport),
                dst: SocketAddr::new(dst, dport),
                len: u32::try_from(len.saturating_sub(HEADER_LEN)).unwrap_or(u32::MAX),
                preview: Preview::new(udp.get(HEADER_LEN..).unwrap_or(&[])),
                encap: self.encap,
                icmp: None,
            });
        }
        inside
    }

    /// UDP tunnels on their registered ports: VXLAN, Geneve, GTP-U, Teredo,
    /// L2TP, LISP. A datagram that does not parse as its port's tunnel is
    /// just UDP.
    fn udp(&mut self, data: &[u8]) -> Decoded {
        use wire::udp::{HEADER_LEN, field};
        let (Some(sport), Some(dport)) = (be16(data, field::SRC_PORT.start), be16(data, field::DST_PORT.start)) else {
            return Ok(None);
        };
        let payload = data.get(HEADER_LEN..).unwrap_or(&[]);
        match [sport, dport] {
            p if p.contains(&udp_port::VXLAN) => self.vxlan(payload),
            p if p.contains(&udp_port::GENEVE) => self.geneve(payload),
            p if p.contains(&udp_port::GTP_U) => self.gtpu(payload),
            p if p.contains(&udp_port::GTP_C) => Err(DecodeError::NotDecoded(Undecoded::GtpC)),
            p if p.contains(&udp_port::TEREDO) => self.teredo(payload),
            p if p.contains(&udp_port::L2TP) => self.l2tp(payload),
            p if p.contains(&udp_port::LISP_DATA) => self.lisp(payload),
            p if p.contains(&udp_port::GRE_IN_UDP) => self.gre(payload),
            p if p.contains(&udp_port::AYIYA) => self.ayiya(payload),
            _ => Ok(None),
        }
    }

    /// AYIYA: a packet forwarded after the identity and signature.
    fn ayiya(&mut self, data: &[u8]) -> Decoded {
        use wire::ayiya;
        let (Some(&id), Some(&sig), Some(&op), Some(&next)) =
            (data.get(ayiya::ID_LEN), data.get(ayiya::SIG_LEN), data.get(ayiya::OPCODE), data.get(ayiya::NEXT_HEADER))
        else {
            return Ok(None);
        };
        if op & 0x0f != ayiya::FORWARD || !matches!(next, ip_protocol::IPV4 | ip_protocol::IPV6) {
            return Ok(None);
        }
        let at = ayiya::HEADER_LEN + (1usize << (id >> 4)) + usize::from(sig >> 4) * 4;
        self.deeper(Some(Layer::Ayiya))?;
        self.ip(from(data, at)?)
    }

    fn vxlan(&mut self, data: &[u8]) -> Decoded {
        use wire::tunnel::{VNI_SHIFT, VXLAN_I, VXLAN_LEN};
        match (data.first(), be32(data, 4)) {
            (Some(flags), Some(vni)) if flags & VXLAN_I != 0 => {
                self.deeper(Some(Layer::Vxlan(vni >> VNI_SHIFT)))?;
                self.ethernet(&data[VXLAN_LEN..])
            }
            _ => Ok(None),
        }
    }

    fn geneve(&mut self, data: &[u8]) -> Decoded {
        use wire::tunnel::{GENEVE_LEN, GENEVE_OPTIONS_LEN, GENEVE_VERSION_SHIFT, VNI_SHIFT};
        let (Some(&first), Some(protocol), Some(vni)) = (data.first(), be16(data, 2), be32(data, 4)) else {
            return Ok(None);
        };
        if first >> GENEVE_VERSION_SHIFT != 0 {
            return Ok(None); // an unknown version
        }
        self.deeper(Some(Layer::Geneve(vni >> VNI_SHIFT)))?;
        let at = GENEVE_LEN + usize::from(first & GENEVE_OPTIONS_LEN) * 4;
        self.ethertype(protocol, from(data, at)?)
    }

    /// GTP-U G-PDUs, extension headers skipped.
    fn gtpu(&mut self, data: &[u8]) -> Decoded {
        use wire::tunnel::{
            GTP_EXTENSION, GTP_G_PDU, GTP_LEN, GTP_NEXT_EXTENSION, GTP_OPTIONAL, GTP_OPTIONAL_LEN, GTP_PROTOCOL_TYPE,
            GTP_VERSION_SHIFT,
        };
        let (Some(&flags), Some(&kind), Some(teid)) = (data.first(), data.get(1), be32(data, 4)) else {
            return Ok(None);
        };
        if flags >> GTP_VERSION_SHIFT != 1 || flags & GTP_PROTOCOL_TYPE == 0 || kind != GTP_G_PDU {
            return Ok(None); // not GTPv1-U, or not a G-PDU (echo, error indication)
        }
        self.deeper(Some(Layer::GtpU(teid)))?;
        let mut at = GTP_LEN;
        if flags & GTP_OPTIONAL != 0 {
            let mut next = *data.get(GTP_NEXT_EXTENSION).ok_or(DecodeError::TruncatedLinkHeader)?;
            at = GTP_OPTIONAL_LEN;
            while next != 0 && flags & GTP_EXTENSION != 0 {
                // Its length in 4-octet units; its last byte names the next one.
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
            Some(ipv4::VERSION | ipv6::VERSION) => self.ip(inner),
            _ => Ok(None),
        }
    }

    /// Teredo: optional authentication and origin indicators, then IPv6.
    fn teredo(&mut self, data: &[u8]) -> Decoded {
        use wire::tunnel::{
            TEREDO_AUTH_LEN, TEREDO_AUTHENTICATION, TEREDO_AUTHENTICATION_FIXED_LEN, TEREDO_ID_LEN, TEREDO_ORIGIN,
            TEREDO_ORIGIN_LEN,
        };
        let mut at = 0;
        if be16(data, 0) == Some(TEREDO_AUTHENTICATION) {
            let (Some(&id), Some(&auth)) = (data.get(TEREDO_ID_LEN), data.get(TEREDO_AUTH_LEN)) else {
                return Ok(None);
            };
            at = TEREDO_AUTHENTICATION_FIXED_LEN + usize::from(id) + usize::from(auth);
        }
        if be16(data, at) == Some(TEREDO_ORIGIN) {
            at += TEREDO_ORIGIN_LEN;
        }
        match data.get(at) {
            Some(b) if b >> 4 == ipv6::VERSION => {
                self.deeper(Some(Layer::Teredo))?;
                self.ip(&data[at..])
            }
            _ => Ok(None),
        }
    }

    /// L2TPv2 data messages carry PPP.
    fn l2tp(&mut self, data: &[u8]) -> Decoded {
        use wire::tunnel::{L2TP_CONTROL, L2TP_LENGTH, L2TP_OFFSET, L2TP_SEQUENCE, L2TP_VERSION};
        let Some(flags) = be16(data, 0) else {
            return Ok(None);
        };
        if flags & L2TP_CONTROL != 0 || flags & L2TP_VERSION != 2 {
            return Ok(None); // control message, or not version 2
        }
        let mut at = 2;
        if flags & L2TP_LENGTH != 0 {
            at += 2;
        }
        at += 4; // tunnel and session ids
        if flags & L2TP_SEQUENCE != 0 {
            at += 4; // Ns and Nr
        }
        if flags & L2TP_OFFSET != 0 {
            at += 2 + usize::from(be16(data, at).ok_or(DecodeError::TruncatedLinkHeader)?);
        }
        self.deeper(Some(Layer::Ppp))?;
        self.ppp_frame(from(data, at)?)
    }

    /// LISP data: its header, then IP.
    fn lisp(&mut self, data: &[u8]) -> Decoded {
        use wire::tunnel::LISP_LEN;
        match data.get(LISP_LEN) {
            Some(b) if matches!(b >> 4, ipv4::VERSION | ipv6::VERSION) => {
                self.deeper(None)?;
                self.ip(&data[LISP_LEN..])
            }
            _ => Ok(None),
        }
    }

    /// An ICMP or ICMPv6 error that quotes a TCP segment: the quoted
    /// segment's addresses, ports and sequence number, with what the error
    /// said ([`Icmp`]). Other ICMP messages are not ours.
    fn icmp(&mut self, v6: bool, from: IpAddr, icmp: &[u8]) -> Decoded {
        use wire::icmp::{
            DESTINATION_UNREACHABLE, FRAGMENTATION_NEEDED, HEADER_LEN, NEXT_HOP_MTU, PARAMETER_PROBLEM, SOURCE_QUENCH,
            TIME_EXCEEDED, V6_ERRORS, V6_MTU, V6_PACKET_TOO_BIG,
        };
        let (Some(&kind), Some(&code)) = (icmp.first(), icmp.get(1)) else {
            return Ok(None);
        };
        let error = if v6 {
            V6_ERRORS.contains(&kind)
        } else {
            matches!(kind, DESTINATION_UNREACHABLE | SOURCE_QUENCH | TIME_EXCEEDED | PARAMETER_PROBLEM)
        };
        if !error {
            return Ok(None);
        }
        let mtu = match (v6, kind) {
            (false, DESTINATION_UNREACHABLE) if code == FRAGMENTATION_NEEDED => {
                u32::from(be16(icmp, NEXT_HOP_MTU.start).unwrap_or(0))
            }
            (true, V6_PACKET_TOO_BIG) => be32(icmp, V6_MTU.start).unwrap_or(0),
            _ => 0,
        };
        let quoted = icmp.get(HEADER_LEN..).unwrap_or(&[]);
        if self.want_udp
            && let Some((src, dst, udp)) = quoted_transport(quoted, ip_protocol::UDP)
            && let (Some(sport), Some(dport)) =
                (be16(udp, wire::udp::field::SRC_PORT.start), be16(udp, wire::udp::field::DST_PORT.start))
        {
            self.datagram = Some(Datagram {
                ts: self.ts,
                src: SocketAddr::new(src, sport),
                dst: SocketAddr::new(dst, dport),
                len: 0,
                preview: Preview::default(),
                encap: self.encap,
                icmp: Some(Icmp { v6, kind, code, mtu, from }),
            });
            return Ok(None);
        }
        let Some((src, dst, tcp)) = quoted_tcp(quoted) else {
            return Ok(None);
        };
        let (Some(sport), Some(dport), Some(seq)) = (
            be16(tcp, tcp::field::SRC_PORT.start),
            be16(tcp, tcp::field::DST_PORT.start),
            be32(tcp, tcp::field::SEQ_NUM.start),
        ) else {
            return Ok(None);
        };
        Ok(Some(Segment {
            ts: self.ts,
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
            flags: Flags(tcp.get(tcp::field::FLAGS).copied().unwrap_or(0)),
            seq: SeqNum(seq),
            ack: SeqNum(be32(tcp, tcp::field::ACK_NUM.start).unwrap_or(0)),
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
    quoted_transport(ip, ip_protocol::TCP)
}

/// The IP header an ICMP error quotes, if it carried `protocol`: its
/// addresses and the quoted start of what it carried (at least 8 bytes, as
/// RFC 792 promises: a UDP header whole, a TCP header's ports and sequence
/// number).
fn quoted_transport(ip: &[u8], protocol: u8) -> Option<(IpAddr, IpAddr, &[u8])> {
    let (src, dst, header_len) = match ip.first()? >> 4 {
        ipv4::VERSION => {
            use ipv4::field;
            // The whole fixed header, or nothing (a quote cut inside it).
            let h = ip.first_chunk::<{ ipv4::HEADER_LEN }>()?;
            let header_len = ipv4::header_len(h[field::VER_IHL]);
            let offset = be16(h, field::FLG_OFF.start)? & ipv4::FRAGMENT_OFFSET;
            if header_len < ipv4::HEADER_LEN || h[field::PROTOCOL] != protocol || offset != 0 {
                return None;
            }
            (v4(h, field::SRC_ADDR)?, v4(h, field::DST_ADDR)?, header_len)
        }
        ipv6::VERSION => {
            use ipv6::field;
            if *ip.get(field::NEXT_HEADER)? != protocol {
                return None;
            }
            (v6(ip, field::SRC_ADDR)?, v6(ip, field::DST_ADDR)?, ipv6::HEADER_LEN)
        }
        _ => return None,
    };
    let quoted = ip.get(header_len..)?;
    (quoted.len() >= wire::icmp::QUOTED_TCP_LEN).then_some((src, dst, quoted))
}

/// IPv6's extension headers (RFC 8200 §4) after the fixed header, up to
/// `end`: the header they lead to and where it starts, or `None` when that is
/// not one that may carry TCP (nor ICMPv6). Bounded: each step advances at
/// least 8 bytes.
fn extension_headers(ip: &[u8], end: usize) -> Result<Option<(u8, usize)>, DecodeError> {
    let mut next = ip[ipv6::field::NEXT_HEADER];
    let mut at = ipv6::HEADER_LEN;
    loop {
        // Each starts with the next header and its own length.
        let header = || match (ip.get(at), ip.get(at + 1)) {
            (Some(&next), Some(&len)) => Ok((next, usize::from(len))),
            _ => Err(DecodeError::BadIpv6ExtensionHeader),
        };
        match next {
            n if carries_tcp(n) || n == ip_protocol::ICMPV6 => return Ok(Some((next, at))),
            ip_protocol::HOP_BY_HOP | ip_protocol::IPV6_ROUTING | ip_protocol::IPV6_DESTINATION_OPTIONS => {
                // In 8-octet units, not counting the first 8.
                let (nh, len) = header()?;
                next = nh;
                at += (len + 1) * 8;
            }
            ip_protocol::AH => {
                // In 4-octet units, minus 2.
                let (nh, len) = header()?;
                next = nh;
                at += (len + 2) * 4;
            }
            ip_protocol::IPV6_FRAGMENT => {
                use ipv6::fragment;
                let flags = be16(ip, at + fragment::OFFSET_FLAGS.start).ok_or(DecodeError::BadIpv6ExtensionHeader)?;
                if flags & (fragment::OFFSET | fragment::MORE) != 0 {
                    return Err(DecodeError::Ipv6Fragment);
                }
                // An atomic fragment (offset 0, no more: RFC 6946) is the
                // whole packet: decoded at once, past its fragment header.
                next = ip[at + fragment::NEXT_HEADER];
                at += fragment::LEN;
            }
            _ => return Ok(None),
        }
        if at > end {
            return Err(DecodeError::BadIpv6ExtensionHeader);
        }
    }
}

/// ARCNET protocol ids of RFC 1201, whose header has a split flag and a
/// sequence number (all but the older ids of RFC 1051).
fn arcnet_rfc1201(protocol: u8) -> bool {
    !matches!(protocol, link::ARCTYPE_IP_OLD | link::ARCTYPE_ARP_OLD | link::ARCTYPE_DIAGNOSE)
}

/// IP protocols that are TCP or may carry it.
fn carries_tcp(protocol: u8) -> bool {
    use ip_protocol::*;
    matches!(protocol, TCP | IPV4 | IPV6 | GRE | UDP | ETHERIP | ESP)
}

fn decode_tcp(ts: Timestamp, encap: Encap, src: IpAddr, dst: IpAddr, tcp: &[u8], tcp_len: usize) -> Decoded {
    use tcp::field;
    if tcp.len() < tcp::HEADER_LEN || tcp_len < tcp::HEADER_LEN {
        return Err(DecodeError::TruncatedTcpHeader);
    }
    let header_len = tcp::header_len(tcp[field::DATA_OFF]);
    if header_len < tcp::HEADER_LEN || header_len > tcp_len {
        return Err(DecodeError::BadTcpDataOffset);
    }
    let src_port = be16(tcp, field::SRC_PORT.start).unwrap_or(0);
    let dst_port = be16(tcp, field::DST_PORT.start).unwrap_or(0);
    let seq = be32(tcp, field::SEQ_NUM.start).unwrap_or(0);
    let ack = be32(tcp, field::ACK_NUM.start).unwrap_or(0);
    let flags = Flags(tcp[field::FLAGS]);
    let window = be16(tcp, field::WIN_SIZE.start).unwrap_or(0);
    let options_end = tcp.len().min(header_len);
    let mut options = parse_options(&tcp[tcp::HEADER_LEN..options_end]);
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
    use tcp::option::{NOP, TIMESTAMPS, TIMESTAMPS_LEN};
    // Most segments after the SYNs (Linux, with timestamps): NOP, NOP and
    // the timestamps, and nothing else. Read as the walk reads them.
    if let Ok(&[NOP, NOP, TIMESTAMPS, TIMESTAMPS_LEN, v0, v1, v2, v3, e0, e1, e2, e3]) = <&[u8; 12]>::try_from(b) {
        let timestamps = (u32::from_be_bytes([v0, v1, v2, v3]), u32::from_be_bytes([e0, e1, e2, e3]));
        return TcpOptions { timestamps: Some(timestamps), ..TcpOptions::default() };
    }
    walk_options(b)
}

/// [`parse_options`], one option after the other.
fn walk_options(mut b: &[u8]) -> TcpOptions {
    use tcp::option::{END, MSS, NOP, SACK, SACK_PERMITTED, TIMESTAMPS, WINDOW_SCALE};
    let mut o = TcpOptions::default();
    while let Some(&kind) = b.first() {
        match kind {
            END => break,
            NOP => {
                b = &b[1..];
                continue;
            }
            _ => {}
        }
        // Kind, length (of the whole option), body.
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
            (MSS, 2) => o.mss = be16(body, 0),
            (WINDOW_SCALE, 1) => o.window_scale = Some(body[0]),
            (SACK_PERMITTED, 0) => o.sack_permitted = true,
            (SACK, n) => o.sack_blocks = u8::try_from(n / 8).unwrap_or(u8::MAX),
            (TIMESTAMPS, 8) => o.timestamps = be32(body, 0).zip(be32(body, 4)),
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
    /// refuses the frame as broken); [`decode`]'s and [`wire_len`]'s short
    /// ways for plain frames say what the walk says.
    fn plain_tuple_agrees(data: &[u8]) {
        let frame = Frame { ts: Timestamp(0), link: LinkType::Ethernet, data };
        assert_eq!(decode(&frame), Walk::new(frame.ts, data).link(frame.link, data));
        let mut walk = Walk::new(frame.ts, data);
        let _ = walk.link_mut(frame.link, data);
        assert_eq!(wire_len(&frame), walk.datagram_end);
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
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, ip_protocol::TCP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
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

    /// An ARCNET packet split in fragments is counted as such; an AYIYA
    /// message that forwards nothing, and an Aruba type off its steps, are
    /// not taken for a tunnel.
    #[test]
    fn arcnet_fragments_and_tunnels_that_carry_nothing() {
        let ip = &lo_syn()[14..];
        let arcnet = |flag: u8| [&[0x01, 0x02, link::ARCTYPE_IP, flag, 0x00, 0x01][..], ip].concat();
        let frame = |link, data: &[u8]| decode(&Frame { ts: Timestamp(0), link, data }).map(|s| s.is_some());
        assert_eq!(frame(LinkType::Arcnet, &arcnet(0)), Ok(true));
        assert_eq!(frame(LinkType::Arcnet, &arcnet(1)), Err(DecodeError::NotDecoded(Undecoded::ArcnetFragment)));
        // An exception packet: the flag is 4 bytes further.
        let exception = [&[0x01, 0x02, link::ARCTYPE_IP, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01][..], ip].concat();
        assert_eq!(frame(LinkType::Arcnet, &exception), Ok(true));
        let mut walk = Walk::new(Timestamp(0), ip);
        // A 1-byte identity (2^0), no signature.
        let ayiya = |opcode: u8| [&[0x01, 0x00, opcode, ip_protocol::IPV4, 0, 0, 0, 0, 0][..], ip].concat();
        assert!(matches!(walk.ayiya(&ayiya(0x11)), Ok(Some(_))));
        assert_eq!(walk.ayiya(&ayiya(0x12)), Ok(None));
        let gre = |kind: u16| [&[0, 0][..], &kind.to_be_bytes()[..], &[0x08, 0x02, 0, 0][..]].concat();
        assert_eq!(walk.gre(&gre(0x8201)), Err(DecodeError::NotDecoded(Undecoded::GreProtocol(0x8201))));
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
