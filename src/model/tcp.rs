//! The TCP connection states of RFC 9293 §3.3.2 and the transitions an observer
//! can infer from the wire: the one place where an endpoint's state changes.
//!
//! [`TcpState::on`] is one exhaustive match over (state, event). [`segment`]
//! and [`reset`] hold the guards that pick the events from what a segment
//! shows (which ACK covers which FIN, whether the FINs crossed), and they are
//! the only code that assigns [`Side::state`].
//!
//! Inference rule for a passive observer: the sender's state changes when its
//! segment is seen; the receiver processes a segment when it arrives (ACK
//! first, then FIN, as RFC 9293 §3.10.7.4 orders the checks). A FIN received in
//! ESTABLISHED moves the receiver to CLOSE-WAIT only tentatively: if the
//! receiver's next segment is a FIN that does not acknowledge it, both FINs
//! crossed on the wire (a simultaneous close, §3.6), the event is
//! [`Event::FinsCrossed`], and the row that showed CLOSE-WAIT is revised.

use std::fmt;
use std::net::SocketAddr;

use super::segment::Flags;
use super::seq::SeqNum;

/// RFC 9293 connection states, printed with hyphens (`FIN-WAIT-1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// What an endpoint did or had done to it, as seen on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// It sent a SYN without ACK (active open).
    SendSyn,
    /// It sent a SYN-ACK (answering a SYN).
    SendSynAck,
    /// It sent a FIN.
    SendFin,
    /// An ACK covering its SYN arrived.
    SynAcked,
    /// An ACK covering its FIN arrived.
    FinAcked,
    /// It processed the peer's FIN.
    RecvFin,
    /// An RST was sent or received.
    Reset,
    /// It sent a FIN that does not acknowledge the peer's FIN it had been taken
    /// to process: the FINs crossed. Its FIN left from ESTABLISHED (FIN-WAIT-1)
    /// and the peer's arrived after it, so it is in CLOSING.
    FinsCrossed,
}

impl TcpState {
    /// The state after `event`. Events that do not change the state in the
    /// RFC's diagram (a retransmitted SYN, an ACK in ESTABLISHED) return `self`.
    #[must_use]
    pub fn on(self, event: Event) -> TcpState {
        use Event::*;
        use TcpState::*;
        match (self, event) {
            // §3.10.7.1 (and §3.10.7.2 for a LISTEN socket that connects): active OPEN.
            (Closed | Listen, SendSyn) => SynSent,
            // §3.10.7.2: a SYN in LISTEN is answered by SYN-ACK -> SYN-RECEIVED;
            // §3.10.7.3: a SYN in SYN-SENT (simultaneous open) likewise.
            (Closed | Listen | SynSent, SendSynAck) => SynReceived,
            // §3.10.7.3: SYN-SENT, our SYN acknowledged -> ESTABLISHED.
            // §3.10.7.4 fifth check: SYN-RECEIVED, acceptable ACK -> ESTABLISHED.
            (SynSent | SynReceived, SynAcked) => Established,
            // §3.10.4 CLOSE: ESTABLISHED (or SYN-RECEIVED) sends FIN -> FIN-WAIT-1;
            // CLOSE-WAIT sends FIN -> LAST-ACK.
            (Established | SynReceived, SendFin) => FinWait1,
            (CloseWait, SendFin) => LastAck,
            // §3.10.7.4 fifth check, ACK of our FIN.
            (FinWait1, FinAcked) => FinWait2,
            (Closing, FinAcked) => TimeWait,
            (LastAck, FinAcked) => Closed,
            // §3.10.7.4 eighth check, FIN bit.
            (SynReceived | Established, RecvFin) => CloseWait,
            (FinWait1, RecvFin) => Closing,
            (FinWait2, RecvFin) => TimeWait,
            // §3.6 simultaneous close: the FIN taken as received in ESTABLISHED
            // (CLOSE-WAIT) had crossed ours; we were FIN-WAIT-1 when it came.
            (CloseWait, FinsCrossed) => Closing,
            // §3.10.7.4 second check: RST -> CLOSED from every state.
            (_, Reset) => Closed,
            // Everything else leaves the state as it is: duplicates and
            // retransmissions (a second SYN in SYN-SENT, a FIN repeated in
            // TIME-WAIT), and events an observer may see out of their textbook
            // order because it started mid-stream.
            (
                Closed | Listen | SynSent | SynReceived | Established | FinWait1 | FinWait2 | CloseWait | Closing
                | LastAck | TimeWait,
                SendSyn | SendSynAck | SendFin | SynAcked | FinAcked | RecvFin | FinsCrossed,
            ) => self,
        }
    }

    /// The RFC name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TcpState::Closed => "CLOSED",
            TcpState::Listen => "LISTEN",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynReceived => "SYN-RECEIVED",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::Closing => "CLOSING",
            TcpState::LastAck => "LAST-ACK",
            TcpState::TimeWait => "TIME-WAIT",
        }
    }

    /// The eleven states, in RFC 9293's order.
    pub const ALL: [TcpState; 11] = [
        TcpState::Closed,
        TcpState::Listen,
        TcpState::SynSent,
        TcpState::SynReceived,
        TcpState::Established,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::CloseWait,
        TcpState::Closing,
        TcpState::LastAck,
        TcpState::TimeWait,
    ];

    /// The state an RFC name names.
    #[must_use]
    pub fn from_name(name: &str) -> Option<TcpState> {
        TcpState::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// How long Linux keeps a closed connection in TIME-WAIT: 2 x MSL,
/// `TCP_TIMEWAIT_LEN`, 60 seconds. After it the endpoint is CLOSED.
pub const TIME_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// The state an endpoint that entered `state` at `since` is in at `now`, when
/// TIME-WAIT lasts `time_wait`: TIME-WAIT ends in CLOSED (RFC 9293 §3.10.8,
/// the timeout), every other state stays as it is. With the time left, in
/// nanoseconds, while TIME-WAIT runs.
#[must_use]
pub fn at(state: TcpState, since: u64, now: u64, time_wait: std::time::Duration) -> (TcpState, Option<u64>) {
    if state != TcpState::TimeWait {
        return (state, None);
    }
    let length = u64::try_from(time_wait.as_nanos()).unwrap_or(u64::MAX);
    let elapsed = now.saturating_sub(since);
    if elapsed >= length { (TcpState::Closed, None) } else { (TcpState::TimeWait, Some(length - elapsed)) }
}

/// What the observer knows about one endpoint: its state, and the facts of its
/// sequence space that the state rules read.
#[derive(Clone, Debug)]
pub struct Side {
    pub addr: SocketAddr,
    /// The state it is in, as inferred from the wire. Assigned only in this module.
    pub state: TcpState,
    /// Initial sequence number, if its SYN was seen.
    pub isn: Option<SeqNum>,
    /// One past the highest sequence number it has sent.
    pub(crate) next_seq: Option<SeqNum>,
    /// Sequence number of its FIN.
    pub(crate) fin_seq: Option<SeqNum>,
    /// Its FIN has been acknowledged.
    fin_acked: bool,
    /// It has sent a segment acknowledging the peer's FIN.
    acked_peer_fin: bool,
    /// The peer's FIN was applied tentatively at this row (ESTABLISHED ->
    /// CLOSE-WAIT), with the state it had before.
    tentative_fin: Option<(usize, TcpState)>,
    /// Payload bytes sent, retransmissions excluded.
    pub payload_bytes: u64,
}

impl Side {
    /// An endpoint at `addr` in `state`, nothing of it seen yet.
    #[must_use]
    pub fn new(addr: SocketAddr, state: TcpState) -> Side {
        Side {
            addr,
            state,
            isn: None,
            next_seq: None,
            fin_seq: None,
            fin_acked: false,
            acked_peer_fin: false,
            tentative_fin: None,
            payload_bytes: 0,
        }
    }

    /// Whether `ack` covers this side's FIN.
    fn fin_covered_by(&self, ack: SeqNum) -> bool {
        self.fin_seq.is_some_and(|f| ack.ge(f.plus(1)))
    }

    /// It sent a FIN.
    #[must_use]
    pub fn sent_fin(&self) -> bool {
        self.fin_seq.is_some()
    }

    /// Its FIN was acknowledged.
    #[must_use]
    pub fn fin_acked(&self) -> bool {
        self.fin_acked
    }

    fn on(&mut self, event: Event) {
        self.state = self.state.on(event);
    }
}

/// What the state rules need to know of one segment.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub flags: Flags,
    pub seq: SeqNum,
    pub ack: SeqNum,
    pub payload_len: u32,
    /// Its sequence range was already seen.
    pub retransmission: bool,
}

/// What a segment did beyond the states it set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effect {
    /// It acknowledges the receiver's FIN.
    pub acks_peer_fin: bool,
    /// It is the sender's first acknowledgment of the receiver's FIN.
    pub first_ack_of_peer_fin: bool,
    /// It is a FIN that crossed the peer's FIN on the wire.
    pub crossed: bool,
    /// Hindsight: from this earlier row on, the sender was not in CLOSE-WAIT
    /// as those rows showed but in this state (the FINs crossed, so the peer's
    /// FIN had not reached it yet).
    pub revise: Option<(usize, TcpState)>,
    /// A state the sender passed through within this segment: FIN-WAIT-1 when
    /// its FIN crossed the peer's (it sent its FIN from ESTABLISHED, then
    /// processed the peer's FIN and went on to CLOSING).
    pub via: Option<TcpState>,
}

/// Applies a segment that `snd` sent and `rcv` receives (not an RST: see
/// [`reset`]) to both endpoints' states. `row` is the segment's index in its
/// connection, remembered where a later segment may revise it.
pub fn segment(snd: &mut Side, rcv: &mut Side, seen: &Seen, row: usize) -> Effect {
    let flags = seen.flags;
    let acks_peer_fin = flags.ack() && rcv.fin_covered_by(seen.ack);
    let mut effect = Effect { acks_peer_fin, ..Effect::default() };

    // The sender's tentative CLOSE-WAIT is confirmed by an ACK of that FIN; a
    // FIN of its own that does not acknowledge it shows that the FINs crossed.
    if let Some((at, before)) = snd.tentative_fin {
        if acks_peer_fin {
            snd.tentative_fin = None;
        } else if flags.fin() && !seen.retransmission {
            snd.tentative_fin = None;
            effect.crossed = true;
            effect.revise = Some((at, before));
            effect.via = Some(before.on(Event::SendFin));
        }
    }
    // The sender's own transitions.
    if !seen.retransmission {
        if flags.syn() {
            snd.on(if flags.ack() { Event::SendSynAck } else { Event::SendSyn });
        }
        if flags.fin() {
            snd.fin_seq = Some(seen.seq.plus(seen.payload_len));
            snd.on(if effect.crossed { Event::FinsCrossed } else { Event::SendFin });
        }
    }
    // The receiver processes the ACK (§3.10.7.4 fifth check) ...
    if flags.ack() {
        if let Some(isn) = rcv.isn
            && matches!(rcv.state, TcpState::SynSent | TcpState::SynReceived)
            && seen.ack.ge(isn.plus(1))
        {
            rcv.on(Event::SynAcked);
        }
        if !rcv.fin_acked && rcv.fin_covered_by(seen.ack) {
            rcv.fin_acked = true;
            rcv.on(Event::FinAcked);
        }
    }
    // ... then the FIN (eighth check); CLOSE-WAIT from it stays tentative.
    if flags.fin() && !seen.retransmission {
        let before = rcv.state;
        rcv.on(Event::RecvFin);
        if before != rcv.state && rcv.state == TcpState::CloseWait {
            rcv.tentative_fin = Some((row, before));
        }
    }
    effect.first_ack_of_peer_fin = acks_peer_fin && !snd.acked_peer_fin;
    if effect.first_ack_of_peer_fin {
        snd.acked_peer_fin = true;
    }
    effect
}

/// The kernel's word on an endpoint's state before its first segment was
/// seen (a connection that was open when the capture began): it replaces
/// the wire's guess.
pub fn from_kernel(side: &mut Side, state: TcpState) {
    side.state = state;
}

/// Hindsight: a row's mark for an endpoint becomes the state a later segment
/// showed it was in: a CLOSE-WAIT taken back (see [`Effect::revise`]), or
/// LISTEN on the rows of a refused connection (nothing listened: CLOSED).
/// Returns whether the mark changed.
pub fn revise(mark: &mut TcpState, from: TcpState, hindsight: TcpState) -> bool {
    if *mark == from {
        *mark = hindsight;
        true
    } else {
        false
    }
}

/// An RST ends both endpoints (§3.10.7.4 second check: CLOSED from every state).
pub fn reset(a: &mut Side, b: &mut Side) {
    a.on(Event::Reset);
    b.on(Event::Reset);
}

#[cfg(test)]
mod tests {
    use super::Event::*;
    use super::TcpState::*;

    #[test]
    fn textbook_paths() {
        assert_eq!(Closed.on(SendSyn).on(SynAcked), Established);
        assert_eq!(Listen.on(SendSynAck).on(SynAcked), Established);
        assert_eq!(Established.on(SendFin).on(FinAcked).on(RecvFin), TimeWait);
        assert_eq!(Established.on(RecvFin).on(SendFin).on(FinAcked), Closed);
        assert_eq!(Established.on(SendFin).on(RecvFin).on(FinAcked), TimeWait);
        assert_eq!(TimeWait.on(Reset), Closed);
        assert_eq!(Established.on(SendSyn), Established);
        assert_eq!(FinWait1.to_string(), "FIN-WAIT-1");
    }

    #[test]
    fn close_wait_fins_crossed() {
        // Taken to have processed the peer's FIN, it then sends a FIN that does not
        // acknowledge it: it had been in FIN-WAIT-1 when that FIN came.
        assert_eq!(Established.on(RecvFin).on(FinsCrossed), Closing);
        assert_eq!(Closing.on(FinAcked), TimeWait);
        assert_eq!(Established.on(FinsCrossed), Established, "no FIN was taken as received");
    }
}
