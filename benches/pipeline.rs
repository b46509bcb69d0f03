//! Per segment (criterion): decode, decode + track, decode inside VXLAN,
//! and each exporter writing tracked connections. The frames are the real
//! loopback seed exchange (tests/fixtures/seed.pcap), repeated over many
//! client ports.
//!
//! `cargo bench --bench pipeline`

use std::fs::File;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};
use synack::export::Format;
use synack::model::decode::{Frame, LinkType};
use synack::model::segment::Timestamp;
use synack::pipeline::Pipeline;

const CONNECTIONS: u16 = 1_000;

/// The seed exchange's frames, once per client port.
fn frames() -> Vec<(Timestamp, LinkType, Vec<u8>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/seed.pcap");
    let mut src = PcapSource::new(File::open(path).expect("fixture"), path).expect("pcap");
    let mut seed = Vec::new();
    while let Ok(Next::Frame(f)) = src.next_frame() {
        seed.push((f.ts, f.link, f.data.to_vec()));
    }
    let mut out = Vec::new();
    for i in 0..CONNECTIONS {
        let port = (30_000 + i).to_be_bytes();
        for (ts, link, data) in &seed {
            let mut d = data.clone();
            // Rewrite the client's port (the one that is not the server's).
            if d[36..38] == 18101u16.to_be_bytes() {
                d[34..36].copy_from_slice(&port);
            } else {
                d[36..38].copy_from_slice(&port);
            }
            out.push((*ts, *link, d));
        }
    }
    out
}

/// Decodes every frame; how many decoded.
fn decodable(frames: &[(Timestamp, LinkType, Vec<u8>)]) -> usize {
    frames
        .iter()
        .filter(|(ts, link, data)| synack::model::decode::decode(&Frame { ts: *ts, link: *link, data }).is_ok())
        .count()
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("decode+track per segment", |b| {
        b.iter(|| {
            let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(10_000));
            for (ts, link, data) in &frames {
                p.frame(&Frame { ts: *ts, link: *link, data });
            }
            p.counters.segments
        });
    });
    // Tracking alone: the frames decoded beforehand.
    let decoded: Vec<_> = frames
        .iter()
        .map(|(ts, link, data)| synack::model::decode::decode(&Frame { ts: *ts, link: *link, data }))
        .collect();
    group.bench_function("track only", |b| {
        b.iter(|| {
            let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(10_000));
            for d in &decoded {
                p.decoded(d);
            }
            p.counters.segments
        });
    });
    group.bench_function("decode only", |b| b.iter(|| decodable(&frames)));
    // The same frames carried in VXLAN (Ethernet, IPv4, UDP 4789): what a
    // tunnel costs the decoder.
    let vxlan: Vec<(Timestamp, LinkType, Vec<u8>)> = frames
        .iter()
        .map(|(ts, link, data)| {
            let mut outer = vec![0u8; 12];
            outer
                .extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
            let udp_len = u16::try_from(8 + 8 + data.len()).unwrap();
            outer[16..18].copy_from_slice(&(udp_len + 20).to_be_bytes());
            outer.extend_from_slice(&[0x9c, 0x40, 0x12, 0xb5]);
            outer.extend_from_slice(&udp_len.to_be_bytes());
            outer.extend_from_slice(&[0, 0, 0x08, 0, 0, 0, 0, 0, 42, 0]);
            outer.extend_from_slice(data);
            (*ts, *link, outer)
        })
        .collect();
    group.bench_function("decode only, in VXLAN", |b| b.iter(|| decodable(&vxlan)));
    // Each exporter over the tracked connections.
    let mut tracked = Pipeline::new(None, synack::model::tracker::Limits::both(10_000));
    for (ts, link, data) in &frames {
        tracked.frame(&Frame { ts: *ts, link: *link, data });
    }
    let conns: Vec<_> = tracked.tracker.connections().collect();
    for (name, format) in [
        ("export text per segment", Format::Text),
        ("export jsonl per segment", Format::Jsonl),
        ("export mermaid per segment", Format::Mermaid),
        ("export svg per segment", Format::Svg),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(1 << 20);
                let mut e = synack::export::exporter(format);
                for c in &conns {
                    e.connection(c, &mut out).unwrap();
                }
                e.finish(&mut out).unwrap();
                out.len()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
