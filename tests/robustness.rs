//! Decoding and tracking on hostile input: arbitrary bytes, every prefix of
//! valid frames, bit flips in frames and in whole capture files, and arbitrary
//! segment sequences. Beyond "no panic", each property asserts an invariant:
//! every frame is counted exactly once (as a segment, not ours, or an error of
//! a named kind); every segment lands in exactly one connection; a
//! connection's rows never go back in time; a prefix of a capture yields a
//! prefix of its connections; the ladder has one row per segment.

mod support;

use proptest::prelude::*;
use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};
use synack::model::decode::{Frame, LinkType, decode};
use synack::model::segment::{Flags, Timestamp};
use synack::model::tracker::Dir;
use synack::pipeline::Pipeline;

/// Every link type synack decodes.
fn links() -> Vec<LinkType> {
    let mut v: Vec<LinkType> = (0..300).filter_map(LinkType::from_number).collect();
    v.dedup();
    v
}

/// The committed captures of every encapsulation (tests/encap.rs).
fn encap_captures() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/encap");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

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

/// `seg` (client to server) with these fields, sent by the server unless `from_client`.
fn arbitrary(
    mut seg: synack::model::segment::Segment,
    from_client: bool,
    flags: u8,
    seq: u32,
    ack: u32,
    len: u32,
) -> synack::model::segment::Segment {
    if !from_client {
        std::mem::swap(&mut seg.src, &mut seg.dst);
    }
    seg.flags = Flags(flags);
    seg.seq = synack::model::seq::SeqNum(seq);
    seg.ack = synack::model::seq::SeqNum(ack);
    seg.payload_len = len;
    seg
}

fn feed(pipeline: &mut Pipeline, link: LinkType, data: &[u8]) {
    let frame = Frame { ts: Timestamp(1), link, data };
    let _ = decode(&frame);
    pipeline.frame(&frame);
}

/// The invariants every pipeline holds, whatever it was fed (with limits
/// large enough that nothing was evicted).
fn assert_invariants(p: &Pipeline) -> Result<(), TestCaseError> {
    let c = &p.counters;
    prop_assert_eq!(
        c.frames,
        c.segments + c.not_ours + c.icmp + c.undecodable() + c.reassembled + c.fragments,
        "each frame counted once"
    );
    let seen: u64 = p.tracker.connections().map(|conn| conn.seen).sum();
    prop_assert_eq!(seen, c.segments, "each segment in exactly one connection");
    for conn in p.tracker.connections() {
        prop_assert_eq!(conn.records.len() as u64 + conn.elided, conn.seen, "kept or counted");
    }
    // The exporter's pieces, shared by every connection, write each as it would alone.
    let mut pieces = synack::export::jsonl::Pieces::default();
    for conn in p.tracker.connections() {
        let mut shared = String::new();
        synack::export::jsonl::write_json_with(&mut shared, conn, &mut pieces);
        prop_assert_eq!(shared, synack::export::jsonl::to_json(conn));
    }
    for conn in p.tracker.connections() {
        prop_assert!(conn.records.windows(2).all(|w| w[0].ts <= w[1].ts), "rows in time order");
        let text = synack::ladder::layout(conn, None, 0).to_text();
        prop_assert_eq!(text.lines().count(), conn.records.len() + 1, "a header and one row per segment");
        let mut fast = String::new();
        synack::ladder::write_text(conn, &mut synack::ladder::TextScratch::default(), &mut fast);
        prop_assert_eq!(&fast, &text, "the text export's fast path writes the laid-out ladder");
        prop_assert!(!synack::model::timeline::verdict(conn).is_empty());
        for i in 0..conn.records.len() {
            prop_assert!(!synack::model::timeline::explain(conn, i).is_empty());
        }
        let json: serde_json::Value = serde_json::from_str(&synack::export::jsonl::to_json(conn)).unwrap();
        prop_assert_eq!(json["segments"].as_array().map(Vec::len), Some(conn.records.len()));
    }
    Ok(())
}

/// A pcap file of the valid frames, with timestamps a millisecond apart.
fn capture_file() -> Vec<u8> {
    let mut frames = valid_frames();
    frames.push(support::frame("127.0.0.1:40000", "127.0.0.1:8001", Flags::ACK, 12, 11, b""));
    support::pcap(1, &frames)
}

/// Reads a capture from memory through the pipeline; stops where the file breaks.
fn read_capture(bytes: &[u8]) -> Pipeline {
    let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(1_000));
    if let Ok(mut src) = PcapSource::new(bytes, "mutated") {
        while let Ok(Next::Frame(f)) = src.next_frame() {
            p.frame(&f);
        }
    }
    p
}

/// Identity of a record: what the wire said, in arrival order.
fn wire(conn: &synack::model::tracker::Connection) -> Vec<(u64, bool, u8, u32, u32, u32)> {
    conn.records.iter().map(|r| (r.ts.0, r.dir == Dir::C2S, r.flags.0, r.seq.0, r.ack.0, r.payload_len)).collect()
}

#[test]
fn every_prefix_of_valid_frames() {
    let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(16));
    for f in valid_frames() {
        for n in 0..=f.len() {
            for link in links() {
                feed(&mut p, link, &f[..n]);
            }
        }
    }
    // The full frames did decode; the cut ones are errors of named kinds.
    assert!(p.counters.segments >= 4);
    assert!(p.counters.undecodable() > 0);
    let c = &p.counters;
    assert_eq!(c.frames, c.segments + c.not_ours + c.icmp + c.undecodable() + c.reassembled + c.fragments);
}

proptest! {
    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..200), link in any::<usize>()) {
        let links = links();
        let mut p = Pipeline::new(None, synack::model::tracker::Limits::both(16));
        feed(&mut p, links[link % links.len()], &data);
        prop_assert_eq!(p.counters.frames, 1);
        assert_invariants(&p)?;
    }

    #[test]
    fn bit_flips_of_a_capture_file(flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..6)) {
        let mut bytes = capture_file();
        for (at, bit) in flips {
            let i = at % bytes.len();
            bytes[i] ^= 1 << bit;
        }
        assert_invariants(&read_capture(&bytes))?;
    }

    /// Every encapsulation's capture, its frames mutated: every frame is
    /// still counted once, every segment lands in one connection.
    #[test]
    fn bit_flips_and_cuts_inside_encapsulations(
        which in any::<usize>(),
        flips in proptest::collection::vec((any::<usize>(), 0u8..8), 1..8),
        cut in any::<usize>(),
    ) {
        let captures = encap_captures();
        let mut bytes = captures[which % captures.len()].clone();
        // Past the file header and the first record header: frame bytes.
        let body = bytes.len() - 40;
        for (at, bit) in flips {
            bytes[40 + at % body] ^= 1 << bit;
        }
        assert_invariants(&read_capture(&bytes))?;
        assert_invariants(&read_capture(&bytes[..40 + cut % body]))?;
    }

    #[test]
    fn a_prefix_of_a_capture_yields_a_prefix_of_its_connections(cut in 0usize..400) {
        let bytes = capture_file();
        let full = read_capture(&bytes);
        let part = read_capture(&bytes[..cut.min(bytes.len())]);
        assert_invariants(&part)?;
        prop_assert!(part.counters.frames <= full.counters.frames);
        for conn in part.tracker.connections() {
            let whole = full.tracker.get(conn.id);
            prop_assert!(whole.is_some(), "connection #{} only in the prefix", conn.id);
            let (a, b) = (wire(conn), wire(whole.unwrap()));
            prop_assert_eq!(&a[..], &b[..a.len()]);
        }
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
        prop_assert_eq!(p.counters.frames, 4);
        assert_invariants(&p)?;
        for conn in p.tracker.connections() {
            let narrow = synack::ladder::layout(conn, Some(80), 10);
            prop_assert!(narrow.rows.iter().all(|r| r.arrow.chars().count() == narrow.geometry.arrow_width));
        }
    }

    #[test]
    fn tracker_survives_arbitrary_segment_sequences(
        segs in proptest::collection::vec((any::<bool>(), any::<u8>(), any::<u32>(), any::<u32>(), 0u32..70_000), 0..40)
    ) {
        let mut t = support::Talk::new();
        let pushed = segs.len();
        for (from_client, flags, seq, ack, len) in segs {
            t.last = t.tracker.push(&arbitrary(support::template(), from_client, flags, seq, ack, len));
        }
        let records: usize = t.tracker.connections().map(|c| c.records.len()).sum();
        prop_assert_eq!(records, pushed, "each segment in exactly one connection");
        for conn in t.tracker.connections() {
            let json: serde_json::Value = serde_json::from_str(&synack::export::jsonl::to_json(conn)).unwrap();
            prop_assert_eq!(json["segments"].as_array().map(Vec::len), Some(conn.records.len()));
            prop_assert_eq!(synack::ladder::layout(conn, None, 0).to_text().lines().count(), conn.records.len() + 1);
        }
    }

    /// A tracker that reuses the memory of connections written (`trace`)
    /// writes every connection as one that allocates each afresh.
    #[test]
    fn reused_connections_are_written_as_fresh_ones(
        segs in proptest::collection::vec(
            (0u16..3, any::<bool>(), any::<u8>(), 0u32..40, 0u32..40, 0u32..20), 0..120
        )
    ) {
        let limits = synack::model::tracker::Limits::both(100);
        let mut fresh = synack::model::tracker::Tracker::new(Some(8001), limits);
        let mut reused = synack::model::tracker::Tracker::new(Some(8001), limits);
        let (mut written_fresh, mut written_reused) = (Vec::new(), Vec::new());
        for (i, (port, from_client, flags, seq, ack, len)) in segs.into_iter().enumerate() {
            let mut from = support::template();
            from.ts = Timestamp(from.ts.0 + i as u64 * 1_000);
            from.src.set_port(40_000 + port);
            let seg = arbitrary(from, from_client, flags, seq, ack, len);
            let (a, b) = (fresh.push(&seg), reused.push(&seg));
            prop_assert_eq!(a.finished().collect::<Vec<_>>(), b.finished().collect::<Vec<_>>());
            for id in a.finished() {
                if let Some(conn) = fresh.take(id) {
                    written_fresh.push(synack::export::jsonl::to_json(&conn));
                }
                if let Some(conn) = reused.take(id) {
                    written_reused.push(synack::export::jsonl::to_json(&conn));
                    reused.recycle(&mut vec![conn]);
                }
            }
        }
        written_fresh.extend(fresh.connections().map(synack::export::jsonl::to_json));
        written_reused.extend(reused.connections().map(synack::export::jsonl::to_json));
        prop_assert_eq!(written_fresh, written_reused);
    }
}
