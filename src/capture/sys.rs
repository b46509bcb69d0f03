//! The few system calls synack needs that std and pnet do not offer: a packet
//! socket with a classic BPF filter, its kernel counters, a bigger receive
//! buffer, dropping root after the socket is open, and SO_LINGER. The only
//! `unsafe` in the crate lives here, one `// SAFETY:` comment per block.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::os::fd::RawFd;

const SOL_PACKET: libc::c_int = 263;
const PACKET_STATISTICS: libc::c_int = 6;
const SO_ATTACH_FILTER: libc::c_int = 26;
const SO_RCVBUFFORCE: libc::c_int = 33;

/// `struct tpacket_stats` from `<linux/if_packet.h>`.
#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    tp_packets: u32,
    tp_drops: u32,
}

/// The classic BPF program `tcpdump -dd 'inbound and tcp port P'` prints
/// (Ethernet framing, as Linux `lo` presents it), with `P` as a parameter. The
/// first two instructions drop PACKET_OUTGOING copies: on `lo` every frame is
/// seen twice, once leaving and once arriving.
#[must_use]
pub fn inbound_tcp_port_filter(port: u16) -> Vec<libc::sock_filter> {
    let p = u32::from(port);
    let ins = |code: u16, jt: u8, jf: u8, k: u32| libc::sock_filter { code, jt, jf, k };
    vec![
        ins(0x28, 0, 0, 0xffff_f004),  // ldh [skb->pkt_type]
        ins(0x15, 19, 0, 0x0000_0004), // jeq PACKET_OUTGOING -> drop
        ins(0x28, 0, 0, 0x0000_000c),  // ldh [12] ethertype
        ins(0x15, 0, 6, 0x0000_86dd),  // IPv6?
        ins(0x30, 0, 0, 0x0000_0014),  // ldb [20] next header
        ins(0x15, 0, 15, 0x0000_0006), // TCP?
        ins(0x28, 0, 0, 0x0000_0036),  // ldh [54] src port
        ins(0x15, 12, 0, p),
        ins(0x28, 0, 0, 0x0000_0038), // ldh [56] dst port
        ins(0x15, 10, 11, p),
        ins(0x15, 0, 10, 0x0000_0800), // IPv4?
        ins(0x30, 0, 0, 0x0000_0017),  // ldb [23] protocol
        ins(0x15, 0, 8, 0x0000_0006),  // TCP?
        ins(0x28, 0, 0, 0x0000_0014),  // ldh [20] fragment offset
        ins(0x45, 6, 0, 0x0000_1fff),  // fragment -> drop
        ins(0xb1, 0, 0, 0x0000_000e),  // ldxb 4*([14]&0xf)
        ins(0x48, 0, 0, 0x0000_000e),  // ldh [x+14] src port
        ins(0x15, 2, 0, p),
        ins(0x48, 0, 0, 0x0000_0010), // ldh [x+16] dst port
        ins(0x15, 0, 1, p),
        ins(0x06, 0, 0, 0x0004_0000), // accept 262144 bytes
        ins(0x06, 0, 0, 0x0000_0000), // drop
    ]
}

/// Opens `socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)` with `filter`
/// attached and a large receive buffer. Protocol 0 receives nothing until the
/// socket is bound (pnet binds it with ETH_P_ALL), so no unfiltered frame can
/// queue up before the filter is in place. Ownership of the fd passes to pnet.
///
/// # Errors
/// `PermissionDenied` without CAP_NET_RAW; any other socket error.
pub fn packet_socket(filter: &[libc::sock_filter], rcvbuf: usize) -> io::Result<RawFd> {
    // SAFETY: plain socket(2) call with constant arguments; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let prog = libc::sock_fprog {
        len: u16::try_from(filter.len()).map_err(|_| io::Error::other("BPF program too long"))?,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: `prog` points to `filter`, which outlives the call; the kernel copies it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_ATTACH_FILTER,
            (&raw const prog).cast(),
            socklen::<libc::sock_fprog>(),
        )
    };
    if rc != 0 {
        let err = io::Error::last_os_error();
        // SAFETY: `fd` is ours and not yet handed to anyone.
        unsafe { libc::close(fd) };
        return Err(err);
    }
    let size = libc::c_int::try_from(rcvbuf).unwrap_or(libc::c_int::MAX);
    // SAFETY: `size` is a live c_int for the duration of the call. RCVBUFFORCE
    // needs CAP_NET_ADMIN; without it fall back to the capped SO_RCVBUF.
    unsafe {
        if libc::setsockopt(fd, libc::SOL_SOCKET, SO_RCVBUFFORCE, (&raw const size).cast(), socklen::<libc::c_int>())
            != 0
        {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, (&raw const size).cast(), socklen::<libc::c_int>());
        }
    }
    Ok(fd)
}

fn socklen<T>() -> libc::socklen_t {
    libc::socklen_t::try_from(mem::size_of::<T>()).unwrap_or(0)
}

/// Reads and resets the kernel's counters for a packet socket:
/// `(packets received including drops, drops)`.
///
/// # Errors
/// When `fd` is not an open packet socket.
pub fn packet_statistics(fd: RawFd) -> io::Result<(u64, u64)> {
    let mut stats = TpacketStats::default();
    let mut len = socklen::<TpacketStats>();
    // SAFETY: `stats` and `len` are live and sized as the kernel expects.
    let rc = unsafe { libc::getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, (&raw mut stats).cast(), &raw mut len) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((u64::from(stats.tp_packets), u64::from(stats.tp_drops)))
}

/// When running as root through sudo, become the invoking user
/// (`SUDO_UID`/`SUDO_GID`) for good: supplementary groups cleared, then gid,
/// then uid. glibc applies set*id to every thread of the process. Returns the
/// uid switched to, if any.
///
/// # Errors
/// When a set*id call fails (the process must not go on as root then).
pub fn drop_privileges_to_sudo_user() -> io::Result<Option<u32>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let parse = |name| std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok());
    let (Some(uid), Some(gid)) = (parse("SUDO_UID"), parse("SUDO_GID")) else {
        return Ok(None);
    };
    if uid == 0 {
        return Ok(None);
    }
    // SAFETY: setgroups with a zero-length list reads no memory; the set*id calls
    // take plain integers. Each result is checked before going on.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(gid, gid, gid) != 0
            || libc::setresuid(uid, uid, uid) != 0
        {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(Some(uid))
}

/// SO_LINGER on with a zero timeout: `close` then aborts the connection with RST.
///
/// # Errors
/// When setsockopt fails.
pub fn set_linger_zero(fd: RawFd) -> io::Result<()> {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: `linger` is live and sized as the kernel expects.
    let rc = unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_LINGER, (&raw const linger).cast(), socklen::<libc::linger>())
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Takes ownership of an fd that this process opened and nobody else holds.
#[must_use]
pub fn own_fd(fd: RawFd) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: callers pass an fd they opened and never shared, so it is open and
    // owned by nobody else.
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }
}

/// Waits up to `timeout` for `fd` to become readable (or for a listener: to
/// have a connection waiting). Returns whether it is.
///
/// # Errors
/// When poll fails for a reason other than a signal.
pub fn wait_readable(fd: RawFd, timeout: std::time::Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one live pollfd, count 1.
    let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(rc > 0)
}

/// SO_TIMESTAMPNS: the kernel stamps each frame on arrival (nanoseconds).
const SO_TIMESTAMPNS: libc::c_int = 35;
/// Control buffer per message: room for one `struct timespec` cmsg.
const CMSG_ROOM: usize = 64;

/// Asks the kernel to attach an arrival timestamp to every frame.
///
/// # Errors
/// When setsockopt fails.
pub fn enable_timestamps(fd: RawFd) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `on` is a live c_int for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(fd, libc::SOL_SOCKET, SO_TIMESTAMPNS, (&raw const on).cast(), socklen::<libc::c_int>())
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One frame of a batch: its length (cut to the slot) and kernel arrival time
/// in nanoseconds since the epoch (0 if the kernel gave none).
#[derive(Clone, Copy, Debug, Default)]
pub struct Received {
    pub len: usize,
    pub ts_nanos: u64,
}

/// Reads up to `out.len()` frames at once without blocking (recvmmsg(2)):
/// frame `i` lands in `buf[i * slot..]`. Returns how many were read; 0 when
/// none was waiting.
///
/// # Errors
/// Any error but "would block" and "interrupted".
pub fn recv_batch(fd: RawFd, buf: &mut [u8], slot: usize, out: &mut [Received]) -> io::Result<usize> {
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

const PACKET_RX_RING: libc::c_int = 5;
const PACKET_VERSION: libc::c_int = 10;
const TPACKET_V3: libc::c_int = 2;
const TP_STATUS_KERNEL: u32 = 0;
const TP_STATUS_USER: u32 = 1;

/// `struct tpacket_req3` from `<linux/if_packet.h>`.
#[repr(C)]
struct TpacketReq3 {
    tp_block_size: u32,
    tp_block_nr: u32,
    tp_frame_size: u32,
    tp_frame_nr: u32,
    tp_retire_blk_tov: u32,
    tp_sizeof_priv: u32,
    tp_feature_req_word: u32,
}

// Offsets into `struct tpacket_block_desc` (with `tpacket_hdr_v1`) and
// `struct tpacket3_hdr`, as the kernel lays them out.
const BLOCK_STATUS: usize = 8;
const BLOCK_NUM_PKTS: usize = 12;
const BLOCK_FIRST_PKT: usize = 16;
const PKT_NEXT: usize = 0;
const PKT_SEC: usize = 4;
const PKT_NSEC: usize = 8;
const PKT_SNAPLEN: usize = 12;
const PKT_MAC: usize = 24;
const PKT_HEADER: usize = 28;

/// A TPACKET_V3 receive ring mapped from a packet socket (PACKET_MMAP): the
/// kernel writes frames into shared blocks, so reading them costs no system
/// call and no copy. Every offset the kernel hands over is checked against the
/// block before it is used.
#[derive(Debug)]
pub struct Ring {
    base: *mut u8,
    block_size: usize,
    blocks: usize,
    /// The block being read.
    block: usize,
    /// Packets left in it, and the offset of the next one (when held).
    left: u32,
    next: usize,
    held: bool,
}

// SAFETY: the mapping is owned by the Ring alone and only touched through &mut self.
unsafe impl Send for Ring {}

impl Ring {
    /// Sets up a ring of `blocks` blocks of `block_size` bytes on `fd` and maps
    /// it. A block is handed to user space when full or after `retire_ms`.
    ///
    /// # Errors
    /// When the kernel refuses the ring or the mapping.
    pub fn new(fd: RawFd, block_size: usize, blocks: usize, retire_ms: u32) -> io::Result<Ring> {
        let version = TPACKET_V3;
        // SAFETY: `version` is a live c_int for the duration of the call.
        if unsafe {
            libc::setsockopt(fd, SOL_PACKET, PACKET_VERSION, (&raw const version).cast(), socklen::<libc::c_int>())
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        let frame_size = 2048u32;
        let bs = u32::try_from(block_size).map_err(|_| io::Error::other("block too large"))?;
        let nr = u32::try_from(blocks).map_err(|_| io::Error::other("too many blocks"))?;
        let req = TpacketReq3 {
            tp_block_size: bs,
            tp_block_nr: nr,
            tp_frame_size: frame_size,
            tp_frame_nr: bs / frame_size * nr,
            tp_retire_blk_tov: retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        // SAFETY: `req` is live and laid out as `struct tpacket_req3`.
        if unsafe {
            libc::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, (&raw const req).cast(), socklen::<TpacketReq3>())
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        let len = block_size * blocks;
        // SAFETY: mapping the ring the kernel just allocated for `fd`, read-write shared.
        let base = unsafe {
            libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Ring { base: base.cast(), block_size, blocks, block: 0, left: 0, next: 0, held: false })
    }

    fn block_ptr(&self) -> *mut u8 {
        // SAFETY: `block < blocks`, so the offset stays inside the mapping.
        unsafe { self.base.add(self.block * self.block_size) }
    }

    fn read_u32(&self, at: usize) -> u32 {
        debug_assert!(at + 4 <= self.block_size);
        // SAFETY: callers keep `at + 4 <= block_size`; the block is ours (TP_STATUS_USER).
        unsafe { std::ptr::read_unaligned(self.block_ptr().add(at).cast::<u32>()) }
    }

    fn status(&self) -> u32 {
        // SAFETY: the status word is inside the block; the kernel writes it, so read it volatile.
        let s = unsafe { std::ptr::read_volatile(self.block_ptr().add(BLOCK_STATUS).cast::<u32>()) };
        std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
        s
    }

    /// Gives the current block back to the kernel and moves to the next.
    fn release(&mut self) {
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        // SAFETY: the status word is inside the block, which we hold.
        unsafe { std::ptr::write_volatile(self.block_ptr().add(BLOCK_STATUS).cast::<u32>(), TP_STATUS_KERNEL) };
        self.held = false;
        self.left = 0;
        self.block = (self.block + 1) % self.blocks;
    }

    /// Whether a packet can be read now (takes the next block if it is ready).
    pub fn ready(&mut self) -> bool {
        for _ in 0..=self.blocks {
            if self.held && self.left > 0 {
                return true;
            }
            if self.held {
                self.release();
            }
            if self.status() & TP_STATUS_USER == 0 {
                return false;
            }
            self.held = true;
            self.left = self.read_u32(BLOCK_NUM_PKTS);
            self.next = self.read_u32(BLOCK_FIRST_PKT) as usize;
        }
        false
    }

    /// The next packet: kernel timestamp in nanoseconds and the frame bytes.
    /// `None` when no packet is ready (see [`Ring::ready`]).
    pub fn next_packet(&mut self) -> Option<(u64, &[u8])> {
        if !self.ready() {
            return None;
        }
        let at = self.next;
        // A header that does not fit, or a frame outside the block: give the block up.
        if at < BLOCK_FIRST_PKT || at + PKT_HEADER > self.block_size {
            self.release();
            return None;
        }
        let next_offset = self.read_u32(at + PKT_NEXT) as usize;
        let secs = u64::from(self.read_u32(at + PKT_SEC));
        let nanos = u64::from(self.read_u32(at + PKT_NSEC));
        let snaplen = self.read_u32(at + PKT_SNAPLEN) as usize;
        // SAFETY: `at + PKT_HEADER <= block_size` was checked just above.
        let mac = usize::from(unsafe { std::ptr::read_unaligned(self.block_ptr().add(at + PKT_MAC).cast::<u16>()) });
        let start = at + mac;
        if start + snaplen > self.block_size || (next_offset == 0 && self.left > 1) {
            self.release();
            return None;
        }
        self.left -= 1;
        self.next = at + next_offset;
        // SAFETY: `start + snaplen <= block_size` was checked; the block stays ours
        // until `release`, which needs `&mut self` and so ends this borrow first.
        let data = unsafe { std::slice::from_raw_parts(self.block_ptr().add(start), snaplen) };
        Some((secs.saturating_mul(1_000_000_000).saturating_add(nanos), data))
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `new` mapped; nothing borrows it any more.
        unsafe { libc::munmap(self.base.cast(), self.block_size * self.blocks) };
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn filter_has_the_port_in_four_places() {
        let f = super::inbound_tcp_port_filter(8001);
        assert_eq!(f.len(), 22);
        assert_eq!(f.iter().filter(|i| i.k == 8001).count(), 4);
    }
}
