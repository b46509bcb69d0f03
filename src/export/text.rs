//! The text ladder (the same layout as the dashboard's) plus a verdict.

use std::io::{self, Write};

use super::Exporter;
use crate::ladder;
use crate::model::timeline;
use crate::model::tracker::Connection;

/// Plain text ladders; with `diagram`, each endpoint's path through RFC
/// 9293's state diagram after the verdict.
#[derive(Default)]
pub struct TextExporter {
    pub diagram: bool,
}

/// Each endpoint's path through RFC 9293's figure 5, one transition a line:
/// from, to, the segment's row (1 = the first), and the arrow's label.
#[must_use]
pub fn diagram_path(conn: &Connection) -> String {
    use crate::model::diagram;
    use crate::model::tracker::Role;
    let mut out = String::from("  path through RFC 9293's state diagram (figure 5):\n");
    for role in [Role::Client, Role::Server] {
        for (i, t) in diagram::path(conn, role).iter().enumerate() {
            let who = if i == 0 { role.name() } else { "" };
            let label = match t.label {
                Ok(arrow) => arrow.to_string(),
                Err(why) => format!("(not an arrow of the figure: {why})"),
            };
            let step = format!("{} -> {}", t.from, t.to);
            out.push_str(&format!("    {who:<7} {step:<28} row {:<4} {label}\n", t.row + 1));
        }
    }
    out
}

/// The ladder with a line under each row an ICMP error quoted (errors about
/// segments not on the ladder go after it).
fn with_icmp(conn: &Connection, ladder: &ladder::Ladder) -> String {
    let text = ladder.to_text();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let pad = " ".repeat(ladder.geometry.state_width + 3);
    let line = |n: &crate::model::connection::IcmpNote| {
        let mtu = if n.icmp.mtu > 0 { format!(", mtu {}", n.icmp.mtu) } else { String::new() };
        format!(
            "{pad}⚠ ICMP{} {} from {} at {:.3} ms{mtu}",
            if n.icmp.v6 { "v6" } else { "" },
            n.icmp.name(),
            n.icmp.from,
            n.ts.millis_since(conn.start())
        )
    };
    let mut placed: Vec<_> = conn.icmp.iter().filter(|n| n.row.is_some()).collect();
    placed.sort_by_key(|n| std::cmp::Reverse(n.row));
    for n in placed {
        // Row i is line i + 1 (after the header); later notes of the same
        // row go below earlier ones.
        let at = n.row.unwrap_or(0) + 2;
        let mut k = at;
        while lines.get(k).is_some_and(|l| l.starts_with(&pad) && l.contains('⚠')) {
            k += 1;
        }
        lines.insert(k.min(lines.len()), line(n));
    }
    lines.extend(conn.icmp.iter().filter(|n| n.row.is_none()).map(line));
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Wraps `text` at `width` columns, each line indented by `indent`.
#[must_use]
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    wrap_lines(text, width).iter().map(|line| format!("{indent}{line}\n")).collect()
}

/// Splits `text` into lines of at most `width` characters (a longer word gets a line of its own).
#[must_use]
pub fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

impl Exporter for TextExporter {
    fn connection(&mut self, conn: &Connection, out: &mut dyn Write) -> io::Result<()> {
        let ladder = ladder::layout(conn, None, 0);
        if conn.icmp.is_empty() {
            out.write_all(ladder.to_text().as_bytes())?;
        } else {
            out.write_all(with_icmp(conn, &ladder).as_bytes())?;
        }
        out.write_all(wrap(&timeline::verdict(conn), 96, "  ").as_bytes())?;
        if self.diagram {
            out.write_all(diagram_path(conn).as_bytes())?;
        }
        out.write_all(b"\n")
    }
}
