//! The TCP connection states of RFC 9293 §3.3.2 and the transitions an observer
//! can infer from the wire: the one place where an endpoint's state changes.
//!
//! [`TcpState::on`] is one exhaustive match over (state, event). [`segment`]
//! and [`reset`] hold the guards that pick the events from what a segment
//! shows (which ACK covers which FIN, whether the FINs crossed), and they are
//! the only code that assigns [`Side::state`].
//!
//! Inference rule for a passive observer: the sender's state changes when its
//! segment is seen; the receiver processes a segment when it arrives (SYN,
//! ACK, then FIN, as RFC 9293 §3.10.7 orders the checks): a SYN takes a
//! listening server to SYN-RECEIVED on the SYN's own row, as a FIN takes its
//! receiver to CLOSE-WAIT on the FIN's row.
//!
//! What a receiver did with a segment is sometimes shown only later, and the
//! rows are then revised with hindsight ([`Revision`]):
//! - a FIN received in ESTABLISHED moves the receiver to CLOSE-WAIT only
//!   tentatively: if the receiver's next segment is a FIN that does not
//!   acknowledge it, both FINs crossed on the wire (a simultaneous close,
//!   §3.6), the event is [`Event::FinsCrossed`], and the rows that showed
//!   CLOSE-WAIT are revised; so are they when a segment of its own still
//!   expects bytes sent before that FIN (its ACK is below the FIN's sequence
//!   number): the FIN came past a hole, and a FIN is processed only in
//!   sequence (§3.10.7.4), so it waited in the queue; the receiver enters
//!   CLOSE-WAIT with the segment that acknowledges the FIN at last;
//! - a SYN the client sends again before any SYN-ACK came was not taken: the
//!   server stayed in LISTEN on the rows of the SYN it dropped;
//! - the client segment that acknowledges the SYN-ACK completes the
//!   handshake only tentatively, until the server sends something other than
//!   a SYN-ACK: a SYN-ACK it sends again shows that it was still
//!   SYN-RECEIVED (the ACK was lost, or dropped: a listener whose accept
//!   queue is full drops it), and so does client data sent again with no
//!   answer on one host (where nothing is lost between the capture and the
//!   receiver, though a filter on its way in may drop it: the words say so);
//! - a FIN sent again after its ACK was seen shows that the ACK never
//!   reached its sender: it had stayed in LAST-ACK (or CLOSING) until the
//!   ACK that its FIN sent again brings back, from TIME-WAIT.

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
    /// It processed the peer's SYN (without ACK).
    RecvSyn,
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
            // §3.10.7.2: a SYN in LISTEN -> SYN-RECEIVED (its SYN-ACK is sent from
            // there); §3.10.7.3: a SYN in SYN-SENT (simultaneous open) likewise.
            (Listen | SynSent, RecvSyn) => SynReceived,
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
            // An RST received: §3.10.7.3 in SYN-SENT (refused), §3.10.7.4 second
            // check in the other states; sent: the ABORT call, §3.10.5 (or a CLOSE
            // with data unread, §3.6.1). Both ends -> CLOSED.
            (_, Reset) => Closed,
            // Everything else leaves the state as it is: duplicates and
            // retransmissions (a second SYN in SYN-SENT, a FIN repeated in
            // TIME-WAIT), and events an observer may see out of their textbook
            // order because it started mid-stream.
            (
                Closed | Listen | SynSent | SynReceived | Established | FinWait1 | FinWait2 | CloseWait | Closing
                | LastAck | TimeWait,
                SendSyn | RecvSyn | SendSynAck | SendFin | SynAcked | FinAcked | RecvFin | FinsCrossed,
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

/// How long Linux keeps a closed connection in TIME-WAIT: `TCP_TIMEWAIT_LEN`,
/// a fixed 60 seconds, not tunable (`tcp_fin_timeout` is FIN-WAIT-2's). RFC
/// 9293 asks for 2 x MSL, and its MSL is 2 minutes: 4 minutes. After it the
/// endpoint is CLOSED.
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
    /// The row whose ACK was taken to acknowledge its FIN, with the state it
    /// left then: a FIN of its own sent again shows that ACK never reached it.
    fin_acked_at: Option<(usize, TcpState)>,
    /// It has sent a segment acknowledging the peer's FIN.
    acked_peer_fin: bool,
    /// The peer's FIN was applied tentatively at this row (ESTABLISHED ->
    /// CLOSE-WAIT), with the state it had before.
    tentative_fin: Option<(usize, TcpState)>,
    /// The peer's FIN was seen, but this side's ACK since showed that it had
    /// not processed it (it came past a hole, §3.10.7.4): it does when it
    /// acknowledges it.
    pending_fin: bool,
    /// The peer's SYN was taken tentatively at this row (LISTEN ->
    /// SYN-RECEIVED): confirmed by this side's SYN-ACK, taken back when the
    /// peer sends its SYN again first.
    tentative_syn: Option<(usize, TcpState)>,
    /// The peer's ACK of this side's SYN-ACK was taken tentatively at this
    /// row (SYN-RECEIVED -> ESTABLISHED): confirmed by any segment of this
    /// side's but a SYN-ACK; with whether the peer sent data or a FIN since.
    tentative_open: Option<(usize, bool)>,
    /// The kernel said when this side left SYN-RECEIVED: the wire's
    /// hindsight no longer moves it.
    open_settled: bool,
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
            fin_acked_at: None,
            acked_peer_fin: false,
            tentative_fin: None,
            pending_fin: false,
            tentative_syn: None,
            tentative_open: None,
            open_settled: false,
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

/// Hindsight: from row `from` on, the rows showed one endpoint in a state
/// it was not in; it was in `now` (until the segment that carries this
/// revision, which shows its own state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The endpoint revised: the segment's sender (`true`) or its receiver.
    pub sender: bool,
    /// The first row revised (the segment's index in its connection).
    pub from: usize,
    /// The state those rows show instead.
    pub now: TcpState,
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
    /// Hindsight about earlier rows: the sender was not in CLOSE-WAIT (the
    /// FINs crossed), the server did not take a SYN, or the server was still
    /// SYN-RECEIVED when the rows showed it ESTABLISHED.
    pub revise: Option<Revision>,
    /// The handshake did not complete at this earlier row, as it had been
    /// taken to: the server was still SYN-RECEIVED after it.
    pub reopened: Option<usize>,
    /// A state the sender passed through within this segment: FIN-WAIT-1 when
    /// its FIN crossed the peer's (it sent its FIN from ESTABLISHED, then
    /// processed the peer's FIN and went on to CLOSING).
    pub via: Option<TcpState>,
}

/// Whether two endpoints are on one host (the same address, or both
/// loopback): a capture there sees a segment that reached its receiver's
/// TCP, so a segment it shows was not lost on the way.
#[must_use]
pub fn one_host(a: &Side, b: &Side) -> bool {
    let (x, y) = (a.addr.ip(), b.addr.ip());
    x == y || (x.is_loopback() && y.is_loopback())
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
            effect.revise = Some(Revision { sender: true, from: at, now: before });
            effect.via = Some(before.on(Event::SendFin));
        } else if flags.ack() && rcv.fin_seq.is_some_and(|f| f.gt(seen.ack)) {
            // It still expects bytes sent before that FIN: the FIN lies past a
            // hole in what it has received, and a FIN is processed only in
            // sequence (§3.10.7.4; the segment waits in the queue): it was
            // where it had been.
            snd.tentative_fin = None;
            snd.pending_fin = true;
            snd.state = before;
            effect.revise = Some(Revision { sender: true, from: at, now: before });
        }
    }
    // The FIN it had not processed is processed when it acknowledges it: this
    // segment was sent from CLOSE-WAIT (or CLOSING, if its own FIN went first).
    if snd.pending_fin && acks_peer_fin {
        snd.pending_fin = false;
        snd.on(Event::RecvFin);
    }
    opening(snd, rcv, seen, &mut effect);
    // Its FIN again, after an ACK of it was seen: that ACK never reached it
    // (lost, or dropped), so it had stayed where it was (LAST-ACK, CLOSING).
    if flags.fin()
        && seen.retransmission
        && snd.fin_seq == Some(seen.seq.plus(seen.payload_len))
        && let Some((at, before)) = snd.fin_acked_at.take()
    {
        snd.fin_acked = false;
        snd.state = before;
        effect.revise = Some(Revision { sender: true, from: at, now: before });
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
    // The receiver processes the SYN (§3.10.7.2, §3.10.7.3): tentatively, until
    // its SYN-ACK shows that it took it.
    if flags.syn() && !flags.ack() {
        let before = rcv.state;
        rcv.on(Event::RecvSyn);
        if before != rcv.state {
            rcv.tentative_syn = Some((row, before));
        }
    }
    // ... the ACK (§3.10.7.4 fifth check) ...
    if flags.ack() {
        if let Some(isn) = rcv.isn
            && matches!(rcv.state, TcpState::SynSent | TcpState::SynReceived)
            && seen.ack.ge(isn.plus(1))
        {
            let before = rcv.state;
            rcv.on(Event::SynAcked);
            if before == TcpState::SynReceived && !rcv.open_settled {
                let data = seen.payload_len > 0 || flags.fin();
                rcv.tentative_open = Some((row, data));
            }
        }
        if !rcv.fin_acked && rcv.fin_covered_by(seen.ack) {
            rcv.fin_acked = true;
            rcv.fin_acked_at = Some((row, rcv.state));
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

/// The opening's hindsight, before the segment's own transitions: what this
/// segment shows of a SYN or a handshake's last ACK that its receiver was
/// taken to have processed.
fn opening(snd: &mut Side, rcv: &mut Side, seen: &Seen, effect: &mut Effect) {
    let flags = seen.flags;
    // The SYN's receiver answers: it took the SYN.
    if flags.syn() && flags.ack() {
        snd.tentative_syn = None;
    }
    // The SYN comes again with no answer between: the receiver had not taken
    // the last one (it stayed where it was; this SYN is taken tentatively again).
    if flags.syn()
        && !flags.ack()
        && seen.retransmission
        && let Some((at, before)) = rcv.tentative_syn.take()
    {
        effect.revise = Some(Revision { sender: false, from: at, now: before });
        rcv.state = before;
    }
    // The side that completed the handshake tentatively sends: anything but its
    // SYN-ACK confirms it; its SYN-ACK again shows it was still SYN-RECEIVED.
    if let Some((at, _)) = snd.tentative_open {
        snd.tentative_open = None;
        if flags.syn() && flags.ack() {
            reopen(snd, true, at, effect);
        }
    }
    // The peer that acknowledged the SYN-ACK sends again data that the
    // receiver never answered, on one host: the receiver had not taken it, so
    // it had not left SYN-RECEIVED either.
    if let Some((at, data)) = rcv.tentative_open {
        if seen.retransmission && data && seen.payload_len + u32::from(flags.fin()) > 0 && one_host(snd, rcv) {
            rcv.tentative_open = None;
            reopen(rcv, false, at, effect);
        } else if seen.payload_len > 0 || flags.fin() {
            rcv.tentative_open = Some((at, true));
        }
    }
}

/// Hindsight: `side` (the segment's sender or not) had not completed the
/// handshake at row `at`: it was SYN-RECEIVED from there on.
fn reopen(side: &mut Side, sender: bool, at: usize, effect: &mut Effect) {
    side.state = TcpState::SynReceived;
    // A FIN taken as received meanwhile was not taken either.
    side.tentative_fin = None;
    effect.revise = Some(Revision { sender, from: at, now: TcpState::SynReceived });
    effect.reopened = Some(at);
}

/// The kernel's word that `side` left SYN-RECEIVED for ESTABLISHED: the
/// wire's hindsight no longer moves it, and it is ESTABLISHED from now on
/// if the wire had it still SYN-RECEIVED.
pub fn settle_open(side: &mut Side) {
    side.open_settled = true;
    side.tentative_open = None;
    if side.state == TcpState::SynReceived {
        side.on(Event::SynAcked);
    }
}

/// The kernel's word on an endpoint's state before its first segment was
/// seen (a connection that was open when the capture began): it replaces
/// the wire's guess.
pub fn from_kernel(side: &mut Side, state: TcpState) {
    side.state = state;
}

/// Hindsight: a row's mark for an endpoint becomes the state a later segment
/// showed it was in (see [`Effect::revise`]), or the rows of a refused
/// connection's server (nothing listened: CLOSED).
/// Returns whether the mark changed.
pub fn revise(mark: &mut TcpState, from: TcpState, hindsight: TcpState) -> bool {
    if *mark == from {
        *mark = hindsight;
        true
    } else {
        false
    }
}

/// An RST ends both endpoints: its receiver by §3.10.7.3 (SYN-SENT) or
/// §3.10.7.4's second check, its sender by the ABORT call (§3.10.5).
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
