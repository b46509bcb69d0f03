//! Pure layout of a connection's ladder (sequence diagram): which text goes in
//! which column. The geometry (lifeline columns, arrow width) is computed here
//! once and used by the text export and the dashboard; the SVG export draws the
//! same rows (labels, marks, notes) at its own pixel scale. Columns are
//! terminal columns: the header and notes may be Chinese (two columns a
//! character), labels and state marks never are.
//!
//! ```text
//!  #1  client 127.0.0.1:46648                     server 127.0.0.1:8001
//!      SYN-SENT │ ── SYN seq=0 mss=65495 ────────▶ │ SYN-RECEIVED  handshake 1/3
//!   ESTABLISHED │ ◀── SYN-ACK seq=0 ack=1 ──────── │               handshake 2/3
//!  <state col>  │ <arrow column>                   │ <state col>   <note>
//! ```

use crate::model::timeline::{self, Arrow};
use crate::model::tracker::{Connection, Dir, Phase};

/// Width of a state column: the longest state name, `SYN-RECEIVED`.
pub const STATE_WIDTH: usize = 12;
/// The narrowest arrow.
pub const MIN_ARROW: usize = 24;
/// The widest arrow a filled ladder draws: longer arrows read worse, not better.
pub const FILL_ARROW: usize = 96;

/// One laid-out row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Client state mark, right-aligned to the client lifeline (may be blank).
    pub left: String,
    /// The arrow, exactly `arrow_width` characters wide.
    pub arrow: String,
    /// The arrow's label, uncut (what the SVG export writes on its arrow).
    pub label: String,
    /// Server state mark (may be blank).
    pub right: String,
    /// Step note.
    pub note: String,
    pub phase: Phase,
    pub retransmission: bool,
    pub dir: Dir,
    /// One of the two FINs of a simultaneous close, in flight at the same time.
    pub crossing: bool,
}

/// Where a ladder's columns are, in characters from the left edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Columns before the client's state column (the dashboard's time column).
    pub lead: usize,
    /// Width of each state column: [`STATE_WIDTH`], or more for a mark that
    /// names two states (`FIN-WAIT-1→CLOSING`).
    pub state_width: usize,
    /// Width of the arrow column.
    pub arrow_width: usize,
}

impl Geometry {
    /// The narrowest note column a bounded width keeps room for.
    pub const NOTE_MIN: usize = 15;

    /// Fits arrows whose longest label has `longest` characters: wide enough
    /// for it (at least [`MIN_ARROW`]), but within `width` columns in all when
    /// a width is given, `lead` columns included.
    /// The longest mark has `mark` characters.
    #[must_use]
    pub fn fit(longest: usize, mark: usize, width: Option<usize>, lead: usize) -> Geometry {
        let state_width = mark.max(STATE_WIDTH);
        let mut arrow_width = (longest + 8).max(MIN_ARROW);
        if let Some(w) = width {
            let fixed = lead + 2 * state_width + 6 + 2 + Self::NOTE_MIN;
            arrow_width = arrow_width.min(w.saturating_sub(fixed).max(8));
        }
        Geometry { lead, state_width, arrow_width }
    }

    /// Column of the client's lifeline (`│`).
    #[must_use]
    pub fn client_lifeline(&self) -> usize {
        self.lead + self.state_width + 1
    }

    /// Column of the server's lifeline (`│`).
    #[must_use]
    pub fn server_lifeline(&self) -> usize {
        self.client_lifeline() + 2 + self.arrow_width + 1
    }
}

/// A laid-out ladder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ladder {
    /// `#1  client 127.0.0.1:46648 ... server 127.0.0.1:8001`
    pub header: String,
    pub rows: Vec<Row>,
    pub geometry: Geometry,
}

/// Draws one arrow of `width` characters carrying `label`: `── label ──▶`.
/// When the arrow is too short for that, its shaft gives way first
/// (`label ▶`, `◀ label`, at the last `label▶`); only a label longer than
/// the arrow itself is cut, with `…`.
#[must_use]
pub fn arrow_text(dir: Dir, label: &str, width: usize) -> String {
    let width = width.max(8);
    let len = label.chars().count();
    if len + 5 <= width {
        // "── " + label + " " + fill + "▶"  or  "◀── " + label + " " + fill
        let fill = width - 5 - len;
        return match dir {
            Dir::C2S => format!("── {label} {}▶", "─".repeat(fill)),
            Dir::S2C => format!("◀── {label} {}", "─".repeat(fill)),
        };
    }
    // No room even for the space by the head: `label▶`, `◀label`.
    if len + 1 == width {
        return match dir {
            Dir::C2S => format!("{label}▶"),
            Dir::S2C => format!("◀{label}"),
        };
    }
    // The shaft gives way: label + " " + fill + "▶"  or  "◀ " + label + " " + fill.
    let label: String =
        if len + 2 > width { label.chars().take(width - 3).chain(['…']).collect() } else { label.to_string() };
    let fill = width - 2 - label.chars().count();
    match dir {
        Dir::C2S => format!("{label} {}▶", "─".repeat(fill)),
        Dir::S2C if fill == 0 => format!("◀ {label}"),
        Dir::S2C => format!("◀ {label} {}", "─".repeat(fill - 1)),
    }
}

#[cfg(test)]
mod arrow_tests {
    use super::*;

    /// The shaft gives way before the label: a label is cut only when it is
    /// longer than the arrow less its head; every arrow is `width` wide.
    #[test]
    fn the_shaft_gives_way_before_the_label() {
        let label = "PSH-ACK seq=1 ack=1 len=5 \"hello\"";
        assert_eq!(arrow_text(Dir::C2S, label, 40), format!("── {label} ──▶"));
        assert_eq!(arrow_text(Dir::C2S, label, 36), format!("{label} ─▶"));
        assert_eq!(arrow_text(Dir::C2S, label, 35), format!("{label} ▶"));
        assert_eq!(arrow_text(Dir::S2C, label, 35), format!("◀ {label}"));
        assert_eq!(arrow_text(Dir::S2C, label, 37), format!("◀ {label} ─"));
        assert_eq!(arrow_text(Dir::C2S, label, 34), format!("{label}▶"));
        assert_eq!(arrow_text(Dir::S2C, label, 34), format!("◀{label}"));
        assert_eq!(arrow_text(Dir::C2S, label, 20), "PSH-ACK seq=1 ack… ▶");
        for width in 8..60 {
            for dir in [Dir::C2S, Dir::S2C] {
                let a = arrow_text(dir, label, width);
                assert_eq!(a.chars().count(), width, "{width}: {a}");
                assert_eq!(a.contains(label), width > label.len(), "{width}: {a}");
            }
        }
    }
}

/// Lays out `conn` with arrows as wide as `fit` chooses, given the widths of
/// the client's and the server's state columns (each [`STATE_WIDTH`], or
/// wider for a mark that names two states, `FIN-WAIT-1→CLOSING`): the
/// dashboard's ladder, whose columns depend on the terminal's width only, so
/// that lifelines stay put whatever labels arrive. The dashboard draws each
/// state column at its own width; the geometry's `state_width` is the wider.
#[must_use]
pub fn layout_columns(conn: &Connection, fit: impl FnOnce(usize, usize) -> Geometry) -> Ladder {
    let arrows = timeline::arrows(conn);
    let side = |client: bool| {
        arrows
            .iter()
            .map(|a| {
                if client {
                    timeline::mark_width(a.client_via, a.client_mark)
                } else {
                    timeline::mark_width(a.server_via, a.server_mark)
                }
            })
            .max()
            .unwrap_or(0)
            .max(STATE_WIDTH)
    };
    let geometry = fit(side(true), side(false));
    let rows = arrows.iter().map(|a| row(a, geometry.arrow_width)).collect();
    Ladder { header: header(conn, &geometry), rows, geometry }
}

/// Lays out `conn` within `width` columns (exports pass `None` to fit the
/// longest label), `lead` of them before the client's state column.
#[must_use]
pub fn layout(conn: &Connection, width: Option<usize>, lead: usize) -> Ladder {
    let arrows = timeline::arrows(conn);
    let longest = arrows.iter().map(|a| a.label.chars().count()).max().unwrap_or(0);
    let geometry = Geometry::fit(longest, mark_width(&arrows), width, lead);
    let rows = arrows.iter().map(|a| row(a, geometry.arrow_width)).collect();
    Ladder { header: header(conn, &geometry), rows, geometry }
}

/// The longest state mark of `arrows`.
fn mark_width(arrows: &[Arrow]) -> usize {
    arrows
        .iter()
        .flat_map(|a| {
            [timeline::mark_width(a.client_via, a.client_mark), timeline::mark_width(a.server_via, a.server_mark)]
        })
        .max()
        .unwrap_or(0)
}

fn row(a: &Arrow, arrow_width: usize) -> Row {
    Row {
        left: timeline::mark_text(a.client_via, a.client_mark),
        arrow: arrow_text(a.dir, &a.label, arrow_width),
        label: a.label.clone(),
        right: timeline::mark_text(a.server_via, a.server_mark),
        note: a.note.clone(),
        phase: a.phase,
        retransmission: a.retransmission,
        dir: a.dir,
        crossing: a.crossing,
    }
}

/// The glyph a socket call's row carries on its caller's lifeline.
pub const CALL_GLYPH: char = '◆';

/// A socket call's text: the caller and the call, `python3[4242] close()`,
/// `pid 4242 recv() = 0` when the process's name is unknown.
#[must_use]
pub fn call_label(call: &crate::model::connection::CallRow) -> String {
    format!("{} {}", call.caller(), call.text())
}

/// A socket call's row in the arrow column, exactly `width` characters: on
/// the caller's lifeline, `◆ python3[4242] close()` from the client's
/// side, `recv() = 10 synack[7] ◆`... from the server's (no arrow head: it
/// is not a segment). A label too long is cut with `…`.
#[must_use]
pub fn call_text(call: &crate::model::connection::CallRow, width: usize) -> String {
    let label = call_label(call);
    let room = width.saturating_sub(2);
    // In terminal columns: a program's name may hold wide characters.
    let label: String = if crate::i18n::width(&label) > room {
        let mut cut = String::new();
        let mut used = 0;
        for c in label.chars() {
            let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if used + w + 1 > room {
                break;
            }
            cut.push(c);
            used += w;
        }
        cut.push('…');
        cut
    } else {
        label
    };
    let fill = " ".repeat(room.saturating_sub(crate::i18n::width(&label)));
    match call.side {
        crate::model::tracker::Role::Client => format!("{CALL_GLYPH} {label}{fill}"),
        crate::model::tracker::Role::Server => format!("{fill}{label} {CALL_GLYPH}"),
    }
}

/// A socket call's line of a text ladder: the arrow column of `geometry`
/// holds [`call_text`], between the two lifelines.
#[must_use]
pub fn call_line(call: &crate::model::connection::CallRow, geometry: &Geometry) -> String {
    let w = geometry.state_width;
    let line = format!("{:>w$} │ {} │", "", call_text(call, geometry.arrow_width));
    line.trim_end().to_owned()
}

/// Where a socket call goes among a connection's rows: after the row of the
/// last segment captured before it (`None`: before the first row). A call
/// made at the instant of a segment comes before it (it caused it).
#[must_use]
pub fn call_after(conn: &Connection, call: &crate::model::connection::CallRow) -> Option<usize> {
    conn.records.iter().rposition(|r| r.ts < call.ts)
}

/// The header line: id, then each endpoint above its lifeline.
#[must_use]
pub fn header(conn: &Connection, geometry: &Geometry) -> String {
    let mut s = String::new();
    push_header(&mut s, conn, geometry);
    s
}

/// Appends [`header`].
pub fn push_header(out: &mut String, conn: &Connection, geometry: &Geometry) {
    let w = timeline::words::of(timeline::words::lang());
    let start = out.len();
    // `#{id:<3} client {addr}`
    out.push('#');
    let id = itoa::Buffer::new().format(conn.id).len();
    timeline::push_int(out, conn.id);
    out.push_str(&"   "[id.min(3)..]);
    out.push(' ');
    w.client.push(out, |o| timeline::push_addr(o, conn.client.addr));
    // The server label starts where the server lifeline is (in columns:
    // a Chinese word takes two).
    let at = geometry.server_lifeline() - geometry.lead;
    let head = &out[start..];
    let used = if head.is_ascii() { head.len() } else { crate::i18n::width(head) };
    let pad = at.saturating_sub(used).max(2);
    for _ in 0..pad {
        out.push(' ');
    }
    w.server.push(out, |o| timeline::push_addr(o, conn.server.addr));
    if !conn.encap.is_empty() {
        out.push_str("   ");
        w.carried_in.push(out, |o| o.push_str(&conn.encap.names().join(" › ")));
    }
}

/// Reusable buffers for [`write_text`]: with them, writing a ladder
/// allocates nothing once they have grown to the longest connection.
#[derive(Debug, Default)]
pub struct TextScratch {
    /// Every row's label and note, one after the other.
    text: String,
    rows: Vec<TextRow>,
}

#[derive(Debug)]
struct TextRow {
    dir: Dir,
    marks: timeline::Marks,
    label: std::ops::Range<usize>,
    label_chars: usize,
    note: std::ops::Range<usize>,
}

/// Appends `n` copies of `s`: from a run of 64 of them at a time where
/// there is one (spaces, arrow shafts), one by one otherwise.
fn push_repeat(out: &mut String, s: &str, mut n: usize) {
    const SPACES: &str = "                                                                ";
    const SHAFT: &str = "────────────────────────────────────────────────────────────────";
    let run = match s {
        " " => SPACES,
        "─" => SHAFT,
        _ => "",
    };
    if !run.is_empty() {
        while n > 0 {
            let k = n.min(64);
            out.push_str(&run[..k * s.len()]);
            n -= k;
        }
    }
    for _ in 0..n {
        out.push_str(s);
    }
}

/// Appends the text ladder of `conn` to `out`: exactly
/// `layout(conn, None, 0).to_text()`, without a string per row (the hot
/// path of `trace --format text`).
pub fn write_text(conn: &Connection, scratch: &mut TextScratch, out: &mut String) {
    scratch.text.clear();
    scratch.rows.clear();
    let (mut longest, mut mark) = (0, 0);
    let mut prev = None;
    for (i, r) in conn.records.iter().enumerate() {
        let marks = timeline::Marks::of(prev, r);
        prev = Some(r);
        let at = scratch.text.len();
        let label_chars = timeline::push_label(&mut scratch.text, r);
        let label = at..scratch.text.len();
        timeline::push_note(&mut scratch.text, conn, i, r);
        let note = label.end..scratch.text.len();
        longest = longest.max(label_chars);
        mark = mark
            .max(timeline::mark_width(marks.client_via, marks.client_mark))
            .max(timeline::mark_width(marks.server_via, marks.server_mark));
        scratch.rows.push(TextRow { dir: r.dir, marks, label, label_chars, note });
    }
    let g = Geometry::fit(longest, mark, None, 0);
    let w = g.state_width;
    push_header(out, conn, &g);
    out.push('\n');
    for r in &scratch.rows {
        let line = out.len();
        let m = r.marks;
        push_repeat(out, " ", w - timeline::mark_width(m.client_via, m.client_mark));
        timeline::push_mark(out, m.client_via, m.client_mark);
        out.push_str(" │ ");
        // The arrow is as wide as the geometry says (no label is cut: the
        // arrow fits the longest).
        let fill = g.arrow_width - 5 - r.label_chars;
        let label = &scratch.text[r.label.clone()];
        match r.dir {
            Dir::C2S => {
                out.push_str("── ");
                out.push_str(label);
                out.push(' ');
                push_repeat(out, "─", fill);
                out.push('▶');
            }
            Dir::S2C => {
                out.push_str("◀── ");
                out.push_str(label);
                out.push(' ');
                push_repeat(out, "─", fill);
            }
        }
        out.push_str(" │ ");
        let right = timeline::push_mark(out, m.server_via, m.server_mark);
        // Without a note, no padding for it (trimmed anyway).
        let note = &scratch.text[r.note.clone()];
        if !note.is_empty() {
            push_repeat(out, " ", w - right + 2);
            out.push_str(note);
        }
        let end = line + out[line..].trim_end().len();
        out.truncate(end);
        out.push('\n');
    }
}

impl Ladder {
    /// Plain text, one line per row, without trailing spaces.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.header);
        out.push('\n');
        for r in &self.rows {
            let w = self.geometry.state_width;
            let line = format!("{:>w$} │ {} │ {:<w$}  {}", r.left, r.arrow, r.right, r.note);
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn push_repeat_is_repeat() {
        for s in [" ", "─", "x"] {
            for n in 0..200 {
                let mut out = String::from("<");
                super::push_repeat(&mut out, s, n);
                assert_eq!(out, format!("<{}", s.repeat(n)), "{n} of {s:?}");
            }
        }
    }
}
