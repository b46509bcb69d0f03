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
    let cookie = waited
        .filter(|&(answered, until)| o.syn_acks_again.is_empty() && gap(conn, answered, until).0 > SYN_ACK_TIMEOUT_MS);
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
    for role in [Role::Client, Role::Server] {
        s.push(said!("explain-went", who = role.name(), path = path_words(&close_path(conn, role))));
    }
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

/// What one segment does and why, for the dashboard's explanation panel;
/// then what each ICMP error that quoted it said.
#[must_use]
pub fn explain(conn: &Connection, idx: usize) -> String {
    let mut s = explain_segment(conn, idx);
    for note in conn.icmp.iter().filter(|n| n.row == Some(idx)) {
        s.push(' ');
        s.push_str(&icmp_in(conn, note, Lang::En));
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
        let _ = write!(s, " {}", reused_words(&t).render(Lang::En));
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
            let _ = write!(
                s,
                " {} {}",
                said!("explain-host-dropped", n = 1usize).render(Lang::En),
                said!("explain-syn-drop").render(Lang::En)
            );
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
        s.push(' ');
        s.push_str(&said!("explain-queue-unseen").render(Lang::En));
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
            let _ = write!(s, " {}", cause.render(Lang::En));
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
            let _ = write!(
                s,
                " The {} enters CLOSE-WAIT only now: {}.",
                who.name(),
                hole_words(conn, who, hole).render(Lang::En)
            );
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
            let both = said!("explain-both-time-wait").render(Lang::En);
            let _ = write!(s, " {}", both.replacen("Both ended", "Both ends are now", 1));
        }
        (TcpState::TimeWait, TcpState::Closing) => {
            let _ = write!(s, " The {} still waits in CLOSING for the ACK of its own FIN.", who.name());
        }
        _ => {}
    }
    s
}
