//! Live capture: a packet socket with a kernel BPF filter for "inbound and tcp
//! port P" ([`crate::os::bpf`]), handed to pnet's datalink channel through
//! `Config::socket_fd` ([`crate::os::packet`]). Frames are read from a TPACKET_V3 ring set up on that
//! socket (recvmmsg where the kernel refuses one), each with the kernel's
//! arrival timestamp.
//!
//! Facts this relies on (verified on Linux 6.x, see docs/architecture.md): on `lo` an ETH_P_ALL
//! socket sees every frame twice, which the filter's first instructions drop;
//! a read timeout lets the reading thread notice it should stop; a 4 KiB read
//! buffer would truncate loopback segments of up to 65,549 bytes.

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pnet::datalink::{self, Config};

use super::{FrameSource, Next, SourceError};
use crate::model::decode::{Frame, LinkType};
use crate::model::segment::Timestamp;
use crate::os::packet::{self, Bound, Received};
use crate::os::ring::Ring;
use crate::os::{bpf, sock};

/// How long a read waits before reporting [`Next::Idle`].
pub const READ_TIMEOUT: Duration = Duration::from_millis(100);
/// Large enough for the biggest loopback frame (65,535 + 14).
const READ_BUFFER: usize = 262_144;
/// Kernel receive buffer: room for bursts while the reader is busy.
const SOCKET_BUFFER: usize = 32 << 20;
/// The receive ring: 128 blocks of 256 KiB (a block holds at least one
/// maximum-size loopback frame, and about 2,000 small ones), each handed
/// over when full or after `RING_RETIRE_MS`. Under load a block is retired
/// by its timer, so the ring holds 128 x 10 ms of frames for a reader kept
/// off the CPU (32 blocks of 1 MiB held 320 ms).
const RING_BLOCK: usize = 1 << 18;
const RING_BLOCKS: usize = 128;
const RING_RETIRE_MS: u32 = 10;
/// Frames read per system call at most (without a ring).
const BATCH: usize = 64;
/// After the first frame of a quiet spell arrives, wait this long so that the
/// frames right behind it are read in the same system call. Far below what a
/// person can see; timestamps are the kernel's, so timing is not affected.
const GATHER: Duration = Duration::from_millis(1);
/// Room for one frame in a batch: the biggest loopback frame, rounded up.
const SLOT: usize = 65_600;

/// Frames read ahead with one recvmmsg(2).
struct Batch {
    buf: Vec<u8>,
    frames: [Received; BATCH],
    count: usize,
    next: usize,
}

/// Why live capture could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    Permission {
        interface: String,
        #[source]
        source: io::Error,
    },
    NoInterface {
        name: String,
        available: String,
    },
    Other {
        interface: String,
        #[source]
        source: io::Error,
    },
}

/// In the language of [`crate::i18n::current`] (`cli-open-*`).
impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            OpenError::Permission { interface, source } => {
                crate::t!("cli-open-permission", interface = interface.clone(), cause = crate::app::io_words(source))
            }
            OpenError::NoInterface { name, available } => {
                crate::t!("cli-open-no-interface", name = name.clone(), available = available.clone())
            }
            OpenError::Other { interface, .. } => crate::t!("cli-open-other", interface = interface.clone()),
        };
        f.write_str(&s)
    }
}

/// Kernel counters of the packet socket, summed over reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Frames that passed the filter, drops included.
    pub packets: u64,
    /// Frames the kernel dropped because the socket buffer was full.
    pub drops: u64,
}

/// A live capture on one interface and TCP port.
pub struct LiveSource {
    /// The PACKET_MMAP ring, when the kernel gave one; otherwise `batch`.
    /// Unmapped before the socket closes.
    ring: Option<Ring>,
    /// The socket, bound and owned by pnet.
    socket: Bound,
    interface: String,
    stats: KernelStats,
    last: Timestamp,
    batch: Batch,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource").field("interface", &self.interface).field("stats", &self.stats).finish()
    }
}

impl LiveSource {
    /// Opens the capture. Call before dropping privileges.
    ///
    /// # Errors
    /// [`OpenError::Permission`] without CAP_NET_RAW, [`OpenError::NoInterface`]
    /// for an unknown name, [`OpenError::Other`] otherwise.
    pub fn open(interface: &str, port: u16) -> Result<LiveSource, OpenError> {
        let other = |source| OpenError::Other { interface: interface.to_string(), source };
        let fd = packet::open(&bpf::inbound_tcp_udp_port(port), SOCKET_BUFFER).map_err(|source| {
            if source.kind() == io::ErrorKind::PermissionDenied {
                OpenError::Permission { interface: interface.to_string(), source }
            } else {
                other(source)
            }
        })?;
        let all = datalink::interfaces();
        let Some(iface) = all.iter().find(|i| i.name == interface) else {
            // The socket was never handed to pnet: it closes here.
            drop(fd);
            let available = all.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(OpenError::NoInterface { name: interface.to_string(), available });
        };
        // The ring is set up before pnet binds the socket, so no frame can land
        // in the ordinary queue instead. Without one (an old kernel), recvmmsg.
        let ring = Ring::new(fd.as_fd(), RING_BLOCK, RING_BLOCKS, RING_RETIRE_MS).ok();
        let config = Config {
            read_buffer_size: READ_BUFFER,
            read_timeout: Some(READ_TIMEOUT),
            promiscuous: false,
            ..Config::default()
        };
        // From here on pnet owns the socket (it closes it on error, and on drop).
        let socket = Bound::new(fd, iface, config).map_err(other)?;
        // Kernel arrival stamps: frames are read in batches, not one by one.
        socket.enable_timestamps().map_err(other)?;
        let batch = Batch { buf: vec![0; BATCH * SLOT], frames: [Received::default(); BATCH], count: 0, next: 0 };
        Ok(LiveSource {
            socket,
            interface: interface.to_string(),
            stats: KernelStats::default(),
            last: Timestamp(0),
            ring,
            batch,
        })
    }

    /// The kernel's counters so far (reads and sums the socket's statistics,
    /// which reset on every read).
    pub fn kernel_stats(&mut self) -> KernelStats {
        if let Ok((packets, drops)) = self.socket.statistics() {
            self.stats.packets += packets;
            self.stats.drops += drops;
        }
        self.stats
    }

    /// The interface captured on.
    #[must_use]
    pub fn interface(&self) -> &str {
        &self.interface
    }
}

/// The current time as a capture timestamp, never earlier than `last`.
fn arrival(last: Timestamp) -> Timestamp {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let ts = Timestamp(u64::try_from(now.as_nanos()).unwrap_or(u64::MAX));
    ts.max(last)
}

impl FrameSource for LiveSource {
    /// Frames come from the PACKET_MMAP ring when there is one: no system call
    /// per frame, only a poll(2) of up to [`READ_TIMEOUT`] when no block is
    /// ready. Otherwise from a batch read with one recvmmsg(2) (up to 64 frames
    /// per call) on the socket that pnet bound, gathering for [`GATHER`] after a
    /// quiet spell. pnet's own `next()` costs a poll(2) and a recvfrom(2) per
    /// frame and gives no kernel timestamp.
    fn next_frame(&mut self) -> Result<Next<'_>, SourceError> {
        let io_err = |name: &str, source| SourceError::Io { name: name.to_string(), source };
        if let Some(ring) = &mut self.ring {
            if !ring.ready() {
                let readable =
                    sock::wait_readable(self.socket.as_fd(), READ_TIMEOUT).map_err(|e| io_err(&self.interface, e))?;
                if !readable || !ring.ready() {
                    return Ok(Next::Idle);
                }
            }
            let Some((ts, data)) = ring.next_packet() else { return Ok(Next::Idle) };
            let ts = if ts == 0 { arrival(self.last) } else { Timestamp(ts).max(self.last) };
            self.last = ts;
            return Ok(Next::Frame(Frame { ts, link: LinkType::Ethernet, data }));
        }
        if self.batch.next == self.batch.count {
            self.batch.next = 0;
            self.batch.count = self
                .socket
                .recv_batch(&mut self.batch.buf, SLOT, &mut self.batch.frames)
                .map_err(|e| io_err(&self.interface, e))?;
            if self.batch.count == 0 {
                if !sock::wait_readable(self.socket.as_fd(), READ_TIMEOUT).map_err(|e| io_err(&self.interface, e))? {
                    return Ok(Next::Idle);
                }
                std::thread::sleep(GATHER);
                self.batch.count = self
                    .socket
                    .recv_batch(&mut self.batch.buf, SLOT, &mut self.batch.frames)
                    .map_err(|e| io_err(&self.interface, e))?;
                if self.batch.count == 0 {
                    return Ok(Next::Idle);
                }
            }
        }
        let i = self.batch.next;
        self.batch.next += 1;
        let r = self.batch.frames[i];
        let ts = if r.ts_nanos == 0 { arrival(self.last) } else { Timestamp(r.ts_nanos).max(self.last) };
        self.last = ts;
        let data = &self.batch.buf[i * SLOT..i * SLOT + r.len];
        Ok(Next::Frame(Frame { ts, link: LinkType::Ethernet, data }))
    }
}
