//! The wire's numbers, named as smoltcp names them: EtherTypes and protocol
//! numbers as constants, each header's fields as byte ranges in its `field`
//! module; and [`Plain`], the one reader of headers at fixed places.
//!
//! Every number here is a registry's (IEEE 802 EtherTypes, IANA protocol
//! numbers and ports, the tcpdump.org link types' headers) or a header
//! layout's (RFC 791, RFC 8200, RFC 9293, RFC 768).

use std::ops::Range;

use super::{Frame, LinkType};

/// A header field: its bytes, from the start of the header.
pub type Field = Range<usize>;

/// EtherTypes (IEEE 802 registry).
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const IPV6: u16 = 0x86dd;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service tag (QinQ).
    pub const QINQ: u16 = 0x88a8;
    /// The service tag's number before 802.1ad.
    pub const QINQ_OLD: u16 = 0x9100;
    /// 802.1ah provider backbone bridging: an I-TAG, then a customer frame.
    pub const PBB: u16 = 0x88e7;
    /// Cisco FabricPath.
    pub const FABRICPATH: u16 = 0x8903;
    /// Cisco VN-Tag.
    pub const VN_TAG: u16 = 0x8926;
    /// 802.1BR E-Tag.
    pub const E_TAG: u16 = 0x893f;
    /// Cisco MetaData.
    pub const CISCO_METADATA: u16 = 0x8909;
    /// 802.1AE MACsec.
    pub const MACSEC: u16 = 0x88e5;
    pub const MPLS_UNICAST: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// PPPoE discovery stage.
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    /// PPP (in GRE).
    pub const PPP: u16 = 0x880b;
    /// Transparent Ethernet bridging (Ethernet in GRE or Geneve).
    pub const TRANSPARENT_ETHERNET: u16 = 0x6558;
    /// ERSPAN types I and II (GRE protocol).
    pub const ERSPAN: u16 = 0x88be;
    /// ERSPAN type III (GRE protocol).
    pub const ERSPAN_III: u16 = 0x22eb;

    /// EtherTypes of frames that carry no IP, nor anything that carries it:
    /// address resolution, link control, industrial and storage protocols.
    pub const ARP: u16 = 0x0806;
    pub const RARP: u16 = 0x8035;
    pub const LLDP: u16 = 0x88cc;
    pub const EAPOL: u16 = 0x888e;
    pub const SLOW_PROTOCOLS: u16 = 0x8809;
    pub const LOOPBACK: u16 = 0x9000;
    pub const IPX: u16 = 0x8137;
    pub const IPX_NOVELL: u16 = 0x8138;
    pub const APPLETALK: u16 = 0x809b;
    pub const AARP: u16 = 0x80f3;
    pub const PTP: u16 = 0x88f7;
    pub const REALTEK: u16 = 0x8899;
    pub const IEEE_1905: u16 = 0x893a;
    pub const HOMEPLUG_AV: u16 = 0x88e1;
    pub const HOMEPLUG_GREEN_PHY: u16 = 0x8912;
    pub const IEC_61850_FIRST: u16 = 0x88b8;
    pub const IEC_61850_LAST: u16 = 0x88ba;
    pub const DEC_FIRST: u16 = 0x6000;
    pub const DEC_LAST: u16 = 0x6007;
    pub const ATA_OVER_ETHERNET: u16 = 0x88a2;
    pub const FCOE: u16 = 0x8906;
    pub const FCOE_INIT: u16 = 0x8914;
    pub const AVTP: u16 = 0x22f0;
    pub const POWERLINK: u16 = 0x88ab;
    pub const PROFINET: u16 = 0x8892;
    pub const ETHERCAT: u16 = 0x88a4;
    pub const WAKE_ON_LAN: u16 = 0x0842;
    pub const FLOW_CONTROL: u16 = 0x8808;
    pub const CFM: u16 = 0x8902;
    pub const MVRP: u16 = 0x88f5;
    pub const MMRP: u16 = 0x88f6;
    pub const XNS: u16 = 0x0600;
    pub const MEDIA_REDUNDANCY: u16 = 0x88e3;
    pub const TRILL: u16 = 0x22f3;
    pub const SERCOS_III: u16 = 0x88cd;
    pub const LLTD: u16 = 0x88d9;
    pub const COBRANET: u16 = 0x8819;
    pub const TTETHERNET: u16 = 0x891d;

    /// The EtherTypes that carry no IP, but for the ranges [`IEC_61850_FIRST`]
    /// to [`IEC_61850_LAST`] and [`DEC_FIRST`] to [`DEC_LAST`].
    const NO_IP: [u16; 35] = [
        ARP,
        RARP,
        LLDP,
        EAPOL,
        SLOW_PROTOCOLS,
        LOOPBACK,
        IPX,
        IPX_NOVELL,
        APPLETALK,
        AARP,
        PTP,
        REALTEK,
        IEEE_1905,
        HOMEPLUG_AV,
        HOMEPLUG_GREEN_PHY,
        ATA_OVER_ETHERNET,
        FCOE,
        FCOE_INIT,
        AVTP,
        POWERLINK,
        PROFINET,
        ETHERCAT,
        WAKE_ON_LAN,
        FLOW_CONTROL,
        CFM,
        MVRP,
        MMRP,
        XNS,
        MEDIA_REDUNDANCY,
        TRILL,
        SERCOS_III,
        LLTD,
        COBRANET,
        TTETHERNET,
        PPPOE_DISCOVERY,
    ];

    /// Whether frames of `kind` carry no IP, nor anything that carries it.
    #[must_use]
    pub fn carries_no_ip(kind: u16) -> bool {
        NO_IP.contains(&kind)
            || (IEC_61850_FIRST..=IEC_61850_LAST).contains(&kind)
            || (DEC_FIRST..=DEC_LAST).contains(&kind)
    }
}

/// IP protocol numbers (IANA), also IPv6's next-header values.
pub mod ip_protocol {
    /// IPv6 hop-by-hop options.
    pub const HOP_BY_HOP: u8 = 0;
    pub const ICMP: u8 = 1;
    /// IPv4 in IP.
    pub const IPV4: u8 = 4;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    /// IPv6 in IP.
    pub const IPV6: u8 = 41;
    pub const IPV6_ROUTING: u8 = 43;
    pub const IPV6_FRAGMENT: u8 = 44;
    pub const GRE: u8 = 47;
    pub const ESP: u8 = 50;
    /// Authentication header.
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const IPV6_DESTINATION_OPTIONS: u8 = 60;
    pub const ETHERIP: u8 = 97;
}

/// PPP protocol numbers (IANA).
pub mod ppp_protocol {
    pub const IPV4: u16 = 0x0021;
    pub const IPV6: u16 = 0x0057;
    pub const MPLS_UNICAST: u16 = 0x0281;
    pub const MPLS_MULTICAST: u16 = 0x0283;
}

/// The UDP ports of the tunnels decoded (IANA).
pub mod udp_port {
    pub const L2TP: u16 = 1701;
    /// GTP-C: signalling, no user traffic.
    pub const GTP_C: u16 = 2123;
    pub const GTP_U: u16 = 2152;
    pub const TEREDO: u16 = 3544;
    pub const LISP_DATA: u16 = 4341;
    /// GRE in UDP (RFC 8086).
    pub const GRE_IN_UDP: u16 = 4754;
    /// AYIYA, "anything in anything" (SixXS's IPv6 tunnels).
    pub const AYIYA: u16 = 5072;
    pub const VXLAN: u16 = 4789;
    pub const GENEVE: u16 = 6081;
}

/// Ethernet II.
pub mod ethernet {
    pub mod field {
        use super::super::Field;
        pub const DESTINATION: Field = 0..6;
        pub const SOURCE: Field = 6..12;
        /// An EtherType, or up to [`MAX_LENGTH`](super::MAX_LENGTH) an 802.3 length.
        pub const ETHERTYPE: Field = 12..14;
    }
    pub const HEADER_LEN: usize = 14;
    /// The largest 802.3 length: a type field up to it is a length, and LLC follows.
    pub const MAX_LENGTH: u16 = 1500;
}

/// IPv4 (RFC 791).
pub mod ipv4 {
    pub mod field {
        use super::super::Field;
        /// Version (high nibble) and header length in words (low nibble).
        pub const VER_IHL: usize = 0;
        pub const LENGTH: Field = 2..4;
        /// Flags (high 3 bits) and fragment offset.
        pub const FLG_OFF: Field = 6..8;
        pub const PROTOCOL: usize = 9;
        pub const SRC_ADDR: Field = 12..16;
        pub const DST_ADDR: Field = 16..20;
    }
    pub const VERSION: u8 = 4;
    /// The header without options.
    pub const HEADER_LEN: usize = 20;
    /// More fragments follow (in [`field::FLG_OFF`]).
    pub const MORE_FRAGMENTS: u16 = 0x2000;
    /// The fragment offset (in [`field::FLG_OFF`]).
    pub const FRAGMENT_OFFSET: u16 = 0x1fff;

    /// The header's length, from the byte at [`field::VER_IHL`].
    #[must_use]
    pub fn header_len(ver_ihl: u8) -> usize {
        usize::from(ver_ihl & 0x0f) * 4
    }
}

/// IPv6 (RFC 8200).
pub mod ipv6 {
    pub mod field {
        use super::super::Field;
        pub const PAYLOAD_LEN: Field = 4..6;
        pub const NEXT_HEADER: usize = 6;
        pub const SRC_ADDR: Field = 8..24;
        pub const DST_ADDR: Field = 24..40;
    }
    pub const VERSION: u8 = 6;
    pub const HEADER_LEN: usize = 40;
    /// The fragment header (RFC 8200 §4.5): next header, reserved, the
    /// offset (in 8-octet units, the top 13 bits) with the M flag (bit 0),
    /// the identification.
    pub mod fragment {
        use super::super::Field;
        pub const LEN: usize = 8;
        pub const NEXT_HEADER: usize = 0;
        pub const OFFSET_FLAGS: Field = 2..4;
        pub const IDENTIFICATION: Field = 4..8;
        /// More fragments follow.
        pub const MORE: u16 = 0x0001;
        /// The offset's bits (already in bytes: the offset is in 8-octet units
        /// from bit 3 up).
        pub const OFFSET: u16 = 0xfff8;
    }
}

/// TCP (RFC 9293 §3.1).
pub mod tcp {
    pub mod field {
        use super::super::Field;
        pub const SRC_PORT: Field = 0..2;
        pub const DST_PORT: Field = 2..4;
        pub const SEQ_NUM: Field = 4..8;
        pub const ACK_NUM: Field = 8..12;
        /// Data offset in words (high nibble).
        pub const DATA_OFF: usize = 12;
        pub const FLAGS: usize = 13;
        pub const WIN_SIZE: Field = 14..16;
    }
    /// The header without options.
    pub const HEADER_LEN: usize = 20;

    /// The header's length, from the byte at [`field::DATA_OFF`].
    #[must_use]
    pub fn header_len(data_off: u8) -> usize {
        usize::from(data_off >> 4) * 4
    }

    /// Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018).
    pub mod option {
        pub const END: u8 = 0;
        pub const NOP: u8 = 1;
        pub const MSS: u8 = 2;
        pub const WINDOW_SCALE: u8 = 3;
        pub const SACK_PERMITTED: u8 = 4;
        pub const SACK: u8 = 5;
        pub const TIMESTAMPS: u8 = 8;
        /// The timestamps option's length: kind, length, two 4-byte values.
        pub const TIMESTAMPS_LEN: u8 = 10;
    }
}

/// UDP (RFC 768).
pub mod udp {
    pub mod field {
        use super::super::Field;
        pub const SRC_PORT: Field = 0..2;
        pub const DST_PORT: Field = 2..4;
    }
    pub const HEADER_LEN: usize = 8;
}

/// IEEE 802.2 LLC with SNAP.
pub mod llc {
    /// DSAP and SSAP 0xAA (SNAP), control 3 (unnumbered information), OUI 0:
    /// an EtherType follows.
    pub const SNAP_ETHERTYPE: [u8; 6] = [0xaa, 0xaa, 0x03, 0, 0, 0];
    pub mod field {
        use super::super::Field;
        pub const ETHERTYPE: Field = 6..8;
    }
    pub const HEADER_LEN: usize = 8;
}

/// Link-layer headers before an EtherType or an IP packet (tcpdump.org's
/// link-type registry), and BSD's address families.
pub mod link {
    /// LINKTYPE_FDDI: frame control, destination and source addresses, then
    /// 802.2 LLC.
    pub const FDDI_HEADER_LEN: usize = 13;
    /// LINKTYPE_ARCNET_BSD: source, destination, protocol id; RFC 1201's
    /// protocols add a split flag and a sequence number (6 bytes), and an
    /// exception packet 4 bytes more.
    pub const ARCNET_PROTOCOL: usize = 2;
    pub const ARCNET_OLD_HEADER_LEN: usize = 3;
    pub const ARCNET_FLAG: usize = 3;
    pub const ARCNET_HEADER_LEN: usize = 6;
    pub const ARCNET_EXCEPTION_HEADER_LEN: usize = 10;
    /// The split flag of an exception packet.
    pub const ARCNET_EXCEPTION: u8 = 0xff;
    pub const ARCNET_EXCEPTION_FLAG: usize = 7;
    /// LINKTYPE_ARCNET_LINUX: source, destination, a 2-byte offset, protocol
    /// id; RFC 1201's protocols add a split flag and a sequence number.
    pub const ARCNET_LINUX_PROTOCOL: usize = 4;
    pub const ARCNET_LINUX_OLD_HEADER_LEN: usize = 5;
    pub const ARCNET_LINUX_HEADER_LEN: usize = 8;
    /// ARCNET protocol ids (RFC 1201, and the older ones of RFC 1051).
    pub const ARCTYPE_IP: u8 = 212;
    pub const ARCTYPE_INET6: u8 = 0xc4;
    pub const ARCTYPE_IP_OLD: u8 = 240;
    pub const ARCTYPE_ARP_OLD: u8 = 241;
    pub const ARCTYPE_DIAGNOSE: u8 = 0x80;
    /// LINKTYPE_NULL and LINKTYPE_LOOP: a 4-byte address family.
    pub const NULL_HEADER_LEN: usize = 4;
    /// AF_INET, the same on every system.
    pub const AF_INET: u32 = 2;
    /// AF_INET6 on NetBSD and OpenBSD, FreeBSD, and macOS.
    pub const AF_INET6: [u32; 3] = [24, 28, 30];
    /// Linux cooked capture v1: the protocol (an EtherType), then the packet.
    pub const SLL_PROTOCOL: super::Field = 14..16;
    pub const SLL_HEADER_LEN: usize = 16;
    /// Linux cooked capture v2.
    pub const SLL2_PROTOCOL: super::Field = 0..2;
    pub const SLL2_HEADER_LEN: usize = 20;
    /// Cisco HDLC: address, control, then an EtherType.
    pub const CISCO_HDLC_PROTOCOL: super::Field = 2..4;
    pub const CISCO_HDLC_HEADER_LEN: usize = 4;
    /// The first byte of a Cisco HDLC frame: unicast, multicast.
    pub const CISCO_HDLC_ADDRESSES: [u8; 2] = [0x0f, 0x8f];
    /// Radiotap's and PPI's header lengths (little-endian).
    pub const RADIOTAP_LEN: super::Field = 2..4;
    pub const PPI_LEN: super::Field = 2..4;
    /// PPI: the link type that follows (little-endian).
    pub const PPI_DLT: super::Field = 4..8;
    /// OpenBSD's IPsec encapsulation header.
    pub const ENC_HEADER_LEN: usize = 12;
    /// IP over InfiniBand: a 40-byte global route header, the type, 2 reserved bytes.
    pub const IPOIB_PROTOCOL: super::Field = 40..42;
    pub const IPOIB_HEADER_LEN: usize = 44;
    /// NFLOG: family, version, resource id; then TLVs.
    pub const NFLOG_HEADER_LEN: usize = 4;
    /// NFLOG's TLV of the packet itself (NFULA_PAYLOAD), and the bits of a
    /// TLV's type that say which (the top one marks a nested TLV).
    pub const NFLOG_PAYLOAD: u16 = 9;
    pub const NFLOG_TYPE: u16 = 0x7fff;
}

/// 802.1Q and 802.1ad tags, and the other tags that sit between an
/// EtherType and the next.
pub mod tag {
    /// An 802.1Q tag: priority, DEI and VLAN id, then the EtherType.
    pub const VLAN_ID: u16 = 0x0fff;
    pub const VLAN_ETHERTYPE: super::Field = 2..4;
    pub const VLAN_LEN: usize = 4;
    /// 802.1ah's I-TAG: flags, then the 24-bit I-SID.
    pub const PBB_ISID: u32 = 0x00ff_ffff;
    pub const PBB_LEN: usize = 4;
    /// FabricPath's FTag and TTL before the original frame.
    pub const FABRICPATH_LEN: usize = 2;
    /// VN-Tag: the tag, then the EtherType.
    pub const VN_TAG_ETHERTYPE: super::Field = 4..6;
    /// 802.1BR E-Tag and Cisco MetaData: the tag, then the EtherType.
    pub const LONG_TAG_ETHERTYPE: super::Field = 6..8;
    /// MACsec's TCI: encrypted (E), and an SCI included (SC).
    pub const MACSEC_ENCRYPTED: u8 = 0x08;
    pub const MACSEC_SCI: u8 = 0x20;
    /// Where the EtherType is after a SecTAG without and with an SCI.
    pub const MACSEC_ETHERTYPE: usize = 6;
    pub const MACSEC_ETHERTYPE_AFTER_SCI: usize = 14;
}

/// MPLS label stack entries (RFC 3032) and the Ethernet pseudowire (RFC 4448).
pub mod mpls {
    pub const ENTRY_LEN: usize = 4;
    /// The label's place in an entry.
    pub const LABEL_SHIFT: u32 = 12;
    pub const BOTTOM_OF_STACK: u32 = 0x100;
    /// A pseudowire's control word, before the Ethernet frame.
    pub const CONTROL_WORD_LEN: usize = 4;
}

/// PPP (RFC 1661, RFC 1662) and PPPoE (RFC 2516).
pub mod ppp {
    /// HDLC-like framing: all-stations address, unnumbered information.
    pub const ADDRESS_CONTROL: [u8; 2] = [0xff, 0x03];
    /// PPPoE's session id, and the PPP protocol after its 6-byte header.
    pub const PPPOE_SESSION_ID: super::Field = 2..4;
    pub const PPPOE_PROTOCOL: super::Field = 6..8;
    pub const PPPOE_HEADER_LEN: usize = 8;
}

/// IEEE 802.11 MAC headers.
pub mod wifi {
    /// The frame type in the frame control's first byte, and data frames'.
    pub const TYPE_SHIFT: u8 = 2;
    pub const TYPE_DATA: u8 = 2;
    /// Subtype bits of data frames: QoS, and no data (null function).
    pub const SUBTYPE_QOS: u8 = 0x8;
    pub const SUBTYPE_NO_DATA: u8 = 0x4;
    /// Flags: to and from the distribution system (both: a fourth
    /// address), protected, and an HT control field (with QoS).
    pub const TO_FROM_DS: u8 = 0x03;
    pub const PROTECTED: u8 = 0x40;
    pub const ORDER: u8 = 0x80;
    pub const HEADER_LEN: usize = 24;
    pub const ADDRESS_LEN: usize = 6;
    pub const QOS_LEN: usize = 2;
    pub const HT_LEN: usize = 4;
}

/// GRE (RFC 2784, RFC 2890), enhanced GRE (RFC 2637) and ERSPAN.
pub mod gre {
    pub const CHECKSUM: u16 = 0x8000;
    pub const ROUTING: u16 = 0x4000;
    pub const KEY: u16 = 0x2000;
    pub const SEQUENCE: u16 = 0x1000;
    /// Enhanced GRE's acknowledgment number is present.
    pub const ACKNOWLEDGMENT: u16 = 0x0080;
    pub const VERSION: u16 = 0x0007;
    /// Version 1: enhanced GRE (PPTP).
    pub const VERSION_ENHANCED: u16 = 1;
    pub const PROTOCOL: super::Field = 2..4;
    pub const HEADER_LEN: usize = 4;
    /// Each optional field (checksum, key, sequence, acknowledgment).
    pub const OPTION_LEN: usize = 4;
    /// ERSPAN's session id, in the 16 bits at 2.
    pub const ERSPAN_SESSION: super::Field = 2..4;
    pub const ERSPAN_SESSION_ID: u16 = 0x03ff;
    pub const ERSPAN_II_LEN: usize = 8;
    pub const ERSPAN_III_LEN: usize = 12;
    /// ERSPAN III: the byte with the O flag (a platform subheader follows).
    pub const ERSPAN_III_FLAGS: usize = 11;
    pub const ERSPAN_III_PLATFORM_LEN: usize = 8;
}

/// UDP tunnels: VXLAN (RFC 7348), Geneve (RFC 8926), GTP-U (3GPP TS
/// 29.281), Teredo (RFC 4380), L2TPv2 (RFC 2661), LISP (RFC 9300).
/// AYIYA: identity length (log2) and type, signature length (in 4-byte
/// words) and hash, authentication method and operation, the next header,
/// a 4-byte epoch, then the identity, the signature and the packet.
pub mod ayiya {
    pub const HEADER_LEN: usize = 8;
    pub const ID_LEN: usize = 0;
    pub const SIG_LEN: usize = 1;
    pub const OPCODE: usize = 2;
    pub const NEXT_HEADER: usize = 3;
    /// The operation that forwards a packet.
    pub const FORWARD: u8 = 1;
}

/// Aruba's GRE protocol types for 802.11 frames between an access point and
/// its controller: 0x8200 to 0x8370, in steps of 0x10.
pub mod aruba {
    pub const FIRST: u16 = 0x8200;
    pub const LAST: u16 = 0x8370;
    pub const STEP: u16 = 0x10;
}

pub mod tunnel {
    /// VXLAN: the I flag (a VNI is present); the VNI in the high 24 bits of the word at 4.
    pub const VXLAN_I: u8 = 0x08;
    pub const VXLAN_LEN: usize = 8;
    /// Geneve: version (2 bits) and options length in words (6 bits).
    pub const GENEVE_VERSION_SHIFT: u8 = 6;
    pub const GENEVE_OPTIONS_LEN: u8 = 0x3f;
    pub const GENEVE_LEN: usize = 8;
    /// A 24-bit VNI's place in its word.
    pub const VNI_SHIFT: u32 = 8;
    /// GTP: version (3 bits), protocol type GTP, and the E, S and PN flags.
    pub const GTP_VERSION_SHIFT: u8 = 5;
    pub const GTP_PROTOCOL_TYPE: u8 = 0x10;
    pub const GTP_EXTENSION: u8 = 0x04;
    pub const GTP_OPTIONAL: u8 = 0x07;
    /// A G-PDU: user traffic.
    pub const GTP_G_PDU: u8 = 0xff;
    pub const GTP_LEN: usize = 8;
    pub const GTP_OPTIONAL_LEN: usize = 12;
    /// The next-extension-header type is the last of the optional fields.
    pub const GTP_NEXT_EXTENSION: usize = 11;
    /// Teredo: the authentication indicator (type 1: its fixed bytes are
    /// the type, two lengths, the nonce and the confirmation; the client id
    /// and the authentication value follow the lengths) and the origin
    /// indicator (type 0, 8 bytes).
    pub const TEREDO_AUTHENTICATION: u16 = 1;
    pub const TEREDO_AUTHENTICATION_FIXED_LEN: usize = 13;
    pub const TEREDO_ID_LEN: usize = 2;
    pub const TEREDO_AUTH_LEN: usize = 3;
    pub const TEREDO_ORIGIN: u16 = 0;
    pub const TEREDO_ORIGIN_LEN: usize = 8;
    /// L2TPv2 flags: control message, length, sequence, offset; the version.
    pub const L2TP_CONTROL: u16 = 0x8000;
    pub const L2TP_LENGTH: u16 = 0x4000;
    pub const L2TP_SEQUENCE: u16 = 0x0800;
    pub const L2TP_OFFSET: u16 = 0x0200;
    pub const L2TP_VERSION: u16 = 0x000f;
    /// LISP's data header before the inner IP packet.
    pub const LISP_LEN: usize = 8;
}

/// ICMP (RFC 792) and ICMPv6 (RFC 4443) errors.
pub mod icmp {
    pub const DESTINATION_UNREACHABLE: u8 = 3;
    pub const SOURCE_QUENCH: u8 = 4;
    pub const TIME_EXCEEDED: u8 = 11;
    pub const PARAMETER_PROBLEM: u8 = 12;
    /// Destination unreachable's code when fragmentation was needed: the
    /// next hop's MTU is in the 16 bits at 6.
    pub const FRAGMENTATION_NEEDED: u8 = 4;
    pub const NEXT_HOP_MTU: super::Field = 6..8;
    /// ICMPv6's error types (1 to 4), and packet too big's MTU.
    pub const V6_ERRORS: std::ops::RangeInclusive<u8> = 1..=4;
    pub const V6_PACKET_TOO_BIG: u8 = 2;
    pub const V6_MTU: super::Field = 4..8;
    /// The header before the quoted datagram.
    pub const HEADER_LEN: usize = 8;
    /// The quoted TCP bytes an error promises: ports and sequence number.
    pub const QUOTED_TCP_LEN: usize = 8;
}

/// A plain frame: Ethernet II without a tag, an IPv4 header of 20 bytes
/// that is no fragment, TCP. Most frames of a capture are, and this is the
/// one reader of headers at fixed places: [`super::decode`] reads such a
/// frame's addresses and lengths through it without the walk, and
/// [`super::plain_endpoints`] its endpoints, without building a segment.
///
/// Only the Ethernet and IP headers are checked: the IP lengths and the TCP
/// header are the decoder's to check.
#[derive(Clone, Copy, Debug)]
pub struct Plain<'a> {
    head: &'a [u8; Plain::LEN],
}

/// Where a plain frame's IP header starts.
const IP: usize = ethernet::HEADER_LEN;
/// Where a plain frame's TCP header starts.
const TCP: usize = IP + ipv4::HEADER_LEN;
/// A plain frame's EtherType and first IP byte, as [`Plain::new`] reads them.
const TYPE_VERSION: u32 = (ethertype::IPV4 as u32) << 8 | ((ipv4::VERSION << 4) as u32 | (ipv4::HEADER_LEN / 4) as u32);
/// What [`Plain::new`] looks at in the word from the flags to the protocol:
/// the fragment bits (not Don't Fragment, not the reserved bit) and the protocol.
const FRAGMENT_PROTOCOL: u32 = ((ipv4::MORE_FRAGMENTS | ipv4::FRAGMENT_OFFSET) as u32) << 16 | 0xff;

// The words read at once: the EtherType ends where the IP header starts;
// the flags and offset, the TTL and the protocol are four bytes in a row;
// the ports are the first four bytes of TCP.
const _: () = assert!(ethernet::field::ETHERTYPE.end == IP && ipv4::field::VER_IHL == 0);
const _: () = assert!(ipv4::field::FLG_OFF.start + 3 == ipv4::field::PROTOCOL);
const _: () = assert!(tcp::field::SRC_PORT.start == 0 && tcp::field::DST_PORT.end == 4);

impl<'a> Plain<'a> {
    /// The bytes read: the headers up to TCP's ports.
    pub const LEN: usize = TCP + tcp::field::DST_PORT.end;
    /// Where the IP datagram starts in the frame.
    pub const IP: usize = IP;

    /// The frame's headers, if it is plain.
    #[inline]
    #[must_use]
    pub fn new(frame: &Frame<'a>) -> Option<Plain<'a>> {
        if frame.link != LinkType::Ethernet {
            return None;
        }
        let head = frame.data.first_chunk::<{ Plain::LEN }>()?;
        let plain = Plain { head };
        // The byte after the first IP byte (DSCP and ECN) is not looked at;
        // nor is the TTL.
        let type_version = plain.word(ethernet::field::ETHERTYPE.start) >> 8;
        let fragment_protocol = plain.word(IP + ipv4::field::FLG_OFF.start) & FRAGMENT_PROTOCOL;
        (type_version == TYPE_VERSION && fragment_protocol == u32::from(ip_protocol::TCP)).then_some(plain)
    }

    /// The four bytes at `at`, big-endian.
    #[inline]
    fn word(self, at: usize) -> u32 {
        u32::from_be_bytes([self.head[at], self.head[at + 1], self.head[at + 2], self.head[at + 3]])
    }

    /// The IPv4 total length (0 in a frame captured before the NIC
    /// segmented it).
    #[inline]
    #[must_use]
    pub fn total_len(self) -> u16 {
        let at = IP + ipv4::field::LENGTH.start;
        u16::from_be_bytes([self.head[at], self.head[at + 1]])
    }

    /// The sender: IPv4 address bits and port.
    #[inline]
    #[must_use]
    pub fn src(self) -> (u32, u16) {
        (self.word(IP + ipv4::field::SRC_ADDR.start), (self.word(TCP) >> 16) as u16)
    }

    /// The receiver: IPv4 address bits and port.
    #[inline]
    #[must_use]
    pub fn dst(self) -> (u32, u16) {
        (self.word(IP + ipv4::field::DST_ADDR.start), self.word(TCP) as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_where_the_rfcs_put_them() {
        assert_eq!(TYPE_VERSION, 0x08_00_45);
        assert_eq!(FRAGMENT_PROTOCOL, 0x3fff_00ff);
        assert_eq!(Plain::LEN, 38);
        assert_eq!(ipv6::field::DST_ADDR.end, ipv6::HEADER_LEN);
        assert_eq!(ipv4::field::DST_ADDR.end, ipv4::HEADER_LEN);
        assert_eq!(tcp::field::WIN_SIZE.end + 4, tcp::HEADER_LEN);
    }

    #[test]
    fn no_ethertype_decoded_is_said_to_carry_no_ip() {
        use ethertype::*;
        for kind in [
            IPV4,
            IPV6,
            VLAN,
            QINQ,
            QINQ_OLD,
            PBB,
            FABRICPATH,
            VN_TAG,
            E_TAG,
            CISCO_METADATA,
            MACSEC,
            MPLS_UNICAST,
            MPLS_MULTICAST,
            PPPOE_SESSION,
            PPP,
            TRANSPARENT_ETHERNET,
        ] {
            assert!(!carries_no_ip(kind), "{kind:#06x}");
        }
        assert!(carries_no_ip(0x0806) && carries_no_ip(PPPOE_DISCOVERY) && carries_no_ip(0x6003));
    }
}
