//! Exporters: one file per format behind one trait, chosen by [`Format`]
//! (hyperfine's `src/export` pattern). Each writes a finished (or, at the end
//! of input, still open) connection as soon as it is handed one.

pub mod jsonl;
pub mod text;

use std::io::{self, Write};

use crate::model::tracker::Connection;

/// Output formats of `synack trace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The ladder diagram with a verdict per connection.
    Text,
    /// One JSON object per connection, one per line (see DESIGN.md).
    Jsonl,
    /// A Mermaid sequenceDiagram per connection.
    Mermaid,
    /// An SVG ladder per connection.
    Svg,
}

/// Writes connections in one format.
pub trait Exporter {
    /// Writes one connection.
    ///
    /// # Errors
    /// When writing to `out` fails.
    fn connection(&mut self, conn: &Connection, out: &mut dyn Write) -> io::Result<()>;
}

/// The exporter for `format`, or `None` if that format is not available yet.
#[must_use]
pub fn exporter(format: Format) -> Option<Box<dyn Exporter>> {
    match format {
        Format::Text => Some(Box::new(text::TextExporter)),
        Format::Jsonl => Some(Box::new(jsonl::JsonlExporter::default())),
        Format::Mermaid | Format::Svg => None,
    }
}
