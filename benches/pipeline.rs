//! Decode + track per segment (criterion). The frames are the real loopback
//! seed exchange (tests/fixtures/seed.pcap), repeated over many client ports.
//!
//! `cargo bench --bench pipeline`

use std::fs::File;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};
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
    group.bench_function("decode only", |b| {
        b.iter(|| {
            frames
                .iter()
                .filter(|(ts, link, data)| synack::model::decode::decode(&Frame { ts: *ts, link: *link, data }).is_ok())
                .count()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
