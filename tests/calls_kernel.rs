//! Socket calls of other programs, from the kernel's tracepoints, checked
//! against strace: the tutorial's Python server and client (and a slow
//! listener with ten clients at once) run under `strace -f -yy -ttt -T`
//! while synack's kernel view watches their port; the calls it reports
//! must be strace's, per side and in order, with accept's time within 5 ms
//! of strace's return. Needs root (the tracepoints), python3 and strace: a
//! test skips when one is missing, and fails instead when
//! SYNACK_REQUIRE_CAPTURE=1 (CI installs them).

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use synack::capture::kernel::KernelView;
use synack::model::call::{Call, CallKind};

/// How long any step may take.
const BOUND: Duration = Duration::from_secs(60);

/// A traced program: stopped, by its PID, however the test ends; its
/// output read line by line on a thread of its own.
struct Program {
    child: Child,
    lines: mpsc::Receiver<Option<String>>,
}

impl Drop for Program {
    fn drop(&mut self) {
        support::stop(&mut self.child);
    }
}

impl Program {
    /// The next line it prints, within [`BOUND`].
    fn line(&mut self) -> String {
        self.lines.recv_timeout(BOUND).expect("a line in time").expect("a line before the end").trim().to_owned()
    }

    /// Waits for it to end (its output closes), within [`BOUND`].
    fn finish(&mut self) {
        while let Some(_line) = self.lines.recv_timeout(BOUND).expect("the program ended in time") {}
        let status = self.child.wait().unwrap();
        assert!(status.success(), "a traced program failed: {status}");
    }
}

/// The strace tests run one at a time: strace stamps a call when it gets to
/// it, and two traced runs at once on a busy machine delay it past the 5 ms
/// the accept times are compared within.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether the tests can run: root, python3 and strace.
fn ready() -> bool {
    if !support::capture_allowed() {
        return false;
    }
    let required = std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() == Ok("1");
    for tool in ["python3", "strace"] {
        let there = Command::new(tool)
            .arg(if tool == "strace" { "-V" } else { "--version" })
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !there {
            assert!(!required, "SYNACK_REQUIRE_CAPTURE=1 but {tool} is missing");
            eprintln!("skipped: {tool} is missing");
            return false;
        }
    }
    true
}

/// The tutorial's server: one connection, upper-cased back.
const SERVER: &str = "
import socket
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(3)
print(s.getsockname()[1], flush=True)
c, addr = s.accept()
data = c.recv(1024)
c.send(data.upper())
c.close()
s.close()
";

/// The tutorial's client.
const CLIENT: &str = "
import socket, sys
c = socket.socket()
c.connect(('127.0.0.1', int(sys.argv[1])))
c.send(b'helloworld')
print(c.recv(1024).decode(), flush=True)
c.close()
";

/// A listener with a backlog of 1 that accepts one connection every
/// 0.2 s, reads each to its end and closes it.
const SLOW: &str = "
import socket, sys, time
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(1)
print(s.getsockname()[1], flush=True)
for _ in range(int(sys.argv[1])):
    time.sleep(0.2)
    c, addr = s.accept()
    while c.recv(1024):
        pass
    c.close()
";

/// Ten clients connect at once, send a byte, close.
const MANY: &str = "
import socket, sys, threading
def one():
    c = socket.socket()
    c.connect(('127.0.0.1', int(sys.argv[1])))
    c.send(b'x')
    c.close()
ts = [threading.Thread(target=one) for _ in range(int(sys.argv[2]))]
for t in ts: t.start()
for t in ts: t.join()
";

/// Runs `code` in python3 under strace, its log to `log`.
fn traced(code: &str, args: &[&str], log: &Path) -> Program {
    let mut child = Command::new("strace")
        .args(["-f", "-yy", "-ttt", "-T", "-e", "trace=network,close", "-o"])
        .arg(log)
        .args(["python3", "-c", code])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("strace");
    let out = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    Program { child, lines }
}

/// One call as strace saw it.
#[derive(Debug, Clone)]
struct Seen {
    pid: u32,
    kind: CallKind,
    bytes: Option<u64>,
    /// When it returned, in nanoseconds since the epoch.
    returned: u64,
    /// The connection's endpoints (the caller's first), when strace names them.
    tuple: Option<(SocketAddr, SocketAddr)>,
}

/// `[a]:p->[b]:q` or `a:p->b:q` from strace's `-yy` socket annotation.
fn tuple(s: &str) -> Option<(SocketAddr, SocketAddr)> {
    let inner = s.split("TCP:[").nth(1)?.split("]>").next()?;
    let (a, b) = inner.split_once("->")?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The socket calls in an strace log: those on TCP sockets that have a
/// peer (a listener's own calls are not a connection's).
fn strace_calls(log: &Path) -> Vec<Seen> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut out = Vec::new();
    for line in text.lines() {
        // `PID TIME call(...)`, the pid padded with spaces.
        let Some((pid, rest)) = line.trim_start().split_once(' ') else {
            continue;
        };
        let Some((ts, rest)) = rest.trim_start().split_once(' ') else {
            continue;
        };
        let (Ok(pid), Ok(ts)) = (pid.parse::<u32>(), ts.parse::<f64>()) else {
            continue;
        };
        let Some((name, args)) = rest.split_once('(') else {
            continue;
        };
        let kind = match name {
            "connect" => CallKind::Connect,
            "accept" | "accept4" => CallKind::Accept,
            "sendto" | "sendmsg" | "send" | "write" => CallKind::Send,
            "recvfrom" | "recvmsg" | "recv" | "read" => CallKind::Recv,
            "shutdown" => CallKind::Shutdown,
            "close" => CallKind::Close,
            _ => continue,
        };
        let Some((_, ret)) = rest.rsplit_once(") = ") else {
            continue;
        };
        let took: f64 = ret.rsplit_once('<').and_then(|(_, d)| d.trim_end_matches('>').parse().ok()).unwrap_or(0.0);
        let value: i64 = ret.split(['<', ' ']).next().and_then(|v| v.parse().ok()).unwrap_or(-1);
        let first_arg = args.split(", ").next().unwrap_or("");
        let tuple = if kind == CallKind::Accept { tuple(ret) } else { tuple(first_arg) };
        if !first_arg.contains("TCP") || (kind != CallKind::Connect && tuple.is_none()) {
            continue;
        }
        let bytes = matches!(kind, CallKind::Send | CallKind::Recv).then_some(value.max(0).cast_unsigned());
        out.push(Seen { pid, kind, bytes, returned: ((ts + took) * 1e9) as u64, tuple });
    }
    out
}

/// Reads the view until the traced programs' calls are all in (they have
/// ended: every sample is in the rings).
fn calls_of(view: &mut KernelView) -> Vec<Call> {
    let mut changes = Vec::new();
    let mut calls = Vec::new();
    view.read_changes(&mut changes);
    view.read_calls(&mut calls, true);
    calls.sort_by_key(|c| c.ts);
    calls
}

fn summary(kind: CallKind, bytes: Option<u64>) -> String {
    match bytes {
        Some(b) => format!("{}({b})", kind.name()),
        None => kind.name().to_owned(),
    }
}

#[test]
fn the_tutorials_programs_calls_are_straces() {
    if !ready() {
        return;
    }
    let _one = one_at_a_time();
    let dir = support::tempdir("calls-kernel-tutorial");
    let (slog, clog) = (dir.join("server.strace"), dir.join("client.strace"));
    // Every port: the view is open before the server has one (so that it
    // sees the programs start, and their names).
    let mut view = KernelView::open_with(None, true).expect("the kernel view as root");
    assert!(view.has_calls(), "{:?}", view.calls_off());
    let mut server = traced(SERVER, &[], &slog);
    let port = server.line();
    let mut client = traced(CLIENT, &[&port], &clog);
    assert_eq!(client.line(), "HELLOWORLD");
    client.finish();
    server.finish();
    let seen: Vec<Seen> = strace_calls(&slog).into_iter().chain(strace_calls(&clog)).collect();
    let ours: Vec<Call> = calls_of(&mut view).into_iter().filter(|c| seen.iter().any(|s| s.pid == c.pid)).collect();
    let pids: Vec<u32> = {
        let mut p: Vec<u32> = seen.iter().map(|s| s.pid).collect();
        p.dedup();
        p
    };
    assert_eq!(pids.len(), 2, "strace saw both programs: {seen:?}");
    for pid in pids {
        let theirs: Vec<String> = seen.iter().filter(|s| s.pid == pid).map(|s| summary(s.kind, s.bytes)).collect();
        let mine: Vec<String> = ours.iter().filter(|c| c.pid == pid).map(|c| summary(c.kind, c.bytes)).collect();
        assert_eq!(mine, theirs, "pid {pid}: synack's calls against strace's");
        assert!(theirs.len() >= 4, "a side's calls: {theirs:?}");
        eprintln!("pid {pid}: {}", mine.join(" "));
        for c in ours.iter().filter(|c| c.pid == pid) {
            assert!(c.comm.as_str().starts_with("python"), "the process's name: {:?}", c.comm);
        }
    }
    let server_side: Vec<&Seen> = seen.iter().filter(|s| s.kind == CallKind::Accept).collect();
    assert_eq!(server_side.len(), 1);
    let accept = ours.iter().find(|c| c.kind == CallKind::Accept).unwrap();
    let gap = accept.ts.0.abs_diff(server_side[0].returned);
    assert!(gap < 5_000_000, "accept within 5 ms of strace's return: {gap} ns apart");
    assert_eq!(Some((accept.local, accept.remote)), server_side[0].tuple, "the accepted connection");
    let connect = ours.iter().find(|c| c.kind == CallKind::Connect).unwrap();
    assert_eq!(connect.local.port(), 0, "connect is seen before the port is chosen");
    assert_ne!(connect.sock, 0, "and tied to the socket by its address");
    let close = ours.iter().find(|c| c.kind == CallKind::Close && c.pid == connect.pid).unwrap();
    assert_eq!(close.sock, connect.sock, "the client's close is on the socket it connected");
    assert_eq!(view.calls_unattributed().1, 0, "no call dropped");
}

#[test]
fn a_slow_listeners_accepts_keep_straces_times() {
    if !ready() {
        return;
    }
    let _one = one_at_a_time();
    const CLIENTS: usize = 10;
    let dir = support::tempdir("calls-kernel-backlog");
    let (slog, clog) = (dir.join("server.strace"), dir.join("clients.strace"));
    let n = CLIENTS.to_string();
    let mut view = KernelView::open_with(None, true).expect("the kernel view as root");
    let mut server = traced(SLOW, &[&n], &slog);
    let port = server.line();
    let mut clients = traced(MANY, &[&port, &n], &clog);
    clients.finish();
    server.finish();
    let (server_pid, clients_pid) = (server.child.id(), clients.child.id());
    // strace's children: the programs.
    let pids = [server_pid, clients_pid];
    let ours: Vec<Call> = calls_of(&mut view)
        .into_iter()
        .filter(|c| {
            let port: u16 = port.parse().unwrap();
            (c.local.port() == port || c.remote.port() == port) && !pids.contains(&c.pid)
        })
        .collect();
    let accepts: HashMap<(SocketAddr, SocketAddr), u64> = strace_calls(&slog)
        .into_iter()
        .filter(|s| s.kind == CallKind::Accept)
        .filter_map(|s| Some((s.tuple?, s.returned)))
        .collect();
    assert_eq!(accepts.len(), CLIENTS, "strace saw every accept");
    let mine: Vec<&Call> = ours.iter().filter(|c| c.kind == CallKind::Accept).collect();
    assert_eq!(mine.len(), CLIENTS, "synack saw every accept: {mine:?}");
    for c in mine {
        let theirs = accepts.get(&(c.local, c.remote)).expect("an accept strace saw");
        let gap = c.ts.0.abs_diff(*theirs);
        assert!(gap < 5_000_000, "accept of {} within 5 ms of strace's return: {gap} ns apart", c.remote);
    }
    // And each client's calls: connect, send(1), close.
    let client_calls: Vec<String> = ours
        .iter()
        .filter(|c| c.local.port() != port.parse::<u16>().unwrap())
        .map(|c| summary(c.kind, c.bytes))
        .collect();
    for kind in ["connect", "send(1)", "close"] {
        assert_eq!(client_calls.iter().filter(|k| *k == kind).count(), CLIENTS, "{kind}: {client_calls:?}");
    }
}

/// Without the privilege, `--kernel auto` goes on capturing and says once
/// why the socket calls of other programs are off.
#[test]
fn without_privilege_calls_are_off_and_the_reason_is_given_once() {
    if !support::capture_allowed() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    // CAP_NET_RAW only (nobody, the capability ambient): the capture opens,
    // the tracepoints cannot.
    let out = support::synack_with_net_raw_only(&["trace", "--port", &port, "--duration", "1", "--kernel", "auto"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(err.matches("socket calls of other programs").count(), 1, "{err}");
    assert!(err.contains("needs root, or CAP_PERFMON"), "{err}");
    assert!(err.contains("capturing on"), "{err}");
}
