//! Exporters: one file per format behind one trait, chosen by [`Format`]
//! (hyperfine's `src/export` pattern). Each writes a finished (or, at the end
//! of input, still open) connection as soon as it is handed one.

pub mod jsonl;
pub mod mermaid;
pub mod svg;
pub mod text;

use std::io::{self, Write};

use crate::model::tracker::Connection;

/// Output formats of `synack trace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The ladder diagram with a verdict per connection.
    Text,
    /// One JSON object per connection, one per line (docs/format.md).
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

    /// Writes whatever must come after the last connection.
    ///
    /// # Errors
    /// When writing to `out` fails.
    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// The exporter for `format`.
#[must_use]
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Text => Box::new(text::TextExporter),
        Format::Jsonl => Box::new(jsonl::JsonlExporter::default()),
        Format::Mermaid => Box::new(mermaid::MermaidExporter),
        Format::Svg => Box::new(svg::SvgExporter::default()),
    }
}

/// Writes `conn` to `synack-<id>.txt`, `.mmd` and `.svg` in `dir` (the
/// dashboard's `e`). Returns the paths written.
///
/// # Errors
/// When a file cannot be written.
pub fn export_files(conn: &Connection, dir: &std::path::Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for (ext, format) in [("txt", Format::Text), ("mmd", Format::Mermaid), ("svg", Format::Svg)] {
        let path = dir.join(format!("synack-{}.{ext}", conn.id));
        let mut file = io::BufWriter::new(std::fs::File::create(&path)?);
        let mut e = exporter(format);
        e.connection(conn, &mut file)?;
        e.finish(&mut file)?;
        file.flush()?;
        written.push(path);
    }
    Ok(written)
}
