//! The headless `trace` loop called in-process: frames from memory through
//! the pipeline to an exporter, with each stop condition.

mod support;

use std::fs::File;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use synack::capture::memory::MemorySource;
use synack::capture::pcap::PcapSource;
use synack::capture::{FrameSource, Next};
use synack::export::{self, Format};
use synack::headless::{self, Ended, Stop};
use synack::model::tracker::Limits;
use synack::pipeline::Pipeline;

/// Every frame of several fixtures, one after another, in memory.
fn frames(fixtures: &[&str]) -> MemorySource {
    let mut mem = MemorySource::default();
    for name in fixtures {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
        let mut src = PcapSource::new(File::open(&path).unwrap(), *name).unwrap();
        while let Next::Frame(f) = src.next_frame().unwrap() {
            mem.push(f.ts, f.link, f.data.to_vec());
        }
    }
    mem
}

/// Runs the loop and its ending; returns what ended it and the jsonl ids written.
fn run(fixtures: &[&str], stop: &Stop<'_>) -> (Ended, Vec<u64>, Pipeline) {
    let mut source = frames(fixtures);
    let mut pipeline = Pipeline::new(None, Limits::default());
    let mut exporter = export::exporter(Format::Jsonl);
    let mut out = Vec::new();
    let ended = headless::run(&mut source, &mut pipeline, exporter.as_mut(), &mut out, None, None, stop).unwrap();
    headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, stop).unwrap();
    let ids = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].as_u64().unwrap())
        .collect();
    (ended, ids, pipeline)
}

const FOUR: [&str; 4] = ["seed.pcap", "slow-close.pcap", "abort.pcap", "refused.pcap"];

#[test]
fn to_the_end_every_connection_is_written_once_in_the_order_it_ended() {
    let (ended, ids, pipeline) = run(&FOUR, &Stop::default());
    assert_eq!(ended, Ended::Input);
    assert_eq!(ids, [1, 2, 3, 4]);
    let c = &pipeline.counters;
    assert_eq!(
        c.frames,
        c.segments + c.not_ours + c.icmp + c.undecodable() + c.reassembled + c.fragments,
        "every frame counted once"
    );
}

#[test]
fn memory_and_file_give_the_same_output() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/half-close.pcap");
    let mut file = PcapSource::new(File::open(&path).unwrap(), "half-close.pcap").unwrap();
    let mut mem = frames(&["half-close.pcap"]);
    let mut outputs = Vec::new();
    for source in [&mut file as &mut dyn FrameSourceDyn, &mut mem] {
        let mut pipeline = Pipeline::new(None, Limits::default());
        let mut exporter = export::exporter(Format::Text);
        let mut out = Vec::new();
        let ended = source.run(&mut pipeline, exporter.as_mut(), &mut out);
        headless::finish(ended, &pipeline, exporter.as_mut(), &mut out, &Stop::default()).unwrap();
        outputs.push(String::from_utf8(out).unwrap());
    }
    assert!(outputs[0].contains("close: four-way"), "{}", outputs[0]);
    assert_eq!(outputs[0], outputs[1]);
}

/// Lets the test loop over two source types.
trait FrameSourceDyn {
    fn run(&mut self, p: &mut Pipeline, e: &mut dyn export::Exporter, out: &mut Vec<u8>) -> Ended;
}

impl<S: FrameSource> FrameSourceDyn for S {
    fn run(&mut self, p: &mut Pipeline, e: &mut dyn export::Exporter, out: &mut Vec<u8>) -> Ended {
        headless::run(self, p, e, out, None, None, &Stop::default()).unwrap()
    }
}

#[test]
fn count_stops_after_that_many_and_leaves_out_the_open_ones() {
    let (ended, ids, _) = run(&FOUR, &Stop { count: Some(2), ..Stop::default() });
    assert_eq!((ended, ids), (Ended::Stopped, vec![1, 2]));
}

#[test]
fn only_one_connection_is_written() {
    let (ended, ids, _) = run(&FOUR, &Stop { only: Some(3), ..Stop::default() });
    assert_eq!((ended, ids), (Ended::Stopped, vec![3]));
}

#[test]
fn an_interruption_reads_what_the_source_holds_then_writes_everything() {
    // Ctrl-C before the first frame: what the source already holds (here all
    // of it; live, the frames in flight) is still read and written.
    let flag = AtomicBool::new(true);
    let (ended, ids, pipeline) = run(&FOUR, &Stop { interrupted: Some(&flag), ..Stop::default() });
    assert_eq!(ended, Ended::Input, "the source ended while draining");
    assert_eq!(ids, [1, 2, 3, 4]);
    assert_eq!(pipeline.counters.frames, pipeline.counters.segments + pipeline.counters.not_ours);
}

#[test]
fn trace_forgets_what_it_has_written() {
    let (_, ids, pipeline) = run(&FOUR, &Stop::default());
    assert_eq!(ids.len(), 4);
    assert!(pipeline.tracker.is_empty(), "written connections are not kept: {}", pipeline.tracker.len());
}

/// `skim` passes over the frames it is told to, counted as read, and reads
/// the first it is not: that one is returned whole, and `next_frame` reads
/// on after it, in order.
#[test]
fn skimming_returns_the_frame_it_is_not_told_to_pass() {
    let frames: Vec<Vec<u8>> = [60, 61, 62, 3, 64, 65, 66].iter().map(|&n| vec![n as u8; n]).collect();
    let bytes = support::pcap(1, &frames);
    let mut source = PcapSource::new(std::io::Cursor::new(bytes), "skim.pcap").unwrap();
    let Ok(Next::Frame(first)) = source.next_frame() else { panic!("no first frame") };
    assert_eq!(first.data.len(), 60);
    let mut seen = Vec::new();
    let (passed, stopped) = source.skim(10, |f| {
        seen.push((f.data.len(), f.ts));
        f.data.len() != 3
    });
    assert_eq!(passed, 2);
    assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [61, 62, 3]);
    // The frame it stopped at, its bytes and time.
    let stopped = stopped.expect("the frame it stopped at");
    assert_eq!((stopped.data, stopped.ts), (&[3u8; 3][..], seen[2].1));
    assert_eq!(source.packets(), 4);
    let Ok(Next::Frame(next)) = source.next_frame() else { panic!("no frame after skimming") };
    assert_eq!(next.data, &[64u8; 64][..]);
    // At most `max` frames: it stops short, with no frame.
    let (passed, stopped) = source.skim(1, |_| true);
    assert_eq!((passed, stopped.map(|f| f.data.len())), (1, None));
    let (passed, stopped) = source.skim(5, |_| false);
    assert_eq!((passed, stopped.map(|f| f.data.len())), (0, Some(66)));
    // The end: nothing more.
    let (passed, stopped) = source.skim(5, |_| true);
    assert_eq!((passed, stopped.map(|f| f.data.len())), (0, None));
    assert!(matches!(source.next_frame(), Ok(Next::End)));
    assert_eq!(source.packets(), 7);
}
