//! Pure layout of a connection's ladder (sequence diagram): which text goes in
//! which column. Shared by the dashboard and the text export, so both always
//! draw the same picture.
//!
//! ```text
//!  #1  client 127.0.0.1:46648                     server 127.0.0.1:8001
//!      SYN-SENT │ ── SYN seq=0 mss=65495 ────────▶ │ LISTEN        handshake 1/3
//!               │ ◀── SYN-ACK seq=0 ack=1 ──────── │ SYN-RECEIVED  handshake 2/3
//!  <state col>  │ <arrow column>                   │ <state col>   <note>
//! ```

use crate::model::timeline::{self, Arrow};
use crate::model::tracker::{Connection, Dir, Phase};

/// Width of a state column: the longest state name, `SYN-RECEIVED`.
pub const STATE_WIDTH: usize = 12;
/// The narrowest arrow.
pub const MIN_ARROW: usize = 24;

/// One laid-out row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Client state mark, right-aligned to the client lifeline (may be blank).
    pub left: String,
    /// The arrow, exactly `arrow_width` characters wide.
    pub arrow: String,
    /// Server state mark (may be blank).
    pub right: String,
    /// Step note.
    pub note: String,
    pub phase: Phase,
    pub retransmission: bool,
    pub dir: Dir,
}

/// A laid-out ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ladder {
    /// `#1  client 127.0.0.1:46648 ... server 127.0.0.1:8001`
    pub header: String,
    pub rows: Vec<Row>,
    pub arrow_width: usize,
}

/// Draws one arrow of `width` characters carrying `label`; labels too long for
/// the width are cut with `…`.
#[must_use]
pub fn arrow_text(dir: Dir, label: &str, width: usize) -> String {
    let width = width.max(8);
    // "── " + label + " " + fill + "▶"  or  "◀── " + label + " " + fill
    let room = width - 5;
    let chars: Vec<char> = label.chars().collect();
    let label: String = if chars.len() > room {
        chars[..room.saturating_sub(1)].iter().collect::<String>() + "…"
    } else {
        label.to_string()
    };
    let fill = width - 5 - label.chars().count();
    match dir {
        Dir::C2S => format!("── {label} {}▶", "─".repeat(fill)),
        Dir::S2C => format!("◀── {label} {}", "─".repeat(fill)),
    }
}

/// Lays out `conn`. `max_arrow` bounds the arrow column (the dashboard passes
/// the room it has; exports pass `None` to fit the longest label).
#[must_use]
pub fn layout(conn: &Connection, max_arrow: Option<usize>) -> Ladder {
    let arrows = timeline::arrows(conn);
    let longest = arrows.iter().map(|a| a.label.chars().count() + 8).max().unwrap_or(0);
    let mut arrow_width = longest.max(MIN_ARROW);
    if let Some(max) = max_arrow {
        arrow_width = arrow_width.min(max.max(8));
    }
    let rows = arrows.iter().map(|a| row(a, arrow_width)).collect();
    Ladder { header: header(conn, arrow_width), rows, arrow_width }
}

fn row(a: &Arrow, arrow_width: usize) -> Row {
    Row {
        left: a.client_mark.map(|s| s.name().to_string()).unwrap_or_default(),
        arrow: arrow_text(a.dir, &a.label, arrow_width),
        right: a.server_mark.map(|s| s.name().to_string()).unwrap_or_default(),
        note: a.note.clone(),
        phase: a.phase,
        retransmission: a.retransmission,
        dir: a.dir,
    }
}

/// The header line: id, then each endpoint above its lifeline.
#[must_use]
pub fn header(conn: &Connection, arrow_width: usize) -> String {
    let left = format!("#{:<3} client {}", conn.id, conn.client.addr);
    let right = format!("server {}", conn.server.addr);
    // The server label starts where the server lifeline is.
    let at = STATE_WIDTH + 3 + arrow_width + 1;
    let pad = at.saturating_sub(left.chars().count()).max(2);
    format!("{left}{}{right}", " ".repeat(pad))
}

impl Ladder {
    /// Plain text, one line per row, without trailing spaces.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.header);
        out.push('\n');
        for r in &self.rows {
            let line = format!("{:>w$} │ {} │ {:<w$}  {}", r.left, r.arrow, r.right, r.note, w = STATE_WIDTH);
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}
