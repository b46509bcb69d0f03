//! What the views draw: one arrow per segment with its label, step and the
//! state marks beside each lifeline. The plain-words verdict and the
//! explanation of a segment are [`super::explain`]'s (re-exported here).
//! Pure: strings from a [`Connection`]. Notes are in the current language
//! (`i18n/*/rows.ftl`, rendered once in `timeline/words.rs`); labels and state marks are the
//! protocol's own (flags, `seq=`, RFC 9293's state names) in every language.

use std::fmt::Write as _;

use super::classify::{CloseKind, Dir, Phase};
use super::connection::{Connection, Record};
use super::tcp::TcpState;
use crate::said;

pub(crate) mod words;

/// One row of a ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrow {
    pub dir: Dir,
    /// `SYN seq=0 mss=65495`, `PSH-ACK len=10 "helloworld"`.
    pub label: String,
    /// The client's state, when this segment changed it.
    pub client_mark: Option<TcpState>,
    /// The server's state, when this segment changed it.
    pub server_mark: Option<TcpState>,
    /// A state the client passed through within this segment, before its mark.
    pub client_via: Option<TcpState>,
    /// A state the server passed through within this segment, before its mark.
    pub server_via: Option<TcpState>,
    /// One of the two FINs of a simultaneous close: in flight at the same time.
    pub crossing: bool,
    /// `handshake 1/3`, `teardown 2+3/4`, `retransmission`, `reset`, in
    /// the current language (`三次握手 1/3`, `四次挥手 2+3/4`).
    pub note: String,
    pub phase: Phase,
    pub retransmission: bool,
}

/// The text of a state mark: `FIN-WAIT-1`, or `FIN-WAIT-1→CLOSING` when the
/// endpoint passed through one state on its way to the next in one segment.
#[must_use]
pub fn mark_text(via: Option<TcpState>, mark: Option<TcpState>) -> String {
    let mut s = String::new();
    push_mark(&mut s, via, mark);
    s
}

/// Appends [`mark_text`]; returns its width in characters.
pub fn push_mark(out: &mut String, via: Option<TcpState>, mark: Option<TcpState>) -> usize {
    match (via, mark) {
        (Some(v), Some(m)) => {
            out.push_str(v.name());
            out.push('→');
            out.push_str(m.name());
        }
        (Some(s), None) | (None, Some(s)) => out.push_str(s.name()),
        (None, None) => {}
    }
    mark_width(via, mark)
}

/// Width of [`mark_text`] in characters (state names are ASCII).
#[must_use]
pub fn mark_width(via: Option<TcpState>, mark: Option<TcpState>) -> usize {
    match (via, mark) {
        (Some(v), Some(m)) => v.name().len() + 1 + m.name().len(),
        (Some(s), None) | (None, Some(s)) => s.name().len(),
        (None, None) => 0,
    }
}

/// The state marks of a row: each endpoint's state where this segment changed
/// it (every state on the first row, `prev` being `None`), and a state it
/// passed through on the way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Marks {
    pub client_mark: Option<TcpState>,
    pub server_mark: Option<TcpState>,
    pub client_via: Option<TcpState>,
    pub server_via: Option<TcpState>,
}

impl Marks {
    /// The marks of `r`, the record after `prev`.
    #[must_use]
    pub fn of(prev: Option<&Record>, r: &Record) -> Marks {
        let (c, s) = (r.client_state, r.server_state);
        let (client_mark, server_mark) = match prev {
            None => (Some(c), Some(s)),
            Some(p) => ((p.client_state != c).then_some(c), (p.server_state != s).then_some(s)),
        };
        let sender = r.dir.sender();
        let via = |role| r.via.filter(|_| sender == role);
        Marks {
            client_mark,
            server_mark,
            client_via: via(super::classify::Role::Client),
            server_via: via(super::classify::Role::Server),
        }
    }
}

/// Escapes a payload preview for a one-line label: printable ASCII as is,
/// everything else as `\n`, `\xNN`.
#[must_use]
pub fn preview_text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(char::from(b)),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

/// The arrow label: flags, relative seq/ack where they teach something, length,
/// MSS on SYNs, and a payload preview.
#[must_use]
pub fn label(r: &Record) -> String {
    let mut s = String::new();
    push_label(&mut s, r);
    s
}

/// Appends a number.
pub fn push_int<I: itoa::Integer>(out: &mut String, n: I) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends a socket address as `Display` writes it (`127.0.0.1:8001`,
/// `[::1]:8001`), IPv4 without going through the formatter.
pub fn push_addr(out: &mut String, addr: std::net::SocketAddr) {
    match addr {
        std::net::SocketAddr::V4(a) => {
            let [a0, a1, a2, a3] = a.ip().octets();
            push_int(out, a0);
            out.push('.');
            push_int(out, a1);
            out.push('.');
            push_int(out, a2);
            out.push('.');
            push_int(out, a3);
            out.push(':');
            push_int(out, a.port());
        }
        std::net::SocketAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// Appends [`label`]; returns its width in characters.
pub fn push_label(out: &mut String, r: &Record) -> usize {
    let start = out.len();
    r.flags.push_name(out);
    let f = r.flags;
    // seq on SYN, FIN, RST and data (so that seq=1 len=10 meets ack=11); ack
    // on everything that has it.
    if f.syn() || f.fin() || f.rst() || r.payload_len > 0 {
        out.push_str(" seq=");
        push_int(out, r.rel_seq);
    }
    if f.ack() {
        out.push_str(" ack=");
        push_int(out, r.rel_ack);
    }
    if r.payload_len > 0 {
        out.push_str(" len=");
        push_int(out, r.payload_len);
    }
    if let Some(mss) = r.mss {
        out.push_str(" mss=");
        push_int(out, mss);
    }
    let mut wide = 0;
    if r.payload_len > 0 && !r.preview.as_bytes().is_empty() {
        let shown = r.preview.as_bytes();
        let cut = u32::try_from(shown.len()).unwrap_or(u32::MAX) < r.payload_len;
        out.push_str(" \"");
        out.push_str(&preview_text(&shown[..shown.len().min(12)]));
        if cut || shown.len() > 12 {
            out.push('…');
            // Three bytes, one character.
            wide = 2;
        }
        out.push('"');
    }
    // Everything but the ellipsis is ASCII.
    out.len() - start - wide
}

/// Appends the step note of row `i` (`handshake 1/3`, `teardown 2+3/4`,
/// `retransmission`, ...), and `(dropped)` when its receiver did not take it.
fn push_step_note(out: &mut String, w: &words::Words, conn: &Connection, i: usize, r: &Record) {
    let start = out.len();
    push_step(out, w, conn, i, r);
    if super::explain::not_taken(conn, i) {
        let lost = usize::from(super::explain::not_taken_note(conn) != "dropped");
        if out.len() > start {
            let step = out[start..].to_owned();
            out.truncate(start);
            w.not_taken[lost].push(out, |o| o.push_str(&step));
        } else {
            out.push_str(if lost == 1 { &w.lost_or_dropped } else { &w.dropped });
        }
    }
}

fn push_step(out: &mut String, w: &words::Words, conn: &Connection, i: usize, r: &Record) {
    if r.retransmission {
        out.push_str(if r.phase == Phase::Handshake && r.step == Some(3) {
            &w.retransmission_handshake
        } else {
            &w.retransmission
        });
        return;
    }
    match r.phase {
        // A refused SYN opened nothing: it is the first of the two segments of a refusal.
        Phase::Handshake if conn.close.refused => {
            if r.step.is_some() {
                out.push_str(&w.refused[0]);
            }
        }
        Phase::Handshake => match r.step {
            Some(s @ 1..=3) => out.push_str(&w.handshake[usize::from(s - 1)]),
            Some(s) => out.push_str(&said!("rows-handshake", step = u32::from(s)).render(words::lang())),
            None => {}
        },
        // Steps before the capture were not seen: no count to give.
        Phase::Teardown if conn.joined_late.is_some() => out.push_str(&w.teardown_late),
        Phase::Teardown => {
            let kind = conn.close_kind();
            let total = if kind == CloseKind::ThreeWay { 3 } else { 4 };
            let words_kind = match kind {
                CloseKind::Simultaneous => words::Teardown::Simultaneous,
                CloseKind::ThreeWay => words::Teardown::Three,
                _ => words::Teardown::Four,
            };
            if kind == CloseKind::Simultaneous || r.teardown_steps.is_empty() {
                if let Some(s) = r.step {
                    match w.teardown(words_kind, total, [s]) {
                        Some(t) => out.push_str(t),
                        None => out.push_str(&words::teardown_now(words::lang(), words_kind, total, &s.to_string())),
                    }
                }
            } else {
                match w.teardown(words::Teardown::Four, 4, r.teardown_steps.iter()) {
                    Some(t) => out.push_str(t),
                    None => out.push_str(&words::teardown_now(
                        words::lang(),
                        words::Teardown::Four,
                        4,
                        &r.teardown_steps.to_string(),
                    )),
                }
            }
        }
        Phase::Reset => out.push_str(if conn.close.refused { &w.refused[1] } else { &w.reset }),
        Phase::AfterClose if super::explain::answered_from_time_wait(conn, i) => {
            out.push_str(&w.after_close_time_wait);
        }
        Phase::AfterClose => out.push_str(&w.after_close),
        Phase::Data | Phase::Other => {}
    }
}

/// One of the two FINs of a simultaneous close, in flight at the same time.
#[must_use]
pub fn crossing(conn: &Connection, r: &Record) -> bool {
    conn.close.simultaneous && r.flags.fin() && !r.retransmission && (r.teardown_steps.contains(1) || r.via.is_some())
}

/// Appends the note of row `i` (its record `r`): the step, a crossing FIN,
/// ICMP errors quoting it, segments not kept before it; in the current
/// language ([`crate::i18n::current`]), from words rendered once.
pub fn push_note(out: &mut String, conn: &Connection, i: usize, r: &Record) {
    let start = out.len();
    let w = words::of(words::lang());
    if conn.elided > 0 && i == conn.gap {
        out.push_str(&said!("rows-elided", n = conn.elided).render(words::lang()));
        out.push(' ');
    }
    push_step_note(out, w, conn, i, r);
    if crossing(conn, r) {
        out.push(' ');
        out.push_str(&w.fins_cross);
    }
    let errors = conn.icmp.iter().filter(|n| n.row == Some(i)).count();
    if errors > 0 {
        out.push(' ');
        out.push_str(&w.icmp_errors[usize::from(errors > 1)]);
    }
    if conn.elided > 0 && i == conn.gap {
        let end = start + out[start..].trim_end().len();
        out.truncate(end);
    }
}

/// The arrows of a connection, with a state mark wherever a state changed
/// (and on the first row, so every lifeline starts labelled).
#[must_use]
pub fn arrows(conn: &Connection) -> Vec<Arrow> {
    let mut out = Vec::with_capacity(conn.records.len());
    let mut prev = None;
    for (i, r) in conn.records.iter().enumerate() {
        let m = Marks::of(prev, r);
        prev = Some(r);
        let mut note = String::new();
        push_note(&mut note, conn, i, r);
        out.push(Arrow {
            dir: r.dir,
            label: label(r),
            client_mark: m.client_mark,
            server_mark: m.server_mark,
            client_via: m.client_via,
            server_via: m.server_via,
            crossing: crossing(conn, r),
            note,
            phase: r.phase,
            retransmission: r.retransmission,
        });
    }
    out
}

pub use super::explain::{explain, verdict, verdict_into};
