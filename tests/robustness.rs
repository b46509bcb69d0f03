//! Decoding and tracking never panic (STYLE.md §2): arbitrary bytes, every
//! prefix of valid frames and random bit flips give a segment, "not ours" or
//! an error, and whatever decodes can be fed to the tracker.

mod support;

use proptest::prelude::*;
use synack::model::decode::{Frame, LinkType, decode};
use synack::model::segment::{Flags, Timestamp};
use synack::pipeline::Pipeline;

const LINKS: [LinkType; 6] =
    [LinkType::Ethernet, LinkType::Null, LinkType::Loop, LinkType::RawIp, LinkType::LinuxSll, LinkType::LinuxSll2];

fn valid_frames() -> Vec<Vec<u8>> {
    let c = "127.0.0.1:40000";
    let s = "127.0.0.1:8001";
    vec![
        support::frame(c, s, Flags::SYN, 1, 0, b""),
        support::frame(s, c, Flags::SYN | Flags::ACK, 9, 2, b""),
        support::frame(c, s, Flags::PSH | Flags::ACK, 2, 10, b"helloworld"),
        support::frame(s, c, Flags::FIN | Flags::ACK, 10, 12, b""),
    ]
}

fn feed(pipeline: &mut Pipeline, link: LinkType, data: &[u8]) {
    let frame = Frame { ts: Timestamp(1), link, data };
    let _ = decode(&frame);
    pipeline.frame(&frame);
}

#[test]
fn every_prefix_of_valid_frames() {
    let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(16));
    for f in valid_frames() {
        for n in 0..=f.len() {
            for link in LINKS {
                feed(&mut p, link, &f[..n]);
            }
        }
    }
    // The full frames did decode.
    assert!(p.counters.segments >= 4);
    assert!(p.counters.undecodable() > 0);
}

proptest! {
    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..200), link in 0usize..6) {
        let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(16));
        feed(&mut p, LINKS[link], &data);
        prop_assert_eq!(p.counters.frames, 1);
    }

    #[test]
    fn bit_flips_of_valid_frames(flips in proptest::collection::vec((0usize..4, any::<usize>(), 0u8..8), 1..8)) {
        let mut frames = valid_frames();
        for (which, at, bit) in flips {
            let f = &mut frames[which];
            let i = at % f.len();
            f[i] ^= 1 << bit;
        }
        let mut p = Pipeline::new(Some(8001), synack::model::tracker::Limits::both(16));
        for f in &frames {
            feed(&mut p, LinkType::Ethernet, f);
        }
        for conn in p.tracker.connections() {
            let _ = synack::ladder::layout(conn, Some(80), 10).to_text();
            let _ = synack::model::timeline::verdict(conn);
            for i in 0..conn.records.len() {
                let _ = synack::model::timeline::explain(conn, i);
            }
        }
    }

    #[test]
    fn tracker_survives_arbitrary_segment_sequences(
        segs in proptest::collection::vec((any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>(), 0u32..70_000), 0..40)
    ) {
        let mut t = support::Talk::new();
        for (from_client, flags, seq, ack, len) in segs {
            let mut seg = support::template();
            if !from_client {
                std::mem::swap(&mut seg.src, &mut seg.dst);
            }
            seg.flags = Flags(flags);
            seg.seq = synack::model::seq::SeqNum(seq);
            seg.ack = synack::model::seq::SeqNum(ack);
            seg.payload_len = len;
            t.last = t.tracker.push(&seg);
        }
        for conn in t.tracker.connections() {
            let _ = synack::export::jsonl::to_json(conn);
            let _ = synack::ladder::layout(conn, None, 0).to_text();
        }
    }
}
