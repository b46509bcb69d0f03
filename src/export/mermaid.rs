//! `trace --format mermaid`: a Mermaid `sequenceDiagram` per connection. One
//! message per segment, state changes as notes over each lifeline, steps
//! numbered, socket calls as notes over their caller (`◆ python3[4242]
//! close()`), the verdict as a final note. Every label is escaped with Mermaid's
//! entity codes so that no payload can end a line or a statement early.
//!
//! Mermaid reads one diagram per document. One connection is written as a
//! plain diagram (a `.mmd` file); from the second on, the output becomes
//! Markdown with a heading and a fenced `mermaid` block per connection, which
//! GitHub and most Markdown viewers render. The first diagram is held back
//! until it is known which of the two it will be.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Exporter;
use crate::model::timeline;
use crate::model::tracker::{Connection, Dir};
use crate::t;

/// Mermaid sequence diagrams.
#[derive(Default)]
pub struct MermaidExporter {
    /// The first connection's heading and diagram, until a second one comes.
    first: Option<(String, String)>,
    /// Connections written so far.
    written: u64,
}

/// The Markdown heading of a connection.
fn heading(conn: &Connection) -> String {
    let h = t!(
        "rows-mermaid-heading",
        id = conn.id,
        client = conn.client.addr.to_string(),
        server = conn.server.addr.to_string(),
        kind = close_kind(conn),
    );
    format!("## {h}")
}

/// The close's name in the current language (`four-way`, 四次挥手).
fn close_kind(conn: &Connection) -> String {
    t!("rows-close-kind", kind = conn.close_kind().name())
}

fn fenced(out: &mut String, heading: &str, diagram: &str) {
    let _ = write!(out, "{heading}\n\n```mermaid\n{diagram}```\n\n");
}

/// Makes `s` safe inside one Mermaid statement: `;` and `#` (statement and
/// entity syntax), quotes, `<`, `>`, `%` and `:` become entity codes, and line
/// breaks and other control characters become spaces.
#[must_use]
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '%' => out.push_str("#37;"),
            '{' => out.push_str("#123;"),
            '}' => out.push_str("#125;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The diagram for one connection.
#[must_use]
pub fn diagram(conn: &Connection) -> String {
    let mut s = String::new();
    let (client, server) = (conn.client.addr.to_string(), conn.server.addr.to_string());
    let _ = writeln!(s, "sequenceDiagram");
    let title = t!(
        "rows-mermaid-title",
        id = conn.id,
        client = client.clone(),
        server = server.clone(),
        kind = close_kind(conn)
    );
    let _ = writeln!(s, "    title {}", escape(&title));
    let _ = writeln!(s, "    participant C as {}", escape(&t!("rows-endpoint", role = "client", addr = client)));
    let _ = writeln!(s, "    participant S as {}", escape(&t!("rows-endpoint", role = "server", addr = server)));
    // Socket calls, as notes over their caller, before the first segment
    // captured after them.
    let mut calls = conn.calls.iter().peekable();
    let note_call = |s: &mut String, c: &crate::model::connection::CallRow| {
        let who = if c.side == crate::model::tracker::Role::Client { "C" } else { "S" };
        let _ = writeln!(s, "    Note over {who}: {}", escape(&format!("◆ {}", crate::ladder::call_label(c))));
    };
    for (a, r) in timeline::arrows(conn).into_iter().zip(&conn.records) {
        while let Some(c) = calls.next_if(|c| c.ts <= r.ts) {
            note_call(&mut s, c);
        }
        let (from, to) = match a.dir {
            Dir::C2S => ("C", "S"),
            Dir::S2C => ("S", "C"),
        };
        // Dashed arrows mark retransmissions; crosses mark resets.
        let arrow = if a.retransmission {
            "-->>"
        } else if a.phase == crate::model::tracker::Phase::Reset {
            "-x"
        } else {
            "->>"
        };
        let label = if a.note.is_empty() { a.label.clone() } else { format!("{} [{}]", a.label, a.note) };
        let _ = writeln!(s, "    {from}{arrow}{to}: {}", escape(&label));
        for (who, via, mark) in [("C", a.client_via, a.client_mark), ("S", a.server_via, a.server_mark)] {
            let text = timeline::mark_text(via, mark);
            if !text.is_empty() {
                let _ = writeln!(s, "    Note over {who}: {}", escape(&text));
            }
        }
    }
    for c in calls {
        note_call(&mut s, c);
    }
    let _ = writeln!(s, "    Note over C,S: {}", escape(&timeline::verdict(conn)));
    s
}

impl MermaidExporter {
    /// Adds one diagram (heading, body): a single one is written plain at
    /// the end, more each under its heading.
    fn add(&mut self, this: (String, String), out: &mut String) {
        self.written += 1;
        match (self.written, self.first.take()) {
            (1, _) => self.first = Some(this),
            (_, Some((h, d))) => {
                out.push_str(&format!("# {}\n\n", t!("rows-mermaid-many")));
                fenced(out, &h, &d);
                fenced(out, &this.0, &this.1);
            }
            (_, None) => fenced(out, &this.0, &this.1),
        }
    }
}

impl Exporter for MermaidExporter {
    fn append(&mut self, conn: &Connection, out: &mut String) {
        self.add((heading(conn), diagram(conn)), out);
    }

    fn append_udp(&mut self, flow: &crate::model::udp::Flow, out: &mut String) {
        self.add(super::udp::mermaid(flow), out);
    }

    fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        // A single connection: the plain diagram.
        if let Some((_, d)) = self.first.take() {
            out.write_all(d.as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn hostile_labels_stay_one_statement() {
        let e = escape("a \"b\"; c#d\ne <x> 50% {y}");
        assert!(!e.contains(['"', '\n', '<', '>', '{', '}', '%']));
        assert_eq!(e, "a #quot;b#quot;#59; c#35;d e #lt;x#gt; 50#37; #123;y#125;");
        // Every ';' left is part of an entity code.
        assert_eq!(e.matches(';').count(), e.matches('#').count());
    }
}
