//! The command line on bad input: exit codes and messages.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn synack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synack")).args(args).output().expect("run synack")
}

fn tempfile(name: &str, bytes: &[u8]) -> PathBuf {
    let p = support::tempdir("cli").join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn empty_file() {
    let p = tempfile("empty.pcap", b"");
    let o = synack(&["trace", "--read", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim(), format!("error: {} is empty", p.display()));
}

#[test]
fn not_a_capture() {
    let p = tempfile("notes.txt", b"hello, this is text\n");
    let o = synack(&["trace", "--read", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with(&format!("error: {} is not a pcap or pcapng capture", p.display())), "{e}");
    assert!(e.contains("68 65 6c 6c"), "names what it found: {e}");
    assert_eq!(e.lines().count(), 1);
}

#[test]
fn missing_file() {
    let o = synack(&["trace", "--read", "/nonexistent/x.pcap"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: cannot open /nonexistent/x.pcap: "), "{}", stderr(&o));
}

#[test]
fn unknown_link_type() {
    let bytes = support::pcap(147, &[vec![0; 40]]);
    let p = tempfile("user0.pcap", &bytes);
    let o = synack(&["trace", "--read", p.to_str().unwrap()]);
    // Read to its end: counted, said once, exit 0.
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o).trim(), "1 frame not decoded: 1 in link type 147");
}

#[test]
fn truncated_file_keeps_what_was_read() {
    let whole = std::fs::read(fixture("abort.pcap")).unwrap();
    // Cut in the middle of the last record.
    let cut = &whole[..whole.len() - 10];
    let p = tempfile("cut.pcap", cut);
    let o = synack(&["trace", "--read", p.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    let packets = 7; // abort.pcap has 8 records
    assert!(e.contains(&format!("error: {} is truncated after packet {packets} (byte offset ", p.display())), "{e}");
    // The offset is where the cut record starts.
    let last_record_len = whole.len() - {
        // Walk the records to find the last one's start.
        let mut at = 24;
        let mut starts = Vec::new();
        while at < whole.len() {
            starts.push(at);
            let incl = u32::from_le_bytes(whole[at + 8..at + 12].try_into().unwrap()) as usize;
            at += 16 + incl;
        }
        *starts.last().unwrap()
    };
    let start = whole.len() - last_record_len;
    assert!(e.contains(&format!("(byte offset {start})")), "{e}");
    // What was read before the cut is printed: the connection, still open.
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(out.lines().count(), 1);
    assert!(out.contains("\"kind\":\"open\""), "{out}");
}

#[test]
fn undecodable_frames_are_counted_and_skipped() {
    let frames = support::undecodable_frames();
    let p = tempfile("bad-frames.pcap", &support::pcap(1, &frames));
    let o = synack(&["trace", "--read", p.to_str().unwrap(), "--format", "jsonl"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o).trim(), "3 frames could not be decoded: 2 truncated TCP header, 1 bad IPv4 header length");
    let out = String::from_utf8_lossy(&o.stdout);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["handshake"]["complete"], true, "the rest of the file is processed");
}

#[test]
fn corrupt_record_length() {
    let mut bytes = std::fs::read(fixture("refused.pcap")).unwrap();
    // First record's incl_len: larger than its orig_len and than any frame.
    bytes[24 + 8..24 + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let p = tempfile("corrupt.pcap", &bytes);
    let o = synack(&["trace", "--read", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains(&p.display().to_string()) && (e.contains("truncated") || e.contains("corrupt")), "{e}");
}

#[test]
fn stdin_stream() {
    use std::io::Write;
    let bytes = std::fs::read(fixture("seed.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["trace", "--read", "-", "--format", "jsonl"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"kind\":\"three-way\""));
}

#[test]
fn count_stops_early() {
    let o = synack(&["trace", "--read", fixture("seed.pcap").to_str().unwrap(), "--count", "1", "--format", "jsonl"]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let o = synack(&["trace", "--format", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    let o = synack(&["--speed", "2", "--step"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn serve_on_a_busy_port_says_so() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let o = synack(&["serve", "--addr", &addr]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim(), format!("error: {addr} is already in use (another synack serve?)"));
}

#[test]
fn the_dashboard_needs_a_terminal() {
    // Output captured by the test is no terminal; replay needs no privileges.
    let o = synack(&["--read", fixture("seed.pcap").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).trim(), "error: the dashboard needs a terminal; use 'synack trace' for plain output");
    let o = synack(&["demo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs a terminal"));
}

#[test]
fn client_against_nothing_fails_clearly() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let o = synack(&["client", "--addr", &addr]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with(&format!("error: 1 of 1 connections to {addr} failed")) && e.contains("synack serve"), "{e}");
    let o = synack(&["client", "--addr", &addr, "--scenario", "refused"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("refused, as intended"));
}

#[test]
fn count_zero_is_refused() {
    let o = synack(&["trace", "--read", fixture("seed.pcap").to_str().unwrap(), "--count", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--count"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_connection_lists_the_ids() {
    let mut both = std::fs::read(fixture("seed.pcap")).unwrap();
    // seed.pcap then slow-close.pcap's records: two connections.
    let slow = std::fs::read(fixture("slow-close.pcap")).unwrap();
    both.extend_from_slice(&slow[24..]);
    let p = tempfile("two.pcap", &both);
    let o = synack(&["trace", "--read", p.to_str().unwrap(), "--connection", "99"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim(), "error: there is no connection #99: it holds #1 to #2");
    let o = synack(&["trace", "--read", p.to_str().unwrap(), "--connection", "2"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("#2 "));
}

#[test]
fn output_over_input_is_refused() {
    let p = tempfile("input.pcap", &std::fs::read(fixture("seed.pcap")).unwrap());
    let link = p.with_file_name("link.pcap");
    std::os::unix::fs::symlink(&p, &link).unwrap();
    for out in [&p, &link] {
        let o = synack(&["trace", "--read", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("it is the input"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(fixture("seed.pcap")).unwrap(), "the input is intact");
}

#[test]
fn short_flags_have_one_meaning() {
    use clap::CommandFactory;
    let mut meaning = std::collections::BTreeMap::new();
    let root = synack::cli::Cli::command();
    let mut commands = vec![&root];
    commands.extend(root.get_subcommands());
    for cmd in commands {
        for arg in cmd.get_arguments() {
            if let (Some(short), Some(long)) = (arg.get_short(), arg.get_long()) {
                let seen = meaning.entry(short).or_insert(long);
                assert_eq!(*seen, long, "-{short} means --{seen} and --{long}");
            }
        }
    }
    assert_eq!(meaning.get(&'r'), Some(&"read"));
}

/// `tcpdump -U -w - | synack trace --read -`: a connection that ended is
/// written while the stream stays open (no next packet needed), and a stop
/// signal ends the run with exit 0 and nothing lost.
#[test]
fn following_a_stream_writes_at_once_and_stops_on_a_signal() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    for sig in ["INT", "TERM"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
            .args(["trace", "--read", "-", "--format", "jsonl"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&std::fs::read(fixture("seed.pcap")).unwrap()).unwrap();
        stdin.flush().unwrap();
        // The line comes while stdin is still open (read on a thread, so that
        // a line that never comes fails the test instead of hanging it).
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let _ = tx.send(line);
        });
        let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("SIG{sig}: no line within 30 s while the stream stayed open");
        };
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["close"]["kind"], "three-way");
        Command::new("kill").args([&format!("-{sig}"), &child.id().to_string()]).status().unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "SIG{sig}");
        drop(stdin);
    }
}

#[test]
fn completions_and_manpage_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish"] {
        let o = synack(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        // fish names long options without their dashes.
        for word in ["trace", "demo", "format", "slow-close", "max-segments"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        if shell == "bash" {
            let dir = support::tempdir("completions");
            let file = dir.join("synack.bash");
            std::fs::write(&file, &script).unwrap();
            let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
            assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
        }
    }
    let o = synack(&["manpage"]);
    assert!(o.status.success());
    let man = String::from_utf8(o.stdout).unwrap();
    assert!(man.contains(".TH synack 1") && man.contains("SUBCOMMANDS") && man.contains("trace"), "{man}");
    let o = synack(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is a usage error");
}

/// What `synack trace --format jsonl` says of a capture: kinds and segment counts.
fn kinds(path: &Path) -> Vec<(String, usize)> {
    let o = synack(&["trace", "--read", path.to_str().unwrap(), "--format", "jsonl"]);
    assert!(o.status.success(), "{}", stderr(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["close"]["kind"].as_str().unwrap().to_string(), v["segments"].as_array().unwrap().len())
        })
        .collect()
}

/// How many packets tcpdump reads from a capture.
fn tcpdump_reads(path: &Path) -> usize {
    let o = Command::new("tcpdump").args(["-nn", "-r"]).arg(path).output().expect("tcpdump (installed by .ci/run)");
    String::from_utf8_lossy(&o.stdout).lines().count()
}

#[test]
fn input_a_microsecond_field_of_a_million_is_read_as_tcpdump_reads_it() {
    let mut bytes = support::pcap(1, &support::close_frames());
    // The third record's microseconds: 1,000,000 (a whole second).
    let mut at = 24;
    for _ in 0..2 {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + caplen;
    }
    bytes[at + 4..at + 8].copy_from_slice(&1_000_000u32.to_le_bytes());
    let p = tempfile("usec.pcap", &bytes);
    assert_eq!(tcpdump_reads(&p), 6);
    assert_eq!(kinds(&p), [("three-way".to_string(), 6)]);
}

#[test]
fn input_three_vlan_tags_are_walked() {
    let tagged: Vec<Vec<u8>> = support::close_frames()
        .into_iter()
        .map(|f| {
            // 802.1ad, then 802.1Q twice, then IPv4.
            let mut t = f[..12].to_vec();
            for (tpid, vid) in [(0x88a8u16, 10u16), (0x8100, 20), (0x8100, 30)] {
                t.extend_from_slice(&tpid.to_be_bytes());
                t.extend_from_slice(&vid.to_be_bytes());
            }
            t.extend_from_slice(&f[12..]);
            t
        })
        .collect();
    let p = tempfile("vlan3.pcap", &support::pcap(1, &tagged));
    assert_eq!(tcpdump_reads(&p), 6);
    assert_eq!(kinds(&p), [("three-way".to_string(), 6)]);
}

#[test]
fn input_an_obsolete_pcapng_packet_block_is_read() {
    let mut b = Vec::new();
    let block = |b: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let len = u32::try_from(12 + body.len()).unwrap();
        b.extend_from_slice(&kind.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
    };
    let mut shb = 0x1A2B_3C4Du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut b, 0x0A0D_0D0A, &shb);
    let mut idb = 1u16.to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    block(&mut b, 1, &idb);
    for (i, f) in support::close_frames().iter().enumerate() {
        let ts = 1_700_000_000_000_000u64 + u64::try_from(i).unwrap() * 10;
        let mut pb = 0u16.to_le_bytes().to_vec();
        pb.extend_from_slice(&0u16.to_le_bytes());
        pb.extend_from_slice(&u32::try_from(ts >> 32).unwrap().to_le_bytes());
        pb.extend_from_slice(&u32::try_from(ts & 0xffff_ffff).unwrap().to_le_bytes());
        let len = u32::try_from(f.len()).unwrap();
        pb.extend_from_slice(&len.to_le_bytes());
        pb.extend_from_slice(&len.to_le_bytes());
        pb.extend_from_slice(f);
        pb.resize(pb.len().div_ceil(4) * 4, 0);
        block(&mut b, 2, &pb);
    }
    let p = tempfile("obsolete.pcapng", &b);
    assert_eq!(tcpdump_reads(&p), 6);
    assert_eq!(kinds(&p), [("three-way".to_string(), 6)]);
}

#[test]
fn serve_beyond_loopback_warns() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--addr", "0.0.0.0:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("warning") && line.contains("0.0.0.0"), "{line}");
}

#[test]
fn client_fails_on_a_wrong_answer() {
    use std::io::{Read, Write};
    // A server that answers, but not as an echo server does.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let _ = conn.read(&mut buf).unwrap();
        conn.write_all(b"helloworld\n").unwrap();
    });
    let o = synack(&["client", "--addr", &addr, "--scenario", "seed"]);
    server.join().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("where an echo server answers"), "{}", stderr(&o));
}

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    let o = synack(&["trace", "--read", fixture("seed.pcap").to_str().unwrap()]);
    assert!(o.status.success());
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

/// A gzip-compressed capture (`.pcap.gz`) reads as the capture itself.
#[test]
fn gzip_compressed_capture() {
    use std::io::Write as _;
    let plain = std::fs::read(fixture("slow-close.pcap")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&plain).unwrap();
    let p = tempfile("slow-close.pcap.gz", &gz.finish().unwrap());
    let a = synack(&["trace", "--format", "jsonl", "--read", p.to_str().unwrap()]);
    let b = synack(&["trace", "--format", "jsonl", "--read", fixture("slow-close.pcap").to_str().unwrap()]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout);
}

/// `synack trace ... | head`: the reader of the output goes away. synack
/// stops without an error, as tools in a pipeline do. The pipe's reading end
/// is closed before synack starts, so its first write fails, on one thread
/// and on several.
#[test]
fn a_reader_that_goes_away_is_no_error() {
    for threads in ["1", "2"] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_synack"))
            .args(["trace", "--read", fixture("seed.pcap").to_str().unwrap(), "--threads", threads])
            .stdout(writer)
            .output()
            .expect("run synack");
        assert_eq!(stderr(&out), "", "--threads {threads}");
        assert!(out.status.success(), "--threads {threads}: {:?}", out.status);
    }
    // Any other output error is one.
    let out = synack(&["trace", "--read", fixture("seed.pcap").to_str().unwrap(), "--output", "/dev/full"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot write the output"), "{}", stderr(&out));
}

/// The tutorial's own client, in Python, against `synack serve`: it sends
/// "helloworld" with no newline and reads once, and its reply comes at once
/// (the tutorial's server answers what one `recv(1024)` returns). The
/// script measures the exchange itself; the test reads the number it prints.
#[test]
fn the_tutorials_python_client_is_answered_at_once() {
    use std::io::{BufRead, BufReader};
    if Command::new("python3").arg("--version").output().is_err() {
        assert!(std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"), "python3 is missing");
        eprintln!("skipping: no python3");
        return;
    }
    let mut serve = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(serve.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.split("127.0.0.1:").nth(1).and_then(|r| r.split_whitespace().next()).unwrap().to_string();
    const CLIENT: &str = "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(('127.0.0.1', int(sys.argv[1])))
start = time.monotonic()
s.send(b'helloworld')
data = s.recv(1024)
took = (time.monotonic() - start) * 1000
s.close()
print('%s %.3f' % (data.decode(), took))
";
    let out = Command::new("python3").args(["-c", CLIENT, &port]).output().unwrap();
    serve.kill().unwrap();
    serve.wait().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let (reply, ms) = printed.trim().split_once(' ').unwrap();
    assert_eq!(reply, "HELLOWORLD", "{printed}");
    let ms: f64 = ms.parse().unwrap();
    assert!(ms < 200.0, "the tutorial's client waited {ms} ms for its reply");
}

/// `trace --count 1 --write` ends with a summary that counts what it
/// printed: one connection, not the zero the tracker still holds.
#[test]
fn a_live_trace_summary_counts_the_connections_written() {
    use std::io::{BufRead, BufReader};
    if !support::capture_allowed() {
        return;
    }
    let server = synack::echo::Server::start(
        synack::echo::bind("127.0.0.1:0".parse().unwrap()).unwrap(),
        synack::echo::ServerConfig::default(),
    );
    let port = server.addr().port().to_string();
    let dir = support::tempdir("count-summary");
    let (pcap, out) = (dir.join("one.pcapng"), dir.join("one.txt"));
    let mut trace = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["trace", "--port", &port, "--count", "1", "--kernel", "off", "--write"])
        .arg(&pcap)
        .arg("-o")
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(trace.stderr.take().unwrap());
    let mut said = String::new();
    // Capturing once it says so.
    while !said.contains("capturing") {
        assert!(stderr.read_line(&mut said).unwrap() > 0, "{said}");
    }
    let reply = synack::echo::run_scenario(synack::scenario::Scenario::Seed, server.addr(), "helloworld");
    assert!(reply.is_ok(), "{reply:?}");
    std::io::Read::read_to_string(&mut stderr, &mut said).unwrap();
    assert!(trace.wait().unwrap().success(), "{said}");
    server.stop();
    let printed = std::fs::read_to_string(&out).unwrap();
    assert_eq!(printed.lines().filter(|l| l.starts_with('#')).count(), 1, "{printed}");
    assert!(said.contains("dropped by the kernel, 1 connection written"), "{said}");
}
