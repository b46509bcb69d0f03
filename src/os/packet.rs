//! The packet socket: opened with its BPF filter and a large receive buffer,
//! bound through pnet's datalink channel, then read in batches (recvmmsg(2))
//! or through a [`super::ring::Ring`], with its kernel counters.
//!
//! pnet binds the socket (`Config::socket_fd`) and owns it from then on: the
//! descriptor is handed over once, and [`Bound`] lends it out as a
//! [`BorrowedFd`] for as long as pnet's receiver lives.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};

use pnet::datalink::{self, Channel, Config, DataLinkReceiver, NetworkInterface};
use socket2::{Domain, SockFilter, Socket, Type};

use super::bpf::Insn;

pub(crate) const SOL_PACKET: libc::c_int = 263;
const PACKET_STATISTICS: libc::c_int = 6;
const SO_RCVBUFFORCE: libc::c_int = 33;
/// PACKET_IGNORE_OUTGOING (Linux 4.20): the kernel hands the socket no copy
/// of a frame leaving an interface.
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// SO_TIMESTAMPNS: the kernel stamps each frame on arrival (nanoseconds).
const SO_TIMESTAMPNS: libc::c_int = 35;
/// Control buffer per message: room for one `struct timespec` cmsg.
const CMSG_ROOM: usize = 64;

pub(crate) fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(mem::size_of::<T>()).unwrap_or(0)
}

/// `struct tpacket_stats` from `<linux/if_packet.h>`.
#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    tp_packets: u32,
    tp_drops: u32,
}

/// Opens `socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)` with `filter`
/// attached and a receive buffer of `rcvbuf` bytes (SO_RCVBUFFORCE where
/// allowed, else the capped SO_RCVBUF). Protocol 0 receives nothing until the
/// socket is bound, so no unfiltered frame can queue up before the filter is
/// in place.
///
/// Outgoing frames are ignored (PACKET_IGNORE_OUTGOING): on `lo` each frame
/// would otherwise be cloned on its way out only for the filter to drop the
/// clone, a cost paid by the traced programs for every segment they send.
/// Where the option is unknown (Linux before 4.20), the filter still drops
/// them.
///
/// # Errors
/// `PermissionDenied` without CAP_NET_RAW; any other socket error.
pub fn open(filter: &[Insn], rcvbuf: usize) -> io::Result<OwnedFd> {
    let socket = Socket::new(Domain::PACKET, Type::RAW, None)?;
    let prog: Vec<SockFilter> = filter.iter().map(|i| SockFilter::new(i.code, i.jt, i.jf, i.k)).collect();
    socket.attach_filter(&prog)?;
    let fd = OwnedFd::from(socket);
    let size = libc::c_int::try_from(rcvbuf).unwrap_or(libc::c_int::MAX);
    // SAFETY: `size` is a live c_int for the duration of the call. RCVBUFFORCE
    // needs CAP_NET_ADMIN; without it fall back to the capped SO_RCVBUF.
    let forced = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_RCVBUFFORCE,
            (&raw const size).cast(),
            socklen::<libc::c_int>(),
        )
    } == 0;
    if !forced {
        let _ = socket2::SockRef::from(&fd).set_recv_buffer_size(rcvbuf);
    }
    let one: libc::c_int = 1;
    // SAFETY: `one` is a live c_int for the duration of the call. A kernel
    // without the option refuses it; the filter drops outgoing frames then.
    let _ = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            SOL_PACKET,
            PACKET_IGNORE_OUTGOING,
            (&raw const one).cast(),
            socklen::<libc::c_int>(),
        )
    };
    Ok(fd)
}

/// A packet socket that pnet has bound to an interface.
pub struct Bound {
    /// pnet's receiver: it owns the socket and closes it on drop.
    _rx: Box<dyn DataLinkReceiver>,
    fd: RawFd,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound").field("fd", &self.fd).finish_non_exhaustive()
    }
}

impl Bound {
    /// Hands `fd` to pnet, which binds it to `iface` (ETH_P_ALL) and owns it
    /// from then on, closing it on error too. `config.socket_fd` is set here.
    ///
    /// # Errors
    /// When pnet cannot bind it, or gives a channel that is not Ethernet.
    pub fn new(fd: OwnedFd, iface: &NetworkInterface, mut config: Config) -> io::Result<Bound> {
        let raw = fd.into_raw_fd();
        config.socket_fd = Some(raw);
        let rx = match datalink::channel(iface, config)? {
            Channel::Ethernet(_tx, rx) => rx,
            _ => return Err(io::Error::other("unexpected channel type")),
        };
        Ok(Bound { _rx: rx, fd: raw })
    }

    /// Reads and resets the kernel's counters for the socket:
    /// `(packets received including drops, drops)`.
    ///
    /// # Errors
    /// When getsockopt fails.
    pub fn statistics(&self) -> io::Result<(u64, u64)> {
        let mut stats = TpacketStats::default();
        let mut len = socklen::<TpacketStats>();
        // SAFETY: `stats` and `len` are live and sized as the kernel expects.
        let rc =
            unsafe { libc::getsockopt(self.fd, SOL_PACKET, PACKET_STATISTICS, (&raw mut stats).cast(), &raw mut len) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((u64::from(stats.tp_packets), u64::from(stats.tp_drops)))
    }

    /// Asks the kernel to attach an arrival timestamp to every frame read with
    /// [`Bound::recv_batch`].
    ///
    /// # Errors
    /// When setsockopt fails.
    pub fn enable_timestamps(&self) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: `on` is a live c_int for the duration of the call.
        let rc = unsafe {
            libc::setsockopt(
                self.fd,
                libc::SOL_SOCKET,
                SO_TIMESTAMPNS,
                (&raw const on).cast(),
                socklen::<libc::c_int>(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads up to `out.len()` frames at once without blocking (recvmmsg(2)):
    /// frame `i` lands in `buf[i * slot..]`. Returns how many were read; 0 when
    /// none was waiting.
    ///
    /// # Errors
    /// Any error but "would block" and "interrupted".
    pub fn recv_batch(&self, buf: &mut [u8], slot: usize, out: &mut [Received]) -> io::Result<usize> {
        recv_batch(self.fd, buf, slot, out)
    }
}

impl AsFd for Bound {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: pnet's receiver, which owns the descriptor, lives as long as
        // `self`, so the descriptor stays open for the borrow.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

/// One frame of a batch: its length (cut to the slot) and kernel arrival time
/// in nanoseconds since the epoch (0 if the kernel gave none).
#[derive(Clone, Copy, Debug, Default)]
pub struct Received {
    pub len: usize,
    pub ts_nanos: u64,
}

fn recv_batch(fd: RawFd, buf: &mut [u8], slot: usize, out: &mut [Received]) -> io::Result<usize> {
    let n = out.len().min(buf.len() / slot.max(1));
    let mut control = vec![0u8; n * CMSG_ROOM];
    let mut iovecs: Vec<libc::iovec> = buf
        .chunks_exact_mut(slot)
        .take(n)
        .map(|chunk| libc::iovec { iov_base: chunk.as_mut_ptr().cast(), iov_len: chunk.len() })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .zip(control.chunks_exact_mut(CMSG_ROOM))
        .map(|(iov, ctl)| {
            // SAFETY: an all-zero msghdr is valid (no name, no control data yet).
            let mut hdr: libc::msghdr = unsafe { mem::zeroed() };
            hdr.msg_iov = std::ptr::from_mut(iov);
            hdr.msg_iovlen = 1;
            hdr.msg_control = ctl.as_mut_ptr().cast();
            hdr.msg_controllen = CMSG_ROOM;
            libc::mmsghdr { msg_hdr: hdr, msg_len: 0 }
        })
        .collect();
    let vlen = libc::c_uint::try_from(msgs.len()).unwrap_or(0);
    // SAFETY: every mmsghdr points at one live iovec (into `buf`) and one live
    // control area (into `control`); all outlive the call. MSG_DONTWAIT: never blocks.
    let got = unsafe { libc::recvmmsg(fd, msgs.as_mut_ptr(), vlen, libc::MSG_DONTWAIT, std::ptr::null_mut()) };
    if got < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        };
    }
    let got = usize::try_from(got).unwrap_or(0);
    for (r, msg) in out.iter_mut().zip(&msgs).take(got) {
        r.len = (msg.msg_len as usize).min(slot);
        r.ts_nanos = 0;
        let hdr = &msg.msg_hdr;
        // SAFETY: the CMSG_* macros walk the control area the kernel filled in,
        // bounded by msg_controllen; the timespec is read unaligned.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(hdr);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == SO_TIMESTAMPNS {
                    let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
                    let nanos = u64::try_from(ts.tv_nsec).unwrap_or(0);
                    r.ts_nanos = secs.saturating_mul(1_000_000_000).saturating_add(nanos);
                }
                cmsg = libc::CMSG_NXTHDR(hdr, cmsg);
            }
        }
    }
    Ok(got)
}
