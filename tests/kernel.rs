//! The kernel view's model: changes routed to their connection (before its
//! first segment, before the socket had its port, on a reused tuple) and
//! compared with the wire's transitions, in order and at the same instant.

mod support;

use support::{CLIENT, SERVER, Talk, addr, fin_ack, syn_ack};
use synack::model::kernel::{self, Change};
use synack::model::segment::{Flags, Timestamp};
use synack::model::tcp::TcpState::{self, *};

const SOCK_C: u64 = 0xc1;
const SOCK_S: u64 = 0x51;

/// A change of the client's (`client`) or the server's socket, `micros`
/// after the template's time plus `t`.
fn change(t: &Talk, client: bool, micros: u64, from: TcpState, to: TcpState) -> Change {
    let ts = Timestamp(support::template().ts.0 + t.t + micros * 1_000);
    let (local, remote, sock) =
        if client { (addr(CLIENT), addr(SERVER), SOCK_C) } else { (addr(SERVER), addr(CLIENT), SOCK_S) };
    Change { ts, sock, local, remote, from, to }
}

/// A handshake, with the kernel view on from before it.
fn watched_handshake() -> Talk {
    let mut t = Talk::new();
    t.tracker.watch_kernel();
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    t
}

/// A four-way close with the kernel's changes at the instants Linux makes
/// them: before the SYN (port not chosen yet), the server's socket at the
/// handshake's ACK, the TIME-WAIT handover as CLOSED.
#[test]
fn every_change_lands_and_agrees() {
    let mut t = Talk::new();
    t.tracker.watch_kernel();
    let mut first = change(&t, true, 1, Closed, SynSent);
    first.local = std::net::SocketAddr::new(first.local.ip(), 0);
    t.tracker.kernel(first);
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.tracker.kernel(change(&t, true, 1, SynSent, Established));
    t.c(Flags::ACK, 1, 1, b"");
    t.tracker.kernel(change(&t, false, 1, Listen, SynReceived));
    t.tracker.kernel(change(&t, false, 2, SynReceived, Established));
    t.tracker.kernel(change(&t, true, 5, Established, FinWait1));
    t.c(fin_ack(), 1, 1, b"");
    t.tracker.kernel(change(&t, false, 1, Established, CloseWait));
    t.s(Flags::ACK, 1, 2, b"");
    t.tracker.kernel(change(&t, true, 1, FinWait1, FinWait2));
    t.tracker.kernel(change(&t, false, 5, CloseWait, LastAck));
    t.s(fin_ack(), 1, 2, b"");
    t.tracker.kernel(change(&t, true, 1, FinWait2, Closed));
    t.c(Flags::ACK, 2, 2, b"");
    t.tracker.kernel(change(&t, false, 1, LastAck, Closed));
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let conn = t.conn();
    assert_eq!(conn.kernel.len(), 10, "{:?}", conn.kernel);
    let verdicts = kernel::compare(conn);
    assert!(verdicts.iter().all(kernel::Verdict::agrees), "{verdicts:#?}");
    assert_eq!(kernel::agreement(conn), (10, 10));
    // The client's CLOSED is its TIME-WAIT handover, on the row of the FIN.
    let handover = verdicts.iter().find(|v| v.transition.from == FinWait2).unwrap();
    assert_eq!(handover.as_wire, Some((FinWait2, TimeWait)));
    assert_eq!(handover.row, Some(5));
    assert!(kernel::describe(conn, handover).contains("TIME-WAIT mini-socket"));
}

/// The server's socket becomes ESTABLISHED 1.5 s after the wire's ACK (the
/// ACK was dropped: a full accept queue): same transition, not the same
/// instant, flagged; a change the wire cannot show is flagged too.
#[test]
fn disagreements_are_flagged_and_explained() {
    let mut t = watched_handshake();
    t.tracker.kernel(change(&t, false, 1_500_000, Listen, SynReceived));
    t.tracker.kernel(change(&t, false, 1_500_001, SynReceived, Established));
    t.tracker.kernel(change(&t, false, 1_600_000, Established, Closed));
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let conn = t.conn();
    let verdicts = kernel::compare(conn);
    assert_eq!(kernel::agreement(conn), (0, 3), "{verdicts:#?}");
    assert_eq!(verdicts[1].apart, Some(2));
    let said = kernel::describe(conn, &verdicts[1]);
    assert!(said.contains("the wire shows it on row 3") && said.contains("earlier"), "{said}");
    assert!(kernel::describe(conn, &verdicts[2]).contains("the wire does not show this transition"));
}

/// A new connection on the tuple of one that ended gets its own changes,
/// even when they arrive before its SYN is tracked.
#[test]
fn a_reused_tuple_keeps_changes_apart() {
    let mut t = watched_handshake();
    t.c(Flags::RST | Flags::ACK, 1, 1, b"");
    let first = t.last.id;
    t.wait_ms(50);
    // The next connection's changes come before its segments.
    t.tracker.kernel(change(&t, true, 5, SynSent, Established));
    t.c(Flags::SYN, 100, 0, b"");
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert!(t.last.started);
    assert_ne!(t.last.id, first);
    assert!(t.tracker.get(first).unwrap().kernel.is_empty());
    assert_eq!(t.conn().kernel.len(), 1);
}

/// With the kernel view, TIME-WAIT counts down on the kernel's own timer
/// and ends when the kernel drops the mini-socket, not on synack's guess.
#[test]
fn time_wait_follows_the_kernels_timer() {
    use synack::model::tracker::Role;
    let mut t = watched_handshake();
    t.c(fin_ack(), 1, 1, b"");
    t.s(fin_ack(), 1, 2, b"");
    t.c(Flags::ACK, 2, 2, b"");
    let end = Timestamp(support::template().ts.0 + t.t);
    let sixty = std::time::Duration::from_secs(60);
    // synack's own count: 60 s from the client's TIME-WAIT.
    let soon = Timestamp(end.0 + 1_000_000_000);
    assert_eq!(t.conn().state_at(Role::Client, soon, sixty).0, TimeWait);
    // The kernel says 30 s are left.
    let deadline = Timestamp(soon.0 + 30_000_000_000);
    t.tracker.kernel_timers(&[(addr(CLIENT), addr(SERVER), TimeWait, deadline)]);
    let (state, left) = t.conn().state_at(Role::Client, soon, sixty);
    assert_eq!((state, left), (TimeWait, Some(30_000_000_000)));
    assert_eq!(t.conn().state_at(Role::Client, Timestamp(deadline.0 + 1), sixty).0, Closed);
    // The kernel drops it: CLOSED from then on, whatever the timers say.
    let gone = Change { ts: soon, sock: 0, local: addr(CLIENT), remote: addr(SERVER), from: TimeWait, to: Closed };
    t.tracker.kernel(gone);
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(t.conn().state_at(Role::Client, soon, sixty).0, Closed);
    let v = kernel::compare(t.conn());
    let timer = v.iter().find(|v| v.transition.timer).unwrap();
    assert!(timer.agrees());
    assert!(kernel::describe(t.conn(), timer).contains("its timer ran out"));
}

/// sock_diag (no privilege needed) lists a TIME-WAIT socket with about 60 s
/// left on its timer, as `ss -tan state time-wait -o` does.
#[test]
fn sock_diag_lists_time_wait_with_its_timer() {
    use std::io::Read as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let client_addr = client.local_addr().unwrap();
    drop(client); // the client closes first: it will hold TIME-WAIT
    let mut buf = [0u8; 1];
    assert_eq!(server.read(&mut buf).unwrap(), 0, "the client's FIN");
    drop(server);
    let mut diag = synack::os::diag::Diag::open().unwrap();
    // The client's TIME-WAIT appears once the server's FIN is processed:
    // ask until it is listed (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let tw = loop {
        let listed = diag.mini_sockets(port).unwrap();
        if let Some(m) = listed.into_iter().find(|m| m.local == client_addr) {
            break m;
        }
        assert!(std::time::Instant::now() < deadline, "no TIME-WAIT socket for {client_addr}");
        std::thread::yield_now();
    };
    assert_eq!(tw.state, 6, "TIME_WAIT");
    assert_eq!(tw.remote.port(), port);
    assert!(tw.left > std::time::Duration::from_secs(55) && tw.left <= std::time::Duration::from_secs(60), "{tw:?}");
}

/// The sockets `ss -tanH FILTER` lists: (local, peer, state), sorted.
fn ss(filter: &str) -> Vec<(String, String, String)> {
    let out = std::process::Command::new("ss").args(["-tanH", filter]).output().expect("needs ss (iproute2)");
    assert!(out.status.success(), "ss {filter}: {}", String::from_utf8_lossy(&out.stderr));
    let mut rows: Vec<_> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[3].to_string(), f[4].to_string(), f[0].to_string())
        })
        .collect();
    rows.sort();
    rows
}

/// The kernel filters the dump by port (the filter program), and what it
/// sends is what `ss` lists for the same port: a listener on port 0 with
/// three connections (both ends of each), while another listener with a
/// connection of its own is left out. (A TIME-WAIT socket another process
/// left on the port, as a client's, may be listed too: by both.)
#[test]
fn sock_diag_lists_the_ports_sockets_as_ss_does() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    let _other_conn = std::net::TcpStream::connect(other.local_addr().unwrap()).unwrap();
    let _other_accepted = other.accept().unwrap();
    let mut kept = Vec::new();
    for _ in 0..3 {
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        kept.push((client, server));
    }
    // Kernel state numbers as ss names them.
    let name = |state: u8| match state {
        1 => "ESTAB",
        2 => "SYN-SENT",
        3 | 12 => "SYN-RECV",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        other => panic!("a socket in state {other}"),
    };
    let mut ours: Vec<_> = synack::os::diag::Diag::open()
        .unwrap()
        .all_sockets(port)
        .unwrap()
        .iter()
        .map(|m| {
            let peer = if m.remote.port() == 0 { "0.0.0.0:*".to_string() } else { m.remote.to_string() };
            (m.local.to_string(), peer, name(m.state).to_string())
        })
        .collect();
    ours.sort();
    assert_eq!(ours, ss(&format!("sport = :{port} or dport = :{port}")));
    // Ours: the listener, and both ends of each connection, established.
    let mine = |(local, peer, _): &&(String, String, String)| {
        kept.iter().any(|(c, s)| {
            let (c, s) = (c.local_addr().unwrap().to_string(), s.local_addr().unwrap().to_string());
            (*local == c && *peer == s) || (*local == s && *peer == c)
        })
    };
    let established: Vec<_> = ours.iter().filter(mine).collect();
    assert_eq!(established.len(), 2 * 3, "{ours:?}");
    assert!(established.iter().all(|(.., state)| state == "ESTAB"));
    assert!(ours.contains(&(format!("127.0.0.1:{port}"), "0.0.0.0:*".to_string(), "LISTEN".to_string())));
    let other_end = format!(":{other_port}");
    assert!(!ours.iter().any(|(l, p, _)| l.ends_with(&other_end) || p.ends_with(&other_end)), "{ours:?}");
    // `ss 'sport = :P'`: the listener and the server's ends only.
    let server_side: Vec<_> = ours.iter().filter(|(local, ..)| local.ends_with(&format!(":{port}"))).cloned().collect();
    assert_eq!(server_side, ss(&format!("sport = :{port}")));
}

/// The tracepoint's rings as `trace` reads them: each CPU's changes in its
/// ring once published, read in batches between segments.
struct Rings {
    t: Talk,
    /// Per CPU: (when published, the change), in the ring's order.
    rings: [Vec<(u64, synack::os::tracepoint::RawChange)>; 2],
    /// Where each ring's reader is.
    read: [usize; 2],
    batches: usize,
}

/// Kernel state numbers (`include/net/tcp_states.h`).
const ESTABLISHED: i32 = 1;
const SYN_SENT: i32 = 2;
const SYN_RECV: i32 = 3;
const FIN_WAIT1: i32 = 4;
const FIN_WAIT2: i32 = 5;
const CLOSE: i32 = 7;
const CLOSE_WAIT: i32 = 8;
const LAST_ACK: i32 = 9;
const LISTEN: i32 = 10;

impl Rings {
    fn now(&self) -> u64 {
        support::template().ts.0 + self.t.t
    }

    /// A change `micros` from now, by the client's socket (on CPU 0) or the
    /// server's (CPU 1), published `late` microseconds after it was made.
    fn change(&mut self, client: bool, micros: u64, old: i32, new: i32, late: u64) {
        let ts = self.now() + micros * 1_000;
        let (mut local, remote, sock) =
            if client { (addr(CLIENT), addr(SERVER), SOCK_C) } else { (addr(SERVER), addr(CLIENT), SOCK_S) };
        if new == SYN_SENT {
            local.set_port(0); // before the client's port is chosen
        }
        let c = synack::os::tracepoint::RawChange { ts, sock, local, remote, oldstate: old, newstate: new };
        self.rings[usize::from(!client)].push((ts + late * 1_000, c));
    }

    /// A read of both rings, one after the other, at `at`: what each holds
    /// published by then, put in time order and handed to the tracker.
    fn read_at(&mut self, at: u64) {
        let mut batch = Vec::new();
        for (ring, read) in self.rings.iter().zip(self.read.iter_mut()) {
            while let Some((_, c)) = ring.get(*read).filter(|(published, _)| *published <= at) {
                batch.push(*c);
                *read += 1;
            }
        }
        if !batch.is_empty() {
            self.batches += 1;
        }
        let mut changes = Vec::new();
        synack::capture::kernel::in_time_order(&mut batch, &mut changes);
        assert!(changes.windows(2).all(|w| w[0].ts <= w[1].ts), "a read goes out in time order");
        for c in changes {
            self.t.tracker.kernel(c);
        }
    }

    /// A segment: the rings are read first, as `trace` reads them before the
    /// segments captured after the read (10 us on, here).
    fn seg(&mut self, client: bool, flags: Flags, seq: u32, ack: u32) {
        let at = self.now() + 10_000;
        self.read_at(at);
        if client {
            self.t.c(flags, seq, ack, b"");
        } else {
            self.t.s(flags, seq, ack, b"");
        }
    }

    /// A segment of another connection (a SYN from another client port), as
    /// the load's other connections send between any two of this one's.
    fn other(&mut self) {
        let at = self.now() + 10_000;
        self.read_at(at);
        self.t.t += 10_000;
        let mut seg = support::template();
        seg.ts = Timestamp(at);
        seg.src.set_port(seg.src.port() + 1);
        seg.flags = Flags::SYN;
        self.t.tracker.push(&seg);
    }

    /// One connection, closed by the client, with the kernel's changes at
    /// the instants Linux makes them; the client's FIN-WAIT-2 is published
    /// `late` microseconds after it was made.
    fn connection(&mut self, late: u64) -> synack::model::tracker::ConnId {
        self.change(true, 1, CLOSE, SYN_SENT, 0);
        self.seg(true, Flags::SYN, 0, 0);
        let id = self.t.last.id;
        self.seg(false, syn_ack(), 0, 1);
        self.change(true, 1, SYN_SENT, ESTABLISHED, 0);
        self.seg(true, Flags::ACK, 1, 1);
        self.change(false, 1, LISTEN, SYN_RECV, 0);
        self.change(false, 2, SYN_RECV, ESTABLISHED, 0);
        self.change(true, 5, ESTABLISHED, FIN_WAIT1, 0);
        self.seg(true, fin_ack(), 1, 1);
        self.change(false, 1, ESTABLISHED, CLOSE_WAIT, 0);
        self.seg(false, Flags::ACK, 1, 2);
        self.change(true, 1, FIN_WAIT1, FIN_WAIT2, late);
        self.change(false, 5, CLOSE_WAIT, LAST_ACK, 0);
        self.seg(false, fin_ack(), 1, 2);
        self.change(true, 1, FIN_WAIT2, CLOSE, 0);
        self.seg(true, Flags::ACK, 2, 2);
        self.change(false, 1, LAST_ACK, CLOSE, 0);
        id
    }
}

/// The rings are read in batches, each CPU's ring after the other's: a
/// change the client's CPU published just after a read passed its ring
/// comes with the next read, behind later changes of the server's CPU.
/// Every change still lands on its connection, in time order, and agrees
/// with the wire, also when the tuple is reused 20 us after the close.
#[test]
fn changes_read_in_batches_land_in_time_order() {
    let mut r = Rings { t: Talk::new(), rings: [Vec::new(), Vec::new()], read: [0, 0], batches: 0 };
    r.t.tracker.watch_kernel();
    // Published 8 us late: after the read before the server's FIN (2 us
    // after the change), before the next.
    let first = r.connection(8);
    // The tuple is reused at once; another connection's segment comes
    // between (the tracker attaches a change once a later segment is in).
    r.other();
    let second = r.connection(0);
    r.read_at(u64::MAX);
    r.t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_ne!(first, second, "the tuple was reused");
    assert!(r.batches >= 12, "read in batches: {}", r.batches);
    for id in [first, second] {
        let conn = r.t.tracker.get(id).unwrap();
        assert_eq!(conn.kernel.len(), 10, "#{id}: {:?}", conn.kernel);
        assert!(conn.kernel.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert_eq!(kernel::agreement(conn), (10, 10), "#{id}: {:#?}", kernel::compare(conn));
    }
    // The late change came after the server's CLOSE-WAIT -> LAST-ACK, made after it.
    let late = r.rings[0].iter().find(|(p, c)| c.newstate == FIN_WAIT2 && *p > c.ts).unwrap();
    let after = r.rings[1].iter().find(|(_, c)| c.newstate == LAST_ACK).unwrap();
    assert!(late.1.ts < after.1.ts && late.0 > after.0);
}

/// A segment at `micros` from the template's time, from `client` (a port of
/// 127.0.0.1) to SERVER or back.
fn at(micros: u64, client: u16, to_server: bool, flags: Flags, seq: u32, ack: u32) -> synack::model::segment::Segment {
    let mut seg = support::template();
    seg.ts = Timestamp(seg.ts.0 + micros * 1_000);
    seg.src.set_port(client);
    if !to_server {
        std::mem::swap(&mut seg.src, &mut seg.dst);
    }
    seg.flags = flags;
    seg.seq = synack::model::seq::SeqNum(seq);
    seg.ack = synack::model::seq::SeqNum(if flags.ack() { ack } else { 0 });
    seg
}

/// The dashboard's word to the kernel thread: a TIME-WAIT countdown is on
/// screen while a connection the list shows (or the one the ladder shows)
/// waits in TIME-WAIT; not before the close, not once the wait is over,
/// and not when the waiting connection has scrolled out of the list.
#[test]
fn a_countdown_is_on_screen_only_while_a_shown_connection_waits() {
    use synack::tui::app::{App, Msg, Source};
    use synack::tui::ui::countdown_shown;
    let pipeline = synack::pipeline::Pipeline::new(Some(8001), synack::model::tracker::Limits::both(100));
    let mut app = App::new(pipeline, Source::Live { interface: "lo".into(), port: 8001 }, false);
    app.update(Msg::Resize(120, 40));
    let push = |app: &mut App, s| {
        app.update(Msg::Decoded(Ok(Some(s))));
    };
    assert!(!countdown_shown(&app), "no connection");
    let (c, s) = (1000, 5000);
    push(&mut app, at(0, 40000, true, Flags::SYN, c, 0));
    push(&mut app, at(10, 40000, false, syn_ack(), s, c + 1));
    push(&mut app, at(20, 40000, true, Flags::ACK, c + 1, s + 1));
    app.now = Timestamp(support::template().ts.0 + 30_000);
    assert!(!countdown_shown(&app), "an open connection");
    // The client closes first: it waits in TIME-WAIT after the last ACK.
    push(&mut app, at(30, 40000, true, fin_ack(), c + 1, s + 1));
    push(&mut app, at(40, 40000, false, fin_ack(), s + 1, c + 2));
    push(&mut app, at(50, 40000, true, Flags::ACK, c + 2, s + 2));
    app.now = Timestamp(support::template().ts.0 + 1_000_000_000);
    assert!(countdown_shown(&app), "the client waits in TIME-WAIT");
    let over = app.now.0 + app.time_wait.as_nanos() as u64;
    app.now = Timestamp(over);
    assert!(!countdown_shown(&app), "the wait is over");
    // Waiting again, then scrolled out: twelve newer open connections fill
    // the list (eight rows at this size), the newest on the ladder.
    app.now = Timestamp(support::template().ts.0 + 1_000_000_000);
    for k in 0..12u16 {
        let t = 100 + u64::from(k) * 30;
        push(&mut app, at(t, 41000 + k, true, Flags::SYN, c, 0));
        push(&mut app, at(t + 10, 41000 + k, false, syn_ack(), s, c + 1));
        push(&mut app, at(t + 20, 41000 + k, true, Flags::ACK, c + 1, s + 1));
    }
    assert!(!countdown_shown(&app), "the waiting connection is off screen");
}
