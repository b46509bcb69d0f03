//! Frame -> decode -> port filter -> tracker, with the counters every view
//! shows. Pure: no IO, no threads, no clock. The headless `trace`, the
//! dashboard and the tests all feed frames through this one path.

use std::collections::BTreeMap;

use crate::model::decode::{self, DecodeError, Frame, Undecoded};
use crate::model::encap::Encap;
use crate::model::reassembly::{Added, Reassembler};
use crate::model::segment::Segment;
use crate::model::tracker::{Limits, Push, Tracker};

/// Counters of what the pipeline saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames handed in.
    pub frames: u64,
    /// TCP segments on the watched port(s).
    pub segments: u64,
    /// Frames that were not TCP, or not on the watched port.
    pub not_ours: u64,
    /// ICMP errors that quoted a segment of a tracked connection (attached to it).
    pub icmp: u64,
    /// IP fragments that went into a reassembled datagram (its last one
    /// counts as the datagram, as a segment or otherwise).
    pub reassembled: u64,
    /// IP fragments held for reassembly, or given up (incomplete).
    pub fragments: u64,
    /// UDP datagrams on the watched port(s) (in flows: [`Pipeline::udp`]),
    /// and ICMP errors put on a UDP flow.
    pub datagrams: u64,
    /// Frames that could not be decoded, by reason.
    pub errors: BTreeMap<DecodeError, u64>,
    /// A recording's socket-call records that did not read back (skipped;
    /// its frames are all read).
    pub bad_calls: u64,
    /// A recording's socket calls not kept (too many between two frames).
    pub calls_dropped: u64,
}

impl Counters {
    /// Frames that could not be decoded.
    #[must_use]
    pub fn undecodable(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Adds what another pipeline counted (of other frames).
    pub fn add(&mut self, other: &Counters) {
        self.frames += other.frames;
        self.segments += other.segments;
        self.not_ours += other.not_ours;
        self.icmp += other.icmp;
        self.reassembled += other.reassembled;
        self.fragments += other.fragments;
        self.datagrams += other.datagrams;
        self.bad_calls += other.bad_calls;
        self.calls_dropped += other.calls_dropped;
        for (e, n) in &other.errors {
            *self.errors.entry(*e).or_insert(0) += n;
        }
    }

    /// What did not decode, one line per kind: broken frames
    /// (`3 frames could not be decoded: 2 truncated TCP header, 1 bad IPv4
    /// header length`), then frames carried in something synack does not
    /// decode (`312 frames not decoded: 312 in GTP-C (signalling)`); `None`
    /// when every frame decoded.
    #[must_use]
    pub fn error_summary(&self) -> Option<String> {
        let line = |malformed: bool| -> Option<String> {
            let mut by_count: Vec<(&DecodeError, &u64)> =
                self.errors.iter().filter(|(e, _)| e.is_malformed() == malformed).collect();
            let total: u64 = by_count.iter().map(|(_, n)| **n).sum();
            if total == 0 {
                return None;
            }
            by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let mut kinds = String::new();
            for (i, (err, n)) in by_count.iter().enumerate() {
                if i > 0 {
                    kinds.push_str(&crate::t!("cli-kinds-gap"));
                }
                kinds.push_str(&crate::t!("cli-decode-count", n = n.to_string(), kind = decode_words(**err)));
            }
            Some(if malformed {
                crate::t!("cli-undecoded", total = total, kinds = kinds)
            } else {
                crate::t!("cli-not-decoded", total = total, kinds = kinds)
            })
        };
        let mut lines: Vec<String> = [line(true), line(false)].into_iter().flatten().collect();
        if self.fragments > 0 {
            lines.push(crate::t!("cli-fragments", n = self.fragments));
        }
        if self.bad_calls > 0 {
            lines.push(crate::t!("cli-bad-calls", n = self.bad_calls));
        }
        if self.calls_dropped > 0 {
            let held = crate::capture::CALLS_HELD.to_string();
            lines.push(crate::t!("cli-calls-dropped", n = self.calls_dropped, held = held));
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}

/// Why a frame did not decode, in the language of [`crate::i18n::current`]
/// (English: as [`DecodeError`] displays it).
fn decode_words(e: DecodeError) -> String {
    use DecodeError as E;
    match e {
        E::TruncatedLinkHeader => crate::t!("cli-decode-truncated-link"),
        E::BadIpVersion => crate::t!("cli-decode-bad-ip-version"),
        E::TruncatedIpv4Header => crate::t!("cli-decode-truncated-ipv4"),
        E::BadIpv4HeaderLength => crate::t!("cli-decode-bad-ipv4-header-length"),
        E::BadIpv4TotalLength => crate::t!("cli-decode-bad-ipv4-total-length"),
        E::Ipv4Fragment => crate::t!("cli-decode-ipv4-fragment"),
        E::TruncatedIpv6Header => crate::t!("cli-decode-truncated-ipv6"),
        E::BadIpv6ExtensionHeader => crate::t!("cli-decode-bad-ipv6-extension"),
        E::Ipv6Fragment => crate::t!("cli-decode-ipv6-fragment"),
        E::TruncatedTcpHeader => crate::t!("cli-decode-truncated-tcp"),
        E::BadTcpDataOffset => crate::t!("cli-decode-bad-tcp-data-offset"),
        E::NotDecoded(u) => {
            let what = match u {
                Undecoded::LinkType(n) => crate::t!("cli-undecoded-link-type", n = n.to_string()),
                Undecoded::Ethertype(t) => crate::t!("cli-undecoded-ethertype", t = format!("{t:#06x}")),
                Undecoded::GreProtocol(t) => crate::t!("cli-undecoded-gre", t = format!("{t:#06x}")),
                Undecoded::GtpC => crate::t!("cli-undecoded-gtp-c"),
                Undecoded::Esp => crate::t!("cli-undecoded-esp"),
                Undecoded::MacSec => crate::t!("cli-undecoded-macsec"),
                Undecoded::Protected80211 => crate::t!("cli-undecoded-80211"),
                Undecoded::MplsPayload => crate::t!("cli-undecoded-mpls"),
                Undecoded::TooDeep => crate::t!("cli-undecoded-too-deep"),
                Undecoded::ArcnetFragment => crate::t!("cli-undecoded-arcnet"),
            };
            crate::t!("cli-decode-in", what = what)
        }
    }
}

/// The shared processing path.
#[derive(Debug)]
pub struct Pipeline {
    pub tracker: Tracker,
    pub counters: Counters,
    /// UDP flows on the watched port(s) ([`crate::model::udp`]).
    pub udp: crate::model::udp::Flows,
    port: Option<u16>,
    reassembly: Reassembler,
    /// UDP datagrams go to [`Pipeline::udp`] ([`Pipeline::watch_udp`]).
    watch_udp: bool,
}

impl Pipeline {
    /// Watches TCP `port` (or every port with `None`), retaining connections
    /// within `limits`.
    #[must_use]
    pub fn new(port: Option<u16>, limits: Limits) -> Pipeline {
        Pipeline {
            tracker: Tracker::new(port, limits),
            counters: Counters::default(),
            udp: crate::model::udp::Flows::default(),
            port,
            reassembly: Reassembler::default(),
            watch_udp: false,
        }
    }

    /// Puts UDP datagrams on their flows ([`Pipeline::udp`]) from now on
    /// (else they count as not ours). Only [`Pipeline::frame`] sees them.
    pub fn watch_udp(&mut self) {
        self.watch_udp = true;
    }

    /// Decodes, counts and tracks one frame. `None` when it was not ours or
    /// A recording's socket calls ([`crate::capture::FrameSource::take_calls`])
    /// go to the tracker; its malformed call records are counted.
    pub fn replay_calls(&mut self, replayed: crate::capture::Replayed) {
        self.counters.bad_calls += replayed.malformed;
        self.counters.calls_dropped += replayed.dropped;
        for c in replayed.calls {
            self.tracker.call(c);
        }
    }

    /// did not decode.
    pub fn frame(&mut self, frame: &Frame<'_>) -> Option<Push> {
        let decoded = decode::decode(frame);
        if let Ok(None) = decoded
            && self.watch_udp
            && let Some(d) = decode::datagram(frame)
            && self.udp_datagram(&d)
        {
            return None;
        }
        if let Err(kind) = decoded
            && kind.is_fragment()
            && let Some((encap, range)) = decode::fragment(frame)
        {
            return self.fragment(frame, kind, encap, range);
        }
        self.decoded(&decoded)
    }

    /// Counts and tracks a frame decoded elsewhere (not an IP fragment:
    /// those go through [`Pipeline::frame`], to be reassembled).
    pub fn decoded(&mut self, decoded: &decode::Decoded) -> Option<Push> {
        let seg = self.counted(decoded)?;
        Some(self.track(seg))
    }

    /// Counts a frame decoded elsewhere (not an IP fragment), as
    /// [`Pipeline::decoded`] does, and hands back its segment if it is one to
    /// track, untracked.
    pub fn counted<'d>(&mut self, decoded: &'d decode::Decoded) -> Option<&'d Segment> {
        if !self.tally(decoded) {
            return None;
        }
        decoded.as_ref().ok()?.as_ref()
    }

    /// Holds an IP fragment (`kind` says which version); when it completes
    /// its datagram, the datagram goes on as one frame would.
    fn fragment(
        &mut self,
        frame: &Frame<'_>,
        kind: DecodeError,
        encap: Encap,
        range: std::ops::Range<usize>,
    ) -> Option<Push> {
        self.counters.frames += 1;
        self.counters.fragments += 1;
        let ip = &frame.data[range];
        let added = if kind == DecodeError::Ipv6Fragment {
            self.reassembly.add_v6(frame.ts, &encap, ip)
        } else {
            self.reassembly.add(frame.ts, &encap, ip)
        };
        match added {
            Added::Held => None,
            Added::Refused => {
                self.counters.fragments -= 1;
                self.counters.frames -= 1;
                self.count(Err(kind));
                None
            }
            Added::Complete(datagram, frames) => {
                self.counters.fragments -= frames;
                self.counters.reassembled += frames - 1;
                self.counters.frames -= 1;
                let decoded = decode::decode_ip(frame.ts, encap, &datagram);
                if let Ok(None) = decoded
                    && self.watch_udp
                    && let Some(d) = decode::datagram_ip(frame.ts, encap, &datagram)
                    && self.udp_datagram(&d)
                {
                    return None;
                }
                let seg = self.count(decoded)?;
                Some(self.track(&seg))
            }
        }
    }

    /// Counts one frame by what decoding it gave, and passes on the segment if
    /// it is on the watched port. Every frame is counted here, exactly once:
    /// as a segment, as not ours, as an ICMP error (attached here to the
    /// connection it quotes), or as an error of its kind. The dashboard,
    /// whose capture thread decodes, calls this with what the thread sent.
    pub fn count(&mut self, decoded: decode::Decoded) -> Option<Segment> {
        if self.tally(&decoded) { decoded.ok().flatten() } else { None }
    }

    /// [`Pipeline::count`] without handing the segment back: whether it is a
    /// segment on the watched port, to be tracked.
    fn tally(&mut self, decoded: &decode::Decoded) -> bool {
        self.counters.frames += 1;
        let ours = |seg: &Segment| self.port.is_none_or(|p| seg.src.port() == p || seg.dst.port() == p);
        match decoded {
            // An ICMP error goes to the connection it quotes, if there is one.
            Ok(Some(seg)) if seg.icmp.is_some() => {
                if ours(seg) && self.tracker.icmp(seg) {
                    self.counters.icmp += 1;
                } else {
                    self.counters.not_ours += 1;
                }
                false
            }
            Ok(Some(seg)) if ours(seg) => {
                self.counters.segments += 1;
                true
            }
            Ok(_) => {
                self.counters.not_ours += 1;
                false
            }
            Err(e) => {
                *self.counters.errors.entry(*e).or_insert(0) += 1;
                false
            }
        }
    }

    /// Counts a UDP datagram (or an ICMP error quoting one) decoded elsewhere
    /// (the dashboard's capture thread decodes): `true`, counted as a
    /// datagram, when the pipeline watches UDP and it is on the watched port,
    /// to be put on its flow later with [`Pipeline::put_datagram`] (the view
    /// may hold it back); else counted as not ours. An ICMP quote is counted
    /// here before its flow is looked for: one whose flow is not open is
    /// dropped by [`Pipeline::put_datagram`], yet counted as a datagram.
    pub fn count_datagram(&mut self, d: &crate::model::udp::Datagram) -> bool {
        self.counters.frames += 1;
        if self.watch_udp && self.port.is_none_or(|p| d.src.port() == p || d.dst.port() == p) {
            self.counters.datagrams += 1;
            true
        } else {
            self.counters.not_ours += 1;
            false
        }
    }

    /// Puts a datagram counted by [`Pipeline::count_datagram`] on its flow
    /// (an ICMP quote on its open flow, if there is one).
    pub fn put_datagram(&mut self, d: &crate::model::udp::Datagram) {
        if d.icmp.is_some() {
            self.udp.icmp(d);
        } else {
            self.udp.push(d);
        }
    }

    /// Counts and puts a UDP datagram (or an ICMP error quoting one) on its
    /// flow, when it is on the watched port (an ICMP error: when its flow is
    /// open); `false` (nothing counted) otherwise.
    fn udp_datagram(&mut self, d: &crate::model::udp::Datagram) -> bool {
        if !self.port.is_none_or(|p| d.src.port() == p || d.dst.port() == p) {
            return false;
        }
        if d.icmp.is_some() {
            if !self.udp.icmp(d) {
                return false;
            }
        } else {
            self.udp.push(d);
        }
        self.counters.frames += 1;
        self.counters.datagrams += 1;
        true
    }

    /// Tracks a counted segment.
    pub fn track(&mut self, seg: &Segment) -> Push {
        self.tracker.push(seg)
    }
}
