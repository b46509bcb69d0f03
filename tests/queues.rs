//! The listener's two queues (issue 27): the figures synack reads from
//! sock_diag checked against `ss`, the dashboard's listener lane drawn, and
//! the lane in a real terminal during the backlog scenario.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;

use socket2::{Domain, Socket, Type};
use synack::os::diag::{Diag, Queues};

/// A listener on a port of its own that never accepts, with `backlog`.
fn still_listener(backlog: i32) -> (Socket, SocketAddr) {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into()).unwrap();
    s.listen(backlog).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    (s, addr)
}

/// A connect that does not wait for the handshake (a SYN the listener drops
/// would hold a blocking one for seconds).
fn connect_now(addr: SocketAddr) -> Socket {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.set_nonblocking(true).unwrap();
    match s.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => panic!("connect: {e}"),
    }
    s
}

/// `ss`'s Recv-Q and Send-Q of the listener on `port`, and its count of the
/// port's SYN-RECV sockets.
fn ss(port: u16) -> (u32, u32, u32) {
    let run = |args: &[&str]| {
        let out = Command::new("ss").args(args).output().expect("ss (iproute2)");
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let filter = format!("sport = :{port}");
    let listen = run(&["-Hltn", &filter]);
    let fields: Vec<&str> = listen.split_whitespace().collect();
    assert_eq!(fields.first(), Some(&"LISTEN"), "{listen}");
    let syn_recv = run(&["-Htn", "state", "syn-recv", &filter]).lines().count();
    (fields[1].parse().unwrap(), fields[2].parse().unwrap(), u32::try_from(syn_recv).unwrap())
}

/// The accept queue's figures against `ss -ltn`, the listener held still (no
/// accept()): with listen(3), four clients fill the queue (Linux calls it
/// full when more wait than the backlog), two more find it full. `ss` is
/// asked before and after synack: the three readings are the same moment's.
#[test]
fn the_queues_match_ss_for_a_listener_held_still() {
    let (listener, addr) = still_listener(3);
    let mut diag = Diag::open().unwrap();
    let empty = diag.queues(addr.port()).unwrap();
    assert_eq!((empty.accept_queue, empty.backlog, empty.syn_queue, empty.listeners), (0, 3, 0, 1));
    assert!(!empty.accept_full());
    // Four blocking connects: each returns once its handshake is done.
    let first: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    // Two more whose SYNs find the queue full.
    let more: Vec<Socket> = (0..2).map(|_| connect_now(addr)).collect();
    let mut tries = 0;
    let (before, q, after) = loop {
        let before = ss(addr.port());
        let q = diag.queues(addr.port()).unwrap();
        let after = ss(addr.port());
        if before == after {
            break (before, q, after);
        }
        // A handshake finished between the two `ss`: read again.
        tries += 1;
        assert!(tries < 50, "the listener never held still: {before:?} {after:?}");
    };
    assert_eq!((q.accept_queue, q.backlog, q.syn_queue), before, "synack {q:?}, ss {before:?} and {after:?}");
    assert_eq!(q.backlog, 3);
    assert_eq!(q.accept_queue, 4, "listen(3) holds backlog + 1: {q:?}");
    assert!(q.accept_full(), "{q:?}");
    assert_eq!(q.local, Some(addr));
    drop((first, more, listener));
}

/// Nothing listens on the port: no listener, nothing full.
#[test]
fn no_listener_no_queues() {
    let (listener, addr) = still_listener(3);
    drop(listener);
    let q = Diag::open().unwrap().queues(addr.port()).unwrap();
    assert_eq!(q, Queues::default());
}

/// The SYN queue's figure against `ss`: a listener with TCP_DEFER_ACCEPT
/// (Python: the crate offers no safe way to set it) keeps a handshake whose
/// ACK came without data as a request socket, SYN-RECEIVED, in the SYN queue.
/// Three such clients: three request sockets, the accept queue empty.
#[test]
fn the_syn_queue_matches_ss() {
    use std::io::{BufRead, BufReader};
    let script = "import socket,sys\n\
                  s=socket.socket()\n\
                  s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 30)\n\
                  s.bind(('127.0.0.1',0)); s.listen(3)\n\
                  print(s.getsockname()[1], flush=True)\n\
                  sys.stdin.read()\n";
    let mut py = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(py.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], line.trim().parse::<u16>().unwrap()));
    // Each connect returns once the SYN-ACK came; its ACK carries no data.
    let clients: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut diag = Diag::open().unwrap();
    let mut tries = 0;
    let (before, q) = loop {
        let before = ss(addr.port());
        let q = diag.queues(addr.port()).unwrap();
        if before == ss(addr.port()) {
            break (before, q);
        }
        tries += 1;
        assert!(tries < 50, "the listener never held still");
    };
    assert_eq!((q.accept_queue, q.backlog, q.syn_queue), before, "synack {q:?}, ss {before:?}");
    assert_eq!((q.accept_queue, q.syn_queue), (0, 3), "{q:?}");
    drop(clients);
    drop(py.stdin.take());
    let _ = py.wait();
}

/// The segments of a committed capture.
fn fixture_segments(name: &str) -> Vec<synack::model::segment::Segment> {
    use synack::capture::{FrameSource, Next, pcap::PcapSource};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let mut src = PcapSource::new(std::fs::File::open(&path).unwrap(), name).unwrap();
    let mut out = Vec::new();
    while let Ok(Next::Frame(f)) = src.next_frame() {
        if let Ok(Some(s)) = synack::model::decode::decode(&f) {
            out.push(s);
        }
    }
    out
}

/// The lane drawn at 80 x 24 (TestBackend): the backlog capture's
/// connections (SYNs unanswered, third ACKs not taken, SYN-ACKs sent again)
/// and a kernel sample of a full accept queue.
#[test]
fn the_listener_lane_at_80_columns() {
    use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use synack::os::netstat::ListenCounters;
    use synack::tui::listener::Sample;
    use synack::tui::{App, Msg, Source, ui};
    let mut app = App::new(
        synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::both(100)),
        Source::Live { interface: "lo".into(), port: 8001 },
        false,
    );
    for s in fixture_segments("backlog.pcap") {
        app.update(Msg::Decoded(Ok(Some(s))));
    }
    let key = |c| {
        Msg::Key(KeyEvent::new_with_kind_and_state(
            KeyCode::Char(c),
            KeyModifiers::SHIFT,
            KeyEventKind::Press,
            KeyEventState::NONE,
        ))
    };
    let draw = |app: &App| {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|f| ui::render(app, f)).unwrap();
        terminal.backend().to_string()
    };
    let without = draw(&app);
    assert!(!without.contains("accept queue"), "off until asked: {without}");
    app.update(key('L'));
    let waiting = draw(&app);
    assert!(waiting.contains("reading the kernel's queues"), "{waiting}");
    let q = Queues {
        local: Some(SocketAddr::from(([127, 0, 0, 1], 8001))),
        accept_queue: 4,
        backlog: 3,
        syn_queue: 2,
        listeners: 1,
    };
    let counters = Some(ListenCounters { overflows: 14, drops: 14 });
    app.update(Msg::Listener(Sample { queues: Ok(q), counters }));
    let s = draw(&app);
    assert!(s.contains("backlog 3  accept queue 4/4 FULL") && s.contains("SYN queue 2"), "{s}");
    assert!(!s.contains("4/3"), "not a fraction of the backlog: {s}");
    // The verdict's panel keeps its place: the lane's rows come from the ladder.
    assert!(s.contains("What it means"), "{s}");
    insta::assert_snapshot!(s);
    // Wider, the longer words: the rule for full, and the SYN-ACKs sent again
    // after a third ACK not taken (backlog.pcap's #5: two).
    let mut terminal = Terminal::new(TestBackend::new(200, 40)).unwrap();
    terminal.draw(|f| ui::render(&app, f)).unwrap();
    let wide = terminal.backend().to_string();
    assert!(wide.contains("backlog 3  accept queue 4/4 FULL (Linux lets one more than the backlog wait)"), "{wide}");
    assert!(wide.contains("2 SYN-ACKs sent again after one"), "{wide}");
    assert!(wide.contains("ListenOverflows +14, ListenDrops +14"), "{wide}");
    // L again: the lane goes, and the kernel is not asked any more.
    app.update(key('L'));
    assert!(!app.lane_shown());
    assert!(!draw(&app).contains("accept queue"));
}

/// A tmux server of its own, one window `w` x `h` running `cmd`.
struct Tmux(String);

impl Tmux {
    fn start(tag: &str, w: &str, h: &str, cmd: &str) -> Tmux {
        let t = Tmux(format!("synack-queues-{tag}-{}", std::process::id()));
        t.run(&["new-session", "-d", "-s", "q", "-x", w, "-y", h, cmd]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux").arg("-L").arg(&self.0).args(args).output().expect("tmux (installed by .ci/run)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `what` holds on it (at most `secs`).
    fn wait_for(&self, what: &dyn Fn(&str) -> bool, secs: u64) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let s = self.run(&["capture-pane", "-p", "-t", "q"]);
            if what(&s) {
                return s;
            }
            assert!(std::time::Instant::now() < deadline, "timed out; the screen was:\n{s}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.0).arg("kill-server").status();
    }
}

/// The `n` of "backlog 3  accept queue n/4" on the screen, if the lane shows it.
fn accept_queue(screen: &str) -> Option<u32> {
    let at = screen.find("backlog 3  accept queue ")? + "backlog 3  accept queue ".len();
    screen[at..].split_whitespace().next()?.strip_suffix("/4")?.parse().ok()
}

/// In a real terminal at 80 x 24: `b` runs the backlog scenario and the
/// lane shows the accept queue fill to 4 with backlog 3 (full), then drain as the server
/// accepts one connection every 200 ms.
#[test]
fn the_accept_queue_fills_and_drains_in_a_real_terminal() {
    if !support::capture_allowed() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cmd = format!("{} --port {port} --kernel off", env!("CARGO_BIN_EXE_synack"));
    let tmux = Tmux::start("fill", "80", "24", &cmd);
    tmux.wait_for(&|s| s.contains("waiting for connections"), 15);
    tmux.run(&["send-keys", "-t", "q", "b"]);
    let full = tmux.wait_for(&|s| accept_queue(s) == Some(4), 20);
    assert!(full.contains("backlog 3  accept queue 4/4 FULL"), "{full}");
    assert!(full.contains(&format!("listener 127.0.0.1:{port}")), "{full}");
    let draining = tmux.wait_for(&|s| accept_queue(s).is_some_and(|n| n < 4), 20);
    assert!(!draining.contains("FULL"), "{draining}");
    // The verdict's panel is still there.
    assert!(draining.contains("What it means"), "{draining}");
}

/// The backlog scenario against synack's own server, watched through
/// sock_diag: the accept queue fills to 4 with backlog 3 (full), drains below it, and
/// once the scenario returns the server is back to its usual backlog (a
/// scenario run next is not slowed by one accept every 200 ms).
#[test]
fn the_backlog_scenario_fills_then_drains_the_accept_queue() {
    use synack::echo::{self, CHOKE_BACKLOG, ServerConfig};
    let server = echo::Server::start(echo::bind("127.0.0.1:0".parse().unwrap()).unwrap(), ServerConfig::default());
    let addr = server.addr();
    let mut diag = Diag::open().unwrap();
    assert_ne!(diag.queues(addr.port()).unwrap().backlog, CHOKE_BACKLOG as u32);
    let run = std::thread::spawn(move || echo::run_scenario(synack::scenario::Scenario::Backlog, addr, "helloworld"));
    let mut seen = Vec::new();
    while !run.is_finished() {
        let q = diag.queues(addr.port()).unwrap();
        if q.backlog == CHOKE_BACKLOG as u32 && seen.last() != Some(&q.accept_queue) {
            seen.push(q.accept_queue);
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    run.join().unwrap().unwrap();
    let full = seen.iter().position(|&n| n == 4).unwrap_or_else(|| panic!("never 4 waiting: {seen:?}"));
    assert!(seen[full..].iter().any(|&n| n < 4), "never drained: {seen:?}");
    // sk_acceptq_is_full is read without a lock: handshakes completed at
    // the same moment on other CPUs may each pass it, one more per CPU.
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as u32;
    assert!(seen.iter().all(|&n| n <= 4 + (cpus - 1)), "more than backlog + 1 (+ one per other CPU) waited: {seen:?}");
    let after = diag.queues(addr.port()).unwrap().backlog;
    assert_ne!(after, CHOKE_BACKLOG as u32, "the usual backlog once the scenario is over");
    server.stop();
}
