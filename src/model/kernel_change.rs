//! The kernel's reports as values: one socket's state change ([`Change`]),
//! a change attached to a connection ([`Transition`]), a mini-socket's timer
//! ([`Timer`]), and how a change is kept in a recording. Data only: the
//! connection keeps them, [`super::kernel`] compares them with the wire.
//! Pure.

use std::net::SocketAddr;

use super::classify::Role;
use super::segment::Timestamp;
use super::tcp::TcpState;

/// A kernel state number (`include/net/tcp_states.h`) as a [`TcpState`];
/// TCP_NEW_SYN_RECV (a request socket) is SYN-RECEIVED.
#[must_use]
pub fn state(n: i32) -> Option<TcpState> {
    Some(match n {
        1 => TcpState::Established,
        2 => TcpState::SynSent,
        3 | 12 => TcpState::SynReceived,
        4 => TcpState::FinWait1,
        5 => TcpState::FinWait2,
        6 => TcpState::TimeWait,
        7 => TcpState::Closed,
        8 => TcpState::CloseWait,
        9 => TcpState::LastAck,
        10 => TcpState::Listen,
        11 => TcpState::Closing,
        _ => return None,
    })
}

/// One change of one socket, as the kernel reported it. `sock` 0: the end
/// of a mini-socket's timer, seen through sock_diag (no tracepoint reports it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub ts: Timestamp,
    /// The socket (its kernel address): ties a change made before the port
    /// was chosen to the socket's later ones.
    pub sock: u64,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub from: TcpState,
    pub to: TcpState,
}

/// How a change is kept in a pcapng recording: the data of a custom block
/// (type 0x00000BAD, PEN [`PEN`]), one line of text:
/// `synack-kernel/1 TS_NS SOCK LOCAL REMOTE FROM TO`.
#[must_use]
pub fn to_record(c: &Change) -> String {
    format!("{RECORD_TAG} {} {} {} {} {} {}", c.ts.0, c.sock, c.local, c.remote, c.from, c.to)
}

/// The Private Enterprise Number of synack's pcapng custom blocks: 32473,
/// the one IANA reserves for documentation and examples (RFC 5612).
pub const PEN: u32 = 32_473;
const RECORD_TAG: &str = "synack-kernel/1";

/// The head every synack record line starts with, after its `tag`: time,
/// socket, endpoint and peer; then the rest of the line's fields. `None`
/// when the line is not a `tag` record or its head does not read back.
pub(crate) fn record_head<'a>(
    line: &'a str,
    tag: &str,
) -> Option<(Timestamp, u64, SocketAddr, SocketAddr, std::str::Split<'a, char>)> {
    let mut f = line.trim_end_matches(['\0', '\n']).split(' ');
    if f.next()? != tag {
        return None;
    }
    let ts = Timestamp(f.next()?.parse().ok()?);
    let sock = f.next()?.parse().ok()?;
    let local = f.next()?.parse().ok()?;
    let remote = f.next()?.parse().ok()?;
    Some((ts, sock, local, remote, f))
}

/// Reads back [`to_record`]'s line; `None` when it is not one.
#[must_use]
pub fn from_record(line: &str) -> Option<Change> {
    let (ts, sock, local, remote, mut f) = record_head(line, RECORD_TAG)?;
    let from = TcpState::from_name(f.next()?)?;
    let to = TcpState::from_name(f.next()?)?;
    Some(Change { ts, sock, local, remote, from, to })
}

/// A mini-socket as sock_diag lists it: endpoints, state (TIME-WAIT or
/// FIN-WAIT-2), when its timer ends.
pub type Timer = (SocketAddr, SocketAddr, TcpState, Timestamp);

/// A change attached to a connection: which endpoint, when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub ts: Timestamp,
    pub side: Role,
    pub from: TcpState,
    pub to: TcpState,
    /// The end of a mini-socket's timer (TIME-WAIT's 2MSL, or FIN-WAIT-2's
    /// `tcp_fin_timeout`), seen through sock_diag: the socket is gone.
    pub timer: bool,
}

/// Kernel transitions kept per connection.
pub const KEPT: usize = 64;
