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
