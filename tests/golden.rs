//! Golden tests: real loopback captures (tests/fixtures, recorded by
//! scripts/record-fixtures.sh with tcpdump) and hand-built frames, run through
//! `synack trace --read`, their text and jsonl output snapshotted with insta.

mod support;

use std::path::Path;
use std::process::Command;

use support::*;

fn trace(path: &Path, format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["trace", "--read"])
        .arg(path)
        .args(["--format", format])
        .output()
        .expect("run synack");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn verdicts(jsonl: &str) -> Vec<(String, String)> {
    jsonl
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("valid JSON");
            (v["close"]["kind"].as_str().unwrap().to_string(), format!("{}", v["final_states"]))
        })
        .collect()
}

macro_rules! golden {
    ($name:ident, $file:literal, $kind:literal) => {
        #[test]
        fn $name() {
            let path = fixture($file);
            let text = trace(&path, "text");
            let jsonl = trace(&path, "jsonl");
            assert_eq!(verdicts(&jsonl)[0].0, $kind);
            insta::assert_snapshot!(concat!(stringify!($name), "_text"), text);
            insta::assert_snapshot!(concat!(stringify!($name), "_jsonl"), jsonl);
        }
    };
}

golden!(seed, "seed.pcap", "three-way");
golden!(client_first_three_way, "client-first.pcap", "three-way");
golden!(server_first_three_way, "server-first.pcap", "three-way");
golden!(slow_close_four_way, "slow-close.pcap", "four-way");
golden!(half_close_four_way, "half-close.pcap", "four-way");
golden!(abort_reset, "abort.pcap", "reset");
golden!(refused, "refused.pcap", "refused");
golden!(ipv6_simultaneous, "ipv6.pcap", "simultaneous");
golden!(half_close_data_four_way, "half-close-data.pcap", "four-way");
golden!(unread_rst_reset, "unread-rst.pcap", "reset");
golden!(seed_calls, "seed-calls.pcapng", "three-way");
golden!(stream_calls, "stream-calls.pcapng", "three-way");
golden!(fin_data_three_way, "fin-data.pcap", "three-way");
golden!(lost_last_ack_four_way, "lost-last-ack.pcap", "four-way");
golden!(time_wait_reuse, "time-wait-reuse.pcap", "three-way");
golden!(time_wait_reuse_client, "time-wait-reuse-client.pcap", "three-way");
golden!(backlog, "backlog.pcap", "three-way");
golden!(backlog_kernel, "backlog-kernel.pcapng", "three-way");

#[test]
fn other_writers_give_the_same_verdicts() {
    // pcapng, nanosecond pcap, Linux cooked v2 (-i any) and -s 68 of the seed exchange.
    let want = verdicts(&trace(&fixture("seed.pcap"), "jsonl"));
    assert_eq!(verdicts(&trace(&fixture("seed.pcapng"), "jsonl")), want);
    assert_eq!(trace(&fixture("seed.pcapng"), "jsonl"), trace(&fixture("seed.pcap"), "jsonl"));
    assert_eq!(trace(&fixture("seed-nsec.pcap"), "jsonl"), trace(&fixture("seed.pcap"), "jsonl"));
    assert_eq!(verdicts(&trace(&fixture("seed-any.pcap"), "jsonl"))[0].0, "three-way");
    let snap = trace(&fixture("seed-snap68.pcap"), "jsonl");
    let v: serde_json::Value = serde_json::from_str(snap.lines().next().unwrap()).unwrap();
    assert_eq!(v["close"]["kind"], "three-way");
    assert_eq!(v["payload_bytes"]["c2s"], 10, "lengths come from the IP header, not the snap length");
}

#[test]
fn hand_built_syn_retransmission_and_port_reuse() {
    let c = "127.0.0.1:40000";
    let s = "127.0.0.1:8001";
    use synack::model::segment::Flags as F;
    let frames = vec![
        frame(c, s, F::SYN, 100, 0, b""),
        frame(c, s, F::SYN, 100, 0, b""), // retransmitted after an accept-queue overflow
        frame(s, c, F::SYN | F::ACK, 900, 101, b""),
        frame(c, s, F::ACK, 101, 901, b""),
        frame(c, s, F::PSH | F::ACK, 101, 901, b"hi"),
        frame(c, s, F::PSH | F::ACK, 101, 901, b"hi"), // retransmitted data
        frame(s, c, F::FIN | F::ACK, 901, 103, b""),
        frame(c, s, F::FIN | F::ACK, 103, 902, b""),
        frame(s, c, F::ACK, 902, 104, b""),
        // The same 4-tuple again, at once: a new connection.
        frame(c, s, F::SYN, 5_000, 0, b""),
        frame(s, c, F::RST | F::ACK, 0, 5_001, b""),
    ];
    let dir = support::tempdir("hand-built");
    let path = dir.join("hand.pcap");
    std::fs::write(&path, pcap(1, &frames)).unwrap();
    let text = trace(&path, "text");
    let jsonl = trace(&path, "jsonl");
    let kinds: Vec<_> = verdicts(&jsonl).into_iter().map(|v| v.0).collect();
    assert_eq!(kinds, ["three-way", "refused"]);
    let first: serde_json::Value = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
    assert_eq!(first["handshake"]["syn_retransmits"], 1);
    assert_eq!(first["handshake"]["complete"], true);
    assert_eq!(first["payload_bytes"]["c2s"], 2);
    insta::assert_snapshot!("hand_built_text", text);
    insta::assert_snapshot!("hand_built_jsonl", jsonl);
}
