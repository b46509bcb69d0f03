//! The words: a verdict on how a connection closed, and what one segment does.
//! Every sentence is built from the connection's facts (who sent which FIN
//! when, what each side had sent before, the states on the rows, the measured
//! delays), never a fixed sentence per flag, so it cannot contradict the
//! segments it explains. A cause is named only where the facts show it: a
//! timer only for an empty ACK sent after the timer's shortest delay, a full
//! accept queue (as the most likely cause) only for a segment dropped on one host. `tests/explain.rs`
//! asserts each claim on captures where it holds and where it must not be
//! made, and that every number a sentence gives is one of the connection's.

mod calls;

use super::classify::{CloseKind, Dir, Phase, Role};
use super::connection::{Connection, IcmpNote, Record, TakenOver};
use super::segment::{Icmp, Timestamp};
use super::tcp::{self, TcpState};
use crate::i18n::{self, Lang, Said};
use crate::said;

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

/// The words for a FIN that came past a hole (see [`fin_past_hole`]): a
/// clause, not a sentence.
fn hole_words(conn: &Connection, who: Role, hole: (usize, u32)) -> Said {
    said!("explain-hole", who = who.name(), at = at_ms(conn, conn.records[hole.0].ts), byte = hole.1)
}

/// Milliseconds in words: `0.040 ms` and `1.499 ms` under ten milliseconds
/// (where a rounded whole would hide a difference), `41 ms` above.
#[must_use]
pub fn ms_words(ms: f64) -> String {
    format!("{} ms", ms_num(ms))
}

/// The number of [`ms_words`] without its unit (`0.040`, `41`): the
/// messages put the unit.
#[must_use]
pub fn ms_num(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.3}") } else { format!("{ms:.0}") }
}

/// [`DELACK_MIN_MS`] as the whole number the sentences give.
fn delack_min() -> u32 {
    // 40: a small whole number of milliseconds.
    DELACK_MIN_MS as u32
}

/// Milliseconds between two rows, and as [`ms_num`] gives them.
fn gap_ms(conn: &Connection, from: usize, to: usize) -> (f64, String) {
    let (Some(a), Some(b)) = (conn.records.get(from), conn.records.get(to)) else {
        return (0.0, String::new());
    };
    let ms = b.ts.millis_since(a.ts);
    (ms, ms_num(ms))
}

/// Milliseconds from the connection's first segment to `ts`, as [`ms_num`]
/// gives them.
fn at_ms(conn: &Connection, ts: Timestamp) -> String {
    ms_num(ts.millis_since(conn.start()))
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

/// One paragraph in plain words, in this thread's language
/// ([`i18n::current`]): what kind of close this was and why it took the
/// segments it took.
#[must_use]
pub fn verdict(conn: &Connection) -> String {
    verdict_in(conn, i18n::current())
}

/// [`verdict`] in `lang`.
#[must_use]
pub fn verdict_in(conn: &Connection, lang: Lang) -> String {
    i18n::sentences(lang, &verdict_parts(conn))
}

/// The last verdict this thread rendered: its language, its parts and its
/// words. Most connections of a capture say the same (their numbers apart),
/// and a verdict whose parts are the ones before is not rendered again.
struct LastVerdict {
    lang: Lang,
    parts: Vec<Said>,
    text: String,
}

thread_local! {
    static LAST: std::cell::RefCell<Option<LastVerdict>> = const { std::cell::RefCell::new(None) };
}

/// [`verdict`], appended to `s` (a buffer used again for every connection).
pub fn verdict_into(conn: &Connection, s: &mut String) {
    let lang = i18n::current();
    let parts = verdict_parts(conn);
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match last.as_mut() {
            Some(l) if l.lang == lang && l.parts == parts => {}
            Some(l) => {
                l.text.clear();
                l.text.push_str(&i18n::sentences(lang, &parts));
                l.lang = lang;
                l.parts = parts;
            }
            None => {
                let text = i18n::sentences(lang, &parts);
                *last = Some(LastVerdict { lang, parts, text });
            }
        }
        if let Some(l) = last.as_ref() {
            s.push_str(&l.text);
        }
    });
}

/// The verdict's sentences, not yet in a language: the close's kind, then
/// what the facts say of it, one [`Said`] a sentence (or a few that go
/// together).
#[must_use]
pub fn verdict_parts(conn: &Connection) -> Vec<Said> {
    let mut s = Vec::new();
    let kind = conn.close_kind();
    s.push(said!("explain-close-kind", kind = kind.name()));
    match kind {
        CloseKind::ThreeWay => three_way(conn, &mut s),
        CloseKind::FourWay => four_way(conn, &mut s),
        CloseKind::Simultaneous => simultaneous(conn, &mut s),
        CloseKind::Reset => reset(conn, &mut s),
        CloseKind::Refused => refused(conn, &mut s),
        CloseKind::BeforeCapture => joined_late(conn, &mut s),
        CloseKind::Open if conn.joined_late.is_some() => joined_late(conn, &mut s),
        CloseKind::Open => s.push(match conn.close.first_fin {
            Some(a) => said!("explain-open-fin", who = a.name()),
            None => said!("explain-open"),
        }),
    }
    if conn.close.data_after_fin && !matches!(kind, CloseKind::FourWay | CloseKind::Reset) {
        s.push(said!("explain-data-after-fin"));
    }
    // The common case (nothing dropped, nothing sent again) says nothing more:
    // the opening's facts are gathered only when there is something to say.
    let hard = conn.handshake.syn_retransmits > 0 || conn.retransmissions > 0;
    if hard && kind != CloseKind::Refused {
        opening_words(conn, &opening(conn), &mut s);
    }
    if let Some(t) = conn.after_time_wait {
        s.push(reused_words(&t));
    }
    if let Some(t) = conn.time_wait_taken {
        taken_over_words(&t, &mut s);
    }
    // Segments after the close are the last rows.
    let n = conn.records.len();
    let tail = n - conn.records.iter().rev().take_while(|r| r.phase == Phase::AfterClose).count();
    let again = (tail..n).find(|&i| conn.records[i].flags.fin() && conn.records[i].retransmission);
    if let Some(fin) = again {
        fin_again_words(conn, fin, &mut s);
    }
    let after = (tail..n).filter(|&i| Some(i) != again && !answered_from_time_wait(conn, i)).count();
    if after > 0 {
        s.push(said!("explain-after-close", n = after));
    }
    match conn.icmp.len() {
        0 => {}
        1 => {
            // An error about a segment on a row is explained with that row.
            let n = &conn.icmp[0];
            if n.row.is_some() {
                s.push(said!("explain-icmp-one", icmp = icmp_key(&n.icmp), who = n.dir.sender().name()));
            } else {
                s.push(icmp_said(conn, n));
            }
        }
        n => s.push(said!("explain-icmp-many", n = n)),
    }
    calls::words(conn, &mut s);
    s
}

/// What the opening's facts say: SYNs the server dropped, the time it stayed
/// in SYN-RECEIVED after the client's ACK, and why, where the facts show it.
fn opening_words(conn: &Connection, o: &Opening, s: &mut Vec<Said>) {
    if let (Some(&first), Some(answered)) = (o.syns_dropped.first(), o.answered) {
        let n = o.syns_dropped.len();
        s.push(said!("explain-syns-dropped", n = n, ms = gap_ms(conn, first, answered).1));
        if one_host(conn) {
            s.push(said!("explain-host-dropped", n = n));
            s.push(said!("explain-syn-drop"));
        } else {
            s.push(said!("explain-syns-lost", n = n));
        }
    } else if conn.handshake.syn_retransmits > 0 {
        s.push(said!("explain-syn-again", n = conn.handshake.syn_retransmits));
    }
    let Some(&first) = o.acks_dropped.first() else { return };
    let n = o.acks_dropped.len();
    // A server that keeps the half-open connection sends its SYN-ACK again
    // when its first retransmission timeout (1 s, RFC 6298) runs out; one
    // that did not, that long, kept nothing: it is not "in SYN-RECEIVED".
    let waited = o.answered.zip(o.completed.or(conn.records.len().checked_sub(1)));
    let cookie = waited.filter(|&(answered, until)| {
        o.syn_acks_again.is_empty() && gap_ms(conn, answered, until).0 > SYN_ACK_TIMEOUT_MS
    });
    // Only the client's data sent again says so (no SYN-ACK again, no kernel
    // view): on one host a filter on the server's way in also drops segments
    // after the capture saw them, so whether the server took the ACK is open.
    let unsure = one_host(conn) && o.syn_acks_again.is_empty() && o.kernel.is_none();
    // The client's data sent again (the segment that completed the handshake
    // counts) shows that nothing had acknowledged it.
    let again = o
        .acks_dropped
        .iter()
        .chain(o.completed.iter())
        .any(|&i| conn.records[i].retransmission && conn.records[i].payload_len > 0);
    let why = if !o.syn_acks_again.is_empty() {
        "syn-ack"
    } else if again {
        "data"
    } else {
        "none"
    };
    s.push(said!(
        "explain-acks-dropped",
        n = n,
        answered = if unsure && cookie.is_none() { "none" } else { "not-taken" },
        stayed = if cookie.is_none() && !unsure { "yes" } else { "no" },
        why = why,
        k = o.syn_acks_again.len(),
    ));
    if let Some((answered, until)) = cookie {
        s.push(said!("explain-syn-cookie", ms = gap_ms(conn, answered, until).1));
    }
    s.push(match o.completed {
        Some(done) if unsure => said!(
            "explain-completed-as-taken",
            at = at_ms(conn, conn.records[done].ts),
            ms = gap_ms(conn, first, done).1
        ),
        Some(done) => {
            said!("explain-completed", ms = gap_ms(conn, first, done).1, at = at_ms(conn, conn.records[done].ts))
        }
        None if conn.ended => said!("explain-never-completed"),
        None => said!("explain-not-completed"),
    });
    if let Some(t) = o.kernel {
        s.push(said!("explain-kernel-established", at = at_ms(conn, t)));
    }
    if unsure {
        s.push(said!("explain-unsure"));
    } else if one_host(conn) {
        s.push(said!("explain-third-ack-dropped"));
        s.push(said!("explain-queue-unseen"));
    } else {
        s.push(said!("explain-third-ack-lost"));
    }
}

/// A connection whose SYN took over the previous one's TIME-WAIT.
fn reused_words(t: &TakenOver) -> Said {
    said!("explain-reused", who = t.role.name(), ms = ms_num(t.syn.millis_since(t.since)))
}

/// A connection whose TIME-WAIT was ended early by a new SYN: who, when,
/// and the rule that allows it.
fn taken_over_words(t: &TakenOver, s: &mut Vec<Said>) {
    let who = t.role.name();
    s.push(said!("explain-taken-over", who = who, ms = ms_num(t.syn.millis_since(t.since))));
    if t.by_itself {
        s.push(said!("explain-tw-reuse", who = who));
    } else {
        s.push(said!("explain-tw-rule", who = who));
        s.push(if t.beyond { said!("explain-tw-beyond") } else { said!("explain-tw-newer") });
    }
}

/// A FIN sent again after the close, and the answer from TIME-WAIT: why
/// TIME-WAIT exists.
fn fin_again_words(conn: &Connection, fin: usize, s: &mut Vec<Said>) {
    let who = conn.records[fin].dir.sender();
    let peer = who.peer();
    let lost = ack_row(conn, who).filter(|&l| l < fin);
    let answer = (fin + 1..conn.records.len()).find(|&i| answered_from_time_wait(conn, i));
    if let Some(l) = lost {
        s.push(said!(
            "explain-last-ack-lost",
            who = who.name(),
            peer = peer.name(),
            at = at_ms(conn, conn.records[l].ts),
            ms = gap_ms(conn, l, fin).1,
        ));
    }
    if let Some(a) = answer {
        s.push(said!("explain-time-wait-answer", peer = peer.name(), at = at_ms(conn, conn.records[a].ts)));
    }
}

/// A connection the capture joined during its close: what the kernel listed
/// then, and how it ended on the wire.
fn joined_late(conn: &Connection, s: &mut Vec<Said>) {
    let Some((c, sv)) = conn.joined_late else { return };
    s.push(said!("explain-joined-late", client = c.name(), server = sv.name()));
    let (cn, sn) = (conn.client.state, conn.server.state);
    let done = |st: TcpState| matches!(st, TcpState::Closed | TcpState::TimeWait);
    let finished = if done(cn) && done(sn) { "yes" } else { "no" };
    s.push(said!("explain-joined-late-end", finished = finished, client = cn.name(), server = sn.name()));
}

/// Why the second FIN carried the ACK of the first: the passive side closed
/// before an ACK of its own was due. With data in it: data, FIN and ACK in
/// one segment.
fn three_way(conn: &Connection, s: &mut Vec<Said>) {
    let a = conn.close.first_fin.unwrap_or(Role::Client);
    let b = a.peer();
    s.push(said!("explain-closed-first", who = a.name()));
    let (Some(fin), Some(second)) = (fin_row(conn, a), fin_row(conn, b)) else { return };
    let (ms, words) = gap_ms(conn, fin, second);
    let len = conn.records[second].payload_len;
    if len > 0 {
        s.push(said!("explain-three-way-data", who = b.name(), peer = a.name(), ms = words, len = len));
    } else {
        s.push(said!("explain-three-way-fin", who = b.name(), peer = a.name(), ms = words));
    }
    if ms < DELACK_MIN_MS {
        s.push(said!("explain-three-way-delack", who = b.name(), delack = delack_min()));
    }
}

/// How the passive side acknowledged the first FIN (alone, at once or when
/// its delayed-ACK timer fired, or riding on its data), and when its own FIN
/// followed.
fn four_way(conn: &Connection, s: &mut Vec<Said>) {
    let a = conn.close.first_fin.unwrap_or(Role::Client);
    let b = a.peer();
    s.push(said!("explain-closed-first", who = a.name()));
    if let (Some(fin), Some(ack)) = (fin_row(conn, a), ack_row(conn, a)) {
        let (ms, words) = gap_ms(conn, fin, ack);
        let len = conn.records[ack].payload_len;
        s.push(if len > 0 {
            said!("explain-fin-acked-with-data", who = b.name(), peer = a.name(), ms = words, len = len)
        } else if let Some(hole) = fin_past_hole(conn, b) {
            said!(
                "explain-fin-acked-hole",
                who = b.name(),
                peer = a.name(),
                ms = words,
                hole = hole_words(conn, b, hole)
            )
        } else if ms < 1.0 {
            said!("explain-fin-acked-at-once", who = b.name(), peer = a.name(), ms = words)
        } else if (DELACK_MIN_MS..=DELACK_LIMIT_MS).contains(&ms) {
            said!("explain-fin-acked-delack", who = b.name(), peer = a.name(), ms = words, delack = delack_min())
        } else {
            said!("explain-fin-acked-alone", who = b.name(), peer = a.name(), ms = words)
        });
    }
    let later = match (fin_row(conn, a), fin_row(conn, b)) {
        (Some(x), Some(y)) => gap_ms(conn, x, y).1,
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
        s.push(said!("explain-second-fin-half-close", who = b.name(), bytes = bytes, ms = later));
    } else {
        s.push(said!("explain-second-fin", who = b.name(), ms = later));
    }
}

/// Whether each side sent its FIN before it received the other's: its close
/// went through FIN-WAIT-1 and not CLOSE-WAIT.
fn both_closed_first(conn: &Connection) -> bool {
    [Role::Client, Role::Server].into_iter().all(|role| {
        let path = close_path(conn, role);
        path.contains(&TcpState::FinWait1) && !path.contains(&TcpState::CloseWait)
    })
}

/// Why both ends wait in TIME-WAIT after a simultaneous close: TIME-WAIT
/// belongs to a side that sent its FIN before it received the other's
/// (FIN-WAIT-1, never CLOSE-WAIT), not to every side whose FIN was
/// acknowledged (RFC 9293 §3.6, figure 13).
fn simultaneous(conn: &Connection, s: &mut Vec<Said>) {
    s.push(said!("explain-fins-crossed"));
    let (client, server) = (path_words(&close_path(conn, Role::Client)), path_words(&close_path(conn, Role::Server)));
    let same = if client == server { "yes" } else { "no" };
    s.push(said!("explain-went", client = client, server = server, same = same));
    if conn.client.state == TcpState::TimeWait && conn.server.state == TcpState::TimeWait && both_closed_first(conn) {
        s.push(said!("explain-both-time-wait"));
    }
}

/// What happened before an RST: FINs, their ACKs, data after a FIN, one
/// clause each.
fn before_reset(conn: &Connection, rst: usize) -> Vec<Said> {
    let mut facts = Vec::new();
    let mut fins: Vec<(usize, Role)> = [Role::Client, Role::Server]
        .into_iter()
        .filter_map(|r| fin_row(conn, r).filter(|&i| i < rst).map(|i| (i, r)))
        .collect();
    fins.sort_unstable_by_key(|&(i, _)| i);
    for (i, role) in fins {
        let acked = ack_row(conn, role).is_some_and(|a| a < rst);
        let data: u32 = conn.records[i + 1..rst]
            .iter()
            .filter(|r| r.dir.sender() == role.peer() && !r.retransmission)
            .map(|r| r.payload_len)
            .sum();
        facts.push(said!(
            "explain-reset-fact",
            who = role.name(),
            peer = role.peer().name(),
            acked = if acked { "yes" } else { "no" },
            data = data,
        ));
    }
    facts
}

/// Why the RST at row `rst` (sent by `by`) came, where the facts show it:
/// data that reached `by` after its application had closed its side, either
/// acknowledged first (an open socket took it: closed with it unread) or
/// not (answered by RST at once).
fn rst_cause(conn: &Connection, rst: usize, by: Role) -> Option<Said> {
    let (last, bytes, acked) = rst_data(conn, rst, by)?;
    Some(match acked {
        Some(a) => said!(
            "explain-rst-unread",
            who = by.name(),
            peer = by.peer().name(),
            bytes = bytes,
            at = at_ms(conn, conn.records[a].ts),
            ms = gap_ms(conn, last, rst).1,
        ),
        None => said!("explain-rst-after-close", who = by.name(), peer = by.peer().name(), bytes = bytes),
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

fn reset(conn: &Connection, s: &mut Vec<Said>) {
    let by = conn.close.reset_by.unwrap_or(Role::Client);
    let rst = conn.records.iter().position(|r| r.flags.rst()).unwrap_or(conn.records.len());
    let mut facts = before_reset(conn, rst).into_iter();
    let Some(fact) = facts.next() else {
        s.push(said!("explain-reset-no-fin", who = by.name()));
        let got = received(conn, rst, by);
        s.push(if got > 0 {
            said!("explain-reset-abort-or-unread", who = by.name(), bytes = got)
        } else {
            said!("explain-reset-abort", who = by.name())
        });
        return;
    };
    s.push(match facts.next() {
        Some(then) => said!("explain-reset-before-two", first = fact, then = then, who = by.name()),
        None => said!("explain-reset-before", first = fact, who = by.name()),
    });
    if let Some(cause) = rst_cause(conn, rst, by) {
        s.push(cause);
    }
    s.push(said!("explain-reset-closed"));
}

fn refused(conn: &Connection, s: &mut Vec<Said>) {
    s.push(match conn.records.iter().find(|r| r.flags.rst()) {
        Some(r) => said!(
            "explain-refused-rst",
            seq = r.rel_seq,
            ack = r.rel_ack,
            acks = if r.flags.ack() && r.rel_ack == 1 { "yes" } else { "no" },
        ),
        None => said!("explain-refused"),
    });
}

/// What one segment does and why, for the dashboard's explanation panel,
/// in this thread's language ([`i18n::current`]); then what each ICMP
/// error that quoted it said.
#[must_use]
pub fn explain(conn: &Connection, idx: usize) -> String {
    explain_in(conn, idx, i18n::current())
}

/// [`explain`] in `lang`.
#[must_use]
pub fn explain_in(conn: &Connection, idx: usize, lang: Lang) -> String {
    i18n::sentences(lang, &explain_parts(conn, idx))
}

/// [`explain`], not yet in a language: one [`Said`] a sentence.
#[must_use]
pub fn explain_parts(conn: &Connection, idx: usize) -> Vec<Said> {
    let mut s = Vec::new();
    explain_segment(conn, idx, &mut s);
    for note in conn.icmp.iter().filter(|n| n.row == Some(idx)) {
        s.push(icmp_said(conn, note));
    }
    s
}

/// What an ICMP error about one of the connection's segments says, from its
/// type, code, sender and MTU, in this thread's language.
#[must_use]
pub fn icmp(conn: &Connection, note: &IcmpNote) -> String {
    icmp_in(conn, note, i18n::current())
}

/// [`icmp`] in `lang` (jsonl gives it in English, whatever the language).
#[must_use]
pub fn icmp_in(conn: &Connection, note: &IcmpNote, lang: Lang) -> String {
    icmp_said(conn, note).render(lang)
}

/// The message key of an ICMP error's name (`port-unreachable`): the
/// languages name it ([`Icmp::name`] is the English).
pub(crate) fn icmp_key(e: &Icmp) -> String {
    e.name().replace(' ', "-")
}

/// [`icmp`], not yet in a language.
#[must_use]
pub fn icmp_said(conn: &Connection, note: &IcmpNote) -> Said {
    let sender = note.dir.sender();
    let peer = sender.peer();
    let e = &note.icmp;
    let seq = note.row.map_or(note.seq.0, |i| conn.records[i].rel_seq);
    let itself = if e.from == conn.side(peer).addr.ip() { "yes" } else { "no" };
    let said = match (e.v6, e.kind) {
        (false, 3) if e.code == 4 => said!("explain-icmp-frag"),
        (true, 2) => said!("explain-icmp-too-big"),
        (false, 11) | (true, 3) if e.code == 0 => said!("explain-icmp-ttl"),
        (false, 3) | (true, 1) => said!("explain-icmp-unreachable"),
        (false, 12) | (true, 4) => said!("explain-icmp-param"),
        (false, 4) => said!("explain-icmp-quench"),
        _ => said!("explain-icmp-other"),
    };
    said.arg("v6", if e.v6 { "yes" } else { "no" })
        .arg("icmp", icmp_key(e))
        .arg("kind", u16::from(e.kind))
        .arg("code", u16::from(e.code))
        .arg("from", e.from.to_string())
        .arg("ms", format!("{:.3}", note.ts.millis_since(conn.start())))
        .arg("who", sender.name())
        .arg("peer", peer.name())
        .arg("seq", seq)
        .arg("itself", itself)
        .arg("mtu", e.mtu)
}

fn explain_segment(conn: &Connection, idx: usize, s: &mut Vec<Said>) {
    let Some(r) = conn.records.get(idx) else { return };
    if r.phase == Phase::Handshake && r.step == Some(3) {
        explain_handshake(conn, idx, r, s);
    } else if not_taken(conn, idx) {
        explain_not_taken(conn, idx, r, s);
    } else if r.retransmission {
        explain_retransmission(conn, idx, r, s);
    } else if r.flags.rst() {
        explain_rst(conn, idx, r, s);
    } else if r.flags.syn() {
        explain_handshake(conn, idx, r, s);
    } else if r.flags.fin() {
        explain_fin(conn, idx, r, s);
    } else {
        explain_ack(conn, idx, r, s);
    }
    if r.step == Some(1)
        && r.phase == Phase::Handshake
        && let Some(t) = conn.after_time_wait
    {
        s.push(reused_words(&t));
    }
}

/// What the sender of row `r` sends, in sequence numbers: `10 bytes, bytes
/// 1 to 10 of its stream (seq=1, len=10)` (a phrase other sentences take).
fn bytes_words(r: &Record) -> Said {
    let last = u64::from(r.rel_seq) + u64::from(r.payload_len) - 1;
    said!("explain-seg-bytes", len = r.payload_len, seq = r.rel_seq, last = last)
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
fn explain_not_taken(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let o = opening(conn);
    if r.flags.syn() {
        s.push(if r.retransmission {
            said!("explain-seg-syn-again")
        } else {
            said!("explain-seg-step1", who = Role::Client.name())
        });
        let next =
            (idx + 1..conn.records.len()).find(|&i| conn.records[i].dir == Dir::C2S && conn.records[i].flags.syn());
        if let Some(n) = next {
            s.push(said!("explain-seg-syn-not-taken", ms = gap_ms(conn, idx, n).1));
        }
        if one_host(conn) {
            s.push(said!("explain-host-dropped", n = 1usize));
            s.push(said!("explain-syn-drop"));
        }
        return;
    }
    if r.teardown_steps.contains(2) || r.teardown_steps.contains(4) {
        let who = r.dir.sender();
        let peer = who.peer();
        s.push(said!(
            "explain-seg-fin-ack-lost",
            who = who.name(),
            peer = peer.name(),
            ack = r.rel_ack,
            state = r.state(peer).name(),
        ));
        if one_host(conn) {
            s.push(said!("explain-seg-dropped-on-host"));
        }
        return;
    }
    s.push(if r.payload_len > 0 {
        said!(
            "explain-seg-data-acks-syn-ack",
            bytes = bytes_words(r),
            again = if r.retransmission { "yes" } else { "no" },
            ack = r.rel_ack,
        )
    } else {
        said!("explain-seg-acks-syn-ack", ack = r.rel_ack)
    });
    let data_again = evidence(conn, idx).filter(|&e| conn.records[e].dir == Dir::C2S);
    if let (None, Some(e), true) = (o.kernel, data_again, one_host(conn) && o.syn_acks_again.is_empty()) {
        // Only the data sent again tells, and on one host a filter may drop
        // segments after the capture saw them: both cases are said.
        s.push(said!("explain-seg-unsure", ms = gap_ms(conn, idx, e).1));
        return;
    }
    s.push(match (o.kernel, evidence(conn, idx)) {
        (Some(t), _) => said!("explain-seg-still-syn-received", shown = "kernel", at = at_ms(conn, t)),
        (None, Some(e)) if conn.records[e].dir == Dir::S2C => {
            said!("explain-seg-still-syn-received", shown = "syn-ack", ms = gap_ms(conn, idx, e).1)
        }
        (None, Some(e)) => said!("explain-seg-still-syn-received", shown = "data", ms = gap_ms(conn, idx, e).1),
        (None, None) => said!("explain-seg-still-syn-received", shown = "none"),
    });
    if one_host(conn) {
        s.push(said!("explain-seg-queue-full"));
        s.push(said!("explain-queue-unseen"));
    } else {
        s.push(said!("explain-seg-lost-or-queue"));
    }
}

fn explain_retransmission(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let who = r.dir.sender();
    if r.flags.syn() && r.flags.ack() {
        let note = if opening(conn).acks_dropped.is_empty() {
            "none"
        } else if one_host(conn) {
            "dropped"
        } else {
            "lost"
        };
        s.push(said!("explain-seg-syn-ack-again", note = note));
        return;
    }
    if r.flags.fin() && r.phase == Phase::AfterClose {
        let peer = who.peer();
        let lost = ack_row(conn, who).filter(|&l| l < idx);
        s.push(said!(
            "explain-seg-fin-again",
            who = who.name(),
            peer = peer.name(),
            lost = if lost.is_some() { "yes" } else { "no" },
            row = lost.map_or(0, |l| l + 1),
            state = r.state(who).name(),
        ));
        s.push(said!("explain-seg-time-wait-will-answer", peer = peer.name()));
        return;
    }
    if r.flags.syn() && r.dir == Dir::C2S && r.server_state == TcpState::SynReceived {
        s.push(said!("explain-seg-syn-again-taken"));
        return;
    }
    s.push(said!("explain-seg-retransmission", who = who.name()));
    if r.payload_len > 0 {
        s.push(said!("explain-seg-carries", bytes = bytes_words(r)));
    }
    s.push(said!("explain-seg-not-a-step"));
}

/// An RST: a refusal, an abortive close, or one after the close.
fn explain_rst(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let who = r.dir.sender().name();
    if conn.close.refused {
        s.push(said!("explain-seg-rst-refused"));
    } else if r.phase == Phase::AfterClose {
        s.push(said!("explain-seg-rst-after-close", who = who));
    } else if conn.close.first_fin.is_some() {
        s.push(said!("explain-seg-rst-in-close", who = who));
        if let Some(cause) = rst_cause(conn, idx, r.dir.sender()) {
            s.push(cause);
        }
    } else {
        s.push(said!("explain-seg-rst-abort", who = who));
    }
}

/// A segment of the three-way handshake.
fn explain_handshake(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let who = r.dir.sender();
    if r.flags.syn() && !r.flags.ack() {
        s.push(said!("explain-seg-step1", who = who.name()));
        if conn.close.refused {
            s.push(said!("explain-seg-step1-refused"));
        } else if r.state(who.peer()) == TcpState::SynReceived {
            s.push(said!("explain-seg-step1-taken", peer = who.peer().name()));
        }
        if r.retransmission {
            s.push(said!("explain-seg-step1-again"));
        }
        return;
    }
    if r.flags.syn() {
        s.push(said!("explain-seg-step2", who = who.name()));
        return;
    }
    let o = opening(conn);
    let unsure = one_host(conn) && o.syn_acks_again.is_empty() && o.kernel.is_none();
    s.push(if r.retransmission && r.payload_len > 0 && unsure && o.acks_dropped.first().is_some_and(|&f| f < idx) {
        said!("explain-seg-step3-as-taken", bytes = bytes_words(r), ack = r.rel_ack)
    } else if r.retransmission && r.payload_len > 0 {
        said!("explain-seg-step3-data-again", bytes = bytes_words(r), ack = r.rel_ack)
    } else {
        said!("explain-seg-step3", ack = r.rel_ack)
    });
    s.push(said!("explain-seg-established"));
    if let Some(&first) = o.acks_dropped.first().filter(|&&f| f < idx) {
        let n = o.acks_dropped.iter().filter(|&&d| d < idx).count();
        let since = gap_ms(conn, first, idx).1;
        s.push(if unsure {
            said!("explain-seg-step3-unanswered", n = n, ms = since)
        } else {
            said!("explain-seg-step3-not-taken", n = n, ms = since)
        });
    }
    if let Some(t) = o.kernel {
        s.push(said!("explain-kernel-established", at = at_ms(conn, t)));
    }
}

/// A FIN: the first, the one that carries the ACK of the first, one that
/// crossed the other, or the second of a four-way close.
fn explain_fin(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    let steps = r.teardown_steps;
    let fin_seq = u64::from(r.rel_seq) + u64::from(r.payload_len);
    if steps.contains(1) && conn.close.simultaneous {
        s.push(said!("explain-seg-fin-crossing", who = who.name(), peer = peer.name()));
    } else if steps.contains(1) {
        s.push(said!("explain-seg-fin-first", who = who.name(), peer = peer.name(), seq = fin_seq, ack = fin_seq + 1));
    } else if steps.contains(2) {
        let since = fin_row(conn, peer).map(|f| gap_ms(conn, f, idx)).unwrap_or_default();
        s.push(if r.payload_len > 0 {
            said!(
                "explain-seg-fin-ack-data",
                who = who.name(),
                peer = peer.name(),
                len = r.payload_len,
                ack = r.rel_ack
            )
        } else {
            said!("explain-seg-fin-ack", who = who.name(), peer = peer.name(), ack = r.rel_ack)
        });
        if since.0 < DELACK_MIN_MS {
            s.push(said!(
                "explain-seg-fin-ack-delack",
                who = who.name(),
                peer = peer.name(),
                ms = since.1,
                delack = delack_min(),
            ));
        }
    } else if let Some(via) = r.via {
        s.push(said!(
            "explain-seg-fin-via",
            who = who.name(),
            peer = peer.name(),
            from = before(conn, idx, who).name(),
            via = via.name(),
            ack = r.rel_ack,
            p_after = r.state(peer).name(),
            w_after = r.state(who).name(),
        ));
    } else {
        let since = ack_row(conn, peer).map(|a| gap_ms(conn, a, idx).1);
        s.push(said!(
            "explain-seg-fin-second",
            who = who.name(),
            peer = peer.name(),
            after = if since.is_some() { "yes" } else { "no" },
            ms = since.unwrap_or_default(),
            from = before(conn, idx, who).name(),
            to = r.state(who).name(),
        ));
    }
}

/// A segment without SYN, FIN or RST: an ACK of a FIN, data, or a plain ACK.
fn explain_ack(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    if answered_from_time_wait(conn, idx) {
        s.push(said!(
            "explain-seg-time-wait-answers",
            who = who.name(),
            peer = peer.name(),
            ack = r.rel_ack,
            from = before(conn, idx, peer).name(),
            to = r.state(peer).name(),
        ));
        return;
    }
    if r.phase == Phase::AfterClose {
        s.push(said!("explain-seg-after-close", who = who.name()));
        return;
    }
    if r.teardown_steps.contains(2) || r.teardown_steps.contains(4) {
        explain_fin_ack(conn, idx, r, s);
        return;
    }
    if r.payload_len > 0 {
        let next = u64::from(r.rel_seq) + u64::from(r.payload_len);
        s.push(said!("explain-seg-data", who = who.name(), bytes = bytes_words(r)));
        let acked = (idx + 1..conn.records.len()).find(|&i| {
            let a = &conn.records[i];
            a.dir.sender() == peer && a.flags.ack() && u64::from(a.rel_ack) >= next
        });
        if let Some(a) = acked {
            let ack = conn.records[a].rel_ack;
            s.push(if u64::from(ack) == next {
                said!("explain-seg-data-acked", peer = peer.name(), ack = ack, row = a + 1)
            } else {
                said!("explain-seg-data-acked-past", peer = peer.name(), ack = ack, row = a + 1, next = next)
            });
        }
        if fin_row(conn, peer).is_some_and(|f| f < idx) {
            s.push(said!("explain-seg-half-close", who = who.name(), peer = peer.name()));
        }
        return;
    }
    // Which of the peer's data this ACK covers: the segment it completes.
    let covers = conn.records[..idx].iter().rposition(|d| {
        d.dir.sender() == peer
            && d.payload_len > 0
            && u64::from(d.rel_seq) + u64::from(d.payload_len) == u64::from(r.rel_ack)
    });
    s.push(match covers {
        Some(d) => {
            let data = &conn.records[d];
            said!(
                "explain-seg-ack-covers",
                who = who.name(),
                peer = peer.name(),
                ack = r.rel_ack,
                seq = data.rel_seq,
                len = data.payload_len,
                row = d + 1,
                upto = r.rel_ack.saturating_sub(1),
            )
        }
        None => said!("explain-seg-ack", who = who.name(), ack = r.rel_ack),
    });
}

/// An ACK of the peer's FIN: alone, riding on data, or after the sender's
/// own FIN.
fn explain_fin_ack(conn: &Connection, idx: usize, r: &Record, s: &mut Vec<Said>) {
    let (who, peer) = (r.dir.sender(), r.dir.sender().peer());
    let (p_before, p_after) = (before(conn, idx, peer).name(), r.state(peer).name());
    let (ms, delay) = fin_row(conn, peer).map(|f| gap_ms(conn, f, idx)).unwrap_or_default();
    if fin_row(conn, who).is_none_or(|f| f >= idx) {
        if r.payload_len > 0 {
            s.push(said!(
                "explain-seg-fin-acked-with-data",
                who = who.name(),
                peer = peer.name(),
                bytes = bytes_words(r),
                ack = r.rel_ack,
                ms = delay,
            ));
            s.push(said!("explain-seg-not-closed-half-close", who = who.name()));
            s.push(said!("explain-seg-goes", who = peer.name(), from = p_before, to = p_after));
            return;
        }
        s.push(said!("explain-seg-fin-acked-alone", who = who.name(), peer = peer.name(), ack = r.rel_ack, ms = delay));
        s.push(said!("explain-seg-goes", who = peer.name(), from = p_before, to = p_after));
        if let Some(hole) = fin_past_hole(conn, who) {
            s.push(said!("explain-seg-close-wait-only-now", who = who.name(), hole = hole_words(conn, who, hole)));
        } else if (DELACK_MIN_MS..=DELACK_LIMIT_MS).contains(&ms) {
            s.push(said!("explain-seg-delack-fired", who = who.name(), delack = delack_min()));
        }
        return;
    }
    s.push(said!(
        "explain-seg-fin-acked",
        who = who.name(),
        peer = peer.name(),
        ack = r.rel_ack,
        from = p_before,
        to = p_after,
    ));
    match (r.state(peer), r.state(who)) {
        (TcpState::Closed, TcpState::TimeWait) => {
            s.push(said!("explain-seg-last-segment", who = who.name()));
        }
        (TcpState::TimeWait, TcpState::TimeWait) if both_closed_first(conn) => {
            s.push(said!("explain-seg-both-time-wait"));
        }
        (TcpState::TimeWait, TcpState::Closing) => {
            s.push(said!("explain-seg-still-closing", who = who.name()));
        }
        _ => {}
    }
}
