//! Classification: what part of the life cycle a segment belongs to (phase,
//! handshake or teardown step) and how a connection ended (close kind,
//! initiator, teardown segments). Pure functions over the facts a connection
//! gathers segment by segment; each rule is tested alone below.
//!
//! The words are those of docs/format.md: teardown
//! segments are every FIN plus each side's first ACK of the peer's FIN;
//! `four-way` is FIN, ACK, FIN, ACK; `three-way` is a second FIN that also
//! acknowledges the first; `simultaneous` is two FINs each sent before the
//! other was seen; `reset` is an RST ending the connection; `refused` is a SYN
//! answered by RST before any SYN-ACK.

use std::fmt;

use super::segment::{Flags, Timestamp};
use super::tcp::Effect;

/// Which way a segment travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Client to server.
    C2S,
    /// Server to client.
    S2C,
}

impl Dir {
    /// The role that sent a segment going this way.
    #[must_use]
    pub fn sender(self) -> Role {
        match self {
            Dir::C2S => Role::Client,
            Dir::S2C => Role::Server,
        }
    }
}

/// Client (sent the first SYN) or server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Client,
    Server,
}

impl Role {
    /// `client` or `server`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }
    /// The other endpoint.
    #[must_use]
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}

/// What part of the life cycle a segment belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Handshake,
    Data,
    Teardown,
    Reset,
    Other,
    /// A segment on a connection that had already ended (a late ACK, a FIN
    /// retransmitted and answered from TIME-WAIT, an RST after both FINs).
    AfterClose,
}

impl Phase {
    /// `handshake`, `data`, `teardown`, `reset` or `other`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Handshake => "handshake",
            Phase::Data => "data",
            Phase::Teardown => "teardown",
            Phase::Reset => "reset",
            Phase::Other => "other",
            Phase::AfterClose => "after-close",
        }
    }
}

/// How a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseKind {
    FourWay,
    ThreeWay,
    Simultaneous,
    Reset,
    Refused,
    Open,
    /// The capture began during the close (the kernel view listed it so), and
    /// it finished on the wire: which kind it was cannot be seen.
    BeforeCapture,
}

impl CloseKind {
    /// The name people and the formats use: `four-way`, `three-way`, ...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CloseKind::FourWay => "four-way",
            CloseKind::ThreeWay => "three-way",
            CloseKind::Simultaneous => "simultaneous",
            CloseKind::Reset => "reset",
            CloseKind::Refused => "refused",
            CloseKind::Open => "open",
            CloseKind::BeforeCapture => "begun-before-capture",
        }
    }
}

impl fmt::Display for CloseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Who began the close.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Initiator {
    Client,
    Server,
    /// Both FINs crossed: each side closed before it saw the other's FIN.
    Both,
}

impl From<Role> for Initiator {
    fn from(role: Role) -> Initiator {
        match role {
            Role::Client => Initiator::Client,
            Role::Server => Initiator::Server,
        }
    }
}

/// The abstract steps of the four-way close that one segment performs:
/// 1 the first FIN, 2 its ACK, 3 the second FIN, 4 its ACK. A three-way
/// close's middle segment is steps 2 and 3 at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TeardownSteps(u8);

impl TeardownSteps {
    /// No step.
    pub const NONE: TeardownSteps = TeardownSteps(0);

    /// These steps (each 1 to 4; others are ignored).
    #[must_use]
    pub fn of(steps: &[u8]) -> TeardownSteps {
        steps.iter().fold(TeardownSteps::NONE, |s, &n| s.with(n))
    }

    /// These steps and step `n` (1 to 4; others are ignored).
    #[must_use]
    pub fn with(self, n: u8) -> TeardownSteps {
        if (1..=4).contains(&n) { TeardownSteps(self.0 | 1 << n) } else { self }
    }

    /// Whether step `n` is among them.
    #[must_use]
    pub fn contains(self, n: u8) -> bool {
        (1..=4).contains(&n) && self.0 & (1 << n) != 0
    }

    /// No step at all.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The steps in order.
    pub fn iter(self) -> impl Iterator<Item = u8> {
        (1..=4).filter(move |&n| self.contains(n))
    }
}

impl fmt::Display for TeardownSteps {
    /// `2+3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

/// Handshake facts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Handshake {
    /// A SYN from the client was seen.
    pub syn: bool,
    /// The server's SYN-ACK was seen.
    pub syn_ack: bool,
    /// The client's ACK of the SYN-ACK was seen.
    pub ack: bool,
    /// Retransmitted SYNs.
    pub syn_retransmits: u32,
    /// Segments in the handshake phase, retransmissions included.
    pub segments: u32,
    last_syn_ts: Option<Timestamp>,
    /// Time from the (last) SYN to the client's ACK, in nanoseconds.
    pub rtt: Option<u64>,
}

impl Handshake {
    /// SYN, SYN-ACK and ACK all seen.
    #[must_use]
    pub fn complete(&self) -> bool {
        self.syn && self.syn_ack && self.ack
    }
}

/// One segment as the handshake rules see it.
#[derive(Clone, Copy, Debug)]
pub struct HandshakeSeen {
    pub dir: Dir,
    pub flags: Flags,
    pub ts: Timestamp,
    pub retransmission: bool,
    /// Its ACK covers the server's SYN.
    pub acks_server_syn: bool,
}

/// Whether a segment belongs to the handshake, and its step (1-3) if it is a
/// new one; updates the handshake facts.
pub fn handshake(h: &mut Handshake, seg: &HandshakeSeen) -> Option<Option<u8>> {
    if seg.flags.syn() {
        h.segments += 1;
        if seg.flags.ack() {
            if !seg.retransmission && !h.syn_ack {
                h.syn_ack = true;
                return Some(Some(2));
            }
        } else if seg.retransmission {
            h.syn_retransmits += 1;
            h.last_syn_ts = Some(seg.ts);
        } else {
            h.syn = true;
            h.last_syn_ts = Some(seg.ts);
            return Some(Some(1));
        }
        return Some(None);
    }
    if seg.dir == Dir::C2S && h.syn_ack && !h.ack && seg.flags.ack() && seg.acks_server_syn {
        h.ack = true;
        h.segments += 1;
        h.rtt = h.last_syn_ts.map(|t| seg.ts.0.saturating_sub(t.0));
        return Some(Some(3));
    }
    None
}

/// Hindsight: the segment taken as the handshake's last did not complete it
/// (the server was still SYN-RECEIVED after it): the handshake waits for the
/// segment that does.
pub fn reopen(h: &mut Handshake) {
    h.ack = false;
    h.rtt = None;
}

/// The handshake completed with a segment seen at `ts` that was not taken as
/// its last on the wire (the kernel said so); `counted`: that segment was
/// already counted as one of the handshake's.
pub fn complete(h: &mut Handshake, ts: Timestamp, counted: bool) {
    h.ack = true;
    if !counted {
        h.segments += 1;
    }
    h.rtt = h.last_syn_ts.map(|t| ts.0.saturating_sub(t.0));
}

/// What the close rules have gathered about a connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Close {
    /// Who sent the first FIN.
    pub first_fin: Option<Role>,
    /// Both FINs crossed on the wire.
    pub simultaneous: bool,
    /// The second FIN was also its sender's first ACK of the first FIN.
    pub second_fin_carried_ack: bool,
    /// Who sent the first RST.
    pub reset_by: Option<Role>,
    /// The SYN was answered by RST without a SYN-ACK.
    pub refused: bool,
    /// The passive closer sent data after the first FIN.
    pub data_after_fin: bool,
    /// Teardown segments, retransmissions excluded.
    pub teardown_segments: u32,
    /// RST segments.
    pub reset_segments: u32,
}

/// A FIN or ACK as the teardown rules see it.
#[derive(Clone, Copy, Debug)]
pub struct TeardownSeen {
    pub sender: Role,
    pub fin: bool,
    pub retransmission: bool,
    pub payload: bool,
}

/// The teardown steps a segment performs (FINs, and each side's first ACK of
/// the peer's FIN); updates the close facts.
pub fn teardown(close: &mut Close, seg: &TeardownSeen, effect: &Effect) -> TeardownSteps {
    let mut steps = TeardownSteps::NONE;
    if seg.fin && !seg.retransmission {
        match close.first_fin {
            None => {
                close.first_fin = Some(seg.sender);
                steps = steps.with(1);
            }
            Some(first) if first != seg.sender => {
                steps = steps.with(3);
                if effect.crossed || !effect.acks_peer_fin {
                    close.simultaneous = true;
                } else if effect.first_ack_of_peer_fin {
                    close.second_fin_carried_ack = true;
                }
            }
            // A second FIN from the same side with new sequence space: no new step.
            Some(_) => {}
        }
    }
    if effect.first_ack_of_peer_fin {
        // Acknowledging the first FIN is step 2; the second FIN, step 4.
        steps = steps.with(if close.first_fin == Some(seg.sender.peer()) { 2 } else { 4 });
    }
    if !steps.is_empty() {
        close.teardown_segments += 1;
    }
    if seg.payload && !seg.retransmission && close.first_fin == Some(seg.sender.peer()) {
        close.data_after_fin = true;
    }
    steps
}

/// Records an RST from `sender`: the first one names who reset, and a server
/// RST before any SYN-ACK to a SYN is a refusal.
pub fn reset(close: &mut Close, sender: Role, handshake: &Handshake, already_ended: bool) {
    if close.reset_by.is_none() && !already_ended {
        close.refused = sender == Role::Server && handshake.syn && !handshake.syn_ack;
        close.reset_by = Some(sender);
    }
    close.reset_segments += 1;
}

/// How the connection ended, as far as has been seen. `fins` says whether the
/// client and the server sent a FIN.
#[must_use]
pub fn close_kind(close: &Close, fins: (bool, bool)) -> CloseKind {
    if close.refused {
        CloseKind::Refused
    } else if close.reset_by.is_some() {
        CloseKind::Reset
    } else if fins.0 && fins.1 {
        if close.simultaneous {
            CloseKind::Simultaneous
        } else if close.second_fin_carried_ack {
            CloseKind::ThreeWay
        } else {
            CloseKind::FourWay
        }
    } else {
        CloseKind::Open
    }
}

/// Who began the close: the first FIN's sender, both for a simultaneous
/// close, the RST's sender for a reset or refusal.
#[must_use]
pub fn initiator(close: &Close, kind: CloseKind) -> Option<Initiator> {
    match kind {
        CloseKind::Simultaneous => Some(Initiator::Both),
        CloseKind::Reset | CloseKind::Refused => close.reset_by.map(Initiator::from),
        CloseKind::FourWay | CloseKind::ThreeWay | CloseKind::Open => close.first_fin.map(Initiator::from),
        // Its first FIN came before the capture: the caller knows from the kernel.
        CloseKind::BeforeCapture => None,
    }
}

/// Segments that took part in the close: teardown segments, or RSTs.
#[must_use]
pub fn close_segments(close: &Close, kind: CloseKind) -> u32 {
    match kind {
        CloseKind::Reset | CloseKind::Refused => close.reset_segments,
        _ => close.teardown_segments,
    }
}

/// A segment's phase: an RST is `reset`; a segment with teardown steps or a
/// retransmitted FIN is `teardown`; then the handshake; payload is `data`.
#[must_use]
pub fn phase(rst: bool, handshake: bool, steps: TeardownSteps, retransmitted_fin: bool, payload: bool) -> Phase {
    if rst {
        Phase::Reset
    } else if !steps.is_empty() || retransmitted_fin {
        Phase::Teardown
    } else if handshake {
        Phase::Handshake
    } else if payload {
        Phase::Data
    } else {
        Phase::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::segment::Flags;

    fn fin(sender: Role) -> TeardownSeen {
        TeardownSeen { sender, fin: true, retransmission: false, payload: false }
    }
    fn ack(sender: Role) -> TeardownSeen {
        TeardownSeen { sender, fin: false, retransmission: false, payload: false }
    }
    const ACKS: Effect = Effect {
        acks_peer_fin: true,
        first_ack_of_peer_fin: true,
        crossed: false,
        revise: None,
        reopened: None,
        via: None,
    };
    const PLAIN: Effect = Effect { acks_peer_fin: false, first_ack_of_peer_fin: false, ..ACKS };

    #[test]
    fn steps_print_and_iterate() {
        let s = TeardownSteps::of(&[3, 2]);
        assert_eq!(s.to_string(), "2+3");
        assert_eq!(s.iter().collect::<Vec<_>>(), [2, 3]);
        assert!(!s.contains(1) && !s.contains(0) && !s.contains(9));
        assert_eq!(TeardownSteps::NONE.with(7), TeardownSteps::NONE);
    }

    #[test]
    fn first_fin_is_step_1_and_names_the_initiator() {
        let mut c = Close::default();
        assert_eq!(teardown(&mut c, &fin(Role::Server), &PLAIN), TeardownSteps::of(&[1]));
        assert_eq!(c.first_fin, Some(Role::Server));
        assert_eq!(initiator(&c, close_kind(&c, (false, true))), Some(Initiator::Server));
        assert_eq!(close_kind(&c, (false, true)), CloseKind::Open);
    }

    #[test]
    fn four_way_is_fin_ack_fin_ack() {
        let mut c = Close::default();
        teardown(&mut c, &fin(Role::Client), &PLAIN);
        assert_eq!(teardown(&mut c, &ack(Role::Server), &ACKS), TeardownSteps::of(&[2]));
        // The server's FIN re-acknowledges the client's FIN: not a first ACK.
        let again = Effect { first_ack_of_peer_fin: false, ..ACKS };
        assert_eq!(teardown(&mut c, &fin(Role::Server), &again), TeardownSteps::of(&[3]));
        assert_eq!(teardown(&mut c, &ack(Role::Client), &ACKS), TeardownSteps::of(&[4]));
        assert_eq!(close_kind(&c, (true, true)), CloseKind::FourWay);
        assert_eq!(close_segments(&c, CloseKind::FourWay), 4);
    }

    #[test]
    fn three_way_when_the_second_fin_carries_the_first_ack() {
        let mut c = Close::default();
        teardown(&mut c, &fin(Role::Client), &PLAIN);
        assert_eq!(teardown(&mut c, &fin(Role::Server), &ACKS), TeardownSteps::of(&[2, 3]));
        assert!(c.second_fin_carried_ack && !c.simultaneous);
        assert_eq!(close_kind(&c, (true, true)), CloseKind::ThreeWay);
    }

    #[test]
    fn simultaneous_when_the_second_fin_does_not_ack_the_first() {
        for effect in [PLAIN, Effect { crossed: true, ..PLAIN }] {
            let mut c = Close::default();
            teardown(&mut c, &fin(Role::Client), &PLAIN);
            teardown(&mut c, &fin(Role::Server), &effect);
            assert_eq!(close_kind(&c, (true, true)), CloseKind::Simultaneous);
            assert_eq!(initiator(&c, CloseKind::Simultaneous), Some(Initiator::Both));
        }
    }

    #[test]
    fn retransmitted_fin_is_no_step() {
        let mut c = Close::default();
        teardown(&mut c, &fin(Role::Client), &PLAIN);
        let re = TeardownSeen { retransmission: true, ..fin(Role::Client) };
        assert!(teardown(&mut c, &re, &PLAIN).is_empty());
        assert_eq!(c.teardown_segments, 1);
        assert_eq!(phase(false, false, TeardownSteps::NONE, true, false), Phase::Teardown);
    }

    #[test]
    fn data_after_fin_only_from_the_passive_side() {
        let mut c = Close::default();
        teardown(&mut c, &fin(Role::Client), &PLAIN);
        teardown(&mut c, &TeardownSeen { payload: true, ..ack(Role::Client) }, &PLAIN);
        assert!(!c.data_after_fin, "the closer's own data is not a half-close");
        teardown(&mut c, &TeardownSeen { payload: true, ..ack(Role::Server) }, &PLAIN);
        assert!(c.data_after_fin);
    }

    #[test]
    fn reset_and_refused() {
        let syn_only = Handshake { syn: true, ..Handshake::default() };
        let mut c = Close::default();
        reset(&mut c, Role::Server, &syn_only, false);
        assert_eq!(close_kind(&c, (false, false)), CloseKind::Refused);
        assert_eq!(initiator(&c, CloseKind::Refused), Some(Initiator::Server));

        let answered = Handshake { syn: true, syn_ack: true, ..Handshake::default() };
        let mut c = Close::default();
        reset(&mut c, Role::Server, &answered, false);
        reset(&mut c, Role::Client, &answered, true);
        assert_eq!(close_kind(&c, (false, false)), CloseKind::Reset);
        assert_eq!(c.reset_by, Some(Role::Server), "the first RST names who reset");
        assert_eq!(close_segments(&c, CloseKind::Reset), 2);
        // An RST wins over FINs seen before it.
        assert_eq!(close_kind(&c, (true, true)), CloseKind::Reset);
    }

    #[test]
    fn handshake_steps() {
        let mut h = Handshake::default();
        let seen = |dir, flags, retransmission, acks_server_syn| HandshakeSeen {
            dir,
            flags,
            ts: Timestamp(10),
            retransmission,
            acks_server_syn,
        };
        assert_eq!(handshake(&mut h, &seen(Dir::C2S, Flags::SYN, false, false)), Some(Some(1)));
        assert_eq!(handshake(&mut h, &seen(Dir::C2S, Flags::SYN, true, false)), Some(None));
        assert_eq!(handshake(&mut h, &seen(Dir::S2C, Flags::SYN | Flags::ACK, false, false)), Some(Some(2)));
        assert_eq!(handshake(&mut h, &seen(Dir::C2S, Flags::ACK, false, false)), None, "ACK of something else");
        assert_eq!(handshake(&mut h, &seen(Dir::C2S, Flags::ACK, false, true)), Some(Some(3)));
        assert!(h.complete());
        assert_eq!((h.syn_retransmits, h.segments, h.rtt), (1, 4, Some(0)));
        assert_eq!(handshake(&mut h, &seen(Dir::C2S, Flags::ACK, false, true)), None, "only once");
    }

    #[test]
    fn phases() {
        assert_eq!(phase(true, true, TeardownSteps::NONE, false, true), Phase::Reset);
        assert_eq!(phase(false, true, TeardownSteps::NONE, false, false), Phase::Handshake);
        assert_eq!(phase(false, false, TeardownSteps::of(&[1]), false, true), Phase::Teardown);
        assert_eq!(phase(false, false, TeardownSteps::NONE, false, true), Phase::Data);
        assert_eq!(phase(false, false, TeardownSteps::NONE, false, false), Phase::Other);
    }
}
