//! The built-in programs' own socket calls: the echo server and the scenario
//! clients report each call they make (connect, accept, send with the bytes
//! it returned, recv with its bytes, 0 or errno, shutdown with its how,
//! close) exactly, with the process's pid and name and the socket's two
//! addresses, timed on the realtime clock (CLOCK_REALTIME nanoseconds, the
//! capture's clock). No privilege is needed: the program says what it did.
//!
//! Reporting is on for a thread that was given a [`CallSink`]
//! ([`set`], [`with`]): the dashboard gives one to the server it runs and to
//! each scenario's thread, and hands the calls to its tracker. Without a
//! sink (`synack serve` and `synack client` on their own) nothing is
//! reported and the calls cost one thread-local check each.
//!
//! Timing: a call that causes segments (connect, send, shutdown, close) is
//! stamped when it is made, so that it comes before the segments it caused;
//! a call that returns what segments brought (accept, recv) when it returns.
//! A non-blocking read that finds nothing (EAGAIN) is not a call worth
//! showing, and is not reported.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::model::call::{Call, CallKind, Comm, How};
use crate::model::segment::Timestamp;

/// Where the built-in programs' calls go: a function of the dashboard's
/// (it sends them to its tracker), and the addresses of the sockets the
/// programs have open (a socket reset by its peer no longer tells its peer's
/// address, but its calls still name it).
#[derive(Clone)]
pub struct CallSink(Arc<Inner>);

struct Inner {
    to: Box<dyn Fn(Call) + Send + Sync>,
    /// Open sockets' (local, peer) by descriptor; at most [`OPEN_KEPT`].
    open: Mutex<HashMap<RawFd, (SocketAddr, SocketAddr)>>,
}

/// Sockets whose addresses are remembered at most (beyond, a call on a
/// socket whose peer is gone goes unreported rather than grow memory).
const OPEN_KEPT: usize = 65_536;

impl std::fmt::Debug for CallSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallSink").finish_non_exhaustive()
    }
}

impl CallSink {
    /// A sink that hands each call to `to`.
    pub fn new(to: impl Fn(Call) + Send + Sync + 'static) -> CallSink {
        CallSink(Arc::new(Inner { to: Box::new(to), open: Mutex::new(HashMap::new()) }))
    }
}

thread_local! {
    static SINK: RefCell<Option<CallSink>> = const { RefCell::new(None) };
}

/// Reports this thread's calls to `sink` from now on (`None`: no more).
pub fn set(sink: Option<CallSink>) {
    SINK.with(|s| *s.borrow_mut() = sink);
}

/// Runs `f` with this thread's calls reported to `sink`.
pub fn with<R>(sink: Option<CallSink>, f: impl FnOnce() -> R) -> R {
    let before = SINK.with(|s| s.replace(sink));
    let r = f();
    SINK.with(|s| *s.borrow_mut() = before);
    r
}

/// Whether this thread reports its calls.
#[must_use]
pub fn on() -> bool {
    SINK.with(|s| s.borrow().is_some())
}

/// The realtime clock, as the capture stamps frames.
#[must_use]
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// This process's name, as the kernel keeps it.
fn comm() -> Comm {
    static COMM: OnceLock<Comm> = OnceLock::new();
    *COMM.get_or_init(|| {
        std::fs::read_to_string("/proc/self/comm").map(|s| Comm::new(s.trim_end())).unwrap_or_else(|_| {
            let exe = std::env::current_exe().ok();
            Comm::new(exe.as_ref().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or(""))
        })
    })
}

/// What a call returned: bytes, or the errno it failed with.
#[derive(Clone, Copy, Debug, Default)]
pub struct Returned {
    pub bytes: Option<u64>,
    pub how: Option<How>,
    pub error: Option<i32>,
}

impl Returned {
    fn failed(e: &io::Error) -> Returned {
        Returned { error: Some(e.raw_os_error().unwrap_or(0)), ..Returned::default() }
    }
    fn bytes(n: usize) -> Returned {
        Returned { bytes: Some(n as u64), ..Returned::default() }
    }
}

/// Reports a call on the socket `fd` between `local` and `peer`.
fn report_at(ts: Timestamp, kind: CallKind, (local, remote): (SocketAddr, SocketAddr), r: Returned) {
    SINK.with(|s| {
        if let Some(sink) = s.borrow().as_ref() {
            let call = Call {
                ts,
                sock: 0,
                local,
                remote,
                pid: std::process::id(),
                comm: comm(),
                kind,
                bytes: r.bytes,
                how: r.how,
                error: r.error,
            };
            (sink.0.to)(call);
        }
    });
}

/// The addresses of `conn`'s socket: remembered, or asked for.
fn ends(conn: &TcpStream) -> Option<(SocketAddr, SocketAddr)> {
    SINK.with(|s| {
        let s = s.borrow();
        let sink = s.as_ref()?;
        let open = sink.0.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&conn.as_raw_fd()).copied()
    })
    .or_else(|| Some((conn.local_addr().ok()?, conn.peer_addr().ok()?)))
}

/// Remembers the addresses of a socket just connected or accepted.
fn remember(conn: &TcpStream) -> Option<(SocketAddr, SocketAddr)> {
    let ends = (conn.local_addr().ok()?, conn.peer_addr().ok()?);
    SINK.with(|s| {
        if let Some(sink) = s.borrow().as_ref() {
            let mut open = sink.0.open.lock().unwrap_or_else(PoisonError::into_inner);
            if open.len() < OPEN_KEPT {
                open.insert(conn.as_raw_fd(), ends);
            }
        }
    });
    Some(ends)
}

/// Reports a call on `conn` made (or returned) at `ts`.
pub fn report(conn: &TcpStream, ts: Timestamp, kind: CallKind, r: Returned) {
    if !on() {
        return;
    }
    if let Some(ends) = ends(conn) {
        report_at(ts, kind, ends, r);
    }
}

/// `connect()` from `local` to `remote`, made at `ts`, and how it went.
pub fn connected(ts: Timestamp, local: SocketAddr, remote: SocketAddr, result: &io::Result<TcpStream>) {
    if !on() {
        return;
    }
    match result {
        Ok(conn) => {
            let ends = remember(conn).unwrap_or((local, remote));
            report_at(ts, CallKind::Connect, ends, Returned::default());
        }
        Err(e) => report_at(ts, CallKind::Connect, (local, remote), Returned::failed(e)),
    }
}

/// `accept()` returned `conn`.
pub fn accepted(conn: &TcpStream) {
    if !on() {
        return;
    }
    let ts = now();
    if let Some(ends) = remember(conn) {
        report_at(ts, CallKind::Accept, ends, Returned::default());
    }
}

/// `recv()` on `conn`, reported.
///
/// # Errors
/// As [`Read::read`].
pub fn recv(conn: &mut TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    let r = conn.read(buf);
    if on() {
        let ts = now();
        match &r {
            Ok(n) => report(conn, ts, CallKind::Recv, Returned::bytes(*n)),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(e) => report(conn, ts, CallKind::Recv, Returned::failed(e)),
        }
    }
    r
}

/// `send()` until all of `data` is sent, each call reported.
///
/// # Errors
/// As [`Write::write_all`].
pub fn send_all(conn: &mut TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let ts = now();
        match conn.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                report(conn, ts, CallKind::Send, Returned::bytes(n));
                data = &data[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                report(conn, ts, CallKind::Send, Returned::failed(&e));
                return Err(e);
            }
        }
    }
    Ok(())
}

/// `shutdown()`, reported.
///
/// # Errors
/// As [`TcpStream::shutdown`].
pub fn shutdown(conn: &TcpStream, how: Shutdown) -> io::Result<()> {
    let ts = now();
    let r = conn.shutdown(how);
    let h = match how {
        Shutdown::Read => How::Read,
        Shutdown::Write => How::Write,
        Shutdown::Both => How::Both,
    };
    let mut returned = r.as_ref().err().map_or_else(Returned::default, Returned::failed);
    returned.how = Some(h);
    report(conn, ts, CallKind::Shutdown, returned);
    r
}

/// `close()`: reported, then the socket closed (and forgotten).
pub fn close(conn: TcpStream) {
    if on() {
        report(&conn, now(), CallKind::Close, Returned::default());
        let fd = conn.as_raw_fd();
        SINK.with(|s| {
            if let Some(sink) = s.borrow().as_ref() {
                sink.0.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&fd);
            }
        });
    }
    drop(conn);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// Each call of a short exchange is reported once, on its side, with
    /// what it returned; a thread without a sink reports nothing.
    #[test]
    fn an_exchange_reports_its_calls() {
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let sink = CallSink::new(move |c| g.lock().unwrap().push(c));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        with(Some(sink), || {
            let t0 = now();
            let result = TcpStream::connect(server);
            let local = result.as_ref().unwrap().local_addr().unwrap();
            connected(t0, local, server, &result);
            let mut c = result.unwrap();
            let (mut s, _) = listener.accept().unwrap();
            accepted(&s);
            send_all(&mut c, b"helloworld").unwrap();
            let mut buf = [0; 1024];
            assert_eq!(recv(&mut s, &mut buf).unwrap(), 10);
            shutdown(&c, std::net::Shutdown::Write).unwrap();
            assert_eq!(recv(&mut s, &mut buf).unwrap(), 0);
            close(s);
            close(c);
        });
        // Not reported: no sink on this thread any more.
        let mut other = TcpStream::connect(server).unwrap();
        send_all(&mut other, b"x").unwrap();
        let got = got.lock().unwrap();
        let kinds: Vec<(CallKind, Option<u64>, bool)> =
            got.iter().map(|c| (c.kind, c.bytes, c.local.port() == server.port())).collect();
        use CallKind::*;
        assert_eq!(
            kinds,
            [
                (Connect, None, false),
                (Accept, None, true),
                (Send, Some(10), false),
                (Recv, Some(10), true),
                (Shutdown, None, false),
                (Recv, Some(0), true),
                (Close, None, true),
                (Close, None, false)
            ]
        );
        assert!(got.iter().all(|c| c.pid == std::process::id() && !c.comm.is_empty()));
        assert!(got.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert_eq!(got[4].how, Some(How::Write));
    }
}
