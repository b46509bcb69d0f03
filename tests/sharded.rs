//! `trace --read FILE --threads N` splits connections between threads by
//! tuple, and writes what one thread writes: the same connections, with the
//! same segments and ids, in the same order, and the same counts. Checked on
//! arbitrary captures (proptest): connections that overlap, end every way,
//! come back on the same tuple, take segments after their end (before and
//! after one thread would have written them), wait past the limit of
//! finished connections, or pass the limit of open ones (where the split
//! stops, and one thread goes on from what was written).

mod support;

use proptest::prelude::*;
use synack::capture::memory::MemorySource;
use synack::engine::sharded::{self, Sharded, Shards, Unshardable};
use synack::export::{self, Format};
use synack::headless::{self, Stop};
use synack::model::decode::LinkType;
use synack::model::segment::{Flags, Timestamp};
use synack::model::tracker::Limits;
use synack::pipeline::{Counters, Pipeline};

/// One step of a capture: which tuple, which way, which flags (an index;
/// past the TCP ones, a frame that is not TCP), how far the sequence
/// numbers moved, the time since the last frame (an index), payload length.
type Step = (u8, bool, u8, u8, u8, u8);

const FLAGS: [u8; 8] = [0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x19];

fn frames(steps: &[Step]) -> Vec<(Timestamp, Vec<u8>)> {
    // Nothing, a millisecond, less and more than the second a connection
    // waits after its close, longer, and a step back.
    const GAPS: [i64; 6] = [0, 1_000_000, 400_000_000, 1_200_000_000, 5_000_000_000, -1_000_000];
    let mut t: i64 = 1_700_000_000_000_000_000;
    steps
        .iter()
        .map(|&(tuple, from_client, flags, moved, gap, len)| {
            t += GAPS[usize::from(gap) % GAPS.len()];
            let ts = Timestamp(u64::try_from(t).unwrap());
            let c = format!("127.0.0.1:{}", 40_000 + u16::from(tuple % 6));
            let s = "127.0.0.1:8001";
            let Some(&f) = FLAGS.get(usize::from(flags)) else {
                // An ARP request: not TCP.
                let mut arp = vec![0xff; 6];
                arp.extend_from_slice(&[0; 6]);
                arp.extend_from_slice(&[0x08, 0x06]);
                arp.resize(42, 0);
                return (ts, arp);
            };
            let moved = u32::from(moved % 4);
            let payload = vec![b'x'; usize::from(len % 4)];
            let frame = if from_client {
                support::frame(&c, s, Flags(f), 100 + moved, 900 + moved, &payload)
            } else {
                support::frame(s, &c, Flags(f), 900 + moved, 100 + moved, &payload)
            };
            (ts, frame)
        })
        .collect()
}

fn source(frames: &[(Timestamp, Vec<u8>)]) -> MemorySource {
    MemorySource::new(LinkType::Ethernet, frames.iter().cloned())
}

/// What one tracking thread writes, and counts.
fn one(frames: &[(Timestamp, Vec<u8>)], limits: Limits, format: Format) -> (String, Counters) {
    let mut pipeline = Pipeline::new(None, limits);
    let mut exporter = export::exporter(format);
    let mut out = Vec::new();
    let stop = Stop::default();
    let ended =
        headless::run(&mut source(frames), &mut pipeline, exporter.as_mut(), &mut out, None, None, &stop).unwrap();
    headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
    (String::from_utf8(out).unwrap(), pipeline.counters)
}

/// What `n` shards write, and count when they went to the end (or why they
/// stopped), going on on one thread when they stop, as `trace` does.
fn split(
    frames: &[(Timestamp, Vec<u8>)],
    limits: Limits,
    format: Format,
    n: usize,
    epoch: u64,
) -> (String, Result<Counters, Unshardable>) {
    let make = move || export::exporter(format);
    let shards = Shards {
        sources: (0..n).map(|_| source(frames)).collect(),
        port: None,
        limits,
        make: &make,
        progress: None,
        interrupted: None,
        epoch,
        heap: 0,
    };
    let mut out = Vec::new();
    let counted = match sharded::run(shards, &mut out).unwrap() {
        Sharded::Done { counters, error, .. } => {
            assert!(error.is_none());
            export::exporter(format).finish(&mut out).unwrap();
            Ok(counters)
        }
        Sharded::Redo { written, why, .. } => {
            let mut exporter = export::exporter(format);
            let mut pipeline = Pipeline::new(None, limits);
            let stop = Stop::default();
            let ended =
                headless::run_after(&mut source(frames), &mut pipeline, exporter.as_mut(), &mut out, &stop, written)
                    .unwrap();
            headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &stop).unwrap();
            Err(why)
        }
    };
    (String::from_utf8(out).unwrap(), counted)
}

fn limits(finished: usize, open: usize) -> Limits {
    Limits { finished, open, ..Limits::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn shards_write_what_one_thread_writes(
        steps in proptest::collection::vec((0u8..6, any::<bool>(), 0u8..9, any::<u8>(), 0u8..6, any::<u8>()), 1..120),
        n in 2usize..4,
        epoch in 1u64..24,
        finished in prop_oneof![Just(2usize), Just(5), Just(10_000)],
        open in prop_oneof![Just(3usize), Just(10_000)],
        text in any::<bool>(),
    ) {
        let frames = frames(&steps);
        let format = if text { Format::Text } else { Format::Jsonl };
        let limits = limits(finished, open);
        let (want, counted) = one(&frames, limits, format);
        let (got, shard_counted) = split(&frames, limits, format, n, epoch);
        prop_assert_eq!(got, want);
        if let Ok(c) = shard_counted {
            prop_assert_eq!(c, counted);
        }
    }
}

/// Client `t`'s address.
fn client(t: u16) -> String {
    format!("127.0.0.1:{}", 40_000 + t)
}

/// Six connections from clients 0 to 5 to port 8001, a frame a millisecond,
/// each closed by the client first (it ends in TIME-WAIT); and the
/// milliseconds they took.
fn six_closes() -> (Vec<(Timestamp, Vec<u8>)>, u64) {
    let s = "127.0.0.1:8001";
    let mut frames = Vec::new();
    let mut ms = 0u64;
    for t in 0..6 {
        let c = client(t);
        for (src, dst, flags, seq, ack) in [
            (&*c, s, 0x02, 100, 0),
            (s, &*c, 0x12, 900, 101),
            (&*c, s, 0x10, 101, 901),
            (&*c, s, 0x11, 101, 901),
            (s, &*c, 0x11, 901, 102),
            (&*c, s, 0x10, 102, 902),
        ] {
            push_frame(&mut frames, &mut ms, 1, (src, dst, flags, seq, ack));
        }
    }
    (frames, ms)
}

/// Appends an empty segment (source, destination, flags, seq, ack) `gap`
/// milliseconds after the last one, at `ms`.
fn push_frame(frames: &mut Vec<(Timestamp, Vec<u8>)>, ms: &mut u64, gap: u64, seg: (&str, &str, u8, u32, u32)) {
    let (src, dst, flags, seq, ack) = seg;
    *ms += gap;
    frames.push((
        Timestamp(1_700_000_000_000_000_000 + *ms * 1_000_000),
        support::frame(src, dst, Flags(flags), seq, ack, b""),
    ));
}

/// Six connections close a millisecond apart, then each takes a late ACK
/// 400 ms later, and two more come a second after that. With at most 3
/// finished ones kept, the oldest were written to keep within the limit
/// before their late ACK (which then starts a connection of its own) and the
/// newest were not (it is theirs); with no limit, every late ACK is its
/// connection's, but for the last: its connection waited out its second
/// first. The shards follow all of it without stopping.
#[test]
fn late_segments_and_both_kinds_of_wait() {
    let s = "127.0.0.1:8001";
    let (mut frames, mut ms) = six_closes();
    let mut at = |gap: u64, src: &str, dst: &str, flags: u8, seq: u32, ack: u32| {
        push_frame(&mut frames, &mut ms, gap, (src, dst, flags, seq, ack));
    };
    at(400, &client(0), s, 0x10, 102, 902);
    for t in 1..6 {
        at(1, &client(t), s, 0x10, 102, 902);
    }
    at(1_200, &client(5), s, 0x10, 102, 902);
    at(1, &client(0), s, 0x10, 102, 902);
    for (finished, lines) in [(3, 10), (10_000, 7)] {
        for n in [2, 3] {
            for epoch in [1, 4, 1_000] {
                let (want, counted) = one(&frames, limits(finished, 10_000), Format::Jsonl);
                let (got, shard_counted) = split(&frames, limits(finished, 10_000), Format::Jsonl, n, epoch);
                assert_eq!(got, want, "finished {finished}, {n} shards, epoch {epoch}");
                assert_eq!(shard_counted, Ok(counted), "the shards went to the end");
                assert_eq!(want.lines().count(), lines, "{want}");
            }
        }
    }
}

/// More connections open at once than the shards' share of the limit: the
/// split stops where that happens, and one thread writes the rest.
#[test]
fn past_the_open_limit_one_thread_goes_on() {
    let mut steps: Vec<Step> = Vec::new();
    // Three that open and close, then ten that stay open.
    for t in 0..3u8 {
        steps.extend_from_slice(&[(t, true, 0, 0, 1, 0), (t, false, 1, 0, 1, 0), (t, true, 5, 1, 1, 0)]);
    }
    steps.push((0, true, 2, 0, 4, 0));
    for t in 0..6u8 {
        steps.push((t, true, 0, 1, 1, 0));
    }
    let frames = frames(&steps);
    let limits = limits(10_000, 4);
    let (want, _) = one(&frames, limits, Format::Jsonl);
    let (got, counted) = split(&frames, limits, Format::Jsonl, 2, 2);
    assert_eq!(got, want);
    assert_eq!(counted, Err(Unshardable::Open), "one thread took over");
}

/// A SYN on the port pair of a connection still in TIME-WAIT tells that
/// connection its TIME-WAIT ended early: like a late segment, only if it
/// was not written before. Six connections close (the client in
/// TIME-WAIT), and three ports come back with a SYN about 400 ms later,
/// three 1.2 s later (after their connections were written); with at most
/// 3 finished ones kept, all were written before their SYN.
#[test]
fn a_syn_that_takes_over_time_wait_tells_the_connection_only_if_not_written() {
    let s = "127.0.0.1:8001";
    let (mut frames, mut ms) = six_closes();
    let mut at = |gap: u64, src: &str, dst: &str, flags: u8, seq: u32, ack: u32| {
        push_frame(&mut frames, &mut ms, gap, (src, dst, flags, seq, ack));
    };
    for t in 0..6 {
        at(
            if t == 3 {
                1_200
            } else if t == 0 {
                400
            } else {
                1
            },
            &client(t),
            s,
            0x02,
            5_000,
            0,
        );
    }
    for finished in [3, 10_000] {
        for n in [2, 3] {
            for epoch in [1, 4, 1_000] {
                let (want, _) = one(&frames, limits(finished, 10_000), Format::Text);
                let (got, _) = split(&frames, limits(finished, 10_000), Format::Text, n, epoch);
                assert_eq!(got, want, "finished {finished}, {n} shards, epoch {epoch}");
                // Kept, the connections of the three SYNs within their second
                // are told, and the first SYN after it still finds its own (a
                // connection is written once a later frame has come); those
                // written to keep within 3 finished are not.
                let words = want.split_whitespace().collect::<Vec<_>>().join(" ");
                let told = words.matches("TIME-WAIT ended early").count();
                assert_eq!(told, if finished == 3 { 0 } else { 4 }, "{want}");
            }
        }
    }
}
