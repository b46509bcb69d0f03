//! One TCP segment as seen on the wire: an owned, validated value made once by
//! [`crate::model::decode`]. Nothing here does IO.

use std::fmt;
use std::net::SocketAddr;

use super::seq::SeqNum;

/// Capture time in nanoseconds since the Unix epoch. Taken from the capture
/// (file record or arrival stamp); the core never reads a clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// From seconds and nanoseconds.
    #[must_use]
    pub fn from_parts(secs: u64, nanos: u32) -> Timestamp {
        Timestamp(secs.saturating_mul(1_000_000_000).saturating_add(u64::from(nanos)))
    }

    /// Seconds since the epoch as a float (for `start_unix`).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn as_secs_f64(self) -> f64 {
        (self.0 / 1_000) as f64 / 1e6
    }

    /// Milliseconds elapsed since `earlier` (0 if `earlier` is later).
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn millis_since(self, earlier: Timestamp) -> f64 {
        (self.0.saturating_sub(earlier.0) / 1_000) as f64 / 1e3
    }
}

/// TCP control flags (RFC 9293 §3.1), as the bits of header byte 13.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    pub const FIN: Flags = Flags(0x01);
    pub const SYN: Flags = Flags(0x02);
    pub const RST: Flags = Flags(0x04);
    pub const PSH: Flags = Flags(0x08);
    pub const ACK: Flags = Flags(0x10);
    pub const URG: Flags = Flags(0x20);
    pub const ECE: Flags = Flags(0x40);
    pub const CWR: Flags = Flags(0x80);

    /// Whether every bit of `other` is set.
    #[must_use]
    pub fn has(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    #[must_use]
    pub fn syn(self) -> bool {
        self.has(Flags::SYN)
    }
    #[must_use]
    pub fn fin(self) -> bool {
        self.has(Flags::FIN)
    }
    #[must_use]
    pub fn rst(self) -> bool {
        self.has(Flags::RST)
    }
    #[must_use]
    pub fn ack(self) -> bool {
        self.has(Flags::ACK)
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl Flags {
    /// The name of the combinations seen in almost every capture, without work.
    #[must_use]
    pub fn common_name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x02 => "SYN",
            0x12 => "SYN-ACK",
            0x10 => "ACK",
            0x18 => "PSH-ACK",
            0x11 => "FIN-ACK",
            0x19 => "FIN-PSH-ACK",
            0x04 => "RST",
            0x14 => "RST-ACK",
            _ => return None,
        })
    }

    /// Appends the name (see the `Display` impl) to `out` without formatting machinery.
    pub fn push_name(self, out: &mut String) {
        if let Some(name) = self.common_name() {
            out.push_str(name);
            return;
        }
        const ORDER: [(Flags, &str); 8] = [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
            (Flags::URG, "URG"),
            (Flags::ECE, "ECE"),
            (Flags::CWR, "CWR"),
        ];
        let mut first = true;
        for (flag, name) in ORDER {
            if self.has(flag) {
                if !first {
                    out.push('-');
                }
                out.push_str(name);
                first = false;
            }
        }
        if first {
            out.push_str("NONE");
        }
    }
}

/// The names in the order of docs/format.md: SYN, FIN, RST, PSH, ACK, URG, ECE, CWR,
/// joined by `-` (`SYN-ACK`, `FIN-PSH-ACK`). No flag at all prints `NONE`.
///
/// ```
/// use synack::model::segment::Flags;
/// assert_eq!((Flags::FIN | Flags::PSH | Flags::ACK).to_string(), "FIN-PSH-ACK");
/// assert_eq!((Flags::RST | Flags::ACK).to_string(), "RST-ACK");
/// ```
impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(16);
        self.push_name(&mut s);
        f.write_str(&s)
    }
}

/// The TCP options synack understands (RFC 9293 §3.2, RFC 7323, RFC 2018).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpOptions {
    /// Maximum segment size.
    pub mss: Option<u16>,
    /// Window scale shift count.
    pub window_scale: Option<u8>,
    /// SACK permitted (only on SYNs).
    pub sack_permitted: bool,
    /// Number of SACK blocks carried.
    pub sack_blocks: u8,
    /// Timestamps option: (TSval, TSecr).
    pub timestamps: Option<(u32, u32)>,
    /// The options area was cut short by the capture's snap length.
    pub truncated: bool,
}

/// At most this many payload bytes are kept for previews: a label shows 12,
/// and a 13th says there is more (an ellipsis). Small, because every kept
/// segment carries one.
pub const PREVIEW_LEN: usize = 13;

/// The first bytes of a payload, kept inline (no allocation per segment):
/// the bytes, then their count in the last of 16. Made as one 128-bit word:
/// a segment built byte by byte and then copied would read back bytes whose
/// stores had not landed (a stall on every segment decoded).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Preview {
    raw: [u8; 16],
}

// The kept bytes and their count fit one 128-bit word.
const _: () = assert!(size_of::<Preview>() == 16 && PREVIEW_LEN < 16);

impl Preview {
    /// Keeps up to [`PREVIEW_LEN`] bytes of `data`.
    #[must_use]
    pub fn new(data: &[u8]) -> Preview {
        const KEPT: u128 = (1 << (8 * PREVIEW_LEN)) - 1;
        let word = match data.first_chunk::<16>() {
            Some(head) => u128::from_le_bytes(*head) & KEPT,
            None => data.iter().take(PREVIEW_LEN).rev().fold(0, |w, &b| w << 8 | u128::from(b)),
        };
        let n = data.len().min(PREVIEW_LEN) as u128;
        Preview { raw: (word | n << 120).to_le_bytes() }
    }

    /// The kept bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw[..usize::from(self.raw[15]).min(PREVIEW_LEN)]
    }
}

impl Default for Preview {
    fn default() -> Self {
        Preview::new(&[])
    }
}

impl fmt::Debug for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// One decoded TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// When it was captured.
    pub ts: Timestamp,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Control flags.
    pub flags: Flags,
    /// Sequence number.
    pub seq: SeqNum,
    /// Acknowledgment number (meaningful only with ACK).
    pub ack: SeqNum,
    /// Advertised window (unscaled).
    pub window: u16,
    /// Options.
    pub options: TcpOptions,
    /// Payload length from the IP header (not what was captured).
    pub payload_len: u32,
    /// The captured start of the payload.
    pub preview: Preview,
    /// The tags, labels and tunnels it was carried in.
    pub encap: super::encap::Encap,
    /// Set when this is not a segment on the wire but the start of one that
    /// an ICMP error quoted: what the error said.
    pub icmp: Option<Icmp>,
}

/// An ICMP or ICMPv6 error about a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp {
    /// ICMPv6 (else ICMP).
    pub v6: bool,
    /// Type and code.
    pub kind: u8,
    pub code: u8,
    /// The MTU asked for (fragmentation needed, packet too big), else 0.
    pub mtu: u32,
    /// Who sent the error (a router, or the destination host).
    pub from: std::net::IpAddr,
}

impl Icmp {
    /// What the error is, in words: `fragmentation needed`, `port unreachable`...
    #[must_use]
    pub fn name(&self) -> &'static str {
        match (self.v6, self.kind, self.code) {
            (false, 3, 0) => "network unreachable",
            (true, 1, 0) => "no route to destination",
            (false, 3, 1) | (true, 1, 3) => "host unreachable",
            (false, 3, 2) => "protocol unreachable",
            (false, 3, 3) | (true, 1, 4) => "port unreachable",
            (false, 3, 4) => "fragmentation needed",
            (false, 3, 9 | 10 | 13) | (true, 1, 1) => "communication administratively prohibited",
            (false, 3, _) | (true, 1, _) => "destination unreachable",
            (true, 2, _) => "packet too big",
            (false, 11, 1) | (true, 3, 1) => "fragment reassembly time exceeded",
            (false, 11, _) | (true, 3, _) => "time to live exceeded in transit",
            (false, 12, _) | (true, 4, _) => "parameter problem",
            (false, 4, _) => "source quench",
            _ => "error",
        }
    }
}

impl Segment {
    /// Sequence space this segment occupies: payload plus one for SYN and for FIN
    /// (RFC 9293 §3.4).
    #[must_use]
    pub fn seq_len(&self) -> u32 {
        self.payload_len.saturating_add(u32::from(self.flags.syn())).saturating_add(u32::from(self.flags.fin()))
    }

    /// The first sequence number after this segment.
    #[must_use]
    pub fn seq_end(&self) -> SeqNum {
        self.seq.plus(self.seq_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names_follow_design_order() {
        assert_eq!((Flags::SYN | Flags::ACK).to_string(), "SYN-ACK");
        assert_eq!((Flags::FIN | Flags::PSH | Flags::ACK).to_string(), "FIN-PSH-ACK");
        assert_eq!((Flags::RST | Flags::ACK).to_string(), "RST-ACK");
        assert_eq!(Flags(0).to_string(), "NONE");
        assert_eq!(Flags(0xff).to_string(), "SYN-FIN-RST-PSH-ACK-URG-ECE-CWR");
    }

    #[test]
    fn preview_keeps_a_bounded_prefix() {
        let long = [b'x'; 100];
        assert_eq!(Preview::new(&long).as_bytes().len(), PREVIEW_LEN);
        assert_eq!(Preview::new(b"hi").as_bytes(), b"hi");
        // Every length, short and long of the 16 bytes read at once.
        let data: Vec<u8> = (1..=40).collect();
        for n in 0..data.len() {
            let p = Preview::new(&data[..n]);
            assert_eq!(p.as_bytes(), &data[..n.min(PREVIEW_LEN)], "{n} bytes");
            assert_eq!(p, Preview::new(&data[..n.min(PREVIEW_LEN)]), "{n} bytes");
        }
        assert_eq!(Preview::default().as_bytes(), b"");
    }
}
