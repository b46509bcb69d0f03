//! The kernel's view of a connection beside the wire's: the state changes
//! the kernel reported for each endpoint's socket, and whether the wire's
//! inference agrees with each. Pure: changes come in as values (from
//! `os::tracepoint` live, from a recording in a replay).
//!
//! Kernel facts the comparison relies on (Linux, checked on loopback):
//! - the client's socket goes CLOSED -> SYN-SENT before its port is chosen
//!   (the change carries port 0; its later changes name the same socket);
//! - the server's socket is created only when the handshake's last ACK
//!   arrives (a request socket, TCP_NEW_SYN_RECV, stands in from the SYN on,
//!   and reports no change), so its LISTEN -> SYN-RECEIVED -> ESTABLISHED
//!   come together, as late as the segment that completed the handshake;
//! - an endpoint entering TIME-WAIT hands the connection to a TIME-WAIT
//!   mini-socket and reports its full socket as going to CLOSED.

use super::classify::Role;
use super::connection::Connection;
use super::diagram;
pub use super::kernel_change::{Change, KEPT, PEN, Timer, Transition, from_record, state, to_record};
use super::segment::Timestamp;
use super::tcp::TcpState;

/// How far apart the kernel's TIME-WAIT handover and the wire's segment
/// that causes it may be (both are stamped by the same kernel).
const HANDOVER_NANOS: u64 = 5_000_000;

/// How far apart the kernel's change and the wire's row showing it may be
/// and still be "the same instant" (both are stamped by the same kernel; a
/// handshake's server socket comes one round trip after the wire's
/// SYN-RECEIVED, microseconds on loopback).
pub const SAME_INSTANT_NANOS: u64 = 100_000_000;

/// The state the wire shows for `role` at `ts`: the last row's at or before it.
fn wire_state_at(conn: &Connection, role: Role, ts: Timestamp) -> TcpState {
    conn.records.iter().rev().find(|r| r.ts <= ts).map_or(conn.initial(role), |r| r.state(role))
}

/// How one kernel transition compares with the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub transition: Transition,
    /// The wire shows the same transition, in the same order, on this row.
    pub row: Option<usize>,
    /// The row showing the same transition when it is there at another time
    /// (more than [`SAME_INSTANT_NANOS`] apart): a disagreement meanwhile.
    pub apart: Option<usize>,
    /// When the kernel's CLOSED is a handover to a mini-socket: the wire's
    /// transition it stands for (X -> TIME-WAIT), or FIN-WAIT-2 -> FIN-WAIT-2
    /// for an orphan kept in FIN-WAIT-2.
    pub as_wire: Option<(TcpState, TcpState)>,
}

impl Verdict {
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.row.is_some()
    }
}

/// The wire's transitions of `role`, a step the wire shows as one split into
/// the RFC's two (a FIN that also acknowledges ours: FIN-WAIT-1 -> FIN-WAIT-2
/// -> TIME-WAIT, RFC 9293 §3.10.7.4), as the kernel makes them.
fn wire_transitions(conn: &Connection, role: Role) -> Vec<diagram::Transition> {
    diagram::path(conn, role)
        .into_iter()
        .flat_map(|t| match (t.from, t.to) {
            (TcpState::FinWait1, TcpState::TimeWait) => vec![
                diagram::Transition { to: TcpState::FinWait2, ..t.clone() },
                diagram::Transition { from: TcpState::FinWait2, ..t },
            ],
            _ => vec![t],
        })
        .collect()
}

/// How many of the transitions the wire shows (both endpoints) no kernel
/// transition in `verdicts` stands for: the kernel view was started late,
/// or its changes were not attached to the connection when it was written.
#[must_use]
pub fn unreported(conn: &Connection, verdicts: &[Verdict]) -> usize {
    [Role::Client, Role::Server]
        .into_iter()
        .map(|role| {
            wire_transitions(conn, role)
                .iter()
                .filter(|w| {
                    !verdicts.iter().any(|v| {
                        let t = &v.transition;
                        let at = v.row.or(v.apart) == Some(w.row);
                        let same = (t.from, t.to) == (w.from, w.to) || v.as_wire == Some((w.from, w.to));
                        t.side == role && !t.timer && at && same
                    })
                })
                .count()
        })
        .sum()
}

/// The kernel view's summary line: how many transitions it shows, how many
/// agreed with the wire, and how many of the wire's have none beside them.
#[must_use]
pub fn summary(conn: &Connection, verdicts: &[Verdict]) -> String {
    let agreed = verdicts.iter().filter(|v| v.agrees()).count();
    let n = verdicts.len();
    match unreported(conn, verdicts) {
        0 => crate::t!("rows-kernel-summary", agreed = agreed, n = n),
        missing => {
            let all = match agreed {
                a if a == n && n == 2 => "both",
                a if a == n && n > 2 => "all",
                _ => "some",
            };
            crate::t!("rows-kernel-summary-missing", n = n, all = all, agreed = agreed, missing = missing)
        }
    }
}

/// Whether `v` is the server's LISTEN -> SYN-RECEIVED reported after the
/// wire's SYN: the kernel's own socket for the connection, created when the
/// handshake completed (the request socket before it reports no change,
/// and the listener itself stays in LISTEN).
#[must_use]
pub fn born_late(conn: &Connection, v: &Verdict) -> bool {
    let t = &v.transition;
    (t.side, t.from, t.to) == (Role::Server, TcpState::Listen, TcpState::SynReceived)
        && v.row.is_some_and(|r| conn.records[r].ts < t.ts)
}

/// Each kernel transition of `conn`, matched in order against the
/// transitions the wire implies for the same endpoint.
#[must_use]
pub fn compare(conn: &Connection) -> Vec<Verdict> {
    let mut out = Vec::with_capacity(conn.kernel.len());
    for role in [Role::Client, Role::Server] {
        let wire = wire_transitions(conn, role);
        let mut next = 0;
        for t in conn.kernel.iter().filter(|t| t.side == role) {
            // The kernel's CLOSED for a socket its application closed, after
            // a FIN: Linux hands the connection to a mini-socket and reports
            // the full socket as CLOSED. In TIME-WAIT when the wire shows the
            // endpoint entering it then; an orphan in FIN-WAIT-2 is handed over
            // as soon as it gets there (it waits for the peer's FIN, at most
            // tcp_fin_timeout, in the mini-socket).
            let closing = matches!(t.from, TcpState::FinWait1 | TcpState::FinWait2 | TcpState::Closing);
            let handover = t.to == TcpState::Closed && closing;
            let enters_time_wait = |k: usize| {
                let w = &wire[k];
                (w.from, w.to) == (t.from, TcpState::TimeWait)
                    && conn.records[w.row].ts.0.abs_diff(t.ts.0) <= HANDOVER_NANOS
            };
            // A timer's end is invisible on the wire: it agrees when the wire
            // left the endpoint in that state.
            if t.timer {
                let k = wire.iter().rposition(|w| w.to == t.from);
                out.push(Verdict { transition: *t, row: k.map(|k| wire[k].row), as_wire: None, apart: None });
                continue;
            }
            let (found, as_wire) = if handover {
                match (next..wire.len()).find(|&k| enters_time_wait(k)) {
                    Some(k) => (Some(k), Some((t.from, TcpState::TimeWait))),
                    // Still in FIN-WAIT-2 on the wire at that time: a FIN-WAIT-2 mini-socket.
                    None if t.from == TcpState::FinWait2 && wire_state_at(conn, role, t.ts) == TcpState::FinWait2 => {
                        let k = wire[..next.min(wire.len())].iter().rposition(|w| w.to == TcpState::FinWait2);
                        (k.or(next.checked_sub(1)), Some((TcpState::FinWait2, TcpState::FinWait2)))
                    }
                    None => (None, None),
                }
            } else {
                let want = (t.from, t.to);
                (wire.iter().skip(next).position(|w| (w.from, w.to) == want).map(|k| k + next), None)
            };
            if let Some(k) = found {
                next = next.max(k + 1);
            }
            // The same transition, but not at the same time: the wire's
            // inference was wrong meanwhile (a dropped ACK, a full queue).
            let row = found.map(|k| wire[k].row);
            // The server's own socket is born when the handshake completes: its
            // LISTEN -> SYN-RECEIVED agrees anywhere from the wire's SYN to then.
            let born = (role, t.from, t.to) == (Role::Server, TcpState::Listen, TcpState::SynReceived);
            let completed = wire.iter().find(|w| (w.from, w.to) == (TcpState::SynReceived, TcpState::Established));
            let until = completed.map_or(0, |w| conn.records[w.row].ts.0);
            let late = row.is_some_and(|r| {
                let at = conn.records[r].ts.0;
                let within = born && t.ts.0 >= at && t.ts.0 <= until.saturating_add(SAME_INSTANT_NANOS);
                !within && at.abs_diff(t.ts.0) > SAME_INSTANT_NANOS
            });
            out.push(Verdict {
                transition: *t,
                row: row.filter(|_| !late),
                as_wire,
                apart: late.then_some(row).flatten(),
            });
        }
    }
    out.sort_by_key(|v| v.transition.ts);
    out
}

/// `(agreed, transitions)`.
#[must_use]
pub fn agreement(conn: &Connection) -> (usize, usize) {
    let v = compare(conn);
    (v.iter().filter(|v| v.agrees()).count(), v.len())
}

/// What a kernel transition says, in words, with the wire's view beside it.
#[must_use]
pub fn describe(conn: &Connection, v: &Verdict) -> String {
    let t = &v.transition;
    let at = t.ts.0.saturating_sub(conn.start().0) as f64 / 1e6;
    let mut s = format!("kernel: {} {} → {} at {at:.3} ms", t.side.name(), t.from, t.to);
    if t.timer {
        s.push_str(&format!(
            ": its timer ran out and the kernel dropped the mini-socket ({} on the wire since row {})",
            t.from,
            v.row.map_or(0, |r| r + 1)
        ));
        return s;
    }
    match (v.row, v.as_wire) {
        (Some(row), Some((_, to))) => {
            s.push_str(&format!(
                " (the kernel's name for handing the connection to a {to} mini-socket): agrees with row {}",
                row + 1
            ));
        }
        (Some(row), None) => s.push_str(&format!(": agrees with row {}", row + 1)),
        (None, _) => match v.apart {
            Some(row) => {
                let gap = t.ts.0 as f64 / 1e6 - conn.records[row].ts.0 as f64 / 1e6;
                s.push_str(&format!(
                    ": the wire shows it on row {}, {:.3} ms {}: meanwhile the {} was not in the state the ladder shows",
                    row + 1,
                    gap.abs(),
                    if gap > 0.0 { "earlier" } else { "later" },
                    t.side.name()
                ));
            }
            None => s.push_str(&format!(
                ": the wire does not show this transition for the {} here; the kernel's state is the truth",
                t.side.name()
            )),
        },
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_reads_back_from_its_record() {
        let c = Change {
            ts: Timestamp(1_795_945_626_805_968_849),
            sock: 18_446_612_686_377_877_504,
            local: "127.0.0.1:0".parse().unwrap(),
            remote: "[::1]:8001".parse().unwrap(),
            from: TcpState::Closed,
            to: TcpState::SynSent,
        };
        assert_eq!(from_record(&to_record(&c)), Some(c));
        assert_eq!(from_record(&format!("{}\n\0\0", to_record(&c))), Some(c));
        assert_eq!(from_record("synack-kernel/2 1 2 3 4 CLOSED LISTEN"), None);
        assert_eq!(from_record("synack-kernel/1 1 2 127.0.0.1:1 127.0.0.1:2 CLOSED NOWHERE"), None);
        assert_eq!(state(12), Some(TcpState::SynReceived));
        assert_eq!(state(13), None);
    }
}
