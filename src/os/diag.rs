//! The kernel's TCP sockets on a port through `NETLINK_SOCK_DIAG` (what
//! `ss -tan` uses): the TIME-WAIT and FIN-WAIT-2 mini-sockets the tracepoint
//! cannot see, with the time left on their timer. Requests are built with
//! `netlink-packet-sock-diag` and sent with `netlink-sys`; each carries an
//! inet_diag filter program ([`port_filter`]), so the kernel sends only the
//! watched port's sockets, not every TCP socket of the host. [`gone`] diffs
//! two listings in linear time. [`Diag::queues`] reads a listener's two
//! queues: the accept queue's length and limit, and the SYN queue's request
//! sockets.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload,
    Parseable,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_packet_sock_diag::constants::{AF_INET, AF_INET6, IPPROTO_TCP, SOCK_DIAG_BY_FAMILY};
use netlink_packet_sock_diag::inet::{ExtensionFlags, InetRequest, InetResponseHeader, SocketId, StateFlags};
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

/// A listening socket's two queues, as sock_diag tells them.
///
/// For a LISTEN socket the kernel's `inet_diag_msg` carries, in
/// `idiag_rqueue`, `sk_ack_backlog` (connections whose handshake is done and
/// that `accept()` has not taken: the accept queue) and, in `idiag_wqueue`,
/// `sk_max_ack_backlog` (the backlog `listen()` gave, capped at
/// `net.core.somaxconn`): what `ss -ltn` shows as Recv-Q and Send-Q.
///
/// Linux calls the accept queue full when `sk_acceptq_is_full()`
/// (include/net/sock.h) holds: `sk_ack_backlog > sk_max_ack_backlog`, a
/// strict comparison. So `listen(3)` lets **four** connections wait: the
/// fifth handshake finds the queue full. While it is full, `tcp_conn_request`
/// (net/ipv4/tcp_input.c) drops a new SYN, and `tcp_v4_syn_recv_sock`
/// (net/ipv4/tcp_ipv4.c) drops the third ACK of a handshake already begun
/// (with `net.ipv4.tcp_abort_on_overflow` 0): both count ListenOverflows
/// and ListenDrops.
///
/// The SYN queue is the listener's request sockets (state
/// `TCP_NEW_SYN_RECV`, 12, listed by sock_diag as SYN_RECV): handshakes
/// answered with a SYN-ACK whose third ACK has not been taken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queues {
    /// The listener's address (the first listener of the port found).
    pub local: Option<SocketAddr>,
    /// Connections waiting for `accept()` (`idiag_rqueue`).
    pub accept_queue: u32,
    /// The limit (`idiag_wqueue`): the queue is full above it.
    pub backlog: u32,
    /// The port's request sockets (SYN-RECEIVED, in the SYN queue).
    pub syn_queue: u32,
    /// Listening sockets on the port (0: nothing listens).
    pub listeners: u32,
}

impl Queues {
    /// Whether Linux finds the accept queue full (`sk_acceptq_is_full`:
    /// more waiting than the backlog).
    #[must_use]
    pub fn accept_full(&self) -> bool {
        self.listeners > 0 && self.accept_queue > self.backlog
    }
}

/// The kernel state number of a request socket (`TCP_NEW_SYN_RECV`), in the
/// SYN queue; `StateFlags` has no name for it.
pub const TCP_NEW_SYN_RECV: u8 = 12;
/// The state a dump gives a request socket (`TCP_SYN_RECV`:
/// `inet_req_diag_fill` in net/ipv4/inet_diag.c reports it so).
pub const TCP_SYN_RECV: u8 = 3;
/// The kernel state number of a listening socket (`TCP_LISTEN`).
pub const TCP_LISTEN: u8 = 10;

/// The states a listener's queues need: LISTEN and the request sockets
/// (`1 << TCP_NEW_SYN_RECV`, which the crate's flags do not name; the
/// kernel adds it itself when SYN_RECV is asked for, as `ss` does).
fn queue_states() -> StateFlags {
    StateFlags::LISTEN | StateFlags::SYN_RECV | StateFlags::from_bits_retain(1 << TCP_NEW_SYN_RECV)
}

/// A netlink socket for sock_diag dumps.
pub struct Diag {
    socket: Socket,
    buf: Vec<u8>,
}

/// Offset of `idiag_expires` in `struct inet_diag_msg`: family, state,
/// timer, retransmits (4), then the socket id (48). netlink-packet-sock-diag
/// does not keep it for TIME-WAIT.
const EXPIRES_AT: usize = 4 + 48;
/// Bytes of `struct inet_diag_msg` before its attributes.
const INET_DIAG_MSG: usize = 72;

/// `INET_DIAG_REQ_BYTECODE`: the request attribute that carries a filter
/// program (`<linux/inet_diag.h>`).
const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// Filter operations (`enum { INET_DIAG_BC_NOP, INET_DIAG_BC_JMP, ... }`).
const INET_DIAG_BC_JMP: u8 = 1;
const INET_DIAG_BC_S_EQ: u8 = 11;
const INET_DIAG_BC_D_EQ: u8 = 12;

/// One `struct inet_diag_bc_op`: an operation, where to go when it holds
/// (`yes` bytes on) and when it does not (`no` bytes on). A program accepts
/// a socket when it ends exactly at its last byte, and rejects it when a
/// jump goes past that.
fn op(code: u8, yes: u8, no: u16) -> [u8; 4] {
    let n = no.to_ne_bytes();
    [code, yes, n[0], n[1]]
}

/// The inet_diag filter program for "source port P or destination port P"
/// (what `ss 'sport = :P or dport = :P'` sends): the kernel runs it on
/// every socket of its tables and sends only those it accepts. A port
/// condition takes two operations, the second holding the port (host order).
///
/// ```text
///  0  S_EQ  yes +8 (the JMP)   no +12 (the D_EQ)
///  4        port
///  8  JMP   no +12: the end, accepted
/// 12  D_EQ  yes +8: the end, accepted   no +12: past it, rejected
/// 16        port
/// ```
///
/// (The kernel's audit wants every `no` target to lie on the chain of
/// `yes` jumps from the start, hence the JMP rather than `yes` to the end.)
#[must_use]
pub fn port_filter(port: u16) -> [u8; 20] {
    let mut bc = [0u8; 20];
    bc[0..4].copy_from_slice(&op(INET_DIAG_BC_S_EQ, 8, 12));
    bc[4..8].copy_from_slice(&op(0, 0, port));
    bc[8..12].copy_from_slice(&op(INET_DIAG_BC_JMP, 4, 12));
    bc[12..16].copy_from_slice(&op(INET_DIAG_BC_D_EQ, 8, 12));
    bc[16..20].copy_from_slice(&op(0, 0, port));
    bc
}

/// The dump request for `family`'s TCP sockets in `states` with `port` as
/// either port: `struct inet_diag_req_v2` (built by
/// netlink-packet-sock-diag, which has no request attributes), then the
/// [`port_filter`] as an `INET_DIAG_REQ_BYTECODE` attribute.
#[must_use]
pub fn dump_request(family: u8, states: StateFlags, port: u16) -> Vec<u8> {
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
    // struct nlattr: length (header included), type; then the program,
    // already a multiple of 4 bytes long.
    let filter = port_filter(port);
    let attr_len = u16::try_from(4 + filter.len()).unwrap_or(u16::MAX);
    bytes.extend_from_slice(&attr_len.to_ne_bytes());
    bytes.extend_from_slice(&INET_DIAG_REQ_BYTECODE.to_ne_bytes());
    bytes.extend_from_slice(&filter);
    let total = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    bytes[0..4].copy_from_slice(&total.to_ne_bytes());
    bytes
}

/// One `struct inet_diag_msg` (a dump's message payload) as a socket.
fn parse_socket(payload: &[u8]) -> Option<MiniSocket> {
    parse_listed(payload).map(|l| l.socket)
}

/// A socket as a dump lists it, with its two queue figures.
#[derive(Clone, Copy, Debug)]
struct Listed {
    socket: MiniSocket,
    rqueue: u32,
    wqueue: u32,
}

fn parse_listed(payload: &[u8]) -> Option<Listed> {
    let header = InetResponseHeader::parse(payload.get(..INET_DIAG_MSG)?).ok()?;
    let id = &header.socket_id;
    let expires = u32::from_ne_bytes(payload.get(EXPIRES_AT..EXPIRES_AT + 4)?.try_into().ok()?);
    let socket = MiniSocket {
        local: SocketAddr::new(mapped(id.source_address), id.source_port),
        remote: SocketAddr::new(mapped(id.destination_address), id.destination_port),
        state: header.state,
        left: Duration::from_millis(u64::from(expires)),
    };
    Some(Listed { socket, rqueue: header.recv_queue, wqueue: header.send_queue })
}

/// The queues of `port`'s listener from a dump of its LISTEN and request
/// sockets: the first listener's figures, and every request socket whose
/// local port is `port` (the filter also passes sockets whose remote port
/// is `port`).
fn queues_of(listed: &[Listed], port: u16) -> Queues {
    let mut q = Queues::default();
    for l in listed.iter().filter(|l| l.socket.local.port() == port) {
        match l.socket.state {
            TCP_LISTEN => {
                if q.listeners == 0 {
                    q.local = Some(l.socket.local);
                    q.accept_queue = l.rqueue;
                    q.backlog = l.wqueue;
                }
                q.listeners += 1;
            }
            // A request socket is listed as SYN_RECV (`inet_req_diag_fill`).
            TCP_SYN_RECV | TCP_NEW_SYN_RECV => q.syn_queue += 1,
            _ => {}
        }
    }
    q
}

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

    /// The queues of the listener on `port` ([`Queues`]): one filtered dump
    /// per family of the port's LISTEN and request sockets only (the kernel
    /// walks its listening table and the request sockets, and sends the
    /// port's).
    ///
    /// # Errors
    /// When the dump fails.
    pub fn queues(&mut self, port: u16) -> io::Result<Queues> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            self.dump(&dump_request(family, queue_states(), port), &mut |p| out.extend(parse_listed(p)))?;
        }
        Ok(queues_of(&out, port))
    }

    /// Both families' sockets in `states` on `port`, filtered by the kernel
    /// ([`port_filter`]): only the port's sockets cross into user space.
    fn sockets(&mut self, port: u16, states: StateFlags) -> io::Result<Vec<MiniSocket>> {
        let mut out = Vec::new();
        for family in [AF_INET, AF_INET6] {
            self.dump(&dump_request(family, states.clone(), port), &mut |p| out.extend(parse_socket(p)))?;
        }
        Ok(out)
    }

    /// Sends `request` and hands each socket's message payload to `each`.
    fn dump(&mut self, request: &[u8], each: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        self.socket.send(request, 0)?;
        loop {
            let n = self.socket.recv(&mut &mut self.buf[..], 0)?;
            let mut at = 0;
            while at < n {
                let msg = NetlinkBuffer::new_checked(&self.buf[at..n]).map_err(|e| invalid(e.to_string()))?;
                let len = msg.length() as usize;
                match msg.message_type() {
                    SOCK_DIAG_BY_FAMILY => each(msg.payload()),
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let mut parsed = NetlinkMessage::<SockDiagMessage>::deserialize(&self.buf[at..n])
                            .map_err(|e| invalid(e.to_string()))?;
                        if let NetlinkPayload::Error(e) = &mut parsed.payload {
                            return Err(e.to_io());
                        }
                        return Err(io::Error::other("sock_diag: an error without its code"));
                    }
                    _ => {}
                }
                // Messages are aligned to 4 bytes.
                at += len.next_multiple_of(4).max(16);
            }
        }
    }
}

/// The mini-sockets of `before` that are not in `now` (same endpoints), in
/// `before`'s order: those whose timer ran out between two listings. One
/// pass over each list (a hash set of `now`'s endpoints), whatever their
/// length: tens of thousands of TIME-WAIT sockets under load.
#[must_use]
pub fn gone<'a>(before: &'a [MiniSocket], now: &[MiniSocket]) -> Vec<&'a MiniSocket> {
    let mut listed = hashbrown::HashSet::with_capacity_and_hasher(now.len(), foldhash::fast::RandomState::default());
    listed.extend(now.iter().map(endpoints));
    before.iter().filter(|m| !listed.contains(&endpoints(m))).collect()
}

/// A socket's endpoints as plain integers (an IPv4 address as its IPv6
/// mapping): hashed in a few multiplications, unlike two `SocketAddr`s.
fn endpoints(m: &MiniSocket) -> (u128, u128, u32) {
    let ip = |a: &SocketAddr| match a.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
        IpAddr::V6(v6) => v6.to_bits(),
    };
    (ip(&m.local), ip(&m.remote), u32::from(m.local.port()) << 16 | u32::from(m.remote.port()))
}

/// An IPv4-mapped IPv6 address as the IPv4 one (how the packets show it).
fn mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn socket(client_port: u16) -> MiniSocket {
        MiniSocket {
            local: SocketAddr::from(([127, 0, 0, 1], client_port)),
            remote: SocketAddr::from(([127, 0, 0, 1], 8001)),
            state: 6,
            left: Duration::from_secs(60),
        }
    }

    #[test]
    fn gone_are_those_listed_before_and_not_now() {
        let before: Vec<_> = (1000..1010).map(socket).collect();
        // 1003 and 1007 ran out; 2000 is new; the order of `now` does not matter.
        let mut now: Vec<_> = (1000..1010).filter(|p| *p != 1003 && *p != 1007).map(socket).collect();
        now.reverse();
        now.push(socket(2000));
        let gone: Vec<u16> = gone(&before, &now).iter().map(|m| m.local.port()).collect();
        assert_eq!(gone, [1003, 1007]);
        // Nothing ran out: none is gone (a timer that changed is no matter).
        let mut later = before.clone();
        later[0].left = Duration::from_secs(1);
        assert!(super::gone(&before, &later).is_empty());
        // The same port pair with the endpoints swapped is another socket.
        let swapped: Vec<_> = before.iter().map(|m| MiniSocket { local: m.remote, remote: m.local, ..*m }).collect();
        assert_eq!(super::gone(&before, &swapped).len(), before.len());
    }

    /// The kernel's interpreter of a filter program (`inet_diag_bc_run` in
    /// net/ipv4/inet_diag.c), for port conditions and jumps only.
    fn run(bc: &[u8], sport: u16, dport: u16) -> bool {
        let mut at = 0usize;
        let mut len = i64::try_from(bc.len()).unwrap();
        while len > 0 {
            let (code, yes, no) = (bc[at], bc[at + 1], u16::from_ne_bytes([bc[at + 2], bc[at + 3]]));
            let arg = || u16::from_ne_bytes([bc[at + 6], bc[at + 7]]);
            let holds = match code {
                INET_DIAG_BC_JMP => false,
                INET_DIAG_BC_S_EQ => sport == arg(),
                INET_DIAG_BC_D_EQ => dport == arg(),
                other => panic!("operation {other} not modelled"),
            };
            let step = if holds { usize::from(yes) } else { usize::from(no) };
            len -= i64::try_from(step).unwrap();
            at += step;
        }
        len == 0
    }

    #[test]
    fn the_filter_keeps_the_port_as_either_end() {
        let bc = port_filter(8001);
        assert!(run(&bc, 8001, 40000), "the server's side");
        assert!(run(&bc, 40000, 8001), "the client's side");
        assert!(run(&bc, 8001, 0), "the listener");
        assert!(!run(&bc, 8002, 40000), "another port");
        assert!(!run(&bc, 40000, 8000), "another port");
        assert!(!run(&bc, 0, 0));
    }

    #[test]
    fn the_request_ends_with_the_filter_attribute() {
        let req = dump_request(AF_INET, StateFlags::TIME_WAIT, 8001);
        // nlmsghdr (16) + inet_diag_req_v2 (56) + nlattr (4) + program (20).
        assert_eq!(req.len(), 16 + 56 + 4 + 20);
        assert_eq!(u32::from_ne_bytes(req[0..4].try_into().unwrap()) as usize, req.len());
        assert_eq!(u16::from_ne_bytes([req[72], req[73]]), 24, "the attribute's length");
        assert_eq!(u16::from_ne_bytes([req[74], req[75]]), INET_DIAG_REQ_BYTECODE);
        assert_eq!(req[76..], port_filter(8001));
    }

    #[test]
    fn a_listeners_queues_from_its_dump() {
        let at = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
        let listed = |local, remote, state, rqueue, wqueue| Listed {
            socket: MiniSocket { local: at(local), remote: at(remote), state, left: Duration::ZERO },
            rqueue,
            wqueue,
        };
        let dump = [
            // A client of another listener whose remote port is ours: not counted.
            listed(40000, 8001, TCP_NEW_SYN_RECV, 0, 0),
            listed(8001, 0, TCP_LISTEN, 4, 3),
            listed(8001, 40001, TCP_NEW_SYN_RECV, 0, 0),
            listed(8001, 40002, TCP_SYN_RECV, 0, 0),
        ];
        let q = queues_of(&dump, 8001);
        assert_eq!((q.accept_queue, q.backlog, q.syn_queue, q.listeners), (4, 3, 2, 1));
        assert_eq!(q.local, Some(at(8001)));
        // sk_acceptq_is_full: more than the backlog, not as many.
        assert!(q.accept_full());
        assert!(!queues_of(&[listed(8001, 0, TCP_LISTEN, 3, 3)], 8001).accept_full());
        // Nothing listens: nothing is full.
        assert_eq!(queues_of(&dump[..1], 8001), Queues::default());
        assert!(!Queues::default().accept_full());
    }

    #[test]
    fn the_queue_request_asks_for_listeners_and_request_sockets() {
        let req = dump_request(AF_INET, queue_states(), 8001);
        // inet_diag_req_v2: family, protocol, ext, pad, then idiag_states.
        let states = u32::from_ne_bytes(req[20..24].try_into().unwrap());
        assert_eq!(states, 1 << TCP_LISTEN | 1 << TCP_SYN_RECV | 1 << TCP_NEW_SYN_RECV);
    }
}
