//! What the views draw: one arrow per segment with its label, step and the
//! state marks beside each lifeline, plus the plain-words verdict on a close and
//! the explanation of a single segment. Pure: strings from a [`Connection`].

use std::fmt::Write as _;

use super::classify::{CloseKind, Dir, Phase, Role};
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
    /// `handshake 1/3`, `teardown 2+3/4`, `retransmission`, `reset`.
    pub note: String,
    pub phase: Phase,
    pub retransmission: bool,
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
    // seq matters on SYN, FIN and RST; data shows len; ack on everything that has it.
    if f.syn() || f.fin() || f.rst() {
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
        Phase::Handshake => r.step.map(|s| format!("handshake {s}/3")).unwrap_or_default(),
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
                "refused".to_string()
            } else {
                "reset".to_string()
            }
        }
        Phase::Data | Phase::Other => String::new(),
    }
}

/// The arrows of a connection, with a state mark wherever a state changed
/// (and on the first row, so every lifeline starts labelled).
#[must_use]
pub fn arrows(conn: &Connection) -> Vec<Arrow> {
    let mut out = Vec::with_capacity(conn.records.len());
    let mut prev: Option<(TcpState, TcpState)> = None;
    for r in &conn.records {
        let (c, s) = (r.client_state, r.server_state);
        let (cm, sm) = match prev {
            None => (Some(c), Some(s)),
            Some((pc, ps)) => ((pc != c).then_some(c), (ps != s).then_some(s)),
        };
        prev = Some((c, s));
        out.push(Arrow {
            dir: r.dir,
            label: label(r),
            client_mark: cm,
            server_mark: sm,
            note: step_note(conn, r),
            phase: r.phase,
            retransmission: r.retransmission,
        });
    }
    out
}

/// The closer's role name with a capital.
fn cap(role: Role) -> &'static str {
    match role {
        Role::Client => "The client",
        Role::Server => "The server",
    }
}

/// One paragraph in plain words: what kind of close this was and why it took
/// the segments it took.
#[must_use]
pub fn verdict(conn: &Connection) -> String {
    let kind = conn.close_kind();
    let mut s = format!("close: {kind}. ");
    let first = conn.close.first_fin;
    match kind {
        CloseKind::ThreeWay => {
            let a = first.unwrap_or(Role::Client);
            let _ = write!(
                s,
                "{} closed first. The {} had nothing left to send, so its FIN carried the ACK of the {}'s FIN: \
                 steps 2 and 3 of the four-way close shared one segment.",
                cap(a),
                a.peer().name(),
                a.name()
            );
        }
        CloseKind::FourWay => {
            let a = first.unwrap_or(Role::Client);
            let _ = write!(s, "{} closed first. The {} acknowledged that FIN at once but ", cap(a), a.peer().name());
            if conn.close.data_after_fin {
                s.push_str(
                    "still had data to send (a half-close: data flowed after the first FIN), so its own FIN \
                     came later: each direction was closed separately, in four segments.",
                );
            } else {
                s.push_str(
                    "closed its own side only later (after the delayed-ACK timer had sent the ACK alone), \
                     so each direction was closed separately: FIN, ACK, FIN, ACK.",
                );
            }
        }
        CloseKind::Simultaneous => s.push_str(
            "Both sides sent a FIN before they had seen the other's: the FINs crossed on the wire. \
             Each side went FIN-WAIT-1 -> CLOSING -> TIME-WAIT, and both ended in TIME-WAIT.",
        ),
        CloseKind::Reset => {
            let by = conn.close.reset_by.unwrap_or(Role::Client);
            let _ = write!(
                s,
                "{} aborted the connection with an RST: no FIN exchange, no TIME-WAIT; both ends went straight \
                 to CLOSED and any unsent or unread data was discarded.",
                cap(by)
            );
        }
        CloseKind::Refused => s.push_str(
            "Nothing was listening on the server's port: the SYN was answered by RST-ACK \
             (seq 0, acknowledging the SYN), so there was no handshake and no connection.",
        ),
        CloseKind::Open => {
            if let Some(a) = first {
                let _ = write!(s, "{} sent a FIN; the close had not finished when the capture ended.", cap(a));
            } else {
                s.push_str("The connection was still open when the capture ended.");
            }
        }
    }
    if conn.close.data_after_fin && kind != CloseKind::FourWay {
        s.push_str(" Data flowed after the first FIN (half-close).");
    }
    if conn.handshake.syn_retransmits > 0 {
        let _ = write!(
            s,
            " The SYN was retransmitted {} time{}: the server did not answer at first (a full accept queue?).",
            conn.handshake.syn_retransmits,
            if conn.handshake.syn_retransmits == 1 { "" } else { "s" }
        );
    }
    s
}

/// What one segment does and why, for the dashboard's explanation panel.
#[must_use]
pub fn explain(conn: &Connection, idx: usize) -> String {
    let Some(r) = conn.records.get(idx) else {
        return String::new();
    };
    if r.retransmission {
        return format!(
            "The {} sent this sequence range before: a retransmission. It does not count as a new step.",
            r.dir.sender().name()
        );
    }
    if r.flags.rst() {
        explain_rst(conn, r)
    } else if r.flags.syn() || (r.step == Some(3) && r.phase == Phase::Handshake) {
        explain_handshake(r)
    } else if r.flags.fin() {
        explain_fin(conn, r)
    } else {
        explain_ack(r)
    }
}

/// An RST: a refusal or an abortive close.
fn explain_rst(conn: &Connection, r: &Record) -> String {
    if conn.close.refused {
        "RST-ACK in answer to a SYN: nothing listens on that port, so the connection is refused. \
         There was never a handshake."
            .to_string()
    } else {
        format!(
            "RST from the {}: an abortive close. Both ends drop the connection at once (CLOSED), \
             without FINs and without TIME-WAIT.",
            r.dir.sender().name()
        )
    }
}

/// A segment of the three-way handshake.
fn explain_handshake(r: &Record) -> String {
    let who = r.dir.sender();
    if r.flags.syn() && !r.flags.ack() {
        format!(
            "Handshake step 1: the {} asks to open a connection and announces its initial sequence number \
             (shown as 0). A SYN takes one sequence number.",
            who.name()
        )
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

/// A FIN: the first, the one that carries the ACK of the first, or the second.
fn explain_fin(conn: &Connection, r: &Record) -> String {
    let (who, peer) = (r.dir.sender().name(), r.dir.sender().peer().name());
    let s = r.teardown_steps;
    if s.contains(1) {
        format!(
            "The {who} has nothing more to send and closes its direction (FIN). The {peer} may still send data: \
             closing is done per direction, which is why it can take four segments."
        )
    } else if s.contains(2) {
        format!(
            "This FIN-ACK carries the ACK of the {peer}'s FIN, so the close takes three segments: \
             the {who} had nothing left to send, and its ACK and its FIN travel together."
        )
    } else if conn.close.simultaneous {
        format!(
            "The {who} sent its FIN before it had seen the {peer}'s: the FINs crossed (simultaneous close). \
             Both sides go through CLOSING."
        )
    } else {
        format!(
            "The {who} closes its direction too, after it had already acknowledged the {peer}'s FIN in a \
             separate segment: the four-way close."
        )
    }
}

/// A segment without SYN, FIN or RST: a teardown ACK, data, or a plain ACK.
fn explain_ack(r: &Record) -> String {
    let (who, peer) = (r.dir.sender().name(), r.dir.sender().peer().name());
    if r.teardown_steps.contains(2) {
        format!(
            "The {who} acknowledges the {peer}'s FIN on its own: it is not closing yet (it may still have data), \
             so its FIN will follow separately."
        )
    } else if r.teardown_steps.contains(4) {
        format!(
            "The last ACK: the {who} acknowledges the {peer}'s FIN. The one that closed first now waits in TIME-WAIT \
             (2 x MSL; Linux: 60 s) in case this ACK is lost and the FIN comes again."
        )
    } else if r.payload_len > 0 {
        format!("{} bytes of data from the {who}.", r.payload_len)
    } else {
        format!("An ACK from the {who}: it acknowledges data up to ack={}.", r.rel_ack)
    }
}
