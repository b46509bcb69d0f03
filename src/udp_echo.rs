//! The echo server's UDP side and the client's UDP scenarios: the
//! tutorial's `socket(type=SOCK_DGRAM)` variant, beside the TCP server.
//!
//! The server (`synack serve`, on the TCP server's address) answers each
//! datagram with the same bytes upper-cased, with `recvfrom`/`sendto`, as
//! they come: there is no connection to accept and nothing to close. UDP has
//! no connections to count, so the work is bounded per second: at most
//! [`REPLIES_PER_SECOND`] replies in any one-second window; datagrams past it
//! are read and dropped unanswered (and counted), so a flood costs one
//! `recvfrom` each and the reply traffic never exceeds the budget. A reply is
//! never larger than its request (no amplification).
//!
//! The scenarios: [`Scenario::Udp`] sends "helloworld" as one datagram and
//! waits up to [`REPLY_WAIT`] for the reply; [`Scenario::UdpClosed`] sends on
//! a connected UDP socket to a loopback port where nothing listens: `send`
//! succeeds (UDP cannot know), the kernel there answers ICMP port
//! unreachable, and Linux hands that to the connected socket as
//! `ECONNREFUSED` on its next `recv`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::echo::Outcome;
use crate::scenario::Scenario;

/// Replies the UDP server sends in any one-second window, at most.
pub const REPLIES_PER_SECOND: u64 = 2_000;
/// How long the `udp` scenario waits for its reply.
pub const REPLY_WAIT: Duration = Duration::from_secs(1);
/// The largest datagram read (the largest UDP payload over IPv4).
const MAX_DATAGRAM: usize = 65_507;
/// How often the server looks at its stop flag while no datagram comes.
const POLL: Duration = Duration::from_millis(100);

/// The UDP side of a running echo server.
#[derive(Debug)]
pub struct UdpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    dropped: Arc<AtomicU64>,
    thread: Option<thread::JoinHandle<()>>,
}

impl UdpServer {
    /// Binds UDP on `addr` (the TCP server's address) and answers there on
    /// a thread of its own.
    ///
    /// # Errors
    /// When the address cannot be bound (another program holds it).
    pub fn start(addr: SocketAddr) -> io::Result<UdpServer> {
        UdpServer::start_with(addr, REPLIES_PER_SECOND, Duration::from_secs(1))
    }

    /// [`UdpServer::start`] with a budget of `per_window` replies each `window`.
    ///
    /// # Errors
    /// As [`UdpServer::start`].
    pub fn start_with(addr: SocketAddr, per_window: u64, window: Duration) -> io::Result<UdpServer> {
        let socket = UdpSocket::bind(addr)?;
        socket.set_read_timeout(Some(POLL))?;
        let addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicU64::new(0));
        let (s, d) = (stop.clone(), dropped.clone());
        let budget = Budget::new(per_window, window, Instant::now());
        let thread = thread::Builder::new().name("echo-udp".into()).spawn(move || serve(&socket, budget, &s, &d))?;
        Ok(UdpServer { addr, stop, dropped, thread: Some(thread) })
    }

    /// Where it answers.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Datagrams read and left unanswered because the second's budget was spent.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Stops answering and waits for the thread to end.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for UdpServer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// The budget of replies: [`REPLIES_PER_SECOND`] per window of one second.
#[derive(Debug)]
pub struct Budget {
    per_window: u64,
    window: Duration,
    started: Instant,
    used: u64,
}

impl Budget {
    /// `per_window` replies each `window`, the first window starting `now`.
    #[must_use]
    pub fn new(per_window: u64, window: Duration, now: Instant) -> Budget {
        Budget { per_window, window, started: now, used: 0 }
    }

    /// Whether one more reply may go out at `now` (and counts it if so).
    pub fn take(&mut self, now: Instant) -> bool {
        if now.duration_since(self.started) >= self.window {
            self.started = now;
            self.used = 0;
        }
        if self.used < self.per_window {
            self.used += 1;
            true
        } else {
            false
        }
    }
}

fn serve(socket: &UdpSocket, mut budget: Budget, stop: &AtomicBool, dropped: &AtomicU64) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    while !stop.load(Ordering::Relaxed) {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            // The poll's timeout or a signal: nothing to answer.
            Err(_) => continue,
        };
        if !budget.take(Instant::now()) {
            dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        buf[..n].make_ascii_uppercase();
        let _ = socket.send_to(&buf[..n], from);
    }
}

/// Whether `scenario` is one of UDP's (run by [`run`]).
#[must_use]
pub fn is_udp(scenario: Scenario) -> bool {
    matches!(scenario, Scenario::Udp | Scenario::UdpClosed)
}

/// Runs a UDP scenario against `addr`.
///
/// # Errors
/// `udp`: when no reply came within [`REPLY_WAIT`] (said so), or a wrong one.
/// `udp-closed`: when the port answered, or no error came.
pub fn run(scenario: Scenario, addr: SocketAddr, message: &str) -> io::Result<Outcome> {
    if scenario == Scenario::UdpClosed {
        return closed(addr, message);
    }
    let socket = UdpSocket::bind(SocketAddr::new(unspecified_like(addr.ip()), 0))?;
    socket.connect(addr)?;
    socket.send(message.as_bytes())?;
    socket.set_read_timeout(Some(REPLY_WAIT))?;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    match socket.recv(&mut buf) {
        Ok(n) => {
            let reply = buf[..n].to_vec();
            let want = message.to_ascii_uppercase();
            if reply == want.as_bytes() {
                Ok(Outcome::Replied(reply))
            } else {
                Err(io::Error::other(crate::t!(
                    "tui-udp-echo-wrong-reply",
                    got = format!("{:?}", String::from_utf8_lossy(&reply)),
                    want = format!("{want:?}")
                )))
            }
        }
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            crate::t!("tui-udp-echo-no-reply", secs = REPLY_WAIT.as_secs(), addr = addr.to_string()),
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            crate::t!("tui-udp-echo-refused", addr = addr.to_string()),
        )),
        Err(e) => Err(e),
    }
}

/// The address of the same family to bind a client socket to (any).
fn unspecified_like(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
    }
}

/// Where nothing listens for UDP, near `addr`: the same port on the next
/// loopback address (127.0.0.1 -> 127.0.0.2, so that a capture of that port
/// sees it), checked free by binding it; else a port just freed.
///
/// # Errors
/// When no socket can be bound to find one.
pub fn closed_port(addr: SocketAddr) -> io::Result<SocketAddr> {
    if let IpAddr::V4(v4) = addr.ip()
        && v4.is_loopback()
    {
        let mut o = v4.octets();
        o[3] = if o[3] == 1 { 2 } else { 1 };
        let near = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(o)), addr.port());
        if UdpSocket::bind(near).is_ok() {
            return Ok(near);
        }
    }
    // Bound, then closed: nothing listens there now.
    UdpSocket::bind(SocketAddr::new(addr.ip(), 0))?.local_addr()
}

/// The `udp-closed` scenario: a connected socket, one datagram, then a recv
/// that gets the ICMP port unreachable as ECONNREFUSED.
fn closed(addr: SocketAddr, message: &str) -> io::Result<Outcome> {
    let target = closed_port(addr)?;
    let socket = UdpSocket::bind(SocketAddr::new(unspecified_like(target.ip()), 0))?;
    socket.connect(target)?;
    let sent = socket.send(message.as_bytes())?;
    socket.set_read_timeout(Some(REPLY_WAIT))?;
    let mut buf = [0u8; 64];
    match socket.recv(&mut buf) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(Outcome::PortUnreachable { to: target, sent }),
        Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            crate::t!("tui-udp-echo-no-icmp", target = target.to_string(), secs = REPLY_WAIT.as_secs()),
        )),
        Err(e) => Err(e),
        Ok(n) => Err(io::Error::other(crate::t!("tui-udp-echo-answered", target = target.to_string(), n = n))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_past_its_count_and_renews_each_window() {
        let t0 = Instant::now();
        let mut b = Budget::new(3, Duration::from_secs(1), t0);
        assert!((0..3).all(|_| b.take(t0)));
        assert!(!b.take(t0 + Duration::from_millis(999)));
        assert!(b.take(t0 + Duration::from_secs(1)));
    }

    /// A flood past the budget is read and left unanswered: with 5 replies
    /// an hour, 20 datagrams get 5 replies and 15 are dropped.
    #[test]
    fn a_flood_gets_only_the_budget_answered() {
        let server = UdpServer::start_with("127.0.0.1:0".parse().unwrap(), 5, Duration::from_secs(3600)).unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.connect(server.addr()).unwrap();
        for i in 0..20u8 {
            client.send(&[b'a' + i]).unwrap();
        }
        // Wait (bounded) for the server to have read all 20.
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.dropped() < 15 && Instant::now() < deadline {
            thread::yield_now();
        }
        assert_eq!(server.dropped(), 15);
        client.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut replies = Vec::new();
        let mut buf = [0u8; 8];
        while let Ok(n) = client.recv(&mut buf) {
            replies.push(buf[..n].to_vec());
        }
        assert_eq!(replies, [b"A", b"B", b"C", b"D", b"E"].map(|r| r.to_vec()));
        server.stop();
    }
}
