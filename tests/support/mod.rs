//! Segment and frame builders shared by the integration tests: segments come
//! from a template, fixtures are built state by state.
#![allow(dead_code)]

use std::net::SocketAddr;

use synack::model::segment::{Flags, Preview, Segment, TcpOptions, Timestamp};
use synack::model::seq::SeqNum;
use synack::model::tracker::{Connection, Push, Tracker};

pub const CLIENT: &str = "127.0.0.1:40000";
pub const SERVER: &str = "127.0.0.1:8001";
pub const CISN: u32 = 1000;
pub const SISN: u32 = 5000;

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// The template every built segment starts from.
pub fn template() -> Segment {
    Segment {
        ts: Timestamp(1_700_000_000_000_000_000),
        src: addr(CLIENT),
        dst: addr(SERVER),
        flags: Flags::ACK,
        seq: SeqNum(0),
        ack: SeqNum(0),
        window: 512,
        options: TcpOptions::default(),
        payload_len: 0,
        preview: Preview::default(),
        encap: Default::default(),
        icmp: None,
    }
}

/// A conversation between CLIENT and SERVER with relative numbers: `c(...)`
/// and `s(...)` send from either side, `seq`/`ack` relative to the ISNs.
pub struct Talk {
    pub tracker: Tracker,
    pub t: u64,
    pub last: Push,
    /// The client's and the server's addresses (CLIENT and SERVER unless
    /// made with [`Talk::between`]).
    pub ends: (SocketAddr, SocketAddr),
}

impl Talk {
    pub fn new() -> Talk {
        Talk::between(CLIENT, SERVER)
    }

    /// A conversation between these two endpoints.
    pub fn between(client: &str, server: &str) -> Talk {
        Talk {
            tracker: Tracker::new(Some(8001), synack::model::tracker::Limits::both(100)),
            t: 0,
            last: Push::default(),
            ends: (addr(client), addr(server)),
        }
    }

    fn send(&mut self, from_client: bool, flags: Flags, seq: u32, ack: u32, data: &[u8]) -> Push {
        self.t += 10_000;
        let mut seg = template();
        seg.ts = Timestamp(seg.ts.0 + self.t);
        (seg.src, seg.dst) = self.ends;
        if !from_client {
            std::mem::swap(&mut seg.src, &mut seg.dst);
        }
        let (my, peer) = if from_client { (CISN, SISN) } else { (SISN, CISN) };
        seg.flags = flags;
        seg.seq = SeqNum(my.wrapping_add(seq));
        seg.ack = if flags.ack() { SeqNum(peer.wrapping_add(ack)) } else { SeqNum(0) };
        seg.payload_len = u32::try_from(data.len()).unwrap();
        seg.preview = Preview::new(data);
        if flags.syn() {
            seg.options.mss = Some(65495);
        }
        self.last = self.tracker.push(&seg);
        self.last
    }

    /// Lets `millis` pass before the next segment.
    pub fn wait_ms(&mut self, millis: u64) {
        self.t += millis * 1_000_000;
    }

    /// The client sends.
    pub fn c(&mut self, flags: Flags, seq: u32, ack: u32, data: &[u8]) -> Push {
        self.send(true, flags, seq, ack, data)
    }

    /// The server sends.
    pub fn s(&mut self, flags: Flags, seq: u32, ack: u32, data: &[u8]) -> Push {
        self.send(false, flags, seq, ack, data)
    }

    /// The connection the last segment went to.
    pub fn conn(&self) -> &Connection {
        self.tracker.get(self.last.id).expect("connection retained")
    }

    /// (client state, server state) as names.
    pub fn states(&self) -> (&'static str, &'static str) {
        let c = self.conn();
        (c.client.state.name(), c.server.state.name())
    }
}

pub const SYN: Flags = Flags::SYN;
pub const ACK: Flags = Flags::ACK;
pub const RST: Flags = Flags::RST;

pub fn syn_ack() -> Flags {
    Flags::SYN | Flags::ACK
}
pub fn psh_ack() -> Flags {
    Flags::PSH | Flags::ACK
}
pub fn fin_ack() -> Flags {
    Flags::FIN | Flags::ACK
}
pub fn rst_ack() -> Flags {
    Flags::RST | Flags::ACK
}

/// SYN sent: client SYN-SENT, server LISTEN.
pub fn syn_sent() -> Talk {
    let mut t = Talk::new();
    t.c(SYN, 0, 0, b"");
    t
}

/// SYN-ACK sent: server SYN-RECEIVED.
pub fn syn_received() -> Talk {
    let mut t = syn_sent();
    t.s(syn_ack(), 0, 1, b"");
    t
}

/// Handshake done and one request/reply exchanged: both ESTABLISHED; next
/// client seq 11, next server seq 11.
pub fn established() -> Talk {
    let mut t = syn_received();
    t.c(ACK, 1, 1, b"");
    t.c(psh_ack(), 1, 1, b"helloworld");
    t.s(psh_ack(), 1, 11, b"HELLOWORLD");
    t.c(ACK, 11, 11, b"");
    t
}

/// The client sent its FIN: client FIN-WAIT-1, server CLOSE-WAIT.
pub fn fin_wait_1() -> Talk {
    let mut t = established();
    t.c(fin_ack(), 11, 11, b"");
    t
}

/// The server acknowledged the client's FIN alone: client FIN-WAIT-2.
pub fn fin_wait_2() -> Talk {
    let mut t = fin_wait_1();
    t.s(ACK, 11, 12, b"");
    t
}

/// The server sent its FIN after acking: server LAST-ACK, client TIME-WAIT.
pub fn last_ack() -> Talk {
    let mut t = fin_wait_2();
    t.s(fin_ack(), 11, 12, b"");
    t
}

/// A zeroed-Ethernet IPv4/TCP frame as Linux `lo` shows it.
pub fn frame(src: &str, dst: &str, flags: Flags, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = (addr(src), addr(dst));
    let (SocketAddr::V4(s), SocketAddr::V4(d)) = (src, dst) else { panic!("IPv4 only") };
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let total = u16::try_from(20 + 20 + payload.len()).unwrap();
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&total.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend_from_slice(&s.ip().octets());
    f.extend_from_slice(&d.ip().octets());
    f.extend_from_slice(&s.port().to_be_bytes());
    f.extend_from_slice(&d.port().to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags.0, 0x02, 0x00, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A little-endian microsecond pcap file (link type `link`) holding `frames`.
pub fn pcap(link: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&link.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        let len = u32::try_from(f.len()).unwrap();
        out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        out.extend_from_slice(&u32::try_from(i * 10).unwrap().to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}

/// Whether live-capture tests can run here (root). When they cannot, they
/// skip, unless SYNACK_REQUIRE_CAPTURE=1 (CI), where this panics instead.
pub fn capture_allowed() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"));
    if !root {
        assert!(
            std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"),
            "SYNACK_REQUIRE_CAPTURE=1 but the tests do not run as root: capture tests cannot run"
        );
        eprintln!("skipping: live capture needs root");
    }
    root
}

/// A fresh directory for one test's files, named by process and `tag`.
pub fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("synack-test-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// What `synack trace --format jsonl` writes for `source`, run in-process,
/// parsed: one value per connection.
pub fn trace_jsonl<S: synack::capture::FrameSource>(source: &mut S) -> Vec<serde_json::Value> {
    use synack::headless::{self, Stop};
    let mut pipeline = synack::pipeline::Pipeline::new(None, synack::model::tracker::Limits::default());
    let mut exporter = synack::export::exporter(synack::export::Format::Jsonl);
    let mut out = Vec::new();
    let stop = Stop::default();
    let ended = headless::run(source, &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
    headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The frames of a whole exchange with a three-way close (SYN, SYN-ACK, ACK,
/// FIN, FIN, ACK) between 127.0.0.1:40000 and 127.0.0.1:8001.
pub fn close_frames() -> Vec<Vec<u8>> {
    let (c, s) = ("127.0.0.1:40000", "127.0.0.1:8001");
    vec![
        frame(c, s, Flags::SYN, 100, 0, b""),
        frame(s, c, Flags::SYN | Flags::ACK, 500, 101, b""),
        frame(c, s, Flags::ACK, 101, 501, b""),
        frame(c, s, Flags::FIN | Flags::ACK, 101, 501, b""),
        frame(s, c, Flags::FIN | Flags::ACK, 501, 102, b""),
        frame(c, s, Flags::ACK, 102, 502, b""),
    ]
}

/// A handshake among broken frames (Ethernet): two with a truncated TCP
/// header, one with a bad IPv4 header length (what the decode summary counts).
pub fn undecodable_frames() -> Vec<Vec<u8>> {
    let (c, s) = (CLIENT, SERVER);
    let mut bad_ihl = frame(c, s, Flags::ACK, 1, 1, b"");
    bad_ihl[14] = 0x43;
    let mut bad_tcp = frame(c, s, Flags::ACK, 1, 1, b"");
    bad_tcp.truncate(14 + 20 + 10);
    vec![
        frame(c, s, Flags::SYN, 1, 0, b""),
        bad_tcp.clone(),
        frame(s, c, Flags::SYN | Flags::ACK, 9, 2, b""),
        bad_ihl,
        bad_tcp,
        frame(c, s, Flags::ACK, 2, 10, b""),
    ]
}

/// Every committed capture: tests/fixtures and tests/fixtures/encap, sorted.
pub fn committed_captures() -> Vec<std::path::PathBuf> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<std::path::PathBuf> = ["", "encap"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    files
}

/// Stops a child process the test started (by its PID, through its handle)
/// if it still runs: for a `Drop` that must not leave it behind.
pub fn stop(child: &mut std::process::Child) {
    if child.try_wait().ok().flatten().is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Runs synack with `args` as nobody with CAP_NET_RAW only (ambient): the
/// capture can open, the kernel's tracepoints cannot.
pub fn synack_with_net_raw_only(args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=+net_raw",
            "--ambient-caps=+net_raw",
            "--",
        ])
        .arg(env!("CARGO_BIN_EXE_synack"))
        .args(args)
        .output()
        .expect("setpriv (util-linux, installed by .ci/run)")
}

/// A free loopback port of the test's own, for a program that must be told
/// its port before it starts (`synack trace --port`): bound to port 0, then
/// let go.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `synack trace`, stopped by the test (SIGINT, by its PID), or
/// killed however the test ends. Its standard error is read line by line
/// as it comes, its standard output gathered whole (a full pipe would block
/// it).
pub struct Trace {
    pub child: std::process::Child,
    stderr: std::sync::mpsc::Receiver<String>,
    /// The lines of standard error read so far.
    pub stderr_seen: Vec<String>,
    stdout: Option<std::thread::JoinHandle<String>>,
}

impl Drop for Trace {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

impl Trace {
    /// Starts `synack trace ARGS` and waits (at most 10 s) until it says it
    /// captures.
    pub fn start(args: &[&str]) -> Trace {
        Trace::start_with(args, &[])
    }

    /// [`Trace::start`] with `env` added to its environment.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Trace {
        use std::io::{BufRead, Read};
        use std::process::Stdio;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_synack"))
            .arg("trace")
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start synack trace");
        let (tx, stderr) = std::sync::mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let mut t = Trace { child, stderr, stderr_seen: Vec::new(), stdout: Some(stdout) };
        t.wait_for("capturing on");
        t
    }

    /// Waits (at most 10 s) for a line of standard error holding `what`.
    pub fn wait_for(&mut self, what: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let hit = line.contains(what);
                    self.stderr_seen.push(line);
                    if hit {
                        return;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("synack trace never said {what:?}; stderr: {:?}", self.stderr_seen);
    }

    /// Stops it as Ctrl-C does (SIGINT, by its PID), then [`Trace::finish`].
    pub fn interrupt(self) -> (String, String) {
        let pid = self.child.id().to_string();
        let sent = std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(sent.success(), "kill -INT {pid}");
        self.finish()
    }

    /// Waits (at most 30 s) for it to end, which it must do well: its
    /// standard output and all its standard error.
    pub fn finish(mut self) -> (String, String) {
        // Its output closes when it ends.
        let (done, ended) = std::sync::mpsc::channel();
        let stdout = self.stdout.take().unwrap();
        std::thread::spawn(move || {
            let _ = done.send(stdout.join().unwrap_or_default());
        });
        let out = ended
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("synack trace did not stop; stderr: {:?}", self.stderr_seen));
        let status = self.child.wait().unwrap();
        // Standard error closes when it ends too.
        while let Ok(line) = self.stderr.recv_timeout(std::time::Duration::from_secs(5)) {
            self.stderr_seen.push(line);
        }
        let err = self.stderr_seen.join("\n");
        assert!(status.success(), "synack trace failed ({status}): {err}");
        (out, err)
    }
}

/// What `synack ARGS` writes, run to its end (a read of a file): its
/// standard output; it must end well.
pub fn synack_output(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_synack")).args(args).output().expect("run synack");
    assert!(out.status.success(), "synack {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Whether a tool the renderer tests need is there; without it they skip,
/// except in CI (SYNACK_REQUIRE_CAPTURE=1), where `.ci/run` installs it.
pub fn have(what: &str, ok: bool) -> bool {
    if !ok {
        assert!(
            std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"),
            "{what} is missing (.ci/run installs it)"
        );
        eprintln!("skipping: {what} is missing");
    }
    ok
}
