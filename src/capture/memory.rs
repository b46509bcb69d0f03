//! Frames held in memory: a [`FrameSource`] for tests and tools that build
//! their input rather than read it.

use super::{FrameSource, Next, SourceError};
use crate::model::decode::{Frame, LinkType};
use crate::model::segment::Timestamp;

/// A list of frames, handed out in order, then the end.
#[derive(Clone, Debug, Default)]
pub struct MemorySource {
    frames: Vec<(Timestamp, LinkType, Vec<u8>)>,
    next: usize,
}

impl MemorySource {
    /// Frames of link type `link`, with their timestamps.
    #[must_use]
    pub fn new(link: LinkType, frames: impl IntoIterator<Item = (Timestamp, Vec<u8>)>) -> MemorySource {
        MemorySource { frames: frames.into_iter().map(|(ts, data)| (ts, link, data)).collect(), next: 0 }
    }

    /// Appends a frame.
    pub fn push(&mut self, ts: Timestamp, link: LinkType, data: Vec<u8>) {
        self.frames.push((ts, link, data));
    }

    /// As [`crate::capture::pcap::PcapSource::skim`]: passes over up to `max`
    /// frames for which `skip` is true, and returns the first for which it
    /// is not.
    pub fn skim<F: FnMut(&Frame<'_>) -> bool>(&mut self, max: u64, mut skip: F) -> (u64, Option<Frame<'_>>) {
        let mut skipped = 0;
        while skipped < max
            && let Some((ts, link, data)) = self.frames.get(self.next)
        {
            let frame = Frame { ts: *ts, link: *link, data };
            self.next += 1;
            if !skip(&frame) {
                return (skipped, Some(frame));
            }
            skipped += 1;
        }
        (skipped, None)
    }
}

impl FrameSource for MemorySource {
    fn next_frame(&mut self) -> Result<Next<'_>, SourceError> {
        let Some((ts, link, data)) = self.frames.get(self.next) else {
            return Ok(Next::End);
        };
        self.next += 1;
        Ok(Next::Frame(Frame { ts: *ts, link: *link, data }))
    }
}
