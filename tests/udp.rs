//! UDP beside TCP: datagrams decoded over IPv4 and IPv6 and inside a tunnel,
//! ICMP errors quoting them, flows through the pipeline and the exporters,
//! and (as root) a live exchange with `synack serve` and a closed port.

mod support;

use std::net::SocketAddr;

use synack::model::decode::{self, Frame, LinkType};
use synack::model::segment::Timestamp;
use synack::pipeline::Pipeline;

fn ethernet(kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&kind.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4(protocol: u8, src: [u8; 4], dst: [u8; 4], payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    h.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    h.extend_from_slice(payload);
    h
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = sport.to_be_bytes().to_vec();
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

const LO: [u8; 4] = [127, 0, 0, 1];

/// UDP over IPv4 over (zeroed) Ethernet, as `lo` shows it.
fn udp4(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    ethernet(0x0800, &ipv4(17, LO, LO, &udp(sport, dport, payload)))
}

/// An ICMP port unreachable from 127.0.0.1 quoting `quoted` (an IP packet).
fn port_unreachable(quoted: &[u8]) -> Vec<u8> {
    let mut icmp = vec![3, 3, 0, 0, 0, 0, 0, 0];
    icmp.extend_from_slice(&quoted[..quoted.len().min(28)]);
    ethernet(0x0800, &ipv4(1, LO, LO, &icmp))
}

fn frame(data: &[u8], ms: u64) -> Frame<'_> {
    Frame { ts: Timestamp(1_700_000_000_000_000_000 + ms * 1_000_000), link: LinkType::Ethernet, data }
}

fn at(port: u16) -> SocketAddr {
    SocketAddr::from((LO, port))
}

#[test]
fn a_udp_datagram_over_ipv4_is_not_tcp_but_a_datagram() {
    let f = udp4(40000, 8001, b"helloworld");
    assert_eq!(decode::decode(&frame(&f, 0)), Ok(None), "the TCP decoder calls it not ours");
    let d = decode::datagram(&frame(&f, 0)).expect("a datagram");
    assert_eq!((d.src, d.dst, d.len), (at(40000), at(8001), 10));
    assert_eq!(d.preview.as_bytes(), b"helloworld");
    assert!(d.icmp.is_none() && d.encap.is_empty());
}

#[test]
fn a_udp_datagram_over_ipv6() {
    let f = ethernet(0x86dd, &ipv6(17, &udp(40000, 8001, b"helloworld")));
    let d = decode::datagram(&frame(&f, 0)).expect("a datagram");
    let v6 = |p| SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, p));
    assert_eq!((d.src, d.dst, d.len), (v6(40000), v6(8001), 10));
}

#[test]
fn tcp_and_other_protocols_are_no_datagram() {
    let tcp = support::frame("127.0.0.1:40000", "127.0.0.1:8001", support::syn_ack(), 1, 1, b"");
    assert!(decode::datagram(&frame(&tcp, 0)).is_none());
    let igmp = ethernet(0x0800, &ipv4(2, LO, LO, &[0; 8]));
    assert!(decode::datagram(&frame(&igmp, 0)).is_none());
    // A UDP header cut short: no ports, no datagram (and no panic).
    let cut = ethernet(0x0800, &ipv4(17, LO, LO, &[0x9c, 0x40, 0x1f]));
    assert!(decode::datagram(&frame(&cut, 0)).is_none());
}

/// VXLAN (UDP 4789) carrying Ethernet, IPv4 and `inner`.
fn vxlan(inner: &[u8]) -> Vec<u8> {
    let mut v = vec![0x08, 0, 0, 0, 0, 0, 42, 0];
    v.extend_from_slice(inner);
    udp4(50000, 4789, &v)
}

#[test]
fn a_udp_flow_inside_vxlan_is_the_inner_datagram() {
    let inner = ethernet(0x0800, &ipv4(17, [10, 0, 0, 1], [10, 0, 0, 2], &udp(40000, 8001, b"helloworld")));
    let f = vxlan(&inner[..]);
    assert_eq!(decode::decode(&frame(&f, 0)), Ok(None));
    let d = decode::datagram(&frame(&f, 0)).expect("the inner datagram");
    assert_eq!(d.dst, SocketAddr::from(([10, 0, 0, 2], 8001)));
    assert_eq!(d.encap.names(), ["vxlan 42"]);
    // TCP inside VXLAN stays TCP's.
    let tcp = support::frame("10.0.0.1:40000", "10.0.0.2:8001", support::syn_ack(), 1, 1, b"");
    let f = vxlan(&tcp);
    assert!(matches!(decode::decode(&frame(&f, 0)), Ok(Some(_))));
    assert!(decode::datagram(&frame(&f, 0)).is_none());
    // On VXLAN's port but not VXLAN (its I flag clear): the outer datagram.
    let f = udp4(50000, 4789, &[0; 16]);
    let d = decode::datagram(&frame(&f, 0)).expect("the datagram itself");
    assert_eq!((d.dst.port(), d.len), (4789, 16));
}

#[test]
fn an_icmp_error_quoting_a_datagram_is_its_quote() {
    let sent = ipv4(17, LO, LO, &udp(40000, 9, b"helloworld"));
    let f = port_unreachable(&sent);
    assert_eq!(decode::decode(&frame(&f, 0)), Ok(None), "not a TCP segment's error");
    let d = decode::datagram(&frame(&f, 0)).expect("a quote");
    assert_eq!((d.src, d.dst), (at(40000), at(9)));
    let icmp = d.icmp.expect("the error");
    assert_eq!(icmp.name(), "port unreachable");
}

/// Every frame counted once: as a segment, a datagram, not ours, an ICMP
/// error or an error.
fn counted_once(p: &Pipeline) {
    let c = &p.counters;
    assert_eq!(
        c.frames,
        c.segments + c.datagrams + c.not_ours + c.icmp + c.undecodable() + c.fragments + c.reassembled
    );
}

#[test]
fn the_pipeline_puts_datagrams_on_flows_only_when_asked() {
    let frames = [
        udp4(40000, 8001, b"helloworld"),
        udp4(8001, 40000, b"HELLOWORLD"),
        udp4(40001, 9999, b"other port"),
        support::frame("127.0.0.1:40000", "127.0.0.1:8001", support::syn_ack(), 1, 1, b""),
    ];
    let mut plain = Pipeline::new(Some(8001), synack::model::tracker::Limits::default());
    let mut with = Pipeline::new(Some(8001), synack::model::tracker::Limits::default());
    with.watch_udp();
    for (i, f) in frames.iter().enumerate() {
        plain.frame(&frame(f, i as u64));
        with.frame(&frame(f, i as u64));
    }
    counted_once(&plain);
    counted_once(&with);
    assert_eq!((plain.counters.datagrams, plain.counters.not_ours, plain.counters.segments), (0, 3, 1));
    assert_eq!((with.counters.datagrams, with.counters.not_ours, with.counters.segments), (2, 1, 1));
    assert_eq!(plain.udp.open().count(), 0);
    let flows: Vec<_> = with.udp.open().collect();
    assert_eq!(flows.len(), 1);
    assert_eq!((flows[0].client, flows[0].server, flows[0].datagrams), (at(40000), at(8001), [1, 1]));
}

/// The jsonl of frames fed through the headless loop, UDP watched.
fn jsonl(frames: &[Vec<u8>]) -> Vec<serde_json::Value> {
    jsonl_of(support::pcap(1, frames))
}

/// The jsonl of a capture file's bytes, UDP watched (`trace --read FILE --udp`).
fn jsonl_of(bytes: Vec<u8>) -> Vec<serde_json::Value> {
    use synack::headless::{self, Stop};
    let mut src = synack::capture::pcap::PcapSource::new(std::io::Cursor::new(bytes), "udp").unwrap();
    let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::default());
    pipeline.watch_udp();
    let mut exporter = synack::export::exporter(synack::export::Format::Jsonl);
    let mut out = Vec::new();
    let stop = Stop::default();
    let ended = headless::run(&mut src, &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
    headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
    counted_once(&pipeline);
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn jsonl_gives_proto_and_a_udp_object_without_handshake_or_close() {
    let mut frames = support::close_frames();
    frames.push(udp4(40000, 8001, b"helloworld"));
    frames.push(udp4(8001, 40000, b"HELLOWORLD"));
    let lines = jsonl(&frames);
    assert_eq!(lines.len(), 2);
    let tcp = lines.iter().find(|l| l["proto"] == "tcp").expect("the TCP connection");
    assert!(tcp.get("handshake").is_some());
    let u = lines.iter().find(|l| l["proto"] == "udp").expect("the UDP flow");
    assert_eq!(u["client"], "127.0.0.1:40000");
    assert_eq!(u["server"], "127.0.0.1:8001");
    assert!(u.get("handshake").is_none() && u.get("close").is_none());
    let segs = u["segments"].as_array().unwrap();
    assert_eq!(segs.len(), 2);
    assert_eq!((segs[0]["dir"].as_str(), segs[0]["len"].as_u64()), (Some("c2s"), Some(10)));
    assert_eq!((segs[1]["dir"].as_str(), segs[1]["payload"].as_str()), (Some("s2c"), Some("HELLOWORLD")));
    assert_eq!(u["icmp"], serde_json::json!([]));
    assert!(
        u["explain"].as_str().unwrap().starts_with("2 datagrams (1 to the server, 1 back), no handshake, no close")
    );
}

#[test]
fn a_port_unreachable_goes_on_its_flow_in_jsonl() {
    let sent = udp4(40000, 9, b"helloworld");
    let error = port_unreachable(&sent[14..]);
    let lines = jsonl(&[sent, error]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let icmp = &lines[0]["icmp"][0];
    assert_eq!((icmp["name"].as_str(), icmp["quotes"].as_str()), (Some("port unreachable"), Some("c2s")));
    assert!(lines[0]["explain"].as_str().unwrap().contains("TCP would have answered RST"), "{}", lines[0]);
}

#[test]
fn a_flow_idle_past_the_timeout_is_written_as_two() {
    let one = udp4(40000, 8001, b"a");
    let frames = [one.clone(), one];
    // The second datagram comes 31 s after the first.
    let mut bytes = support::pcap(1, &frames);
    let second_ts = 24 + 16 + frames[0].len();
    bytes[second_ts..second_ts + 4].copy_from_slice(&1_700_000_031u32.to_le_bytes());
    let mut src = synack::capture::pcap::PcapSource::new(std::io::Cursor::new(bytes), "udp").unwrap();
    let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::default());
    pipeline.watch_udp();
    while let Ok(synack::capture::Next::Frame(f)) = synack::capture::FrameSource::next_frame(&mut src) {
        pipeline.frame(&f);
    }
    assert_eq!(pipeline.udp.ended().len() + pipeline.udp.open().count(), 2);
    assert_eq!(pipeline.udp.started(), 2);
}

#[test]
fn every_format_draws_a_udp_flow_without_states() {
    let frames = [udp4(40000, 8001, b"helloworld"), udp4(8001, 40000, b"HELLOWORLD")];
    for format in [synack::export::Format::Text, synack::export::Format::Mermaid, synack::export::Format::Svg] {
        use synack::headless::{self, Stop};
        let bytes = support::pcap(1, &frames);
        let mut src = synack::capture::pcap::PcapSource::new(std::io::Cursor::new(bytes), "udp").unwrap();
        let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::default());
        pipeline.watch_udp();
        let mut exporter = synack::export::exporter(format);
        let mut out = Vec::new();
        let stop = Stop::default();
        let ended = headless::run(&mut src, &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
        headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(synack::export::udp::NO_STATE), "{format:?}: {text}");
        assert!(text.contains("2 datagrams (1 to the server, 1 back), no handshake, no close"), "{format:?}");
        assert!(text.contains("HELLOWORLD"), "{format:?}");
        assert!(!text.contains("ESTABLISHED") && !text.contains("SYN"), "{format:?}: no TCP state or flag");
    }
}

#[test]
fn the_documented_udp_example_is_what_synack_prints() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/format.md")).unwrap();
    let section = &doc[doc.find("### UDP flow").unwrap()..];
    let body = &section[section.find("```json\n").unwrap() + 8..];
    let example: serde_json::Value = serde_json::from_str(&body[..body.find("```").unwrap()]).unwrap();
    // The example's two datagrams, 300 µs apart (support::pcap spaces frames 10 µs apart).
    let frames = [udp4(40000, 8001, b"helloworld"), udp4(8001, 40000, b"HELLOWORLD")];
    let mut bytes = support::pcap(1, &frames);
    let second = 24 + 16 + frames[0].len() + 4;
    bytes[second..second + 4].copy_from_slice(&300u32.to_le_bytes());
    let mut src = synack::capture::pcap::PcapSource::new(std::io::Cursor::new(bytes), "udp").unwrap();
    let mut pipeline = Pipeline::new(None, synack::model::tracker::Limits::default());
    pipeline.watch_udp();
    let mut exporter = synack::export::exporter(synack::export::Format::Jsonl);
    let (mut out, stop) = (Vec::new(), synack::headless::Stop::default());
    let ended = synack::headless::run(&mut src, &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
    synack::headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(printed, example);
}

/// Live tests: `synack trace` on a port of their own, stopped by SIGINT once
/// the exchange is over (what it captured is drained and written).
mod live {
    use std::net::{SocketAddr, UdpSocket};
    use std::process::Command;

    use serde_json::Value;
    use synack::echo::{self, Outcome, ServerConfig};
    use synack::scenario::Scenario;

    use super::support::{Trace, capture_allowed};

    fn bin() -> &'static str {
        env!("CARGO_BIN_EXE_synack")
    }

    /// `synack trace --format jsonl --port PORT`, once it captures.
    fn trace(port: u16) -> Trace {
        let t = Trace::start(&["--format", "jsonl", "--duration", "30", "--port", &port.to_string()]);
        let said = t.stderr_seen.last().unwrap();
        assert!(said.contains("tcp and udp port"), "{said}");
        t
    }

    /// Stops it with SIGINT (by its PID): its jsonl objects.
    fn stop(t: Trace) -> Vec<Value> {
        let (out, _) = t.interrupt();
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    fn udp_flows(objects: &[Value]) -> Vec<&Value> {
        objects.iter().filter(|o| o["proto"] == "udp").collect()
    }

    /// The issue's "done when": `client --scenario udp` against the echo
    /// server, captured by `synack trace`, gives a jsonl object with proto
    /// "udp" and two 10-byte datagrams; the TCP seed beside it has proto "tcp".
    fn exchange(server_at: &str) {
        let Ok(listener) = echo::bind(server_at.parse().unwrap()) else {
            eprintln!("skipping: cannot bind {server_at}");
            return;
        };
        let srv = echo::Server::start(listener, ServerConfig::default());
        let addr = srv.addr();
        assert_eq!(srv.udp_addr(), Some(addr), "the server answers UDP on its own address");
        let t = trace(addr.port());
        let out =
            Command::new(bin()).args(["client", "--scenario", "udp", "--addr", &addr.to_string()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "udp: reply \"HELLOWORLD\"");
        echo::run_scenario(Scenario::Seed, addr, "helloworld").unwrap();
        let objects = stop(t);
        srv.stop();
        let flows = udp_flows(&objects);
        assert_eq!(flows.len(), 1, "{objects:?}");
        let f = flows[0];
        assert_eq!(f["server"], addr.to_string());
        let segs = f["segments"].as_array().unwrap();
        assert_eq!(segs.len(), 2, "{f}");
        assert!(segs.iter().all(|s| s["len"] == 10), "{f}");
        assert_eq!((segs[0]["dir"].as_str(), segs[1]["dir"].as_str()), (Some("c2s"), Some("s2c")));
        assert_eq!(
            (segs[0]["payload"].as_str(), segs[1]["payload"].as_str()),
            (Some("helloworld"), Some("HELLOWORLD"))
        );
        assert!(f.get("handshake").is_none() && f.get("close").is_none());
        let tcp: Vec<&Value> = objects.iter().filter(|o| o["proto"] == "tcp").collect();
        assert_eq!(tcp.len(), 1, "the seed connection, proto tcp: {objects:?}");
        assert!(tcp[0].get("handshake").is_some());
    }

    #[test]
    fn a_live_udp_exchange_is_two_ten_byte_datagrams() {
        if capture_allowed() {
            exchange("127.0.0.1:0");
        }
    }

    #[test]
    fn a_live_udp_exchange_over_ipv6() {
        if capture_allowed() {
            exchange("[::1]:0");
        }
    }

    /// A datagram to a closed port: the client's next recv fails with
    /// ECONNREFUSED, and the ICMP port unreachable is on the flow.
    #[test]
    fn a_closed_port_gives_econnrefused_and_icmp_on_the_flow() {
        if !capture_allowed() {
            return;
        }
        // A port of this test's own on 127.0.0.1; nothing on 127.0.0.2.
        let mine = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = mine.local_addr().unwrap();
        let t = trace(addr.port());
        let outcome = echo::run_scenario(Scenario::UdpClosed, addr, "helloworld").unwrap();
        let target = SocketAddr::from(([127, 0, 0, 2], addr.port()));
        assert_eq!(outcome, Outcome::PortUnreachable { to: target, sent: 10 });
        let objects = stop(t);
        let flows = udp_flows(&objects);
        assert_eq!(flows.len(), 1, "{objects:?}");
        let f = flows[0];
        assert_eq!(f["server"], target.to_string());
        assert_eq!(f["segments"].as_array().unwrap().len(), 1);
        let icmp = &f["icmp"][0];
        assert_eq!(icmp["name"], "port unreachable", "{f}");
        assert_eq!(icmp["quotes"], "c2s");
        assert!(f["explain"].as_str().unwrap().contains("port unreachable"), "{f}");
        assert!(objects.iter().all(|o| o["proto"] == "udp"), "no TCP at all: {objects:?}");
    }
}

/// The recorded fixtures (scripts/record-udp-fixtures.sh) say what
/// docs/tcp-vs-udp.md reads in them.
mod fixtures {
    use serde_json::Value;

    fn read(name: &str) -> (Vec<Value>, Vec<Value>) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let all = super::jsonl_of(std::fs::read(path).unwrap());
        all.into_iter().partition(|o| o["proto"] == "tcp")
    }

    #[test]
    fn the_same_message_is_ten_segments_over_tcp_and_two_datagrams_over_udp() {
        let (tcp, udp) = read("tcp-udp.pcap");
        assert_eq!((tcp.len(), udp.len()), (1, 1));
        assert_eq!(tcp[0]["segments"].as_array().unwrap().len(), 10);
        assert_eq!(tcp[0]["handshake"]["complete"], true);
        let segs = udp[0]["segments"].as_array().unwrap();
        assert_eq!(segs.iter().map(|s| s["len"].as_u64().unwrap()).collect::<Vec<_>>(), [10, 10]);
        assert_eq!(udp[0]["server"], tcp[0]["server"], "one port, both protocols");
        // Everything was answered: no word of loss.
        let explain = udp[0]["explain"].as_str().unwrap();
        assert!(!explain.contains("lost") && !explain.contains("resen"), "{explain}");
    }

    #[test]
    fn a_closed_port_is_rst_for_tcp_and_icmp_for_udp() {
        let (tcp, udp) = read("closed-port.pcap");
        assert_eq!(tcp[0]["close"]["kind"], "refused");
        assert_eq!(tcp[0]["segments"][1]["flags"], "RST-ACK");
        assert_eq!(udp[0]["icmp"][0]["name"], "port unreachable");
        assert_eq!(udp[0]["datagrams"]["s2c"], 0);
        // ICMP answered: nothing was lost, and no server was there to answer.
        let explain = udp[0]["explain"].as_str().unwrap();
        assert!(explain.contains("sent ICMP port unreachable about the datagram to 127.0.0.2:18202"), "{explain}");
        assert!(!explain.contains("lost") && !explain.contains("server"), "{explain}");
    }

    #[test]
    fn a_lost_segment_is_sent_again_and_a_lost_datagram_is_not() {
        let (tcp, udp) = read("lost.pcap");
        assert_eq!(tcp[0]["retransmissions"], 1);
        assert_eq!(udp.len(), 1);
        assert_eq!((udp[0]["datagrams"]["c2s"].as_u64(), udp[0]["datagrams"]["s2c"].as_u64()), (Some(1), Some(0)));
        assert!(udp[0]["explain"].as_str().unwrap().contains("no reply came, and UDP does not resend"));
    }
}

proptest::proptest! {
    /// Every frame is counted once (a segment, a datagram, not ours, an ICMP
    /// error, an error), and every datagram on the port lands in one flow,
    /// whatever mix of TCP, UDP, ICMP, tunnels and cut frames comes in.
    #[test]
    fn every_frame_counted_once_every_datagram_in_one_flow(
        picks in proptest::collection::vec((0u8..7, 0u16..3, 0usize..60), 0..80)
    ) {
        let mut p = Pipeline::new(Some(8001), synack::model::tracker::Limits::default());
        p.watch_udp();
        let mut on_port = 0u64;
        for (i, (kind, peer, cut)) in picks.into_iter().enumerate() {
            let client = 40000 + peer;
            let f = match kind {
                0 => udp4(client, 8001, b"helloworld"),
                1 => udp4(8001, client, b"HELLOWORLD"),
                2 => udp4(client, 9999, b"elsewhere"),
                3 => port_unreachable(&udp4(client, 8001, b"x")[14..]),
                4 => vxlan(&ethernet(0x0800, &ipv4(17, LO, LO, &udp(client, 8001, b"inner")))),
                5 => support::frame("127.0.0.1:40000", "127.0.0.1:8001", support::syn_ack(), 1, 1, b""),
                _ => {
                    let mut f = udp4(client, 8001, b"cut short");
                    f.truncate(cut.min(f.len()));
                    f
                }
            };
            let before = p.counters.datagrams;
            p.frame(&frame(&f, i as u64));
            if matches!(kind, 0 | 1 | 4) {
                on_port += 1;
                proptest::prop_assert_eq!(p.counters.datagrams, before + 1, "kind {}", kind);
            }
            counted_once(&p);
        }
        let flows: u64 = p.udp.ended().iter().chain(p.udp.open()).map(synack::model::udp::Flow::total).sum();
        // Cut frames that kept their ports count too; nothing else on the port is lost or doubled.
        proptest::prop_assert!(flows >= on_port);
        let icmp_kept: u64 = p.udp.ended().iter().chain(p.udp.open()).map(|f| f.icmp_seen).sum();
        proptest::prop_assert_eq!(flows + icmp_kept, p.counters.datagrams);
    }
}

/// The SVG of captures with UDP flows renders (rsvg-convert, when installed;
/// CI installs it), taller than the connections alone.
#[test]
fn svg_with_udp_flows_renders() {
    let Ok(probe) = std::process::Command::new("rsvg-convert").arg("--version").output() else {
        assert!(std::env::var("SYNACK_REQUIRE_CAPTURE").as_deref() != Ok("1"), "rsvg-convert is missing");
        eprintln!("skipping: rsvg-convert is missing");
        return;
    };
    assert!(probe.status.success());
    let dir = support::tempdir("udp-svg");
    for fixture in ["tcp-udp.pcap", "closed-port.pcap", "lost.pcap"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
        let mut heights = Vec::new();
        for udp in [false, true] {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_synack"));
            cmd.args(["trace", "--format", "svg", "--read"]).arg(&path);
            if udp {
                cmd.arg("--udp");
            }
            let out = cmd.output().unwrap();
            assert!(out.status.success());
            let (svg, png) = (dir.join("f.svg"), dir.join("f.png"));
            std::fs::write(&svg, &out.stdout).unwrap();
            let o = std::process::Command::new("rsvg-convert").arg("-o").arg(&png).arg(&svg).output().unwrap();
            assert!(o.status.success(), "{fixture}: {}", String::from_utf8_lossy(&o.stderr));
            let bytes = std::fs::read(&png).unwrap();
            heights.push(u32::from_be_bytes(bytes[20..24].try_into().unwrap()));
        }
        assert!(heights[1] > heights[0], "{fixture}: the UDP flow adds to the picture: {heights:?}");
    }
}
