//! Writes a large, realistic capture for benchmarks: N connections of the seed
//! exchange (tests/fixtures/seed.pcap, a real loopback capture), each with its
//! own client port, shifted initial sequence numbers and timestamps.
//!
//! `cargo run --release --example make-big-pcap -- OUT.pcap [CONNECTIONS]`

use std::fs::File;
use std::io::BufWriter;

use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args.next().ok_or("usage: make-big-pcap OUT.pcap [CONNECTIONS]")?;
    let n: u32 = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let seed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed.pcap");
    let mut reader = PcapReader::new(File::open(seed)?)?;
    let header = reader.header();
    let mut frames = Vec::new();
    while let Some(p) = reader.next_packet() {
        let p = p?;
        frames.push((p.timestamp, p.orig_len, p.data.into_owned()));
    }
    let server_port = 18101u16;
    let t0 = frames[0].0;
    let mut writer = PcapWriter::with_header(BufWriter::new(File::create(&out)?), header)?;
    let mut packets = 0u64;
    for i in 0..n {
        // Client ports 20000..=64999: never the server port.
        let port = 20_000 + u16::try_from(i % 45_000)?;
        let shift = i.wrapping_mul(2_654_435_761);
        // Connections start 50 µs apart.
        let base = t0 + std::time::Duration::from_micros(u64::from(i) * 50);
        for (ts, orig_len, data) in &frames {
            let mut d = data.clone();
            // Ethernet 14 + IPv4 20: TCP ports at 34/36, seq at 38, ack at 42.
            let (sport, dport) = (u16::from_be_bytes([d[34], d[35]]), u16::from_be_bytes([d[36], d[37]]));
            let from_client = dport == server_port;
            if from_client {
                d[34..36].copy_from_slice(&port.to_be_bytes());
            } else {
                debug_assert_eq!(sport, server_port);
                d[36..38].copy_from_slice(&port.to_be_bytes());
            }
            let seq = u32::from_be_bytes(d[38..42].try_into()?).wrapping_add(shift);
            d[38..42].copy_from_slice(&seq.to_be_bytes());
            if d[47] & 0x10 != 0 {
                let ack = u32::from_be_bytes(d[42..46].try_into()?).wrapping_add(shift);
                d[42..46].copy_from_slice(&ack.to_be_bytes());
            }
            let t = base + (*ts - t0);
            writer.write_packet(&PcapPacket::new(t, *orig_len, &d))?;
            packets += 1;
        }
    }
    eprintln!("{out}: {n} connections, {packets} packets");
    Ok(())
}
