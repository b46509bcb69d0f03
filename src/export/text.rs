//! The text ladder (the same layout as the dashboard's) plus a verdict.

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
        out.write_all(ladder.to_text().as_bytes())?;
        out.write_all(wrap(&timeline::verdict(conn), 96, "  ").as_bytes())?;
        out.write_all(b"\n")
    }
}
