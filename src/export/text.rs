//! The text ladder of DESIGN.md ("What good looks like") plus a verdict.

use std::io::{self, Write};

use super::Exporter;
use crate::ladder;
use crate::model::timeline;
use crate::model::tracker::Connection;

/// Plain text ladders.
pub struct TextExporter;

/// Wraps `text` at `width` columns, each line indented by `indent`.
#[must_use]
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

impl Exporter for TextExporter {
    fn connection(&mut self, conn: &Connection, out: &mut dyn Write) -> io::Result<()> {
        let ladder = ladder::layout(conn, None);
        out.write_all(ladder.to_text().as_bytes())?;
        out.write_all(wrap(&timeline::verdict(conn), 96, "  ").as_bytes())?;
        out.write_all(b"\n")
    }
}
