//! The built-in echo server and the client scenarios that make each kind of
//! close happen on purpose.
//!
//! The server is the tutorial's (accept, `recv(1024)`, send what it returned
//! back upper-cased, close) made solid against clients that misbehave: the
//! accept thread waits for each connection's first read (without a thread per
//! connection) and answers what that one read returns, at once, as the
//! tutorial's server does, newline or not; only a request that begins with an
//! in-band command line (`SYNACK/1 `) is gathered until it is whole, or 2 s
//! pass. At most 4,096 connections wait for their first bytes at once and more
//! are refused at once with RST; requests go to a fixed pool of 64 workers (a
//! full pool refuses too); after the request a connection idle for 5 s is
//! closed; a message is 64 KiB at most; a pause lasts 1 s at most and the
//! server rebinds after it, whoever held the port meanwhile.
//!
//! A client steers the server's side of a scenario out of band: on the
//! server's control channel (the next port, or for a server of this process
//! wherever it bound it) it announces the command for its next connection by
//! that connection's client port, so the connection the learner watches
//! carries only the message. The refused scenario pauses and resumes the
//! server there too. Against a server without a control channel the command
//! goes in-band, as a first line `SYNACK/1 <command>\n`. Either way `synack
//! serve` plus `synack client --scenario X` reproduces every kind from two
//! shells:
//!
//! | command        | server does after the first read ([`ServerSide`])                   |
//! |----------------|--------------------------------------------------------------------|
//! | (none)         | reply, close (the tutorial server)                                  |
//! | `wait-eof`     | reply, close as soon as the client has closed                       |
//! | `slow`         | reply, wait for the client's FIN, close 200 ms later (> delayed ACK)|
//! | `half`         | read to EOF, send three chunks 60 ms apart, close                   |
//! | `close-at=US`  | reply, close at Unix time US microseconds (a barrier)               |
//! | `hold`         | reply, wait for whatever the client does                            |
//! | `pause=MS`     | stop listening for MS milliseconds (connections are refused); the  |
//! |                | command's connection is closed only once the listener is closed    |
//! | `keep=MS`      | reply, read to EOF, keep the socket MS ms (at most 10 s), close    |
//! | `stream`       | from accept: wait 50 ms, one `recv(1024)`, reply; wait 50 ms, two  |
//! |                | `recv(1024)`, reply; read to EOF, close (the stream scenario)      |
//!
//! On the control channel (the next port) only: `choke=MS:N` turns the
//! backlog to the tutorial's `listen(3)`, stops accepting for MS ms (at most
//! 3 s), then accepts one connection every 200 ms until it has taken N (or,
//! without `:N`, until the queue is empty; 3 s at most), then goes back to
//! the usual backlog (the backlog scenario).
//!
//! Which scenario uses which command is [`crate::scenario::SCENARIOS`]'s.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::os::sock;

pub mod calls;
use crate::scenario::{CLOSE_WAIT_HOLD_MS, HALF_CLOSE_GAP_MS, SLOW_CLOSE_DELAY_MS, Scenario, ServerSide};

/// The prefix of a command line.
pub const COMMAND_PREFIX: &str = "SYNACK/1 ";
/// How long `slow` waits before closing: past Linux's 40 ms delayed-ACK timer.
pub const SLOW_CLOSE_DELAY: Duration = Duration::from_millis(SLOW_CLOSE_DELAY_MS);
/// The longest pause a command may ask for: one line cannot keep the server
/// refusing for long.
const MAX_PAUSE_MS: u64 = 1_000;
/// The longest choke of the accept queue a command may ask for.
const MAX_CHOKE_MS: u64 = 3_000;
/// The accept queue's length outside a choke (the kernel caps it at
/// `net.core.somaxconn`).
const BACKLOG: i32 = 4096;
/// The backlog during a choke: the tutorial's `listen(3)`. Linux lets
/// backlog + 1 connections wait (`sk_acceptq_is_full`: more than the
/// backlog is full).
pub const CHOKE_BACKLOG: i32 = 3;
/// After a choke, one connection accepted every this long: the queue drains
/// slowly enough to watch.
pub const DRAIN_GAP: Duration = Duration::from_millis(200);
/// After a choke, the one-by-one accepting lasts this long at most, whatever
/// keeps coming.
const DRAIN_AT_MOST: Duration = Duration::from_secs(3);

/// Whether the server listens, and a pause asked for: shared by the accept
/// loop, the workers and [`Server::pause`], with a condition variable to wait
/// on the listener closing or coming back.
#[derive(Debug, Default)]
struct Listening {
    state: Mutex<ListenState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct ListenState {
    listening: bool,
    /// A pause asked for, in milliseconds, not yet taken by the accept loop.
    pause: Option<u64>,
    /// End the pause now (the refused scenario is done with it).
    resume: bool,
    /// A choke asked for (the backlog scenario): stop accepting, with the
    /// backlog [`CHOKE_BACKLOG`], for this many milliseconds; then accept
    /// this many connections one by one (0: until the queue is empty).
    choke: Option<(u64, u32)>,
    /// The accept queue is choked now.
    choked: bool,
    /// What clients announced on the control channel, by their port: the
    /// command for their next connection, and until when it holds.
    expect: std::collections::HashMap<u16, (Command, Instant)>,
}

impl Listening {
    /// The command a client announced for a connection from `port`, if any
    /// (each announcement serves one connection).
    fn expected(&self, port: u16) -> Option<Command> {
        let mut st = self.lock();
        let now = Instant::now();
        st.expect.retain(|_, (_, until)| *until > now);
        st.expect.remove(&port).map(|(c, _)| c)
    }

    /// Ends a pause early and waits (at most `timeout`) until the server listens.
    fn resume(&self, timeout: Duration) -> bool {
        self.lock().resume = true;
        self.changed.notify_all();
        self.wait_listening(timeout)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ListenState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_listening(&self, on: bool) {
        self.lock().listening = on;
        self.changed.notify_all();
    }

    /// Asks for a pause and waits (at most `timeout`) until the listener is closed.
    fn pause(&self, ms: u64, timeout: Duration) -> bool {
        let mut st = self.lock();
        st.pause = Some(ms.min(MAX_PAUSE_MS));
        let (st, _) = self
            .changed
            .wait_timeout_while(st, timeout, |s| s.pause.is_some() || s.listening)
            .unwrap_or_else(PoisonError::into_inner);
        !st.listening
    }

    /// Asks the accept loop to stop accepting for `ms` with the backlog
    /// [`CHOKE_BACKLOG`]; waits (at most `timeout`) until it does.
    fn choke(&self, ms: u64, then: u32, timeout: Duration) -> bool {
        let mut st = self.lock();
        st.choke = Some((ms.min(MAX_CHOKE_MS), then));
        let (st, _) = self
            .changed
            .wait_timeout_while(st, timeout, |s| s.choke.is_some() || !s.choked)
            .unwrap_or_else(PoisonError::into_inner);
        st.choked
    }

    /// Waits `ms`, or until the control channel says resume.
    fn wait_or_resume(&self, ms: u64) {
        let st = self.lock();
        let (mut st, _) = self
            .changed
            .wait_timeout_while(st, Duration::from_millis(ms), |s| !s.resume)
            .unwrap_or_else(PoisonError::into_inner);
        st.resume = false;
    }

    fn set_choked(&self, on: bool) {
        self.lock().choked = on;
        self.changed.notify_all();
    }

    /// Waits (at most `timeout`) until the listener is open. Returns whether it is.
    fn wait_listening(&self, timeout: Duration) -> bool {
        let st = self.lock();
        let (st, _) =
            self.changed.wait_timeout_while(st, timeout, |s| !s.listening).unwrap_or_else(PoisonError::into_inner);
        st.listening
    }
}

/// Limits of the echo server. Threads: one accept thread and `max_workers`
/// workers, never more, whatever the load (beside them, the control thread
/// and the UDP side's one thread, [`crate::udp_echo`]).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Requests served at once (the worker pool).
    pub max_workers: usize,
    /// Connections whose request is still coming in, at most; past it a new
    /// connection is refused at once (closed with RST) rather than left waiting.
    pub max_pending: usize,
    /// A request (its first bytes; with an in-band command line, the command
    /// line and one line of message) must arrive within this long of the
    /// connection; then what came is served, or the connection closed if
    /// nothing did.
    pub request_timeout: Duration,
    /// After the request, a connection idle this long is closed.
    pub read_timeout: Duration,
    /// Bytes read from one connection at most.
    pub max_message: usize,
    /// Where the server reports its own socket calls ([`calls`]); none by default.
    pub calls: Option<calls::CallSink>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_workers: 64,
            max_pending: 4096,
            request_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(5),
            max_message: 64 * 1024,
            calls: None,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0} is already in use (another synack serve?)")]
    Busy(SocketAddr),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

/// Binds the server's socket.
///
/// # Errors
/// [`ServeError::Busy`] when something already listens there.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr).map_err(|source| {
        if source.kind() == io::ErrorKind::AddrInUse {
            ServeError::Busy(addr)
        } else {
            ServeError::Bind { addr, source }
        }
    })
}

/// A running echo server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    listening: Arc<Listening>,
    thread: Option<thread::JoinHandle<()>>,
    control: Option<thread::JoinHandle<()>>,
    /// Its UDP side, on the same address, when that could be bound.
    udp: Option<crate::udp_echo::UdpServer>,
}

impl Server {
    /// Starts serving `listener` on a thread of its own.
    #[must_use]
    pub fn start(listener: TcpListener, config: ServerConfig) -> Server {
        let addr = listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let stop = Arc::new(AtomicBool::new(false));
        let listening = Arc::new(Listening::default());
        listening.set_listening(true);
        // The control channel, on the next port: steering that never shows in
        // the connections the learner watches. Without it (port taken),
        // clients steer in-band, as before.
        let next = control_addr(addr).and_then(|a| TcpListener::bind(a).ok());
        let any = || TcpListener::bind(SocketAddr::new(addr.ip(), 0)).ok();
        let control = next.or_else(any).and_then(|control| {
            if let Ok(at) = control.local_addr() {
                CONTROLS.lock().unwrap_or_else(PoisonError::into_inner).insert(addr, at);
            }
            let (s, l) = (stop.clone(), listening.clone());
            thread::Builder::new().name("echo-control".into()).spawn(move || control_loop(&control, &s, &l)).ok()
        });
        let (s, l) = (stop.clone(), listening.clone());
        let thread = thread::Builder::new()
            .name("echo-server".into())
            .spawn(move || accept_loop(listener, addr, &config, &s, &l))
            .ok();
        let udp = crate::udp_echo::UdpServer::start(addr).ok();
        Server { addr, stop, listening, thread, control, udp }
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where its UDP side answers ([`crate::udp_echo`]), if it could bind.
    #[must_use]
    pub fn udp_addr(&self) -> Option<SocketAddr> {
        self.udp.as_ref().map(crate::udp_echo::UdpServer::addr)
    }

    /// Stops listening for `ms` milliseconds (at most 10 s): connections
    /// meanwhile are refused. Returns once the listener is closed (`true`), or
    /// `false` if that did not happen within a second.
    pub fn pause(&self, ms: u64) -> bool {
        self.listening.pause(ms, Duration::from_secs(1))
    }

    /// Waits at most `timeout` for the server to listen (after a pause).
    /// Returns whether it does.
    pub fn wait_listening(&self, timeout: Duration) -> bool {
        self.listening.wait_listening(timeout)
    }

    /// Stops accepting and waits for the accept and control loops to end.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        drop(self.udp.take());
        for t in [self.thread.take(), self.control.take()].into_iter().flatten() {
            let _ = t.join();
        }
    }

    /// Runs until `stop` is set (e.g. by Ctrl-C).
    pub fn wait(mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) && self.thread.as_ref().is_some_and(|t| !t.is_finished()) {
            thread::sleep(Duration::from_millis(50));
        }
        self.stop.store(true, Ordering::Relaxed);
        drop(self.udp.take());
        for t in [self.thread.take(), self.control.take()].into_iter().flatten() {
            let _ = t.join();
        }
    }
}

/// The control channels of the servers this process runs, by server address
/// (when the next port was taken, a server's control channel is elsewhere).
static CONTROLS: Mutex<std::collections::BTreeMap<SocketAddr, SocketAddr>> =
    Mutex::new(std::collections::BTreeMap::new());

/// The prefix of a control line: distinct from the in-band steering prefix,
/// so that a control line sent to an ordinary echo port is only echoed.
pub const CONTROL_PREFIX: &str = "SYNACK-CONTROL/1 ";

/// Where a server on `addr` takes steering commands: its own, for a server
/// of this process; the next port otherwise (`synack serve`).
#[must_use]
pub fn control_addr(addr: SocketAddr) -> Option<SocketAddr> {
    if let Some(at) = CONTROLS.lock().unwrap_or_else(PoisonError::into_inner).get(&addr) {
        return Some(*at);
    }
    Some(SocketAddr::new(addr.ip(), addr.port().checked_add(1)?))
}

/// The control channel: one line per connection, one answer (`ok` or
/// `error`). `SYNACK-CONTROL/1 expect=PORT COMMAND` announces the command for
/// the next connection from client port PORT (for 10 s); `SYNACK-CONTROL/1
/// pause=MS` stops listening (answered once the listener is closed);
/// `SYNACK-CONTROL/1 resume` ends a pause (answered once it listens again).
fn control_loop(control: &TcpListener, stop: &AtomicBool, listening: &Listening) {
    while !stop.load(Ordering::Relaxed) {
        if !sock::wait_readable(control.as_fd(), Duration::from_millis(100)).unwrap_or(false) {
            continue;
        }
        let Ok((mut conn, _)) = control.accept() else { continue };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.len() < 256 && !line.ends_with(b"\n") {
            match conn.read(&mut byte) {
                Ok(1) => line.push(byte[0]),
                _ => break,
            }
        }
        let answer = control_command(&line, listening);
        let _ = conn.write_all(if answer { b"ok\n" } else { b"error\n" });
    }
}

/// Carries out one control line; whether it was understood.
fn control_command(line: &[u8], listening: &Listening) -> bool {
    let text = String::from_utf8_lossy(line);
    let Some(rest) = text.trim_end().strip_prefix(CONTROL_PREFIX) else { return false };
    if rest == "resume" {
        return listening.resume(Duration::from_secs(2));
    }
    if let Some(ms) = rest.strip_prefix("pause=").and_then(|n| n.parse::<u64>().ok()) {
        return listening.pause(ms, Duration::from_secs(1));
    }
    if let Some(arg) = rest.strip_prefix("choke=") {
        let (ms, then) = arg.split_once(':').unwrap_or((arg, "0"));
        let (Ok(ms), Ok(then)) = (ms.parse::<u64>(), then.parse::<u32>()) else { return false };
        return listening.choke(ms, then, Duration::from_secs(1));
    }
    let Some((port, word)) = rest.strip_prefix("expect=").and_then(|r| r.split_once(' ')) else { return false };
    let Ok(port) = port.parse::<u16>() else { return false };
    let (command, _) = parse_command(format!("{COMMAND_PREFIX}{word}\n").as_bytes());
    listening.lock().expect.insert(port, (command, Instant::now() + Duration::from_secs(10)));
    true
}

/// A connection whose request is still coming in.
struct Pending {
    conn: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
    /// The command announced on the control channel for this connection: its
    /// bytes are then only the message, nothing in-band.
    command: Option<Command>,
}

/// Whether `buf`, what the connection's reads returned so far, is a whole
/// request. The tutorial's server answers what its one `recv(1024)` returns,
/// so any first read is whole, newline or not; so is any read of a connection
/// whose command was announced on the control channel. Only a request that
/// begins with an in-band command line is gathered: the command line, then
/// one line of message (a command that takes no message, `pause=`, needs only
/// its own line).
fn request_complete(buf: &[u8], announced: bool) -> bool {
    if announced || !buf.starts_with(COMMAND_PREFIX.as_bytes()) {
        return !buf.is_empty();
    }
    let lines = buf.iter().filter(|&&b| b == b'\n').count();
    let alone = |c: &[u8]| buf[COMMAND_PREFIX.len()..].starts_with(c);
    lines >= 2 || (lines == 1 && (alone(b"pause=") || alone(b"stream\n")))
}

/// Closes a connection at once with RST: the server is full.
fn refuse(conn: TcpStream) {
    let _ = sock::set_linger_zero(&conn);
    calls::close(conn);
}

/// Binds `addr` again after a pause, retrying while something else holds it,
/// until it can or the server is asked to stop.
fn rebind(addr: SocketAddr, stop: &AtomicBool) -> Option<TcpListener> {
    while !stop.load(Ordering::Relaxed) {
        if let Ok(l) = TcpListener::bind(addr) {
            return Some(l);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    config: &ServerConfig,
    stop: &Arc<AtomicBool>,
    listening: &Arc<Listening>,
) {
    // A fixed pool of workers takes whole requests from a bounded queue; the
    // requests themselves are gathered here, without a thread per connection,
    // so idle or slow clients cost a socket each, not a worker.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(TcpStream, Vec<u8>, Option<Command>)>(config.max_workers);
    let rx = Arc::new(std::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..config.max_workers.max(1) {
        let (rx, cfg, p) = (rx.clone(), config.clone(), listening.clone());
        let spawned = thread::Builder::new().name("echo-worker".into()).spawn(move || {
            calls::set(cfg.calls.clone());
            loop {
                let next = rx.lock().map(|r| r.recv());
                let Ok(Ok((conn, request, command))) = next else { return };
                let _ = handle(conn, &request, command, &cfg, &p);
            }
        });
        if let Ok(w) = spawned {
            workers.push(w);
        }
    }
    calls::set(config.calls.clone());
    if let Ok(mut poll) = mio::Poll::new() {
        gather(&mut poll, listener, addr, config, stop, listening, &tx);
    }
    // Closing the queue ends the workers once they finish what they hold;
    // stopping does not wait for a connection a client keeps open.
    drop(tx);
    drop(workers);
}

const LISTENER: mio::Token = mio::Token(usize::MAX);

/// Where whole requests go: to the workers.
type Requests = std::sync::mpsc::SyncSender<(TcpStream, Vec<u8>, Option<Command>)>;

/// The accept thread's loop: accepts, reads requests as they come, serves a
/// pause, expires slow requests, hands whole ones to the workers.
fn gather(
    poll: &mut mio::Poll,
    mut listener: TcpListener,
    addr: SocketAddr,
    config: &ServerConfig,
    stop: &AtomicBool,
    listening: &Listening,
    tx: &std::sync::mpsc::SyncSender<(TcpStream, Vec<u8>, Option<Command>)>,
) {
    use std::os::fd::AsRawFd;
    let mut events = mio::Events::with_capacity(256);
    let mut pending: std::collections::HashMap<usize, Pending> = std::collections::HashMap::new();
    let mut next_token = 0usize;
    // After a choke: when the next connection is accepted, when the drain
    // ends at the latest, and how many connections are still to accept
    // (`None`: until the queue is empty).
    let mut drain: Option<(Instant, Instant, Option<u32>)> = None;
    let register = |poll: &mio::Poll, l: &TcpListener| {
        let _ = l.set_nonblocking(true);
        poll.registry().register(&mut mio::unix::SourceFd(&l.as_raw_fd()), LISTENER, mio::Interest::READABLE)
    };
    if register(poll, &listener).is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        // Taken in a statement of its own: the lock is released before the
        // block below locks it again.
        let pause = listening.lock().pause.take();
        if let Some(ms) = pause {
            let _ = poll.registry().deregister(&mut mio::unix::SourceFd(&listener.as_raw_fd()));
            drop(listener);
            // Whoever asked learns that connections are refused from now on.
            listening.set_listening(false);
            // The pause lasts `ms`, or until the control channel says resume.
            listening.wait_or_resume(ms);
            let Some(l) = rebind(addr, stop) else { break };
            listener = l;
            // A new listener, with the usual backlog: a drain is over.
            if drain.take().is_some() {
                listening.set_choked(false);
            }
            if register(poll, &listener).is_err() {
                break;
            }
            listening.set_listening(true);
        }
        let choke = listening.lock().choke.take();
        if let Some((ms, then)) = choke {
            // Stop accepting, with the tutorial's listen(3) (listen(2) again on
            // a listening socket only changes its backlog): four handshakes
            // fill the accept queue, later ones find it full. Then accept
            // one by one (below).
            let _ = poll.registry().deregister(&mut mio::unix::SourceFd(&listener.as_raw_fd()));
            let _ = socket2::SockRef::from(&listener).listen(CHOKE_BACKLOG);
            listening.set_choked(true);
            listening.wait_or_resume(ms);
            let now = Instant::now();
            drain = Some((now, now + DRAIN_AT_MOST, (then > 0).then_some(then)));
        }
        if let Some((next, until, left)) = drain
            && Instant::now() >= next
        {
            let took = accept_all(poll, (&listener, tx), listening, config, &mut pending, &mut next_token, 1);
            let left = left.map(|n| n.saturating_sub(u32::try_from(took).unwrap_or(u32::MAX)));
            let done = left.map_or(took == 0, |n| n == 0);
            if done || Instant::now() >= until {
                // The usual backlog, accepting as they come.
                drain = None;
                let _ = socket2::SockRef::from(&listener).listen(BACKLOG);
                listening.set_choked(false);
                if register(poll, &listener).is_err() {
                    break;
                }
            } else {
                drain = Some((next + DRAIN_GAP, until, left));
            }
        }
        let wait = drain.map_or(Duration::from_millis(50), |(next, _, _)| {
            next.saturating_duration_since(Instant::now()).min(Duration::from_millis(50))
        });
        let _ = poll.poll(&mut events, Some(wait));
        for event in &events {
            if event.token() == LISTENER {
                accept_all(poll, (&listener, tx), listening, config, &mut pending, &mut next_token, usize::MAX);
            } else if let Some(p) = pending.get_mut(&event.token().0) {
                let done = read_some(p, config.max_message);
                if done {
                    let p = pending.remove(&event.token().0).map(|p| hand_over(poll, p, tx));
                    if p == Some(false) {
                        return;
                    }
                }
            }
        }
        // Requests that did not come in time: serve what came, or close.
        let now = Instant::now();
        let late: Vec<usize> = pending.iter().filter(|(_, p)| p.deadline <= now).map(|(&t, _)| t).collect();
        for t in late {
            if let Some(p) = pending.remove(&t) {
                if p.buf.is_empty() {
                    let _ = poll.registry().deregister(&mut mio::unix::SourceFd(&p.conn.as_raw_fd()));
                    calls::close(p.conn);
                } else if !hand_over(poll, p, tx) {
                    return;
                }
            }
        }
    }
}

/// Accepts every waiting connection, `most` at most: registered to gather its
/// request, or refused at once when too many are pending. Returns how many
/// it took from the queue.
fn accept_all(
    poll: &mio::Poll,
    (listener, tx): (&TcpListener, &Requests),
    listening: &Listening,
    config: &ServerConfig,
    pending: &mut std::collections::HashMap<usize, Pending>,
    next_token: &mut usize,
    most: usize,
) -> usize {
    use std::os::fd::AsRawFd;
    let mut took = 0;
    while took < most {
        let conn = match listener.accept() {
            Ok((conn, _)) => {
                calls::accepted(&conn);
                conn
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // WouldBlock: all taken; anything else (out of descriptors): try next time.
            Err(_) => return took,
        };
        took += 1;
        if pending.len() >= config.max_pending || conn.set_nonblocking(true).is_err() {
            refuse(conn);
            continue;
        }
        *next_token = (*next_token + 1) % (usize::MAX - 1);
        let token = *next_token;
        let fd = conn.as_raw_fd();
        if poll.registry().register(&mut mio::unix::SourceFd(&fd), mio::Token(token), mio::Interest::READABLE).is_err()
        {
            refuse(conn);
            continue;
        }
        let deadline = Instant::now() + config.request_timeout;
        let command = conn.peer_addr().ok().and_then(|peer| listening.expected(peer.port()));
        if command == Some(Command::Stream) {
            // Its reads are its own: the worker makes them, at its times.
            let p = Pending { conn, buf: Vec::new(), deadline, command };
            if !hand_over(poll, p, tx) {
                return took;
            }
            continue;
        }
        pending.insert(token, Pending { conn, buf: Vec::new(), deadline, command });
    }
    took
}

/// Reads what a pending connection has. Returns whether its request is whole
/// (or the peer closed, or it reached the size limit).
fn read_some(p: &mut Pending, max: usize) -> bool {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match calls::recv(&mut p.conn, &mut chunk) {
            Ok(0) => return true,
            Ok(n) => {
                p.buf.extend_from_slice(&chunk[..n.min(max - p.buf.len().min(max))]);
                if p.buf.len() >= max || request_complete(&p.buf, p.command.is_some()) {
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Gives a whole request to the workers; a full queue refuses it. Returns
/// `false` when the workers are gone.
fn hand_over(
    poll: &mio::Poll,
    p: Pending,
    tx: &std::sync::mpsc::SyncSender<(TcpStream, Vec<u8>, Option<Command>)>,
) -> bool {
    use std::os::fd::AsRawFd;
    let _ = poll.registry().deregister(&mut mio::unix::SourceFd(&p.conn.as_raw_fd()));
    if p.conn.set_nonblocking(false).is_err() {
        return true;
    }
    match tx.try_send((p.conn, p.buf, p.command)) {
        Ok(()) => true,
        Err(std::sync::mpsc::TrySendError::Full((conn, _, _))) => {
            refuse(conn);
            true
        }
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => false,
    }
}

/// What the client asked the server to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Echo,
    WaitEof,
    Slow,
    Half,
    CloseAt(u64),
    Hold,
    Pause(u64),
    /// Reply, read to EOF, keep the socket this many ms, then close.
    Keep(u64),
    /// The stream scenario's server: its reads wait for what several sends wrote.
    Stream,
}

/// Splits a first read into the command and the payload.
#[must_use]
pub fn parse_command(data: &[u8]) -> (Command, &[u8]) {
    let Some(rest) = data.strip_prefix(COMMAND_PREFIX.as_bytes()) else {
        return (Command::Echo, data);
    };
    let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let word = String::from_utf8_lossy(&rest[..end]);
    let payload = rest.get(end + 1..).unwrap_or(&[]);
    let number = |p: &str| word.strip_prefix(p).and_then(|n| n.parse::<u64>().ok());
    let cmd = match word.as_ref() {
        "wait-eof" => Command::WaitEof,
        "slow" => Command::Slow,
        "half" => Command::Half,
        "hold" => Command::Hold,
        "stream" => Command::Stream,
        _ => {
            if let Some(t) = number("close-at=") {
                Command::CloseAt(t)
            } else if let Some(ms) = number("pause=") {
                Command::Pause(ms)
            } else if let Some(ms) = number("keep=") {
                // Bounded: the socket is closed after at most 10 s.
                Command::Keep(ms.min(10_000))
            } else {
                Command::Echo
            }
        }
    };
    (cmd, payload)
}

fn upper(data: &[u8]) -> Vec<u8> {
    data.to_ascii_uppercase()
}

/// Reads until EOF (or the limit, or the timeout). Returns what was read.
fn read_to_eof(conn: &mut TcpStream, limit: usize) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while all.len() < limit {
        match calls::recv(conn, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&buf[..n.min(limit - all.len())]),
        }
    }
    all
}

fn unix_micros() -> u64 {
    u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_micros()).unwrap_or(0)
}

fn unix_nanos() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos()
}

/// Waits until Unix time `t` (microseconds, at most 5 s ahead): sleeps until a
/// millisecond before, then spins, so that both ends of a barrier leave it
/// within a microsecond of each other (a FIN crosses loopback in about 20 µs).
fn sleep_until_unix_micros(t: u64) {
    let now = unix_micros();
    if t > now + 1_000 {
        thread::sleep(Duration::from_micros((t - now - 1_000).min(5_000_000)));
    }
    let target = u128::from(t) * 1_000;
    let give_up = Instant::now() + Duration::from_millis(10);
    while unix_nanos() < target && Instant::now() < give_up {
        std::hint::spin_loop();
    }
}

/// Serves one whole request (see [`request_complete`]) on its connection,
/// then closes it.
fn handle(
    mut conn: TcpStream,
    request: &[u8],
    announced: Option<Command>,
    config: &ServerConfig,
    listening: &Listening,
) -> io::Result<()> {
    let served = serve(&mut conn, request, announced, config, listening);
    calls::close(conn);
    served
}

/// What the server does with one whole request.
fn serve(
    conn: &mut TcpStream,
    request: &[u8],
    announced: Option<Command>,
    config: &ServerConfig,
    listening: &Listening,
) -> io::Result<()> {
    conn.set_read_timeout(Some(config.read_timeout))?;
    conn.set_write_timeout(Some(config.read_timeout))?;
    let (cmd, payload) = match announced {
        Some(cmd) => (cmd, request),
        None => parse_command(request),
    };
    match cmd {
        Command::Echo => calls::send_all(conn, &upper(payload))?,
        Command::WaitEof | Command::Hold => {
            calls::send_all(conn, &upper(payload))?;
            read_to_eof(conn, config.max_message);
        }
        Command::Slow => {
            calls::send_all(conn, &upper(payload))?;
            read_to_eof(conn, config.max_message);
            thread::sleep(SLOW_CLOSE_DELAY);
        }
        Command::Keep(ms) => {
            calls::send_all(conn, &upper(payload))?;
            read_to_eof(conn, config.max_message);
            thread::sleep(Duration::from_millis(ms));
        }
        Command::Half => {
            let mut all = payload.to_vec();
            all.extend(read_to_eof(conn, config.max_message));
            let line = upper(all.strip_suffix(b"\n").unwrap_or(&all));
            for i in 1..=3 {
                let mut chunk = line.clone();
                chunk.extend_from_slice(format!(" #{i}\n").as_bytes());
                calls::send_all(conn, &chunk)?;
                thread::sleep(Duration::from_millis(HALF_CLOSE_GAP_MS));
            }
        }
        Command::CloseAt(t) => {
            calls::send_all(conn, &upper(payload))?;
            sleep_until_unix_micros(t);
        }
        // The connection closes after the listener did: the client's next
        // connect is refused, with nothing to guess.
        Command::Pause(ms) => {
            listening.pause(ms, Duration::from_secs(1));
        }
        Command::Stream => stream_server(conn, payload, config)?,
    }
    Ok(())
}

/// How long the stream scenario's server waits before each of its reads:
/// long enough for the client's sends (10 ms apart) to have all arrived.
pub const STREAM_READ_DELAY: Duration = Duration::from_millis(50);
/// The stream scenario's second message: one byte more than a `recv(1024)`.
pub const STREAM_LONG: usize = 1025;

/// The stream scenario's server, the tutorial's `recv(1024)` made visible:
/// it waits, then one `recv(1024)` returns what two `send()`s wrote; it
/// answers; it waits, then two `recv(1024)` read a 1,025-byte message (1,024
/// and 1); it answers; then it reads to EOF and closes. `already`: what an
/// in-band command line brought with it.
fn stream_server(conn: &mut TcpStream, already: &[u8], config: &ServerConfig) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    thread::sleep(STREAM_READ_DELAY);
    let mut first = already.to_vec();
    let n = calls::recv(conn, &mut buf)?;
    first.extend_from_slice(&buf[..n]);
    calls::send_all(conn, &upper(&first))?;
    thread::sleep(STREAM_READ_DELAY);
    let mut long = Vec::new();
    while long.len() < STREAM_LONG {
        let n = calls::recv(conn, &mut buf)?;
        if n == 0 {
            break;
        }
        long.extend_from_slice(&buf[..n]);
    }
    calls::send_all(conn, &upper(&long))?;
    read_to_eof(conn, config.max_message);
    Ok(())
}

/// What one client connection saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The exchange happened; the server's reply.
    Replied(Vec<u8>),
    /// The connection was refused (the `refused` scenario's success).
    Refused,
    /// `sent` bytes went as one datagram to `to`, where nothing listens; the
    /// next recv failed with ECONNREFUSED (the `udp-closed` scenario's success).
    PortUnreachable { to: SocketAddr, sent: usize },
}

/// Told each scenario connection's client port before it connects (so that a
/// dashboard knows the connection's scenario from its first segment on).
/// `None`: nobody asks, and a connection that needs no steering connects as
/// any client does (its port chosen by `connect`).
pub type Watch<'a> = Option<&'a (dyn Fn(u16) + Sync)>;

/// A socket for a connection to `addr`, bound to a port of its own: the port
/// is known (and told to `watch`) before the SYN leaves.
fn bound(addr: SocketAddr, watch: Watch<'_>) -> io::Result<(socket2::Socket, u16)> {
    let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    let local = match addr {
        SocketAddr::V4(a) if a.ip().is_loopback() => SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), 0),
        SocketAddr::V4(_) => SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), 0),
        SocketAddr::V6(a) if a.ip().is_loopback() => SocketAddr::new(std::net::Ipv6Addr::LOCALHOST.into(), 0),
        SocketAddr::V6(_) => SocketAddr::new(std::net::Ipv6Addr::UNSPECIFIED.into(), 0),
    };
    socket.bind(&local.into())?;
    let port = socket.local_addr()?.as_socket().map_or(0, |a| a.port());
    if let Some(watch) = watch {
        watch(port);
    }
    Ok((socket, port))
}

/// Connects `socket` to `addr` within `timeout`, reads timing out after 5 s.
fn finish_connect(socket: socket2::Socket, addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let local = socket.local_addr()?.as_socket().unwrap_or(addr);
    let made = calls::now();
    let connected = socket.connect_timeout(&addr.into(), timeout).map(|()| TcpStream::from(socket));
    calls::connected(made, local, addr, &connected);
    let conn = connected?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(conn)
}

/// Connects to `addr` within `timeout` (reads time out after 5 s), the port
/// told to `watch` first when there is one; the connection and its port.
fn connect(addr: SocketAddr, watch: Watch<'_>, timeout: Duration) -> io::Result<(TcpStream, u16)> {
    // Reporting calls: the port is chosen first, so the connect() names it.
    if watch.is_none() && !calls::on() {
        let conn = TcpStream::connect_timeout(&addr, timeout)?;
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        let port = conn.local_addr()?.port();
        return Ok((conn, port));
    }
    let (socket, port) = bound(addr, watch)?;
    Ok((finish_connect(socket, addr, timeout)?, port))
}

/// Sends `line` on the control channel of the server at `addr`. `Ok(false)`
/// when there is none (a server that is not synack, or an older one).
fn control(addr: SocketAddr, line: &str) -> io::Result<bool> {
    let Some(at) = control_addr(addr) else { return Ok(false) };
    let Ok(mut conn) = TcpStream::connect_timeout(&at, Duration::from_secs(1)) else { return Ok(false) };
    conn.set_read_timeout(Some(Duration::from_secs(3)))?;
    conn.write_all(line.as_bytes())?;
    // Anything but "ok" (another service on that port): no control channel.
    // (Read plainly: the control channel's calls are not the connection's.)
    let mut answer = Vec::new();
    Read::take(&mut conn, 64).read_to_end(&mut answer)?;
    Ok(answer == b"ok\n")
}

/// Connects to `addr` for a scenario that needs `command` from the server:
/// announced on the control channel for this connection's port when the
/// server has one (so the connection carries only the message), otherwise
/// returned to be sent in-band.
/// Returns the connection, its client port and the command to send in-band.
fn steered_connect(
    addr: SocketAddr,
    command: Option<String>,
    watch: Watch<'_>,
) -> io::Result<(TcpStream, u16, Option<String>)> {
    let Some(cmd) = command else {
        let (conn, port) = connect(addr, watch, Duration::from_secs(5))?;
        return Ok((conn, port, None));
    };
    let (socket, port) = bound(addr, watch)?;
    let inband = (!control(addr, &format!("{CONTROL_PREFIX}expect={port} {cmd}\n"))?).then_some(cmd);
    Ok((finish_connect(socket, addr, Duration::from_secs(5))?, port, inband))
}

/// Sends the optional command line, then the message as one line.
fn send(conn: &mut TcpStream, command: Option<String>, message: &str) -> io::Result<()> {
    let mut m = command.map(|c| format!("{COMMAND_PREFIX}{c}\n")).unwrap_or_default().into_bytes();
    if !message.is_empty() {
        m.extend_from_slice(message.as_bytes());
        m.push(b'\n');
    }
    calls::send_all(conn, &m)
}

/// Reads the reply: `want` bytes, or until EOF.
fn reply(conn: &mut TcpStream, want: usize) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while got.len() < want.max(1) {
        let n = calls::recv(conn, &mut buf)?;
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    Ok(got)
}

/// The steering command that asks the server for `side`, if it needs one.
/// `barrier` is the Unix time in microseconds at which `close-at` closes.
fn command(side: ServerSide, barrier: u64) -> Option<String> {
    match side {
        ServerSide::Echo => None,
        ServerSide::WaitEof => Some("wait-eof".into()),
        ServerSide::Slow => Some("slow".into()),
        ServerSide::Half => Some("half".into()),
        ServerSide::CloseAt => Some(format!("close-at={barrier}")),
        ServerSide::Hold => Some("hold".into()),
        ServerSide::Pause => Some(format!("pause={REFUSED_PAUSE_MS}")),
        ServerSide::Keep => Some(format!("keep={CLOSE_WAIT_HOLD_MS}")),
        ServerSide::Stream => Some("stream".into()),
    }
}

/// How long the refused scenario asks a synack server to stop listening.
pub const REFUSED_PAUSE_MS: u64 = 300;

/// How many connections the simultaneous scenario tries before it gives up
/// on the FINs crossing (on a busy 2-core machine about one try in twenty
/// crosses: 400 leave a one-in-millions chance of giving up).
pub const SIMULTANEOUS_TRIES: u32 = 400;

/// Runs one connection of `scenario` against `addr`.
///
/// # Errors
/// When the connection fails in a way the scenario does not expect, the
/// server's reply is wrong, or the close asked for did not happen.
pub fn run_scenario(scenario: Scenario, addr: SocketAddr, message: &str) -> io::Result<Outcome> {
    run_scenario_counted(scenario, addr, message).map(|(outcome, _)| outcome)
}

/// What a scenario did: its outcome, how many connections it made, and when
/// it tried more than once, which one did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    pub outcome: Outcome,
    /// Connections made: the tries of a simultaneous close, the backlog's
    /// eight clients, none for the UDP scenarios, one otherwise.
    pub connections: u32,
    /// The client port of the try that did it, for a scenario that tries
    /// again ([`Scenario::retries`]); the others were not the close asked for.
    pub port: Option<u16>,
}

/// [`run_scenario`], telling `watch` each connection's client port before
/// it connects, and saying which connection did it.
///
/// # Errors
/// See [`run_scenario`].
pub fn run_scenario_watched(scenario: Scenario, addr: SocketAddr, message: &str, watch: Watch<'_>) -> io::Result<Ran> {
    if crate::udp_echo::is_udp(scenario) {
        // UDP makes no connection.
        return crate::udp_echo::run(scenario, addr, message).map(|outcome| Ran {
            outcome,
            connections: 0,
            port: None,
        });
    }
    if scenario == Scenario::Refused {
        return refused(addr, watch).map(|outcome| Ran { outcome, connections: 1, port: None });
    }
    if scenario == Scenario::Backlog {
        return backlog(addr, message, watch).map(|outcome| Ran {
            outcome,
            connections: BACKLOG_CONNECTIONS,
            port: None,
        });
    }
    let tries = if scenario.retries() { SIMULTANEOUS_TRIES } else { 1 };
    for attempt in 1..=tries {
        if let Some((reply, port)) = attempt_once(scenario, addr, message, watch)? {
            check_reply(scenario, message, &reply)?;
            let port = scenario.retries().then_some(port);
            return Ok(Ran { outcome: Outcome::Replied(reply), connections: attempt, port });
        }
    }
    Err(io::Error::other(crate::t!("tui-echo-no-crossing", tries = tries)))
}

/// [`run_scenario`], with the number of connections it took: more than one
/// when a simultaneous close had to be tried again because the FINs did not
/// cross (each try is a connection of its own on the wire).
///
/// # Errors
/// See [`run_scenario`].
pub fn run_scenario_counted(scenario: Scenario, addr: SocketAddr, message: &str) -> io::Result<(Outcome, u32)> {
    run_scenario_watched(scenario, addr, message, None).map(|r| (r.outcome, r.connections))
}

/// How far apart the stream scenario's client makes its two sends.
pub const STREAM_SEND_GAP: Duration = Duration::from_millis(10);

/// The stream scenario's long message: [`STREAM_LONG`] letters.
fn stream_long() -> Vec<u8> {
    (0..STREAM_LONG).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The stream scenario's client: with TCP_NODELAY, the two halves of
/// `message` ("hello", "world") in two `send()` calls 10 ms apart (two
/// segments); the reply; then a 1,025-byte message in one `send()`, and its
/// reply. Returns both replies.
fn stream_client(conn: &mut TcpStream, inband: Option<String>, message: &str) -> io::Result<Vec<u8>> {
    conn.set_nodelay(true)?;
    if let Some(c) = inband {
        calls::send_all(conn, format!("{COMMAND_PREFIX}{c}\n").as_bytes())?;
    }
    let half = message.len() / 2;
    let half = (half..=message.len()).find(|&i| message.is_char_boundary(i)).unwrap_or(message.len());
    let (a, b) = message.split_at(half);
    calls::send_all(conn, a.as_bytes())?;
    thread::sleep(STREAM_SEND_GAP);
    calls::send_all(conn, b.as_bytes())?;
    let mut got = reply(conn, message.len())?;
    calls::send_all(conn, &stream_long())?;
    got.extend(reply(conn, STREAM_LONG)?);
    Ok(got)
}

/// What the built-in server answers to `message` in `scenario`.
fn expected_reply(scenario: Scenario, message: &str) -> Vec<u8> {
    if scenario == Scenario::Stream {
        return [message.as_bytes(), &stream_long()].concat().to_ascii_uppercase();
    }
    let upper = message.to_ascii_uppercase();
    if scenario.info().server == ServerSide::Half {
        (1..=3).flat_map(|i| format!("{upper} #{i}\n").into_bytes()).collect()
    } else {
        format!("{upper}\n").into_bytes()
    }
}

fn check_reply(scenario: Scenario, message: &str, reply: &[u8]) -> io::Result<()> {
    let want = expected_reply(scenario, message);
    if reply == want.as_slice() {
        Ok(())
    } else {
        Err(io::Error::other(crate::t!(
            "tui-echo-wrong-reply",
            got = format!("{:?}", String::from_utf8_lossy(reply)),
            want = format!("{:?}", String::from_utf8_lossy(&want))
        )))
    }
}

/// One connection of `scenario`: the reply and the connection's client
/// port, or `None` when a simultaneous close was asked for and the FINs did
/// not cross.
fn attempt_once(
    scenario: Scenario,
    addr: SocketAddr,
    message: &str,
    watch: Watch<'_>,
) -> io::Result<Option<(Vec<u8>, u16)>> {
    let want = message.len() + 1; // the line and its newline
    // A barrier 15 ms ahead: both sides close at the same instant.
    let barrier = unix_micros() + 15_000;
    let (mut conn, port, inband) = steered_connect(addr, command(scenario.info().server, barrier), watch)?;
    if scenario == Scenario::Stream {
        let reply = stream_client(&mut conn, inband, message)?;
        calls::close(conn);
        return Ok(Some((reply, port)));
    }
    send(&mut conn, inband, message)?;
    let outcome = match scenario {
        Scenario::Seed | Scenario::ClientClose | Scenario::SlowClose | Scenario::CloseWait => reply(&mut conn, want)?,
        Scenario::ServerClose => {
            let r = reply(&mut conn, want)?;
            // Close only once the server has: wait for its FIN (EOF).
            let _ = reply(&mut conn, usize::MAX)?;
            r
        }
        Scenario::HalfClose => {
            calls::shutdown(&conn, Shutdown::Write)?;
            reply(&mut conn, usize::MAX)?
        }
        Scenario::Simultaneous => {
            let r = reply(&mut conn, want)?;
            sleep_until_unix_micros(barrier);
            let before = sock::tcp_info(conn.as_fd())?;
            calls::shutdown(&conn, Shutdown::Write)?;
            let right_after = sock::tcp_info(conn.as_fd())?;
            let _ = reply(&mut conn, usize::MAX);
            if !fins_crossed(&conn, before, right_after) {
                return Ok(None);
            }
            r
        }
        Scenario::Abort => {
            let r = reply(&mut conn, want)?;
            sock::set_linger_zero(&conn)?;
            r
        }
        Scenario::Refused => unreachable!("handled by refused()"),
        Scenario::Stream => unreachable!("handled above"),
        Scenario::Backlog => unreachable!("handled by backlog()"),
        Scenario::Udp | Scenario::UdpClosed => unreachable!("handled by udp_echo::run()"),
    };
    calls::close(conn);
    Ok(Some((outcome, port)))
}

/// Whether the FINs crossed, from what the kernel says of the client's
/// socket: the server's FIN had not been processed when ours left (FIN-WAIT-1
/// right after our shutdown; CLOSING means it crossed already), and once the close is over two
/// segments came in after it, the server's FIN and a separate ACK of ours
/// (the server's FIN did not acknowledge ours). A three-way close brings one
/// (a FIN that acknowledges ours). The socket's CLOSING state itself can
/// begin and end within the shutdown call, out of sight. Checked against
/// captures by the live test `simultaneous_scenario_crosses_the_fins_every_time`.
fn fins_crossed(conn: &TcpStream, before: sock::TcpInfo, right_after: sock::TcpInfo) -> bool {
    // Right after our shutdown the socket must still show our FIN unanswered
    // (FIN-WAIT-1) or already crossed (CLOSING). LAST-ACK: the server's FIN came
    // first. CLOSED: the whole close happened inside the call, and a server FIN
    // processed just before it cannot be told from a crossing: try again.
    if before.state == sock::TCP_CLOSE_WAIT {
        return false;
    }
    if right_after.state == sock::TCP_CLOSING {
        return true;
    }
    if right_after.state != sock::TCP_FIN_WAIT1 {
        return false;
    }
    // The server's FIN has come (EOF was read); wait, bounded, for the ACK of ours.
    let until = Instant::now() + Duration::from_millis(200);
    loop {
        let Ok(now) = sock::tcp_info(conn.as_fd()) else { return false };
        if now.state == sock::TCP_CLOSE {
            return now.segs_in.wrapping_sub(before.segs_in) == 2;
        }
        if Instant::now() >= until {
            return false;
        }
        thread::yield_now();
    }
}

/// Connects where nothing listens. If something does, asks it (a synack
/// server) to stop listening for a moment: it closes the command's connection
/// once its listener is closed, so the next connect is refused.
/// Connections the backlog scenario opens at once: twice what `listen(3)`
/// lets wait.
pub const BACKLOG_CONNECTIONS: u32 = 8;
/// How long the backlog scenario asks the server not to accept.
pub const BACKLOG_CHOKE_MS: u64 = 2_000;

/// The backlog scenario: the server (asked on its control channel) turns its
/// backlog to the tutorial's `listen(3)` and stops accepting for 2 s; eight
/// clients connect at once. Four handshakes fill the accept queue (Linux
/// lets backlog + 1 wait). The others' SYNs are dropped (sent again 1 s
/// later) or, when the queue filled between their SYN
/// and their ACK, their ACK is: the client believes ESTABLISHED while the
/// server stays SYN-RECEIVED and sends its SYN-ACK again. Then the server
/// accepts one connection every 200 ms and the queue drains; every client
/// is answered.
fn backlog(addr: SocketAddr, message: &str, watch: Watch<'_>) -> io::Result<Outcome> {
    let choke = format!("{CONTROL_PREFIX}choke={BACKLOG_CHOKE_MS}:{BACKLOG_CONNECTIONS}\n");
    if !control(addr, &choke)? {
        return Err(io::Error::other(crate::t!("tui-echo-no-control", addr = addr.to_string())));
    }
    let want = message.len() + 1;
    // Each client on a thread of its own, all at once (scoped: `watch` is
    // borrowed).
    let replies: Vec<io::Result<Vec<u8>>> = thread::scope(|scope| {
        let clients: Vec<_> = (0..BACKLOG_CONNECTIONS)
            .map(|_| {
                scope.spawn(move || -> io::Result<Vec<u8>> {
                    let (mut conn, _) = connect(addr, watch, Duration::from_secs(10))?;
                    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
                    send(&mut conn, None, message)?;
                    reply(&mut conn, want)
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap_or_else(|_| Err(io::Error::other(crate::t!("tui-echo-client-panicked")))))
            .collect()
    });
    let mut first = None;
    for got in replies {
        first.get_or_insert(got?);
    }
    let got = first.unwrap_or_default();
    check_reply(Scenario::Backlog, message, &got)?;
    Ok(Outcome::Replied(got))
}

fn refused(addr: SocketAddr, watch: Watch<'_>) -> io::Result<Outcome> {
    // A synack server with a control channel: paused and resumed there, so
    // the only connection on the watched port is the refused one.
    if control(addr, &format!("{CONTROL_PREFIX}pause={REFUSED_PAUSE_MS}\n"))? {
        let tried = connect(addr, watch, Duration::from_secs(1));
        control(addr, &format!("{CONTROL_PREFIX}resume\n"))?;
        return match tried {
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(Outcome::Refused),
            Err(e) => Err(e),
            Ok(_) => Err(io::Error::other(crate::t!("tui-echo-kept-accepting-paused", addr = addr.to_string()))),
        };
    }
    let mut conn = match connect(addr, watch, Duration::from_secs(5)) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(Outcome::Refused),
        Err(e) => return Err(e),
        Ok((conn, _)) => conn,
    };
    send(&mut conn, command(ServerSide::Pause, 0), "")?;
    let _ = reply(&mut conn, usize::MAX);
    drop(conn);
    match connect(addr, watch, Duration::from_secs(1)) {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(Outcome::Refused),
        Err(e) => Err(e),
        Ok(_) => Err(io::Error::other(crate::t!("tui-echo-kept-accepting", addr = addr.to_string()))),
    }
}

/// Result of a client run.
#[derive(Debug, Default)]
pub struct Report {
    pub ok: u64,
    pub failed: u64,
    /// Connections beyond one per success (simultaneous closes tried again).
    pub retries: u64,
    pub first_error: Option<String>,
    pub sample: Option<Outcome>,
    pub elapsed: Duration,
}

/// Runs `repeat` connections of `scenario`, `concurrency` at a time.
#[must_use]
pub fn run_clients(scenario: Scenario, addr: SocketAddr, message: &str, repeat: u64, concurrency: usize) -> Report {
    let started = Instant::now();
    let next = AtomicU64::new(0);
    let report = std::sync::Mutex::new(Report::default());
    thread::scope(|s| {
        for _ in 0..concurrency.clamp(1, 1024) {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < repeat {
                    let r = run_scenario_counted(scenario, addr, message);
                    let mut rep = report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    match r {
                        Ok((o, attempts)) => {
                            rep.ok += 1;
                            rep.retries += u64::from(attempts.saturating_sub(1));
                            rep.sample.get_or_insert(o);
                        }
                        Err(e) => {
                            rep.failed += 1;
                            rep.first_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            });
        }
    });
    let mut report = report.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    report.elapsed = started.elapsed();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse_command(b"helloworld"), (Command::Echo, &b"helloworld"[..]));
        assert_eq!(parse_command(b"SYNACK/1 slow\nhi"), (Command::Slow, &b"hi"[..]));
        assert_eq!(parse_command(b"SYNACK/1 close-at=42\nhi"), (Command::CloseAt(42), &b"hi"[..]));
        assert_eq!(parse_command(b"SYNACK/1 pause=300\n"), (Command::Pause(300), &b""[..]));
        assert_eq!(parse_command(b"SYNACK/1 bogus\nx"), (Command::Echo, &b"x"[..]));
    }

    #[test]
    fn every_scenario_completes_against_the_server() {
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let server = Server::start(listener, ServerConfig::default());
        let addr = server.addr();
        for scenario in crate::scenario::SCENARIOS
            .iter()
            .map(|i| i.scenario)
            .filter(|&s| !matches!(s, Scenario::Refused | Scenario::UdpClosed))
        {
            let out = run_scenario(scenario, addr, "helloworld").unwrap();
            let Outcome::Replied(reply) = out else { panic!("{scenario:?} refused") };
            assert!(reply.starts_with(b"HELLOWORLD"), "{scenario:?}: {reply:?}");
        }
        assert!(matches!(run_scenario(Scenario::UdpClosed, addr, "hi").unwrap(), Outcome::PortUnreachable { .. }));
        assert_eq!(run_scenario(Scenario::Refused, addr, "").unwrap(), Outcome::Refused);
        // The server listens again after the pause.
        assert!(server.wait_listening(Duration::from_secs(2)));
        assert!(matches!(run_scenario(Scenario::Seed, addr, "x").unwrap(), Outcome::Replied(_)));
        server.stop();
    }

    /// Each connection's client port is told before it connects: as many as
    /// the scenario made, and the try that did it is one of them.
    #[test]
    fn every_connection_of_a_scenario_is_told_by_its_port() {
        let server = Server::start(bind("127.0.0.1:0".parse().unwrap()).unwrap(), ServerConfig::default());
        let addr = server.addr();
        for scenario in [Scenario::Seed, Scenario::Simultaneous, Scenario::Backlog, Scenario::Refused] {
            let told = Mutex::new(Vec::new());
            let watch = |p| told.lock().unwrap().push(p);
            let ran = run_scenario_watched(scenario, addr, "helloworld", Some(&watch));
            let told = told.into_inner().unwrap();
            assert!(told.iter().all(|&p| p != 0 && p != addr.port()), "{scenario:?}: {told:?}");
            // Whether the FINs cross depends on both ends running at once:
            // on a busy machine every try may fail, each still told.
            let ran = match ran {
                Err(e) if scenario == Scenario::Simultaneous => {
                    assert!(e.to_string().contains("did not cross"), "{e}");
                    assert_eq!(told.len(), SIMULTANEOUS_TRIES as usize, "one port per try");
                    continue;
                }
                ran => ran.unwrap(),
            };
            match scenario {
                Scenario::Simultaneous => {
                    assert_eq!(told.len(), ran.connections as usize, "one port per try");
                    assert_eq!(ran.port, told.last().copied(), "the last try did it");
                }
                Scenario::Backlog => assert_eq!((told.len(), ran.connections, ran.port), (8, 8, None)),
                _ => assert_eq!((told.len(), ran.connections, ran.port), (1, 1, None), "{scenario:?}"),
            }
            assert!(server.wait_listening(Duration::from_secs(2)));
        }
        server.stop();
    }

    #[test]
    fn a_request_is_whole_at_its_first_read_unless_it_carries_a_command() {
        // The tutorial's client: no newline, answered as it is.
        assert!(request_complete(b"helloworld", false));
        assert!(request_complete(b"hello\n", false));
        assert!(!request_complete(b"", false));
        // An in-band command line gathers its line of message.
        assert!(!request_complete(b"SYNACK/1 slow\nhel", false));
        assert!(!request_complete(b"SYNACK/1 sl", false));
        assert!(request_complete(b"SYNACK/1 slow\nhello\n", false));
        assert!(request_complete(b"SYNACK/1 pause=300\n", false));
        // Announced on the control channel: whatever the first read returns.
        assert!(request_complete(b"SYNACK/1 slow\n", true));
        assert!(request_complete(b"hello", true));
        assert!(!request_complete(b"", true));
    }

    #[test]
    fn the_first_read_is_answered_at_once_without_a_newline() {
        // A server that would wait 60 s for a request to be whole: it does not.
        let config = ServerConfig { request_timeout: Duration::from_secs(60), ..ServerConfig::default() };
        let server = Server::start(bind("127.0.0.1:0".parse().unwrap()).unwrap(), config);
        let mut conn = TcpStream::connect(server.addr()).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        conn.write_all(b"helloworld").unwrap();
        // The reply, then EOF: the server closed after answering the one read.
        assert_eq!(reply(&mut conn, usize::MAX).unwrap(), b"HELLOWORLD");
        server.stop();
    }

    #[test]
    fn an_inband_command_written_in_parts_is_gathered_whole() {
        let server = Server::start(bind("127.0.0.1:0".parse().unwrap()).unwrap(), ServerConfig::default());
        let mut conn = TcpStream::connect(server.addr()).unwrap();
        conn.set_nodelay(true).unwrap();
        conn.write_all(b"SYNACK/1 wait-eof\nhello").unwrap();
        conn.flush().unwrap();
        conn.write_all(b"world\n").unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(reply(&mut conn, 11).unwrap(), b"HELLOWORLD\n");
        server.stop();
    }

    #[test]
    fn a_pause_is_bounded_and_survives_a_squatter() {
        let server = Server::start(bind("127.0.0.1:0".parse().unwrap()).unwrap(), ServerConfig::default());
        let addr = server.addr();
        let started = Instant::now();
        // A client asks for a pause of a day; the server stops listening...
        let mut conn = TcpStream::connect(addr).unwrap();
        conn.write_all(b"SYNACK/1 pause=86400000\n").unwrap();
        let _ = reply(&mut conn, usize::MAX);
        // ...and someone else takes the port meanwhile, then lets it go.
        let squatter = TcpListener::bind(addr).unwrap();
        assert!(!server.wait_listening(Duration::from_millis(100)));
        drop(squatter);
        assert!(server.wait_listening(Duration::from_secs(5)), "the server listens again");
        assert!(started.elapsed() < Duration::from_secs(3), "a pause lasts a second at most");
        assert!(matches!(run_scenario(Scenario::Seed, addr, "x").unwrap(), Outcome::Replied(_)));
        server.stop();
    }

    #[test]
    fn busy_port_says_so() {
        let first = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let err = bind(addr).unwrap_err();
        assert_eq!(err.to_string(), format!("{addr} is already in use (another synack serve?)"));
    }
}
