//! The words: a verdict on how a connection closed, and what one segment does.
//! Every sentence is built from the connection's facts (who sent which FIN
//! when, what each side had sent before, the states on the rows, the measured
//! delays), never a fixed sentence per flag, so it cannot contradict the
//! segments it explains. A cause is named only where the facts show it: a
//! timer only for an empty ACK sent after the timer's shortest delay, a full
//! accept queue (as the most likely cause) only for a segment dropped on one host. `tests/explain.rs`
//! asserts each claim on captures where it holds and where it must not be
//! made, and that every number a sentence gives is one of the connection's.

use std::fmt::Write as _;

mod calls;

use super::classify::{CloseKind, Dir, Phase, Role};
use super::connection::{Connection, IcmpNote, Record, TakenOver};
use super::segment::Timestamp;
use super::tcp::{self, TcpState};

/// Linux's shortest delayed-ACK timeout (`TCP_DELACK_MIN`, HZ/25): an ACK
/// sent alone sooner than this after what it acknowledges was not sent by
/// that timer.
pub const DELACK_MIN_MS: f64 = 40.0;

/// The first retransmission timeout (RFC 6298 §2.1: 1 s; Linux's
/// TCP_TIMEOUT_INIT): a server that keeps a half-open connection sends its
/// SYN-ACK again when it runs out.
pub const SYN_ACK_TIMEOUT_MS: f64 = 1000.0;

/// The longest an ACK may be delayed (RFC 9293 §3.8.6.3: less than 0.5 s):
/// an ACK sent alone later than this was not held back by a delayed-ACK timer.
pub const DELACK_LIMIT_MS: f64 = 500.0;

/// `The client` / `The server`.
fn cap(role: Role) -> &'static str {
    match role {
        Role::Client => "The client",
        Role::Server => "The server",
    }
}

/// `1 time` / `3 times`, `1 segment` / `2 segments`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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

/// The row of `role`'s first ACK after its peer's FIN that still expected
/// bytes sent before that FIN, when the FIN's first acknowledgment came
/// later: the FIN had come past a hole, and a FIN is processed only in
/// sequence (RFC 9293 §3.10.7.4), so `role` took it only when it
/// acknowledged it. With the sequence number that ACK expected.
fn fin_past_hole(conn: &Connection, role: Role) -> Option<(usize, u32)> {
    let f = fin_row(conn, role.peer())?;
    let fin = &conn.records[f];
    let fin_seq = fin.rel_seq.wrapping_add(fin.payload_len);
    let acked = ack_row(conn, role.peer())?;
    (f + 1..acked).find_map(|i| {
        let r = &conn.records[i];
        (r.dir.sender() == role && r.flags.ack() && r.rel_ack < fin_seq).then_some((i, r.rel_ack))
    })
}

/// The words for a FIN that came past a hole (see [`fin_past_hole`]).
fn hole_words(conn: &Connection, who: Role, hole: (usize, u32)) -> String {
    format!(
        "the FIN had come past a hole (the {w}'s ACK at {} still expected byte {}), and a FIN is processed only in \
         sequence, so it waited until the bytes before it came",
        at_words(conn, conn.records[hole.0].ts),
        hole.1,
        w = who.name()
    )
}

/// Milliseconds in words: `0.040 ms` and `1.499 ms` under ten milliseconds
/// (where a rounded whole would hide a difference), `41 ms` above.
#[must_use]
pub fn ms_words(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.3} ms") } else { format!("{ms:.0} ms") }
}

/// Milliseconds between two rows, and in words.
fn gap(conn: &Connection, from: usize, to: usize) -> (f64, String) {
    let (Some(a), Some(b)) = (conn.records.get(from), conn.records.get(to)) else {
        return (0.0, String::new());
    };
    let ms = b.ts.millis_since(a.ts);
    (ms, ms_words(ms))
}

/// Milliseconds from the connection's first segment to `ts`, in words.
fn at_words(conn: &Connection, ts: Timestamp) -> String {
    ms_words(ts.millis_since(conn.start()))
}

/// The state of `role` before row `idx` (its state before the first
/// segment for row 0).
fn before(conn: &Connection, idx: usize, role: Role) -> TcpState {
    match idx.checked_sub(1).and_then(|i| conn.records.get(i)) {
        Some(r) => r.state(role),
        None => conn.initial(role),
    }
}

/// Whether the connection's two endpoints are on one host: a segment the
/// capture shows reached its receiver, so one it did not take was dropped
/// there, not lost on the way.
fn one_host(conn: &Connection) -> bool {
    tcp::one_host(&conn.client, &conn.server)
}

/// Whether the receiver of row `idx` did not take it, as later segments
/// showed (the rows were revised): a SYN after which the server stayed in
/// LISTEN, a segment acknowledging the SYN-ACK after which it stayed in
/// SYN-RECEIVED, an ACK of a FIN after which the FIN's sender stayed in
/// LAST-ACK, CLOSING or FIN-WAIT-1.
#[must_use]
pub fn not_taken(conn: &Connection, idx: usize) -> bool {
    let Some(r) = conn.records.get(idx) else { return false };
    if r.flags.rst() || conn.close.refused {
        return false;
    }
    if r.flags.syn() && !r.flags.ack() {
        return r.dir == Dir::C2S && r.server_state == TcpState::Listen;
    }
    if r.dir == Dir::C2S
        && r.flags.ack()
        && conn.server.isn.is_some()
        && r.rel_ack >= 1
        && r.server_state == TcpState::SynReceived
    {
        return true;
    }
    let peer = r.dir.sender().peer();
    (r.teardown_steps.contains(2) || r.teardown_steps.contains(4))
        && matches!(r.state(peer), TcpState::LastAck | TcpState::Closing | TcpState::FinWait1)
        && r.state(peer) == before(conn, idx, peer)
}

/// Whether row `idx` is the ACK, after the close, that finally takes the
/// peer out of LAST-ACK or CLOSING: the answer from TIME-WAIT to a FIN
/// sent again.
pub fn answered_from_time_wait(conn: &Connection, idx: usize) -> bool {
    let Some(r) = conn.records.get(idx) else { return false };
    let peer = r.dir.sender().peer();
    r.phase == Phase::AfterClose
        && !r.flags.fin()
        && r.state(r.dir.sender()) == TcpState::TimeWait
        && matches!(before(conn, idx, peer), TcpState::LastAck | TcpState::Closing)
        && r.state(peer) != before(conn, idx, peer)
}

/// The note a row's receiver did not take it gets: `dropped` on one host
/// (no link between them loses it: the host dropped it), `lost or dropped`
/// elsewhere.
#[must_use]
pub fn not_taken_note(conn: &Connection) -> &'static str {
    if one_host(conn) { "dropped" } else { "lost or dropped" }
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

/// What the rows show of how the server took the opening.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Opening {
    /// Rows of the client's SYNs that the server did not take.
    pub syns_dropped: Vec<usize>,
    /// Rows of the client's segments acknowledging the SYN-ACK that the
    /// server did not take (it stayed in SYN-RECEIVED).
    pub acks_dropped: Vec<usize>,
    /// Rows of the server's SYN-ACKs sent again.
    pub syn_acks_again: Vec<usize>,
    /// The row of the server's first SYN-ACK.
    pub answered: Option<usize>,
    /// The row that completed the handshake.
    pub completed: Option<usize>,
    /// When the kernel moved the server's socket to ESTABLISHED.
    pub kernel: Option<Timestamp>,
}

/// The opening's facts of `conn`.
#[must_use]
pub fn opening(conn: &Connection) -> Opening {
    let mut o = Opening::default();
    for (i, r) in conn.records.iter().enumerate() {
        if r.phase == Phase::AfterClose || r.flags.rst() {
            continue;
        }
        if r.dir == Dir::S2C && r.flags.syn() && r.flags.ack() {
            if r.retransmission {
                o.syn_acks_again.push(i);
            } else if o.answered.is_none() {
                o.answered = Some(i);
            }
        }
        if r.phase == Phase::Handshake && r.step == Some(3) {
            o.completed = Some(i);
        }
        if r.dir == Dir::C2S && not_taken(conn, i) {
            if r.flags.syn() {
                o.syns_dropped.push(i);
            } else if r.server_state == TcpState::SynReceived {
                o.acks_dropped.push(i);
            }
        }
    }
    o.kernel = conn
        .kernel
        .iter()
        .find(|k| (k.side, k.from, k.to) == (Role::Server, TcpState::SynReceived, TcpState::Established))
        .map(|k| k.ts);
    o
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
    // The common case (nothing dropped, nothing sent again) says nothing more:
    // the opening's facts are gathered only when there is something to say.
    let hard = conn.handshake.syn_retransmits > 0 || conn.retransmissions > 0;
    if hard && kind != CloseKind::Refused {
        opening_words(conn, &opening(conn), s);
    }
    if let Some(t) = conn.after_time_wait {
        let _ = write!(s, " {}", reused_words(&t));
    }
    if let Some(t) = conn.time_wait_taken {
        let _ = write!(s, " {}", taken_over_words(&t));
    }
    // Segments after the close are the last rows.
    let n = conn.records.len();
    let tail = n - conn.records.iter().rev().take_while(|r| r.phase == Phase::AfterClose).count();
    let again = (tail..n).find(|&i| conn.records[i].flags.fin() && conn.records[i].retransmission);
    if let Some(fin) = again {
        fin_again_words(conn, fin, s);
    }
    let after = (tail..n).filter(|&i| Some(i) != again && !answered_from_time_wait(conn, i)).count();
    if after > 0 {
        let _ = write!(s, " {} came after the close had finished.", count(after, "segment", "segments"));
    }
    match conn.icmp.len() {
        0 => {}
        1 => {
            // An error about a segment on a row is explained with that row.
            let n = &conn.icmp[0];
            if n.row.is_some() {
                let _ = write!(
                    s,
                    " An ICMP error ({}) came back about a segment the {} sent.",
                    n.icmp.name(),
                    n.dir.sender().name()
                );
            } else {
                let _ = write!(s, " {}", icmp(conn, n));
            }
        }
        n => {
            let _ = write!(s, " {n} ICMP errors came back about the connection's segments.");
        }
    }
    calls::words(conn, s);
}

/// Why a listener on one host drops a SYN (Linux, `tcp_conn_request`):
/// either queue may be the full one; the segments do not show which.
const SYN_DROP: &str = "Linux drops a SYN while the listener's accept queue is full, and also while its SYN queue is \
                        full if net.ipv4.tcp_syncookies is 0.";

/// Why a server on one host answered none of the client's data until it came
/// again, when nothing else (a SYN-ACK again, the kernel) tells: either cause.
const UNSURE: &str = " The segments do not say whether the server had taken the client's ACK: a listener whose accept \
                      queue is full drops the ACK that would complete a connection, and the data after it (unless \
                      tcp_abort_on_overflow makes it answer with RST), and the rows show that case, SYN-RECEIVED until \
                      then; but a filter on the server's way in (a firewall's input rule) drops segments after a \
                      capture on lo saw them, and if it dropped only the data, the server was ESTABLISHED from the \
                      client's first ACK on.";

/// The accept queue is not on the wire.
const QUEUE_UNSEEN: &str =
    " A capture does not show the queue: the ListenOverflows counter (nstat) and synack's listener lane do.";

/// A segment dropped on one host: by what, most likely.
fn host_dropped(it: &str) -> String {
    format!("Both ends are on one host, so no link lost {it}: the host dropped {it}, most likely the listener.")
}

/// What the opening's facts say: SYNs the server dropped, the time it stayed
/// in SYN-RECEIVED after the client's ACK, and why, where the facts show it.
fn opening_words(conn: &Connection, o: &Opening, s: &mut String) {
    if let (Some(&first), Some(answered)) = (o.syns_dropped.first(), o.answered) {
        let n = o.syns_dropped.len();
        let (_, words) = gap(conn, first, answered);
        let which = if n == 1 { "first SYN".to_string() } else { format!("first {n} SYNs") };
        let _ =
            write!(s, " The server did not take the client's {which}: it answered only {words} after the first SYN.");
        let (it, it_cap) = if n == 1 { ("it", "It was") } else { ("them", "They were") };
        if one_host(conn) {
            let _ = write!(s, " {}", host_dropped(it));
            let _ = write!(s, " {SYN_DROP}");
        } else {
            let _ = write!(s, " {it_cap} lost on the way, or dropped by a listener whose queue was full.");
        }
    } else if conn.handshake.syn_retransmits > 0 {
        let n = conn.handshake.syn_retransmits as usize;
        let _ = write!(s, " The client sent its SYN {}: no answer had come.", count(n, "more time", "more times"));
    }
    let Some(&first) = o.acks_dropped.first() else { return };
    let n = o.acks_dropped.len();
    let which = if n == 1 { "first segment".to_string() } else { format!("first {n} segments") };
    // A server that keeps the half-open connection sends its SYN-ACK again
    // when its first retransmission timeout (1 s, RFC 6298) runs out; one
    // that did not, that long, kept nothing: it is not "in SYN-RECEIVED".
    let waited = o.answered.zip(o.completed.or(conn.records.len().checked_sub(1)));
    let cookie = waited
        .filter(|&(answered, until)| o.syn_acks_again.is_empty() && gap(conn, answered, until).0 > SYN_ACK_TIMEOUT_MS);
    // Only the client's data sent again says so (no SYN-ACK again, no kernel
    // view): on one host a filter on the server's way in also drops segments
    // after the capture saw them, so whether the server took the ACK is open.
    let unsure = one_host(conn) && o.syn_acks_again.is_empty() && o.kernel.is_none();
    if unsure && cookie.is_none() {
        let _ = write!(s, " The server answered none of the client's {which} that acknowledged its SYN-ACK");
    } else {
        let _ = write!(s, " The server did not take the client's {which} that acknowledged its SYN-ACK");
    }
    // The client's data sent again (the segment that completed the handshake
    // counts) shows that nothing had acknowledged it.
    let again = o
        .acks_dropped
        .iter()
        .chain(o.completed.iter())
        .any(|&i| conn.records[i].retransmission && conn.records[i].payload_len > 0);
    if cookie.is_none() && !unsure {
        s.push_str(": it stayed in SYN-RECEIVED");
    }
    if !o.syn_acks_again.is_empty() {
        let k = o.syn_acks_again.len();
        let _ = write!(
            s,
            " (it sent its SYN-ACK {}; only a SYN-RECEIVED endpoint does that).",
            count(k, "more time", "more times")
        );
    } else if again {
        s.push_str(" (the client sent its data again, as nothing had acknowledged it).");
    } else {
        s.push('.');
    }
    if let Some((answered, until)) = cookie {
        let _ = write!(
            s,
            " It did not send its SYN-ACK again in the {} that followed it, although a server that keeps an \
             embryonic connection (SYN-RECEIVED) does so after 1 s (the initial retransmission timeout, RFC 6298). So it kept no \
             state for this connection, as a server does when its SYN-ACK carries a SYN cookie (RFC 4987), and it \
             rebuilt the connection from the client's ACK that completed it. The rows still show SYN-RECEIVED: the \
             state RFC 9293 gives a server that has answered a SYN.",
            gap(conn, answered, until).1
        );
    }
    match o.completed {
        Some(done) if unsure => {
            let (_, words) = gap(conn, first, done);
            let _ = write!(
                s,
                " The rows take the handshake as completed at {}, {words} after the client's first ACK.",
                at_words(conn, conn.records[done].ts)
            );
        }
        Some(done) => {
            let (_, words) = gap(conn, first, done);
            let _ = write!(
                s,
                " The handshake completed {words} after the client's first ACK, at {}.",
                at_words(conn, conn.records[done].ts)
            );
        }
        None if conn.ended => s.push_str(" The handshake never completed."),
        None => s.push_str(" The handshake had not completed when the capture ended."),
    }
    if let Some(t) = o.kernel {
        let _ = write!(s, " The kernel moved the server's socket to ESTABLISHED at {}.", at_words(conn, t));
    }
    if unsure {
        s.push_str(UNSURE);
    } else if one_host(conn) {
        s.push_str(
            " Both ends are on one host, so the third ACK was dropped on the host. Most likely, on Linux, the accept \
             queue was full: a listener whose accept queue is full drops the ACK that would complete a connection, \
             unless tcp_abort_on_overflow makes it answer with RST. A firewall rule that drops these segments \
             would look the same.",
        );
        s.push_str(QUEUE_UNSEEN);
    } else {
        s.push_str(" The third ACK was lost on the way, or dropped by a server whose accept queue was full.");
    }
}

/// A connection whose SYN took over the previous one's TIME-WAIT.
fn reused_words(t: &TakenOver) -> String {
    let ms = ms_words(t.syn.millis_since(t.since));
    format!(
        "Its SYN reused the port pair of the previous connection, whose {} was still in TIME-WAIT ({ms} after it \
         entered it).",
        t.role.name()
    )
}

/// A connection whose TIME-WAIT was ended early by a new SYN: who, when,
/// and the rule that allows it.
fn taken_over_words(t: &TakenOver) -> String {
    let ms = ms_words(t.syn.millis_since(t.since));
    let role = t.role.name();
    let mut s = format!(
        "The {role}'s TIME-WAIT ended early, {ms} after it began: a new SYN on the same port pair started the next \
         connection."
    );
    if t.by_itself {
        s.push_str(&format!(
            " The {role} connected again from its own port: on Linux, a connecting socket may take over a TIME-WAIT \
             of its own (net.ipv4.tcp_tw_reuse, which applies only to the side that connects; 2, the default, \
             allows it on loopback only) when timestamps show that its segments are newer and a delay has passed \
             since the TIME-WAIT began (1 s; net.ipv4.tcp_tw_reuse_delay from Linux 6.14 on). A program that chose \
             this port with bind() also needed SO_REUSEADDR; the capture cannot show that."
        ));
    } else {
        let _ = write!(
            s,
            " RFC 9293 §3.6.1 (MAY-2) lets an endpoint in TIME-WAIT accept a new SYN if its own new initial sequence \
             number is larger than the last one it used (and go back to TIME-WAIT if the SYN turns out to be an old \
             duplicate). Linux checks the incoming SYN instead: its sequence number must be beyond the last one the \
             {role} received, or its timestamp newer (RFC 6191)."
        );
        if t.beyond {
            s.push_str(" This SYN's sequence number is beyond it.");
        } else {
            s.push_str(" This SYN's sequence number is not beyond it, so its timestamp was newer.");
        }
    }
    s
}

/// A FIN sent again after the close, and the answer from TIME-WAIT: why
/// TIME-WAIT exists.
fn fin_again_words(conn: &Connection, fin: usize, s: &mut String) {
    let who = conn.records[fin].dir.sender();
    let peer = who.peer();
    let lost = ack_row(conn, who).filter(|&l| l < fin);
    let answer = (fin + 1..conn.records.len()).find(|&i| answered_from_time_wait(conn, i));
    if let Some(l) = lost {
        let _ = write!(
            s,
            " The {peer_n}'s ACK of the {who_n}'s FIN (at {}) did not reach the {who_n}: the {who_n} sent its FIN \
             again {} later.",
            at_words(conn, conn.records[l].ts),
            gap(conn, l, fin).1,
            peer_n = peer.name(),
            who_n = who.name(),
        );
    }
    if let Some(a) = answer {
        let _ = write!(
            s,
            " The {peer_n}, in TIME-WAIT, still knew the connection and answered it with the ACK again (at {}): \
             this is one reason the side that closes first waits in TIME-WAIT instead of going to CLOSED (the other: \
             old duplicate segments die out before the port pair is used again). Had it forgotten the connection, \
             it would have answered that FIN with RST.",
            at_words(conn, conn.records[a].ts),
            peer_n = peer.name(),
        );
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

/// Why the second FIN carried the ACK of the first: the passive side closed
/// before an ACK of its own was due. With data in it: data, FIN and ACK in
/// one segment.
fn three_way(conn: &Connection, s: &mut String) {
    let a = conn.close.first_fin.unwrap_or(Role::Client);
    let b = a.peer();
    let _ = write!(s, "{} closed first.", cap(a));
    let (Some(fin), Some(second)) = (fin_row(conn, a), fin_row(conn, b)) else { return };
    let (ms, words) = gap(conn, fin, second);
    let len = conn.records[second].payload_len;
    if len > 0 {
        let _ = write!(
            s,
            " The {b_n}'s next segment, {words} later, carried its last {len} bytes, its FIN and the ACK of the \
             {a_n}'s FIN: data, FIN and ACK in one segment, so steps 2 and 3 of the four-way close shared it.",
            b_n = b.name(),
            a_n = a.name(),
        );
    } else {
        let _ = write!(
            s,
            " The {b_n}'s FIN, {words} after the {a_n}'s, also acknowledged it: steps 2 and 3 of the four-way close \
             shared one segment.",
            b_n = b.name(),
            a_n = a.name(),
        );
    }
    if ms < DELACK_MIN_MS {
        let _ = write!(
            s,
            " The {b_n}'s application closed within the delayed-ACK window: its TCP held back the ACK of the FIN \
             (Linux waits at least {DELACK_MIN_MS:.0} ms for data or a FIN to carry it), and its FIN came first.",
            b_n = b.name(),
        );
    }
}

/// How the passive side acknowledged the first FIN (alone, at once or when
/// its delayed-ACK timer fired, or riding on its data), and when its own FIN
/// followed.
fn four_way(conn: &Connection, s: &mut String) {
    let a = conn.close.first_fin.unwrap_or(Role::Client);
    let b = a.peer();
    let _ = write!(s, "{} closed first.", cap(a));
    if let (Some(fin), Some(ack)) = (fin_row(conn, a), ack_row(conn, a)) {
        let (ms, words) = gap(conn, fin, ack);
        let len = conn.records[ack].payload_len;
        if len > 0 {
            let _ = write!(
                s,
                " The {b_n} acknowledged that FIN {words} later in the segment that carried its next {len} bytes: \
                 the ACK rode on the data.",
                b_n = b.name(),
            );
        } else if let Some(hole) = fin_past_hole(conn, b) {
            let _ = write!(
                s,
                " The {} acknowledged that FIN in a segment of its own, {words} later: {}.",
                b.name(),
                hole_words(conn, b, hole)
            );
        } else if ms < 1.0 {
            let _ =
                write!(s, " The {} acknowledged that FIN at once, in a segment of its own ({words} later).", b.name());
        } else if (DELACK_MIN_MS..=DELACK_LIMIT_MS).contains(&ms) {
            let _ = write!(
                s,
                " The {b_n} acknowledged that FIN in a segment of its own, {words} later: its delayed-ACK timer fired \
                 (Linux waits at least {DELACK_MIN_MS:.0} ms), as no data came to carry the ACK.",
                b_n = b.name(),
            );
        } else {
            let _ = write!(s, " The {} acknowledged that FIN in a segment of its own, {words} later.", b.name());
        }
    }
    let later = match (fin_row(conn, a), fin_row(conn, b)) {
        (Some(x), Some(y)) => gap(conn, x, y).1,
        _ => return,
    };
    if conn.close.data_after_fin {
        let bytes: u32 = fin_row(conn, a).map_or(0, |f| {
            conn.records[f + 1..]
                .iter()
                .filter(|r| r.dir.sender() == b && !r.retransmission)
                .map(|r| r.payload_len)
                .sum()
        });
        let _ = write!(
            s,
            " It still had data to send ({bytes} bytes after the first FIN: a half-close), so its own FIN came later, \
             {later} after the first: each direction was closed separately, in four segments."
        );
    } else {
        let _ = write!(
            s,
            " Its own FIN came {later} after the first: each direction was closed separately: FIN, ACK, FIN, ACK."
        );
    }
}

/// Why both ends wait in TIME-WAIT after a simultaneous close: TIME-WAIT
/// belongs to a side that sent its FIN before it received the other's
/// (FIN-WAIT-1, never CLOSE-WAIT), not to every side whose FIN was
/// acknowledged (RFC 9293 §3.6, figure 13).
const BOTH_TIME_WAIT: &str = "Both ended in TIME-WAIT: each sent its FIN before it received the other's (FIN-WAIT-1, \
                              not CLOSE-WAIT), and a side that does that waits in TIME-WAIT.";

/// Whether each side sent its FIN before it received the other's: its close
/// went through FIN-WAIT-1 and not CLOSE-WAIT.
fn both_closed_first(conn: &Connection) -> bool {
    [Role::Client, Role::Server].into_iter().all(|role| {
        let path = close_path(conn, role);
        path.contains(&TcpState::FinWait1) && !path.contains(&TcpState::CloseWait)
    })
}

fn simultaneous(conn: &Connection, s: &mut String) {
    s.push_str("Both sides sent a FIN before they had seen the other's: the FINs crossed on the wire. ");
    for role in [Role::Client, Role::Server] {
        let _ = write!(s, "{} went {}. ", cap(role), path_words(&close_path(conn, role)));
    }
    if conn.client.state == TcpState::TimeWait && conn.server.state == TcpState::TimeWait && both_closed_first(conn) {
        s.push_str(BOTH_TIME_WAIT);
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

/// Why the RST at row `rst` (sent by `by`) came, where the facts show it:
/// data that reached `by` after its application had closed its side, either
/// acknowledged first (an open socket took it: closed with it unread) or
/// not (answered by RST at once).
fn rst_cause(conn: &Connection, rst: usize, by: Role) -> Option<String> {
    let (last, bytes, acked) = rst_data(conn, rst, by)?;
    let (by_n, peer_n) = (by.name(), by.peer().name());
    Some(match acked {
        Some(a) => format!(
            "The {by_n}'s TCP acknowledged the {peer_n}'s {bytes} bytes (at {}) after its own FIN, so its FIN was a \
             half-close (shutdown() for writing) and the socket still took data: after a full close(), Linux would \
             have answered them with RST at once. Its application closed the socket {} after they arrived, and a \
             socket closed with received data still unread sends RST, not FIN (RFC 9293 §3.6.1, SHLD-3, from RFC \
             1122 §4.2.2.13), as does one closed with SO_LINGER set to 0.",
            at_words(conn, conn.records[a].ts),
            gap(conn, last, rst).1,
        ),
        None => format!(
            "The {peer_n}'s {bytes} bytes reached the {by_n} after its application had closed its side, and nothing \
             acknowledged them: a TCP whose application has closed answers new data with RST (RFC 9293 §3.6.1, \
             SHLD-3), to show the data was lost."
        ),
    })
}

/// Why a received RST's move to CLOSED is not an arrow of figure 5: its
/// Note 3 leaves out "receipt of a RST from any state" with its move to
/// LISTEN or CLOSED.
macro_rules! note_3 {
    () => {
        "; RSTs are left out of figure 5: its Note 3)"
    };
}

/// Why a sent RST's move to CLOSED is not an arrow of figure 5, and why it
/// is not the move figure 5's Note 3 names: that note gives the RST's
/// sender "a corresponding transition to TIME-WAIT", while §3.10.5 (ABORT)
/// deletes the TCB and enters CLOSED, as Linux does.
macro_rules! note_3_sent {
    () => {
        "; RSTs are left out of figure 5. Its Note 3 moves the RST's sender to TIME-WAIT; §3.10.5 and Linux move it \
         to CLOSED)"
    };
}

/// The RST's receiver in SYN-SENT: refused (RFC 9293 §3.10.7.3).
pub const RST_IN_SYN_SENT: &str = concat!("rcv RST of our SYN / x (RFC 9293 §3.10.7.3", note_3!());
/// The RST's receiver in any other state (RFC 9293 §3.10.7.4, second check).
pub const RST_RECEIVED: &str = concat!("rcv RST / x (RFC 9293 §3.10.7.4, second check", note_3!());
/// The RST's sender, which had received no data: its application aborted
/// (RFC 9293 §3.10.5, ABORT).
pub const RST_ABORT: &str = concat!("ABORT / snd RST (RFC 9293 §3.10.5", note_3_sent!());
/// The RST's sender, which had received data: its application closed with
/// that data unread (RFC 9293 §3.6.1) or aborted (§3.10.5); the segments
/// look the same.
pub const RST_UNREAD: &str =
    concat!("CLOSE with data unread, or ABORT / snd RST (RFC 9293 §3.6.1, §3.10.5", note_3_sent!());
/// The RST's sender: data came after its application had closed.
pub const RST_DATA_AFTER_CLOSE: &str = concat!("rcv data after CLOSE / snd RST (RFC 9293 §3.6.1", note_3_sent!());

/// The label of `role`'s move to CLOSED (from `from`) on the RST at row
/// `rst`: the sender's by why it sent it, the receiver's by its state.
#[must_use]
pub fn rst_label(conn: &Connection, rst: usize, role: Role, from: TcpState) -> &'static str {
    let Some(r) = conn.records.get(rst) else { return RST_RECEIVED };
    if r.dir.sender() != role {
        return if from == TcpState::SynSent { RST_IN_SYN_SENT } else { RST_RECEIVED };
    }
    match rst_data(conn, rst, role) {
        Some((_, _, Some(_))) => RST_UNREAD,
        Some((_, _, None)) => RST_DATA_AFTER_CLOSE,
        None if received(conn, rst, role) > 0 => RST_UNREAD,
        None => RST_ABORT,
    }
}

/// The bytes of data `by` received before row `rst` (each byte once).
fn received(conn: &Connection, rst: usize, by: Role) -> u32 {
    conn.records[..rst].iter().filter(|r| r.dir.sender() == by.peer() && !r.retransmission).map(|r| r.payload_len).sum()
}

/// The data that reached `by` after its own FIN and before its RST at row
/// `rst`: its last row, its bytes, and the row where `by` acknowledged it.
fn rst_data(conn: &Connection, rst: usize, by: Role) -> Option<(usize, u32, Option<usize>)> {
    let fin = fin_row(conn, by).filter(|&f| f < rst)?;
    let data: Vec<usize> = (fin + 1..rst)
        .filter(|&i| conn.records[i].dir.sender() == by.peer() && conn.records[i].payload_len > 0)
        .collect();
    let &last = data.last()?;
    let bytes = data.iter().filter(|&&i| !conn.records[i].retransmission).map(|&i| conn.records[i].payload_len).sum();
    let end = conn.records[last].seq.plus(conn.records[last].payload_len);
    let acked = (last + 1..rst).find(|&i| {
        let a = &conn.records[i];
        a.dir.sender() == by && a.flags.ack() && a.ack.ge(end)
    });
    Some((last, bytes, acked))
}

fn reset(conn: &Connection, s: &mut String) {
    let by = conn.close.reset_by.unwrap_or(Role::Client);
    let rst = conn.records.iter().position(|r| r.flags.rst()).unwrap_or(conn.records.len());
    let facts = before_reset(conn, rst);
    if facts.is_empty() {
        let _ = write!(s, "{} sent an RST, not a FIN: no TIME-WAIT; both ends went straight to CLOSED.", cap(by));
        let got = received(conn, rst, by);
        if got > 0 {
            let _ = write!(
                s,
                " An abort sends RST (RFC 9293 §3.10.5; on Linux, close() with SO_LINGER 0), and so does a close \
                 with received data unread (§3.6.1): the {} had received {got} bytes, so both are possible.",
                by.name()
            );
        } else {
            let _ = write!(
                s,
                " The {} had received no data, so none was left unread: its application aborted (RFC 9293 §3.10.5; \
                 on Linux, close() with SO_LINGER 0).",
                by.name()
            );
        }
        return;
    }
    let _ = write!(s, "Before the RST, {}. Then the {} sent an RST.", facts.join("; "), by.name());
    if let Some(cause) = rst_cause(conn, rst, by) {
        let _ = write!(s, " {cause}");
    }
    s.push_str(" Both ends went to CLOSED at once: no TIME-WAIT.");
}

fn refused(conn: &Connection, s: &mut String) {
    s.push_str("The SYN was answered by RST-ACK");
    if let Some(r) = conn.records.iter().find(|r| r.flags.rst()) {
        let _ = write!(s, " (seq={}, ack={}", r.rel_seq, r.rel_ack);
        if r.flags.ack() && r.rel_ack == 1 {
            s.push_str(": it acknowledges the SYN");
        }
        s.push(')');
    }
    s.push_str(
        ", so there was no handshake and no connection: the server side was CLOSED throughout. Most likely nothing \
         listened on the server's port (a firewall rule that rejects with RST sends the same).",
    );
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
    let mut s = if r.phase == Phase::Handshake && r.step == Some(3) {
        explain_handshake(conn, idx, r)
    } else if not_taken(conn, idx) {
        explain_not_taken(conn, idx, r)
    } else if r.retransmission {
        explain_retransmission(conn, idx, r)
    } else if r.flags.rst() {
        explain_rst(conn, idx, r)
    } else if r.flags.syn() {
        explain_handshake(conn, idx, r)
    } else if r.flags.fin() {
        explain_fin(conn, idx, r)
    } else {
        explain_ack(conn, idx, r)
    };
    if r.step == Some(1)
        && r.phase == Phase::Handshake
        && let Some(t) = conn.after_time_wait
    {
        let _ = write!(s, " {}", reused_words(&t));
    }
    s
}

/// What the sender of row `r` sends, in sequence numbers: `bytes 1 to 10 of
/// its stream (seq=1, len=10)`.
fn bytes_words(r: &Record) -> String {
    let last = u64::from(r.rel_seq) + u64::from(r.payload_len) - 1;
    format!(
        "{} bytes, bytes {} to {last} of its stream (seq={}, len={})",
        r.payload_len, r.rel_seq, r.rel_seq, r.payload_len
    )
}

/// The row after `idx` that shows a segment was not taken: the server's
/// SYN-ACK sent again, or the client's data (or FIN) sent again.
fn evidence(conn: &Connection, idx: usize) -> Option<usize> {
    (idx + 1..conn.records.len()).find(|&i| {
        let e = &conn.records[i];
        e.retransmission
            && ((e.dir == Dir::S2C && e.flags.syn() && e.flags.ack())
                || (e.dir == Dir::C2S && (e.payload_len > 0 || e.flags.fin())))
    })
}

/// A segment its receiver did not take, as later segments showed.
fn explain_not_taken(conn: &Connection, idx: usize, r: &Record) -> String {
    let o = opening(conn);
    if r.flags.syn() {
        let mut s = if r.retransmission {
            "The client sends its SYN again: no answer had come.".to_string()
        } else {
            "Handshake step 1: the client asks to open a connection and announces its initial sequence number \
             (shown as 0). A SYN takes one sequence number."
                .to_string()
        };
        let next =
            (idx + 1..conn.records.len()).find(|&i| conn.records[i].dir == Dir::C2S && conn.records[i].flags.syn());
        if let Some(n) = next {
            let _ = write!(
                s,
                " The server did not take this SYN: it answered nothing, and the client sent it again {} later, so the \
                 server stayed in LISTEN.",
                gap(conn, idx, n).1
            );
        }
        if one_host(conn) {
            let _ = write!(s, " {} {SYN_DROP}", host_dropped("it"));
        }
        return s;
    }
    if r.teardown_steps.contains(2) || r.teardown_steps.contains(4) {
        let peer = r.dir.sender().peer();
        let mut s = format!(
            "The {} acknowledges the {}'s FIN (ack={}), but this ACK did not reach the {}: it stayed in {}, as the FIN \
             it sent again shows.",
            r.dir.sender().name(),
            peer.name(),
            r.rel_ack,
            peer.name(),
            r.state(peer)
        );
        if one_host(conn) {
            s.push_str(
                " Both ends are on one host, so it was dropped on the host, not lost on a link: by a firewall rule, \
                 for instance.",
            );
        }
        return s;
    }
    let mut s = if r.payload_len > 0 {
        format!(
            "The client sends {}{}, and with them acknowledges the server's SYN-ACK (ack={}).",
            bytes_words(r),
            if r.retransmission { " again" } else { "" },
            r.rel_ack
        )
    } else {
        format!("The client acknowledges the server's SYN-ACK (ack={}).", r.rel_ack)
    };
    let data_again = evidence(conn, idx).filter(|&e| conn.records[e].dir == Dir::C2S);
    if let (None, Some(e), true) = (o.kernel, data_again, one_host(conn) && o.syn_acks_again.is_empty()) {
        // Only the data sent again tells, and on one host a filter may drop
        // segments after the capture saw them: both cases are said.
        let _ = write!(
            s,
            " The server answered nothing: the client's data came again {} later with no answer. The rows take it \
             that the server did not take this segment and was still SYN-RECEIVED (a listener whose accept queue is \
             full drops it); or a filter on the server's way in dropped only the data, after the capture saw it. The \
             segments do not tell which.",
            gap(conn, idx, e).1
        );
        return s;
    }
    s.push_str(" The server did not take this segment: it was still SYN-RECEIVED");
    match (o.kernel, evidence(conn, idx)) {
        (Some(t), _) => {
            let _ = write!(
                s,
                ", as the kernel shows: it moved the server's socket to ESTABLISHED only at {}.",
                at_words(conn, t)
            );
        }
        (None, Some(e)) if conn.records[e].dir == Dir::S2C => {
            let _ = write!(
                s,
                ", as its SYN-ACK sent again {} later shows (only a SYN-RECEIVED endpoint sends that).",
                gap(conn, idx, e).1
            );
        }
        (None, Some(e)) => {
            let _ = write!(s, ", as the client's data sent again {} later with no answer shows.", gap(conn, idx, e).1);
        }
        (None, None) => s.push('.'),
    }
    if one_host(conn) {
        s.push_str(
            " Both ends are on one host, so it was dropped on the host: most likely, the accept queue was full.",
        );
        s.push_str(QUEUE_UNSEEN);
    } else {
        s.push_str(" It was lost on the way, or dropped by a server whose accept queue was full.");
    }
    s
}

fn explain_retransmission(conn: &Connection, idx: usize, r: &Record) -> String {
    let who = r.dir.sender();
    if r.flags.syn() && r.flags.ack() {
        return format!(
            "The server sends its SYN-ACK again: it is still in SYN-RECEIVED, so no segment of the client's that \
             acknowledged the first one has been taken{}. Only an endpoint in SYN-RECEIVED sends its SYN-ACK again.",
            if opening(conn).acks_dropped.is_empty() {
                String::new()
            } else {
                format!(" (they were {})", not_taken_note(conn))
            }
        );
    }
    if r.flags.fin() && r.phase == Phase::AfterClose {
        let peer = who.peer();
        let lost = ack_row(conn, who).filter(|&l| l < idx);
        let mut s = format!(
            "The {} sends its FIN again: the ACK of it never reached it{}, so it is still in {}.",
            who.name(),
            lost.map(|l| format!(" (the {}'s ACK at row {})", peer.name(), l + 1)).unwrap_or_default(),
            r.state(who)
        );
        let _ = write!(
            s,
            " The {} is in TIME-WAIT and still knows the connection: it will answer with the ACK again. That is what \
             TIME-WAIT is for: a side that had gone to CLOSED would answer this FIN with RST.",
            peer.name()
        );
        return s;
    }
    if r.flags.syn() && r.dir == Dir::C2S && r.server_state == TcpState::SynReceived {
        return "The client sends its SYN again (a retransmission): no answer had come. The server takes this one: it \
                is in SYN-RECEIVED from now on, and answers from there."
            .to_string();
    }
    let mut s = format!("The {} sends this sequence range again: a retransmission.", who.name());
    if r.payload_len > 0 {
        let _ = write!(s, " It carries {}.", bytes_words(r));
    }
    s.push_str(" It does not count as a new step.");
    s
}

/// An RST: a refusal, an abortive close, or one after the close.
fn explain_rst(conn: &Connection, idx: usize, r: &Record) -> String {
    let who = r.dir.sender().name();
    if conn.close.refused {
        "RST-ACK in answer to a SYN: the connection is refused. Most likely nothing listens on that port (a \
         firewall rule that rejects with RST sends the same). There was never a handshake."
            .to_string()
    } else if r.phase == Phase::AfterClose {
        format!(
            "An RST from the {who} after the close had finished: the connection was already over, so it changes \
             nothing but the socket that receives it."
        )
    } else if conn.close.first_fin.is_some() {
        let mut s = format!(
            "RST from the {who}: it ends the connection in the middle of its close. Both ends drop it at once \
             (CLOSED): no TIME-WAIT."
        );
        if let Some(cause) = rst_cause(conn, idx, r.dir.sender()) {
            let _ = write!(s, " {cause}");
        }
        s
    } else {
        format!(
            "RST from the {who}: an abortive close. Both ends drop the connection at once (CLOSED), \
             without FINs and without TIME-WAIT."
        )
    }
}

/// A segment of the three-way handshake.
fn explain_handshake(conn: &Connection, idx: usize, r: &Record) -> String {
    let who = r.dir.sender();
    if r.flags.syn() && !r.flags.ack() {
        let mut s = format!(
            "Handshake step 1: the {} asks to open a connection and announces its initial sequence number \
             (shown as 0). A SYN takes one sequence number.",
            who.name()
        );
        if conn.close.refused {
            s.push_str(" The answer will be an RST: most likely nothing listens on the server's port.");
        } else if r.state(who.peer()) == TcpState::SynReceived {
            let _ = write!(
                s,
                " The {} takes it as it arrives: it is in SYN-RECEIVED from now on, and answers from there.",
                who.peer().name()
            );
        }
        if r.retransmission {
            s.push_str(
                " This SYN is the client's earlier one sent again (a retransmission): the server took this one.",
            );
        }
        s
    } else if r.flags.syn() {
        format!(
            "Handshake step 2: the {} acknowledges the SYN (ack=1) and sends its own SYN in the same \
             segment. That is why opening takes three segments, not four: the server has nothing to wait for.",
            who.name()
        )
    } else {
        let o = opening(conn);
        let unsure = one_host(conn) && o.syn_acks_again.is_empty() && o.kernel.is_none();
        let mut s = if r.retransmission
            && r.payload_len > 0
            && unsure
            && o.acks_dropped.first().is_some_and(|&f| f < idx)
        {
            format!(
                "Handshake step 3, as the rows take it: the client sends {} again, and this time the server takes \
                 them (ack={}).",
                bytes_words(r),
                r.rel_ack
            )
        } else if r.retransmission && r.payload_len > 0 {
            format!(
                "Handshake step 3: the client sends {} again, and this time the server takes them, and with them the \
                 ACK of its SYN-ACK (ack={}).",
                bytes_words(r),
                r.rel_ack
            )
        } else {
            format!("Handshake step 3: the client acknowledges the server's SYN (ack={}).", r.rel_ack)
        };
        s.push_str(" Both sides now know each other's sequence numbers: ESTABLISHED.");
        if let Some(&first) = o.acks_dropped.first().filter(|&&f| f < idx) {
            let n = count(o.acks_dropped.iter().filter(|&&d| d < idx).count(), "segment", "segments");
            let since = gap(conn, first, idx).1;
            if unsure {
                let _ = write!(
                    s,
                    " The server had answered none of the client's {n} before it, the first {since} earlier (whether it \
                     had taken the ACK, the segments do not tell)."
                );
            } else {
                let _ = write!(
                    s,
                    " The server had not taken the client's {n} before it: it stayed in SYN-RECEIVED {since} after the first."
                );
            }
        }
        if let Some(t) = o.kernel {
            let _ = write!(s, " The kernel moved the server's socket to ESTABLISHED at {}.", at_words(conn, t));
        }
        s
    }
}

/// A FIN: the first, the one that carries the ACK of the first, one that
/// crossed the other, or the second of a four-way close.
fn explain_fin(conn: &Connection, idx: usize, r: &Record) -> String {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    let s = r.teardown_steps;
    let fin_seq = u64::from(r.rel_seq) + u64::from(r.payload_len);
    if s.contains(1) && conn.close.simultaneous {
        format!(
            "The {} closes its direction (FIN). The {} sends its own FIN before this one reaches it: \
             the two FINs cross on the wire (a simultaneous close).",
            who.name(),
            peer.name()
        )
    } else if s.contains(1) {
        format!(
            "The {} has nothing more to send and closes its direction (FIN, seq={fin_seq}). A FIN takes one sequence \
             number: its ACK will say ack={}. The {} may still send data: closing is done per direction, which is why \
             it can take four segments.",
            who.name(),
            fin_seq + 1,
            peer.name()
        )
    } else if s.contains(2) {
        let since = fin_row(conn, peer).map(|f| gap(conn, f, idx)).unwrap_or_default();
        let mut t = if r.payload_len > 0 {
            format!(
                "This segment carries the {w}'s last {} bytes, its FIN and the ACK of the {p}'s FIN (ack={}): data, \
                 FIN and ACK in one segment, so the close takes three segments.",
                r.payload_len,
                r.rel_ack,
                w = who.name(),
                p = peer.name()
            )
        } else {
            format!(
                "This FIN-ACK carries the ACK of the {}'s FIN (ack={}), so the close takes three segments: the {}'s \
                 ACK and its FIN travel together.",
                peer.name(),
                r.rel_ack,
                who.name()
            )
        };
        if since.0 < DELACK_MIN_MS {
            let _ = write!(
                t,
                " The {}'s application closed {} after the {}'s FIN arrived, before the ACK it held back was due (Linux \
                 delays the ACK of a FIN by at least {DELACK_MIN_MS:.0} ms).",
                who.name(),
                since.1,
                peer.name()
            );
        }
        t
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
        let since = ack_row(conn, peer)
            .map(|a| format!(", {} after the segment that acknowledged the {}'s FIN", gap(conn, a, idx).1, peer.name()))
            .unwrap_or_default();
        format!(
            "The {} closes its direction too{since}: its ACK and its FIN left apart, the four-way close. The {} \
             goes {} -> {}.",
            who.name(),
            who.name(),
            before(conn, idx, who),
            r.state(who)
        )
    }
}

/// A segment without SYN, FIN or RST: an ACK of a FIN, data, or a plain ACK.
fn explain_ack(conn: &Connection, idx: usize, r: &Record) -> String {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    if answered_from_time_wait(conn, idx) {
        return format!(
            "The {w} answers the {p}'s FIN again from TIME-WAIT, with the ACK the {p} missed (ack={}): the {p} goes \
             {} -> {}, and the {w} starts its 2 x MSL wait again (RFC 9293 §3.10.7.4). This is what TIME-WAIT is \
             for.",
            r.rel_ack,
            before(conn, idx, peer),
            r.state(peer),
            w = who.name(),
            p = peer.name()
        );
    }
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
        let next = u64::from(r.rel_seq) + u64::from(r.payload_len);
        let mut s = format!("The {} sends {}.", who.name(), bytes_words(r));
        let acked = (idx + 1..conn.records.len()).find(|&i| {
            let a = &conn.records[i];
            a.dir.sender() == peer && a.flags.ack() && u64::from(a.rel_ack) >= next
        });
        if let Some(a) = acked {
            let ack = conn.records[a].rel_ack;
            if u64::from(ack) == next {
                let _ = write!(
                    s,
                    " The {} acknowledges them with ack={ack} (row {}): ack = seq + len, the next byte it expects.",
                    peer.name(),
                    a + 1
                );
            } else {
                let _ = write!(
                    s,
                    " The {} acknowledges them with ack={ack} (row {}), past seq + len = {next}: that ACK covers what \
                     followed them too.",
                    peer.name(),
                    a + 1
                );
            }
        }
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
    // Which of the peer's data this ACK covers: the segment it completes.
    let covers = conn.records[..idx].iter().rposition(|d| {
        d.dir.sender() == peer
            && d.payload_len > 0
            && u64::from(d.rel_seq) + u64::from(d.payload_len) == u64::from(r.rel_ack)
    });
    match covers {
        Some(d) => {
            let data = &conn.records[d];
            format!(
                "An ACK from the {}: ack={} = {} + {} (the seq and len of the {}'s data at row {}), the next byte it \
                 expects: it has bytes up to {}.",
                who.name(),
                r.rel_ack,
                data.rel_seq,
                data.payload_len,
                peer.name(),
                d + 1,
                r.rel_ack.saturating_sub(1)
            )
        }
        None => format!("An ACK from the {}: ack={}, the next byte it expects.", who.name(), r.rel_ack),
    }
}

/// An ACK of the peer's FIN: alone, riding on data, or after the sender's
/// own FIN.
fn explain_fin_ack(conn: &Connection, idx: usize, r: &Record) -> String {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    let (p_before, p_after) = (before(conn, idx, peer), r.state(peer));
    let (ms, delay) = fin_row(conn, peer).map(|f| gap(conn, f, idx)).unwrap_or_default();
    if fin_row(conn, who).is_none_or(|f| f >= idx) {
        if r.payload_len > 0 {
            return format!(
                "The {w} sends {}, and with them acknowledges the {p}'s FIN (ack={}), {delay} after it: the ACK rides \
                 on the data. The {w} has not closed its side: a half-close. The {p} goes {p_before} -> {p_after}.",
                bytes_words(r),
                r.rel_ack,
                w = who.name(),
                p = peer.name()
            );
        }
        let mut s = format!(
            "The {w} acknowledges the {p}'s FIN on its own (ack={}), {delay} after it: it has not closed its side yet \
             (it may still have data), so its own FIN comes in a segment of its own. The {p} goes {p_before} -> \
             {p_after}.",
            r.rel_ack,
            w = who.name(),
            p = peer.name()
        );
        if let Some(hole) = fin_past_hole(conn, who) {
            let _ = write!(s, " The {} enters CLOSE-WAIT only now: {}.", who.name(), hole_words(conn, who, hole));
        } else if (DELACK_MIN_MS..=DELACK_LIMIT_MS).contains(&ms) {
            let _ = write!(
                s,
                " This ACK went out when the {}'s delayed-ACK timer fired (Linux waits at least {DELACK_MIN_MS:.0} ms).",
                who.name()
            );
        }
        return s;
    }
    let mut s = format!(
        "The {} acknowledges the {}'s FIN (ack={}): the {} goes {p_before} -> {p_after}.",
        who.name(),
        peer.name(),
        r.rel_ack,
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
        (TcpState::TimeWait, TcpState::TimeWait) if both_closed_first(conn) => {
            let _ = write!(s, " {}", BOTH_TIME_WAIT.replacen("Both ended", "Both ends are now", 1));
        }
        (TcpState::TimeWait, TcpState::Closing) => {
            let _ = write!(s, " The {} still waits in CLOSING for the ACK of its own FIN.", who.name());
        }
        _ => {}
    }
    s
}
