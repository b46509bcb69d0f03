//! Any program's socket calls, worked out from the kernel's samples (see
//! [`crate::os::callpoints`]): samples in, in time order, [`Call`]s out.
//! Pure: no IO, no clock; the process names come from the caller.
//!
//! What is exact, and how (docs/socket-calls.md says it for users):
//! - **connect**: the change CLOSE → SYN-SENT happens only inside
//!   `connect()` (or a Fast Open `sendmsg`), in the caller's task. The port
//!   is not chosen yet: the call's `local` port is 0 and its `sock` is the
//!   socket's kernel address, which the socket's later changes carry too.
//! - **send / recv**: `sock_send_length` / `sock_recv_length` fire in the
//!   caller's task with the socket's address; the socket's 4-tuple is the
//!   one its state changes gave (only sockets of the watched port have
//!   any: other sockets' samples are dropped). A receive with MSG_PEEK
//!   reads nothing away and is not shown.
//! - **close / shutdown**: the descriptor comes from the syscall's entry.
//!   The socket behind it is known from the change only the closing task
//!   makes inside `close()` or `shutdown()` (ESTABLISHED or SYN-RECEIVED →
//!   FIN-WAIT-1, CLOSE-WAIT → LAST-ACK; a change to CLOSED there may be a
//!   reset that arrived, and is not used), made in this call or an earlier
//!   `shutdown()` of the same descriptor. `shutdown(how)` comes with its
//!   `how`.
//! - **accept**: the exit of `accept`/`accept4` gives the process, the
//!   descriptor and the time it returned. The socket is known once that
//!   descriptor is closed or shut down as above; the accept is handed on
//!   then, with its own time (so it comes late, not in time order).
//!
//! A call that cannot be tied to its socket this way is not shown. A state
//! change only close or shutdown makes, seen outside both (the process
//! exited, or a descriptor was passed on), is counted in
//! [`Attributor::unattributed`]. Not counted, because nothing says the
//! descriptor was a socket of the watched port (accepts and closes are seen
//! for every port): an accepted socket whose descriptor was closed with no
//! such change (the peer had reset it), and a `close()` that changes no
//! state and follows no `shutdown()`.

/// A map with a fast hash (the keys are the kernel's, not an attacker's
/// choice, and the maps are bounded).
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::net::SocketAddr;

use crate::model::call::{Call, CallKind, Comm, How};
use crate::model::kernel_change::state;
use crate::model::segment::Timestamp;
use crate::model::tcp::TcpState;
use crate::os::callpoints::{RawEvent, RawSample, Sys};

/// Entries kept in each map at most (sockets, descriptors, open syscalls,
/// accepts waiting for their socket, names): past it a map is emptied.
pub const CAP: usize = 1 << 16;

/// `MSG_PEEK`.
const PEEK: i64 = 2;

/// A socket of the watched port.
#[derive(Clone, Copy, Debug)]
struct Sock {
    local: SocketAddr,
    remote: SocketAddr,
    /// Descriptors known to refer to it.
    fds: u32,
    /// Reached CLOSED (kept while a descriptor still refers to it).
    closed: bool,
}

/// A `connect`, `close` or `shutdown` a thread is inside.
#[derive(Clone, Copy, Debug)]
struct Window {
    call: Sys,
    pid: u32,
    fd: i64,
    how: i64,
    ts: u64,
    /// The socket the call's own change revealed.
    sk: Option<u64>,
}

/// Works out calls from samples; see the module's documentation.
#[derive(Debug)]
pub struct Attributor {
    /// synack's own process: the built-in programs report their own calls.
    own: u32,
    socks: HashMap<u64, Sock>,
    windows: HashMap<u32, Window>,
    fds: HashMap<(u32, i64), u64>,
    /// Accepts waiting for their socket: (pid, descriptor) → when it returned.
    accepts: HashMap<(u32, i64), u64>,
    /// Process names from the kernel's own records (exec, rename, fork):
    /// right even when the process is gone before its calls are worked out.
    names: HashMap<u32, Comm>,
    /// Calls that could not be tied to their socket (see the module's doc).
    pub unattributed: u64,
}

impl Attributor {
    /// Leaves out the calls of process `own` (synack's, whose built-in
    /// programs report their own).
    #[must_use]
    pub fn new(own: u32) -> Attributor {
        Attributor {
            own,
            socks: HashMap::default(),
            windows: HashMap::default(),
            fds: HashMap::default(),
            accepts: HashMap::default(),
            names: HashMap::default(),
            unattributed: 0,
        }
    }

    /// Takes one sample (samples must come in time order) and appends the
    /// calls it completes to `out`; `name` gives the name of a process the
    /// kernel's records did not name (empty when it is gone).
    pub fn feed(&mut self, s: &RawSample, name: &mut dyn FnMut(u32) -> Comm, out: &mut Vec<Call>) {
        let mut names = std::mem::take(&mut self.names);
        // A name read from the caller is kept too: a new process with the
        // same pid comes with a fork record, which replaces it.
        let mut named = |pid: u32| {
            if let Some(n) = names.get(&pid) {
                return *n;
            }
            let n = name(pid);
            if !n.is_empty() && names.len() < CAP {
                names.insert(pid, n);
            }
            n
        };
        self.take(s, &mut named, out);
        self.names = names;
        match s.event {
            RawEvent::Comm { name } if s.pid == s.tid => self.name(s.pid, Some(name)),
            RawEvent::Fork { parent } if parent != s.pid => {
                let name = self.names.get(&parent).copied();
                self.name(s.pid, name);
            }
            _ => {}
        }
    }

    fn name(&mut self, pid: u32, name: Option<Comm>) {
        if self.names.len() >= CAP {
            self.names.clear();
        }
        match name {
            Some(n) => self.names.insert(pid, n),
            None => self.names.remove(&pid),
        };
    }

    fn take(&mut self, s: &RawSample, name: &mut dyn FnMut(u32) -> Comm, out: &mut Vec<Call>) {
        let ours = s.pid == self.own;
        match s.event {
            RawEvent::Change(c) => {
                let (Some(from), Some(to)) = (state(c.oldstate), state(c.newstate)) else {
                    return;
                };
                self.change(c.sock, c.local, c.remote, to);
                if ours {
                    return;
                }
                if (from, to) == (TcpState::Closed, TcpState::SynSent) {
                    let sk = c.sock;
                    if let Some(sock) = self.socks.get(&sk) {
                        out.push(self.call(s.ts, sk, sock, s.pid, name, CallKind::Connect));
                    }
                } else if closes(from, to) {
                    match self.windows.get_mut(&s.tid) {
                        Some(w) if matches!(w.call, Sys::Close | Sys::Shutdown) && w.sk.is_none() => {
                            w.sk = Some(c.sock);
                            let (pid, fd) = (w.pid, w.fd);
                            // Known at once: the socket is kept through its
                            // change to CLOSED within the same call.
                            self.learn(pid, fd, c.sock);
                        }
                        _ => self.unattributed += 1,
                    }
                }
            }
            RawEvent::Send { sk, ret } if !ours => self.io(s, sk, ret, CallKind::Send, name, out),
            RawEvent::Recv { sk, ret, flags } if !ours && flags & PEEK == 0 => {
                self.io(s, sk, ret, CallKind::Recv, name, out);
            }
            RawEvent::Enter { call, fd, how } if !ours => {
                if self.windows.len() >= CAP {
                    self.windows.clear();
                }
                self.windows.insert(s.tid, Window { call, pid: s.pid, fd, how, ts: s.ts, sk: None });
            }
            RawEvent::Exit { call: Sys::Accept, ret } if !ours => {
                // The descriptor is new: whatever it referred to was closed
                // without our seeing it.
                self.forget(s.pid, ret);
                if self.accepts.len() >= CAP {
                    self.accepts.clear();
                }
                self.accepts.insert((s.pid, ret), s.ts);
            }
            RawEvent::Exit { call, ret } if !ours => {
                let Some(w) = self.windows.remove(&s.tid).filter(|w| w.call == call) else {
                    return;
                };
                self.ended(&w, ret, name, out);
            }
            RawEvent::Dup { fd } if !ours => self.forget(s.pid, fd),
            _ => {}
        }
    }

    /// A state change: the socket's tuple, kept until it is closed and no
    /// known descriptor refers to it.
    fn change(&mut self, sk: u64, local: SocketAddr, remote: SocketAddr, to: TcpState) {
        if to == TcpState::Listen {
            return;
        }
        if to == TcpState::Closed {
            if let Some(sock) = self.socks.get_mut(&sk) {
                sock.closed = true;
                if sock.fds == 0 {
                    self.socks.remove(&sk);
                }
            }
            return;
        }
        if self.socks.len() >= CAP && !self.socks.contains_key(&sk) {
            self.socks.retain(|_, s| !s.closed);
            if self.socks.len() >= CAP {
                return;
            }
        }
        let sock = self.socks.entry(sk).or_insert(Sock { local, remote, fds: 0, closed: false });
        (sock.local, sock.remote, sock.closed) = (local, remote, false);
    }

    /// A send or receive on `sk`.
    fn io(
        &mut self,
        s: &RawSample,
        sk: u64,
        ret: i64,
        kind: CallKind,
        name: &mut dyn FnMut(u32) -> Comm,
        out: &mut Vec<Call>,
    ) {
        let Some(sock) = self.socks.get(&sk) else {
            return;
        };
        let mut call = self.call(s.ts, sk, sock, s.pid, name, kind);
        if ret >= 0 {
            call.bytes = Some(ret.cast_unsigned());
        } else {
            call.error = i32::try_from(-ret).ok();
        }
        out.push(call);
    }

    /// Descriptor `fd` of `pid` refers to `sk`.
    fn learn(&mut self, pid: u32, fd: i64, sk: u64) {
        if self.fds.get(&(pid, fd)) == Some(&sk) {
            return;
        }
        self.forget_fd(pid, fd);
        if self.fds.len() >= CAP {
            for sock in self.socks.values_mut() {
                sock.fds = 0;
            }
            self.fds.clear();
        }
        if let Some(sock) = self.socks.get_mut(&sk) {
            sock.fds += 1;
            self.fds.insert((pid, fd), sk);
        }
    }

    /// Descriptor `fd` of `pid` no longer refers to what it did.
    fn forget(&mut self, pid: u32, fd: i64) {
        self.forget_fd(pid, fd);
        self.accepts.remove(&(pid, fd));
    }

    fn forget_fd(&mut self, pid: u32, fd: i64) {
        if let Some(old) = self.fds.remove(&(pid, fd))
            && let Some(sock) = self.socks.get_mut(&old)
        {
            sock.fds = sock.fds.saturating_sub(1);
            if sock.closed && sock.fds == 0 {
                self.socks.remove(&old);
            }
        }
    }

    /// A close or shutdown returned `ret`.
    fn ended(&mut self, w: &Window, ret: i64, name: &mut dyn FnMut(u32) -> Comm, out: &mut Vec<Call>) {
        let key = (w.pid, w.fd);
        // The change made inside the call named its socket (learnt then);
        // else the descriptor's known socket.
        let Some(sk) = self.fds.get(&key).copied() else {
            if w.call == Sys::Close {
                // An accept of any port, or of this one closed with no
                // change: not known to be the watched port's, not counted.
                self.accepts.remove(&key);
            }
            return;
        };
        let Some(sock) = self.socks.get(&sk).copied() else {
            return;
        };
        if let Some(ts) = self.accepts.remove(&key) {
            out.push(self.call(ts, sk, &sock, w.pid, name, CallKind::Accept));
        }
        let kind = if w.call == Sys::Close { CallKind::Close } else { CallKind::Shutdown };
        let mut call = self.call(w.ts, sk, &sock, w.pid, name, kind);
        if kind == CallKind::Shutdown {
            call.how = How::from_arg(w.how);
        }
        if ret < 0 {
            call.error = i32::try_from(-ret).ok();
        }
        out.push(call);
        if w.call == Sys::Close {
            self.forget_fd(w.pid, w.fd);
        }
    }

    fn call(&self, ts: u64, sk: u64, sock: &Sock, pid: u32, name: &mut dyn FnMut(u32) -> Comm, kind: CallKind) -> Call {
        Call {
            ts: Timestamp(ts),
            sock: sk,
            local: sock.local,
            remote: sock.remote,
            pid,
            comm: name(pid),
            kind,
            bytes: None,
            how: None,
            error: None,
        }
    }

    /// Sockets, descriptors, open syscalls and waiting accepts held now.
    #[must_use]
    pub fn held(&self) -> usize {
        self.socks.len() + self.fds.len() + self.windows.len() + self.accepts.len() + self.names.len()
    }
}

/// Whether a change is one only `close()` or `shutdown()` of the socket
/// makes, in the calling task (RFC 9293 section 3.10.4, CLOSE call: the FIN
/// is queued in ESTABLISHED, SYN-RECEIVED and CLOSE-WAIT).
fn closes(from: TcpState, to: TcpState) -> bool {
    use TcpState::{CloseWait, Established, FinWait1, LastAck, SynReceived};
    matches!((from, to), (Established | SynReceived, FinWait1) | (CloseWait, LastAck))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::tracepoint::RawChange;

    // Kernel state numbers, as the tracepoint gives them.
    const ESTABLISHED: i32 = 1;
    const SYN_SENT: i32 = 2;
    const SYN_RECV: i32 = 3;
    const FIN_WAIT1: i32 = 4;
    const CLOSE: i32 = 7;
    const CLOSE_WAIT: i32 = 8;
    const LAST_ACK: i32 = 9;
    const LISTEN: i32 = 10;
    const SERVER: u32 = 100;
    const CLIENT: u32 = 200;
    const CSK: u64 = 0xc000;
    const SSK: u64 = 0x5000;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// A run of samples with rising times.
    struct Run {
        t: u64,
        samples: Vec<RawSample>,
    }

    impl Run {
        fn new() -> Run {
            Run { t: 1_000, samples: Vec::new() }
        }
        fn at(&mut self, pid: u32, tid: u32, event: RawEvent) -> &mut Run {
            self.t += 1_000;
            self.samples.push(RawSample { ts: self.t, pid, tid, event });
            self
        }
        fn change(&mut self, tid: u32, sk: u64, old: i32, new: i32) -> &mut Run {
            let (local, remote) = if sk == CSK {
                (a("127.0.0.1:40000"), a("127.0.0.1:8001"))
            } else {
                (a("127.0.0.1:8001"), a("127.0.0.1:40000"))
            };
            let local = if new == SYN_SENT { a("127.0.0.1:0") } else { local };
            self.at(
                tid,
                tid,
                RawEvent::Change(RawChange { ts: 0, sock: sk, local, remote, oldstate: old, newstate: new }),
            )
        }
        fn enter(&mut self, pid: u32, call: Sys, fd: i64, how: i64) -> &mut Run {
            self.at(pid, pid, RawEvent::Enter { call, fd, how })
        }
        fn exit(&mut self, pid: u32, call: Sys, ret: i64) -> &mut Run {
            self.at(pid, pid, RawEvent::Exit { call, ret })
        }
        fn calls(&self, own: u32) -> (Vec<Call>, u64) {
            let mut at = Attributor::new(own);
            let mut out = Vec::new();
            let mut name = |pid: u32| if pid == SERVER { Comm::new("server") } else { Comm::default() };
            for s in &self.samples {
                at.feed(s, &mut name, &mut out);
            }
            (out, at.unattributed)
        }
    }

    fn summary(calls: &[Call]) -> Vec<String> {
        calls
            .iter()
            .map(|c| {
                let mut s = format!("{} {} {} {}", c.pid, c.kind.name(), c.local.port(), c.remote.port());
                if let Some(b) = c.bytes {
                    s += &format!(" {b}");
                }
                if let Some(h) = c.how {
                    s += &format!(" {}", h.name());
                }
                if let Some(e) = c.error {
                    s += &format!(" e{e}");
                }
                s
            })
            .collect()
    }

    /// The tutorial's exchange, as the kernel reports it (the server
    /// shuts its side down first when `shutdown_first`).
    fn tutorial(r: &mut Run) {
        r.change(CLIENT, CSK, CLOSE, SYN_SENT)
            .change(CLIENT, CSK, SYN_SENT, ESTABLISHED)
            .change(CLIENT, SSK, LISTEN, SYN_RECV)
            .change(CLIENT, SSK, SYN_RECV, ESTABLISHED)
            .exit(SERVER, Sys::Accept, 4)
            .at(CLIENT, CLIENT, RawEvent::Send { sk: CSK, ret: 10 })
            .at(SERVER, SERVER, RawEvent::Recv { sk: SSK, ret: 10, flags: 0 })
            .at(SERVER, SERVER, RawEvent::Send { sk: SSK, ret: 10 })
            .at(CLIENT, CLIENT, RawEvent::Recv { sk: CSK, ret: 10, flags: 0 });
    }

    #[test]
    fn the_tutorials_calls_come_out_per_side_in_order() {
        let mut r = Run::new();
        tutorial(&mut r);
        r.enter(CLIENT, Sys::Close, 3, 0)
            .change(CLIENT, CSK, ESTABLISHED, FIN_WAIT1)
            // The server's change, made in the client's task: not a call.
            .change(CLIENT, SSK, ESTABLISHED, CLOSE_WAIT)
            .exit(CLIENT, Sys::Close, 0)
            .at(SERVER, SERVER, RawEvent::Recv { sk: SSK, ret: 0, flags: 0 })
            .enter(SERVER, Sys::Close, 4, 0)
            .change(SERVER, SSK, CLOSE_WAIT, LAST_ACK)
            .change(SERVER, CSK, 5, 6)
            .change(SERVER, SSK, LAST_ACK, CLOSE)
            .exit(SERVER, Sys::Close, 0);
        let (calls, unattributed) = r.calls(0);
        assert_eq!(
            summary(&calls),
            [
                "200 connect 0 8001",
                "200 send 40000 8001 10",
                "100 recv 8001 40000 10",
                "100 send 8001 40000 10",
                "200 recv 40000 8001 10",
                "200 close 40000 8001",
                "100 recv 8001 40000 0",
                "100 accept 8001 40000",
                "100 close 8001 40000",
            ]
        );
        assert_eq!(unattributed, 0);
        assert_eq!(calls[0].sock, CSK, "the connect is tied to its socket by its address");
        let accept = calls.iter().find(|c| c.kind == CallKind::Accept).unwrap();
        assert_eq!(accept.ts.0, r.samples[4].ts, "accept keeps the time it returned");
        assert_eq!(accept.comm.as_str(), "server");
        assert!(calls[0].comm.is_empty(), "a process whose name was not read has none");
        let close = calls.iter().find(|c| c.kind == CallKind::Close).unwrap();
        assert_eq!(close.ts.0, r.samples[9].ts, "close is stamped when it was called");
    }

    #[test]
    fn shutdown_is_told_from_close_and_a_close_after_it_needs_no_change() {
        let mut r = Run::new();
        tutorial(&mut r);
        r.enter(CLIENT, Sys::Shutdown, 3, 1)
            .change(CLIENT, CSK, ESTABLISHED, FIN_WAIT1)
            .exit(CLIENT, Sys::Shutdown, 0)
            .change(CLIENT, CSK, FIN_WAIT1, 5)
            // The server closes: its FIN takes the client to TIME-WAIT (the
            // full socket to CLOSED) in the server's task.
            .enter(SERVER, Sys::Close, 4, 0)
            .change(SERVER, SSK, CLOSE_WAIT, LAST_ACK)
            .change(SERVER, CSK, 5, CLOSE)
            .exit(SERVER, Sys::Close, 0)
            // The client's close changes nothing: known from its shutdown.
            .enter(CLIENT, Sys::Close, 3, 0)
            .exit(CLIENT, Sys::Close, 0);
        let (calls, unattributed) = r.calls(0);
        let tail: Vec<_> = summary(&calls).into_iter().skip(5).collect();
        assert_eq!(
            tail,
            ["200 shutdown 40000 8001 write", "100 accept 8001 40000", "100 close 8001 40000", "200 close 40000 8001"]
        );
        assert_eq!(unattributed, 0);
    }

    #[test]
    fn what_cannot_be_tied_is_counted_never_guessed() {
        let mut r = Run::new();
        tutorial(&mut r);
        // The server exits without close(): the change comes outside any
        // close; the accepted descriptor is never closed.
        r.change(SERVER, SSK, ESTABLISHED, FIN_WAIT1)
            // The client closes a file descriptor: nothing.
            .enter(CLIENT, Sys::Close, 7, 0)
            .exit(CLIENT, Sys::Close, 0);
        let (calls, unattributed) = r.calls(0);
        assert!(calls.iter().all(|c| !matches!(c.kind, CallKind::Close | CallKind::Accept)), "{:?}", summary(&calls));
        assert_eq!(unattributed, 1);

        // An accepted socket closed with no change (a reset had closed it):
        // not shown, and not counted (as for another port's accept).
        let mut r = Run::new();
        tutorial(&mut r);
        r.change(CLIENT, SSK, ESTABLISHED, CLOSE).enter(SERVER, Sys::Close, 4, 0).exit(SERVER, Sys::Close, 0);
        let (calls, unattributed) = r.calls(0);
        assert!(calls.iter().all(|c| c.pid != SERVER || c.kind != CallKind::Accept));
        assert_eq!(unattributed, 0);
        // Another port's server: its accepts and closes come and go unseen.
        let mut r = Run::new();
        for _ in 0..3 {
            r.exit(SERVER + 9, Sys::Accept, 5).enter(SERVER + 9, Sys::Close, 5, 0).exit(SERVER + 9, Sys::Close, 0);
        }
        r.exit(SERVER + 9, Sys::Accept, 5).exit(SERVER + 9, Sys::Accept, 6);
        assert_eq!(r.calls(0), (vec![], 0));

        // A descriptor replaced by dup2 forgets its socket.
        let mut r = Run::new();
        tutorial(&mut r);
        r.enter(CLIENT, Sys::Shutdown, 3, 1).change(CLIENT, CSK, ESTABLISHED, FIN_WAIT1).exit(CLIENT, Sys::Shutdown, 0);
        let known = r.samples.len();
        r.enter(CLIENT, Sys::Close, 3, 0).exit(CLIENT, Sys::Close, 0);
        let (calls, _) = r.calls(0);
        assert_eq!(calls.last().map(|c| c.kind), Some(CallKind::Close), "known from the shutdown");
        r.samples.truncate(known);
        r.at(CLIENT, CLIENT, RawEvent::Dup { fd: 3 }).enter(CLIENT, Sys::Close, 3, 0).exit(CLIENT, Sys::Close, 0);
        let (calls, _) = r.calls(0);
        assert_eq!(calls.last().map(|c| c.kind), Some(CallKind::Shutdown), "{:?}", summary(&calls));
    }

    #[test]
    fn errors_end_of_stream_peeks_and_our_own_calls() {
        let mut r = Run::new();
        tutorial(&mut r);
        r.at(SERVER, SERVER, RawEvent::Recv { sk: SSK, ret: -104, flags: 0 })
            .at(SERVER, SERVER, RawEvent::Recv { sk: SSK, ret: 5, flags: PEEK })
            .at(SERVER, SERVER, RawEvent::Recv { sk: SSK, ret: 0, flags: 0 })
            .at(SERVER, SERVER, RawEvent::Send { sk: 0xdead, ret: 3 });
        let (calls, _) = r.calls(0);
        let tail: Vec<_> = summary(&calls).into_iter().skip(5).collect();
        assert_eq!(
            tail,
            ["100 recv 8001 40000 e104", "100 recv 8001 40000 0"],
            "a peek and another socket are left out"
        );
        let (calls, _) = r.calls(SERVER);
        assert!(calls.iter().all(|c| c.pid == CLIENT), "synack's own process reports its own calls");
    }

    #[test]
    fn a_thread_of_another_process_and_a_failed_shutdown() {
        // The server's threads share descriptors: the pid keys them.
        let mut r = Run::new();
        tutorial(&mut r);
        r.at(SERVER, SERVER + 1, RawEvent::Enter { call: Sys::Shutdown, fd: 4, how: 2 })
            .change(SERVER + 1, SSK, ESTABLISHED, FIN_WAIT1)
            .at(SERVER, SERVER + 1, RawEvent::Exit { call: Sys::Shutdown, ret: 0 })
            .at(SERVER, SERVER, RawEvent::Enter { call: Sys::Shutdown, fd: 4, how: 0 })
            .at(SERVER, SERVER, RawEvent::Exit { call: Sys::Shutdown, ret: -107 });
        let (calls, unattributed) = r.calls(0);
        let tail: Vec<_> = summary(&calls).into_iter().skip(5).collect();
        assert_eq!(
            tail,
            ["100 accept 8001 40000", "100 shutdown 8001 40000 both", "100 shutdown 8001 40000 read e107"]
        );
        assert_eq!(unattributed, 0);
    }

    #[test]
    fn names_come_from_the_kernels_records_and_forks_inherit_them() {
        let mut r = Run::new();
        r.at(CLIENT, CLIENT, RawEvent::Comm { name: Comm::new("python3") })
            .at(CLIENT, CLIENT + 1, RawEvent::Comm { name: Comm::new("a-thread") })
            .at(SERVER + 5, SERVER + 5, RawEvent::Comm { name: Comm::new("old") })
            .at(SERVER, SERVER, RawEvent::Fork { parent: CLIENT });
        tutorial(&mut r);
        let (calls, _) = r.calls(0);
        assert!(calls.iter().all(|c| c.comm.as_str() == "python3"), "{calls:?}");
        // Without a record, the caller's name (here: none for the client).
        let mut r = Run::new();
        tutorial(&mut r);
        let (calls, _) = r.calls(0);
        assert!(calls.iter().all(|c| (c.pid == SERVER) != c.comm.is_empty()));
    }

    #[test]
    fn maps_stay_bounded() {
        let mut at = Attributor::new(0);
        let mut out = Vec::new();
        let mut name = |_| Comm::default();
        for i in 0..(CAP as u64 + 10) {
            let s = RawSample { ts: i, pid: 7, tid: 7, event: RawEvent::Exit { call: Sys::Accept, ret: i as i64 } };
            at.feed(&s, &mut name, &mut out);
            let ch = RawChange {
                ts: i,
                sock: i,
                local: a("127.0.0.1:8001"),
                remote: a("127.0.0.1:1"),
                oldstate: SYN_RECV,
                newstate: ESTABLISHED,
            };
            at.feed(&RawSample { ts: i, pid: 7, tid: 7, event: RawEvent::Change(ch) }, &mut name, &mut out);
        }
        assert!(at.held() <= 2 * CAP, "{}", at.held());
    }
}
