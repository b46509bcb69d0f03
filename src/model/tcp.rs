//! The TCP connection states of RFC 9293 §3.3.2 and the transitions an observer
//! can infer from the wire. One exhaustive match; every state change in the
//! tracker goes through [`TcpState::on`].

use std::fmt;

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
            // §3.10.7.4 second check: RST -> CLOSED from every state.
            (_, Reset) => Closed,
            // Everything else leaves the state as it is: duplicates and
            // retransmissions (a second SYN in SYN-SENT, a FIN repeated in
            // TIME-WAIT), and events an observer may see out of their textbook
            // order because it started mid-stream.
            (
                Closed | Listen | SynSent | SynReceived | Established | FinWait1 | FinWait2 | CloseWait | Closing
                | LastAck | TimeWait,
                SendSyn | SendSynAck | SendFin | SynAcked | FinAcked | RecvFin,
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
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
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
}
