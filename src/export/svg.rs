//! `trace --format svg`: one self-contained SVG with every connection's ladder
//! stacked: lifelines, one arrow per segment with its label, the states beside
//! each lifeline, colours by meaning, a title with the endpoints and the close
//! verdict. No external fonts or scripts; all text is XML-escaped.
//!
//! The SVG's height is known only once every connection is in, so the body is
//! buffered and written by [`Exporter::finish`].

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Exporter;
use crate::ladder;
use crate::model::timeline;
use crate::model::tracker::{Connection, Dir, Phase};
use crate::t;

const WIDTH: u32 = 960;
const ROW: u32 = 30;
const LEFT: u32 = 190;
const RIGHT: u32 = 650;
const HEADER: u32 = 64;

/// SVG ladders.
#[derive(Default)]
pub struct SvgExporter {
    body: String,
    height: u32,
    /// RFC 9293's state diagram beside each ladder, with the path each
    /// endpoint took through it (`--diagram`).
    diagram: bool,
}

/// The figure's cell size and where it starts.
const FIG_X: u32 = WIDTH + 10;
const CELL_H: u32 = 16;
const FIG_WIDTH: u32 = 670;
/// Characters of the figure's 12 px text that fit [`FIG_WIDTH`] (a monospace
/// character is about 0.6 em, 7.2 px).
const FIG_CHARS: usize = 90;
const CLIENT: &str = "#1f77b4";
const SERVER: &str = "#d2691e";

/// RFC 9293's figure 5 at (`FIG_X`, `y0`): the arrows the client took in
/// blue, the server's in orange (both: a dash pattern of both), the states
/// each endpoint ended in marked C and S, then both paths in words.
/// Returns its height.
fn figure(s: &mut String, conn: &Connection, y0: u32) -> u32 {
    use crate::figure::{self as fig, Owner};
    use crate::model::diagram;
    use crate::model::tracker::Role;
    let paths = [diagram::path(conn, Role::Client), diagram::path(conn, Role::Server)];
    let took = |k: usize, e: usize| paths[k].iter().any(|t| t.label.is_ok() && fig::edge(t.from, t.to) == Some(e));
    let last = conn.records.len().saturating_sub(1);
    let lit = fig::lit(conn, last);
    let _ = writeln!(
        s,
        r#"<g class="diagram"><text x="{FIG_X}" y="{}" class="title">{}</text>"#,
        y0 + 24,
        t!(
            "rows-fig-title",
            blue = format!(r#"<tspan fill="{CLIENT}">{}</tspan>"#, escape(&t!("rows-fig-blue"))),
            orange = format!(r#"<tspan fill="{SERVER}">{}</tspan>"#, escape(&t!("rows-fig-orange"))),
        )
    );
    let top = y0 + HEADER - 16;
    for (y, row) in fig::cells().iter().enumerate() {
        let y = top + u32::try_from(y).unwrap_or(0) * CELL_H;
        // Runs of cells with the same look, one <tspan> each.
        let mut runs: Vec<(&str, String)> = Vec::new();
        for (x, cell) in row.iter().enumerate() {
            let mut ch = cell.ch;
            let class = match cell.owner {
                Owner::Edge(e) => match (took(0, e), took(1, e)) {
                    (true, true) => "both",
                    (true, false) => "client",
                    (false, true) => "server",
                    (false, false) => "edge",
                },
                Owner::Place(p) => {
                    let x = u16::try_from(x).unwrap_or(0);
                    let place = &fig::PLACES[p];
                    if lit.client == p && x == place.client_mark() {
                        ch = 'C';
                        "client"
                    } else if lit.server == p && x == place.server_mark() {
                        ch = 'S';
                        "server"
                    } else {
                        "box"
                    }
                }
                Owner::None => "edge",
            };
            match runs.last_mut() {
                Some((c, text)) if *c == class => text.push(ch),
                _ => runs.push((class, ch.to_string())),
            }
        }
        let _ = write!(s, r#"<text x="{FIG_X}" y="{y}" class="fig" xml:space="preserve">"#);
        for (class, text) in runs {
            let _ = write!(s, r#"<tspan class="f-{class}">{}</tspan>"#, escape(&text));
        }
        s.push_str("</text>\n");
    }
    let mut y = top + u32::from(fig::HEIGHT) * CELL_H + 10;
    let path = super::text::diagram_path(conn);
    let legend = format!("  {}", t!("rows-fig-legend"));
    let gloss = t!("rows-fig-gloss");
    let gloss = if gloss.is_empty() { None } else { Some(format!("  {gloss}")) };
    let notes = [Some(legend), gloss];
    for line in path.lines().chain(notes.iter().flatten().map(String::as_str)).flat_map(|l| hanging(l, FIG_CHARS)) {
        let _ = writeln!(s, r#"<text x="{FIG_X}" y="{y}" class="fig" xml:space="preserve">{}</text>"#, escape(&line));
        y += CELL_H;
    }
    s.push_str("</g>\n");
    y - y0
}

/// `line` in lines of `width` characters at most: what runs past is wrapped
/// under its last column (the text after the last run of two spaces or more
/// that starts within `width`), so a footnote stays inside the figure.
fn hanging(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    // Columns before each character (a Chinese character takes two).
    let mut at = Vec::with_capacity(chars.len() + 1);
    at.push(0);
    for c in &chars {
        at.push(at.last().copied().unwrap_or(0) + unicode_width::UnicodeWidthChar::width(*c).unwrap_or(0));
    }
    if at[chars.len()] <= width {
        return vec![line.to_string()];
    }
    // Where the last column starts: after a run of two spaces or more.
    let indent = (2..chars.len())
        .rev()
        .filter(|&i| at[i] < width)
        .find(|&i| chars[i] != ' ' && chars[i - 1] == ' ' && chars[i - 2] == ' ')
        .filter(|&i| at[i] < width * 2 / 3)
        .unwrap_or(0);
    let head: String = chars[..indent].iter().collect();
    let rest: String = chars[indent..].iter().collect();
    let indent = at[indent];
    let pad = " ".repeat(indent);
    super::text::wrap_lines(&rest, width - indent)
        .into_iter()
        .enumerate()
        .map(|(i, l)| if i == 0 { format!("{head}{l}") } else { format!("{pad}{l}") })
        .collect()
}

/// Escapes text for XML content and attribute values.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Colour by meaning, readable on light and dark page backgrounds.
fn color(phase: Phase) -> &'static str {
    match phase {
        Phase::Handshake => "#1f77b4",
        Phase::Data => "#2ca02c",
        Phase::Teardown => "#9467bd",
        Phase::Reset => "#d62728",
        Phase::Other | Phase::AfterClose => "#7f7f7f",
    }
}

/// The arrowhead marker an arrow of `phase` uses (after-close arrows share
/// the plain one).
fn marker(phase: Phase) -> &'static str {
    match phase {
        Phase::AfterClose => Phase::Other.name(),
        p => p.name(),
    }
}

/// The colour of a socket call's row.
const CALL: &str = "#1f6feb";

/// Where the rows of a connection drawn at `y0` begin.
fn top_of(y0: u32) -> u32 {
    y0 + HEADER
}

/// Appends one connection's ladder at vertical offset `y0`; returns its height.
fn ladder(s: &mut String, conn: &Connection, y0: u32) -> u32 {
    let arrows = ladder::layout(conn, None, 0).rows;
    // Each segment's row, and each socket call's before the first segment
    // captured after it: the row (slot) of every arrow and every call.
    let (mut arrow_slots, mut call_slots) = (Vec::with_capacity(arrows.len()), Vec::with_capacity(conn.calls.len()));
    let mut next = 0;
    for r in &conn.records {
        while next < conn.calls.len() && conn.calls[next].ts <= r.ts {
            call_slots.push(arrow_slots.len() + call_slots.len());
            next += 1;
        }
        arrow_slots.push(arrow_slots.len() + call_slots.len());
    }
    while call_slots.len() < conn.calls.len() {
        call_slots.push(arrow_slots.len() + call_slots.len());
    }
    let n = u32::try_from(arrows.len() + conn.calls.len()).unwrap_or(u32::MAX / ROW);
    let slot_y = |slot: usize| top_of(y0) + u32::try_from(slot).unwrap_or(0) * ROW + 22;
    let verdict = super::text::wrap_lines(&timeline::verdict(conn), 110);
    let top = top_of(y0);
    let bottom = top + n * ROW + 10;
    let _ = writeln!(
        s,
        r#"<g class="connection" id="connection-{}"><text x="16" y="{}" class="title">{}</text>"#,
        conn.id,
        y0 + 24,
        escape(&t!(
            "rows-svg-title",
            id = conn.id,
            client = conn.client.addr.to_string(),
            server = conn.server.addr.to_string(),
            kind = t!("rows-close-kind", kind = conn.close_kind().name()),
        ))
    );
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="{}" text-anchor="middle" class="who">{}</text><text x="{RIGHT}" y="{}" text-anchor="middle" class="who">{}</text>"#,
        top - 12,
        t!("rows-role", role = "client"),
        top - 12,
        t!("rows-role", role = "server"),
    );
    for x in [LEFT, RIGHT] {
        let _ = writeln!(s, r#"<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}" class="lifeline"/>"#);
    }
    for (c, &slot) in conn.calls.iter().zip(&call_slots) {
        let y = slot_y(slot);
        let (x, tx, anchor) = match c.side {
            crate::model::tracker::Role::Client => (LEFT, LEFT + 14, "start"),
            crate::model::tracker::Role::Server => (RIGHT, RIGHT - 14, "end"),
        };
        let _ = writeln!(
            s,
            r#"<path class="call" d="M{x} {} l6 6 l-6 6 l-6 -6 z" fill="{CALL}"/><text x="{tx}" y="{}" text-anchor="{anchor}" class="label call" fill="{CALL}">{}</text>"#,
            y - 6,
            y + 4,
            escape(&ladder::call_label(c))
        );
    }
    for (i, a) in arrows.iter().enumerate() {
        let y = slot_y(arrow_slots[i]);
        let (x1, x2) = match a.dir {
            Dir::C2S => (LEFT, RIGHT - 6),
            Dir::S2C => (RIGHT, LEFT + 6),
        };
        let c = color(a.phase);
        let dash = if a.retransmission { r#" stroke-dasharray="6 4""# } else { "" };
        // The two FINs of a simultaneous close are drawn in flight together:
        // each leaves its sender on the first row and arrives on the second,
        // so the lines cross.
        let (y1, y2) = if a.crossing && arrows.get(i + 1).is_some_and(|n| n.crossing) {
            (y, slot_y(arrow_slots[i + 1]))
        } else if a.crossing && i > 0 && arrows[i - 1].crossing {
            (slot_y(arrow_slots[i - 1]), y)
        } else {
            (y, y)
        };
        let _ = writeln!(
            s,
            r#"<line class="arrow {}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{c}"{dash} marker-end="url(#head-{})"/>"#,
            a.phase.name(),
            marker(a.phase)
        );
        // A crossing FIN's label goes above where its line leaves its
        // sender, on the sender's side, clear of the other FIN's line (the
        // two cross in the middle, a row lower).
        let (lx, ly, anchor) = match (a.crossing && y1 != y2, a.dir) {
            (true, Dir::C2S) => (LEFT + 14, y1 - 6, "start"),
            (true, Dir::S2C) => (RIGHT - 14, y1 - 6, "end"),
            (false, _) => ((LEFT + RIGHT) / 2, y - 6, "middle"),
        };
        let _ = writeln!(
            s,
            r#"<text x="{lx}" y="{ly}" text-anchor="{anchor}" class="label" fill="{c}">{}</text>"#,
            escape(&a.label)
        );
        if !a.left.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" text-anchor="end" class="state">{}</text>"#,
                LEFT - 10,
                y + 4,
                a.left
            );
        }
        if !a.right.is_empty() {
            let _ = writeln!(s, r#"<text x="{}" y="{}" class="state">{}</text>"#, RIGHT + 10, y + 4, a.right);
        }
        if !a.note.is_empty() {
            let _ = writeln!(
                s,
                r#"<text x="{}" y="{}" class="note" fill="{c}">{}</text>"#,
                RIGHT + 130,
                y + 4,
                escape(&a.note)
            );
        }
    }
    let mut y = bottom + 22;
    for line in &verdict {
        let _ = writeln!(s, r#"<text x="16" y="{y}" class="verdict">{}</text>"#, escape(line));
        y += 18;
    }
    s.push_str("</g>\n");
    y - y0 + 12
}

/// A whole SVG document for `conns`.
#[must_use]
pub fn document<'a>(conns: impl IntoIterator<Item = &'a Connection>) -> String {
    let mut e = SvgExporter::default();
    for c in conns {
        e.add(c);
    }
    e.render()
}

impl SvgExporter {
    /// With `diagram`, RFC 9293's figure 5 beside each ladder.
    #[must_use]
    pub fn new(diagram: bool) -> SvgExporter {
        SvgExporter { diagram, ..SvgExporter::default() }
    }

    fn add(&mut self, conn: &Connection) {
        let mut h = ladder(&mut self.body, conn, self.height);
        if self.diagram {
            h = h.max(figure(&mut self.body, conn, self.height));
        }
        self.height += h;
    }

    fn render(&self) -> String {
        let mut s = String::new();
        let h = self.height.max(40);
        let width = if self.diagram { FIG_X + FIG_WIDTH } else { WIDTH };
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="13">"#
        );
        s.push_str("<defs>\n");
        for p in [Phase::Handshake, Phase::Data, Phase::Teardown, Phase::Reset, Phase::Other] {
            let _ = writeln!(
                s,
                r#"<marker id="head-{}" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto" markerUnits="userSpaceOnUse"><path d="M0,0 L10,4 L0,8 z" fill="{}"/></marker>"#,
                p.name(),
                color(p)
            );
        }
        s.push_str("</defs>\n<style>.title{font-weight:bold;font-size:15px;fill:#333}.who{font-weight:bold;fill:#555}.lifeline{stroke:#999;stroke-width:2}.arrow{stroke-width:2}.state{fill:#b8860b;font-weight:bold}.note{font-size:12px}.verdict{fill:#444}");
        if self.diagram {
            let _ = write!(
                s,
                ".fig{{font-size:12px;white-space:pre}}.f-edge{{fill:#aaa}}.f-box{{fill:#333;font-weight:bold}}.f-client{{fill:{CLIENT};font-weight:bold}}.f-server{{fill:{SERVER};font-weight:bold}}.f-both{{fill:#8a2be2;font-weight:bold}}"
            );
        }
        s.push_str("</style>\n");
        let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#fdfdfd"/>"##);
        s.push_str(&self.body);
        s.push_str("</svg>\n");
        s
    }
}

impl Exporter for SvgExporter {
    fn append_udp(&mut self, flow: &crate::model::udp::Flow, _out: &mut String) {
        let (group, height) = super::udp::svg(flow, self.height, LEFT, RIGHT);
        self.body.push_str(&group);
        self.height += height;
    }

    fn append(&mut self, conn: &Connection, _out: &mut String) {
        self.add(conn);
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(self.render().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::pcap::PcapSource;
    use crate::capture::{FrameSource, Next};
    use crate::pipeline::Pipeline;

    fn svg(fixture: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
        let mut src = PcapSource::new(std::fs::File::open(&path).unwrap(), fixture).unwrap();
        let mut p = Pipeline::new(None, crate::model::tracker::Limits::both(100));
        while let Ok(Next::Frame(f)) = src.next_frame() {
            p.frame(&f);
        }
        let mut e = SvgExporter::new(true);
        for c in p.tracker.connections() {
            e.add(c);
        }
        e.render()
    }

    /// The text lines under the figure.
    fn fig_lines(svg: &str) -> Vec<String> {
        let doc = roxmltree::Document::parse(svg).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("fig"))
            .map(|n| n.descendants().filter(roxmltree::Node::is_text).filter_map(|d| d.text()).collect())
            .collect()
    }

    /// In Chinese too, counted in columns (a Chinese character takes two):
    /// the footnotes and the states' glosses wrap inside the figure, and
    /// TIME-WAIT's gloss says how long Linux waits.
    #[test]
    fn the_figures_chinese_footnotes_wrap_inside_it() {
        let _zh = crate::i18n::scope(crate::i18n::Lang::Zh);
        for fixture in ["abort.pcap", "refused.pcap", "ipv6.pcap", "half-close.pcap", "seed.pcap"] {
            let svg = svg(fixture);
            let lines = fig_lines(&svg);
            let wide = lines.iter().filter(|l| crate::i18n::width(l) > l.chars().count()).count();
            assert!(wide > 3, "{fixture}: {lines:?}");
            for l in &lines {
                assert!(crate::i18n::width(l) <= FIG_CHARS, "{fixture}: {l:?}");
            }
            let joined: String = lines.iter().map(|l| l.trim()).collect();
            assert!(joined.contains("图中缩写：SYN-RCVD 即 SYN-RECEIVED"), "{fixture}: {joined}");
            assert!(joined.contains("Linux 固定为 60 秒"), "{fixture}: {joined}");
            assert!(!joined.contains("not an arrow"), "{fixture}: {joined}");
        }
    }

    /// Every line under the figure fits its width: the RST's footnote
    /// ("not an arrow of the figure...") wraps under its column, whole.
    #[test]
    fn the_figures_footnote_wraps_inside_it() {
        for fixture in ["abort.pcap", "refused.pcap", "ipv6.pcap", "half-close.pcap"] {
            let svg = svg(fixture);
            let lines = fig_lines(&svg);
            for l in &lines {
                assert!(l.chars().count() <= FIG_CHARS, "{fixture}: {l:?}");
            }
            let joined = lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
            assert!(joined.contains("the figure abbreviates: SYN-RCVD is SYN-RECEIVED"), "{fixture}");
            if fixture == "abort.pcap" {
                assert!(
                    joined.contains(
                        "(not an arrow of the figure: CLOSE with data unread, or ABORT / snd RST (RFC 9293 §3.6.1, §3.10.5;"
                    ),
                    "{joined}"
                );
            }
        }
        assert_eq!(hanging("short", 90), ["short"]);
        let long = format!("    client  A -> B    row 1    {}", "word ".repeat(30));
        let wrapped = hanging(&long, 60);
        assert!(wrapped.len() > 1 && wrapped.iter().all(|l| l.chars().count() <= 60), "{wrapped:?}");
        assert!(wrapped[1..].iter().all(|l| l.starts_with(&" ".repeat(31)) && !l.starts_with(&" ".repeat(32))));
    }

    /// In a simultaneous close, neither FIN's label lies on the crossing
    /// lines: each sits above where its line leaves its sender.
    #[test]
    fn the_crossing_fins_labels_stay_clear_of_the_lines() {
        let svg = svg("ipv6.pcap");
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let num = |n: roxmltree::Node<'_, '_>, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
        let crossing: Vec<[f64; 4]> = doc
            .descendants()
            .filter(|n| n.has_tag_name("line") && n.attribute("class").is_some_and(|c| c.starts_with("arrow")))
            .map(|n| [num(n, "x1"), num(n, "y1"), num(n, "x2"), num(n, "y2")])
            .filter(|l| l[1] != l[3])
            .collect();
        assert_eq!(crossing.len(), 2, "{svg}");
        let labels: Vec<_> = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("label") && n.text().is_some_and(|t| t.starts_with("FIN")))
            .collect();
        assert_eq!(labels.len(), 2);
        for label in labels {
            // The label's box: 13 px text, a character about 0.6 em wide.
            let width = label.text().unwrap().chars().count() as f64 * 13.0 * 0.6;
            let (x, y) = (num(label, "x"), num(label, "y"));
            let left = match label.attribute("text-anchor") {
                Some("end") => x - width,
                Some("middle") => x - width / 2.0,
                _ => x,
            };
            let (top, bottom) = (y - 13.0, y + 3.0);
            for l in &crossing {
                for k in 0..=100 {
                    let t = f64::from(k) / 100.0;
                    let (px, py) = (l[0] + (l[2] - l[0]) * t, l[1] + (l[3] - l[1]) * t);
                    let inside = px >= left && px <= left + width && py >= top && py <= bottom;
                    assert!(!inside, "{:?} crosses the line {l:?} at ({px}, {py})", label.text());
                }
            }
        }
    }
}
