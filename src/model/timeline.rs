//! What the views draw: one arrow per segment with its label, step and the
//! state marks beside each lifeline. The plain-words verdict and the
//! explanation of a segment are [`super::explain`]'s (re-exported here).
//! Pure: strings from a [`Connection`].

use std::fmt::Write as _;

use super::classify::{CloseKind, Dir, Phase};
use super::connection::{Connection, Record};
use super::tcp::TcpState;

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
    /// `handshake 1/3`, `teardown 2+3/4`, `retransmission`, `reset`.
    pub note: String,
    pub phase: Phase,
    pub retransmission: bool,
}

/// The text of a state mark: `FIN-WAIT-1`, or `FIN-WAIT-1→CLOSING` when the
/// endpoint passed through one state on its way to the next in one segment.
#[must_use]
pub fn mark_text(via: Option<TcpState>, mark: Option<TcpState>) -> String {
    match (via, mark) {
        (Some(v), Some(m)) => format!("{v}→{m}"),
        (Some(s), None) | (None, Some(s)) => s.name().to_string(),
        (None, None) => String::new(),
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
    let mut s = r.flags.to_string();
    let f = r.flags;
    // seq on SYN, FIN, RST and data (so that seq=1 len=10 meets ack=11); ack
    // on everything that has it.
    if f.syn() || f.fin() || f.rst() || r.payload_len > 0 {
        let _ = write!(s, " seq={}", r.rel_seq);
    }
    if f.ack() {
        let _ = write!(s, " ack={}", r.rel_ack);
    }
    if r.payload_len > 0 {
        let _ = write!(s, " len={}", r.payload_len);
    }
    if let Some(mss) = r.options.mss {
        let _ = write!(s, " mss={mss}");
    }
    if r.payload_len > 0 && !r.preview.as_bytes().is_empty() {
        let shown = r.preview.as_bytes();
        let cut = u32::try_from(shown.len()).unwrap_or(u32::MAX) < r.payload_len;
        let _ = write!(
            s,
            " \"{}{}\"",
            preview_text(&shown[..shown.len().min(12)]),
            if cut || shown.len() > 12 { "…" } else { "" }
        );
    }
    s
}

fn step_note(conn: &Connection, r: &Record) -> String {
    if r.retransmission {
        return "retransmission".to_string();
    }
    match r.phase {
        // A refused SYN opened nothing: it is the first of the two segments of a refusal.
        Phase::Handshake if conn.close.refused => r.step.map(|_| "refused 1/2".to_string()).unwrap_or_default(),
        Phase::Handshake => r.step.map(|s| format!("handshake {s}/3")).unwrap_or_default(),
        // Steps before the capture were not seen: no count to give.
        Phase::Teardown if conn.joined_late.is_some() => "teardown (begun before the capture)".to_string(),
        Phase::Teardown => {
            let total = match conn.close_kind() {
                CloseKind::ThreeWay => 3,
                _ => 4,
            };
            if conn.close_kind() == CloseKind::Simultaneous || r.teardown_steps.is_empty() {
                r.step.map(|s| format!("teardown {s}/{total}")).unwrap_or_default()
            } else {
                format!("teardown {}/4", r.teardown_steps)
            }
        }
        Phase::Reset => {
            if conn.close.refused {
                "refused 2/2".to_string()
            } else {
                "reset".to_string()
            }
        }
        Phase::AfterClose => "after the close".to_string(),
        Phase::Data | Phase::Other => String::new(),
    }
}

/// The arrows of a connection, with a state mark wherever a state changed
/// (and on the first row, so every lifeline starts labelled).
#[must_use]
pub fn arrows(conn: &Connection) -> Vec<Arrow> {
    let mut out = Vec::with_capacity(conn.records.len());
    let mut prev: Option<(TcpState, TcpState)> = None;
    for (i, r) in conn.records.iter().enumerate() {
        let (c, s) = (r.client_state, r.server_state);
        let (cm, sm) = match prev {
            None => (Some(c), Some(s)),
            Some((pc, ps)) => ((pc != c).then_some(c), (ps != s).then_some(s)),
        };
        prev = Some((c, s));
        let sender = r.dir.sender();
        let via = |role| r.via.filter(|_| sender == role);
        let crossing = conn.close.simultaneous
            && r.flags.fin()
            && !r.retransmission
            && (r.teardown_steps.contains(1) || r.via.is_some());
        let mut note = step_note(conn, r);
        if crossing {
            note.push_str(" ✕ FINs cross");
        }
        let errors = conn.icmp.iter().filter(|n| n.row == Some(i)).count();
        if errors > 0 {
            note.push_str(if errors == 1 { " ⚠ ICMP error" } else { " ⚠ ICMP errors" });
        }
        if conn.elided > 0 && i == conn.gap {
            note = format!("⋯ {} segments not kept before this one ⋯ {note}", conn.elided).trim_end().to_string();
        }
        out.push(Arrow {
            dir: r.dir,
            label: label(r),
            client_mark: cm,
            server_mark: sm,
            client_via: via(super::classify::Role::Client),
            server_via: via(super::classify::Role::Server),
            crossing,
            note,
            phase: r.phase,
            retransmission: r.retransmission,
        });
    }
    out
}

pub use super::explain::{explain, verdict};
