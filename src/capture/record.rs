//! Recording captured frames to pcap or pcapng with `pcap-file`.
//!
//! Snap length 262,144 (pcap-file's reader rejects records longer than the
//! snap length); the original length is taken from the IP header, so a frame
//! cut by the read buffer still says how long it was; pcapng interfaces carry
//! `if_tsresol = 9` (nanoseconds), or timestamps would be read as microseconds.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::model::decode::Frame;

const SNAPLEN: u32 = 262_144;

enum Writer {
    Pcap(PcapWriter<BufWriter<File>>),
    PcapNg(PcapNgWriter<BufWriter<File>>),
}

/// Writes Ethernet frames to a capture file.
pub struct Recorder {
    writer: Writer,
    /// Frames written.
    pub frames: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").field("frames", &self.frames).finish_non_exhaustive()
    }
}

fn to_io(e: pcap_file::PcapError) -> io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::other(other),
    }
}

/// The frame's length on the wire: Ethernet header plus the IP datagram's own length.
#[must_use]
pub fn original_len(data: &[u8]) -> u32 {
    let be16 = |at: usize| data.get(at..at + 2).map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
    let wire = match be16(12) {
        Some(0x0800) => be16(16).map(|total| 14 + total),
        Some(0x86dd) => be16(18).map(|payload| 14 + 40 + payload),
        _ => None,
    };
    u32::try_from(wire.unwrap_or(0).max(data.len())).unwrap_or(u32::MAX)
}

impl Recorder {
    /// Creates `path`: pcapng if its name ends in `.pcapng`, pcap (microseconds) otherwise.
    ///
    /// # Errors
    /// When the file cannot be created or written.
    pub fn create(path: &Path) -> io::Result<Recorder> {
        let file = BufWriter::new(File::create(path)?);
        let writer = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("pcapng")) {
            let mut w = PcapNgWriter::new(file).map_err(to_io)?;
            let idb = InterfaceDescriptionBlock {
                linktype: DataLink::ETHERNET,
                snaplen: SNAPLEN,
                options: vec![InterfaceDescriptionOption::IfTsResol(9)],
            };
            w.write_pcapng_block(idb).map_err(to_io)?;
            Writer::PcapNg(w)
        } else {
            let header = PcapHeader {
                snaplen: SNAPLEN,
                datalink: DataLink::ETHERNET,
                ts_resolution: TsResolution::MicroSecond,
                endianness: Endianness::native(),
                ..PcapHeader::default()
            };
            Writer::Pcap(PcapWriter::with_header(file, header).map_err(to_io)?)
        };
        Ok(Recorder { writer, frames: 0 })
    }

    /// Appends one frame.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        let ts = std::time::Duration::from_nanos(frame.ts.0);
        let data = &frame.data[..frame.data.len().min(SNAPLEN as usize)];
        let orig_len = original_len(frame.data);
        match &mut self.writer {
            Writer::Pcap(w) => {
                // Microsecond resolution: drop the nanoseconds rather than round.
                let ts = std::time::Duration::new(ts.as_secs(), ts.subsec_micros() * 1000);
                w.write_packet(&PcapPacket::new(ts, orig_len, data)).map_err(to_io)?;
            }
            Writer::PcapNg(w) => {
                let epb = EnhancedPacketBlock {
                    interface_id: 0,
                    timestamp: ts,
                    original_len: orig_len,
                    data: Cow::Borrowed(data),
                    options: vec![],
                };
                w.write_pcapng_block(epb).map_err(to_io)?;
            }
        }
        self.frames += 1;
        Ok(())
    }

    /// Flushes what is buffered and closes the file.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(self) -> io::Result<()> {
        match self.writer {
            Writer::Pcap(w) => w.into_writer().flush(),
            Writer::PcapNg(mut w) => w.get_mut().flush(),
        }
    }
}
