//! The kernel's TCP sockets on a port through `NETLINK_SOCK_DIAG` (what
//! `ss -tan` uses): the TIME-WAIT and FIN-WAIT-2 mini-sockets the tracepoint
//! cannot see, with the time left on their timer. Requests are built with
//! `netlink-packet-sock-diag` and sent with `netlink-sys`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, SocketId, StateFlags};
use netlink_sys::protocols::NETLINK_SOCK_DIAG;
use netlink_sys::{Socket, SocketAddr as NlAddr};

/// One socket as sock_diag lists it: its endpoints, its kernel state
/// number (for a mini-socket: TIME-WAIT, or FIN-WAIT-2 for an orphan
/// waiting for its peer's FIN) and the time its timer has left (0: none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MiniSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// The kernel state number (6 TIME_WAIT, 5 FIN_WAIT2).
    pub state: u8,
    pub left: Duration,
}

/// A netlink socket for sock_diag dumps.
pub struct Diag {
    socket: Socket,
    buf: Vec<u8>,
}

/// Offset of `idiag_expires` in a response: the netlink header (16 bytes),
/// then `struct inet_diag_msg`'s family, state, timer, retransmits (4) and
/// socket id (48). netlink-packet-sock-diag does not keep it for TIME-WAIT.
const EXPIRES_AT: usize = 16 + 4 + 48;

impl Diag {
    /// Opens the netlink socket (any user may dump sockets).
    ///
    /// # Errors
    /// When the socket cannot be opened.
    pub fn open() -> io::Result<Diag> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)?;
        socket.bind_auto()?;
        socket.connect(&NlAddr::new(0, 0))?;
        socket.set_non_blocking(false)?;
        Ok(Diag { socket, buf: vec![0; 1 << 16] })
    }

    /// The TIME-WAIT and FIN-WAIT-2 mini-sockets with `port` as either port.
    ///
    /// # Errors
    /// When the dump fails.
    pub fn mini_sockets(&mut self, port: u16) -> io::Result<Vec<MiniSocket>> {
        self.sockets(port, StateFlags::TIME_WAIT | StateFlags::FIN_WAIT2)
    }

    /// Every TCP socket with `port` as either port, in any state: listeners,
    /// connections, mini-sockets (what is there before a capture starts).
    ///
    /// # Errors
    /// When the dump fails.
    pub fn all_sockets(&mut self, port: u16) -> io::Result<Vec<MiniSocket>> {
        self.sockets(port, StateFlags::all())
    }

    fn sockets(&mut self, port: u16, states: StateFlags) -> io::Result<Vec<MiniSocket>> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            self.dump(family, states.clone(), &mut out)?;
        }
        out.retain(|m| m.local.port() == port || m.remote.port() == port);
        Ok(out)
    }

    fn dump(&mut self, family: u8, states: StateFlags, out: &mut Vec<MiniSocket>) -> io::Result<()> {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        let request = SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states,
            socket_id: if family == AF_INET { SocketId::new_v4() } else { SocketId::new_v6() },
        });
        let mut packet = NetlinkMessage::new(header, request.into());
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        self.socket.send(&bytes, 0)?;
        loop {
            let n = self.socket.recv(&mut &mut self.buf[..], 0)?;
            let mut at = 0;
            while at < n {
                let bytes = &self.buf[at..n];
                let msg = NetlinkMessage::<SockDiagMessage>::deserialize(bytes)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let len = msg.header.length as usize;
                match msg.payload {
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(r)) => {
                        let id = &r.header.socket_id;
                        let expires = bytes
                            .get(EXPIRES_AT..EXPIRES_AT + 4)
                            .and_then(|b| b.try_into().ok())
                            .map_or(0, u32::from_ne_bytes);
                        out.push(MiniSocket {
                            local: SocketAddr::new(mapped(id.source_address), id.source_port),
                            remote: SocketAddr::new(mapped(id.destination_address), id.destination_port),
                            state: r.header.state,
                            left: Duration::from_millis(u64::from(expires)),
                        });
                    }
                    NetlinkPayload::Done(_) => return Ok(()),
                    NetlinkPayload::Error(e) => return Err(io::Error::other(format!("sock_diag: {e:?}"))),
                    _ => {}
                }
                if len == 0 {
                    break;
                }
                at += len;
            }
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 one (how the packets show it).
fn mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}
