//! Writes the captures that once made synack's memory grow without bound, for
//! `scripts/bench-memory.sh`:
//!
//! - `long OUT N`: one connection of N segments (a handshake, then data, each
//!   frame cut to its headers as `tcpdump -s 54` writes them);
//! - `syns OUT N`: N SYNs from N different clients, none ever answered.
//!
//! `cargo run --release --example make-hostile-pcap -- long big-long.pcap 10000000`

use std::fs::File;
use std::io::BufWriter;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};

/// An Ethernet (zeroed, as on `lo`) + IPv4 + TCP header; the IP total length
/// says `payload` bytes follow, which the frame does not carry.
fn frame(src: ([u8; 4], u16), dst: ([u8; 4], u16), flags: u8, seq: u32, ack: u32, payload: u16) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 20];
    f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut f[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&(40 + payload).to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src.0);
    ip[16..20].copy_from_slice(&dst.0);
    let tcp = &mut f[34..54];
    tcp[0..2].copy_from_slice(&src.1.to_be_bytes());
    tcp[2..4].copy_from_slice(&dst.1.to_be_bytes());
    tcp[4..8].copy_from_slice(&seq.to_be_bytes());
    tcp[8..12].copy_from_slice(&ack.to_be_bytes());
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14..16].copy_from_slice(&65_535u16.to_be_bytes());
    f
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: make-hostile-pcap long|syns OUT.pcap N";
    let (mode, out) = (args.next().ok_or(usage)?, args.next().ok_or(usage)?);
    let n: u32 = args.next().ok_or(usage)?.parse()?;
    let header = PcapHeader {
        snaplen: 262_144,
        datalink: DataLink::ETHERNET,
        ts_resolution: TsResolution::MicroSecond,
        endianness: Endianness::native(),
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(BufWriter::new(File::create(&out)?), header)?;
    let t0 = Duration::from_secs(1_800_000_000);
    let mut write = |i: u32, f: Vec<u8>, payload: u16| -> Result<(), Box<dyn std::error::Error>> {
        let orig = u32::try_from(f.len())? + u32::from(payload);
        w.write_packet(&PcapPacket::new(t0 + Duration::from_micros(u64::from(i)), orig, &f))?;
        Ok(())
    };
    let server = ([127, 0, 0, 1], 8001);
    match mode.as_str() {
        "long" => {
            let client = ([127, 0, 0, 1], 40_000);
            write(0, frame(client, server, SYN, 1_000, 0, 0), 0)?;
            write(1, frame(server, client, SYN | ACK, 5_000, 1_001, 0), 0)?;
            write(2, frame(client, server, ACK, 1_001, 5_001, 0), 0)?;
            for i in 3..n {
                let seq = 1_001u32.wrapping_add((i - 3).wrapping_mul(100));
                write(i, frame(client, server, PSH | ACK, seq, 5_001, 100), 100)?;
            }
        }
        "syns" => {
            for i in 0..n {
                // A client address and port of its own for every SYN: 127.x.y.z, ports 1024 up.
                let [_, a, b, c] = (i / 60_000 + 1).to_be_bytes();
                let client = ([127, a, b, c.max(2)], 1_024 + u16::try_from(i % 60_000)?);
                write(i, frame(client, server, SYN, i, 0, 0), 0)?;
            }
        }
        _ => return Err(usage.into()),
    }
    eprintln!("{out}: {mode}, {n} frames");
    Ok(())
}
