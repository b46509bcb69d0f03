//! Recording captured frames to pcap or pcapng with `pcap-file`.
//!
//! Snap length 262,144 (pcap-file's reader rejects records longer than the
//! snap length); the original length is taken from the IP header, so a frame
//! cut by the read buffer still says how long it was; pcapng interfaces carry
//! `if_tsresol = 9` (nanoseconds), or timestamps would be read as microseconds.
//! The caller flushes ([`Recorder::flush`]) when the capture is idle and at
//! least every 100 ms, so a process that is killed leaves a file that tcpdump
//! reads up to its last whole record.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::rc::Rc;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::model::decode::{self, Frame};

const SNAPLEN: u32 = 262_144;

/// The file behind the writer, shared so that it can be flushed while
/// `pcap-file`'s writer owns it (its pcap writer lends no access).
#[derive(Clone)]
struct Shared(Rc<RefCell<BufWriter<File>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

enum Writer {
    Pcap(PcapWriter<Shared>),
    PcapNg(PcapNgWriter<Shared>),
}

/// Writes Ethernet frames to a capture file.
pub struct Recorder {
    writer: Writer,
    file: Shared,
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

/// The frame's length on the wire: what comes before its IP header, and the
/// datagram's own length ([`decode::wire_len`]); what was captured, when it
/// is longer or no IP header says.
#[must_use]
pub fn original_len(frame: &Frame<'_>) -> u32 {
    let wire = decode::wire_len(frame).unwrap_or(0);
    u32::try_from(wire.max(frame.data.len())).unwrap_or(u32::MAX)
}

impl Recorder {
    /// Creates `path`: pcapng if its name ends in `.pcapng`, pcap (microseconds) otherwise.
    ///
    /// # Errors
    /// When the file cannot be created or written.
    pub fn create(path: &Path) -> io::Result<Recorder> {
        let shared = Shared(Rc::new(RefCell::new(BufWriter::new(File::create(path)?))));
        let file = shared.clone();
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
        Ok(Recorder { writer, file: shared, frames: 0 })
    }

    /// Appends one frame.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        let ts = std::time::Duration::from_nanos(frame.ts.0);
        let data = &frame.data[..frame.data.len().min(SNAPLEN as usize)];
        let orig_len = original_len(frame);
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

    /// Writes what is buffered to the file: every record written so far is
    /// then in the file whole, whatever happens to the process next.
    ///
    /// # Errors
    /// When writing fails (the error says why: a full disk, ...).
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Whether the recording can keep kernel changes and socket calls (pcapng).
    #[must_use]
    pub fn keeps_kernel(&self) -> bool {
        matches!(self.writer, Writer::PcapNg(_))
    }

    /// Appends a kernel state change as a pcapng custom block (type
    /// 0x00000BAD, copied by editors; PEN 32473), which tcpdump and tshark
    /// skip. A pcap recording cannot hold it: nothing is written.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_kernel(&mut self, change: &crate::model::kernel::Change) -> io::Result<()> {
        self.write_custom(crate::model::kernel::to_record(change))
    }

    /// Appends a socket call as a pcapng custom block, like a kernel change
    /// ([`Recorder::write_kernel`]; its line is [`crate::model::call::to_record`]'s).
    /// A pcap recording cannot hold it: nothing is written.
    ///
    /// # Errors
    /// When writing fails.
    pub fn write_call(&mut self, call: &crate::model::call::Call) -> io::Result<()> {
        self.write_custom(crate::model::call::to_record(call))
    }

    /// Appends one line of synack's as a custom block (pcapng only).
    fn write_custom(&mut self, line: String) -> io::Result<()> {
        if !self.keeps_kernel() {
            return Ok(());
        }
        let mut data = line.into_bytes();
        data.push(b'\n');
        while !data.len().is_multiple_of(4) {
            data.push(0);
        }
        // type, total length, PEN, data, total length: in the section's
        // byte order (pcap-file writes the native one).
        let total = u32::try_from(16 + data.len()).unwrap_or(u32::MAX);
        let mut block = Vec::with_capacity(16 + data.len());
        block.extend_from_slice(&0x0000_0BADu32.to_ne_bytes());
        block.extend_from_slice(&total.to_ne_bytes());
        block.extend_from_slice(&crate::model::kernel::PEN.to_ne_bytes());
        block.extend_from_slice(&data);
        block.extend_from_slice(&total.to_ne_bytes());
        self.file.write_all(&block)
    }

    /// Flushes what is buffered and closes the file.
    ///
    /// # Errors
    /// When writing fails.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::original_len;
    use crate::model::decode::{Frame, LinkType};
    use crate::model::segment::Timestamp;

    /// An Ethernet frame of `ethertype` around `rest`.
    fn ethernet(ethertype: [u8; 2], rest: &[u8]) -> Vec<u8> {
        let mut f = vec![0; 12];
        f.extend_from_slice(&ethertype);
        f.extend_from_slice(rest);
        f
    }

    fn len(data: &[u8]) -> u32 {
        original_len(&Frame { ts: Timestamp(0), link: LinkType::Ethernet, data })
    }

    #[test]
    fn the_original_length_is_what_the_ip_header_says() {
        // IPv4 of 1,000 bytes, 40 captured.
        let mut v4 = vec![0x45, 0, 0x03, 0xe8, 0, 0, 0, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1];
        v4.resize(40, 0);
        assert_eq!(len(&ethernet([0x08, 0x00], &v4)), 14 + 1_000);
        // Behind an 802.1Q tag, the tag counts.
        let tagged = [&[0, 100, 0x08, 0x00][..], &v4].concat();
        assert_eq!(len(&ethernet([0x81, 0x00], &tagged)), 18 + 1_000);
        // IPv6 with a payload of 500 bytes, its fixed header captured.
        let mut v6 = vec![0x60, 0, 0, 0, 0x01, 0xf4, 6, 64];
        v6.resize(40, 0);
        assert_eq!(len(&ethernet([0x86, 0xdd], &v6)), 14 + 40 + 500);
        // Ethernet padding after a short datagram: what was captured.
        let mut short = v4.clone();
        short[2..4].copy_from_slice(&20u16.to_be_bytes());
        assert_eq!(len(&ethernet([0x08, 0x00], &short)), 14 + 40);
        // No IP header: what was captured.
        assert_eq!(len(&ethernet([0x08, 0x06], &[0; 28])), 14 + 28);
        assert_eq!(len(&[0; 3]), 3);
    }
}
