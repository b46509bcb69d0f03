//! Where each panel of the dashboard goes: a pure function of the terminal's
//! size and whether the state diagram is on, used by rendering
//! ([`super::ui`]) and by `update` (mouse clicks, page keys) alike. It knows
//! nothing of the app's state, so that neither depends on the other through
//! it.
//!
//! The panels' heights depend on the terminal only, never on the text they
//! hold: stepping through a connection never moves the ladder's rows (what
//! does not fit the explanation panel is announced on its border).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

use crate::figure;
use crate::ladder;

/// The smallest terminal the layout fits.
pub const MIN_WIDTH: u16 = 80;
/// 23, not 24: tmux inside an 80 x 24 terminal leaves 23 rows.
pub const MIN_HEIGHT: u16 = 23;

/// The diagram panel's size: the figure, its borders, two lines of moves.
pub const DIAGRAM_WIDTH: u16 = figure::WIDTH + 2;
/// See [`DIAGRAM_WIDTH`].
pub const DIAGRAM_HEIGHT: u16 = figure::HEIGHT + 4;
/// Rows the ladder and the explanation keep below the diagram at least.
const BELOW_DIAGRAM: u16 = 13;
/// The narrowest ladder beside the diagram.
const LADDER_BESIDE: u16 = 100;
/// The narrowest connection list beside the diagram.
const LIST_BESIDE: u16 = 60;
/// Rows of the ladder's panel at least (its borders included).
const LADDER_MIN: u16 = 6;

/// What `d` says when the diagram does not fit.
pub const DIAGRAM_TOO_SMALL: &str =
    "the state diagram needs a terminal of at least 92 x 40 (beside the ladder: 192 x 40); enlarge it";

/// [`DIAGRAM_TOO_SMALL`] in the current language.
#[must_use]
pub fn diagram_too_small() -> String {
    crate::t!("tui-diagram-too-small")
}

/// Where each panel goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Screen {
    pub status: Rect,
    /// The connection list (height 0 when the diagram takes its place).
    pub list: Rect,
    pub ladder: Rect,
    pub explain: Rect,
    pub footer: Rect,
    /// The state-diagram panel, when it is on and fits.
    pub diagram: Option<Rect>,
}

/// Whether the diagram fits `area`, and where it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Diagram {
    Off,
    /// Right of the ladder.
    Beside,
    /// Above the ladder, in the list's place; the list beside it when it fits.
    Above {
        list: bool,
    },
}

impl Diagram {
    fn of(area: Rect, on: bool) -> Diagram {
        let tall = area.height >= DIAGRAM_HEIGHT + BELOW_DIAGRAM;
        if !on || !tall || area.width < DIAGRAM_WIDTH {
            Diagram::Off
        } else if area.width >= DIAGRAM_WIDTH + LADDER_BESIDE {
            Diagram::Beside
        } else {
            Diagram::Above { list: area.width >= DIAGRAM_WIDTH + LIST_BESIDE }
        }
    }
}

impl Screen {
    /// The layout of `area` with the diagram on or off, or `None` when the
    /// terminal is too small.
    #[must_use]
    pub fn of(area: Rect, diagram: bool) -> Option<Screen> {
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            return None;
        }
        let place = Diagram::of(area, diagram);
        // The list: borders, a header row, then the connections; taller on
        // taller terminals, whatever the number of connections.
        let list_height = match area.height {
            0..30 => 5,
            30..40 => 8,
            _ => 11,
        };
        let top = match place {
            Diagram::Above { .. } => DIAGRAM_HEIGHT,
            Diagram::Off | Diagram::Beside => list_height,
        };
        // Below the top: the ladder and the explanation share the rows, about
        // half each, the ladder keeping six at least.
        let rest = area.height.saturating_sub(2 + top);
        let explain_height = (rest / 2).clamp(5, 14).min(rest.saturating_sub(LADDER_MIN));
        let [status, top, ladder, explain, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(top),
            Constraint::Min(LADDER_MIN),
            Constraint::Length(explain_height),
            Constraint::Length(1),
        ])
        .areas(area);
        let (list, ladder, diagram) = match place {
            Diagram::Off => (top, ladder, None),
            Diagram::Above { list: false } => (Rect { height: 0, ..top }, ladder, Some(top)),
            Diagram::Above { list: true } => {
                let [list, diagram] =
                    Layout::horizontal([Constraint::Min(LIST_BESIDE), Constraint::Length(DIAGRAM_WIDTH)]).areas(top);
                (list, ladder, Some(diagram))
            }
            Diagram::Beside => {
                let [ladder, diagram] =
                    Layout::horizontal([Constraint::Min(LADDER_BESIDE), Constraint::Length(DIAGRAM_WIDTH)])
                        .areas(ladder);
                (top, ladder, Some(Rect { height: diagram.height.min(DIAGRAM_HEIGHT), ..diagram }))
            }
        };
        Some(Screen { status, list, ladder, explain, footer, diagram })
    }

    /// Whether the diagram is wanted but does not fit `area`.
    #[must_use]
    pub fn diagram_too_small(area: Rect) -> bool {
        Screen::of(area, true).is_some_and(|s| s.diagram.is_none())
    }

    /// The rows of the connection list that hold connections (inside the
    /// border, below the header).
    #[must_use]
    pub fn list_rows(&self) -> Rect {
        let inner = Block::bordered().inner(self.list);
        Rect { y: inner.y + 1, height: inner.height.saturating_sub(1), ..inner }
    }
}

/// The ladder's arrow keeps a label of this many characters whole: the
/// tutorial's data segments (`PSH-ACK seq=1 ack=11 len=10 "HELLOWORLD"`).
pub const LABEL_ROOM: usize = 40;
/// An arrow that holds [`LABEL_ROOM`] with a shaft to see: `── ` label ` `
/// shaft `▶`.
const ARROW_WHOLE: usize = LABEL_ROOM + 8;
/// The note column (`handshake 1/3`, `teardown 2+3/4`), with its two spaces.
const NOTE_COLUMN: usize = 2 + ladder::Geometry::NOTE_MIN;
/// Room for a long note (`teardown 1/4 ✕ FINs cross`) before the arrow grows.
const NOTE_ROOMY: usize = 28;

/// How wide the ladder's panel (borders included) must be for a time column
/// `time` columns wide to show.
#[must_use]
pub fn times_need(time: usize) -> u16 {
    u16::try_from(2 + 2 * ladder::STATE_WIDTH + 6 + ARROW_WHOLE + NOTE_ROOMY + time).unwrap_or(u16::MAX)
}

/// The ladder's columns in `width` columns, the client's state column
/// `client` wide and the server's `server`: the arrows' width and the time
/// column's (0 when it does not show). What matters most gets room first:
/// the lifelines and states, a label whole (the arrow's shaft gives way
/// first, down to a label of [`LABEL_ROOM`] and a short shaft), then the notes, then room for long
/// notes, then the times; what is left lengthens the arrows. A function of
/// the width only: the lifelines stay put whatever arrives.
#[must_use]
pub fn ladder_columns(width: usize, client: usize, server: usize, time: usize) -> (usize, usize) {
    let base = client + server + 6;
    let notes = width >= base + ARROW_WHOLE + NOTE_COLUMN;
    let lead = if width >= base + ARROW_WHOLE + NOTE_ROOMY + time { time } else { 0 };
    let free = width.saturating_sub(base + lead);
    let arrow = if !notes {
        free
    } else if free <= ARROW_WHOLE + NOTE_ROOMY {
        ARROW_WHOLE
    } else {
        (free - NOTE_ROOMY).min(ladder::FILL_ARROW)
    };
    (arrow.max(8), lead)
}

/// Index of the first of `len` connections a list of `rows` rows shows: the
/// newest page when following, else a page that holds the selection (at
/// `selected`).
#[must_use]
pub fn list_offset(follow: bool, selected: usize, len: usize, rows: usize) -> usize {
    let offset = if follow { len.saturating_sub(rows) } else { selected.saturating_sub(rows.saturating_sub(1)) };
    offset.min(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layouts the issue names: each panel where it should be, the
    /// ladder at least six rows, nothing overlapping.
    #[test]
    fn every_size_has_its_panels() {
        for (w, h) in [(80, 23), (80, 24), (100, 30), (120, 40), (160, 45), (200, 60)] {
            for diagram in [false, true] {
                let area = Rect::new(0, 0, w, h);
                let s = Screen::of(area, diagram).unwrap();
                assert!(s.ladder.height >= LADDER_MIN, "{w}x{h} {diagram}: {s:?}");
                assert!(s.explain.height >= 5, "{w}x{h} {diagram}: {s:?}");
                assert_eq!(s.status.y, 0);
                assert_eq!(s.footer.y, h - 1);
                assert_eq!(s.explain.y + s.explain.height, h - 1, "{w}x{h} {diagram}: {s:?}");
                if let Some(d) = s.diagram {
                    assert!(!d.intersects(s.ladder) && !d.intersects(s.explain), "{w}x{h}: {s:?}");
                    assert!(s.list.height == 0 || !d.intersects(s.list), "{w}x{h}: {s:?}");
                }
            }
        }
        // 160 x 45 with the diagram: the list stays, beside it, and the
        // ladder keeps six rows of segments.
        let s = Screen::of(Rect::new(0, 0, 160, 45), true).unwrap();
        assert!(s.diagram.is_some() && s.list.height > 0 && s.list.width >= LIST_BESIDE, "{s:?}");
        assert!(s.ladder.height >= 8, "{s:?}");
        // Too small for the diagram: said, and the rest as without it.
        assert!(Screen::diagram_too_small(Rect::new(0, 0, 80, 24)));
        assert!(!Screen::diagram_too_small(Rect::new(0, 0, 120, 40)));
        assert_eq!(Screen::of(Rect::new(0, 0, 79, 40), false), None);
        assert_eq!(Screen::of(Rect::new(0, 0, 80, 22), false), None);
    }

    /// The tutorial's longest label whole at every width, the notes from
    /// 97 columns, the times from 118; a wider terminal widens the arrows.
    #[test]
    fn the_ladder_keeps_labels_whole_then_notes_then_times() {
        for width in 78..=198 {
            let (arrow, lead) = ladder_columns(width, 12, 12, 10);
            assert!(arrow >= LABEL_ROOM + 2, "{width}: {arrow}");
            let used = lead + 2 * 12 + 6 + arrow;
            assert!(used <= width, "{width}: {arrow} {lead}");
            assert_eq!(width - used >= NOTE_COLUMN, width >= 95, "{width}: {arrow} {lead}");
            assert_eq!(lead > 0, width + 2 >= usize::from(times_need(10)), "{width}");
            assert!(arrow <= ladder::FILL_ARROW);
        }
        assert_eq!(times_need(10), 118);
        // A simultaneous close's two-state mark (`FIN-WAIT-1→CLOSING`, 18)
        // on one side: at 80 columns the dashboard's reply label (41
        // characters, `"HELLOWORLD\n"`) still fits, its shaft gone.
        let (arrow, _) = ladder_columns(78, 18, 12, 10);
        assert!(arrow > 41, "{arrow}");
    }

    #[test]
    fn the_list_page_holds_the_selection() {
        assert_eq!(list_offset(true, 29, 30, 5), 25);
        assert_eq!(list_offset(false, 3, 30, 5), 0);
        assert_eq!(list_offset(false, 12, 30, 5), 8);
        assert_eq!(list_offset(false, 0, 0, 5), 0);
    }
}
