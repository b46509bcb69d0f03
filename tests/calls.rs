//! Socket calls in the model: routed to their connection like the kernel's
//! changes (held until the segments up to their time are tracked, before
//! the connection's first segment, before the socket had its port, on a
//! reused tuple), kept in time order and bounded, and the accept queue's
//! wait measured from them.

mod support;

use support::{CLIENT, SERVER, Talk, addr, fin_ack, syn_ack};
use synack::model::call::{Call, CallKind, Comm};
use synack::model::connection::{AcceptFrom, CALLS_FIRST, CALLS_LAST};
use synack::model::kernel::Change;
use synack::model::segment::{Flags, Timestamp};
use synack::model::tcp::TcpState;
use synack::model::tracker::Role;

/// A call of the client's (`client`) or the server's program, `micros`
/// after the template's time plus `t`.
fn call(t: &Talk, client: bool, micros: i64, kind: CallKind) -> Call {
    let ts = Timestamp((support::template().ts.0 + t.t).saturating_add_signed(micros * 1_000));
    let (local, remote, pid, name) =
        if client { (addr(CLIENT), addr(SERVER), 100, "client") } else { (addr(SERVER), addr(CLIENT), 200, "server") };
    Call { ts, sock: 0, local, remote, pid, comm: Comm::new(name), kind, bytes: None, how: None, error: None }
}

fn kinds(t: &Talk) -> Vec<(Role, CallKind)> {
    t.conn().calls.iter().map(|c| (c.side, c.kind)).collect()
}

/// The tutorial's exchange: connect before the SYN, accept after the
/// handshake, send/recv, close before each FIN; every call lands on its
/// side, in time order, whatever order they were reported in.
#[test]
fn the_tutorials_calls_land_on_their_sides_in_time_order() {
    let mut t = Talk::new();
    t.tracker.call(call(&t, true, 5, CallKind::Connect));
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    t.tracker.call(Call { bytes: Some(10), ..call(&t, true, 2, CallKind::Send) });
    t.tracker.call(call(&t, false, 1, CallKind::Accept));
    t.c(support::psh_ack(), 1, 1, b"helloworld");
    t.tracker.call(Call { bytes: Some(10), ..call(&t, false, 3, CallKind::Recv) });
    t.tracker.call(call(&t, true, 5, CallKind::Close));
    t.s(Flags::ACK, 1, 11, b"");
    t.c(fin_ack(), 11, 1, b"");
    t.tracker.call(Call { bytes: Some(0), ..call(&t, false, 1, CallKind::Recv) });
    t.tracker.call(call(&t, false, 2, CallKind::Close));
    t.s(fin_ack(), 1, 12, b"");
    t.c(Flags::ACK, 12, 2, b"");
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    use CallKind::*;
    use Role::*;
    assert_eq!(
        kinds(&t),
        [
            (Client, Connect),
            (Server, Accept),
            (Client, Send),
            (Server, Recv),
            (Client, Close),
            (Server, Recv),
            (Server, Close)
        ]
    );
    assert_eq!(t.conn().calls[0].caller(), "client[100]");
    assert_eq!(t.tracker.calls_pending(), (0, 0));
}

/// A call made before its socket had a port (local port 0) waits for the
/// socket's next report, a call or a kernel change, and takes its tuple.
#[test]
fn a_call_before_the_port_waits_for_its_socket() {
    let mut t = Talk::new();
    let unbound = std::net::SocketAddr::new(addr(CLIENT).ip(), 0);
    t.tracker.call(Call { sock: 7, local: unbound, ..call(&t, true, 1, CallKind::Connect) });
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert!(t.conn().calls.is_empty());
    assert_eq!(t.tracker.calls_pending().0, 1);
    t.tracker.call(Call { sock: 7, bytes: Some(3), ..call(&t, true, 1, CallKind::Send) });
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(kinds(&t), [(Role::Client, CallKind::Connect), (Role::Client, CallKind::Send)]);

    // The same through a kernel change of that socket.
    let mut t = Talk::new();
    t.tracker.watch_kernel();
    t.tracker.call(Call { sock: 9, local: unbound, ..call(&t, true, 1, CallKind::Connect) });
    t.c(Flags::SYN, 0, 0, b"");
    let change = Change {
        ts: Timestamp(support::template().ts.0 + t.t + 1_000),
        sock: 9,
        local: addr(CLIENT),
        remote: addr(SERVER),
        from: TcpState::SynSent,
        to: TcpState::Established,
    };
    t.s(syn_ack(), 0, 1, b"");
    t.tracker.kernel(change);
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(kinds(&t), [(Role::Client, CallKind::Connect)]);
    assert_eq!(t.conn().kernel.len(), 1);
}

/// A socket's kernel address reused by the next socket: a report of the old
/// socket that comes late (an accept, a call held back) does not name the
/// new socket's reports made after it, still waiting for their port.
#[test]
fn a_late_report_of_a_reused_socket_address_names_only_earlier_reports() {
    let mut t = Talk::new();
    t.tracker.watch_kernel();
    let unbound = std::net::SocketAddr::new(addr(CLIENT).ip(), 0);
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    let close = call(&t, true, -1, CallKind::Close);
    // The next socket at the same address: CLOSED -> SYN-SENT before its
    // port, routed before the old socket's close() (made earlier) arrives.
    let next = Change {
        ts: Timestamp(close.ts.0 + 2_000),
        sock: 7,
        local: unbound,
        remote: addr(SERVER),
        from: TcpState::Closed,
        to: TcpState::SynSent,
    };
    t.tracker.kernel(next);
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    t.tracker.call(Call { sock: 7, ..close });
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(kinds(&t), [(Role::Client, CallKind::Close)]);
    assert!(t.conn().kernel.is_empty(), "the next socket's change is not this connection's: {:?}", t.conn().kernel);
    assert_eq!(t.tracker.kernel_pending().0, 1, "it waits for its own port");
}

/// A reused tuple: each connection gets its own calls, by time, even the
/// second one's connect(), made while the first one is the tuple's latest.
#[test]
fn a_reused_tuple_keeps_calls_apart() {
    let mut t = Talk::new();
    t.tracker.call(call(&t, true, 1, CallKind::Connect));
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    t.tracker.call(call(&t, true, 1, CallKind::Close));
    t.c(support::rst_ack(), 1, 1, b"");
    let first = t.last.id;
    // A late recv() on the reset connection is still its own.
    t.wait_ms(50);
    t.tracker.call(Call { error: Some(104), ..call(&t, false, 0, CallKind::Recv) });
    t.wait_ms(50);
    t.tracker.call(call(&t, true, 5, CallKind::Connect));
    t.c(Flags::SYN, 100, 0, b"");
    t.tracker.call(call(&t, true, 1, CallKind::Close));
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_ne!(t.last.id, first);
    let old: Vec<_> = t.tracker.get(first).unwrap().calls.iter().map(|c| c.kind).collect();
    assert_eq!(old, [CallKind::Connect, CallKind::Close, CallKind::Recv]);
    assert_eq!(kinds(&t), [(Role::Client, CallKind::Connect), (Role::Client, CallKind::Close)]);
}

/// Calls are held until the segments up to their time are tracked: a call
/// reported early does not land on a connection that its time precedes.
#[test]
fn a_call_waits_for_the_segments_before_it() {
    let mut t = Talk::new();
    t.c(Flags::SYN, 0, 0, b"");
    t.tracker.call(call(&t, true, 50_000, CallKind::Close));
    assert!(t.conn().calls.is_empty());
    t.s(syn_ack(), 0, 1, b"");
    assert!(t.conn().calls.is_empty(), "held: its time is after the SYN-ACK");
    t.wait_ms(60);
    t.c(Flags::ACK, 1, 1, b"");
    assert_eq!(kinds(&t), [(Role::Client, CallKind::Close)]);
}

/// Many calls: the first and the last are kept, the ones between counted.
#[test]
fn calls_are_bounded_first_and_last_kept() {
    let mut t = support::established();
    let n = 10_000u64;
    for i in 0..n {
        t.tracker.call(Call { bytes: Some(i), ..call(&t, true, i as i64, CallKind::Send) });
    }
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let c = t.conn();
    assert!(c.calls.len() <= CALLS_FIRST + 2 * CALLS_LAST);
    assert_eq!(c.calls.len() as u64 + c.calls_elided, n);
    assert_eq!(c.calls[0].bytes, Some(0));
    assert_eq!(c.calls.last().unwrap().bytes, Some(n - 1));
    assert_eq!(c.calls[c.calls_gap - 1].bytes, Some(CALLS_FIRST as u64 - 1));
    assert!(c.calls.windows(2).all(|w| w[0].ts <= w[1].ts));
}

/// Calls waiting for a connection that never comes are bounded too.
#[test]
fn calls_that_find_no_connection_are_bounded() {
    let mut t = Talk::new();
    let total = synack::model::tracker::KERNEL_WAITING as u64 + 100;
    for i in 0..total {
        let mut c = call(&t, true, i as i64, CallKind::Connect);
        c.local.set_port(1 + (i % 60_000) as u16);
        t.tracker.call(c);
    }
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let (waiting, given_up) = t.tracker.calls_pending();
    assert!(waiting <= synack::model::tracker::KERNEL_WAITING);
    assert_eq!(waiting as u64 + given_up, total);
}

/// accept()'s time, and its wait in the accept queue: from the third ACK
/// on the wire without the kernel view, from the kernel's ESTABLISHED with it.
#[test]
fn the_accept_queue_wait_is_measured_from_the_handshake_or_the_kernel() {
    let mut t = Talk::new();
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    let third = support::template().ts.0 + t.t;
    assert_eq!(t.conn().accepted(), None);
    assert_eq!(t.conn().accept_wait(), None);
    t.tracker.call(call(&t, false, 2_100, CallKind::Accept));
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(t.conn().accepted(), Some(Timestamp(third + 2_100_000)));
    assert_eq!(t.conn().accept_wait(), Some((2_100_000, AcceptFrom::Wire)));

    let mut t = Talk::new();
    t.tracker.watch_kernel();
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    let est = Timestamp(support::template().ts.0 + t.t + 500_000);
    t.tracker.kernel(Change {
        ts: est,
        sock: 1,
        local: addr(SERVER),
        remote: addr(CLIENT),
        from: TcpState::SynReceived,
        to: TcpState::Established,
    });
    t.tracker.call(call(&t, false, 2_100, CallKind::Accept));
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(t.conn().accept_wait(), Some((1_600_000, AcceptFrom::Kernel)));
}

/// A recording made with calls (`--write x.pcapng`) replays them: the same
/// calls on the same connection, in jsonl; a malformed call block is
/// counted, and no segment is lost; a pcap recording holds none.
#[test]
fn a_pcapng_recording_keeps_its_calls_and_counts_malformed_ones() {
    use synack::capture::record::Recorder;
    use synack::model::decode::{Frame, LinkType};
    let dir = support::tempdir("calls-roundtrip");
    let frames = support::close_frames();
    let t0 = 1_700_000_000_000_000_000u64;
    let at = |i: u64| Timestamp(t0 + i * 1_000_000);
    let (c, s) = (addr("127.0.0.1:40000"), addr("127.0.0.1:8001"));
    let mk = |ts: Timestamp, client: bool, kind: CallKind| Call {
        ts,
        sock: 0,
        local: if client { c } else { s },
        remote: if client { s } else { c },
        pid: if client { 4242 } else { 1 },
        comm: if client { Comm::new("python3") } else { Comm::default() },
        kind,
        bytes: None,
        how: None,
        error: None,
    };
    let calls = [
        (0, mk(Timestamp(t0 - 20_000), true, CallKind::Connect)),
        (3, mk(Timestamp(at(2).0 + 500_000), false, CallKind::Accept)),
        (3, mk(Timestamp(at(3).0 - 20_000), true, CallKind::Close)),
        (4, Call { bytes: Some(0), ..mk(Timestamp(at(3).0 + 30_000), false, CallKind::Recv) }),
        (4, mk(Timestamp(at(4).0 - 10_000), false, CallKind::Close)),
    ];
    for ext in ["pcapng", "pcap"] {
        let path = dir.join(format!("calls.{ext}"));
        let mut r = Recorder::create(&path).unwrap();
        for (i, f) in frames.iter().enumerate() {
            // Each call is written before the frame it precedes (as the
            // kernel source's are, polled with the frames).
            for (_, call) in calls.iter().filter(|(before, _)| *before == i) {
                r.write_call(call).unwrap();
            }
            r.write(&Frame { ts: at(i as u64), link: LinkType::Ethernet, data: f }).unwrap();
        }
        r.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        if ext == "pcapng" {
            // A malformed call block, after the last frame.
            let mut data = synack::model::kernel::PEN.to_le_bytes().to_vec();
            data.extend_from_slice(b"synack-call/1 12 nonsense\n\0\0");
            let total = u32::try_from(12 + data.len()).unwrap();
            bytes.extend_from_slice(&0x0000_0BADu32.to_le_bytes());
            bytes.extend_from_slice(&total.to_le_bytes());
            bytes.extend_from_slice(&data);
            bytes.extend_from_slice(&total.to_le_bytes());
        }
        let mut source = synack::capture::pcap::PcapSource::new(std::io::Cursor::new(bytes.clone()), "x").unwrap();
        let conns = support::trace_jsonl(&mut source);
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0]["segments"].as_array().unwrap().len(), 6, "no segment lost ({ext})");
        if ext == "pcap" {
            assert!(conns[0].get("calls").is_none(), "a pcap file holds no calls");
            continue;
        }
        let got: Vec<(String, String)> = conns[0]["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["side"].as_str().unwrap().to_owned(), c["call"].as_str().unwrap().to_owned()))
            .collect();
        let want: Vec<(String, String)> =
            [("client", "connect"), ("server", "accept"), ("client", "close"), ("server", "recv"), ("server", "close")]
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect();
        assert_eq!(got, want);
        let first = &conns[0]["calls"][0];
        assert_eq!((first["pid"].as_u64(), first["comm"].as_str()), (Some(4242), Some("python3")));
        assert!(conns[0]["calls"][1].get("comm").is_none(), "an unknown name is left out: {}", conns[0]["calls"][1]);
        assert_eq!(conns[0]["calls"][3]["bytes"].as_u64(), Some(0));
        // accept() 0.5 ms after the handshake's third ACK (row 3, at 2 ms).
        assert_eq!(conns[0]["accepted_ms"].as_f64(), Some(2.5));
        assert_eq!(conns[0]["accept_wait_ms"].as_f64(), Some(0.5));
        assert_eq!(conns[0]["accept_wait_from"].as_str(), Some("wire"));

        // The malformed block is counted and said.
        use synack::headless::{self, Stop};
        let mut source = synack::capture::pcap::PcapSource::new(std::io::Cursor::new(bytes), "x").unwrap();
        let mut pipeline = synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::default());
        let mut exporter = synack::export::exporter(synack::export::Format::Jsonl);
        let (mut out, stop) = (Vec::new(), Stop::default());
        let ended = headless::run(&mut source, &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
        headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
        assert_eq!(pipeline.counters.bad_calls, 1);
        let said = pipeline.counters.error_summary().unwrap();
        assert!(said.contains("1 socket-call record of the recording malformed"), "{said}");
    }
}

/// Runs `scenario` of the built-in client against the built-in server,
/// both reporting their calls: the calls (once the server's close() is in),
/// and the server's port.
fn built_in_calls(scenario: synack::scenario::Scenario) -> (Vec<Call>, u16) {
    use std::sync::{Arc, Mutex};
    use synack::echo::{self, calls};
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    let sink = calls::CallSink::new(move |c| g.lock().unwrap().push(c));
    let listener = echo::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let server = echo::Server::start(listener, echo::ServerConfig { calls: Some(sink.clone()), ..Default::default() });
    let addr = server.addr();
    let ran = calls::with(Some(sink), || echo::run_scenario_watched(scenario, addr, "helloworld", None).unwrap());
    let echo::Outcome::Replied(_) = ran.outcome else { panic!("{ran:?}") };
    // The server closes after its reply; wait for its close() (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !got.lock().unwrap().iter().any(|c: &Call| c.local.port() == addr.port() && c.kind == CallKind::Close) {
        assert!(std::time::Instant::now() < deadline, "the server's close() was not reported");
        std::thread::yield_now();
    }
    server.stop();
    let calls = got.lock().unwrap().clone();
    (calls, addr.port())
}

/// The built-in programs report their own calls, without privilege: the
/// tutorial's exchange (the seed scenario) from both ends, each call once,
/// with what it returned, the process's pid and name.
#[test]
fn the_built_in_programs_report_both_ends_calls() {
    let (got, port) = built_in_calls(synack::scenario::Scenario::Seed);
    let side = |server: bool| -> Vec<(CallKind, Option<u64>)> {
        got.iter().filter(|c| (c.local.port() == port) == server).map(|c| (c.kind, c.bytes)).collect()
    };
    use CallKind::*;
    assert_eq!(side(false), [(Connect, None), (Send, Some(11)), (Recv, Some(11)), (Close, None)]);
    assert_eq!(side(true), [(Accept, None), (Recv, Some(11)), (Send, Some(11)), (Close, None)]);
    assert!(got.iter().all(|c| c.pid == std::process::id() && !c.comm.is_empty() && c.sock == 0));
    // Both ends name the same connection.
    let client = got.iter().find(|c| c.kind == Connect).unwrap();
    let accept = got.iter().find(|c| c.kind == Accept).unwrap();
    assert_eq!((client.local, client.remote), (accept.remote, accept.local));
}

/// The text export draws each call on its caller's lifeline, before the
/// first segment captured after it; a connection without calls is drawn as
/// before (the golden snapshots hold that).
#[test]
fn the_text_ladder_draws_calls_on_the_callers_lifeline() {
    let mut t = Talk::new();
    t.tracker.call(call(&t, true, 5, CallKind::Connect));
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    t.tracker.call(call(&t, true, 5, CallKind::Close));
    t.c(fin_ack(), 1, 1, b"");
    t.tracker.call(Call { bytes: Some(0), ..call(&t, false, 3, CallKind::Recv) });
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let mut out = String::new();
    synack::export::Exporter::append(&mut synack::export::text::TextExporter::new(false), t.conn(), &mut out);
    let lines: Vec<&str> = out.lines().collect();
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}:\n{out}"));
    assert!(at("◆ client[100] connect()") < at("── SYN"));
    assert!(lines[at("connect()")].ends_with("at -0.005 ms"), "{out}");
    assert!(at("◆ client[100] close()") < at("── FIN"));
    assert!(at("◆ client[100] close()") > at("── ACK"));
    assert!(at("server[200] recv() = 0 ◆") > at("── FIN"));
    // On the caller's lifeline: the client's starts at it, the server's ends at it.
    let lifeline = |l: &str| l.chars().position(|c| c == '│').unwrap();
    let close = lines[at("close()")];
    assert_eq!(close.chars().nth(lifeline(close) + 2), Some('◆'));
    let recv = lines[at("recv() = 0")];
    let server_lifeline = recv.chars().enumerate().filter(|(_, c)| *c == '│').nth(1).unwrap().0;
    assert_eq!(recv.chars().nth(server_lifeline - 2), Some('◆'), "{recv}");
}

/// The tutorial's exchange with its calls, timed: connect, accept after the
/// third ACK (`accept_us` later), one send of "hello" and one of "world"
/// (two segments), one recv of both on the server, the client's close
/// before its FIN, the server's recv of 0 after it.
fn tutorial(accept_us: i64, one_recv: bool, eof_seen: bool) -> Talk {
    let mut t = Talk::new();
    t.tracker.call(call(&t, true, 5, CallKind::Connect));
    t.c(Flags::SYN, 0, 0, b"");
    t.s(syn_ack(), 0, 1, b"");
    t.c(Flags::ACK, 1, 1, b"");
    t.tracker.call(call(&t, false, accept_us, CallKind::Accept));
    t.c(support::psh_ack(), 1, 1, b"hello");
    t.c(support::psh_ack(), 6, 1, b"world");
    if one_recv {
        t.tracker.call(Call { bytes: Some(10), ..call(&t, false, 3, CallKind::Recv) });
    } else {
        t.tracker.call(Call { bytes: Some(5), ..call(&t, false, -8, CallKind::Recv) });
        t.tracker.call(Call { bytes: Some(5), ..call(&t, false, 3, CallKind::Recv) });
    }
    t.s(Flags::ACK, 1, 11, b"");
    t.tracker.call(call(&t, true, 5, CallKind::Close));
    t.c(fin_ack(), 11, 1, b"");
    if eof_seen {
        t.tracker.call(Call { bytes: Some(0), ..call(&t, false, 20, CallKind::Recv) });
    }
    t.s(Flags::ACK, 1, 12, b"");
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    t
}

fn verdict(t: &Talk) -> String {
    synack::model::timeline::verdict(t.conn())
}

#[test]
fn the_close_call_is_tied_to_the_fin_it_sent() {
    let said = verdict(&tutorial(2_100, true, true));
    assert!(said.contains("The client called close(); its FIN left 0.005 ms later."), "{said}");
    // Without calls, or with a close() made after the FIN: not said.
    assert!(!verdict(&support::fin_wait_2()).contains("called close()"));
    let mut t = support::established();
    t.c(fin_ack(), 1, 1, b"");
    t.tracker.call(call(&t, true, 10, CallKind::Close));
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert!(!verdict(&t).contains("called close()"), "{}", verdict(&t));
}

#[test]
fn accept_tells_the_wait_in_the_accept_queue() {
    let said = verdict(&tutorial(2_100, true, true));
    assert!(
        said.contains("The server's accept() returned it 2.100 ms after the handshake completed (the handshake's third ACK): the connection waited in the accept queue"),
        "{said}"
    );
    let said = verdict(&tutorial(40, true, true));
    assert!(said.contains("accept() returned it 0.040 ms after"), "{said}");
    // No accept seen: nothing said about the accept queue.
    let mut t = support::established();
    t.tracker.call(call(&t, true, 1, CallKind::Close));
    t.c(fin_ack(), 1, 1, b"");
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert!(!verdict(&t).contains("accept()"), "{}", verdict(&t));
}

#[test]
fn one_recv_of_two_segments_is_a_byte_stream() {
    let said = verdict(&tutorial(2_100, true, true));
    assert!(
        said.contains("One recv() of the server returned 10 bytes that arrived in 2 segments: TCP is a byte stream, message boundaries are the program's job."),
        "{said}"
    );
    // Two recv() calls, one per segment: not said.
    let said = verdict(&tutorial(2_100, false, true));
    assert!(!said.contains("byte stream"), "{said}");
}

#[test]
fn recv_of_zero_is_how_the_program_learns_of_the_fin() {
    let said = verdict(&tutorial(2_100, true, true));
    assert!(
        said.contains("The server's recv() returned 0, 0.020 ms after the client's FIN arrived, once its recv() calls had returned all 10 bytes the client sent before that FIN: this is how the server's program learns of the client's FIN."),
        "{said}"
    );
    // Two recv() calls of 5: the calls still account for every byte.
    let said = verdict(&tutorial(2_100, false, true));
    assert!(said.contains("once its recv() calls had returned all 10 bytes the client sent before that FIN"), "{said}");
    assert!(!verdict(&tutorial(2_100, true, false)).contains("returned 0"));
}

/// The recv() of 0 says that every byte before the FIN was read only when
/// the calls show it; when they do not (a recv() not seen), it says the rule.
#[test]
fn recv_of_zero_says_all_bytes_were_read_only_when_the_calls_show_it() {
    let mut t = support::established();
    t.tracker.call(Call { bytes: Some(4), ..call(&t, false, 3, CallKind::Recv) });
    t.c(fin_ack(), 11, 11, b"");
    t.tracker.call(Call { bytes: Some(0), ..call(&t, false, 3, CallKind::Recv) });
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let said = verdict(&t);
    assert!(
        said.contains("FIN arrived (recv() returns 0 only once every byte before the FIN has been read): this is how"),
        "{said}"
    );
    assert!(!said.contains("had returned all"), "4 of 10 bytes seen read: {said}");
    // Nothing sent before the FIN: said so, not "all 0 bytes".
    let mut t = support::syn_received();
    t.c(Flags::ACK, 1, 1, b"");
    t.c(fin_ack(), 1, 1, b"");
    t.tracker.call(Call { bytes: Some(0), ..call(&t, false, 3, CallKind::Recv) });
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    let said = verdict(&t);
    assert!(said.contains("FIN arrived (the client had sent no bytes before it): this is how"), "{said}");
    assert!(!said.contains("had returned all") && !said.contains("only once every byte"), "{said}");
}

/// A recv() of 0 after fewer bytes than the peer sent before its FIN, the
/// FIN acknowledged past them (Linux 6.18 did this in
/// tests/calls_kernel.rs's full backlog: a byte dropped while the accept
/// queue was full, the connection then made from the client's FIN): said,
/// with the numbers; never said when the calls read every byte, or when the
/// FIN was not acknowledged past them.
#[test]
fn recv_of_zero_before_every_byte_was_read_says_what_never_reached_the_program() {
    let talk = |acked: u32| {
        let mut t = support::established();
        t.tracker.call(call(&t, false, -100, CallKind::Accept));
        t.c(support::psh_ack(), 1, 1, b"hello");
        t.s(Flags::ACK, 1, 6, b"");
        t.tracker.call(Call { bytes: Some(5), ..call(&t, false, 3, CallKind::Recv) });
        t.c(fin_ack(), 11, 1, b"");
        t.s(Flags::ACK, 1, acked, b"");
        t.tracker.call(Call { bytes: Some(0), ..call(&t, false, 3, CallKind::Recv) });
        t.tracker.kernel_flush(Timestamp(u64::MAX));
        t
    };
    let said = verdict(&talk(12));
    assert!(
        said.contains(
            "this is how the server's program learns of the client's FIN. Its recv() calls had returned only 5 of the 10 bytes \
             the client sent before that FIN, though the server acknowledged all 10 (ack=12): 5 bytes never reached the server's program."
        ),
        "{said}"
    );
    assert!(!said.contains("had returned all"), "{said}");
    // The FIN not acknowledged past the hole: not said.
    assert!(!verdict(&talk(6)).contains("never reached"), "{}", verdict(&talk(6)));
    // Every byte read: not said.
    assert!(!verdict(&tutorial(2_100, true, true)).contains("never reached"));
}

/// A connection without calls says none of the calls' sentences.
#[test]
fn no_calls_no_call_sentences() {
    for t in [support::fin_wait_2(), support::last_ack(), support::established()] {
        let said = verdict(&t);
        for words in ["called", "accept()", "recv()", "byte stream"] {
            assert!(!said.contains(words), "{said}");
        }
    }
}

/// The stream scenario's calls, reported by the built-in programs: two
/// send()s of 5 bytes, one recv() of 10; a 1,025-byte send() read by two
/// recv(1024) of 1,024 and 1.
#[test]
fn the_stream_scenarios_calls() {
    let (got, port) = built_in_calls(synack::scenario::Scenario::Stream);
    let of = |server: bool, kind: CallKind| -> Vec<u64> {
        got.iter().filter(|c| (c.local.port() == port) == server && c.kind == kind).map(|c| c.bytes.unwrap()).collect()
    };
    assert_eq!(of(false, CallKind::Send), [5, 5, 1025]);
    assert_eq!(of(true, CallKind::Recv), [10, 1024, 1, 0]);
    assert_eq!(of(true, CallKind::Send), [10, 1025]);
}

/// Live, as the dashboard runs it (`sudo synack`, then `m`, with the kernel
/// view off): the segments captured and both programs' calls on one
/// connection; the server's one recv() of two segments is explained.
#[test]
fn the_stream_scenario_live_shows_one_recv_of_two_segments() {
    use synack::echo::{self, calls};
    use synack::tui::{App, Msg};
    if !support::capture_allowed() {
        return;
    }
    let (tx, rx) = synack::tui::channel();
    let to = tx.clone();
    let sink = calls::CallSink::new(move |c| {
        let _ = to.send(Msg::Calls(synack::capture::Replayed::of(vec![c])));
    });
    let listener = echo::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let server = echo::Server::start(listener, echo::ServerConfig { calls: Some(sink.clone()), ..Default::default() });
    let port = server.addr().port();
    let source = synack::capture::live::LiveSource::open("lo", port).unwrap();
    let shared = std::sync::Arc::new(synack::tui::Shared::default());
    let handle = synack::tui::spawn_source(
        source,
        synack::tui::Pace::AsTheyCome,
        synack::tui::Loss::Counted,
        tx,
        shared.clone(),
        |_| None,
    )
    .unwrap();
    let ran = calls::with(Some(sink), || {
        echo::run_scenario_watched(synack::scenario::Scenario::Stream, server.addr(), "helloworld", None)
    });
    ran.unwrap();
    let pipeline = synack::pipeline::Pipeline::new(Some(port), synack::model::tracker::Limits::both(100));
    let mut app = App::new(pipeline, synack::tui::app::Source::Live { interface: "lo".into(), port }, false);
    // Until the server's close() and the close's last segment are in
    // (bounded: a hang fails).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut closed = false;
    loop {
        let msg = rx.recv_timeout(std::time::Duration::from_millis(300));
        match msg {
            Ok(Msg::Calls(c)) => {
                closed |= c.calls.iter().any(|c| c.local.port() == port && c.kind == CallKind::Close);
                app.update(Msg::Calls(c));
            }
            Ok(m) => {
                app.update(m);
            }
            Err(_) if closed && app.pipeline.tracker.connections().any(|c| c.ended) => break,
            Err(_) => {}
        }
        assert!(std::time::Instant::now() < deadline, "the stream scenario's connection did not end");
    }
    shared.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    server.stop();
    app.update(Msg::SourceEnded(None));
    let conn = app.pipeline.tracker.connections().find(|c| c.server.addr.port() == port).unwrap();
    let recvs: Vec<u64> = conn
        .calls
        .iter()
        .filter(|c| c.side == Role::Server && c.kind == CallKind::Recv)
        .map(|c| c.bytes.unwrap())
        .collect();
    assert_eq!(recvs, [10, 1024, 1, 0], "{:?}", conn.calls);
    let sends = conn.calls.iter().filter(|c| c.side == Role::Client && c.kind == CallKind::Send).count();
    assert_eq!(sends, 3);
    let said = synack::model::timeline::verdict(conn);
    assert!(said.contains("One recv() of the server returned 10 bytes that arrived in 2 segments"), "{said}");
    assert!(said.contains("The server's accept() returned it"), "{said}");
    assert!(said.contains("The server's recv() returned 0"), "{said}");
    drop(handle);
}

/// Mermaid shows each call as a note over its caller, in time order with
/// the segments; SVG draws each call's row on its caller's lifeline.
#[test]
fn mermaid_and_svg_show_the_calls() {
    let t = tutorial(2_100, true, true);
    let m = synack::export::mermaid::diagram(t.conn());
    let at = |needle: &str| m.find(needle).unwrap_or_else(|| panic!("{needle}:\n{m}"));
    assert!(at("Note over C: ◆ client[100] connect()") < at("C->>S: SYN"), "{m}");
    assert!(at("Note over S: ◆ server[200] accept()") > at("C->>S: ACK"), "{m}");
    assert!(at("Note over C: ◆ client[100] close()") < at("C->>S: FIN"), "{m}");
    assert!(at("Note over S: ◆ server[200] recv() = 10") < at("Note over C,S:"), "{m}");
    assert_eq!(m.matches("◆").count(), t.conn().calls.len());
    let svg = synack::export::svg::document([t.conn()]);
    assert_eq!(svg.matches(r#"<path class="call""#).count(), t.conn().calls.len());
    assert!(svg.contains(">server[200] recv() = 0</text>"), "{svg}");
    // Without calls, neither draws any.
    let plain = support::fin_wait_2();
    assert!(!synack::export::mermaid::diagram(plain.conn()).contains('◆'));
    assert!(!synack::export::svg::document([plain.conn()]).contains("class=\"call\""));
}

/// A recording with more calls between two frames than a source holds:
/// the extra calls are dropped and counted, memory stays bounded, and every
/// frame is still read.
#[test]
fn a_flood_of_call_blocks_is_bounded_and_loses_no_frame() {
    use synack::capture::record::Recorder;
    use synack::model::decode::{Frame, LinkType};
    let dir = support::tempdir("calls-flood");
    let path = dir.join("flood.pcapng");
    let frames = support::close_frames();
    let mut r = Recorder::create(&path).unwrap();
    let t = Talk::new();
    let flood = synack::capture::CALLS_HELD as u64 + 10;
    for _ in 0..flood {
        r.write_call(&call(&t, true, 0, CallKind::Send)).unwrap();
    }
    for (i, f) in frames.iter().enumerate() {
        r.write(&Frame {
            ts: Timestamp(1_700_000_000_000_000_000 + i as u64 * 1_000),
            link: LinkType::Ethernet,
            data: f,
        })
        .unwrap();
    }
    r.finish().unwrap();
    let mut source = synack::capture::pcap::PcapSource::new(std::fs::File::open(&path).unwrap(), "flood").unwrap();
    let mut pipeline = synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::default());
    let mut exporter = synack::export::exporter(synack::export::Format::Jsonl);
    let (mut out, stop) = (Vec::new(), synack::headless::Stop::default());
    let ended =
        synack::headless::run(&mut source, &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
    synack::headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
    assert_eq!(pipeline.counters.calls_dropped, 10);
    assert_eq!(pipeline.counters.segments, frames.len() as u64);
    let said = pipeline.counters.error_summary().unwrap();
    assert!(said.contains("10 socket calls of the recording dropped"), "{said}");
}

/// A process that exited before its name was read is shown by its pid.
#[test]
fn the_pid_is_shown_when_the_name_is_unknown() {
    let mut t = support::established();
    t.tracker.call(Call { comm: Comm::default(), ..call(&t, true, 1, CallKind::Close) });
    t.c(fin_ack(), 1, 1, b"");
    let row = t.conn().calls[0];
    assert_eq!(row.caller(), "pid 100");
    assert_eq!(synack::ladder::call_label(&row), "pid 100 close()");
    let named = Call { bytes: Some(3), ..call(&t, false, 1, CallKind::Recv) };
    t.tracker.call(named);
    t.tracker.kernel_flush(Timestamp(u64::MAX));
    assert_eq!(synack::ladder::call_label(&t.conn().calls[1]), "server[200] recv() = 3");
}
