//! The words: a verdict on how a connection closed, and what one segment does.
//! Every sentence is built from the connection's facts (who sent which FIN
//! when, what each side had sent before, the states on the rows, the measured
//! delays), never a fixed sentence per flag, so it cannot contradict the
//! segments it explains. `tests/explain.rs` asserts each claim on captures
//! where it holds and where it must not be made.

use std::fmt::Write as _;

use super::classify::{CloseKind, Phase, Role};
use super::connection::{Connection, IcmpNote, Record};
use super::tcp::TcpState;

/// `The client` / `The server`.
fn cap(role: Role) -> &'static str {
    match role {
        Role::Client => "The client",
        Role::Server => "The server",
    }
}

/// Index of the first FIN `role` sent (retransmissions aside).
fn fin_row(conn: &Connection, role: Role) -> Option<usize> {
    conn.records.iter().position(|r| r.dir.sender() == role && r.flags.fin() && !r.retransmission)
}

/// Index of the first segment from `role`'s peer that acknowledges `role`'s FIN.
fn ack_row(conn: &Connection, role: Role) -> Option<usize> {
    let first = conn.close.first_fin?;
    let step = if first == role { 2 } else { 4 };
    conn.records.iter().position(|r| r.dir.sender() == role.peer() && r.teardown_steps.contains(step))
}

/// Milliseconds between two rows, in words: `0.04 ms`, `41 ms`.
fn gap(conn: &Connection, from: usize, to: usize) -> (f64, String) {
    let (Some(a), Some(b)) = (conn.records.get(from), conn.records.get(to)) else {
        return (0.0, String::new());
    };
    let ms = b.ts.millis_since(a.ts);
    let words = if ms < 1.0 { format!("{ms:.3} ms") } else { format!("{ms:.0} ms") };
    (ms, words)
}

/// The state of `role` before row `idx` (its state on the first row for row 0).
fn before(conn: &Connection, idx: usize, role: Role) -> TcpState {
    let prev = idx.checked_sub(1).and_then(|i| conn.records.get(i));
    prev.or_else(|| conn.records.first()).map_or(TcpState::Closed, |r| r.state(role))
}

/// The states `role` went through from its last state before the first FIN to
/// the end, states passed through within a segment included:
/// `ESTABLISHED -> FIN-WAIT-1 -> CLOSING -> TIME-WAIT`.
#[must_use]
pub fn close_path(conn: &Connection, role: Role) -> Vec<TcpState> {
    let start = conn.records.iter().position(|r| r.flags.fin()).unwrap_or(conn.records.len());
    let mut path = vec![before(conn, start, role)];
    for r in conn.records.iter().skip(start) {
        let via = r.via.filter(|_| r.dir.sender() == role);
        for s in via.into_iter().chain([r.state(role)]) {
            if path.last() != Some(&s) {
                path.push(s);
            }
        }
    }
    path
}

fn path_words(path: &[TcpState]) -> String {
    path.iter().map(|s| s.name()).collect::<Vec<_>>().join(" -> ")
}

/// One paragraph in plain words: what kind of close this was and why it took
/// the segments it took.
#[must_use]
pub fn verdict(conn: &Connection) -> String {
    let mut s = String::new();
    verdict_into(conn, &mut s);
    s
}

/// [`verdict`], appended to `s` (a buffer used again for every connection).
pub fn verdict_into(conn: &Connection, s: &mut String) {
    let kind = conn.close_kind();
    let _ = write!(s, "close: {kind}. ");
    match kind {
        CloseKind::ThreeWay => three_way(conn, s),
        CloseKind::FourWay => four_way(conn, s),
        CloseKind::Simultaneous => simultaneous(conn, s),
        CloseKind::Reset => reset(conn, s),
        CloseKind::Refused => refused(conn, s),
        CloseKind::BeforeCapture => joined_late(conn, s),
        CloseKind::Open if conn.joined_late.is_some() => joined_late(conn, s),
        CloseKind::Open => match conn.close.first_fin {
            Some(a) => {
                let _ = write!(s, "{} sent a FIN; the close had not finished when the capture ended.", cap(a));
            }
            None => s.push_str("The connection was still open when the capture ended."),
        },
    }
    if conn.close.data_after_fin && !matches!(kind, CloseKind::FourWay | CloseKind::Reset) {
        s.push_str(" Data flowed after the first FIN (half-close).");
    }
    if conn.handshake.syn_retransmits > 0 {
        let n = conn.handshake.syn_retransmits;
        let _ = write!(
            s,
            " The SYN was retransmitted {n} time{}: the server did not answer at first (a full accept queue?).",
            if n == 1 { "" } else { "s" }
        );
    }
    let after = conn.records.iter().filter(|r| r.phase == Phase::AfterClose).count();
    if after > 0 {
        let _ = write!(s, " {after} segment{} came after the close had finished.", if after == 1 { "" } else { "s" });
    }
    match conn.icmp.len() {
        0 => {}
        1 => {
            // An error about a segment on a row is explained with that row.
            let n = &conn.icmp[0];
            if n.row.is_some() {
                let _ = write!(s, " An ICMP error ({}) came back about one of its segments.", n.icmp.name());
            } else {
                let _ = write!(s, " {}", icmp(conn, n));
            }
        }
        n => {
            let _ = write!(s, " {n} ICMP errors came back about its segments.");
        }
    }
}

/// A connection the capture joined during its close: what the kernel listed
/// then, and how it ended on the wire.
fn joined_late(conn: &Connection, s: &mut String) {
    let Some((c, sv)) = conn.joined_late else { return };
    let _ = write!(
        s,
        "The capture began during the close: the kernel listed the client in {c} and the server in {sv} then (the segments before were not captured)."
    );
    let (cn, sn) = (conn.client.state, conn.server.state);
    let done = |st: TcpState| matches!(st, TcpState::Closed | TcpState::TimeWait);
    if done(cn) && done(sn) {
        let _ = write!(s, " The close finished on the wire: the client ended in {cn}, the server in {sn}.");
    } else {
        let _ = write!(s, " It had not finished when the capture ended: the client was in {cn}, the server in {sn}.");
    }
}

fn three_way(conn: &Connection, s: &mut String) {
    let a = conn.close.first_fin.unwrap_or(Role::Client);
    let _ = write!(
        s,
        "{} closed first. The {} had nothing left to send, so its FIN carried the ACK of the {}'s FIN: \
         steps 2 and 3 of the four-way close shared one segment.",
        cap(a),
        a.peer().name(),
        a.name()
    );
}

fn four_way(conn: &Connection, s: &mut String) {
    let a = conn.close.first_fin.unwrap_or(Role::Client);
    let b = a.peer();
    let _ = write!(s, "{} closed first. The {} acknowledged that FIN in a segment of its own", cap(a), b.name());
    if let (Some(fin), Some(ack)) = (fin_row(conn, a), ack_row(conn, a)) {
        let (ms, words) = gap(conn, fin, ack);
        if ms < 1.0 {
            let _ = write!(s, " at once ({words} later)");
        } else if (20.0..=250.0).contains(&ms) {
            let _ = write!(s, ", {words} later (its delayed-ACK timer fired: no data came to carry the ACK)");
        } else {
            let _ = write!(s, ", {words} later");
        }
    }
    let later = match (fin_row(conn, a), fin_row(conn, b)) {
        (Some(x), Some(y)) => format!(" ({} after the first)", gap(conn, x, y).1),
        _ => String::new(),
    };
    if conn.close.data_after_fin {
        let _ = write!(
            s,
            ", and still had data to send (a half-close: data flowed after the first FIN), so its own FIN \
             came later{later}: each direction was closed separately, in four segments."
        );
    } else {
        let _ = write!(
            s,
            ", and sent its own FIN only later{later}: each direction was closed separately: FIN, ACK, FIN, ACK."
        );
    }
}

fn simultaneous(conn: &Connection, s: &mut String) {
    s.push_str("Both sides sent a FIN before they had seen the other's: the FINs crossed on the wire. ");
    for role in [Role::Client, Role::Server] {
        let _ = write!(s, "{} went {}. ", cap(role), path_words(&close_path(conn, role)));
    }
    if conn.client.state == TcpState::TimeWait && conn.server.state == TcpState::TimeWait {
        s.push_str("Both ended in TIME-WAIT: each had sent a FIN that the other acknowledged.");
    }
    let trimmed = s.trim_end().len();
    s.truncate(trimmed);
}

/// What happened before an RST: FINs, their ACKs, data after a FIN.
fn before_reset(conn: &Connection, rst: usize) -> Vec<String> {
    let mut facts = Vec::new();
    let mut fins: Vec<(usize, Role)> = [Role::Client, Role::Server]
        .into_iter()
        .filter_map(|r| fin_row(conn, r).filter(|&i| i < rst).map(|i| (i, r)))
        .collect();
    fins.sort_unstable_by_key(|&(i, _)| i);
    for (i, role) in fins {
        let mut f = format!("the {} sent a FIN", role.name());
        if ack_row(conn, role).is_some_and(|a| a < rst) {
            let _ = write!(f, ", which the {} acknowledged", role.peer().name());
        }
        let data: u32 = conn.records[i + 1..rst]
            .iter()
            .filter(|r| r.dir.sender() == role.peer() && !r.retransmission)
            .map(|r| r.payload_len)
            .sum();
        if data > 0 {
            let _ = write!(f, "; after it the {} still sent {data} bytes of data", role.peer().name());
        }
        facts.push(f);
    }
    facts
}

fn reset(conn: &Connection, s: &mut String) {
    let by = conn.close.reset_by.unwrap_or(Role::Client);
    let rst = conn.records.iter().position(|r| r.flags.rst()).unwrap_or(conn.records.len());
    let facts = before_reset(conn, rst);
    if facts.is_empty() {
        let _ = write!(
            s,
            "{} aborted the connection with an RST: no FIN exchange, no TIME-WAIT; both ends went straight \
             to CLOSED and any unsent or unread data was discarded.",
            cap(by)
        );
        return;
    }
    let _ = write!(s, "Before the RST, {}. Then the {} sent an RST", facts.join("; "), by.name());
    let by_had_closed = fin_row(conn, by).is_some_and(|i| i < rst);
    let data_after = conn.records[..rst]
        .iter()
        .enumerate()
        .any(|(i, r)| r.dir.sender() == by.peer() && r.payload_len > 0 && fin_row(conn, by).is_some_and(|f| i > f));
    if by_had_closed && data_after {
        s.push_str(
            ": data reached a socket whose application had already closed it, and the kernel answers such \
             data with RST",
        );
    }
    s.push_str(". Both ends went to CLOSED at once: no TIME-WAIT.");
}

fn refused(conn: &Connection, s: &mut String) {
    s.push_str("Nothing was listening on the server's port: the SYN was answered by RST-ACK");
    if let Some(r) = conn.records.iter().find(|r| r.flags.rst()) {
        let _ = write!(s, " (seq={}, ack={}", r.rel_seq, r.rel_ack);
        if r.flags.ack() && r.rel_ack == 1 {
            s.push_str(": it acknowledges the SYN");
        }
        s.push(')');
    }
    s.push_str(", so there was no handshake and no connection: the server side was CLOSED throughout.");
}

/// What one segment does and why, for the dashboard's explanation panel;
/// then what each ICMP error that quoted it said.
#[must_use]
pub fn explain(conn: &Connection, idx: usize) -> String {
    let mut s = explain_segment(conn, idx);
    for note in conn.icmp.iter().filter(|n| n.row == Some(idx)) {
        s.push(' ');
        s.push_str(&icmp(conn, note));
    }
    s
}

/// What an ICMP error about one of the connection's segments says, from its
/// type, code, sender and MTU.
#[must_use]
pub fn icmp(conn: &Connection, note: &IcmpNote) -> String {
    let sender = note.dir.sender();
    let peer = sender.peer();
    let e = &note.icmp;
    let seq = note.row.map_or(note.seq.0, |i| conn.records[i].rel_seq);
    let mut s = format!(
        "ICMP{} \"{}\" (type {}, code {}) came from {} {:.3} ms after the connection began, about the {}'s segment seq={seq}",
        if e.v6 { "v6" } else { "" },
        e.name(),
        e.kind,
        e.code,
        e.from,
        note.ts.millis_since(conn.start()),
        sender.name(),
    );
    let peer_host = conn.side(peer).addr.ip();
    let who = if e.from == peer_host { format!("the {} itself", peer.name()) } else { format!("{}", e.from) };
    match (e.v6, e.kind) {
        (false, 3) if e.code == 4 => {
            let _ = write!(
                s,
                ": {who} could not forward it without fragmenting it and asked for packets of at most {} bytes. This is Path MTU discovery (RFC 1191): the {} must send smaller segments on this path.",
                e.mtu,
                sender.name()
            );
        }
        (true, 2) => {
            let _ = write!(
                s,
                ": {who} could not forward it, as it is larger than the next link's MTU of {} bytes. This is Path MTU discovery (RFC 8201): the {} must send smaller segments on this path.",
                e.mtu,
                sender.name()
            );
        }
        (false, 11) | (true, 3) if e.code == 0 => {
            let _ = write!(
                s,
                ": its time to live ran out at {who} before it reached the {}: a routing loop, or a traceroute.",
                peer.name()
            );
        }
        (false, 3) | (true, 1) => {
            let _ = write!(s, ": {who} reports that it could not be delivered to the {}.", peer.name());
        }
        (false, 12) | (true, 4) => {
            let _ = write!(s, ": {who} found a header field it could not process.");
        }
        (false, 4) => {
            let _ =
                write!(s, ": {who} asked the {} to slow down (source quench, deprecated by RFC 6633).", sender.name());
        }
        _ => s.push('.'),
    }
    s
}

fn explain_segment(conn: &Connection, idx: usize) -> String {
    let Some(r) = conn.records.get(idx) else {
        return String::new();
    };
    if r.retransmission {
        return explain_retransmission(conn, idx, r);
    }
    if r.flags.rst() {
        explain_rst(conn, r)
    } else if r.flags.syn() || (r.step == Some(3) && r.phase == Phase::Handshake) {
        explain_handshake(conn, r)
    } else if r.flags.fin() {
        explain_fin(conn, idx, r)
    } else {
        explain_ack(conn, idx, r)
    }
}

fn explain_retransmission(conn: &Connection, idx: usize, r: &Record) -> String {
    let who = r.dir.sender();
    let mut s = format!(
        "The {} sent this sequence range before: a retransmission. It does not count as a new step.",
        who.name()
    );
    if r.flags.fin() && r.phase == Phase::AfterClose {
        let peer = who.peer();
        let _ = write!(
            s,
            " Its FIN comes again after the close, so the ACK of it was lost or late; the {} is in {} and \
             still answers it: that is what TIME-WAIT is for.",
            peer.name(),
            before(conn, idx, peer)
        );
    }
    s
}

/// An RST: a refusal, an abortive close, or one after the close.
fn explain_rst(conn: &Connection, r: &Record) -> String {
    let who = r.dir.sender().name();
    if conn.close.refused {
        "RST-ACK in answer to a SYN: nothing listens on that port, so the connection is refused. \
         There was never a handshake."
            .to_string()
    } else if r.phase == Phase::AfterClose {
        format!(
            "An RST from the {who} after the close had finished: the connection was already over, so it changes \
             nothing but the socket that receives it."
        )
    } else if conn.close.first_fin.is_some() {
        format!(
            "RST from the {who}: it ends the connection in the middle of its close. Both ends drop it at once \
             (CLOSED): no TIME-WAIT."
        )
    } else {
        format!(
            "RST from the {who}: an abortive close. Both ends drop the connection at once (CLOSED), \
             without FINs and without TIME-WAIT."
        )
    }
}

/// A segment of the three-way handshake.
fn explain_handshake(conn: &Connection, r: &Record) -> String {
    let who = r.dir.sender();
    if r.flags.syn() && !r.flags.ack() {
        let mut s = format!(
            "Handshake step 1: the {} asks to open a connection and announces its initial sequence number \
             (shown as 0). A SYN takes one sequence number.",
            who.name()
        );
        if conn.close.refused {
            s.push_str(" Nothing listens on the server's port: the answer will be an RST.");
        }
        s
    } else if r.flags.syn() {
        format!(
            "Handshake step 2: the {} acknowledges the SYN (ack=1) and sends its own SYN in the same \
             segment. That is why opening takes three segments, not four: the server has nothing to wait for.",
            who.name()
        )
    } else {
        "Handshake step 3: the client acknowledges the server's SYN. Both sides now know each \
         other's sequence numbers: ESTABLISHED."
            .to_string()
    }
}

/// A FIN: the first, the one that carries the ACK of the first, one that
/// crossed the other, or the second of a four-way close.
fn explain_fin(conn: &Connection, idx: usize, r: &Record) -> String {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    let s = r.teardown_steps;
    if s.contains(1) && conn.close.simultaneous {
        format!(
            "The {} closes its direction (FIN). The {} sends its own FIN before this one reaches it: \
             the two FINs cross on the wire (a simultaneous close).",
            who.name(),
            peer.name()
        )
    } else if s.contains(1) {
        format!(
            "The {} has nothing more to send and closes its direction (FIN). The {} may still send data: \
             closing is done per direction, which is why it can take four segments.",
            who.name(),
            peer.name()
        )
    } else if s.contains(2) {
        format!(
            "This FIN-ACK carries the ACK of the {}'s FIN, so the close takes three segments: \
             the {} had nothing left to send, and its ACK and its FIN travel together.",
            peer.name(),
            who.name()
        )
    } else if let Some(via) = r.via {
        format!(
            "The {who_n} sends its FIN from {from} ({via}) before the {peer_n}'s FIN has reached it: the FINs \
             cross. This FIN does not acknowledge the {peer_n}'s (ack={ack}), so each side receives a FIN that \
             does not acknowledge its own: the {peer_n} goes to {p_after}, and the {who_n} goes to {w_after} \
             when the {peer_n}'s FIN arrives.",
            who_n = who.name(),
            peer_n = peer.name(),
            from = before(conn, idx, who),
            ack = r.rel_ack,
            p_after = r.state(peer),
            w_after = r.state(who),
        )
    } else {
        let since = ack_row(conn, peer).map(|a| format!(", {} after it", gap(conn, a, idx).1)).unwrap_or_default();
        format!(
            "The {} closes its direction too{since}, having acknowledged the {}'s FIN in a separate segment: \
             the four-way close. The {} goes {} -> {}.",
            who.name(),
            peer.name(),
            who.name(),
            before(conn, idx, who),
            r.state(who)
        )
    }
}

/// A segment without SYN, FIN or RST: an ACK of a FIN, data, or a plain ACK.
fn explain_ack(conn: &Connection, idx: usize, r: &Record) -> String {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    if r.phase == Phase::AfterClose {
        return format!(
            "A segment from the {} after the close had finished (both FINs acknowledged): it changes no state.",
            who.name()
        );
    }
    if r.teardown_steps.contains(2) || r.teardown_steps.contains(4) {
        return explain_fin_ack(conn, idx, r);
    }
    if r.payload_len > 0 {
        let mut s = format!("{} bytes of data from the {} (seq={}).", r.payload_len, who.name(), r.rel_seq);
        if fin_row(conn, peer).is_some_and(|f| f < idx) {
            let _ = write!(
                s,
                " The {} has closed its direction, but the {} may still send: a half-close.",
                peer.name(),
                who.name()
            );
        }
        return s;
    }
    format!("An ACK from the {}: it acknowledges data up to ack={}.", who.name(), r.rel_ack)
}

/// An ACK of the peer's FIN, alone or after the sender's own FIN.
fn explain_fin_ack(conn: &Connection, idx: usize, r: &Record) -> String {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    let (p_before, p_after) = (before(conn, idx, peer), r.state(peer));
    let delay = fin_row(conn, peer).map(|f| gap(conn, f, idx).1).unwrap_or_default();
    if fin_row(conn, who).is_none_or(|f| f >= idx) {
        return format!(
            "The {w} acknowledges the {p}'s FIN on its own, {delay} after it: it has not closed its side yet \
             (it may still have data), so its own FIN comes in a segment of its own. The {p} goes {p_before} -> \
             {p_after}.",
            w = who.name(),
            p = peer.name()
        );
    }
    let mut s = format!(
        "The {} acknowledges the {}'s FIN: the {} goes {p_before} -> {p_after}.",
        who.name(),
        peer.name(),
        peer.name()
    );
    match (p_after, r.state(who)) {
        (TcpState::Closed, TcpState::TimeWait) => {
            let _ = write!(
                s,
                " This is the last segment of the close. The {}, which closed first, now waits in TIME-WAIT \
                 (2 x MSL; Linux: 60 s) in case this ACK is lost and the FIN comes again.",
                who.name()
            );
        }
        (TcpState::TimeWait, TcpState::TimeWait) => {
            s.push_str(" Both ends are now in TIME-WAIT: each sent a FIN that the other acknowledged.");
        }
        (TcpState::TimeWait, TcpState::Closing) => {
            let _ = write!(s, " The {} still waits in CLOSING for the ACK of its own FIN.", who.name());
        }
        _ => {}
    }
    s
}
