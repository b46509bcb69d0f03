//! Every encapsulation synack decodes, one hand-assembled capture each: the
//! seed connection (IPv4) or the simultaneous close (IPv6) wrapped in it.
//! Each capture is committed in `tests/fixtures/encap/` with what `tcpdump
//! -nn -r` prints for it; the test rebuilds the capture byte for byte,
//! checks that synack reconstructs the inner connection exactly as without
//! the wrapping (only `encapsulation` differs, and says the right thing), and
//! that tcpdump still prints what was committed.
//!
//! `SYNACK_BLESS=1 cargo test --test encap` rewrites the committed files.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The IP packets of a fixture captured on `lo` (Ethernet).
fn ip_packets(name: &str) -> Vec<Vec<u8>> {
    let mut src = PcapSource::new(File::open(fixtures().join(name)).unwrap(), name).unwrap();
    let mut out = Vec::new();
    while let Ok(Next::Frame(f)) = src.next_frame() {
        out.push(f.data[14..].to_vec());
    }
    out
}

fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    let mut src = PcapSource::new(File::open(path).unwrap(), "encap").unwrap();
    support::trace_jsonl(&mut src)
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];

fn ethernet(kind: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = MAC_B.to_vec();
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&kind.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ethertype_of(ip: &[u8]) -> u16 {
    if ip[0] >> 4 == 6 { 0x86dd } else { 0x0800 }
}

/// An IPv4 header (10.0.0.1 -> 10.0.0.2) with its checksum, around `payload`.
fn ipv4(protocol: u8, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    let sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !u16::try_from((folded & 0xffff) + (folded >> 16)).unwrap();
    h[10..12].copy_from_slice(&checksum.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// UDP from port 40000 to `port` (checksum 0: none), in IPv4, in Ethernet.
fn udp(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = 40000u16.to_be_bytes().to_vec();
    u.extend_from_slice(&port.to_be_bytes());
    u.extend_from_slice(&u16::try_from(8 + payload.len()).unwrap().to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    ethernet(0x0800, &ipv4(17, &u))
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Which reference decodes an encapsulation down to TCP by default.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ref {
    /// tcpdump 4.99 (`-nn -r`): its output is committed as NAME.tcpdump.
    Tcpdump,
    /// Only tshark (4.0): its output is committed as NAME.tshark too.
    Tshark,
    /// Neither by default (an MPLS pseudowire: both guess differently).
    Neither,
}

/// One encapsulation: its name, the link type, the inner capture, how to
/// wrap an IP packet, what synack should say it was carried in, and which
/// reference decodes it.
struct Case {
    name: &'static str,
    link: u32,
    inner: &'static str,
    wrap: fn(&[u8]) -> Vec<u8>,
    encapsulation: &'static [&'static str],
    seen_by: Ref,
}

const SEED: &str = "seed.pcap";
const V6: &str = "ipv6.pcap";

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "vlan",
            link: 1,
            inner: SEED,
            wrap: |ip| ethernet(0x8100, &cat(&[&[0x00, 100], &0x0800u16.to_be_bytes(), ip])),
            encapsulation: &["vlan 100"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "qinq",
            link: 1,
            inner: V6,
            wrap: |ip| ethernet(0x88a8, &cat(&[&[0x00, 200, 0x81, 0x00, 0x00, 100], &0x86ddu16.to_be_bytes(), ip])),
            encapsulation: &["vlan 200", "vlan 100"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "pbb",
            link: 1,
            inner: SEED,
            wrap: |ip| ethernet(0x88e7, &cat(&[&[0x00, 0x01, 0x02, 0x03], &ethernet(0x0800, ip)])),
            encapsulation: &["pbb isid 66051"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "llc-snap",
            link: 1,
            inner: SEED,
            wrap: |ip| {
                let body = cat(&[&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], ip]);
                ethernet(u16::try_from(body.len()).unwrap(), &body)
            },
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "fabricpath",
            link: 1,
            inner: SEED,
            // The inner frame keeps its FCS, as FabricPath carries it.
            wrap: |ip| ethernet(0x8903, &cat(&[&[0x00, 0x3f], &ethernet(0x0800, ip), &[0xde, 0xad, 0xbe, 0xef]])),
            encapsulation: &["fabricpath"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "vn-tag",
            link: 1,
            inner: SEED,
            wrap: |ip| ethernet(0x8926, &cat(&[&[0x00, 0x01, 0x00, 0x02, 0x08, 0x00], ip])),
            encapsulation: &["vn-tag"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "mpls",
            link: 1,
            inner: SEED,
            // Two labels (16, then 17 at the bottom of the stack).
            wrap: |ip| ethernet(0x8847, &cat(&[&[0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x11, 0x40], ip])),
            encapsulation: &["mpls 16", "mpls 17"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "mpls-pseudowire",
            link: 1,
            inner: SEED,
            // An Ethernet pseudowire without a control word, as tshark reads it.
            wrap: |ip| ethernet(0x8847, &cat(&[&[0x00, 0x01, 0x01, 0x40], &ethernet(0x0800, ip)])),
            encapsulation: &["mpls 16"],
            seen_by: Ref::Neither,
        },
        Case {
            name: "mpls-pseudowire-cw",
            link: 1,
            inner: SEED,
            // With the control word of RFC 4448.
            wrap: |ip| ethernet(0x8847, &cat(&[&[0x00, 0x01, 0x01, 0x40, 0, 0, 0, 0], &ethernet(0x0800, ip)])),
            encapsulation: &["mpls 16"],
            seen_by: Ref::Neither,
        },
        Case {
            name: "pppoe",
            link: 1,
            inner: SEED,
            wrap: |ip| {
                let len = u16::try_from(ip.len() + 2).unwrap().to_be_bytes();
                ethernet(0x8864, &cat(&[&[0x11, 0x00, 0x12, 0x34], &len, &[0x00, 0x21], ip]))
            },
            encapsulation: &["pppoe 0x1234"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "ppp",
            link: 9,
            inner: SEED,
            wrap: |ip| cat(&[&[0xff, 0x03, 0x00, 0x21], ip]),
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "ppp-cisco-hdlc",
            link: 9,
            inner: SEED,
            // Cisco HDLC frames on a PPP link.
            wrap: |ip| cat(&[&[0x0f, 0x00, 0x08, 0x00], ip]),
            encapsulation: &[],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "cisco-hdlc",
            link: 104,
            inner: V6,
            wrap: |ip| cat(&[&[0x0f, 0x00, 0x86, 0xdd], ip]),
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "gre-key",
            link: 1,
            inner: SEED,
            // Checksum (0), key 5, sequence number 1.
            wrap: |ip| {
                ethernet(0x0800, &ipv4(47, &cat(&[&[0xb0, 0x00, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1], ip])))
            },
            encapsulation: &["gre key 5"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "pptp-gre",
            link: 1,
            inner: SEED,
            // Enhanced GRE (version 1): key (payload length, call id), sequence.
            wrap: |ip| {
                let ppp = cat(&[&[0xff, 0x03, 0x00, 0x21], ip]);
                let len = u16::try_from(ppp.len()).unwrap().to_be_bytes();
                ethernet(0x0800, &ipv4(47, &cat(&[&[0x30, 0x01, 0x88, 0x0b], &len, &[0x00, 0x07, 0, 0, 0, 1], &ppp])))
            },
            encapsulation: &["pptp call 7"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "erspan-2",
            link: 1,
            inner: SEED,
            wrap: |ip| {
                let erspan = [0x10, 0x00, 0x00, 0x09, 0, 0, 0, 0];
                let gre = [0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1];
                ethernet(0x0800, &ipv4(47, &cat(&[&gre, &erspan, &ethernet(0x0800, ip)])))
            },
            encapsulation: &["gre", "erspan 9"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "erspan-3",
            link: 1,
            inner: SEED,
            wrap: |ip| {
                let erspan = [0x20, 0x00, 0x00, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0];
                let gre = [0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1];
                ethernet(0x0800, &ipv4(47, &cat(&[&gre, &erspan, &ethernet(0x0800, ip)])))
            },
            encapsulation: &["gre", "erspan 10"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "ip-in-ip",
            link: 1,
            inner: SEED,
            wrap: |ip| ethernet(0x0800, &ipv4(4, ip)),
            encapsulation: &["ip-in-ip"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "6in4",
            link: 1,
            inner: V6,
            wrap: |ip| ethernet(0x0800, &ipv4(41, ip)),
            encapsulation: &["ip-in-ip"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "vxlan",
            link: 1,
            inner: SEED,
            wrap: |ip| udp(4789, &cat(&[&[0x08, 0, 0, 0, 0, 0, 42, 0], &ethernet(0x0800, ip)])),
            encapsulation: &["vxlan 42"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "geneve",
            link: 1,
            inner: V6,
            // One 8-byte option (class 0x0102, type 3, 4 bytes of data), skipped.
            wrap: |ip| {
                let header = [0x02, 0x00, 0x65, 0x58, 0, 0, 7, 0, 0x01, 0x02, 0x03, 0x01, 0xde, 0xad, 0xbe, 0xef];
                udp(6081, &cat(&[&header, &ethernet(0x86dd, ip)]))
            },
            encapsulation: &["geneve 7"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "gtp-u",
            link: 1,
            inner: SEED,
            // Sequence number flag and one extension header (PDU session container).
            wrap: |ip| {
                let len = u16::try_from(ip.len() + 8).unwrap().to_be_bytes();
                let header = cat(&[&[0x36, 0xff], &len, &[0, 0, 0x12, 0x34, 0, 1, 0, 0x85, 1, 0x10, 0x09, 0]]);
                udp(2152, &cat(&[&header, ip]))
            },
            encapsulation: &["gtp-u teid 0x1234"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "teredo",
            link: 1,
            inner: V6,
            // An origin indication, then the IPv6 packet.
            wrap: |ip| udp(3544, &cat(&[&[0, 0, 0x12, 0x34, 0xf5, 0xff, 0xff, 0xfe], ip])),
            encapsulation: &["teredo"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "l2tp",
            link: 1,
            inner: SEED,
            wrap: |ip| udp(1701, &cat(&[&[0x00, 0x02, 0x00, 0x01, 0x00, 0x02, 0xff, 0x03, 0x00, 0x21], ip])),
            encapsulation: &["ppp"],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "nflog",
            link: 239,
            inner: SEED,
            // AF_INET, version 0, group 0; a prefix TLV, then the payload TLV
            // (type 9), little-endian as on x86, padded to 4 bytes.
            wrap: |ip| {
                let len = u16::try_from(4 + ip.len()).unwrap().to_le_bytes();
                let pad = vec![0; (4 - ip.len() % 4) % 4];
                cat(&[&[2, 0, 0, 0], &[8, 0, 10, 0, b'l', b'o', b'g', 0], &len, &[9, 0], ip, &pad])
            },
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "radiotap-80211",
            link: 127,
            inner: SEED,
            // Radiotap (no fields), an 802.11 data frame to the AP, LLC/SNAP.
            wrap: |ip| {
                let radiotap = [0, 0, 8, 0, 0, 0, 0, 0];
                let mut wifi = vec![0x08, 0x01, 0, 0];
                wifi.extend_from_slice(&MAC_B);
                wifi.extend_from_slice(&MAC_A);
                wifi.extend_from_slice(&MAC_B);
                wifi.extend_from_slice(&[0x10, 0x00]);
                cat(&[&radiotap, &wifi, &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], ip])
            },
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "fddi",
            link: 10,
            inner: SEED,
            // Frame control (async LLC), destination, source, then LLC/SNAP.
            wrap: |ip| cat(&[&[0x50], &MAC_B, &MAC_A, &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], ip]),
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "arcnet",
            link: 7,
            inner: SEED,
            // Source, destination, IP (RFC 1201: 212), not split, sequence 1.
            wrap: |ip| cat(&[&[0x01, 0x02, 212, 0x00, 0x00, 0x01], ip]),
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "arcnet-linux",
            link: 129,
            inner: V6,
            // Source, destination, offset, IPv6 (0xc4), not split, sequence 1.
            wrap: |ip| cat(&[&[0x01, 0x02, 0x00, 0x00, 0xc4, 0x00, 0x00, 0x01], ip]),
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
        Case {
            name: "aruba-gre",
            link: 1,
            inner: SEED,
            // Aruba's GRE type 0x8200: an 802.11 data frame from the AP, LLC/SNAP.
            wrap: |ip| {
                let mut wifi = vec![0x08, 0x02, 0, 0];
                wifi.extend_from_slice(&MAC_A);
                wifi.extend_from_slice(&MAC_B);
                wifi.extend_from_slice(&MAC_B);
                wifi.extend_from_slice(&[0x10, 0x00]);
                let gre = cat(&[&[0x00, 0x00, 0x82, 0x00], &wifi, &[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00], ip]);
                ethernet(0x0800, &ipv4(47, &gre))
            },
            encapsulation: &["gre"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "ayiya",
            link: 1,
            inner: V6,
            // A 16-byte identity (2^4), a 20-byte SHA-1 signature (5 words),
            // operation forward, next header IPv6, an epoch.
            wrap: |ip| {
                let header = [0x41, 0x52, 0x11, 41, 0x65, 0x4f, 0x2a, 0x00];
                udp(5072, &cat(&[&header, &[0x20; 16], &[0x5a; 20], ip]))
            },
            encapsulation: &["ayiya"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "gre-in-udp",
            link: 1,
            inner: SEED,
            // RFC 8086: a GRE header (no options, IPv4) in UDP 4754.
            wrap: |ip| udp(4754, &cat(&[&[0x00, 0x00, 0x08, 0x00], ip])),
            encapsulation: &["gre"],
            seen_by: Ref::Tshark,
        },
        Case {
            name: "ipoib",
            link: 242,
            inner: SEED,
            // RFC 4391: a 40-byte global route header, the type, 2 reserved bytes.
            wrap: |ip| cat(&[&[0; 40][..], &[0x08, 0x00, 0, 0], ip]),
            encapsulation: &[],
            seen_by: Ref::Tcpdump,
        },
    ]
}

/// The jsonl objects without the field that is meant to differ.
fn without_encapsulation(mut v: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    for c in &mut v {
        c.as_object_mut().unwrap().remove("encapsulation");
    }
    v
}

/// tshark's one line per packet, when tshark is installed.
fn run_tshark(path: &Path) -> Option<String> {
    let out = Command::new("tshark").env("TZ", "UTC").args(["-n", "-r"]).arg(path).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn tcpdump(path: &Path) -> Option<String> {
    let out = Command::new("tcpdump").env("TZ", "UTC").args(["-nn", "-r"]).arg(path).output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_encapsulation_carries_the_same_connection() {
    let bless = std::env::var_os("SYNACK_BLESS").is_some();
    let dir = fixtures().join("encap");
    let scratch = support::tempdir("encap");
    for case in cases() {
        let packets = ip_packets(case.inner);
        let plain = scratch.join(format!("{}-plain.pcap", case.name));
        let raw: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(ethertype_of(p), p)).collect();
        std::fs::write(&plain, support::pcap(1, &raw)).unwrap();
        let wrapped: Vec<Vec<u8>> = packets.iter().map(|p| (case.wrap)(p)).collect();
        let bytes = support::pcap(case.link, &wrapped);
        let path = dir.join(format!("{}.pcap", case.name));
        let said = dir.join(format!("{}.tcpdump", case.name));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            std::fs::write(&said, tcpdump(&path).expect("tcpdump, to bless")).unwrap();
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{}: the committed capture is what the test builds",
            case.name
        );

        let want = jsonl(&plain);
        let got = jsonl(&path);
        assert_eq!(got.len(), 1, "{}: {got:?}", case.name);
        assert_eq!(got[0]["encapsulation"], serde_json::json!(case.encapsulation), "{}", case.name);
        assert_eq!(without_encapsulation(got), without_encapsulation(want.clone()), "{}", case.name);

        // tcpdump reads the capture as it did when it was committed; where
        // it decodes the encapsulation, it shows the inner TCP segments.
        let committed = std::fs::read_to_string(&said).unwrap();
        let client = &want[0]["client"];
        let port = |v: &serde_json::Value| v.as_str().unwrap().rsplit(':').next().unwrap().to_string();
        let mentions = |text: &str| {
            let p = port(client);
            text.lines()
                .filter(|l| {
                    l.contains(&format!(".{p} ")) || l.contains(&format!(".{p}:")) || l.contains(&format!(" {p} "))
                })
                .count()
        };
        match case.seen_by {
            Ref::Tcpdump => assert_eq!(mentions(&committed), packets.len(), "{}: tcpdump said\n{committed}", case.name),
            Ref::Tshark | Ref::Neither => {
                assert_eq!(mentions(&committed), 0, "{}: tcpdump decodes it now\n{committed}", case.name);
            }
        }
        if case.seen_by == Ref::Tshark {
            let tshark = dir.join(format!("{}.tshark", case.name));
            if bless {
                std::fs::write(&tshark, run_tshark(&path).expect("tshark, to bless")).unwrap();
            }
            let committed = std::fs::read_to_string(&tshark).unwrap();
            assert_eq!(mentions(&committed), packets.len(), "{}: tshark said\n{committed}", case.name);
            if let Some(now) = run_tshark(&path) {
                assert_eq!(now, committed, "{}: tshark reads the capture as committed", case.name);
            }
        }
        if let Some(now) = tcpdump(&path).filter(|_| Command::new("tcpdump").arg("--version").output().is_ok()) {
            assert_eq!(now, committed, "{}: tcpdump reads the capture as committed", case.name);
        }
    }
}

/// Two VXLAN networks carrying the same inner addresses: two connections.
#[test]
fn the_same_addresses_in_two_virtual_networks_are_two_connections() {
    let packets = ip_packets(SEED);
    let vni = |n: u8, ip: &[u8]| udp(4789, &cat(&[&[0x08, 0, 0, 0, 0, 0, n, 0], &ethernet(0x0800, ip)]));
    // Interleaved: each segment in network 1, then in network 2.
    let frames: Vec<Vec<u8>> = packets.iter().flat_map(|p| [vni(1, p), vni(2, p)]).collect();
    let path = support::tempdir("vni").join("two.pcap");
    std::fs::write(&path, support::pcap(1, &frames)).unwrap();
    let conns = jsonl(&path);
    assert_eq!(conns.len(), 2, "{conns:?}");
    assert_eq!(conns[0]["encapsulation"], serde_json::json!(["vxlan 1"]));
    assert_eq!(conns[1]["encapsulation"], serde_json::json!(["vxlan 2"]));
    for c in &conns {
        assert_eq!(c["segments"].as_array().unwrap().len(), packets.len());
        assert_eq!(c["close"]["kind"], "three-way");
    }
}

/// What is carried in something synack does not decode is counted by cause,
/// and the summary says so once.
#[test]
fn what_is_not_decoded_is_counted_by_cause() {
    let packets = ip_packets(SEED);
    let mut frames: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(0x0800, p)).collect();
    for _ in 0..3 {
        frames.push(udp(2123, &[0x48, 0x20, 0, 8, 0, 0, 0, 0, 0, 0, 1, 0]));
    }
    frames.push(ethernet(0x88e5, &[0x2c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
    frames.push(ethernet(0x0800, &ipv4(50, &[0; 16])));
    frames.push(ethernet(0x0806, &[0; 28])); // ARP: not ours, not counted as undecoded
    let path = support::tempdir("undecoded").join("mixed.pcap");
    std::fs::write(&path, support::pcap(1, &frames)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["trace", "--format", "jsonl", "--read"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "read to its end: exit 0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "5 frames not decoded: 3 in GTP-C (signalling), 1 in IPsec ESP (encrypted), 1 in MACsec (encrypted)"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

/// An ICMP error (RFC 792 layout) from `router`: type, code, 4 bytes of
/// rest-of-header, then the quoted IP header and the first 8 bytes of TCP.
fn icmp4(kind: u8, code: u8, rest: [u8; 4], quoted: &[u8]) -> Vec<u8> {
    let header_len = usize::from(quoted[0] & 0x0f) * 4;
    let body = cat(&[&[kind, code, 0, 0], &rest, &quoted[..header_len + 8]]);
    let mut ip = ipv4(1, &body);
    ip[12..16].copy_from_slice(&[192, 0, 2, 1]);
    ip
}

/// ICMP errors that quote a tracked connection's segment land on its
/// ladder at the row they quote, explained from what they say; one that
/// quotes no tracked connection is not ours. The capture is committed with
/// tcpdump's reading of it.
#[test]
fn icmp_errors_land_on_the_row_they_quote() {
    let packets = ip_packets(SEED);
    // The client's data segment (row 4) is answered by "fragmentation
    // needed, next-hop MTU 576"; a stray error quotes an unknown port.
    let data = 3;
    assert!(packets[data][33] & 0x08 != 0, "row 4 is the client's PSH");
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        frames.push(ethernet(0x0800, p));
        if i == data {
            frames.push(ethernet(0x0800, &icmp4(3, 4, [0, 0, 0x02, 0x40], p)));
            let mut stray = p.clone();
            stray[20..22].copy_from_slice(&9u16.to_be_bytes());
            frames.push(ethernet(0x0800, &icmp4(11, 0, [0; 4], &stray)));
        }
    }
    let bytes = support::pcap(1, &frames);
    let dir = fixtures().join("encap");
    let path = dir.join("icmp-frag-needed.pcap");
    let said = dir.join("icmp-frag-needed.tcpdump");
    if std::env::var_os("SYNACK_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
        std::fs::write(&said, tcpdump(&path).expect("tcpdump, to bless")).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let committed = std::fs::read_to_string(&said).unwrap();
    assert!(committed.contains("ICMP 127.0.0.1 unreachable - need to frag (mtu 576)"), "{committed}");
    if let Some(now) = tcpdump(&path).filter(|s| !s.is_empty()) {
        assert_eq!(now, committed);
    }

    let conns = jsonl(&path);
    assert_eq!(conns.len(), 1, "the stray error makes no connection");
    let icmp = conns[0]["icmp"].as_array().unwrap();
    assert_eq!(icmp.len(), 1, "{icmp:?}");
    let e = &icmp[0];
    assert_eq!((e["type"].as_u64(), e["code"].as_u64(), e["mtu"].as_u64()), (Some(3), Some(4), Some(576)));
    assert_eq!(
        (e["from"].as_str(), e["quotes"].as_str(), e["row"].as_u64()),
        (Some("192.0.2.1"), Some("c2s"), Some(3))
    );
    let explain = e["explain"].as_str().unwrap();
    assert!(explain.contains("192.0.2.1 could not forward it without fragmenting it"), "{explain}");
    assert!(explain.contains("at most 576 bytes") && explain.contains("Path MTU discovery"), "{explain}");
    assert!(explain.contains("the client's segment seq=1"), "{explain}");
    // The segments are those of the connection without the errors.
    let plain: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(0x0800, p)).collect();
    let plain_path = support::tempdir("icmp").join("plain.pcap");
    std::fs::write(&plain_path, support::pcap(1, &plain)).unwrap();
    assert_eq!(
        conns[0]["segments"].as_array().unwrap().len(),
        jsonl(&plain_path)[0]["segments"].as_array().unwrap().len()
    );

    // The text ladder: the error under the row it quotes, the row marked.
    let out = Command::new(env!("CARGO_BIN_EXE_synack")).args(["trace", "--read"]).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[4].contains("PSH-ACK") && lines[4].contains("⚠ ICMP error"), "{text}");
    assert!(lines[5].trim_start().starts_with("⚠ ICMP fragmentation needed from 192.0.2.1 at"), "{text}");
    assert!(lines[5].ends_with("mtu 576"), "{text}");
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("An ICMP error (fragmentation needed) came back about a segment the client sent."),
        "{text}"
    );
}

/// ICMPv6 "packet too big" on the IPv6 connection.
#[test]
fn icmpv6_packet_too_big() {
    let packets = ip_packets(V6);
    let data = packets.iter().position(|p| p[40 + 13] & 0x08 != 0).unwrap();
    let quoted = &packets[data][..48];
    let mut body = vec![2, 0, 0, 0, 0, 0, 0x05, 0x00]; // MTU 1280
    body.extend_from_slice(quoted);
    let mut ip = vec![0x60, 0, 0, 0];
    ip.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    ip.extend_from_slice(&[58, 64]);
    ip.extend_from_slice(&"2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
    ip.extend_from_slice(&packets[data][8..24]);
    ip.extend_from_slice(&body);
    let mut frames: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(0x86dd, p)).collect();
    frames.insert(data + 1, ethernet(0x86dd, &ip));
    let path = support::tempdir("icmp6").join("ptb.pcap");
    std::fs::write(&path, support::pcap(1, &frames)).unwrap();
    let conns = jsonl(&path);
    let e = &conns[0]["icmp"][0];
    assert_eq!((e["version"].as_u64(), e["type"].as_u64(), e["mtu"].as_u64()), (Some(6), Some(2), Some(1280)));
    assert_eq!(e["row"].as_u64(), Some(u64::try_from(data).unwrap()));
    assert!(e["explain"].as_str().unwrap().contains("larger than the next link's MTU of 1280 bytes"), "{e}");
}

/// Captures from the wild that tcpdump and tshark read: a pcap whose link
/// type field carries an FCS length in its upper bits, and a pcapng whose
/// interface name is not UTF-8.
#[test]
fn odd_but_valid_capture_headers() {
    let packets = ip_packets(SEED);
    let frames: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(0x0800, p)).collect();
    let dir = support::tempdir("odd-headers");
    let fcs = dir.join("fcs-bits.pcap");
    std::fs::write(&fcs, support::pcap(0x3000_0001, &frames)).unwrap();
    assert_eq!(jsonl(&fcs)[0]["segments"].as_array().unwrap().len(), packets.len());

    let block = |kind: u32, body: &[u8]| {
        let len = u32::try_from(12 + body.len()).unwrap();
        cat(&[&kind.to_le_bytes(), &len.to_le_bytes(), body, &len.to_le_bytes()])
    };
    let mut ng = block(0x0a0d_0d0a, &cat(&[&0x1a2b_3c4du32.to_le_bytes(), &[1, 0, 0, 0], &[0xff; 8]]));
    // if_name (option 2), 4 bytes that are not UTF-8, then the end of options.
    ng.extend(block(
        1,
        &cat(&[&[1, 0, 0, 0], &65535u32.to_le_bytes(), &[2, 0, 4, 0, 0xff, 0xfe, b'l', b'o'], &[0; 4]]),
    ));
    for (i, f) in frames.iter().enumerate() {
        let ts = 1_700_000_000_000_000u64 + u64::try_from(i).unwrap() * 10;
        let len = u32::try_from(f.len()).unwrap().to_le_bytes();
        let pad = vec![0; (4 - f.len() % 4) % 4];
        let hi = u32::try_from(ts >> 32).unwrap().to_le_bytes();
        let lo = u32::try_from(ts & 0xffff_ffff).unwrap().to_le_bytes();
        ng.extend(block(6, &cat(&[&[0; 4], &hi, &lo, &len, &len, f, &pad])));
    }
    let path = dir.join("latin1-name.pcapng");
    std::fs::write(&path, ng).unwrap();
    let conns = jsonl(&path);
    assert_eq!(conns.len(), 1);
    assert_eq!(conns[0]["segments"].as_array().unwrap().len(), packets.len());
    assert_eq!(conns[0]["start_unix"].as_f64(), Some(1_700_000_000.0));
}

/// Each segment's flags, sequence number and length.
fn rows(c: &serde_json::Value) -> Vec<(String, u64, u64)> {
    c["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["flags"].as_str().unwrap().to_string(), s["seq"].as_u64().unwrap(), s["len"].as_u64().unwrap()))
        .collect()
}

/// What `synack trace --format jsonl --read path` says on stderr (it succeeds).
fn trace_stderr(path: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_synack"))
        .args(["trace", "--format", "jsonl", "--read"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

/// Splits the IPv4 packet `ip` into fragments of at most `size` payload
/// bytes (a multiple of 8).
fn fragments(ip: &[u8], size: usize) -> Vec<Vec<u8>> {
    let payload = &ip[20..];
    let mut out = Vec::new();
    for (k, chunk) in payload.chunks(size).enumerate() {
        let more = (k + 1) * size < payload.len();
        let mut f = ip[..20].to_vec();
        f[2..4].copy_from_slice(&u16::try_from(20 + chunk.len()).unwrap().to_be_bytes());
        let flags = u16::try_from(k * size / 8).unwrap() | if more { 0x2000 } else { 0 };
        f[6..8].copy_from_slice(&flags.to_be_bytes());
        f[4..6].copy_from_slice(&[0x12, 0x34]);
        f[10..12].copy_from_slice(&[0, 0]);
        f.extend_from_slice(chunk);
        out.push(f);
    }
    out
}

/// IPv4 fragments are reassembled when all are there (in any order), the
/// connection is then the one without fragmentation; a datagram that never
/// completes is counted and said once.
#[test]
fn ipv4_fragments_are_reassembled() {
    let packets = ip_packets(SEED);
    let data = 3;
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if i == data {
            // Three fragments, the last first.
            let mut f = fragments(p, 16);
            assert_eq!(f.len(), 3);
            f.rotate_right(1);
            frames.extend(f.iter().map(|f| ethernet(0x0800, f)));
        } else {
            frames.push(ethernet(0x0800, p));
        }
    }
    // The first fragment of a datagram whose rest never comes.
    let mut lone = fragments(&packets[5], 16).remove(0);
    lone[4..6].copy_from_slice(&[0x56, 0x78]);
    frames.push(ethernet(0x0800, &lone));
    let bytes = support::pcap(1, &frames);
    let dir = fixtures().join("encap");
    let path = dir.join("ipv4-fragments.pcap");
    let said = dir.join("ipv4-fragments.tcpdump");
    if std::env::var_os("SYNACK_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
        std::fs::write(&said, tcpdump(&path).expect("tcpdump, to bless")).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let committed = std::fs::read_to_string(&said).unwrap();
    // tcpdump -nn shows each fragment as it is (it does not reassemble).
    assert_eq!(committed.lines().count(), frames.len(), "{committed}");
    assert_eq!(committed.matches("ip-proto-6").count(), 2, "{committed}");
    if let Some(now) = tcpdump(&path).filter(|s| !s.is_empty()) {
        assert_eq!(now, committed);
    }
    let plain: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(0x0800, p)).collect();
    let plain_path = support::tempdir("frag").join("plain.pcap");
    std::fs::write(&plain_path, support::pcap(1, &plain)).unwrap();
    let (got, want) = (jsonl(&path), jsonl(&plain_path));
    // The same connection; its data row is the reassembled datagram, at the
    // time its last fragment came.
    assert_eq!(rows(&got[0]), rows(&want[0]));
    assert_eq!(got[0]["close"], want[0]["close"]);
    assert_eq!(trace_stderr(&path), "1 IP fragment of datagrams that never completed, not decoded");
}

/// Splits the IPv6 packet `ip` (no extension headers) into fragments of at
/// most `size` payload bytes (a multiple of 8), each with a fragment header
/// (identification 0x1234).
fn fragments6(ip: &[u8], size: usize) -> Vec<Vec<u8>> {
    let payload = &ip[40..];
    let mut out = Vec::new();
    for (k, chunk) in payload.chunks(size).enumerate() {
        let more = (k + 1) * size < payload.len();
        let mut f = ip[..40].to_vec();
        f[4..6].copy_from_slice(&u16::try_from(8 + chunk.len()).unwrap().to_be_bytes());
        f[6] = 44;
        let off = u16::try_from(k * size).unwrap() | u16::from(more);
        f.extend_from_slice(&[ip[6], 0]);
        f.extend_from_slice(&off.to_be_bytes());
        f.extend_from_slice(&0x1234u32.to_be_bytes());
        f.extend_from_slice(chunk);
        out.push(f);
    }
    out
}

/// IPv6 fragments are reassembled as IPv4's are (in any order); an atomic
/// fragment (offset 0, no more) is decoded at once; a datagram whose
/// fragments overlap is discarded (RFC 5722) and counted, as is one that
/// never completes.
#[test]
fn ipv6_fragments_are_reassembled() {
    let packets = ip_packets(V6);
    // The first segment after the SYN that is longer than its headers.
    let data = 1 + packets[1..].iter().position(|p| p.len() > 40 + 32).expect("a data segment");
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if i == data {
            let mut f = fragments6(p, 16);
            assert!(f.len() >= 3);
            f.rotate_right(1);
            frames.extend(f.iter().map(|f| ethernet(0x86dd, f)));
        } else if i == 0 {
            // The SYN as an atomic fragment.
            let atomic = fragments6(p, 4096);
            assert_eq!(atomic.len(), 1);
            frames.push(ethernet(0x86dd, &atomic[0]));
        } else {
            frames.push(ethernet(0x86dd, p));
        }
    }
    // Overlapping fragments of another datagram (id 0x5678): discarded.
    let mut overlap = fragments6(&packets[data], 16);
    for f in &mut overlap {
        f[44..48].copy_from_slice(&0x5678u32.to_be_bytes());
    }
    let mut second = overlap[0].clone();
    second[42..44].copy_from_slice(&(8u16 | 1).to_be_bytes());
    frames.extend([&overlap[0], &second, overlap.last().unwrap()].iter().map(|f| ethernet(0x86dd, f)));
    let bytes = support::pcap(1, &frames);
    let dir = fixtures().join("encap");
    let path = dir.join("ipv6-fragments.pcap");
    let said = dir.join("ipv6-fragments.tcpdump");
    if std::env::var_os("SYNACK_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
        std::fs::write(&said, tcpdump(&path).expect("tcpdump, to bless")).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    let committed = std::fs::read_to_string(&said).unwrap();
    assert_eq!(committed.lines().count(), frames.len(), "{committed}");
    assert!(committed.contains("frag (0|16)"), "tcpdump shows the fragments:\n{committed}");
    if let Some(now) = tcpdump(&path).filter(|s| !s.is_empty()) {
        assert_eq!(now, committed);
    }
    let plain: Vec<Vec<u8>> = packets.iter().map(|p| ethernet(0x86dd, p)).collect();
    let plain_path = support::tempdir("frag6").join("plain.pcap");
    std::fs::write(&plain_path, support::pcap(1, &plain)).unwrap();
    let (got, want) = (jsonl(&path), jsonl(&plain_path));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(rows(&got[0]), rows(&want[0]));
    assert_eq!(got[0]["close"], want[0]["close"]);
    assert_eq!(trace_stderr(&path), "3 IP fragments of datagrams that never completed, not decoded");
}
