//! Recording the dashboard as an asciicast v2 file (`--record FILE.cast`):
//! exactly the bytes drawn on the terminal, one event per frame, with the
//! time it was drawn. `asciinema play` and `asciinema cat` read it; no other
//! tool is needed to record a demo.
//!
//! Format (asciinema's v2): a JSON header line, then one JSON array per event:
//! `[seconds since start, "o", "what was written"]`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

/// An asciicast being written.
pub struct Cast {
    file: BufWriter<File>,
    started: Instant,
}

impl Cast {
    /// Creates `path` for a terminal of `width` x `height`. Never writes over
    /// an existing file.
    ///
    /// # Errors
    /// When the file exists or cannot be written.
    pub fn create(path: &Path, width: u16, height: u16) -> io::Result<Cast> {
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut file = BufWriter::new(file);
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut header = format!("{{\"version\":2,\"width\":{width},\"height\":{height},\"timestamp\":{stamp},");
        header.push_str("\"title\":\"synack\",\"env\":{\"TERM\":");
        crate::export::jsonl::json_string(
            &mut header,
            &std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
        );
        header.push_str("}}\n");
        file.write_all(header.as_bytes())?;
        file.flush()?;
        Ok(Cast { file, started: Instant::now() })
    }

    /// Appends one output event, written through to the file.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let mut line = format!("[{:.6},\"o\",", self.started.elapsed().as_secs_f64());
        crate::export::jsonl::json_string(&mut line, &String::from_utf8_lossy(bytes));
        line.push_str("]\n");
        self.file.write_all(line.as_bytes())?;
        self.file.flush()
    }
}

/// The terminal's writer: everything goes to `out`; with a cast, each frame
/// (what is written between two flushes) is also recorded.
pub struct Tee<W: Write> {
    pub out: W,
    pub cast: Option<Cast>,
    pending: Vec<u8>,
}

impl<W: Write> Tee<W> {
    /// Writes to `out`, recording into `cast` when there is one.
    pub fn new(out: W, cast: Option<Cast>) -> Tee<W> {
        Tee { out, cast, pending: Vec::new() }
    }
}

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        if self.cast.is_some() {
            self.pending.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        if let Some(cast) = &mut self.cast {
            cast.output(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_become_events_with_escaped_text() {
        let dir = std::env::temp_dir().join(format!("synack-cast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.cast");
        let _ = std::fs::remove_file(&path);
        let cast = Cast::create(&path, 80, 24).unwrap();
        let mut tee = Tee::new(Vec::new(), Some(cast));
        tee.write_all(b"\x1b[1;1H\"x\"\\ \xe2\x94\x82").unwrap();
        tee.flush().unwrap();
        tee.write_all(b"second").unwrap();
        tee.flush().unwrap();
        assert_eq!(tee.out, b"\x1b[1;1H\"x\"\\ \xe2\x94\x82second");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("{\"version\":2,\"width\":80,\"height\":24,"));
        assert!(lines[1].ends_with(",\"o\",\"\\u001b[1;1H\\\"x\\\"\\\\ │\"]"), "{}", lines[1]);
        assert!(lines[2].ends_with(",\"o\",\"second\"]"));
        assert!(Cast::create(&path, 80, 24).is_err(), "never writes over a file");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
