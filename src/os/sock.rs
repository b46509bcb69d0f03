//! Socket options and waits on ordinary sockets: SO_LINGER for the abort
//! scenario (through socket2), and poll(2) on a borrowed descriptor.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

/// SO_LINGER on with a zero timeout: `close` then aborts the connection with RST.
///
/// # Errors
/// When setsockopt fails.
pub fn set_linger_zero(socket: impl AsFd) -> io::Result<()> {
    socket2::SockRef::from(&socket).set_linger(Some(Duration::ZERO))
}

/// Linux's number for FIN-WAIT-1 (`TCP_FIN_WAIT1`).
pub const TCP_FIN_WAIT1: u8 = 4;
/// Linux's number for CLOSING (`TCP_CLOSING`).
pub const TCP_CLOSING: u8 = 11;
/// Linux's number for CLOSE-WAIT (`TCP_CLOSE_WAIT`).
pub const TCP_CLOSE_WAIT: u8 = 8;
/// Linux's number for LAST-ACK (`TCP_LAST_ACK`).
pub const TCP_LAST_ACK: u8 = 9;
/// Linux's number for CLOSED (`TCP_CLOSE`).
pub const TCP_CLOSE: u8 = 7;

/// What TCP_INFO says of a TCP socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpInfo {
    /// `tcpi_state`, Linux's numbering: 1 ESTABLISHED ... 4 FIN-WAIT-1 ... 11 CLOSING.
    pub state: u8,
    /// `tcpi_segs_in`: segments received so far.
    pub segs_in: u32,
}

/// TCP_INFO of a TCP socket.
///
/// # Errors
/// When getsockopt fails (not a TCP socket).
pub fn tcp_info(socket: BorrowedFd<'_>) -> io::Result<TcpInfo> {
    // SAFETY: an all-zero tcp_info is a valid value of a plain C struct.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::tcp_info>()).unwrap_or(0);
    // SAFETY: `info` and `len` are live and `len` is the struct's size; the
    // kernel copies at most that much.
    let rc = unsafe {
        libc::getsockopt(socket.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_INFO, (&raw mut info).cast(), &raw mut len)
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TcpInfo { state: info.tcpi_state, segs_in: info.tcpi_segs_in })
}

/// Waits up to `timeout` for `fd` to become readable (or for a listener: to
/// have a connection waiting). Returns whether it is.
///
/// # Errors
/// When poll fails for a reason other than a signal.
pub fn wait_readable(fd: BorrowedFd<'_>, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: one live pollfd, count 1; the descriptor is borrowed, so open.
    let rc = unsafe { libc::poll(&raw mut pfd, 1, ms) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(false) } else { Err(e) };
    }
    Ok(rc > 0)
}

/// Raises this process's soft limit on open descriptors to its hard limit (a
/// server facing thousands of idle clients needs one descriptor each).
/// Returns the limit now in force.
///
/// # Errors
/// When the limit cannot be read or set.
pub fn raise_fd_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: `lim` is a live rlimit for the kernel to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: `lim` is a live rlimit, read just above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raw const lim) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(lim.rlim_cur)
}
