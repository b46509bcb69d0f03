//! RFC 9293's state diagram (figure 5) laid out on a grid of characters, as
//! the RFC draws it: CLOSED at the top, the handshake's states below it, the
//! closing states at the bottom, the client's usual path down the left and the
//! server's down the right. Every cell knows what it belongs to (a state's box
//! or one arrow), so the dashboard and the SVG export can light the states
//! both endpoints are in and the arrows they took. Pure: no IO.
//!
//! ```text
//!                               [  CLOSED  ]══ active OPEN / create TCB, snd SYN ═══╗
//! ```
//! (the full figure is in `tests/snapshots`; arrows are box-drawing lines, so
//! it reads without colour.)

use crate::model::classify::Role;
use crate::model::connection::Connection;
use crate::model::diagram::{self, Transition, arrow};
use crate::model::tcp::TcpState;

/// What a cell of the figure belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    None,
    /// The box of [`PLACES`]`[i]`.
    Place(usize),
    /// The arrow [`EDGES`]`[i]` (its line, its head or its label).
    Edge(usize),
}

/// One cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    pub ch: char,
    pub owner: Owner,
}

/// Where a state's box is: its row and first column; its text is
/// `[  NAME  ]`, the two inner blanks left for the endpoints' marks.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub state: TcpState,
    pub name: &'static str,
    pub x: u16,
    pub y: u16,
}

impl Place {
    /// Columns the box takes.
    #[must_use]
    pub fn width(&self) -> u16 {
        u16::try_from(self.name.len()).unwrap_or(0) + 6
    }
    /// Column of the client's mark (left inside the box).
    #[must_use]
    pub fn client_mark(&self) -> u16 {
        self.x + 1
    }
    /// Column of the server's mark (right inside the box).
    #[must_use]
    pub fn server_mark(&self) -> u16 {
        self.x + self.width() - 2
    }
}

/// The figure's boxes. CLOSED is drawn twice, as in the RFC: at the top
/// (before a connection) and at the bottom right (after it).
pub const PLACES: [Place; 12] = [
    Place { state: TcpState::Closed, name: "CLOSED", x: 36, y: 0 },
    Place { state: TcpState::Listen, name: "LISTEN", x: 36, y: 4 },
    Place { state: TcpState::SynReceived, name: "SYN-RCVD", x: 0, y: 8 },
    Place { state: TcpState::SynSent, name: "SYN-SENT", x: 74, y: 8 },
    Place { state: TcpState::Established, name: "ESTAB", x: 37, y: 12 },
    Place { state: TcpState::FinWait1, name: "FIN-WAIT-1", x: 0, y: 15 },
    Place { state: TcpState::CloseWait, name: "CLOSE-WAIT", x: 72, y: 15 },
    Place { state: TcpState::FinWait2, name: "FIN-WAIT-2", x: 0, y: 19 },
    Place { state: TcpState::Closing, name: "CLOSING", x: 35, y: 19 },
    Place { state: TcpState::LastAck, name: "LAST-ACK", x: 74, y: 19 },
    Place { state: TcpState::TimeWait, name: "TIME-WAIT", x: 34, y: 22 },
    Place { state: TcpState::Closed, name: "CLOSED", x: 78, y: 22 },
];

/// The top CLOSED box.
pub const CLOSED_BEFORE: usize = 0;
/// The bottom CLOSED box.
pub const CLOSED_AFTER: usize = 11;

/// One arrow: a polyline from just outside its source box to its head
/// (the last point), and where its label starts. The label is the RFC's
/// ([`arrow`]); on a horizontal run it is written into the line.
#[derive(Clone, Copy, Debug)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub points: &'static [(u16, u16)],
    pub label: (u16, u16),
}

/// The arrows of figure 5, between [`PLACES`].
pub const EDGES: [Edge; 19] = [
    // CLOSED -> LISTEN, LISTEN -> CLOSED
    Edge { from: 0, to: 1, points: &[(40, 1), (40, 3)], label: (12, 2) },
    Edge { from: 1, to: 0, points: &[(45, 3), (45, 1)], label: (47, 3) },
    // CLOSED -> SYN-SENT
    Edge { from: 0, to: 3, points: &[(47, 0), (86, 0), (86, 7)], label: (49, 0) },
    // SYN-SENT -> CLOSED
    Edge { from: 3, to: 0, points: &[(77, 7), (77, 2), (47, 2), (47, 1)], label: (54, 1) },
    // LISTEN -> SYN-RCVD, LISTEN -> SYN-SENT
    Edge { from: 1, to: 2, points: &[(35, 4), (6, 4), (6, 7)], label: (11, 4) },
    Edge { from: 1, to: 3, points: &[(47, 4), (80, 4), (80, 7)], label: (53, 4) },
    // SYN-SENT -> SYN-RCVD
    Edge { from: 3, to: 2, points: &[(73, 8), (14, 8)], label: (33, 8) },
    // SYN-SENT -> ESTAB, SYN-RCVD -> ESTAB
    Edge { from: 3, to: 4, points: &[(78, 9), (78, 10), (45, 10), (45, 11)], label: (52, 10) },
    Edge { from: 2, to: 4, points: &[(6, 9), (6, 10), (40, 10), (40, 11)], label: (12, 10) },
    // SYN-RCVD -> FIN-WAIT-1, ESTAB -> FIN-WAIT-1
    Edge { from: 2, to: 5, points: &[(2, 9), (2, 14)], label: (3, 11) },
    Edge { from: 4, to: 5, points: &[(36, 12), (12, 12), (12, 14)], label: (16, 12) },
    // ESTAB -> CLOSE-WAIT
    Edge { from: 4, to: 6, points: &[(47, 12), (79, 12), (79, 14)], label: (55, 12) },
    // FIN-WAIT-1 -> FIN-WAIT-2, FIN-WAIT-1 -> CLOSING
    Edge { from: 5, to: 7, points: &[(4, 16), (4, 18)], label: (6, 17) },
    Edge { from: 5, to: 8, points: &[(17, 15), (40, 15), (40, 18)], label: (20, 15) },
    // CLOSE-WAIT -> LAST-ACK
    Edge { from: 6, to: 9, points: &[(79, 16), (79, 18)], label: (62, 17) },
    // FIN-WAIT-2 -> TIME-WAIT, CLOSING -> TIME-WAIT
    Edge { from: 7, to: 10, points: &[(4, 20), (4, 22), (33, 22)], label: (8, 22) },
    Edge { from: 8, to: 10, points: &[(40, 20), (40, 21)], label: (42, 20) },
    // LAST-ACK -> CLOSED, TIME-WAIT -> CLOSED
    Edge { from: 9, to: 11, points: &[(83, 20), (83, 21)], label: (63, 21) },
    Edge { from: 10, to: 11, points: &[(49, 22), (77, 22)], label: (50, 22) },
];

/// The RFC's label of arrow `i`.
#[must_use]
pub fn label(i: usize) -> &'static str {
    arrow(PLACES[EDGES[i].from].state, PLACES[EDGES[i].to].state).unwrap_or("?")
}

/// The figure's size in cells.
pub const WIDTH: u16 = 90;
pub const HEIGHT: u16 = 23;

/// The figure: [`HEIGHT`] rows of [`WIDTH`] cells.
#[must_use]
pub fn cells() -> Vec<Vec<Cell>> {
    let blank = Cell { ch: ' ', owner: Owner::None };
    let mut grid = vec![vec![blank; usize::from(WIDTH)]; usize::from(HEIGHT)];
    for (i, e) in EDGES.iter().enumerate() {
        draw_edge(&mut grid, i, e);
    }
    for (i, e) in EDGES.iter().enumerate() {
        put(&mut grid, e.label.0, e.label.1, &format!(" {} ", label(i)), Owner::Edge(i));
    }
    for (i, p) in PLACES.iter().enumerate() {
        put(&mut grid, p.x, p.y, &format!("[  {}  ]", p.name), Owner::Place(i));
    }
    grid
}

fn put(grid: &mut [Vec<Cell>], x: u16, y: u16, text: &str, owner: Owner) {
    let row = &mut grid[usize::from(y)];
    for (k, ch) in text.chars().enumerate() {
        if let Some(c) = row.get_mut(usize::from(x) + k) {
            *c = Cell { ch, owner };
        }
    }
}

/// Lines, corners where the direction turns, a crossing where a line meets
/// another's, and the head.
fn draw_edge(grid: &mut [Vec<Cell>], i: usize, e: &Edge) {
    let owner = Owner::Edge(i);
    for pair in e.points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let horizontal = y0 == y1;
        let (a, b) = if horizontal { (x0.min(x1), x0.max(x1)) } else { (y0.min(y1), y0.max(y1)) };
        for k in a..=b {
            let (x, y) = if horizontal { (k, y0) } else { (x0, k) };
            let cell = &mut grid[usize::from(y)][usize::from(x)];
            let line = if horizontal { '─' } else { '│' };
            let crossing = matches!((cell.ch, line), ('│', '─') | ('─', '│'));
            *cell = Cell { ch: if crossing { '┼' } else { line }, owner };
        }
    }
    // Corners: the turn from the run before to the run after.
    for w in e.points.windows(3) {
        let (a, (x1, y1), c) = (w[0], w[1], w[2]);
        let (h, v) = if a.1 == y1 { (a, c) } else { (c, a) };
        let (horizontal_side_left, vertical_side_up) = (h.0 < x1, v.1 < y1);
        let ch = match (horizontal_side_left, vertical_side_up) {
            (true, true) => '┘',
            (true, false) => '┐',
            (false, true) => '└',
            (false, false) => '┌',
        };
        grid[usize::from(y1)][usize::from(x1)] = Cell { ch, owner };
    }
    let n = e.points.len();
    let ((px, py), (hx, hy)) = (e.points[n - 2], e.points[n - 1]);
    let head = if py == hy {
        if hx > px { '▶' } else { '◀' }
    } else if hy > py {
        '▼'
    } else {
        '▲'
    };
    grid[usize::from(hy)][usize::from(hx)] = Cell { ch: head, owner };
}

/// The edge for a transition of figure 5, if it is one.
#[must_use]
pub fn edge(from: TcpState, to: TcpState) -> Option<usize> {
    EDGES.iter().position(|e| PLACES[e.from].state == from && PLACES[e.to].state == to)
}

/// The box showing `state`; CLOSED is the bottom box once the endpoint has
/// left it (`after`), the top one before.
#[must_use]
pub fn place(state: TcpState, after: bool) -> Option<usize> {
    if state == TcpState::Closed {
        return Some(if after { CLOSED_AFTER } else { CLOSED_BEFORE });
    }
    PLACES.iter().position(|p| p.state == state)
}

/// What the figure shows for one row of a connection's ladder: the box each
/// endpoint is in after that segment, and the transitions the segment caused,
/// each with its arrow when figure 5 draws one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lit {
    /// Boxes of the client's and the server's states ([`PLACES`] indices).
    pub client: usize,
    pub server: usize,
    /// The segment's transitions, in order, with the arrow each took.
    pub moves: Vec<(Role, Transition, Option<usize>)>,
}

/// The figure lit for row `row` of `conn`: the states are the row's.
#[must_use]
pub fn lit(conn: &Connection, row: usize) -> Lit {
    let mut moves = Vec::new();
    let mut boxes = [CLOSED_BEFORE; 2];
    for (k, role) in [Role::Client, Role::Server].into_iter().enumerate() {
        let path = diagram::path(conn, role);
        let left = path.iter().any(|t| t.row <= row);
        let state = conn.records.get(row).map_or(conn.initial(role), |r| r.state(role));
        boxes[k] = place(state, left).unwrap_or(CLOSED_BEFORE);
        for t in path.into_iter().filter(|t| t.row == row) {
            let e = t.label.ok().and_then(|_| edge(t.from, t.to));
            moves.push((role, t, e));
        }
    }
    Lit { client: boxes[0], server: boxes[1], moves }
}

/// The figure as plain text, one line per row, trailing blanks trimmed.
#[must_use]
pub fn text() -> String {
    let mut out = String::new();
    for row in cells() {
        let line: String = row.iter().map(|c| c.ch).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_arrow_of_the_rfc_figure_is_drawn_once_between_its_boxes() {
        let states = TcpState::ALL;
        let mut drawn = 0;
        for from in states {
            for to in states {
                if arrow(from, to).is_some() {
                    assert!(edge(from, to).is_some(), "{from:?} -> {to:?} is not drawn");
                    drawn += 1;
                }
            }
        }
        assert_eq!(drawn, EDGES.len());
    }

    #[test]
    fn labels_and_boxes_do_not_overwrite_one_another() {
        // Every label and box is whole in the finished figure.
        let grid = cells();
        let text = |x: u16, y: u16, n: usize| -> String {
            grid[usize::from(y)].iter().skip(usize::from(x)).take(n).map(|c| c.ch).collect()
        };
        for e in EDGES {
            let label = format!(" {} ", arrow(PLACES[e.from].state, PLACES[e.to].state).unwrap());
            assert_eq!(text(e.label.0, e.label.1, label.chars().count()), label);
        }
        for p in PLACES {
            let label = format!("[  {}  ]", p.name);
            assert_eq!(text(p.x, p.y, label.len()), label);
        }
        // Each arrow's head is still its own.
        for (i, e) in EDGES.iter().enumerate() {
            let (x, y) = *e.points.last().unwrap();
            assert_eq!(grid[usize::from(y)][usize::from(x)].owner, Owner::Edge(i), "head of {i}");
        }
    }
}
