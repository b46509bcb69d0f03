//! RFC 9293's state diagram (figure 5): its arrows with their labels in the
//! RFC's words ("event / action"), and the path each endpoint of a connection
//! took through it, transition by transition. A transition the wire shows but
//! the figure does not draw (an RST, a FIN that also acknowledges ours) is
//! named as such, never forced onto an arrow. Pure.

use super::classify::Role;
use super::connection::Connection;
use super::tcp::TcpState;

/// The arrow of figure 5 from `from` to `to`, as the RFC labels it.
#[must_use]
pub fn arrow(from: TcpState, to: TcpState) -> Option<&'static str> {
    use TcpState::*;
    Some(match (from, to) {
        (Closed, Listen) => "passive OPEN / create TCB",
        (Closed, SynSent) => "active OPEN / create TCB, snd SYN",
        (Listen, SynReceived) => "rcv SYN / snd SYN,ACK",
        (Listen, SynSent) => "SEND / snd SYN",
        (Listen | SynSent, Closed) => "CLOSE / delete TCB",
        (SynSent, SynReceived) => "rcv SYN / snd SYN,ACK",
        (SynSent, Established) => "rcv SYN,ACK / snd ACK",
        (SynReceived, Established) => "rcv ACK of SYN / x",
        (SynReceived | Established, FinWait1) => "CLOSE / snd FIN",
        (Established, CloseWait) => "rcv FIN / snd ACK",
        (FinWait1, FinWait2) => "rcv ACK of FIN / x",
        (FinWait1, Closing) => "rcv FIN / snd ACK",
        (FinWait2, TimeWait) => "rcv FIN / snd ACK",
        (Closing, TimeWait) => "rcv ACK of FIN / x",
        (CloseWait, LastAck) => "CLOSE / snd FIN",
        (LastAck, Closed) => "rcv ACK of FIN / x",
        (TimeWait, Closed) => "Timeout=2MSL / delete TCB",
        _ => return None,
    })
}

/// What the wire shows for a transition the figure does not draw.
#[must_use]
pub fn off_diagram(from: TcpState, to: TcpState) -> &'static str {
    use TcpState::*;
    match (from, to) {
        (SynSent, Closed) => super::explain::RST_IN_SYN_SENT,
        (_, Closed) => super::explain::RST_RECEIVED,
        (FinWait1, TimeWait) => {
            "rcv FIN with the ACK of our FIN: FIN-WAIT-2 and TIME-WAIT's arrows at once (figure 5 leaves it out: its Note 2)"
        }
        (SynReceived, CloseWait) => "rcv FIN before the ACK of our SYN was seen",
        _ => "a step the observer infers from the wire, not an arrow of figure 5",
    }
}

/// One transition of one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The segment's row (index in the connection's records).
    pub row: usize,
    pub from: TcpState,
    pub to: TcpState,
    /// The arrow's label, or why there is none (`Err`).
    pub label: Result<&'static str, &'static str>,
}

/// The transitions `role` went through, in order, states passed through
/// within a segment included.
#[must_use]
pub fn path(conn: &Connection, role: Role) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut at = conn.initial(role);
    for (row, r) in conn.records.iter().enumerate() {
        let via = r.via.filter(|_| r.dir.sender() == role);
        for to in via.into_iter().chain([r.state(role)]) {
            if to != at {
                // An RST closes by its own rule, whatever arrow the figure
                // draws between the same two states (CLOSE / delete TCB).
                let label = if r.flags.rst() {
                    Err(super::explain::rst_label(conn, row, role, at))
                } else {
                    arrow(at, to).ok_or_else(|| off_diagram(at, to))
                };
                out.push(Transition { row, from: at, to, label });
                at = to;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use TcpState::*;

    #[test]
    fn the_figures_arrows_and_what_is_not_one() {
        assert_eq!(arrow(Established, CloseWait), Some("rcv FIN / snd ACK"));
        assert_eq!(arrow(FinWait1, Closing), Some("rcv FIN / snd ACK"));
        assert_eq!(arrow(TimeWait, Closed), Some("Timeout=2MSL / delete TCB"));
        assert_eq!(arrow(Established, Closed), None);
        assert!(off_diagram(Established, Closed).contains("§3.10.7.4"));
        assert!(off_diagram(SynSent, Closed).contains("§3.10.7.3"));
        assert_eq!(arrow(FinWait1, TimeWait), None);
        assert!(off_diagram(FinWait1, TimeWait).contains("Note 2"));
    }
}
