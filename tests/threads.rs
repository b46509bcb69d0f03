//! `trace --read FILE --threads N`: the connections split between N threads
//! by tuple (jsonl, text), or, where a capture needs one tracker, one thread
//! reads and decodes, one tracks, N format. Whatever N, the output is byte
//! for byte the one-thread output:
//! on every committed capture, on a capture of thousands of connections
//! (written while reading and at the end, some still open, some reset, some
//! in IPv4 fragments), on a recording holding the kernel view's changes, and
//! on a capture cut short, where the error and what was read before it are
//! the same too. A file is mapped into memory and a pipe is read: both give
//! that output as well.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use synack::model::segment::Flags as F;

fn synack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_synack")).args(args).output().expect("run synack")
}

/// `trace --read path` with `args` and `--threads n`.
fn trace(path: &Path, args: &[&str], n: u16) -> Output {
    let n = n.to_string();
    let mut all = vec!["trace", "--read", path.to_str().unwrap(), "--threads", &n];
    all.extend_from_slice(args);
    synack(&all)
}

/// Asserts that every thread count gives the one-thread output (stdout,
/// stderr, exit status); returns that output.
fn same_for_any_threads(path: &Path, args: &[&str]) -> Output {
    let one = trace(path, args, 1);
    for n in [2, 3, 8] {
        let many = trace(path, args, n);
        assert_eq!(many.status.code(), one.status.code(), "{} {args:?} --threads {n}", path.display());
        assert!(many.stdout == one.stdout, "{} {args:?}: --threads {n} writes another output", path.display());
        assert_eq!(String::from_utf8_lossy(&many.stderr), String::from_utf8_lossy(&one.stderr));
    }
    one
}

/// A capture of `n` connections on ports from 20000, interleaved ten at a
/// time: most close with a four-way close, every seventh stays open, every
/// eleventh is reset.
fn many_connections(n: u16) -> Vec<u8> {
    let mut frames = Vec::new();
    for group in (0..n).collect::<Vec<_>>().chunks(10) {
        let talks: Vec<Vec<Vec<u8>>> = group
            .iter()
            .map(|&i| {
                let c = format!("127.0.0.1:{}", 20_000 + i);
                let s = "127.0.0.1:8001";
                let mut t = vec![
                    support::frame(&c, s, F::SYN, 100, 0, b""),
                    support::frame(s, &c, F::SYN | F::ACK, 900, 101, b""),
                    support::frame(&c, s, F::ACK, 101, 901, b""),
                    support::frame(&c, s, F::PSH | F::ACK, 101, 901, b"helloworld"),
                    support::frame(s, &c, F::PSH | F::ACK, 901, 111, b"HELLOWORLD"),
                ];
                if i % 11 == 0 {
                    t.push(support::frame(&c, s, F::RST | F::ACK, 111, 911, b""));
                } else if i % 7 != 0 {
                    t.push(support::frame(&c, s, F::FIN | F::ACK, 111, 911, b""));
                    t.push(support::frame(s, &c, F::FIN | F::ACK, 911, 112, b""));
                    t.push(support::frame(&c, s, F::ACK, 112, 912, b""));
                }
                t
            })
            .collect();
        // Round robin: the connections of a group overlap.
        for k in 0..8 {
            for t in &talks {
                if let Some(f) = t.get(k) {
                    frames.push(f.clone());
                }
            }
        }
    }
    support::pcap(1, &frames)
}

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let p = support::tempdir("threads").join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn every_committed_capture() {
    let files = support::committed_captures();
    assert!(files.len() > 30);
    for f in &files {
        for format in ["jsonl", "text"] {
            let out = same_for_any_threads(f, &["--format", format]);
            assert!(out.status.success(), "{}", f.display());
        }
    }
    // The fragments are reassembled on the tracking thread.
    let frag = files.iter().find(|f| f.ends_with("encap/ipv4-fragments.pcap")).unwrap();
    let frag = same_for_any_threads(frag, &["--format", "jsonl"]);
    assert!(String::from_utf8_lossy(&frag.stdout).contains("\"client\""));
}

#[test]
fn thousands_of_connections_written_as_they_end() {
    let p = write("many.pcap", &many_connections(3_000));
    for format in ["jsonl", "text"] {
        // Written at the end, and (keeping 100 finished ones) all along.
        for limit in [None, Some("100")] {
            let mut args = vec!["--format", format];
            if let Some(l) = limit {
                args.extend_from_slice(&["--max-connections", l]);
            }
            let out = same_for_any_threads(&p, &args);
            assert!(out.status.success());
            if format == "jsonl" {
                let text = String::from_utf8(out.stdout).unwrap();
                assert_eq!(text.lines().count(), 3_000);
                // Each once, the open ones last.
                let mut ids: Vec<u64> = text
                    .lines()
                    .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_u64().unwrap())
                    .collect();
                let open = (0..3_000).filter(|i| i % 7 == 0 && i % 11 != 0).count();
                assert_eq!(text.matches("\"kind\":\"open\"").count(), open);
                assert!(text.lines().skip(3_000 - open).all(|l| l.contains("\"kind\":\"open\"")));
                ids.sort_unstable();
                assert_eq!(ids, (1..=3_000).collect::<Vec<u64>>());
            }
        }
    }
    // One connection, and a count.
    same_for_any_threads(&p, &["--format", "jsonl", "--connection", "1234"]);
    same_for_any_threads(&p, &["--format", "text", "--count", "700"]);
}

#[test]
fn a_capture_cut_short_keeps_what_was_read() {
    let whole = many_connections(500);
    let p = write("cut.pcap", &whole[..whole.len() * 2 / 3]);
    let out = same_for_any_threads(&p, &["--format", "jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is truncated after packet"));
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() > 300);
}

#[test]
fn a_recording_of_the_kernel_view() {
    use synack::capture::record::Recorder;
    use synack::model::decode::{Frame, LinkType};
    use synack::model::kernel::Change;
    use synack::model::segment::Timestamp;
    use synack::model::tcp::TcpState as S;
    let dir = support::tempdir("threads-kernel");
    let path = dir.join("kernel.pcapng");
    let mut rec = Recorder::create(&path).unwrap();
    let (c, s) = ("127.0.0.1:40000", "127.0.0.1:8001");
    let frames = support::close_frames();
    let change = |us: u64, local: &str, remote: &str, from, to| Change {
        ts: Timestamp(1_700_000_000_000_000_000 + us * 1_000),
        sock: if local == c { 1 } else { 2 },
        local: support::addr(local),
        remote: support::addr(remote),
        from,
        to,
    };
    let changes = [
        vec![change(0, c, s, S::Closed, S::SynSent)],
        vec![change(10, s, c, S::Listen, S::SynReceived), change(10, c, s, S::SynSent, S::Established)],
        vec![change(20, s, c, S::SynReceived, S::Established)],
        vec![change(30, c, s, S::Established, S::FinWait1)],
        vec![change(40, s, c, S::Established, S::CloseWait), change(40, s, c, S::CloseWait, S::LastAck)],
        vec![change(50, c, s, S::FinWait1, S::FinWait2), change(50, s, c, S::LastAck, S::Closed)],
    ];
    for (i, (f, cs)) in frames.iter().zip(&changes).enumerate() {
        let ts = Timestamp(1_700_000_000_000_000_000 + i as u64 * 10_000);
        rec.write(&Frame { ts, link: LinkType::Ethernet, data: f }).unwrap();
        for ch in cs {
            rec.write_kernel(ch).unwrap();
        }
    }
    rec.finish().unwrap();
    let out = same_for_any_threads(&path, &["--format", "jsonl"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["kernel"].as_array().map(Vec::len), Some(9), "{json}");
    same_for_any_threads(&path, &["--format", "text"]);
}

/// `trace --read -` with `path`'s bytes on standard input (read, not mapped).
fn trace_piped(path: &Path, args: &[&str]) -> Output {
    use std::io::Write;
    let mut all = vec!["trace", "--read", "-"];
    all.extend_from_slice(args);
    let mut child = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(&all)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run synack");
    let bytes = std::fs::read(path).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // A capture that synack stops reading early (a corrupt record) closes the pipe.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for synack");
    writer.join().unwrap();
    out
}

#[test]
fn a_mapped_file_reads_as_a_pipe_does() {
    let whole = many_connections(3_000);
    // Larger than what a mapped file makes available at a time (1 MiB).
    assert!(whole.len() > 1 << 20, "{}", whole.len());
    let mut files = support::committed_captures();
    files.push(write("mapped-whole.pcap", &whole));
    files.push(write("mapped-cut.pcap", &whole[..whole.len() * 5 / 6]));
    // A record claiming 32 MiB: past the limit on a record, read or mapped.
    let mut huge = whole[..24].to_vec();
    huge.extend_from_slice(&[0; 8]);
    huge.extend_from_slice(&(32u32 << 20).to_le_bytes());
    huge.extend_from_slice(&(32u32 << 20).to_le_bytes());
    huge.resize(huge.len() + (17 << 20), 0);
    files.push(write("mapped-huge-record.pcap", &huge));
    for f in &files {
        for threads in ["1", "2"] {
            let args = ["--format", "jsonl", "--threads", threads];
            let mapped = trace(f, &args[..2], threads.parse().unwrap());
            let piped = trace_piped(f, &args[..2]);
            assert_eq!(mapped.status.code(), piped.status.code(), "{}", f.display());
            assert!(mapped.stdout == piped.stdout, "{}: mapped and piped outputs differ", f.display());
            let named = String::from_utf8_lossy(&mapped.stderr).replace(f.to_str().unwrap(), "standard input");
            assert_eq!(named, String::from_utf8_lossy(&piped.stderr), "{}", f.display());
        }
    }
    let cut = trace(&files[files.len() - 2], &["--format", "jsonl"], 1);
    assert!(String::from_utf8_lossy(&cut.stderr).contains("is truncated after packet"));
    let huge = trace(&files[files.len() - 1], &["--format", "jsonl"], 1);
    assert_eq!(huge.status.code(), Some(1), "{}", String::from_utf8_lossy(&huge.stderr));
    assert!(
        String::from_utf8_lossy(&huge.stderr).contains("a record longer than"),
        "{}",
        String::from_utf8_lossy(&huge.stderr)
    );
}

/// `trace -v` says which engine read the file and why, the one the chooser
/// picked for what was asked; without `-v` nothing is said.
#[test]
fn verbose_says_which_engine_read_the_file_and_why() {
    let files = support::committed_captures();
    let seed = files.iter().find(|f| f.ends_with("fixtures/seed.pcap")).unwrap();
    let frag = files.iter().find(|f| f.ends_with("encap/ipv4-fragments.pcap")).unwrap();
    let said = |path: &Path, args: &[&str], n| String::from_utf8(trace(path, args, n).stderr).unwrap();
    assert_eq!(said(seed, &["--format", "jsonl", "-v"], 1), "synack: engine: one thread: --threads 1\n");
    let split = said(seed, &["--format", "jsonl", "-v"], 2);
    assert!(split.starts_with("synack: engine: sharded (2 threads") && split.contains("split by tuple"), "{split}");
    assert!(!split.contains("one tracking thread"), "{split}");
    // An IP fragment needs the one reassembler: from it on, one thread tracks.
    let fragments = said(frag, &["--format", "jsonl", "-v"], 3);
    assert!(fragments.contains("sharded (3 threads") && fragments.contains("IP fragment"), "{fragments}");
    assert!(fragments.contains("one tracking thread"), "{fragments}");
    let counted = said(seed, &["--format", "text", "-c", "1", "-v"], 2);
    assert!(counted.contains("pipelined") && counted.contains("--count"), "{counted}");
    let svg = said(seed, &["--format", "svg", "-v"], 2);
    assert!(svg.contains("pipelined") && svg.contains("one tracks and formats"), "{svg}");
    let piped = String::from_utf8(trace_piped(seed, &["--format", "jsonl", "--threads", "2", "-v"]).stderr).unwrap();
    assert!(piped.starts_with("synack: engine: one thread: a stream"), "{piped}");
    assert_eq!(said(seed, &["--format", "jsonl"], 2), "");
}
