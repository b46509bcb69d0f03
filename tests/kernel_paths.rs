//! The kernel view's two ways of reading the state changes, the eBPF ring
//! (the fast path, `synack::os::ebpf`) and a perf sample per change (the
//! plain path), opened side by side on the same port while connections open
//! and close: each reads the same changes, of the same sockets, in the same
//! order, at the same times. Needs root (skips otherwise, unless
//! SYNACK_REQUIRE_CAPTURE=1).

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use synack::os::tracepoint::{self, RawChange, Route, Tracepoint};

/// Kernel state numbers.
const CLOSE: i32 = 7;
const LAST_ACK: i32 = 9;
const CONNECTIONS: usize = 300;

/// Reads `t` until it has seen `n` server sockets go from LAST-ACK to
/// CLOSED (each connection's last change), or panics after 30 s.
fn read_until_closed(t: &mut Tracepoint, port: u16, n: usize, what: &str) -> Vec<RawChange> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut all = Vec::new();
    loop {
        t.read(&mut all);
        let closed =
            all.iter().filter(|c| c.local.port() == port && c.oldstate == LAST_ACK && c.newstate == CLOSE).count();
        if closed >= n {
            return all;
        }
        assert!(Instant::now() < deadline, "{what}: {closed} of {n} connections closed after 30 s");
        t.wait(Duration::from_millis(20)).unwrap();
    }
}

/// Each socket's changes, in time order.
fn by_socket(changes: &[RawChange]) -> BTreeMap<u64, Vec<RawChange>> {
    let mut sorted = changes.to_vec();
    sorted.sort_by_key(|c| c.ts);
    let mut map: BTreeMap<u64, Vec<RawChange>> = BTreeMap::new();
    for c in sorted {
        map.entry(c.sock).or_default().push(c);
    }
    map
}

/// `n` connections to `listener` that close the usual way: the client
/// first (the server in CLOSE-WAIT, then LAST-ACK), after the tutorial's
/// request and its answer. Returns the listener, still open (its own close
/// is a change too).
fn talk(listener: TcpListener, n: usize) -> TcpListener {
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        for _ in 0..n {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 64];
            let got = s.read(&mut buf).unwrap();
            s.write_all(&buf[..got].to_ascii_uppercase()).unwrap();
            while s.read(&mut buf).unwrap() > 0 {}
        }
        listener
    });
    for _ in 0..n {
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"helloworld").unwrap();
        let mut buf = [0u8; 10];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"HELLOWORLD");
        c.shutdown(Shutdown::Write).unwrap();
        let _ = c.read(&mut buf).unwrap();
    }
    server.join().unwrap()
}

#[test]
fn the_ebpf_ring_reads_what_perf_samples_read() {
    if !support::capture_allowed() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let (mut perf, _) = tracepoint::open_via(Some(port), false, Route::Perf).unwrap();
    let (mut bpf, _) = tracepoint::open_via(Some(port), false, Route::Bpf).unwrap();
    assert!(bpf.is_bpf() && !perf.is_bpf());
    let _listener = talk(listener, CONNECTIONS);
    let from_perf = read_until_closed(&mut perf, port, CONNECTIONS, "perf");
    let from_bpf = read_until_closed(&mut bpf, port, CONNECTIONS, "eBPF");
    assert_eq!((perf.lost(), bpf.lost()), (0, 0));
    assert_eq!(from_bpf.len(), from_perf.len(), "as many changes on both paths");
    assert!(from_bpf.len() >= CONNECTIONS * 8, "{} changes for {CONNECTIONS} connections", from_bpf.len());
    let (a, b) = (by_socket(&from_perf), by_socket(&from_bpf));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "the same sockets");
    for (sock, p) in &a {
        let e = &b[sock];
        let states =
            |v: &[RawChange]| v.iter().map(|c| (c.local, c.remote, c.oldstate, c.newstate)).collect::<Vec<_>>();
        assert_eq!(states(e), states(p), "socket {sock:#x}: the same changes in the same order");
        for (x, y) in e.iter().zip(p) {
            let apart = x.ts.abs_diff(y.ts);
            assert!(apart < 2_000_000, "socket {sock:#x}: the same change {apart} ns apart on the two paths");
        }
    }
}

/// `synack trace --kernel on` by each path, side by side on the same
/// connections, the socket calls on: the same kernel changes in every
/// connection's jsonl, all agreeing with the wire, and one connect() each.
#[test]
fn trace_writes_the_same_kernel_view_by_either_path() {
    use synack::echo::{self, ServerConfig};
    use synack::scenario::Scenario;
    if !support::capture_allowed() {
        return;
    }
    let srv = echo::Server::start(echo::bind("127.0.0.1:0".parse().unwrap()).unwrap(), ServerConfig::default());
    let port = srv.addr().port().to_string();
    let scenarios = [Scenario::Seed, Scenario::SlowClose, Scenario::ServerClose, Scenario::Abort];
    let count = (scenarios.len() * 5).to_string();
    let args = ["--port", &port, "--format", "jsonl", "--count", &count, "--duration", "30", "--kernel", "on"];
    let traces: Vec<support::Trace> = ["perf", "bpf"]
        .iter()
        .map(|path| support::Trace::start_with(&args, &[("SYNACK_KERNEL_PATH", path), ("SYNACK_CALLS", "on")]))
        .collect();
    for s in scenarios {
        for _ in 0..5 {
            echo::run_scenario(s, srv.addr(), "helloworld").unwrap();
        }
    }
    let outputs: Vec<String> = traces.into_iter().map(|t| t.finish().0).collect();
    srv.stop();
    // Each connection's kernel changes, without their times, by client address.
    let views = |jsonl: &str| -> BTreeMap<String, Vec<String>> {
        jsonl
            .lines()
            .map(|l| {
                let c: serde_json::Value = serde_json::from_str(l).unwrap();
                let mut changes: Vec<String> = c["kernel"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| {
                        assert_eq!(k["agrees"], true, "{c}");
                        format!("{} {} {}", k["side"], k["from"], k["to"])
                    })
                    .collect();
                // Each side's in its order: the two sides' changes a few
                // microseconds apart may come in either order, as each path
                // stamps them at its own moment.
                changes.sort_by_key(|k| k.starts_with("\"server\""));
                // The socket calls of the test's own programs, counted: the
                // perf path may tie a call to the wrong connection when a
                // CPU's samples reach it late (its rings are per CPU); the
                // eBPF path's one ring does not (tests/calls_kernel.rs holds
                // its calls to strace's).
                let calls = c["calls"].as_array().unwrap();
                changes.push(format!("connect: {}", calls.iter().filter(|k| k["call"] == "connect").count()));
                (c["client"].as_str().unwrap().to_string(), changes)
            })
            .collect()
    };
    let (perf, bpf) = (views(&outputs[0]), views(&outputs[1]));
    assert!(bpf.values().all(|v| v.last().is_some_and(|k| k == "connect: 1")), "one connect() each: {bpf:?}");
    assert_eq!(perf.len(), scenarios.len() * 5, "{}", outputs[0]);
    assert!(perf.values().all(|v| v.len() >= 6), "{perf:?}");
    assert_eq!(bpf.keys().collect::<Vec<_>>(), perf.keys().collect::<Vec<_>>(), "the same connections");
    for (client, p) in &perf {
        assert_eq!(&bpf[client], p, "connection from {client}: eBPF (left) and perf (right)");
    }
}

/// An eBPF ring too small for what comes counts every change it had no
/// room for: what it holds and what it lost add up to what perf saw.
#[test]
fn a_full_ebpf_ring_counts_each_change_it_could_not_hold() {
    if !support::capture_allowed() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let port = addr.port();
    let (mut perf, _) = tracepoint::open_via(Some(port), false, Route::Perf).unwrap();
    let (id, fields) = tracepoint::state_changes_event().unwrap();
    // 64 KiB (a page where pages are that large): about 700 changes of 96
    // bytes with their headers; 200 connections make about 2,000.
    let mut small = synack::os::ebpf::BpfRing::open(1 << 16).unwrap();
    let end = synack::os::ebpf::record_end(&fields).unwrap();
    let filter = synack::os::ebpf::Filter::Port { sport: fields.sport, dport: fields.dport, port };
    small.attach(id, end, filter).unwrap();
    let n = 200;
    let _listener = talk(listener, n);
    let seen = read_until_closed(&mut perf, port, n, "perf").len() as u64;
    let mut held = 0u64;
    small.read(|_| held += 1);
    assert!(held > 0 && small.lost() > 0, "held {held}, lost {}", small.lost());
    assert_eq!(held + small.lost(), seen, "held {held} and lost {} of {seen}", small.lost());
}
