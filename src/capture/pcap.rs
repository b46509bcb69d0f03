//! Reading pcap (micro- and nanosecond, both byte orders) and pcapng with the
//! `pcap-file` crate's parsers, over our own buffer: records are parsed as soon
//! as they are complete (so `--read -` follows a live stream), byte offsets are
//! known (so a cut file says where it broke), and memory stays bounded.
//!
//! Records go through `PcapParser::next_raw_packet` and our own checks:
//! `pcap-file`'s validated path rejects records whose original length exceeds
//! the snap length, which is exactly what `tcpdump -s 68` writes.

use std::io::{ErrorKind, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{PcapError, TsResolution};

use super::{FrameSource, Next, SourceError};
use crate::model::decode::{Frame, LinkType};
use crate::model::segment::Timestamp;

const INITIAL_BUFFER: usize = 1 << 20;
/// A record longer than this is corrupt, not a packet (loopback frames are < 64 KiB).
const MAX_RECORD: usize = 16 << 20;

/// A byte stream with a sliding buffer and the offset of its first byte.
struct Input<R> {
    reader: R,
    buf: Store,
    pos: usize,
    len: usize,
    eof: bool,
    /// The last read found nothing yet (a stream that would block: see [`Stream`]).
    waiting: bool,
    /// Bytes of the input before `buf[pos]`.
    offset: u64,
}

/// Where the input's bytes are: a buffer the reader fills, or the whole
/// file mapped into memory (read in place, nothing copied).
enum Store {
    Owned(Vec<u8>),
    Mapped {
        map: crate::os::map::Mapped,
        /// Bytes made available so far, for a progress line (what a counting
        /// reader would have counted).
        counted: Arc<AtomicU64>,
    },
}

impl std::ops::Deref for Store {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Store::Owned(v) => v,
            Store::Mapped { map, .. } => map,
        }
    }
}

/// How much more of a mapped file each fill makes available (so that a
/// progress line moves as it would while reading).
const MAPPED_STEP: usize = 1 << 20;

/// A pcap record's time from its seconds and fraction (nanoseconds with
/// `nanos`, else microseconds). A fraction of a second or more (a µs field of
/// 1,000,000) carries into the seconds, as tcpdump reads it.
fn record_time(sec: u32, frac: u32, nanos: bool) -> Timestamp {
    let frac = if nanos { u64::from(frac) } else { u64::from(frac) * 1000 };
    Timestamp(u64::from(sec).saturating_mul(1_000_000_000).saturating_add(frac))
}

/// How far ahead of the record parsed the next records are prefetched.
const AHEAD: usize = 4_096;

impl<R: Read> Input<R> {
    fn new(reader: R, buf: Store) -> Input<R> {
        Input { reader, buf, pos: 0, len: 0, eof: false, waiting: false, offset: 0 }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.pos..self.len]
    }

    fn advance(&mut self, n: usize) {
        self.pos += n;
        self.offset += n as u64;
    }

    /// Reads more input once, compacting and growing the buffer as needed.
    /// Returns `false` when the buffer cannot grow any more.
    fn fill(&mut self) -> std::io::Result<bool> {
        let buf = match &mut self.buf {
            Store::Owned(buf) => buf,
            Store::Mapped { map, counted } => {
                // The same limit on a record as a buffer that cannot grow.
                if self.len - self.pos >= MAX_RECORD {
                    return Ok(false);
                }
                // What is before the record being parsed is never read again.
                let n = MAPPED_STEP.min(map.len() - self.len);
                map.advance(self.pos - self.pos % MAPPED_STEP, self.len + n);
                self.len += n;
                self.eof = self.len == map.len();
                counted.fetch_add(n as u64, Ordering::Relaxed);
                return Ok(true);
            }
        };
        if self.pos > 0 {
            buf.copy_within(self.pos..self.len, 0);
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == buf.len() {
            if buf.len() >= MAX_RECORD {
                return Ok(false);
            }
            buf.resize(buf.len() * 2, 0);
        }
        loop {
            self.waiting = false;
            match self.reader.read(&mut buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    self.waiting = true;
                    return Ok(true);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A pcapng interface: its link type and time units per second.
type Interface = (LinkType, u64);

enum Kind {
    /// `little`: the records' fields are little-endian (a capture written
    /// on x86 or ARM), read directly for speed.
    Pcap {
        parser: PcapParser,
        link: LinkType,
        nanos: bool,
        little: bool,
    },
    PcapNg {
        parser: Box<PcapNgParser>,
        interfaces: Vec<Interface>,
    },
}

/// What one parsing step found.
enum Parsed {
    Packet {
        start: usize,
        end: usize,
        link: LinkType,
        ts: Timestamp,
    },
    Kernel(crate::model::kernel::Change),
    Call(crate::model::call::Call),
    /// A custom block of synack's that claims to be a call but does not read.
    BadCall,
    Skip,
}

/// A pcap or pcapng reader over any byte stream.
pub struct PcapSource<R: Read> {
    input: Input<R>,
    name: String,
    packets: u64,
    kind: Kind,
    /// Kernel changes read from custom blocks, not yet taken.
    kernel: Vec<crate::model::kernel::Change>,
    /// Socket calls read from custom blocks, not yet taken.
    calls: crate::capture::Replayed,
}

impl<R: Read> std::fmt::Debug for PcapSource<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcapSource").field("name", &self.name).field("packets", &self.packets).finish_non_exhaustive()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

/// Units per second for a pcapng `if_tsresol` value (default 6: microseconds).
fn tsresol_units(v: u8) -> u64 {
    let exp = u32::from(v & 0x7f);
    if v & 0x80 == 0 { 10u64.checked_pow(exp) } else { 2u64.checked_pow(exp) }.unwrap_or(1_000_000)
}

impl<R: Read> PcapSource<R> {
    /// Opens a capture: reads and checks its header. `name` is used in errors
    /// (a path, or "standard input").
    ///
    /// # Errors
    /// [`SourceError::Empty`], [`SourceError::NotACapture`],
    /// [`SourceError::Truncated`] (cut inside the header) or [`SourceError::Io`].
    pub fn new(reader: R, name: impl Into<String>) -> Result<Self, SourceError> {
        let buf = Store::Owned(vec![0; INITIAL_BUFFER]);
        PcapSource::open(Input::new(reader, buf), name.into())
    }

    fn open(mut input: Input<R>, name: String) -> Result<Self, SourceError> {
        let io = |source| SourceError::Io { name: name.clone(), source };
        while input.len < 4 && !input.eof {
            input.fill().map_err(io)?;
        }
        if input.len == 0 {
            return Err(SourceError::Empty { name });
        }
        let magic = &input.buf[..input.len.min(4)];
        let is_pcap = matches!(
            magic,
            [0xa1, 0xb2, 0xc3, 0xd4] | [0xd4, 0xc3, 0xb2, 0xa1] | [0xa1, 0xb2, 0x3c, 0x4d] | [0x4d, 0x3c, 0xb2, 0xa1]
        );
        let is_pcapng = magic == [0x0a, 0x0d, 0x0d, 0x0a];
        if !is_pcap && !is_pcapng {
            let found = hex(&input.buf[..input.len.min(8)]);
            return Err(SourceError::NotACapture { name, found });
        }
        let kind = loop {
            let slice = input.pending();
            let parsed = if is_pcap {
                PcapParser::new(slice).map(|(rem, parser)| {
                    let nanos = parser.header().ts_resolution == TsResolution::NanoSecond;
                    let little = parser.header().endianness == pcap_file::Endianness::Little;
                    (slice.len() - rem.len(), Kind::Pcap { parser, link: LinkType::Ethernet, nanos, little })
                })
            } else {
                PcapNgParser::new(slice).map(|(rem, parser)| {
                    (slice.len() - rem.len(), Kind::PcapNg { parser: Box::new(parser), interfaces: Vec::new() })
                })
            };
            match parsed {
                Ok((used, kind)) => {
                    input.advance(used);
                    break kind;
                }
                Err(PcapError::IncompleteBuffer) if !input.eof => {
                    input.fill().map_err(io)?;
                }
                Err(PcapError::IncompleteBuffer) => {
                    return Err(SourceError::Truncated { name, packets: 0, offset: 0 });
                }
                Err(e) => {
                    return Err(SourceError::Corrupt { name, packets: 0, offset: 0, what: e.to_string() });
                }
            }
        };
        let mut src = PcapSource { input, name, packets: 0, kind, kernel: Vec::new(), calls: Default::default() };
        if let Kind::Pcap { parser, link, .. } = &mut src.kind {
            // The upper bits may carry an FCS length (pcap's LT_FCS_*): the
            // link type is the lower 16, as tcpdump and Wireshark read it.
            let number = u32::from(parser.header().datalink) & 0xffff;
            *link = LinkType::of(number);
        }
        Ok(src)
    }

    /// Opens a capture file mapped into memory ([`crate::os::map::Mapped`]):
    /// frames are decoded where they lie. `counted` grows by the bytes made
    /// available, as a counting reader's would. `reader` is never read.
    ///
    /// # Errors
    /// As [`PcapSource::new`].
    pub fn mapped(
        map: crate::os::map::Mapped,
        reader: R,
        name: impl Into<String>,
        counted: Arc<AtomicU64>,
    ) -> Result<Self, SourceError> {
        PcapSource::open(Input::new(reader, Store::Mapped { map, counted }), name.into())
    }

    /// Packets read so far.
    #[must_use]
    pub fn packets(&self) -> u64 {
        self.packets
    }

    fn truncated(&self) -> SourceError {
        SourceError::Truncated { name: self.name.clone(), packets: self.packets, offset: self.input.offset }
    }

    fn corrupt(&self, what: String) -> SourceError {
        SourceError::Corrupt { name: self.name.clone(), packets: self.packets, offset: self.input.offset, what }
    }

    /// Parses the next record or block: `(bytes used, what it was)`.
    fn parse_one(&mut self) -> Result<(usize, Parsed), PcapError> {
        let base = self.input.buf.as_ptr() as usize;
        let slice = self.input.pending();
        // Where a borrowed sub-slice starts in our buffer.
        let at = |d: &[u8]| d.as_ptr() as usize - base;
        match &mut self.kind {
            Kind::Pcap { parser, link, nanos, .. } => {
                // Records are read in order: start loading those a few ahead.
                if let Some(ahead) = slice.get(AHEAD) {
                    crate::os::prefetch::prefetch(ahead);
                }
                let (rem, raw) = parser.next_raw_packet(slice)?;
                let start = at(&raw.data);
                let ts = record_time(raw.ts_sec, raw.ts_frac, *nanos);
                let used = slice.len() - rem.len();
                Ok((used, Parsed::Packet { start, end: start + raw.data.len(), link: *link, ts }))
            }
            Kind::PcapNg { parser, interfaces } => {
                let (rem, block) = match parser.next_block(slice) {
                    // An option that is not UTF-8 (an interface name, a
                    // comment): tshark reads past it, so do we.
                    Err(PcapError::Utf8Error(_) | PcapError::FromUtf8Error(_)) => {
                        let big = matches!(parser.section().endianness, pcap_file::Endianness::Big);
                        return lenient_block(slice, big, interfaces).map(|(used, p)| match p {
                            Parsed::Packet { start, end, link, ts } => {
                                (used, Parsed::Packet { start: start + at(slice), end: end + at(slice), link, ts })
                            }
                            p => (used, p),
                        });
                    }
                    other => other?,
                };
                let used = slice.len() - rem.len();
                let parsed = match block {
                    Block::SectionHeader(_) => {
                        interfaces.clear();
                        Parsed::Skip
                    }
                    Block::InterfaceDescription(idb) => {
                        let units = idb
                            .options
                            .iter()
                            .find_map(|o| match o {
                                InterfaceDescriptionOption::IfTsResol(v) => Some(tsresol_units(*v)),
                                _ => None,
                            })
                            .unwrap_or(1_000_000);
                        let number = u32::from(idb.linktype);
                        interfaces.push((LinkType::of(number), units));
                        Parsed::Skip
                    }
                    Block::EnhancedPacket(epb) => {
                        let (link, units) = interface(interfaces, epb.interface_id)?;
                        // pcap-file hands the raw timestamp units over as nanoseconds.
                        let raw = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                        let frac = u128::from(raw % units) * 1_000_000_000 / u128::from(units);
                        let ts = Timestamp::from_parts(raw / units, u32::try_from(frac).unwrap_or(0));
                        let start = at(&epb.data);
                        Parsed::Packet { start, end: start + epb.data.len(), link, ts }
                    }
                    // The obsolete Packet Block of early pcapng writers: like an enhanced one.
                    Block::Packet(pb) => {
                        let (link, units) = interface(interfaces, u32::from(pb.interface_id))?;
                        let frac = u128::from(pb.timestamp % units) * 1_000_000_000 / u128::from(units);
                        let ts = Timestamp::from_parts(pb.timestamp / units, u32::try_from(frac).unwrap_or(0));
                        let start = at(&pb.data);
                        Parsed::Packet { start, end: start + pb.data.len(), link, ts }
                    }
                    Block::SimplePacket(spb) => {
                        let (link, _) = interface(interfaces, 0)?;
                        let start = at(&spb.data);
                        Parsed::Packet { start, end: start + spb.data.len(), link, ts: Timestamp(0) }
                    }
                    // synack's own custom blocks: the kernel view's changes,
                    // and socket calls.
                    Block::Unknown(b) if b.type_ & 0x3fff_ffff == 0x0BAD && b.value.len() >= 4 => {
                        let big = matches!(parser.section().endianness, pcap_file::Endianness::Big);
                        let pen: [u8; 4] = b.value[..4].try_into().unwrap_or([0; 4]);
                        let pen = if big { u32::from_be_bytes(pen) } else { u32::from_le_bytes(pen) };
                        let text = std::str::from_utf8(&b.value[4..]).unwrap_or("");
                        if pen != crate::model::kernel::PEN {
                            Parsed::Skip
                        } else if crate::model::call::is_record(text) {
                            crate::model::call::from_record(text).map_or(Parsed::BadCall, Parsed::Call)
                        } else {
                            crate::model::kernel::from_record(text).map_or(Parsed::Skip, Parsed::Kernel)
                        }
                    }
                    _ => Parsed::Skip,
                };
                Ok((used, parsed))
            }
        }
    }
}

/// A pcapng block read without its options (when pcap-file refuses them):
/// interface descriptions (link type; microseconds) and enhanced packets;
/// anything else is skipped. Offsets in the result are from `slice`.
fn lenient_block(slice: &[u8], big: bool, interfaces: &mut Vec<Interface>) -> Result<(usize, Parsed), PcapError> {
    let u32_at = |at: usize| -> Result<u32, PcapError> {
        let b: [u8; 4] = slice.get(at..at + 4).and_then(|b| b.try_into().ok()).ok_or(PcapError::IncompleteBuffer)?;
        Ok(if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let (kind, len) = (u32_at(0)?, usize::try_from(u32_at(4)?).unwrap_or(usize::MAX));
    if len < 12 || len % 4 != 0 {
        return Err(PcapError::InvalidField("block length"));
    }
    if slice.len() < len {
        return Err(PcapError::IncompleteBuffer);
    }
    let parsed = match kind {
        1 => {
            let word = u32_at(8)?;
            let link = if big { word >> 16 } else { word & 0xffff };
            interfaces.push((LinkType::of(link), 1_000_000));
            Parsed::Skip
        }
        6 if len >= 32 => {
            let (link, units) = interface(interfaces, u32_at(8)?)?;
            let raw = (u64::from(u32_at(12)?) << 32) | u64::from(u32_at(16)?);
            let caplen = usize::try_from(u32_at(20)?).unwrap_or(usize::MAX);
            if 28 + caplen > len - 4 {
                return Err(PcapError::InvalidField("packet length"));
            }
            let frac = u128::from(raw % units) * 1_000_000_000 / u128::from(units);
            let ts = Timestamp::from_parts(raw / units, u32::try_from(frac).unwrap_or(0));
            Parsed::Packet { start: 28, end: 28 + caplen, link, ts }
        }
        _ => Parsed::Skip,
    };
    Ok((len, parsed))
}

/// The interface a pcapng packet names. Frames of a link type synack does
/// not decode are counted by the pipeline, not refused here.
fn interface(interfaces: &[Interface], id: u32) -> Result<(LinkType, u64), PcapError> {
    interfaces.get(id as usize).copied().ok_or(PcapError::InvalidInterfaceId(id))
}

impl<R: Read> PcapSource<R> {
    /// Reads on past up to `max` frames for which `skip` is true, and reads
    /// the first for which it is not: how many it read on past, and that
    /// frame, as [`FrameSource::next_frame`] would have returned it. A fast
    /// path for a reader that passes over most frames (the sharded engine).
    /// It reads little-endian pcap records whole in the buffer, as
    /// `next_frame`'s fast path reads them; any other record (or the end of
    /// what the buffer holds) stops it short, without a frame: `next_frame`
    /// reads on from there.
    pub fn skim<F: FnMut(&Frame<'_>) -> bool>(&mut self, max: u64, mut skip: F) -> (u64, Option<Frame<'_>>) {
        let Kind::Pcap { link, nanos, little: true, .. } = self.kind else { return (0, None) };
        let pending = self.input.pending();
        let (mut at, mut skipped) = (0, 0);
        // The frame it stops at: its time and where its bytes are.
        let mut stopped = None;
        while skipped < max
            && let Some((h, rest)) = pending.get(at..).and_then(<[u8]>::split_first_chunk::<16>)
        {
            let field = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
            let len = field(8) as usize;
            let Some(data) = rest.get(..len) else { break };
            if let Some(ahead) = rest.get(AHEAD) {
                crate::os::prefetch::prefetch(ahead);
            }
            let ts = record_time(field(0), field(4), nanos);
            at += 16 + len;
            if !skip(&Frame { ts, link, data }) {
                stopped = Some((ts, at - len));
                break;
            }
            skipped += 1;
        }
        let start = self.input.pos;
        self.input.advance(at);
        self.packets += skipped + u64::from(stopped.is_some());
        let frame = stopped.map(|(ts, from)| Frame { ts, link, data: &self.input.buf[start + from..start + at] });
        (skipped, frame)
    }
}

impl<R: Read> FrameSource for PcapSource<R> {
    fn take_kernel(&mut self) -> Vec<crate::model::kernel::Change> {
        std::mem::take(&mut self.kernel)
    }

    fn take_calls(&mut self) -> crate::capture::Replayed {
        if self.calls.is_empty() { crate::capture::Replayed::default() } else { std::mem::take(&mut self.calls) }
    }

    fn next_frame(&mut self) -> Result<Next<'_>, SourceError> {
        // Most records: little-endian pcap, whole in the buffer. Their
        // 16-byte header is read at fixed offsets, as `parse_one` reads it
        // through pcap-file.
        if let Kind::Pcap { link, nanos, little: true, .. } = self.kind
            && let Some((h, rest)) = self.input.pending().split_first_chunk::<16>()
        {
            let field = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
            let len = field(8) as usize;
            if rest.len() >= len {
                if let Some(ahead) = rest.get(AHEAD) {
                    crate::os::prefetch::prefetch(ahead);
                }
                let ts = record_time(field(0), field(4), nanos);
                let start = self.input.pos + 16;
                self.input.advance(16 + len);
                self.packets += 1;
                return Ok(Next::Frame(Frame { ts, link, data: &self.input.buf[start..start + len] }));
            }
        }
        loop {
            if self.input.pos == self.input.len && self.input.eof {
                return Ok(Next::End);
            }
            match self.parse_one() {
                Ok((used, Parsed::Packet { start, end, link, ts })) => {
                    self.input.advance(used);
                    self.packets += 1;
                    return Ok(Next::Frame(Frame { ts, link, data: &self.input.buf[start..end] }));
                }
                Ok((used, Parsed::Skip)) => self.input.advance(used),
                Ok((used, Parsed::Kernel(c))) => {
                    self.input.advance(used);
                    self.kernel.push(c);
                }
                Ok((used, Parsed::Call(c))) => {
                    self.input.advance(used);
                    if self.calls.calls.len() < crate::capture::CALLS_HELD {
                        self.calls.calls.push(c);
                    } else {
                        self.calls.dropped += 1;
                    }
                }
                Ok((used, Parsed::BadCall)) => {
                    self.input.advance(used);
                    self.calls.malformed += 1;
                }
                Err(PcapError::IncompleteBuffer) => {
                    if self.input.eof {
                        return Err(self.truncated());
                    }
                    match self.input.fill() {
                        // Nothing came for a while: say so, so the caller can flush and check its stop flag.
                        Ok(true) if self.input.waiting => return Ok(Next::Idle),
                        Ok(true) => {}
                        Ok(false) => {
                            return Err(self.corrupt(crate::t!("cli-record-too-long", max = MAX_RECORD.to_string())));
                        }
                        Err(source) => {
                            return Err(SourceError::Io { name: self.name.clone(), source });
                        }
                    }
                }
                Err(e) => return Err(self.corrupt(e.to_string())),
            }
        }
    }
}

/// A reader whose reads give up after a while: a thread reads the underlying
/// stream (standard input) into a bounded queue, and a read that finds the
/// queue empty for [`Stream::PATIENCE`] fails with `WouldBlock`, which
/// [`PcapSource`] turns into [`Next::Idle`]. So a follower of a live stream
/// (`tcpdump -U -w - | synack trace --read -`) writes a connection that ended
/// without waiting for the next packet, and notices Ctrl-C. The queue is
/// bounded: a reader that falls behind slows the stream, nothing is dropped.
pub struct Stream {
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Stream {
    /// How long a read waits for data before it reports `WouldBlock`.
    pub const PATIENCE: std::time::Duration = std::time::Duration::from_millis(100);

    /// Reads `reader` on a thread of its own.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn new<T: Read + Send + 'static>(mut reader: T) -> std::io::Result<Stream> {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        std::thread::Builder::new().name("stdin".into()).spawn(move || {
            loop {
                let mut buf = vec![0; 64 * 1024];
                let sent = match reader.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        tx.send(Ok(buf))
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        })?;
        Ok(Stream { rx, chunk: Vec::new(), at: 0 })
    }
}

impl Read for Stream {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.chunk.len() {
            match self.rx.recv_timeout(Self::PATIENCE) {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return Err(ErrorKind::WouldBlock.into()),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.at);
        out[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
