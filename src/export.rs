//! Exporters: one file per format behind one trait, chosen by [`Format`]
//! (hyperfine's `src/export` pattern). Each formats a finished (or, at the
//! end of input, still open) connection as soon as it is handed one.

pub mod jsonl;
pub mod mermaid;
pub mod svg;
pub mod text;
pub mod udp;

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
    /// Appends one connection, as this format writes it, to `out`: the one
    /// way a format writes a connection (when, where and on which thread the
    /// text goes out is the caller's).
    fn append(&mut self, conn: &Connection, out: &mut String);

    /// Appends one UDP flow, as this format draws it ([`udp`]), to `out`.
    fn append_udp(&mut self, flow: &crate::model::udp::Flow, out: &mut String);

    /// Writes whatever must come after the last connection.
    ///
    /// # Errors
    /// When writing to `out` fails.
    fn finish(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }

    /// Writes one connection to `out`, as [`Exporter::append`] formats it
    /// (for a caller that writes one now and then: the dashboard, tests).
    /// Formats implement `append` alone.
    ///
    /// # Errors
    /// When writing to `out` fails.
    fn connection(&mut self, conn: &Connection, out: &mut dyn Write) -> io::Result<()> {
        let mut text = String::new();
        self.append(conn, &mut text);
        out.write_all(text.as_bytes())
    }
}

/// The exporter for `format`.
#[must_use]
pub fn exporter(format: Format) -> Box<dyn Exporter + Send> {
    exporter_with(format, false)
}

/// The exporter for `format`; `diagram` adds each endpoint's path through
/// RFC 9293's state diagram (text: as a list; SVG: drawn beside the ladder).
#[must_use]
pub fn exporter_with(format: Format, diagram: bool) -> Box<dyn Exporter + Send> {
    match format {
        Format::Text => Box::new(text::TextExporter::new(diagram)),
        Format::Jsonl => Box::new(jsonl::JsonlExporter::default()),
        Format::Mermaid => Box::new(mermaid::MermaidExporter::default()),
        Format::Svg => Box::new(svg::SvgExporter::new(diagram)),
    }
}

/// Writes `conn` to `synack-<id>.txt`, `.mmd` and `.svg` in `dir` (the
/// dashboard's `e`). Never writes over a file and never follows a symlink:
/// when one of the names is taken, all three get the first free suffix
/// (`synack-3-1.txt`, ...). Returns the paths written.
///
/// # Errors
/// When a file cannot be created or written (the error names the file).
pub fn export_files(conn: &Connection, dir: &std::path::Path) -> io::Result<Vec<std::path::PathBuf>> {
    const FORMATS: [(&str, Format); 3] = [("txt", Format::Text), ("mmd", Format::Mermaid), ("svg", Format::Svg)];
    let name = |n: u32, ext: &str| match n {
        0 => format!("synack-{}.{ext}", conn.id),
        n => format!("synack-{}-{n}.{ext}", conn.id),
    };
    // symlink_metadata: a dangling symlink counts as taken too.
    let suffix = (0..10_000)
        .find(|&n| FORMATS.iter().all(|(ext, _)| std::fs::symlink_metadata(dir.join(name(n, ext))).is_err()))
        .ok_or_else(|| io::Error::other(format!("too many synack-{}.* files in {}", conn.id, dir.display())))?;
    let mut written = Vec::new();
    for (ext, format) in FORMATS {
        let path = dir.join(name(suffix, ext));
        // create_new (O_CREAT | O_EXCL) neither truncates a file nor follows a symlink.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut file = io::BufWriter::new(file);
        let mut e = exporter(format);
        e.connection(conn, &mut file)?;
        e.finish(&mut file)?;
        file.flush()?;
        written.push(path);
    }
    Ok(written)
}
